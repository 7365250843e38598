// SPDX-License-Identifier: GPL-3.0-or-later
// Data-parallel training hooks (qnn train --dist). Qt-free and free of c10d/Gloo
// headers: the trainer and the activation quantizers see only this interface; the
// Gloo process group behind it is core/dist/process_group.h.
//
// What is combined how (every rank ends each step with identical state):
//  - weights and buffers: broadcast from rank 0 before the first step;
//  - gradients: averaged (all-reduce sum / world size) in float32 buckets whose
//    all-reduces start during backward, as soon as a bucket's gradients are all computed
//    (GradientSync; one flat bucket after backward when the machine has no core to
//    spare), and are waited for before the optimizer step; the per-rank batch is
//    training.batch_size, the global batch batch_size x world size, so with equal shards
//    the averaged gradient is that of the global batch;
//  - activation-quantizer statistics (RuntimeStats scaling, statistics phase): every
//    training call's percentile (of |x|, of x, or the low percentile) is that of the
//    global batch, exactly: the k-th smallest of N = sum of the ranks' sizes lies m
//    places from the top (m = N - k + 1; bottom: m = k); every rank all-gathers its top m
//    values and the m-th largest of the union is the statistic, the value a single
//    process computes on the global batch. Its gradient reaches the selected element on
//    the lowest rank holding it (a single process also picks the first in memory order),
//    with that rank's loss only: the other ranks' share of that one element's gradient
//    is dropped (the approximation). When m > 4096 (a percentile far from both ends) the
//    statistic is the mean of the ranks' percentiles instead (an approximation).
//  - BatchNorm running_mean / running_var: averaged after every step (the mean is exact
//    for equal shards; the variance misses the spread between the ranks' batch means).
//    Training-mode BatchNorm normalises with the rank's own batch statistics (no
//    SyncBatchNorm).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <torch/torch.h>

