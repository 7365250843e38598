// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzz target: the ONNX importer (core/io/onnx_import.h import_onnx_bytes) and, for a
// runnable import of a small network, build_imported_model. Seeds:
// fuzz/corpus/onnx_import/ (QONNX and QCDQ exports of fuzz/tiny.qnn.json).
#include <cstdint>
#include <string>

#include "core/io/onnx_import.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  torch::set_num_threads(1);
  return qnn::fuzz::guarded("onnx_import", [&] {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const qnn::ImportedModel imported = qnn::import_onnx_bytes(bytes, "fuzz.onnx");
    (void)imported.report.text();
    if (!imported.report.unsupported.empty()) return;
    int64_t elements = 0;
    for (const auto& [name, t] : imported.tensors) elements += t.defined() ? t.numel() : 0;
    if (elements > (1 << 20)) return;  // keep each run small
    (void)qnn::build_imported_model(imported);
  });
}
