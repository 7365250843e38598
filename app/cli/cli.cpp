// SPDX-License-Identifier: GPL-3.0-or-later
// The `qnn` commands. Everything a script may parse goes to stdout (one epoch per
// line, "test_accuracy=..." last); progress and errors go to stderr.
#include "app/cli/cli.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
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
#include "core/dist/data_parallel.h"
#include "core/dist/dist_agreement.h"
#include "core/dist/process_group.h"
#include "core/train/checkpoint.h"
#include "core/train/checkpoint_entries.h"
#include "core/train/checkpoint_steps.h"
#include "core/train/resume.h"
#include "core/train/resume_state.h"
#include "core/train/weights.h"
#include "core/train/trainer.h"

namespace qnn::cli {

namespace {

// ---------------------------------------------------------------- Ctrl-C

std::atomic<bool> g_cancel{false};
/// The handler's message, composed before the handler is installed (no allocation in it).
char g_interrupt_message[160] = "";
size_t g_interrupt_message_size = 0;

extern "C" void on_interrupt(int) {
  if (g_cancel.exchange(true)) return;
  const ssize_t ignored = write(STDERR_FILENO, g_interrupt_message, g_interrupt_message_size);
  (void)ignored;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

// ---------------------------------------------------------------- output helpers

std::string fixed(double v, int decimals) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(decimals) << v;
  return o.str();
}

/// Progress on stderr, drawn only when both stdout and stderr are terminals.
class ProgressLine {
 public:
  ProgressLine() : m_enabled(isatty(STDOUT_FILENO) && isatty(STDERR_FILENO)) {}
  void show(const TrainProgress& p) {
    if (!m_enabled) return;
    std::ostringstream s;
    s << "\r\033[Kepoch " << p.epoch << "/" << p.epochs << " ";
    if (p.phase == TrainProgress::Phase::Evaluating) {
      s << "evaluating on the test set...";
    } else {
      constexpr int kWidth = 30;
      const double f = p.batches_per_epoch > 0 ? double(p.batch) / double(p.batches_per_epoch) : 0.0;
      const int done = std::clamp(static_cast<int>(f * kWidth), 0, kWidth);
      s << "[" << std::string(done, '#') << std::string(kWidth - done, '.') << "] " << p.batch << "/"
        << p.batches_per_epoch << "  loss=" << fixed(p.train_loss, 4) << " acc=" << fixed(p.train_accuracy, 4)
        << "  " << fixed(p.seconds, 1) << "s";
    }
    std::cerr << s.str() << std::flush;
    m_drawn = true;
  }
  void clear() {
    if (m_drawn) std::cerr << "\r\033[K" << std::flush;
    m_drawn = false;
  }

