// SPDX-License-Identifier: GPL-3.0-or-later
// The `qnn` commands (dispatch, eval, validate, summary; train is in cli_train.cpp).
// Everything a script may parse goes to stdout ("test_accuracy=..." last); progress
// and errors go to stderr.
#include "app/cli/cli.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/torch.h>

#include "app/cli/cli_dist.h"
#include "app/cli/cli_launch.h"
#include "core/data/dataset.h"
#include "core/data/dataset_shape.h"
#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/graph/finn_cost.h"
#include "core/graph/finn_rules.h"
#include "core/graph/summary.h"
#include "core/graph/validate.h"
#include "core/inspect/inspect.h"
#include "core/io/atomic_file.h"
#include "core/dist/process_group.h"
#include "core/train/checkpoint.h"
#include "core/train/weights.h"
#include "core/train/trainer.h"

namespace qnn::cli {

namespace {

// ---------------------------------------------------------------- Ctrl-C

std::atomic<bool> g_cancel{false};
/// The handler's messages, composed before the handler is installed (no allocation in
/// it): one for Ctrl-C (SIGINT), one for SIGTERM (e.g. `qnn launch` stopping the other
/// ranks after one failed: no Ctrl-C was pressed then).
char g_interrupt_message[160] = "";
size_t g_interrupt_message_size = 0;
char g_term_message[200] = "";
size_t g_term_message_size = 0;

extern "C" void on_interrupt(int sig) {
  if (g_cancel.exchange(true)) return;
  const bool term = sig == SIGTERM;
  const ssize_t ignored = write(STDERR_FILENO, term ? g_term_message : g_interrupt_message,
                                term ? g_term_message_size : g_interrupt_message_size);
  (void)ignored;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

}  // namespace

std::string fixed_decimals(double v, int decimals) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(decimals) << v;
  return o.str();
}

InterruptGuard::InterruptGuard(const char* unit) {
  g_cancel = false;
  const int n = std::snprintf(g_interrupt_message, sizeof g_interrupt_message,
                              "\nqnn: stopping after the current %s (press Ctrl-C again to abort)\n", unit);
  g_interrupt_message_size = std::min(sizeof g_interrupt_message - 1, size_t(std::max(0, n)));
  const int t = std::snprintf(g_term_message, sizeof g_term_message,
                              "\nqnn: stopping after the current %s (SIGTERM received, e.g. from qnn launch after "
                              "another rank ended)\n",
                              unit);
  g_term_message_size = std::min(sizeof g_term_message - 1, size_t(std::max(0, t)));
  m_int = std::signal(SIGINT, on_interrupt);
  m_term = std::signal(SIGTERM, on_interrupt);
}

InterruptGuard::~InterruptGuard() {
  std::signal(SIGINT, m_int);
  std::signal(SIGTERM, m_term);
}

const std::atomic<bool>& interrupt_flag() { return g_cancel; }

void check_writable(const std::string& path, const std::string& what) {
  const std::string prefix = "cannot write " + what + " " + path + ": ";
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::is_directory(status)) throw IoError(prefix + write_error_reason(EISDIR));
  if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
    throw IoError(prefix + "it is not a regular file (a device, pipe or socket), and writing would replace it");
  const std::string probe = path + ".probe-" + std::to_string(::getpid());
  std::FILE* f = std::fopen(probe.c_str(), "wbx");
  if (!f) throw IoError(prefix + write_error_reason(errno));
  std::fclose(f);
  std::remove(probe.c_str());
}

void refuse_overwriting(const std::string& input, const std::string& output, const std::string& option) {
  std::error_code e1, e2;
  const auto a = std::filesystem::weakly_canonical(input, e1);
  const auto b = std::filesystem::weakly_canonical(output, e2);
  if (!e1 && !e2 && a == b) throw UsageError(option + " would overwrite " + input + "; choose another file");
}

Project load_valid_project(const std::string& path) {
  Project p = load_project(path);
  const ValidationResult r = validate(p);
  if (!r.ok()) {
    std::ostringstream msg;
    msg << path << ": the graph is invalid";
    for (const Diagnostic& d : r.diagnostics)
      if (d.severity == Diagnostic::Severity::Error) msg << "\n  " << diagnostic_line(d);
    msg << "\n  (run `qnn validate " << path << "` for the full report)";
    throw ConfigError(msg.str());
  }
  return p;
}

// ---------------------------------------------------------------- eval

