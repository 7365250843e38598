// SPDX-License-Identifier: GPL-3.0-or-later
// One entry point for every export format (the CLI's `qnn export` and the GUI's
// File > Export both call it). Order of work: pre-flight check of the project
// (nothing written when it fails), freeze the model (export_plan.h), build and check
// the file in memory, then write it atomically.
#pragma once

#include <string>
#include <vector>

#include "core/export/export_plan.h"
#include "core/export/packed_model.h"
#include "core/graph/model.h"

namespace qnn {

struct ExportOptions {
  /// packed: also write this C header ("" = none).
  std::string c_header;
};

struct ExportResult {
  ExportFormat format = ExportFormat::Qcdq;
  std::vector<std::string> files;      ///< written files, main file first
  int64_t bytes = 0;                   ///< size of the main file
  std::vector<ExportIssue> warnings;   ///< pre-flight warnings (what runs in float, ...)
  PackedSize packed;                   ///< packed only
  /// Human summary, e.g. "wrote lenet.onnx (QCDQ, 251 KiB)" and for packed
  /// "27 012 bytes = 1/9.1 of the 246 784 bytes of float32 weights".
  std::string summary;
};

/// Exports `model` (trained or loaded; its project is model->project()) to `path`.
///  - qcdq / qonnx: ONNX (see qcdq_export.h), checked by onnx::checker;
///  - packed: packed_model.h layout (+ C header when options.c_header is set);
///  - checkpoint: save_checkpoint() to `path` and the project JSON next to it
///    (`path` with its extension replaced by ".qnn.json").
///  - brevitas: `path` is a folder (created when missing) that gets model.py (a
///    brevitas.nn module) and model.pt (its state dict), see brevitas_export.h.
/// Throws ExportError naming the layer and reason when the format cannot express the
/// model (before anything is written) or when writing fails (no partial file is left).
ExportResult export_model(QuantModel& model, ExportFormat format, const std::string& path,
                          const ExportOptions& options = {});

}  // namespace qnn
