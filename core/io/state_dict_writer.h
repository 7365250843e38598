// SPDX-License-Identifier: GPL-3.0-or-later
// Writing PyTorch state dicts (`torch.save(model.state_dict(), path)`, the zip format
// PyTorch writes since 1.6) without Python, the inverse of core/io/state_dict.h:
//   archive/data.pkl   pickle protocol 2 of an OrderedDict key -> tensor, each tensor
//                      torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False,
//                      OrderedDict()) with the storage as persistent id
//                      ('storage', torch.FloatStorage, '<n>', 'cpu', numel);
//   archive/byteorder  "little";
//   archive/data/<n>   the n-th tensor's elements, contiguous, little-endian;
//   archive/version and .data/version, .data/serialization_id (the stream writer's).
// The zip records are stored uncompressed and 64-byte aligned by LibTorch's
// caffe2::serialize::PyTorchStreamWriter, the very writer torch.save drives
// (torch/serialization.py _save), so torch.load and read_state_dict read the file.
#pragma once

#include <string>

#include "core/io/state_dict.h"

namespace qnn {

/// The bytes torch.save would write for `tensors` (in this order; keys as given).
/// Tensors are written detached, contiguous and on the CPU, with their dtype (float32,
/// float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool). Throws
/// ConfigError naming the key of a tensor that is undefined or of another dtype, or a
/// key that appears twice.
std::string state_dict_bytes(const StateDict& tensors);

/// Writes state_dict_bytes(tensors) to `path` atomically (core/io/atomic_file.h: a
/// temporary file beside it, then rename). Throws IoError naming the file when writing
/// fails (the old file, if any, is untouched) and ConfigError as state_dict_bytes.
void write_state_dict(const std::string& path, const StateDict& tensors);

}  // namespace qnn