/// load_checkpoint(), also for a checkpoint of the network as it was before --target finn
/// floored its truncating pools (apply_deployment_target(); FLOOR has no state): loaded
/// into the checkpoint's own network, its state copied into `model`.
static void load_checkpoint_for_target(QuantModel& model, const std::string& checkpoint) {
  const Project& p = model->project();
  if (p.deployment_target == DeploymentTarget::Finn) {
    const Project saved = read_checkpoint_project(checkpoint);
    Project chosen = saved;
    if (!network_difference(saved, p).empty() && !apply_deployment_target(chosen, p.deployment_target).empty() &&
        network_difference(chosen, p).empty()) {
      QuantModel as_saved = build_model(saved);
      load_checkpoint(as_saved, checkpoint);
      copy_model_state(*as_saved, *model);
      return;
    }
  }
  load_checkpoint(model, checkpoint);
}

QuantModel load_trained_model(const Project& p, const std::string& project_path,
                              const std::string& checkpoint) {
  set_thread_count(p.training.threads);
  torch::manual_seed(p.training.seed);
  QuantModel model = build_model(p);
  try {
    load_checkpoint_for_target(model, checkpoint);
  } catch (const IoError& e) {
    const std::string what = e.what();
    throw IoError(what.find(checkpoint) != std::string::npos ? what : "checkpoint '" + checkpoint + "': " + what);
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    throw ConfigError(what.find(checkpoint) != std::string::npos
                          ? what
                          : "checkpoint '" + checkpoint + "' does not fit " + project_path + ": " + what);
  } catch (const c10::Error& e) {
    throw IoError("cannot read checkpoint '" + checkpoint + "': " + e.what_without_backtrace());
  }
  return model;
}

int run_eval(const CommandArgs& args) {
  const std::string checkpoint = args.text("checkpoint");
  const std::string weights = args.text("weights");
  if (checkpoint.empty() == weights.empty())
    throw UsageError("'qnn eval' needs --checkpoint CKPT or --weights FILE (one of them)");
  const int64_t test_limit = args.integer("test-limit", 1, 0);
  Project p = load_valid_project(args.project);
  p.training.threads = static_cast<int>(args.integer("threads", 0, p.training.threads));

  QuantModel model = checkpoint.empty() ? build_model(p) : load_trained_model(p, args.project, checkpoint);
  if (!weights.empty()) {
    const WeightsReport w = load_weights(model, weights);
    std::cout << "weights: " << w.text() << "\n";
  }
  const Dataset test_set = load_dataset(p, false, test_limit);
  const std::vector<std::string> uncalibrated = uncalibrated_act_quantizers(*model);
  if (!uncalibrated.empty()) std::cerr << "qnn eval: warning: " << uncalibrated_warning(uncalibrated) << std::endl;

  InterruptGuard interrupts;
  // The batch size the trainer evaluates with, so both report the same numbers.
  const EvalResult r = evaluate(model, test_set, std::max<int64_t>(p.training.batch_size, 256), &g_cancel);
  if (g_cancel) {
    std::cerr << "qnn eval: interrupted after " << r.samples << " samples" << std::endl;
    return kExitInterrupted;
  }
  std::cout << "project " << args.project << (p.name.empty() ? "" : " (" + p.name + ")") << "\n"
            << (checkpoint.empty() ? "weights " + weights : "checkpoint " + checkpoint) << "\n"
            << "samples=" << r.samples << " loss=" << fixed_decimals(r.loss, 4) << " accuracy=" << fixed_decimals(r.accuracy, 4)
            << "\n";
  size_t name_width = 0;
  for (const std::string& c : test_set.class_names) name_width = std::max(name_width, c.size());
  for (size_t c = 0; c < r.confusion.size(); ++c) {
    int64_t total = 0;
    for (int64_t v : r.confusion[c]) total += v;
    const int64_t right = r.confusion[c][c];
    const std::string name = c < test_set.class_names.size() ? test_set.class_names[c] : std::to_string(c);
    std::cout << "class " << c << " " << std::left << std::setw(static_cast<int>(name_width)) << name
              << std::right << "  accuracy=" << std::left << std::setw(6)
              << (total ? fixed_decimals(double(right) / double(total), 4) : "n/a") << std::right << " (" << right << "/"
              << total << ")\n";
  }
  std::cout << "test_accuracy=" << fixed_decimals(r.accuracy, 4) << std::endl;
  return kExitOk;
}

// ---------------------------------------------------------------- validate

