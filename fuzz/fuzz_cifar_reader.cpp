// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzz target: the CIFAR-10 binary batch reader (core/data/dataset.h
// read_cifar10_batches). Seeds: fuzz/corpus/cifar_reader/ (two-record batches).
#include <cstdint>

#include "core/data/dataset.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  torch::set_num_threads(1);
  const qnn::fuzz::TempFile file(data, size, "-data_batch.bin");
  return qnn::fuzz::guarded("cifar_reader", [&] {
    torch::Tensor images, labels;
    qnn::read_cifar10_batches({file.path()}, images, labels);
  });
}
