// SPDX-License-Identifier: GPL-3.0-or-later
// `qnn import`: an ONNX model (QONNX, QCDQ, float) to a project plus checkpoint
// (core/io/onnx_import.h).
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>

#include "app/cli/cli.h"
#include "core/errors.h"
#include "core/graph/project.h"
#include "core/graph/validate.h"
#include "core/io/onnx_import.h"
#include "core/train/checkpoint.h"

namespace qnn::cli {

namespace {

std::string scales_text(const std::vector<double>& v) {
  std::ostringstream s;
  s << std::setprecision(6);
  if (v.size() == 1) {
    s << v[0];
  } else if (!v.empty()) {
    double lo = v[0], hi = v[0];
    for (double x : v) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    s << lo << ".." << hi << " (" << v.size() << " channels)";
  }
  return s.str();
}

}  // namespace

std::string default_checkpoint_for(const std::string& project_path) {
  const std::string suffix = ".qnn.json";
  if (project_path.size() > suffix.size() &&
      project_path.compare(project_path.size() - suffix.size(), suffix.size(), suffix) == 0)
    return project_path.substr(0, project_path.size() - suffix.size()) + ".pt";
  return project_path + ".pt";
}

int run_import(const CommandArgs& args) {
  const std::string out = args.text("out");
  if (out.empty()) throw UsageError("'qnn import' needs --out PROJECT.qnn.json");
  const std::string checkpoint = args.text("checkpoint", default_checkpoint_for(out));
  const ImportedModel m = import_onnx(args.project);
  if (m.report.runnable())
    std::cout << "imported " << args.project << " (" << m.report.format << "): " << m.project.layers.size()
              << " layers, " << m.weights.size() << " weight quantizer(s)\n";
  else
    std::cout << "read " << args.project << " (" << m.report.format << "): " << m.report.unsupported.size()
              << " node(s) map to no layer; " << m.weights.size() << " weight quantizer(s) inspected\n";
  for (const std::string& n : m.report.notes) std::cout << "note: " << n << "\n";
  for (const std::string& u : m.report.unsupported) std::cout << "error: " << u << "\n";
  if (!m.weights.empty()) {
    std::cout << "weight quantizers (from the file's constants):\n"
              << std::left << std::setw(16) << "layer" << std::setw(14) << "shape" << std::setw(16) << "grid"
              << std::setw(34) << "scale" << std::setw(12) << "saturated" << "sqnr_db\n";
    for (const inspect::WeightStats& w : m.weights) {
      std::ostringstream grid;
      grid << w.grid.bit_width << " bit [" << w.grid.min_int << ", " << w.grid.max_int << "]";
      std::ostringstream sqnr;
      sqnr << std::fixed << std::setprecision(2) << w.sqnr_db;
      std::cout << std::setw(16) << w.layer << std::setw(14) << shape_text(w.shape) << std::setw(16) << grid.str()
                << std::setw(34) << scales_text(w.scales) << std::setw(12)
                << (w.levels.saturated_low + w.levels.saturated_high) << sqnr.str() << "\n";
    }
  }
  if (!m.report.runnable()) {
    std::cout << "not written: the graph cannot run (" << m.report.unsupported.size()
              << " unsupported node(s)); open it in QNN Studio (File > Import Model) to inspect its weights"
              << std::endl;
    return kExitFailed;
  }
  QuantModel model = build_imported_model(m);
  save_project(m.project, out);
  save_checkpoint(model, checkpoint);
  std::cout << "wrote " << out << " and " << checkpoint << std::endl;
  return kExitOk;
}

}  // namespace qnn::cli