 private:
  bool m_enabled;
  bool m_drawn = false;
};

}  // namespace

InterruptGuard::InterruptGuard(const char* unit) {
  g_cancel = false;
  const int n = std::snprintf(g_interrupt_message, sizeof g_interrupt_message,
                              "\nqnn: stopping after the current %s (press Ctrl-C again to abort)\n", unit);
  g_interrupt_message_size = std::min(sizeof g_interrupt_message - 1, size_t(std::max(0, n)));
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

// ---------------------------------------------------------------- train

/// `qnn train --dist --resume FILE`: rank 0 checks and reads FILE and sends its bytes to
/// every rank, which all resume from them (the other machines need no copy of rank 0's
/// autosave). Rank 0's error (missing, damaged, a finished model's checkpoint) ends
/// every rank.
std::unique_ptr<CheckpointBytesOverride> share_resume_file(DataParallel& dp, const std::string& path) {
  std::optional<std::string> bytes;
  if (dp.rank() == 0) {
    try {
      read_training_checkpoint_info(path);  // the specific message for an unusable file
      std::ifstream in(path, std::ios::binary);
      std::ostringstream all;
      if (!in || !(all << in.rdbuf())) throw IoError("cannot read checkpoint " + path + ": " + std::strerror(errno));
      bytes = all.str();
    } catch (...) {
      broadcast_bytes(dp, std::nullopt);
      throw;
    }
  }
  bytes = broadcast_bytes(dp, bytes);
  if (!bytes)
    throw IoError("cannot resume from " + path + ": rank 0 could not use it (its message says why)");
  return std::make_unique<CheckpointBytesOverride>(path, std::move(*bytes));
}

/// `qnn train --dist`: the options every rank must share, as rank 0 would print them.
/// Left out: what only rank 0 uses (--checkpoint, --autosave, --autosave-minutes,
/// --no-autosave, --progress-json, --weights: rank 0's weights reach every rank, the
/// path given to --resume: rank 0 sends its file) and what may differ per machine
/// (--threads, --dist-timeout). An option this list does not know is compared as given.
std::vector<AgreedField> shared_train_options(const CommandArgs& args, const TrainingSpec& t, int64_t train_limit,
                                              int64_t test_limit, int64_t max_batches) {
  const auto limit = [](int64_t v) { return v > 0 ? std::to_string(v) : std::string("not given (all)"); };
  const auto given = [&](const char* name) { return args.has(name) ? std::string("given") : "not given"; };
  std::ostringstream lr;
  lr << t.learning_rate;
  std::vector<AgreedField> f{{"--epochs", std::to_string(t.epochs)},
                             {"--batch-size", std::to_string(t.batch_size)},
                             {"--lr", lr.str()},
                             {"--seed", std::to_string(t.seed)},
                             {"--train-limit", limit(train_limit)},
                             {"--test-limit", limit(test_limit)},
                             {"--max-batches", limit(max_batches)},
                             {"--resume", given("resume")},
                             {"--dist-check", given("dist-check")}};
  static const std::vector<std::string> known{
      "epochs",     "batch-size", "lr",       "seed",        "train-limit",      "test-limit",  "max-batches",
      "resume",     "dist-check", "dist",     "checkpoint",  "autosave",         "autosave-minutes",
      "no-autosave", "progress-json", "weights", "threads",    "dist-timeout"};
  for (const std::string& name : command_options("train"))
    if (std::find(known.begin(), known.end(), name) == known.end())
      f.push_back({"--" + name, args.has(name) ? args.text(name) : std::string("not given")});
  return f;
}

/// `qnn train --dist`: the data every rank read (sizes and label CRC-32s: another folder,
/// file or order shows).
std::vector<AgreedField> shared_data(const Dataset& train_set, const Dataset& test_set) {
  const auto crc = [](const Dataset& d) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%08x", unsigned(d.size() > 0 ? labels_crc(d.labels) : 0u));
    return std::string(hex);
  };
  return {{"training set size", std::to_string(train_set.size()) + " samples"},
          {"test set size", std::to_string(test_set.size()) + " samples"},
          {"training labels' CRC-32", crc(train_set)},
          {"test labels' CRC-32", crc(test_set)}};
}

/// True when this process is a rank started by `qnn launch` (its parent is this
/// executable running "launch").
bool started_by_launch() {
  const std::string parent = "/proc/" + std::to_string(::getppid());
  std::error_code e1, e2;
  const auto exe = std::filesystem::read_symlink(parent + "/exe", e1);
  const auto self = std::filesystem::read_symlink("/proc/self/exe", e2);
  if (e1 || e2 || exe != self) return false;
  std::ifstream in(parent + "/cmdline", std::ios::binary);
  std::string argv0, argv1;
  return std::getline(in, argv0, '\0') && std::getline(in, argv1, '\0') && argv1 == "launch";
}

int run_train(const CommandArgs& args) {
  Project p = load_valid_project(args.project);
  // --dist: join the process group first (a missing rank fails before the data is read).
  const std::unique_ptr<DistSession> dist = start_dist(args, args.project);
  const bool quiet_rank = dist && !dist->is_rank0();
  if (quiet_rank) std::cout.setstate(std::ios::failbit);  // rank 0 alone prints
  TrainingSpec& t = p.training;
  t.epochs = args.integer("epochs", 1, t.epochs);
  t.threads = static_cast<int>(args.integer("threads", 0, t.threads));
  t.seed = static_cast<uint64_t>(args.integer("seed", 0, static_cast<int64_t>(t.seed)));
  t.batch_size = args.integer("batch-size", 1, t.batch_size);
  t.learning_rate = args.positive_real("lr", t.learning_rate);
  const int64_t train_limit = args.integer("train-limit", 1, 0);
  const int64_t test_limit = args.integer("test-limit", 1, 0);
  const int64_t max_batches = args.integer("max-batches", 1, 0);
  const std::string checkpoint = quiet_rank ? std::string() : args.text("checkpoint");  // rank 0 writes
  const std::string resume = args.text("resume");
  if (args.has("no-autosave") && (args.has("autosave") || args.has("autosave-minutes")))
    throw UsageError("--no-autosave cannot be combined with --" +
                     std::string(args.has("autosave") ? "autosave" : "autosave-minutes"));
  if (!resume.empty() && args.has("weights"))
    throw UsageError("--weights cannot be combined with --resume (the run goes on with the weights in " + resume + ")");
  double autosave_minutes = 5.0;
  if (args.has("autosave-minutes")) {
    const std::string m = args.text("autosave-minutes");
    char* end = nullptr;
    errno = 0;
    autosave_minutes = std::strtod(m.c_str(), &end);
    if (*end != '\0' || errno == ERANGE || !std::isfinite(autosave_minutes) || autosave_minutes < 0.0)
      throw UsageError("--autosave-minutes expects 0 (after every batch) or a positive number of minutes, got '" +
                       m + "'");
  }
  // The autosave: --autosave, else beside --checkpoint, else the file resumed from.
  std::string autosave;
  if (!args.has("no-autosave") && !quiet_rank)
    autosave = args.has("autosave") ? args.text("autosave")
               : !checkpoint.empty() ? default_autosave_path(checkpoint)
                                     : resume;

  // --dist: every rank must train with the same options (before any other exchange:
  // --resume decides whether rank 0 sends its file).
  if (dist)
    check_same_fields(dist->group(), shared_train_options(args, t, train_limit, test_limit, max_batches),
                      "start every rank with the same options");
  // Fail before a long run, not after it, when the checkpoint cannot be written.
  if (!checkpoint.empty()) {
    refuse_overwriting(args.project, checkpoint, "--checkpoint");
    check_writable(checkpoint, "checkpoint");
  }
  if (!autosave.empty()) {
    refuse_overwriting(args.project, autosave, "--autosave");
    if (!checkpoint.empty()) refuse_overwriting(checkpoint, autosave, "--autosave");
    check_writable(autosave, "autosave file");
  }
  // A finished model's checkpoint, a damaged or missing file: refused before any data is read.
  std::unique_ptr<CheckpointBytesOverride> shared_resume;
  if (dist && !resume.empty()) shared_resume = share_resume_file(*active_data_parallel(), resume);
  TrainingCheckpointInfo resumed;
  if (!resume.empty()) resumed = read_training_checkpoint_info(resume);
  // Not earlier: with the handler in place during the rendezvous, a Ctrl-C there made
  // both ranks of `qnn launch` wait out --dist-timeout and fail to join (c10d's TCPStore
  // does not survive the interrupted call); until here Ctrl-C ends the rank at once, and
  // `qnn launch` reports the run interrupted (130; nothing was trained).
  InterruptGuard interrupts;
  set_thread_count(t.threads);
  torch::manual_seed(t.seed);
  QuantModel model = build_model(p);
  const std::string weights = args.text("weights");
  if (!weights.empty()) {  // warm start: a state dict or checkpoint matched by layer id
    const WeightsReport w = load_weights(model, weights);
    std::cout << "weights: " << w.text() << "\n";
  }
  const Dataset train_set = load_dataset(p, true, train_limit);
  const Dataset test_set = load_dataset(p, false, test_limit);
  if (dist)
    check_same_fields(dist->group(), shared_data(train_set, test_set),
                      "every rank must read the same dataset (the project's dataset folder, the same files)",
                      "this rank read " + p.dataset.name + " from " + p.dataset.path);

  std::cout << "project " << args.project << (p.name.empty() ? "" : " (" + p.name + ")") << "\n"
            << "data " << p.dataset.name << ": " << train_set.size() << " training / " << test_set.size()
            << " test samples; " << t.optimizer << " lr=" << t.learning_rate << " batch=" << t.batch_size
            << " epochs=" << t.epochs << " seed=" << t.seed << " threads=" << torch::get_num_threads()
            << std::endl;
  if (dist) std::cout << dist->header(t.batch_size) << std::endl;

  TrainOptions options;
  options.spec = t;
  options.max_batches_per_epoch = max_batches;
  options.autosave_path = autosave;
  options.autosave_minutes = autosave_minutes;
  options.resume_path = resume;
  const BatchPlan plan = plan_batches(model, train_set.size(), options);
  if (!plan.note.empty()) std::cout << "note: " << plan.note << std::endl;
  if (!autosave.empty()) {
    std::ostringstream every;
    every << autosave_minutes;
    std::cout << "autosave: " << autosave << " ("
              << (autosave_minutes == 0.0 ? std::string("after every batch") : "every " + every.str() + " min")
              << " and every epoch)" << std::endl;
  }
  // Said once train_model() has checked the checkpoint against the run (its first report).
  bool resume_announced = resume.empty();
  const auto announce_resume = [&] {
    if (resume_announced) return;
    resume_announced = true;
    std::cout << "resuming from " << resume << ": ";
    if (resumed.epochs_done >= t.epochs && resumed.batch_in_epoch == 0)
      std::cout << "all " << resumed.epochs_done << " epoch(s) done";
    else
      std::cout << "epoch " << resumed.epochs_done + 1 << " of " << t.epochs << ", batch " << resumed.batch_in_epoch
                << " of " << resumed.batches_per_epoch;
    std::cout << ", step " << resumed.global_step << std::endl;
  };
  const auto resume_hint = [&] {
    if (autosave.empty()) return;
    std::error_code ec;
    if (!std::filesystem::exists(autosave, ec)) return;
    const std::string rest = args.project + " --resume " + autosave +
                             (checkpoint.empty() ? std::string() : " --checkpoint " + checkpoint);
    // A data-parallel run resumes on as many ranks (the autosave records them).
    if (!dist)
      std::cerr << "qnn train: the run can be resumed from its autosave: qnn train " << rest
                << " (and the same other options)" << std::endl;
    else if (started_by_launch())
      std::cerr << "qnn train: the run can be resumed from its autosave: qnn launch --nproc " << dist->world_size()
                << " " << rest << " (and the same other options)" << std::endl;
    else
      std::cerr << "qnn train: the run can be resumed from its autosave on " << dist->world_size()
                << " ranks again: on every rank, with torchrun's variables (WORLD_SIZE=" << dist->world_size()
                << "), qnn train " << args.project << " --dist --resume " << autosave
                << (checkpoint.empty() ? std::string() : " --checkpoint " + checkpoint)
                << " (and the same other options; only rank 0 reads the file)" << std::endl;
  };

  ProgressLine bar;
  // An epoch's time counts from the end of the one before (a resumed epoch's time
  // includes its part before the interruption: TrainProgress::seconds spans all resumes).
  double last_epoch_end = resume.empty() || resumed.history.empty() ? 0.0 : resumed.history.back().seconds;
  int64_t optimizer_steps = resumed.global_step;  // recorded in the checkpoint (qnn inspect's step)
  // --progress-json: every report as one JSON line (QNN Studio's Train on N Processes).
  const bool progress_json = args.has("progress-json");
  const auto json_line = [](const TrainProgress& pr) {
    static const char* const names[] = {"training", "evaluating", "epoch", "finished", "cancelled"};
    std::ostringstream o;
    o.precision(9);
    const auto num = [&o](double v) -> std::ostringstream& {  // NaN / Inf are not JSON numbers
      if (std::isfinite(v)) o << v; else o << "null";
      return o;
    };
    o << "{\"progress\":\"" << names[static_cast<int>(pr.phase)] << "\",\"epoch\":" << pr.epoch
      << ",\"epochs\":" << pr.epochs << ",\"batch\":" << pr.batch << ",\"batches\":" << pr.batches_per_epoch
      << ",\"step\":" << pr.global_step << ",\"train_loss\":";
    num(pr.train_loss) << ",\"train_acc\":";
    num(pr.train_accuracy) << ",\"test_loss\":";
    num(pr.test_loss) << ",\"test_acc\":";
    num(pr.test_accuracy) << ",\"seconds\":";
    num(pr.seconds) << "}";
    return o.str();
  };
  auto on_progress = [&](const TrainProgress& pr) {
    announce_resume();
    optimizer_steps = pr.global_step;
    if (progress_json) std::cout << json_line(pr) << std::endl;
    switch (pr.phase) {
      case TrainProgress::Phase::Training:
      case TrainProgress::Phase::Evaluating: bar.show(pr); break;
      case TrainProgress::Phase::EpochDone:
        bar.clear();
        std::cout << "epoch " << pr.epoch << "/" << pr.epochs << "  train_loss=" << fixed(pr.train_loss, 4)
                  << " train_acc=" << fixed(pr.train_accuracy, 4) << "  test_loss=" << fixed(pr.test_loss, 4)
                  << " test_acc=" << fixed(pr.test_accuracy, 4) << "  " << fixed(pr.seconds - last_epoch_end, 1)
                  << "s" << std::endl;
        last_epoch_end = pr.seconds;
        break;
      case TrainProgress::Phase::Finished:
      case TrainProgress::Phase::Cancelled: bar.clear(); break;
    }
  };
  TrainResult result;
  try {
    // A quiet rank only counts the steps (its QNN_DIST_STATE_DIR file records them).
    const auto count_steps = [&](const TrainProgress& pr) { optimizer_steps = pr.global_step; };
    result = train_model(model, train_set, test_set, options,
                         quiet_rank ? ProgressFn(count_steps) : ProgressFn(on_progress), g_cancel);
    announce_resume();  // a run with nothing left to train may report nothing
  } catch (const NumericsError& e) {
    // The model holds the last good weights, but the run failed: no checkpoint claims success.
    bar.clear();
    std::cerr << "qnn train: error: " << e.what() << "\n";
    if (!checkpoint.empty()) std::cerr << "qnn train: no checkpoint was written to " << checkpoint << std::endl;
    return kExitFailed;
  }
  bar.clear();
  if (dist && !dist->check_line().empty()) {
    std::cout << dist->check_line() << std::endl;
    const AgreementStats a = dp_agreement_stats();
    if (a.calls > 0)
      std::cout << "dist: stop agreement: " << a.calls << " all-reduces, " << fixed(a.seconds * 1e6 / double(a.calls), 0)
                << " us each on average" << std::endl;
  }
  if (dist) {
    // For tests and debugging: every rank's final weights and quantizer state, to be
    // compared byte for byte (independently of --dist-check's checksums).
    const char* dir = std::getenv("QNN_DIST_STATE_DIR");
    if (dir && *dir)
      save_checkpoint(model, (std::filesystem::path(dir) / ("rank" + std::to_string(dist->rank()) + ".pt")).string(),
                      optimizer_steps);
  }
  // --dist: the other ranks end once rank 0 has written its checkpoint (a stop request
  // ends them all after the same step; none should leave while rank 0 still saves).
  const auto end_together = [&] {
    if (dist) dp_any(false);
  };
  for (const std::string& note : result.notes)
    if (note != plan.note) std::cerr << "qnn train: note: " << note << std::endl;

  if (result.cancelled)
    std::cerr << "qnn train: interrupted after " << result.epochs.size() << " complete epoch(s); "
              << "the test accuracy below is that of the last weights" << std::endl;
  if (!checkpoint.empty()) {
    try {
      save_checkpoint(model, checkpoint, optimizer_steps);
      std::cout << "saved checkpoint " << checkpoint << " (" << optimizer_steps << " optimizer steps)" << std::endl;
      // The final model is kept: a finished run's autosave has served its purpose. An
      // interrupted run's stays, to be resumed.
      if (!autosave.empty() && !result.cancelled) {
        std::error_code ec;
        std::filesystem::remove(autosave, ec);
      }
    } catch (const IoError& e) {
      // The run is not lost: keep the model in the temporary folder (else the current
      // folder) and say where. The old file at `checkpoint` is intact.
      std::cerr << "qnn train: " << e.what() << "; the old file there (if any) is unchanged" << std::endl;
      const std::string name = "qnn-unsaved-" + std::to_string(::getpid()) + ".qnnckpt";
      std::error_code ec;
      std::vector<std::string> places;
      const auto tmp = std::filesystem::temp_directory_path(ec);
      if (!ec) places.push_back((tmp / name).string());
      places.push_back(name);
      std::string kept;
      for (const std::string& rescue : places) {
        try {
          save_checkpoint(model, rescue, optimizer_steps);
          kept = rescue;
          break;
        } catch (const IoError& again) {
          std::cerr << "qnn train: " << again.what() << std::endl;
        }
      }
      if (kept.empty())
        std::cerr << "qnn train: the trained model could not be kept anywhere (the checkpoint, the temporary "
                     "folder and the current folder all failed); free some disk space and train again"
                  << std::endl;
      else
        std::cerr << "qnn train: the trained model was saved to " << kept << " instead" << std::endl;
      std::cout << "test_accuracy=" << fixed(result.test.accuracy, 4) << std::endl;
      end_together();
      return kExitUsage;
    }
  }
  end_together();
  if (result.cancelled) resume_hint();
  std::cout << "test_accuracy=" << fixed(result.test.accuracy, 4) << std::endl;
  return result.cancelled ? kExitInterrupted : kExitOk;
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
            << "samples=" << r.samples << " loss=" << fixed(r.loss, 4) << " accuracy=" << fixed(r.accuracy, 4)
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
              << (total ? fixed(double(right) / double(total), 4) : "n/a") << std::right << " (" << right << "/"
              << total << ")\n";
  }
  std::cout << "test_accuracy=" << fixed(r.accuracy, 4) << std::endl;
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
