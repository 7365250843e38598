// SPDX-License-Identifier: GPL-3.0-or-later
// `qnn train`: trains a project (core/train), alone or as one rank of a data-parallel
// run (--dist, core/dist); one line per epoch on stdout and "test_accuracy=..." last,
// progress and errors on stderr.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "app/cli/cli.h"
#include "app/cli/cli_dist.h"
#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
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
        << p.batches_per_epoch << "  loss=" << fixed_decimals(p.train_loss, 4) << " acc=" << fixed_decimals(p.train_accuracy, 4)
        << "  " << fixed_decimals(p.seconds, 1) << "s";
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

}  // namespace

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
        std::cout << "epoch " << pr.epoch << "/" << pr.epochs << "  train_loss=" << fixed_decimals(pr.train_loss, 4)
                  << " train_acc=" << fixed_decimals(pr.train_accuracy, 4) << "  test_loss=" << fixed_decimals(pr.test_loss, 4)
                  << " test_acc=" << fixed_decimals(pr.test_accuracy, 4) << "  " << fixed_decimals(pr.seconds - last_epoch_end, 1)
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
                         quiet_rank ? ProgressFn(count_steps) : ProgressFn(on_progress), interrupt_flag());
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
      std::cout << "dist: stop agreement: " << a.calls << " all-reduces, " << fixed_decimals(a.seconds * 1e6 / double(a.calls), 0)
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
      std::cout << "test_accuracy=" << fixed_decimals(result.test.accuracy, 4) << std::endl;
      end_together();
      return kExitUsage;
    }
  }
  end_together();
  if (result.cancelled) resume_hint();
  std::cout << "test_accuracy=" << fixed_decimals(result.test.accuracy, 4) << std::endl;
  return result.cancelled ? kExitInterrupted : kExitOk;
}

}  // namespace qnn::cli
