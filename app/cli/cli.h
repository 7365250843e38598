// SPDX-License-Identifier: GPL-3.0-or-later
// The `qnn` command line (core only, no Qt): train, eval and validate a project.
#pragma once

#include <string>

#include "app/cli/cli_args.h"
#include "core/graph/model.h"

namespace qnn::cli {

/// Runs `qnn` with the process arguments; returns the exit status (see ExitCode).
/// Results go to stdout, progress and errors to stderr.
int run(int argc, char** argv);

/// `qnn train`: trains, prints one line per epoch and last "test_accuracy=0.xxxx".
/// Throws IoError, ConfigError, DataError or UsageError; returns kExitInterrupted
/// after Ctrl-C.
int run_train(const CommandArgs& args);
/// `qnn eval`: loads --checkpoint into the project's model, prints loss, accuracy,
/// per-class accuracy and last "test_accuracy=0.xxxx". Throws like run_train.
int run_eval(const CommandArgs& args);
/// `qnn validate`: prints diagnostics and the per-node output shapes; returns
/// kExitFailed when the graph has errors. Throws IoError / ConfigError when the file
/// cannot be read or parsed.
int run_validate(const CommandArgs& args);

/// Builds the network of `p` (read from `project_path`) with the project's threads and
/// seed, and loads `checkpoint` into it. Rethrows load errors naming both files:
/// IoError (unreadable checkpoint) or ConfigError (a checkpoint of another network).
QuantModel load_trained_model(const Project& p, const std::string& project_path,
                              const std::string& checkpoint);

/// `qnn export`: writes --checkpoint as --format to --out (app/cli/cli_export.cpp);
/// with --verify compares the file with the app and returns kExitFailed when it
/// differs. Throws IoError, ConfigError, ExportError or UsageError.
int run_export(const CommandArgs& args);

/// `qnn inspect`: loads --checkpoint, computes the inspection report on the first
/// --samples test images, writes its CSV tables and a PNG of every view into --out
/// (app/cli/cli_inspect.cpp, rendered offscreen with the GUI's widgets), prints the
/// per-layer SQNR table and last "worst_layer=<id> (<sqnr> dB)". Throws like run_eval.
int run_inspect(const CommandArgs& args);

/// `qnn import MODEL.onnx --out PROJECT [--checkpoint CKPT]`: maps the ONNX model
/// (core/io/onnx_import.h), prints the format, notes, unsupported nodes and every
/// weight quantizer's grid, scale, saturation and SQNR, then writes the project and
/// the checkpoint (default: PROJECT with .pt for .qnn.json). Returns kExitFailed,
/// writing nothing, when a node has no layer. Throws IoError, DataError or UsageError.
int run_import(const CommandArgs& args);
/// The checkpoint written next to an imported project: "m.qnn.json" -> "m.pt".
std::string default_checkpoint_for(const std::string& project_path);

}  // namespace qnn::cli
