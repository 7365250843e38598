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
#include "core/errors.h"
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

/// One report from the trainer; sent for the first batch of every epoch, then at most
/// every `progress_interval_ms`, at the end of every epoch (with test metrics) and at
/// the end of training.
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

/// A training step produced a non-finite value (NaN or Inf) in the loss, a gradient, a
/// quantizer statistic, a BatchNorm running buffer or a weight after the optimizer step.
/// Thrown by train_model() after it restored the model to the last good step; the
/// message names the epoch, the step, the quantity and the first layer affected. A
/// ConfigError (the CLI exits with 1): the usual cause is the learning rate.
class NumericsError : public ConfigError {
 public:
  NumericsError(const std::string& message, int64_t epoch, int64_t step)
      : ConfigError(message), m_epoch(epoch), m_step(step) {}
  int64_t epoch() const { return m_epoch; }  ///< 1-based epoch of the failed step
  /// 1-based global optimizer step that failed; the model holds the weights after step - 1
  /// (step 1: the weights the run started from).
  int64_t step() const { return m_step; }

 private:
  int64_t m_epoch = 0, m_step = 0;
};

struct TrainOptions {
  TrainingSpec spec;               ///< optimizer, lr, batch size, epochs, seed, threads
  int64_t max_batches_per_epoch = 0;  ///< > 0: stop each epoch early (tests, quick looks)
  int progress_interval_ms = 50;   ///< throttle of Training-phase reports
  /// Non-empty: train_model() writes a training checkpoint (core/train/resume.h) to this
  /// file, atomically (core/io/atomic_file.h), before the first step, at the end of every
  /// epoch (after its evaluation), at the first batch boundary after `autosave_minutes`
  /// have passed since the last write, and when a cancel stops the run mid-epoch. A failed
  /// write is not fatal: it is reported once in TrainResult::notes ("autosave failed:
  /// <the IoError's message, naming the file>; training goes on without it") and later
  /// writes are still tried.
  /// train_model() never deletes this file (see resume.h: the caller does).
  std::string autosave_path;
  /// Minutes between two autosaves within an epoch (fractions allowed); 0: after every
  /// batch (tests). Wall time, so the files written depend on the machine's speed (the
  /// training numbers do not).
  double autosave_minutes = 5.0;
  /// Non-empty: before the first step, train_model() restores from this training
  /// checkpoint the model's parameters and buffers (quantizer counters and statistics:
  /// the quantizer phase), the optimizer state, the shuffling and global random generator
  /// states, the history and the position, and continues at the next batch. Progress
  /// reports continue the epoch and global_step numbering; TrainResult::epochs holds the
  /// whole history (old and new). Refused before anything changes with ConfigError when
  /// the checkpoint holds no training state ("... is a checkpoint of a finished model, not
  /// of a training run"), the network differs (network_difference: "the checkpoint <path>
  /// was trained on a different network (...)"), or a setting or the data differs
  /// ("cannot resume from <path>: the learning rate is 0.01, the checkpoint's run used
  /// 0.001; resume with the same training settings (only epochs may change)"); IoError /
  /// DamagedCheckpointError when unreadable. May equal autosave_path.
  std::string resume_path;
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
/// Numerics guard: after every optimizer step the loss, every gradient, every float
/// buffer (quantizer statistics, BatchNorm running_mean/var) and every parameter are
/// checked for NaN/Inf (one scan of the raw float32 data, plus a copy of the state taken
/// before the step: one extra copy of the parameters and buffers in memory; measured
/// cost about 0.25 % of an epoch of lenet5_classic); on the first non-finite value
/// the model is restored to its state before that step (parameters and buffers,
/// including quantizer counters), left in eval mode, and NumericsError is thrown, e.g.
/// "Training stopped at epoch 1, step 37 (batch 37 of 938; adam, learning rate 1e+06):
/// the loss is NaN; the first non-finite gradient is that of conv1.weight (NaN in 150 of
/// 150 values). The weights after step 36 were kept; lower the learning rate (or check
/// the data for NaN/Inf) and train again."
/// The same run stops at the same step every time.
TrainResult train_model(QuantModel& model, const Dataset& train_set, const Dataset& test_set,
                        const TrainOptions& options, const ProgressFn& progress,
                        const std::atomic<bool>& cancel);

/// Evaluates in eval mode without gradients, in batches of `batch_size`.
/// `cancel` (optional) stops early; the result then covers the samples seen.
EvalResult evaluate(QuantModel& model, const Dataset& data, int64_t batch_size = 256,
                    const std::atomic<bool>* cancel = nullptr);

/// Activation quantizers with runtime statistics (RuntimeStats scaling) that never saw a
/// training or calibration call (counter 0): their scale is the initial value (1), not
/// one measured on data, so an evaluation of the model means little. Named by layer id
/// for a layer's act_quant ("relu1"), else by module path ("add1.input_quant"), in
/// execution order. Disabled and binary quantizers are not listed.
std::vector<std::string> uncalibrated_act_quantizers(QuantModelImpl& model);

/// The warning for uncalibrated_act_quantizers() (names non-empty): "Activation
/// quantizers relu1, relu2 were never calibrated (their scales are initial values): run
/// calibrate or train first." (one name: "Activation quantizer relu1 was never
/// calibrated (its scale is an initial value): ...").
std::string uncalibrated_warning(const std::vector<std::string>& names);

/// Sets LibTorch's intra-op thread count; 0 means std::thread::hardware_concurrency().
void set_thread_count(int threads);

}  // namespace qnn
