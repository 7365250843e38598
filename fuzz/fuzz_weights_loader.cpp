// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzz target: the weights loader (core/train/weights.h load_weights: PyTorch /
// Brevitas state dicts and QNN Studio checkpoints, matched by name) into the fixed
// network (fuzz/tiny.qnn.json). Seeds: fuzz/corpus/weights_loader/ (a Brevitas
// state dict and a checkpoint of that network).
#include <cstdint>

#include "core/train/weights.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static qnn::QuantModel model = qnn::build_model(qnn::fuzz::tiny_project());
  const qnn::fuzz::TempFile file(data, size, "-weights.pt");
  return qnn::fuzz::guarded("weights_loader", [&] { (void)qnn::load_weights(model, file.path()).text(); });
}
