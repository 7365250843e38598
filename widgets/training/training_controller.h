// SPDX-License-Identifier: GPL-3.0-or-later
// Runs qnn::train_model off the GUI thread and reports through throttled Qt signals.
// No LibTorch in this header: the model is only named by a forward declaration.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include <QObject>
#include <QString>
#include <QThread>

#include "core/graph/project.h"
#include "widgets/inspect/inspection_types.h"
#include "widgets/training/training_types.h"

namespace qnn {

class QuantModelImpl;
class TrainingWorker;

/// Where a model of the controller comes from (its provenance): decides whether it exists
/// only in memory (closing or replacing the project would lose it) and which optimizer
/// step count a checkpoint of it records.
enum class ModelOrigin {
  Trained,   ///< stored by a run of this window (F5, or a fine-tune: Analysis > Fine-tune)
  Derived,   ///< made in memory from the then current model (e.g. Analysis > Calibrate)
  Folded,    ///< Edit > Fold BatchNorm of the then current model
  Loaded,    ///< File > Load Weights: a file holds it (steps: the checkpoint's, if recorded)
  Imported,  ///< File > Import Model: an ONNX file holds it
};

/// What the controller knows about one of its models (current or kept).
struct ModelRecord {
  std::shared_ptr<QuantModelImpl> model;
  ModelOrigin origin = ModelOrigin::Trained;
  /// Optimizer steps it was trained for (batches over all epochs, a fine-tune's base
  /// model's steps included); -1: not known (folded, derived, imported, a state dict).
  int64_t steps = -1;
  /// Exists only in memory: trained here, or folded / derived from such a model, and not
  /// written by saveCheckpoint() since.
  bool unsaved = false;
  /// The run it comes from (Trained, or the source of a Folded / Derived model): its
  /// epochs (0: none) and final test accuracy (NaN: none).
  int epochs = 0;
  double testAccuracy = std::numeric_limits<double>::quiet_NaN();
  bool fineTuned = false;  ///< that run started from an earlier model's weights
  /// That run continued a training checkpoint (Training > Resume): its file name.
  QString resumedFrom;
  bool current = false;    ///< it is model(); else kept, set aside by an edit or replaced
  /// Current, or an undo back to its network brings it back (selectModelFor); false for a
  /// model a newer one of the same network replaced (Load Weights over it, say).
  bool undoable = false;
};

/// Lives on the GUI thread and owns a worker thread. start() loads the datasets,
/// builds the model and trains it on the worker; progress arrives as at most
/// ~20 signals per second (plus one per phase change). After finished() the
/// trained model (also the one of a cancelled run, evaluated on the test set)
/// stays available through model() and saveCheckpoint().
class TrainingController : public QObject {
  Q_OBJECT
 public:
  explicit TrainingController(QObject* parent = nullptr);
  /// Cancels a running training and waits for the worker thread to end.
  ~TrainingController() override;

  /// Starts a run. Returns false (and does nothing) while one is running. `initial`
  /// (optional: fine-tuning) gives the starting weights and quantizer state
  /// (copy_model_state into the freshly built model of `project`, e.g. the model trained
  /// before Analysis > Apply changed the bit widths); read on the worker, never written.
  /// The run's model records the optimizer steps of `initial` (its ModelRecord, when it
  /// is one of this controller's models) plus its own; none when those are not known.
  bool start(const Project& project, const TrainingRunOptions& options,
             std::shared_ptr<QuantModelImpl> initial = nullptr);
  /// Asks the running training to stop after the current batch; finished() follows
  /// with cancelled = true and a final test evaluation. No effect when idle.
  void cancel();
  /// Like cancel(), for a closing window: the worker also skips the final inspection
  /// and the misclassified scan. Not undone: the controller goes with the window.
  void cancelForClose();
  bool isRunning() const { return m_running; }
  bool isCancelling() const { return m_running && m_cancel.load(); }

