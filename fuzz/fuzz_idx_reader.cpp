// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzz target: the IDX readers (core/data/dataset.h read_idx_images and
// read_idx_labels, plain and gzip). The same bytes go through both readers.
// Seeds: fuzz/corpus/idx_reader/ (small image and label files, one gzipped).
#include <cstdint>

#include "core/data/dataset.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  torch::set_num_threads(1);
  const qnn::fuzz::TempFile file(data, size, "-idx-ubyte");
  qnn::fuzz::guarded("idx_reader", [&] { (void)qnn::read_idx_images(file.path()); });
  qnn::fuzz::guarded("idx_reader", [&] { (void)qnn::read_idx_labels(file.path()); });
  return 0;
}
