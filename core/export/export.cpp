// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/export/export.h"

#include <filesystem>
#include <iomanip>
#include <sstream>

#include "core/errors.h"
#include "core/export/brevitas_export.h"
#include "core/export/qcdq_export.h"
#include "core/io/atomic_file.h"
#include "core/io/state_dict_writer.h"
#include "core/train/checkpoint.h"

namespace qnn {

namespace {

/// Writes the export's files as one (core/io/atomic_file.h): all of them, or none
/// new and the old ones intact. Throws ExportError naming the file and the reason.
void write_all_or_nothing(const std::vector<PendingFile>& files) {
  try {
    replace_files_atomically(files);
  } catch (const IoError& e) {
    throw ExportError(std::string(e.what()) + (files.size() > 1 ? "; no file of the export was written" : ""));
  }
}

// Brevitas: `dir`/model.py and `dir`/model.pt, both built in memory first (nothing is
// written when either fails), each written atomically, the folder created if needed.
ExportResult export_brevitas(QuantModel& model, const std::string& dir, ExportResult& r) {
  const std::string python = brevitas_python(model->project());
  const StateDict state = brevitas_state_dict(model);
  std::string bytes;
  try {
    bytes = state_dict_bytes(state);
  } catch (const ConfigError& e) {
    throw ExportError(e.what());
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw ExportError("cannot write the Brevitas export to '" + dir + "': it is a file, not a folder");
  fs::create_directories(dir, ec);
  if (ec) throw ExportError("cannot create the folder '" + dir + "': " + ec.message());
  const std::string py_path = (fs::path(dir) / "model.py").string();
  const std::string pt_path = (fs::path(dir) / "model.pt").string();
  write_all_or_nothing({{pt_path, "state dict", bytes}, {py_path, "Brevitas module", python}});
  r.files = {py_path, pt_path};
  r.bytes = int64_t(python.size());
  std::ostringstream summary;
  summary << "wrote " << py_path << " (Brevitas 0.12 module " << brevitas_class_name(model->project().name)
          << ", " << python.size() << " bytes) and " << pt_path << " (state dict, " << state.size() << " tensors, "
          << bytes.size() << " bytes)";
  r.summary = summary.str();
  return r;
}

}  // namespace

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
    // Both or neither (old files intact when writing fails).
    write_all_or_nothing({{path, "checkpoint", [&] {
                             try {
                               return checkpoint_bytes(model, -1, path);
                             } catch (const IoError& e) {
                               throw ExportError(e.what());
                             }
                           }()},
                          {project_path.string(), "project file", project_to_json(model->project())}});
    r.files = {path, project_path.string()};
    r.bytes = int64_t(std::filesystem::file_size(p));
    summary << "wrote " << path << " (checkpoint, " << r.bytes << " bytes) and the project " << project_path.string();
    r.summary = summary.str();
    return r;
  }
  if (format == ExportFormat::Brevitas) return export_brevitas(model, path, r);
  const ExportPlan plan = make_export_plan(model);
  std::string bytes, header;
  switch (format) {
    case ExportFormat::Qcdq: bytes = qcdq_model_bytes(plan); break;
    case ExportFormat::Qonnx: bytes = qonnx_model_bytes(plan); break;
    case ExportFormat::Packed:
      bytes = packed_model_bytes(plan, &r.packed);
      if (!options.c_header.empty()) header = packed_c_header(plan);
      break;
    case ExportFormat::Checkpoint:
    case ExportFormat::Brevitas: break;
  }
  const char* what = format == ExportFormat::Qcdq ? "ONNX model" : format == ExportFormat::Qonnx ? "QONNX model" : "packed model";
  std::vector<PendingFile> files{{path, what, bytes}};
  if (!header.empty()) files.push_back({options.c_header, "C header", header});
  write_all_or_nothing(files);  // the model file and its C header: both or neither
  for (const PendingFile& f : files) r.files.push_back(f.path);
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
