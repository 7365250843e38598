// SPDX-License-Identifier: GPL-3.0-or-later
// Reading PyTorch / Brevitas state dicts (`torch.save(model.state_dict(), path)`, the zip
// format PyTorch writes since 1.6) without Python: the archive's data.pkl is run through
// a small pickle machine that knows the opcodes torch.save emits (protocol 2) and the
// globals of a state dict (collections.OrderedDict, torch._utils._rebuild_tensor_v2 /
// _rebuild_parameter, torch.*Storage), and the storages are read from the archive's
// data/<key> records (little-endian, as torch.save writes them).
// Sources: Python's pickletools opcode table; torch/serialization.py (_save: the
// persistent id ('storage', storage_type, key, location, numel)); torch/_utils.py
// (_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks)).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace qnn {

/// The tensors of a state dict in file order: key (e.g. "conv1.weight") and tensor with
/// the saved shape, strides applied, dtype as saved (float32, float64, int64, ...).
using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

/// Reads a state dict saved by torch.save. Throws IoError when the file cannot be read,
/// and ConfigError naming the file and what is wrong: not a zip archive (e.g. a
/// pre-1.6 torch.save file, a TorchScript module, or not a checkpoint at all), a pickle
/// that is not a dict of tensors (a whole pickled nn.Module, an optimizer state, a
/// list: "holds a <type> at the top, not a state dict"), a key that is not a string, an
/// opcode or global outside what torch.save writes for a state dict (named), or a storage
/// record that is missing or shorter than the tensor needs.
StateDict read_state_dict(const std::string& path);

}  // namespace qnn
