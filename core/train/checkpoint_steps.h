// SPDX-License-Identifier: GPL-3.0-or-later
// The optimizer step count a checkpoint records beside the model (archive entry
// "qnn.optimizer_steps", an int64; written by `qnn train`). Read by `qnn inspect`
// for its scale history and report header. Implemented in checkpoint.cpp.
#pragma once

#include <cstdint>
#include <string>

#include "core/graph/model.h"

namespace qnn {

/// save_checkpoint() (core/train/checkpoint.h) that also records `optimizer_steps`,
/// the optimizer steps the model was trained for (batches over all epochs; negative:
/// not recorded). Throws IoError.
void save_checkpoint(QuantModel& model, const std::string& path, int64_t optimizer_steps);

/// The optimizer steps recorded in the checkpoint at `path`, or -1 when it records none
/// (written before the count was recorded, or of a model that no run of this build trained:
/// loaded weights, `qnn import`, a folded model). Throws
/// IoError (unreadable) or ConfigError (not a QNN Studio checkpoint).
int64_t read_checkpoint_optimizer_steps(const std::string& path);

}  // namespace qnn
