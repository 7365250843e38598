// SPDX-License-Identifier: GPL-3.0-or-later
// Plain Qt-side mirrors of the trainer's reports (core/train/trainer.h), small enough
// to travel through queued signals. No LibTorch here: widgets include this freely.
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

#include "core/graph/project.h"

namespace qnn {

/// What the user asked for, on top of the project's training spec.
struct TrainingRunOptions {
  TrainingSpec spec;             ///< optimizer, learning rate, batch size, epochs, seed, threads
  qint64 trainLimit = 0;         ///< > 0: only the first N training samples
  qint64 testLimit = 0;          ///< > 0: only the first N test samples
  qint64 maxBatchesPerEpoch = 0; ///< > 0: stop each epoch after N batches
  /// Live inspection (widgets/inspect): an inspect::Report on the first
  /// `calibrationSamples` test images at most every `inspectIntervalMs` of wall time
  /// while training, at every epoch end and after the final evaluation; then up to
  /// `misclassifiedLimit` misclassified test images. Computed on the training thread.
  bool inspect = true;
  qint64 inspectIntervalMs = 2000;
  qint64 calibrationSamples = 256;
  qint64 misclassifiedLimit = 64;
  /// Crash safety (core/train/resume.h): non-empty = the trainer writes a training
  /// checkpoint (model, optimizer state, position, history) there atomically at every
  /// epoch end and every `autosaveMinutes` of training.
  QString autosavePath;
  double autosaveMinutes = 5.0;
  /// Non-empty = continue the training checkpoint there (Training > Resume): model,
  /// optimizer, history and position restored; `spec` must be the checkpoint's.
  QString resumePath;
  /// >= 2: data-parallel training on this machine (Training > Train on N Processes): the
  /// worker writes `spec` with the project to a temporary file and runs
  /// `launcherPath launch --nproc processes FILE --checkpoint … --progress-json` (rank 0's
  /// JSON progress lines feed the same signals as an in-process run); the checkpoint rank 0
  /// writes becomes the run's model, evaluated here on the test set. No autosave and no
  /// resume (autosavePath and resumePath are ignored). The launcher and its ranks carry
  /// QNN_STUDIO_PARENT=<this process's pid> in their environment.
  int processes = 0;
  int threadsPerProcess = 0;  ///< LibTorch threads of each rank; 0: the launcher's (cores / processes)
  QString launcherPath;       ///< the `qnn` executable (processes >= 2)
};

/// One throttled report of a running training (qnn::TrainProgress plus a Loading phase).
struct TrainingProgressInfo {
  enum class Phase { Loading, Training, Evaluating, EpochDone, Finished, Cancelled };
  Phase phase = Phase::Loading;
  QString message;               ///< Loading: what is being loaded
  qint64 epoch = 0;              ///< 1-based
  qint64 epochs = 0;
  qint64 batch = 0;              ///< batches done in this epoch
  qint64 batchesPerEpoch = 0;
  qint64 globalStep = 0;
  double trainLoss = 0.0;        ///< running mean over the epoch (nats per sample)
  double trainAccuracy = 0.0;    ///< running, in [0, 1]
  double testLoss = 0.0;         ///< EpochDone / Finished only
  double testAccuracy = 0.0;     ///< EpochDone / Finished only
  double seconds = 0.0;          ///< wall time since the start of training

  /// Position on the plots' x axis: epochs done as a real number (0.5 = half of epoch 1).
  double epochPosition() const;
  /// Fraction of the whole run done, in [0, 1].
  double fractionDone() const;
  /// Estimated seconds left (< 0 when unknown).
  double secondsLeft() const;
};

/// One completed epoch.
struct TrainingEpochInfo {
  qint64 epoch = 0;
  double trainLoss = 0.0, trainAccuracy = 0.0, testLoss = 0.0, testAccuracy = 0.0, seconds = 0.0;
};

/// What a finished (or cancelled) run produced. The model itself stays in the
/// TrainingController.
struct TrainingSummary {
  bool cancelled = false;
  QVector<TrainingEpochInfo> epochs;
  double testLoss = 0.0;
  double testAccuracy = 0.0;     ///< final evaluation, in [0, 1]
  qint64 testSamples = 0;
  QVector<QVector<qint64>> confusion;  ///< [true class][predicted class] counts
  QStringList classNames;
  double seconds = 0.0;          ///< data loading, training and evaluation
  QStringList notes;             ///< what the run changed on its own (TrainResult::notes)
};

/// "0:42" or "1:02:03".
QString formatDuration(double seconds);

}  // namespace qnn

Q_DECLARE_METATYPE(qnn::TrainingProgressInfo)
Q_DECLARE_METATYPE(qnn::TrainingSummary)
