// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzz target: the project loader (core/graph/project.h project_from_json), then
// validation and shape inference (core/graph/validate.h) and a save/load round trip.
// Seeds: fuzz/corpus/project_loader/ (the example projects). A loaded project must
// validate without throwing and its saved text must load again.
#include <cstdint>
#include <string>

#include "core/graph/validate.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return qnn::fuzz::guarded("project_loader", [&] {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const qnn::Project p = qnn::project_from_json(text, "fuzz.qnn.json");
    const qnn::ValidationResult r = qnn::validate(p);
    for (const auto& d : r.diagnostics) (void)qnn::diagnostic_line(d);
    // What save_project writes must load again: a refusal here is a finding too.
    const std::string saved = qnn::project_to_json(p);
    try {
      (void)qnn::project_from_json(saved, "fuzz round trip");
    } catch (const qnn::Error& e) {
      std::fprintf(stderr, "FINDING in project_loader: a loaded project does not load after saving: %s\n", e.what());
      std::abort();
    }
  });
}
