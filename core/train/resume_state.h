// SPDX-License-Identifier: GPL-3.0-or-later
// The trainer's side of training checkpoints (core/train/resume.h): the complete state
// written by an autosave and read back by a resume. Used by trainer.cpp; implemented
// in resume.cpp.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "core/graph/model.h"
#include "core/train/resume.h"

namespace qnn {

struct TrainingState {
  TrainingCheckpointInfo info;
  /// The epoch under way (batch_in_epoch > 0): the running sums of its batches.
  double epoch_loss_sum = 0.0;  ///< sum of loss x batch size (nats)
  int64_t epoch_correct = 0;
  int64_t epoch_seen = 0;
  uint32_t train_labels_crc = 0;  ///< CRC-32 of the training labels (int64), the data's fingerprint
  std::string optimizer_state;    ///< torch::optim::Optimizer::save() as archive bytes
  /// at::Generator::get_state(): the shuffling generator before the randperm of epoch
  /// epochs_done + 1, and LibTorch's global CPU generator (Dropout) at the save.
  torch::Tensor shuffle_rng, global_rng;
};

/// Writes the model and `state` to `path` atomically (write_bytes_atomically, "training
/// checkpoint"). Throws IoError.
void write_training_checkpoint(QuantModel& model, const TrainingState& state, const std::string& path);

/// Reads everything but the model's tensors (load_checkpoint does those). Throws as
/// read_training_checkpoint_info().
TrainingState read_training_state(const std::string& path);

/// The optimizer's state as bytes, and back. load throws DamagedCheckpointError naming
/// `path` when the bytes do not fit the optimizer.
std::string optimizer_state_bytes(torch::optim::Optimizer& optimizer);
void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::string& bytes, const std::string& path);

/// CRC-32 of a dataset's labels (int64, contiguous).
uint32_t labels_crc(const torch::Tensor& labels);

}  // namespace qnn