Project load_project_for_target(const CommandArgs& args) {
  Project p = load_project(args.project);
  if (args.has("target")) {
    const std::string t = args.text("target");
    const std::optional<DeploymentTarget> target = deployment_target_from_string(t);
    if (!target) throw UsageError("--target expects none, onnxruntime or finn, got '" + t + "'");
    // What Edit > Deployment Target does in the GUI (one rule in core).
    const std::vector<std::string> floored = apply_deployment_target(p, *target);
    if (!floored.empty()) {
      std::cerr << "note: --target finn: ";
      for (size_t i = 0; i < floored.size(); ++i) std::cerr << (i ? ", " : "") << floored[i];
      std::cerr << " truncate" << (floored.size() == 1 ? "s" : "")
                << " with FLOOR (floor 1), as choosing FINN in Edit > Deployment Target sets it; "
                << args.project << " is not changed" << std::endl;
    }
  }
  return p;
}

int run_validate(const CommandArgs& args) {
  const Project p = load_project_for_target(args);
  const ValidationResult r = validate(p);
  int errors = 0, warnings = 0;
  // The dataset against the Input layer first: known without reading any data, and
  // what `qnn train` would stop at before anything else.
  std::vector<Diagnostic> diagnostics;
  if (const auto mismatch = dataset_input_mismatch(p)) diagnostics.push_back(*mismatch);
  diagnostics.insert(diagnostics.end(), r.diagnostics.begin(), r.diagnostics.end());
  for (const Diagnostic& d : diagnostics) {
    (d.severity == Diagnostic::Severity::Error ? errors : warnings)++;
    std::cout << diagnostic_line(d) << "\n";
  }
  std::vector<std::string> ids = r.order;
  if (ids.empty())
    for (const LayerSpec& l : p.layers) ids.push_back(l.id);
  size_t w_id = 5, w_type = 4, w_shape = 6, w_values = 6;
  std::unordered_map<std::string, LayerType> type_of;  // one lookup per row, not a search (50,000 layers)
  for (const LayerSpec& l : p.layers) type_of.emplace(l.id, l.type);
  std::vector<std::string> shapes;
  for (const std::string& id : ids) {
    const auto it = r.nodes.find(id);
    shapes.push_back(it == r.nodes.end() ? "?" : shape_text(it->second.shape));
    w_id = std::max(w_id, id.size());
    w_type = std::max(w_type, to_string(type_of.at(id)).size());
    w_shape = std::max(w_shape, shapes.back().size());
  }
  std::vector<std::string> values, scales;
  for (const std::string& id : ids) {
    const auto it = r.nodes.find(id);
    std::string facts = "?", scale;
    if (it != r.nodes.end()) {
      const NodeInfo& n = it->second;
      facts = n.quantized ? (n.is_signed ? "int" : "uint") + std::to_string(n.bit_width) : "float";
      if (n.quantized) scale = n.scale_source + (n.per_channel ? " (per channel)" : "");
    }
    values.push_back(facts);
    scales.push_back(scale);
    w_values = std::max(w_values, facts.size());
  }
  std::cout << (p.name.empty() ? args.project : p.name) << ": input " << shape_text(p.input_shape)
            << (p.deployment_target != DeploymentTarget::None ? ", deployment target " + to_string(p.deployment_target)
                                                              : std::string())
            << "\n";
  std::cout << "  " << std::left << std::setw(static_cast<int>(w_id)) << "layer" << "  "
            << std::setw(static_cast<int>(w_type)) << "type" << "  " << std::setw(static_cast<int>(w_shape))
            << "output" << "  " << std::setw(static_cast<int>(w_values)) << "values" << "  scale from\n";
  for (size_t i = 0; i < ids.size(); ++i) {
    std::ostringstream row;
    row << std::left << "  " << std::setw(static_cast<int>(w_id)) << ids[i] << "  "
        << std::setw(static_cast<int>(w_type)) << to_string(type_of.at(ids[i])) << "  "
        << std::setw(static_cast<int>(w_shape)) << shapes[i] << "  " << std::setw(static_cast<int>(w_values))
        << values[i] << "  " << scales[i];
    std::string line = row.str();  // no trailing blanks when there is no scale
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
  }
  // With a trained model: bias quantizers whose codes saturate at its scales.
  const std::string checkpoint = args.text("checkpoint");
  if (!checkpoint.empty()) {
    if (errors) {
      std::cout << "checkpoint " << checkpoint << " not checked: the graph has errors\n";
    } else {
      QuantModel model = load_trained_model(p, args.project, checkpoint);
      int clipped_layers = 0;
      for (const inspect::BiasStats& b : inspect::bias_stats(model)) {
        if (b.clipped() == 0) continue;
        ++warnings;
        ++clipped_layers;
        std::cout << "warning: " << b.layer << ": " << b.warning() << "; " << b.codes_text()
                  << " (hint: a wider bias quantizer such as Int32Bias keeps the trained bias)\n";
      }
      std::cout << "checkpoint " << checkpoint << ": " << clipped_layers
                << " layer(s) with clipped bias codes\n";
    }
  }
  std::cout << std::right << (errors ? "invalid: " : "valid: ") << p.layers.size() << " layers, " << errors
            << " error(s), " << warnings << " warning(s)" << std::endl;
  return errors ? kExitFailed : kExitOk;
}

