// SPDX-License-Identifier: GPL-3.0-or-later
// Training checkpoints: what an interrupted training run needs to go on where it
// stopped. A training checkpoint is an ordinary checkpoint (core/train/checkpoint.h:
// load_checkpoint, `qnn eval/export --checkpoint` accept it) with extra checksummed
// entries: the optimizer state (Adam/SGD, as LibTorch serializes it), the position
// (epochs completed, batches done in the epoch under way, global optimizer step), the
// epoch history so far, the running train loss sum / correct count / samples of the
// unfinished epoch, the state of the shuffling and of LibTorch's global random
// generator (Dropout), and the training settings a resume must match.
//
// Written by train_model() when TrainOptions::autosave_path is set (core/train/trainer.h),
// read back when TrainOptions::resume_path is set. Resuming gives bit-identical weights,
// history (except EpochRecord::seconds) and test numbers to the uninterrupted run with the
// same settings on 1 thread (several threads may sum in another order).
//
// Who deletes what: train_model() never deletes the autosave file, neither after a
// finished run nor after a NumericsError or a cancel (it then holds the last position
// reached and can be resumed). The caller removes it once the final model is kept
// elsewhere: `qnn train --checkpoint OUT` after OUT was written; the GUI when the trained
// model was saved, or discarded by the user.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/graph/project.h"
#include "core/train/trainer.h"

namespace qnn {

/// What a training checkpoint says about its run (read_training_checkpoint_info).
struct TrainingCheckpointInfo {
  int64_t epochs_done = 0;        ///< complete epochs (evaluated, in `history`)
  int64_t batch_in_epoch = 0;     ///< batches done in epoch epochs_done + 1 (0: none yet)
  int64_t batches_per_epoch = 0;  ///< batches of one epoch (after max_batches_per_epoch)
  int64_t global_step = 0;        ///< optimizer steps since the run started
  int64_t epochs_planned = 0;     ///< TrainingSpec::epochs of the run that wrote it
  double seconds = 0.0;           ///< training wall time up to the save (over all resumes)
  std::vector<EpochRecord> history;  ///< the complete epochs, oldest first

  // The settings a resume must match (TrainingSpec; epochs may change).
  std::string optimizer;          ///< "adam" or "sgd"
  double learning_rate = 0.0;
  double momentum = 0.0;          ///< checked for "sgd" only
  double weight_decay = 0.0;
  int64_t batch_size = 0;
  uint64_t seed = 0;
  int threads = 0;                ///< informative: not checked (1 thread for identical numbers)
  // The data as the trainer saw it.
  std::string dataset;            ///< DatasetSpec::name of the model's project
  int64_t train_samples = 0;      ///< training set size (after a train limit)
  int64_t max_batches_per_epoch = 0;  ///< TrainOptions::max_batches_per_epoch (0: none)
  /// Ranks of the run (`qnn train --dist`: WORLD_SIZE; 1 for a single process and for
  /// files written before it was recorded). A resume must use as many: the position
  /// counts global batches of batch_size x ranks and rank r trains the r-th slice.
  int64_t world_size = 1;
};

/// Reads the training state of the checkpoint at `path` (the model's tensors are not
/// read; load them with load_checkpoint). Throws IoError (unreadable: missing, a folder,
/// not an archive), DamagedCheckpointError (an entry does not match its checksum) or
/// ConfigError ("<path> is not a QNN Studio checkpoint"; "<path> is a checkpoint of a
/// finished model, not of a training run (it holds no optimizer state and position to
/// resume from)" when the training entries are missing).
TrainingCheckpointInfo read_training_checkpoint_info(const std::string& path);

/// Whether `path` is a readable QNN Studio checkpoint holding the training entries.
/// Never throws (false for a missing, damaged or finished-model file).
bool is_training_checkpoint(const std::string& path);

/// "" when a run with `spec` may resume from `info`, else the first difference, e.g.
/// "the learning rate is 0.01, the checkpoint's run used 0.001" or "epochs is 2, but the
/// checkpoint already holds 3 complete epochs". Compares optimizer, learning rate,
/// momentum (sgd), weight decay, batch size and seed; epochs must be at least
/// epochs_done (+1 when an epoch is under way). Threads are not compared.
std::string training_spec_difference(const TrainingCheckpointInfo& info, const TrainingSpec& spec);

/// The autosave file `qnn train --checkpoint OUT` uses: OUT without a trailing ".pt"
/// plus ".resume.pt" ("runs/lenet.pt" -> "runs/lenet.resume.pt", "m.ckpt" -> "m.ckpt.resume.pt").
std::string default_autosave_path(const std::string& checkpoint_path);

}  // namespace qnn
