// SPDX-License-Identifier: GPL-3.0-or-later
// The `qnn` command line (core only, no Qt): train, eval and validate a project.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "app/cli/cli_args.h"
#include "core/graph/model.h"

class QApplication;

namespace qnn::cli {

/// Runs `qnn` with the process arguments; returns the exit status (see ExitCode).
/// Results go to stdout, progress and errors to stderr.
int run(int argc, char** argv);

/// `qnn train` (app/cli/cli_train.cpp): trains, prints one line per epoch and last
/// "test_accuracy=0.xxxx".
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

/// PROJECT (args.project), with --target T (none, onnxruntime, finn) chosen as
/// Edit > Deployment Target does (core apply_deployment_target(): FINN also sets floor 1
/// on truncating pools, named in a note on stderr) when given; the file is not changed
/// (validate, summary, export). Throws UsageError for another T, IoError / ConfigError
/// when the file cannot be read or parsed.
Project load_project_for_target(const CommandArgs& args);

/// Loads and validates PROJECT; throws ConfigError listing the graph's errors when it is
/// invalid, IoError when it cannot be read.
Project load_valid_project(const std::string& path);

/// Throws IoError when no file can be created beside `path` (missing folder, no
/// permission) or `path` is a folder or a device: checked before a long run, not after
/// it. `what` names it ("checkpoint").
void check_writable(const std::string& path, const std::string& what);
/// Throws UsageError ("<option> would overwrite <input>; choose another file") when
/// `output` names the same file as `input` (e.g. --checkpoint equal to PROJECT).
void refuse_overwriting(const std::string& input, const std::string& output, const std::string& option);
/// `v` with `decimals` digits after the point (std::fixed), as the train and eval lines
/// print losses and accuracies ("0.8592"). Never throws.
std::string fixed_decimals(double v, int decimals);

/// Routes SIGINT/SIGTERM to interrupt_flag() while alive: the first Ctrl-C asks the
/// run to stop after the current `unit` ("batch", "point", "evaluation"; the first
/// Ctrl-C prints "qnn: stopping after the current <unit> ..."), a second one ends the
/// process.
class InterruptGuard {
 public:
  explicit InterruptGuard(const char* unit = "batch");
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  void (*m_int)(int) = nullptr;
  void (*m_term)(int) = nullptr;
};
/// Set by Ctrl-C while an InterruptGuard lives (the cancel flag of core's long runs).
const std::atomic<bool>& interrupt_flag();

/// A QApplication on the offscreen platform, for the commands that render the GUI's
/// views to PNG (app/cli/cli_inspect.cpp); Qt's platform notes are dropped.
std::unique_ptr<QApplication> make_offscreen_app();

/// Builds the network of `p` (read from `project_path`) with the project's threads and
/// seed, and loads `checkpoint` into it. Rethrows load errors naming both files:
/// IoError (unreadable checkpoint) or ConfigError (a checkpoint of another network).
/// Under the deployment target FINN, a checkpoint of the same network before --target
/// finn floored its truncating pools is accepted too (loaded into its own network, the
/// state copied over: FLOOR has no state).
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

/// Issue 12, app/cli/cli_analysis.cpp (see `qnn COMMAND --help`):
/// `qnn calibrate`: post-training calibration of a loaded model, saved as a checkpoint.
int run_calibrate(const CommandArgs& args);
/// `qnn analyze`: the quantization analyzer table (+ analyzer.csv / analyzer.png).
int run_analyze(const CommandArgs& args);
/// `qnn sweep`: the per-layer sensitivity sweep (sweep.csv, sweep.json, PNGs; --save
/// keeps the record in the project). Returns kExitInterrupted after Ctrl-C (partial
/// results written).
int run_sweep(const CommandArgs& args);
/// `qnn suggest`: the Pareto front of a sweep, the best configuration within a budget,
/// written as a new project (with --verify: calibrated and measured).
int run_suggest(const CommandArgs& args);

}  // namespace qnn::cli
