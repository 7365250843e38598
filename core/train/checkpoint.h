// SPDX-License-Identifier: GPL-3.0-or-later
// Checkpoints: a LibTorch archive with every parameter and buffer of the model
// (weights, biases, and each quantizer's statistics buffer, learned value and
// counter) plus the project JSON it was built from, and a CRC-32 (zlib) of each of
// them ("qnn.checksums") so a file changed after it was saved is refused, never
// loaded as a silently different model. Checkpoints written before the checksums
// were recorded load as before, unchecked.
#pragma once

#include <cstdint>
#include <string>

#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"

namespace qnn {

/// A checkpoint whose project JSON, step count or a tensor does not match the checksum
/// recorded beside it ("checkpoint <path> is damaged: tensor conv1.weight does not match
/// its checksum ..."). An unreadable file: the CLI exits with 2.
class DamagedCheckpointError : public IoError {
 public:
  using IoError::IoError;
};

/// Writes atomically (core/io/atomic_file.h: temporary file + rename; the old file at
/// `path` stays intact when writing fails). Throws IoError ("cannot write checkpoint
/// <path>: the disk is full", ... see write_error_reason; "no file name given" for an
/// empty path).
void save_checkpoint(QuantModel& model, const std::string& path);

/// The bytes save_checkpoint writes (`optimizer_steps` < 0: not recorded), built in
/// memory. `path` only names the file in messages. Throws IoError.
std::string checkpoint_bytes(QuantModel& model, int64_t optimizer_steps, const std::string& path);

/// Reads the project stored in a checkpoint. Throws IoError (unreadable: missing, a
/// folder, a device, larger than 4 GB, not an archive), DamagedCheckpointError (the
/// project JSON does not match its checksum) or ConfigError (not a QNN Studio checkpoint).
Project read_checkpoint_project(const std::string& path);

/// Restores parameters and buffers into a model built from the same network (see
/// network_difference: the same layers, connections, parameters and quantizers).
/// Throws IoError (unreadable file), DamagedCheckpointError naming the first tensor
/// that does not match its checksum, ConfigError naming the first network difference,
/// or ConfigError naming the first missing or mismatched tensor (e.g. "conv1.weight has shape [6,1,5,5] in the checkpoint,
/// [6,3,5,5] in the model"). A failed load leaves the model untouched.
void load_checkpoint(QuantModel& model, const std::string& path);

}  // namespace qnn
