// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzz target: the checkpoint loader (core/train/checkpoint.h read_checkpoint_project
// and load_checkpoint) as `qnn evaluate --checkpoint` uses it: the stored project is
// read, then the tensors are loaded into the fixed network (fuzz/tiny.qnn.json).
// Seeds: fuzz/corpus/checkpoint_loader/ (a checkpoint of that network).
#include <cstdint>

#include "core/train/checkpoint.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static qnn::QuantModel model = qnn::build_model(qnn::fuzz::tiny_project());
  const qnn::fuzz::TempFile file(data, size, "-checkpoint.pt");
  qnn::fuzz::guarded("checkpoint_loader", [&] { (void)qnn::read_checkpoint_project(file.path()); });
  return qnn::fuzz::guarded("checkpoint_loader", [&] { qnn::load_checkpoint(model, file.path()); });
}