namespace qnn {

class DataParallel {
 public:
  virtual ~DataParallel() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  /// In place: every rank receives rank 0's values (all tensors, one collective each).
  virtual void broadcast(std::vector<torch::Tensor>& tensors) = 0;
  /// In place: the sum over the ranks divided by the world size.
  virtual void average(std::vector<torch::Tensor>& tensors) = 0;
  /// In place: the maximum over the ranks.
  virtual void max(torch::Tensor& tensor) = 0;
  /// Every rank's `tensor` (same shape on all ranks), stacked: [world, ...].
  virtual torch::Tensor all_gather(const torch::Tensor& tensor) = 0;
  /// True for the hidden --dist-check: the trainer then compares a checksum of the
  /// parameters and buffers of all ranks after every step and throws on a difference.
  virtual bool check_every_step() const = 0;
};

/// The process-wide data-parallel context (nullptr: single process, the default, and
/// then nothing in training changes). Set by `qnn train --dist` before train_model();
/// the caller keeps ownership and resets it to nullptr before destroying it.
DataParallel* active_data_parallel();
void set_active_data_parallel(DataParallel* dp);

/// Wall time this process spent in the training collectives of its data-parallel runs
/// (waiting for the other ranks included): the statistics-phase percentiles, the
/// gradient average (with its bucket copies) and the BatchNorm average; `steps` counts
/// gradient averages. For qnn_bench_dist: with QNN_DIST_PROFILE=1 in the environment,
/// every rank prints dist_timings_line() to stderr when its context is reset.
struct DistTimings {
  int64_t steps = 0;
  int64_t statistics_calls = 0;
  double statistics_seconds = 0.0;
  double gradient_seconds = 0.0;
  double batchnorm_seconds = 0.0;
  int64_t buckets = 0;  ///< gradient buckets overlapped with backward in the last layout (0: flat)
};
DistTimings dist_timings();
/// "dist profile rank R: S steps; per step X ms in collectives: statistics ... ms (N
/// calls), gradients ... ms (B bucket(s) overlapped with backward | 1 flat bucket after
/// backward), BatchNorm ... ms".
std::string dist_timings_line(int rank);

/// Which percentile an activation quantizer's statistics phase takes (core/quant/int_quant.h).
enum class PercentileKind {
  AbsHigh,  ///< kth_abs_percentile(x, q)
  High,     ///< kth_percentile(x, q)
  Low       ///< kth_low_percentile(x, q)
};

/// The percentile statistic of `x`: the local one (core/quant/int_quant.h) without an
/// active context, else the global batch's (see the top of this file). A 0-dim tensor.
torch::Tensor percentile_statistic(const torch::Tensor& x, double q, PercentileKind kind);

/// Rank 0's `bytes` on every rank, or std::nullopt on every rank when rank 0 passes
/// none (its error is then its own to report). Two broadcasts: the length, then the
/// bytes as a uint8 tensor. A collective: every rank calls it (the others' `bytes` are
/// ignored). `qnn train --dist --resume FILE` sends rank 0's FILE to the other ranks.
std::optional<std::string> broadcast_bytes(DataParallel& dp, const std::optional<std::string>& bytes);

/// Trainer hooks (no-ops without a context).
/// Rank 0's parameters and buffers to every rank.
void dp_broadcast_model(torch::nn::Module& model);
/// Averages the gradients of `params` in one flat bucket.
void dp_average_gradients(const std::vector<torch::Tensor>& params);

/// The gradient average of a training run, overlapped with backward. Gradient hooks
/// (torch::Tensor::register_hook: called with each parameter's gradient as backward
/// computes it) copy the gradients into float32 buckets of about `bucket_kib` KiB,
/// filled in the reverse order of the parameters (the order backward produces them);
/// a bucket's all-reduce starts on a communication thread of this object as soon as
/// all its gradients are there and every earlier bucket has started (the same order on
/// every rank). finish(), after loss.backward(), waits for them and writes the averages
/// into the gradients. A bucket holds the parameters that had a gradient in the step
/// before (the same on every rank: the same graph); the first step, and a step whose
/// set of gradients changed, average in one flat bucket after backward. Each element is
/// the same sum as in dp_average_gradients(), divided by the world size.
class GradientSync {
 public:
  virtual ~GradientSync() = default;
  /// After loss.backward(): every gradient averaged over the ranks. Throws the
  /// collective's ConfigError when a rank failed.
  virtual void finish() = 0;
  /// The number of buckets (0: one flat bucket after backward).
  virtual int buckets() const = 0;
};

/// nullptr without an active context. `bucket_kib` 0: no hooks, one flat bucket after
/// backward (dp_average_gradients); -1: QNN_DIST_BUCKET_KIB from the environment, else
/// kDefaultBucketKiB when the machine has a core to spare for the communication (cores
/// >= LOCAL_WORLD_SIZE x (LibTorch threads + 1)), else 0 (on a 2-core machine with 2
/// ranks the overlap only adds thread wake-ups). The ranks then agree on the smallest
/// choice (a 1-float all-reduce, so every rank must call this at the same point): machines
/// with other core counts or another QNN_DIST_BUCKET_KIB still use one layout. The hooks
/// are removed and the thread ended on destruction.
/// Throws ConfigError naming QNN_DIST_BUCKET_KIB when it is not a whole number from 0 to
/// kMaxBucketKiB, and the collective's errors.
constexpr int64_t kDefaultBucketKiB = 128;
constexpr int64_t kMaxBucketKiB = 1 << 20;  // 1 GiB; exact in the float32 agreement
std::unique_ptr<GradientSync> dp_gradient_sync(const std::vector<torch::Tensor>& params, int64_t bucket_kib = -1);

/// Averages the BatchNorm running_mean / running_var buffers.
void dp_average_batchnorm(torch::nn::Module& model);
/// --dist-check: throws ConfigError naming the step when the ranks' parameters or
/// buffers differ (a float64 checksum compared through an all-reduce max of |c - c0|).
void dp_check_identical(torch::nn::Module& model, int64_t step);
/// Steps compared by dp_check_identical() in this process so far.
int64_t dp_checked_steps();

}  // namespace qnn
