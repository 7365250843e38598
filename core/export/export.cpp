// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/export/export.h"

#include <filesystem>
#include <iomanip>
#include <sstream>

#include "core/errors.h"
#include "core/export/qcdq_export.h"
#include "core/train/checkpoint.h"

namespace qnn {

ExportResult export_model(QuantModel& model, ExportFormat format, const std::string& path,
                          const ExportOptions& options) {
  if (path.empty()) throw ExportError("no output file given");
  ExportResult r;
  r.format = format;
  r.warnings = require_exportable(model->project(), format);
  std::ostringstream summary;
  if (format == ExportFormat::Checkpoint) {
    const std::filesystem::path p(path);
    std::filesystem::path project_path = p;
    project_path.replace_extension(".qnn.json");
    if (project_path == p) project_path += ".project.qnn.json";
    // The project first: when the checkpoint then fails, a project file that did not
    // exist before is removed again, so no half export stays behind.
    const bool project_existed = std::filesystem::exists(project_path);
    try {
      save_project(model->project(), project_path.string());
    } catch (const IoError& e) {
      throw ExportError(e.what());
    }
    try {
      save_checkpoint(model, path);
    } catch (const IoError& e) {
      std::error_code ec;
      if (!project_existed) std::filesystem::remove(project_path, ec);
      throw ExportError(e.what());
    }
    r.files = {path, project_path.string()};
    r.bytes = int64_t(std::filesystem::file_size(p));
    summary << "wrote " << path << " (checkpoint, " << r.bytes << " bytes) and the project " << project_path.string();
    r.summary = summary.str();
    return r;
  }
  const ExportPlan plan = make_export_plan(model);
  std::string bytes, header;
  switch (format) {
    case ExportFormat::Qcdq: bytes = qcdq_model_bytes(plan); break;
    case ExportFormat::Qonnx: bytes = qonnx_model_bytes(plan); break;
    case ExportFormat::Packed:
      bytes = packed_model_bytes(plan, &r.packed);
      if (!options.c_header.empty()) header = packed_c_header(plan);
      break;
    case ExportFormat::Checkpoint: break;
  }
  write_file_atomic(path, bytes);
  r.files.push_back(path);
  if (!header.empty()) {
    write_file_atomic(options.c_header, header);
    r.files.push_back(options.c_header);
  }
  r.bytes = int64_t(bytes.size());
  summary << "wrote " << path << " (" << to_string(format) << ", " << r.bytes << " bytes)";
  if (format == ExportFormat::Packed && r.packed.float32_bytes > 0)
    summary << "; " << r.packed.file_bytes << " bytes = 1/" << std::fixed << std::setprecision(2)
            << double(r.packed.float32_bytes) / double(r.packed.file_bytes) << " of the " << r.packed.float32_bytes
            << " bytes of float32 weights and biases (data section " << r.packed.payload_bytes << " bytes)";
  if (!header.empty()) summary << "; C header " << options.c_header;
  r.summary = summary.str();
  return r;
}

}  // namespace qnn
