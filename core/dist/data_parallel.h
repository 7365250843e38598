// SPDX-License-Identifier: GPL-3.0-or-later
// Data-parallel training hooks (qnn train --dist). Qt-free and free of c10d/Gloo
// headers: the trainer and the activation quantizers see only this interface; the
// Gloo process group behind it is core/dist/process_group.h.
//
// What is combined how (every rank ends each step with identical state):
//  - weights and buffers: broadcast from rank 0 before the first step;
//  - gradients: averaged (all-reduce sum / world size) in one flat float32 bucket per
//    step, after backward and before the optimizer step (no overlap with backward);
//    the per-rank batch is training.batch_size, the global batch batch_size x world size,
//    so with equal shards the averaged gradient is that of the global batch;
//  - activation-quantizer statistics (RuntimeStats scaling, statistics phase): every
//    training call's statistic (a percentile of |x|, of x's interval, or the low
//    percentile for a zero point) is replaced by its mean over the ranks. A percentile of
//    the global batch is not the mean of the ranks' percentiles: this is the documented
//    approximation (exact for a max, i.e. the 100th percentile, only if a max were used;
//    our percentiles are not). The gradient through the statistic stays the rank's own.
//  - BatchNorm running_mean / running_var: averaged after every step (the mean is exact
//    for equal shards; the variance misses the spread between the ranks' batch means).
//    Training-mode BatchNorm normalises with the rank's own batch statistics (no
//    SyncBatchNorm).
#pragma once

#include <cstdint>
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
  /// True for the hidden --dist-check: the trainer then compares a checksum of the
  /// parameters and buffers of all ranks after every step and throws on a difference.
  virtual bool check_every_step() const = 0;
};

/// The process-wide data-parallel context (nullptr: single process, the default, and
/// then nothing in training changes). Set by `qnn train --dist` before train_model();
/// the caller keeps ownership and resets it to nullptr before destroying it.
DataParallel* active_data_parallel();
void set_active_data_parallel(DataParallel* dp);

/// The rank-mean of a scalar statistic for an activation quantizer's statistics phase:
/// `stat` itself when no context is active; else a tensor whose value is the mean over
/// the ranks and whose gradient is that of the rank's own `stat` (straight-through).
torch::Tensor combine_statistic(const torch::Tensor& stat);

/// Trainer hooks (no-ops without a context).
/// Rank 0's parameters and buffers to every rank.
void dp_broadcast_model(torch::nn::Module& model);
/// Averages the gradients of `params` in one flat bucket.
void dp_average_gradients(const std::vector<torch::Tensor>& params);
/// Averages the BatchNorm running_mean / running_var buffers.
void dp_average_batchnorm(torch::nn::Module& model);
/// --dist-check: throws ConfigError naming the step when the ranks' parameters or
/// buffers differ (a float64 checksum compared through an all-reduce max of |c - c0|).
void dp_check_identical(torch::nn::Module& model, int64_t step);
/// Steps compared by dp_check_identical() in this process so far.
int64_t dp_checked_steps();

}  // namespace qnn