  /// The current model: of the last finished run, or adopted (folded, loaded weights), or
  /// selected back by an undo (selectModelFor); nullptr when there is none for the network.
  std::shared_ptr<QuantModelImpl> model() const;
  bool hasModel() const { return model() != nullptr; }
  /// Forgets the last model and every kept one (another project was opened; its models
  /// no longer match). No effect while a run is in progress.
  void clearModel();
  /// Makes `model` (trained or derived from a trained one, e.g. by BatchNorm folding)
  /// the current model and keeps it (up to kKeptModels, the oldest saved one goes first;
  /// models only in memory are never dropped), so an
  /// undo back to its network brings it back. `origin` is its provenance: a Derived or
  /// Folded model exists only in memory when the current model it was made from did
  /// (ModelRecord::unsaved) and has no step count; a Loaded one records `steps` (-1: none).
  /// No effect while a run is in progress.
  void adoptModel(std::shared_ptr<QuantModelImpl> model, ModelOrigin origin = ModelOrigin::Derived,
                  int64_t steps = -1);
  /// Makes current the kept model whose network is `network` (network_difference is
  /// empty: positions and the project name do not count, layer ids do), or none. Returns whether the current
  /// model changed. No effect (false) while a run is in progress.
  bool selectModelFor(const Project& network);
  /// Inspects a copy of the current model (clone_model) on the worker thread (after it
  /// changed without a run; not when options.inspect is off): inspectionReport() follows
  /// unless the current model changed meanwhile, computed as a run's final one with `options`'
  /// calibration samples and test limit. No effect while a run is in progress or
  /// without a model.
  void reinspect(const TrainingRunOptions& options);
  static constexpr int kKeptModels = 4;
  /// Edit > Fold BatchNorm: folds every BatchNorm of the current model into the conv /
  /// linear layer before it (core/graph/fold_batch_norm.h), makes the folded model
  /// current (adoptModel: the unfolded one stays kept for an undo) and returns
  /// `document` rewritten the same way (its positions and names kept) for the caller
  /// to apply as one edit. Throws ConfigError with a user message when there is no
  /// trained model of `document`'s network, a run is in progress, a BatchNorm cannot be
  /// folded or has no running statistics yet; nothing changes then. `comparison`
  /// (optional) receives compare_folded's text on up to 1000 test images of the
  /// project's dataset, or why it could not be measured.
  Project foldBatchNorm(const Project& document, QString* comparison = nullptr);
  /// File > Load Weights…: builds `document`'s network, loads `path` into it (a PyTorch /
  /// Brevitas state dict or a checkpoint of a network with the same layer ids;
  /// core/train/weights.h) and makes it the current model. Returns the report's text.
  /// Throws qnn::Error (IoError / ConfigError) with the core's message, naming the
  /// file and each tensor that does not fit; the current model is unchanged then.
  QString loadWeights(const Project& document, const QString& path);
  /// The summary of the last finished run.
  const TrainingSummary& lastSummary() const { return m_lastSummary; }
  /// Whether the current model is the one the last run trained (lastSummary() is its
  /// evaluation), not a folded, loaded or older one.
  bool currentIsLastRun() const;
  /// Writes `which` (default: the current model; else one of the kept models) as a
  /// checkpoint (core/train/checkpoint.h), with the optimizer steps recorded with that
  /// model (ModelRecord::steps, core/train/checkpoint_steps.h; none when not known: a
  /// state dict, imported or folded model), like `qnn train --checkpoint`; the model
  /// counts as saved from then on.
  /// Throws qnn::Error (IoError) with a user message, or ConfigError when there is no
  /// such model; nothing counts as saved then.
  void saveCheckpoint(const QString& path, std::shared_ptr<QuantModelImpl> which = nullptr);
  /// The models that exist only in memory (ModelRecord::unsaved): the current one first,
  /// then those set aside by an edit (an undo brings them back), newest first. A run in
  /// progress does not count (its model is not there yet).
  std::vector<ModelRecord> unsavedModels() const;
  /// The record of the current model (model == nullptr when there is none).
  ModelRecord currentRecord() const;
  /// Whether unsavedModels() is not empty: closing or replacing the project would lose them.
  bool hasUnsavedModel() const;
  /// Whether the last run's model is kept but not current (an edit set it aside): an undo
  /// back to its network (selectModelFor) brings it back.
  bool runModelSetAside() const;
  /// Whether the last failed() was a run stopped at a NaN/Inf (its last good model was
  /// kept), not a run refused or failed before or outside the numerics (a bad setting,
  /// unreadable data, a checkpoint of another run). Valid from failed() until the next start().
  bool lastFailureWasNonFinite() const { return m_lastFailureNonFinite; }

 Q_SIGNALS:
  void started();
  /// Every report, including Loading, Evaluating, EpochDone and the final one.
  void progress(const qnn::TrainingProgressInfo& info);
  /// End of an epoch, with its test metrics.
  void epochDone(const qnn::TrainingProgressInfo& info);
  /// The run ended (completed or cancelled); the model is available.
  void finished(const qnn::TrainingSummary& summary);
  /// The run failed; `message` is the core error's text.
  void failed(const QString& message);
  /// The current model changed (a run stored its model, adopt, select, clear): views of
  /// the old model's results are stale.
  void currentModelChanged();
  /// A live inspection report of the model being trained (TrainingRunOptions::inspect):
  /// throttled, at epoch ends and after the final evaluation. Never null.
  void inspectionReport(const qnn::InspectionReportPtr& report);
  /// The misclassified test images of the trained model, sent before finished().
  void misclassifiedReady(const qnn::MisclassifiedSet& set);

 private:
  void onWorkerProgress(const qnn::TrainingProgressInfo& info);
  void onWorkerFinished(const qnn::TrainingSummary& summary);
  void onWorkerFailed(const QString& message, qint64 keptSteps);
  void onInspected(const qnn::InspectionReportPtr& report, quint64 generation);

  struct Shared;
  std::shared_ptr<Shared> m_shared;  ///< model slot, shared with the worker
  QThread m_thread;
  TrainingWorker* m_worker = nullptr;  ///< lives in m_thread, deleted when it ends
  std::atomic<bool> m_cancel{false};
  std::atomic<bool> m_closing{false};  ///< set on close: skip the post-run inspection
  /// Bumped whenever the current model changes (a run starts, adopt, select, clear):
  /// a reinspect() report of an older generation is dropped, never shown as current.
  quint64 m_generation = 0;
  bool m_running = false;
  TrainingSummary m_lastSummary;
  qint64 m_runSteps = 0;  ///< the largest optimizer step the current (or last) run reported
  /// Steps of the model a run starts from (fine-tune; 0: a fresh start, -1: not known),
  /// added to the run's own steps in its model's record.
  int64_t m_baseSteps = 0;
  QString m_resumedFrom;  ///< the file name of the run's TrainingRunOptions::resumePath
  bool m_lastFailureNonFinite = false;

};

/// Registers the Qt-side training types for queued signals (called by the controller).
void registerTrainingMetaTypes();

}  // namespace qnn
