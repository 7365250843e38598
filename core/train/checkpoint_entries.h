// SPDX-License-Identifier: GPL-3.0-or-later
// Extra named entries a checkpoint may carry beside the model: byte strings, each stored
// as a uint8 tensor and listed in "qnn.checksums" like the model's tensors. Training
// checkpoints (core/train/resume.h) keep the optimizer state and the run's position in
// them; load_checkpoint() ignores them. Implemented in checkpoint.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/graph/model.h"

namespace qnn {

/// checkpoint_bytes() (core/train/checkpoint.h) plus `entries` (name -> bytes; names
/// start with "qnn." so they never meet a module tensor's name). Throws IoError.
std::string checkpoint_bytes_with_entries(QuantModel& model, int64_t optimizer_steps, const std::string& path,
                                          const std::vector<std::pair<std::string, std::string>>& entries);

/// The entries `names` of the checkpoint at `path` that it holds (absent names are left
/// out), each checked against its recorded checksum. Throws IoError (unreadable),
/// DamagedCheckpointError ("checkpoint <path> is damaged: entry qnn.optimizer does not
/// match its checksum ...") or ConfigError (not a QNN Studio checkpoint).
std::map<std::string, std::string> read_checkpoint_entries(const std::string& path,
                                                           const std::vector<std::string>& names);

/// While alive, every read of the checkpoint `path` in this process (load_checkpoint,
/// read_checkpoint_project, read_training_state, ...) takes `bytes` instead of the file,
/// which need not exist. `qnn train --dist --resume FILE`: rank 0 reads FILE and sends
/// its bytes to the other ranks, which then resume from exactly those bytes (messages
/// still name FILE).
class CheckpointBytesOverride {
 public:
  CheckpointBytesOverride(std::string path, std::string bytes);
  ~CheckpointBytesOverride();
  CheckpointBytesOverride(const CheckpointBytesOverride&) = delete;
  CheckpointBytesOverride& operator=(const CheckpointBytesOverride&) = delete;

 private:
  std::string m_path;
};

}  // namespace qnn
