// SPDX-License-Identifier: GPL-3.0-or-later
// Crash safety and resume of training runs in the main window (issue 16, item 5).
// When a run starts (F5, Fine-tune, Resume) the project is written to this window's
// recovery file at once (ProjectFileActions::setKeepRecovery, even without unsaved
// edits) and the trainer autosaves a training checkpoint beside it
// (recovery-<pid>-<n>.train.pt: model, optimizer state, position and history;
// core/train/resume.h) at every epoch end and every N minutes (QSettings
// "training/autosaveMinutes", default 5). A run that completes leaves its model in
// memory (model_life.h governs saving it) and its training checkpoint is removed; a
// cancelled run keeps it for Training > Resume, and so does closing the window with a
// stopped or running run (ProjectFileActions::keepRecoveryForStoppedRun); after a crash
// or such a close the next start's question names the project and the run, and
// accepting keeps the run's checkpoint as this window's resumable run.
// Training > Resume continues the known resumable run (the recovered or cancelled one,
// or the last one chosen with Training > Resume from Checkpoint…) with the same curves:
// the checkpoint's history first, the new epochs appended. Not available during a run.
#pragma once

#include <functional>

#include <QObject>
#include <QDateTime>
#include <QPointer>
#include <QString>

#include "widgets/training/training_types.h"

class QAction;
class QMenu;
class QWidget;

namespace qnn {

class ModelLife;
class ProjectDocument;
class ProjectFileActions;
class TrainingController;

class TrainingRecovery : public QObject {
  Q_OBJECT
 public:
  /// QSettings key of the autosave interval in minutes (a double; 0: after every batch).
  static constexpr const char* kAutosaveMinutesKey = "training/autosaveMinutes";
  static constexpr double kDefaultAutosaveMinutes = 5.0;

  /// `error` shows a message box (MainWindow::showError); `updateActions` refreshes the
  /// window's actions. Installs the run preparation of `life` and the recovered-run
  /// hooks of `files`.
  TrainingRecovery(ProjectDocument* document, TrainingController* controller, ProjectFileActions* files,
                   ModelLife* life, QWidget* window, std::function<void(const QString&, const QString&)> error,
                   std::function<void()> updateActions);

  /// Training > Resume ("resumeTrainingAction") and Training > Resume from Checkpoint…
  /// ("resumeFromCheckpointAction"), added to `menu` after a separator.
  void addActions(QMenu* menu);
  QAction* resumeAction() const { return m_resumeAction; }
  QAction* resumeFromCheckpointAction() const { return m_resumeFromAction; }
  /// `running`: a run or an Analysis job goes on (both actions off, like Train).
  void updateActions(bool running, bool hasProject);

  /// The training checkpoint Training > Resume continues ("" when none is known).
  QString resumablePath() const { return m_resumable; }
  /// Whether closing now leaves a run to continue: a run goes on (it autosaves to this
  /// window's training checkpoint when stopped) or that checkpoint is the resumable run.
  bool hasOwnRunToKeep() const;
  /// Training > Resume: resumeFrom(resumablePath()).
  bool resume();
  /// Continues the training checkpoint `path` with the document's project: false, with
  /// the core's message in a dialog, when it cannot be read, is not a training
  /// checkpoint, was trained for another network, or with other settings or data
  /// (dataset, max batches per epoch, train limit; the trainer checks the samples too);
  /// false when busy. Epochs may change: the Epochs setting when it lies beyond the
  /// checkpoint's position, else the run's planned epochs. The curves show its history
  /// first. `path` empty: asks for the file (Resume from Checkpoint…). A resume the
  /// trainer refuses keeps `path` resumable; only a run stopped at a NaN/Inf removes
  /// this window's checkpoint (resuming would reach it again).
  bool resumeFrom(const QString& path);
  /// "epoch 3 of 10, step 1996" for the training checkpoint `path` (the epoch it was in;
  /// "epoch 3 of 10 done, step 1800" at an epoch end, "epoch 1 of 10, not started yet"
  /// before the first step); "" when it cannot be read.
  static QString describeRun(const QString& path);
  /// The autosave interval of the next runs (kAutosaveMinutesKey).
  static double autosaveMinutes();
  /// Before F5 or a fine-tune (ModelLife::setNewRunGuard): when this window's stopped run
  /// is resumable, its autosave is the file the new run would overwrite, so this asks
  /// "Start a new training run?" naming the run: Start New Run (true; the stopped run is
  /// given up), Resume (continues it instead; false) or Cancel (false). True at once when
  /// there is no such run.
  bool confirmNewRun();

 private:
  void prepareRun(TrainingRunOptions& options);
  void onRunFinished(bool cancelled);
  void onRunFailed();
  /// The recovery question's Yes: `file` (a crashed window's training checkpoint)
  /// becomes this window's own and the resumable run.
  void adoptRecoveredRun(const QString& file);
  void setResumable(const QString& path);

  ProjectDocument* m_document;
  TrainingController* m_controller;
  QPointer<ProjectFileActions> m_files;  ///< deleted first by ~MainWindow: run ends after that do nothing
  ModelLife* m_life;
  QWidget* m_window;
  std::function<void(const QString&, const QString&)> m_error;
  std::function<void()> m_updateActions;
  QString m_resumable;
  QDateTime m_runStart;  ///< when the last run was prepared (its autosaves are newer)
  QAction* m_resumeAction = nullptr;
  QAction* m_resumeFromAction = nullptr;
};

}  // namespace qnn
