// SPDX-License-Identifier: GPL-3.0-or-later
// A bounds check of a pickle (Python pickle protocol 0-5, as TorchScript archives store
// their data.pkl and constants.pkl) before LibTorch's unpickler reads it. That unpickler
// allocates what an opcode states (a BINUNICODE/BINBYTES length, a LONG_BINPUT memo id)
// before it checks that the pickle holds that much, so a damaged 10 KB checkpoint could
// ask for 30 GB (a fuzz finding of the weights loader). Opcode table: the
// Python standard library's pickletools / PEP 3154.
#pragma once

#include <cstddef>

namespace qnn {

/// Walks the opcodes of the pickle in [data, data + size) and returns false when one
/// states an argument or a length that runs past the end (or past the end of its
/// FRAME), or a LONG_BINPUT memo id larger than the pickle (LibTorch's unpickler grows
/// its memo table to that id: 16 bytes per entry). Stops, returning true, at STOP or at an opcode it does not know (LibTorch
/// then refuses the pickle itself). Never reads outside the range; linear in `size`.
bool pickle_lengths_fit(const unsigned char* data, size_t size);

}  // namespace qnn
