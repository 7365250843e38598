// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzz target: the packed-model reader (core/export/packed_model.h
// parse_packed_model) and, for a file it accepts, run_packed_model on a zero input.
// The file's CRC-32 (header offset 28, over everything after the 32-byte header)
// would stop almost every mutation at "CRC mismatch", so each input is parsed twice:
// as it is, and with the CRC recomputed so the mutation reaches the JSON and tensor
// decoding. Seeds: fuzz/corpus/packed_model/ (a packed export of fuzz/tiny.qnn.json).
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "core/export/packed_model.h"
#include "fuzz/fuzz_support.h"

namespace {

void parse_and_run(const std::string& bytes) {
  const qnn::PackedModel m = qnn::parse_packed_model(bytes, "fuzz.qpk");
  const auto& shape = m.project.input_shape;
  int64_t elements = 1;
  for (int64_t d : shape) {
    if (d <= 0 || d > 4096) return;
    elements *= d;
    if (elements > 65536) return;  // keep each run small
  }
  std::vector<int64_t> batch{1};
  batch.insert(batch.end(), shape.begin(), shape.end());
  (void)qnn::run_packed_model(m, torch::zeros(batch));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  torch::set_num_threads(1);
  std::string bytes(reinterpret_cast<const char*>(data), size);
  qnn::fuzz::guarded("packed_model", [&] { parse_and_run(bytes); });
  if (bytes.size() >= 32) {
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + 32), uInt(bytes.size() - 32));
    const uint32_t c = uint32_t(crc);
    const unsigned char le[4] = {uint8_t(c), uint8_t(c >> 8), uint8_t(c >> 16), uint8_t(c >> 24)};
    std::memcpy(bytes.data() + 28, le, 4);
    qnn::fuzz::guarded("packed_model", [&] { parse_and_run(bytes); });
  }
  return 0;
}
