// SPDX-License-Identifier: GPL-3.0-or-later
// Checkpoints: a LibTorch archive with every parameter and buffer of the model
// (weights, biases, and each quantizer's statistics buffer, learned value and
// counter) plus the project JSON it was built from.
#pragma once

#include <string>

#include "core/graph/model.h"
#include "core/graph/project.h"

namespace qnn {

/// Writes atomically (temporary file + rename). Throws IoError.
void save_checkpoint(QuantModel& model, const std::string& path);

/// Reads the project stored in a checkpoint. Throws IoError (unreadable) or
/// ConfigError (not a QNN Studio checkpoint).
Project read_checkpoint_project(const std::string& path);

/// Restores parameters and buffers into a model built from the same network (see
/// network_difference: the same layers, connections, parameters and quantizers).
/// Throws IoError (unreadable file), ConfigError naming the first network difference,
/// or ConfigError naming the first missing or mismatched tensor (e.g. "conv1.weight has shape [6,1,5,5] in the checkpoint,
/// [6,3,5,5] in the model").
void load_checkpoint(QuantModel& model, const std::string& path);

}  // namespace qnn