// ---------------------------------------------------------------- summary

int run_summary(const CommandArgs& args) {
  const Project p = load_project_for_target(args);
  Folding folding;
  folding.pe = args.integer("pe", 1, 1);
  folding.simd = args.integer("simd", 1, 1);
  folding.clock_mhz = args.positive_real("clock-mhz", 100.0);
  const ValidationResult r = validate(p);
  // The summary describes the network: only graph errors count, not the training and
  // dataset settings (diagnostics with code "settings").
  bool graph_ok = true;
  for (const Diagnostic& d : r.diagnostics)
    if (d.severity == Diagnostic::Severity::Error && d.code != "settings") {
      std::cerr << diagnostic_line(d) << "\n";
      graph_ok = false;
    }
  const ModelSummary summary = summarize(p, r);
  std::cout << (p.name.empty() ? args.project : p.name) << ": input " << shape_text(p.input_shape) << "\n"
            << summary_table(summary) << "\n"
            << hardware_cost_table(hardware_cost(p, r, summary, folding), p.deployment_target == DeploymentTarget::Finn)
            << std::flush;
  return graph_ok ? kExitOk : kExitFailed;
}

// ---------------------------------------------------------------- dispatch

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << main_usage();
    return kExitUsage;
  }
  const std::string command = args[0];
  if (command == "-h" || command == "--help" || command == "help") {
    std::cout << main_usage();
    return kExitOk;
  }
  if (command == "--version") {
    std::cout << "qnn (QNN Studio) " << QNN_VERSION << "\n";
    return kExitOk;
  }
  if (command_usage(command).empty()) {
    std::cerr << "qnn: unknown command '" << command << "'\n\n" << main_usage();
    return kExitUsage;
  }
  const std::string who = "qnn " + command;
  // A file size limit (ulimit -f) then fails the write with EFBIG, reported with the
  // file's name, instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);
  const int code = [&]() -> int {
  try {
    std::vector<std::string> rest(args.begin() + 1, args.end());
    // `qnn launch --nproc N sweep PROJECT ...`: the options are sweep's ("launch sweep").
    const std::string parse_as = command == "launch" && take_launch_command(rest) == "sweep" ? "launch sweep" : command;
    const CommandArgs parsed = parse_command(parse_as, rest);
    if (parsed.help) {
      std::cout << command_usage(command);
      return kExitOk;
    }
    if (command == "train") return run_train(parsed);
    if (command == "launch") return run_launch(parsed);
    if (command == "eval") return run_eval(parsed);
    if (command == "export") return run_export(parsed);
    if (command == "inspect") return run_inspect(parsed);
    if (command == "import") return run_import(parsed);
    if (command == "summary") return run_summary(parsed);
    if (command == "calibrate") return run_calibrate(parsed);
    if (command == "analyze") return run_analyze(parsed);
    if (command == "sweep") return run_sweep(parsed);
    if (command == "suggest") return run_suggest(parsed);
    return run_validate(parsed);
  } catch (const UsageError& e) {
    std::cerr << who << ": " << e.what() << "\nTry '" << who << " --help'.\n";
    return kExitUsage;
  } catch (const IoError& e) {
    std::cerr << who << ": error: " << e.what() << "\n";
    return kExitUsage;
  } catch (const qnn::Error& e) {  // ConfigError, DataError, ExportError
    std::cerr << who << ": error: " << e.what() << "\n";
    return kExitFailed;
  } catch (const c10::Error& e) {
    std::cerr << who << ": error: " << e.what_without_backtrace() << "\n";
    return kExitFailed;
  } catch (const std::exception& e) {
    std::cerr << who << ": error: " << e.what() << "\n";
    return kExitFailed;
  }
  }();
  // A rank whose run failed because another rank was lost is a consequence, not the
  // cause: `qnn launch` tells the two apart by this status (cli_dist.h).
  return code == kExitFailed && dist_peer_lost() ? kExitPeerLost : code;
}

}  // namespace qnn::cli
