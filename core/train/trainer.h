// SPDX-License-Identifier: GPL-3.0-or-later
// Training and evaluation of a built model. Knows nothing of Qt: progress goes
// through a callback, cancellation through an atomic flag.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/data/dataset.h"
#include "core/graph/model.h"
#include "core/graph/project.h"

namespace qnn {

/// Result of evaluating a model on a dataset.
struct EvalResult {
  double loss = 0.0;      ///< mean cross-entropy (nats per sample)
  double accuracy = 0.0;  ///< fraction correct in [0, 1]
  int64_t samples = 0;
  /// confusion[true][predicted] counts, classes x classes.
  std::vector<std::vector<int64_t>> confusion;
};

/// One report from the trainer; sent at most every `progress_interval_ms`, at the
/// end of every epoch (with test metrics) and at the end of training.
struct TrainProgress {
  enum class Phase { Training, Evaluating, EpochDone, Finished, Cancelled };
  Phase phase = Phase::Training;
  int64_t epoch = 0;           ///< 1-based
  int64_t epochs = 0;
  int64_t batch = 0;           ///< batches done in this epoch
  int64_t batches_per_epoch = 0;
  int64_t global_step = 0;     ///< optimizer steps since the start
  double train_loss = 0.0;     ///< running mean over this epoch
  double train_accuracy = 0.0; ///< running over this epoch
  double test_loss = 0.0;      ///< EpochDone / Finished only
  double test_accuracy = 0.0;  ///< EpochDone / Finished only
  double seconds = 0.0;        ///< wall time since the start
};

struct EpochRecord {
  int64_t epoch = 0;
  double train_loss = 0.0, train_accuracy = 0.0, test_loss = 0.0, test_accuracy = 0.0, seconds = 0.0;
};

struct TrainResult {
  std::vector<EpochRecord> epochs;  ///< completed epochs
  /// What the run changed on its own, for the run log (e.g. the short last batch it
  /// dropped because of a BatchNorm layer; see plan_batches()).
  std::vector<std::string> notes;
  EvalResult test;                  ///< final evaluation on the test set (also after a cancel)
  bool cancelled = false;
};

using ProgressFn = std::function<void(const TrainProgress&)>;

struct TrainOptions {
  TrainingSpec spec;               ///< optimizer, lr, batch size, epochs, seed, threads
  int64_t max_batches_per_epoch = 0;  ///< > 0: stop each epoch early (tests, quick looks)
  int progress_interval_ms = 50;   ///< throttle of Training-phase reports
};

/// How one epoch splits the training set into batches.
struct BatchPlan {
  int64_t batches = 0;          ///< batches per epoch (after max_batches_per_epoch)
  bool drops_last = false;      ///< the short last batch of 1 sample is left out
  std::string note;             ///< why, for the run log ("" when nothing is dropped)
};

/// Batches per epoch for `samples` training samples. BatchNorm rule (torch
/// BatchNorm1d/2d in training): a layer whose input holds one value per channel per
/// sample (BatchNorm1d on [C], BatchNorm2d on [C, 1, 1]) cannot compute batch
/// statistics from a single sample (the unbiased running variance becomes NaN, or
/// LibTorch refuses): a last batch of exactly 1 sample is dropped from every epoch and
/// the note says so, naming the layer.
/// Throws ConfigError when batch_size is 1 and such a layer exists, naming it.
BatchPlan plan_batches(const QuantModel& model, int64_t samples, const TrainOptions& options);

/// Trains `model` in place on `train_set`, evaluating on `test_set` after every epoch.
/// Uses spec.threads LibTorch threads (0: all cores); shuffles with spec.seed.
/// When `cancel` becomes true the current batch finishes, the model is left usable
/// (eval mode, last weights) and the result has cancelled = true with a final test
/// evaluation. Throws ConfigError for bad settings (batch size < 1, unknown optimizer,
/// batch size 1 with a BatchNorm layer that sees one value per channel: plan_batches()).
TrainResult train_model(QuantModel& model, const Dataset& train_set, const Dataset& test_set,
                        const TrainOptions& options, const ProgressFn& progress,
                        const std::atomic<bool>& cancel);

/// Evaluates in eval mode without gradients, in batches of `batch_size`.
/// `cancel` (optional) stops early; the result then covers the samples seen.
EvalResult evaluate(QuantModel& model, const Dataset& data, int64_t batch_size = 256,
                    const std::atomic<bool>* cancel = nullptr);

/// Sets LibTorch's intra-op thread count; 0 means std::thread::hardware_concurrency().
void set_thread_count(int threads);

}  // namespace qnn
