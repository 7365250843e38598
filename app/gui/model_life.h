// SPDX-License-Identifier: GPL-3.0-or-later
// The trained model's life in the main window (issue 14): a run's display (progress bar,
// ETA, status line, test results, stale curves), the model actions of the File and Edit
// menus (Save Checkpoint, Load Weights, Import Model, Fold BatchNorm), what an edit or an
// undo does to the current model (set aside, brought back), and the questions asked
// before work is lost: the one Save / Discard / Cancel prompt names every model that
// exists only in memory (TrainingController::unsavedModels: trained here, fine-tuned,
// folded or calibrated from such a model, and set aside or current), and closing the
// window during a run asks "Training is running (epoch 3 of 10). Stop it and quit?".
// While a run goes on, New / Open / Open Recent / examples / Import Model are refused
// with a status message (their actions are disabled too): a professional tool never
// throws a run away as a side effect of opening a file.
#pragma once

#include <functional>
#include <memory>

#include <QObject>
#include <QString>
#include <QStringList>

#include "core/graph/project.h"
#include "widgets/training/training_controller.h"
#include "widgets/training/training_types.h"

class QAction;
class QLabel;
class QProgressBar;
class QStatusBar;
class QWidget;

namespace qnn {

class ConfusionMatrixView;
class InspectionLink;
class ProjectDocument;
class ProjectFileActions;
class TrainingPlot;
class TrainingSettingsPanel;

class ModelLife : public QObject {
  Q_OBJECT
 public:
  /// The progress bar counts permille of the run.
  static constexpr int kProgressRange = 1000;

  /// The window's views this object writes (all owned by the window).
  struct Views {
    TrainingPlot* plot = nullptr;
    ConfusionMatrixView* confusion = nullptr;
    QLabel* testAccuracy = nullptr;  ///< "Test accuracy: …" above the confusion matrix
    QLabel* status = nullptr;        ///< the status bar's message
    QProgressBar* progress = nullptr;
    QLabel* eta = nullptr;
    TrainingSettingsPanel* settings = nullptr;  ///< the run options
    InspectionLink* inspection = nullptr;
  };
  /// `error` shows a message box (MainWindow::showError); `updateActions` refreshes the
  /// window's actions; `analysisRunning` tells whether an Analysis job runs. Creates the
  /// model actions; the views come later (setViews), before any signal arrives.
  ModelLife(ProjectDocument* document, TrainingController* controller, ProjectFileActions* files, QWidget* window,
            std::function<void(const QString&, const QString&)> error, std::function<void()> updateActions,
            std::function<bool()> analysisRunning);

  /// Connects the document's and the controller's signals to the views.
  void setViews(const Views& views);
  /// Fills the window's status bar: the message (statusLabel), the run's progress bar
  /// (progressBar), ETA (etaLabel) and a Cancel button (cancelButton) triggering `cancel`.
  /// Returns the views made (status, progress, eta).
  Views createStatusBar(QStatusBar* bar, QAction* cancel);
  /// A label and the confusion matrix in one widget: the Test Results dock's content.
  QWidget* createResultsWidget(QWidget* parent);

  /// The views given to setViews() / made by createStatusBar().
  const Views& views() const { return m_views; }
  QAction* saveCheckpointAction() const { return m_saveCheckpointAction; }
  QAction* loadWeightsAction() const { return m_loadWeightsAction; }
  QAction* importModelAction() const { return m_importModelAction; }
  QAction* foldBatchNormAction() const { return m_foldBatchNormAction; }
  /// Enables the model actions: `running` = a run or an Analysis job goes on.
  void updateActions(bool running, bool hasProject);

  /// F5: trains the document's project with the settings panel's options (see MainWindow).
  /// `adjust` (optional) changes those options first (Training > Train on N Processes sets
  /// TrainingRunOptions::processes). False when busy, refused or not started.
  bool startTraining(const std::function<void(TrainingRunOptions&)>& adjust = {});
  /// Analysis > Fine-tune: trains `project` from `from` for `epochs` epochs. False when
  /// busy or the graph has errors (shown).
  bool startFineTune(const Project& project, std::shared_ptr<QuantModelImpl> from, int epochs);
  /// Starts a run of `project` with `options` (from `from`'s weights when given): false,
  /// with a message titled `title`, when the graph has errors or the dataset does not fit
  /// the Input; false when busy. The run preparation (setRunPreparation) sees `options`
  /// first. F5, Fine-tune and Training > Resume (training_recovery.h) go through here.
  bool startRun(const Project& project, TrainingRunOptions options, std::shared_ptr<QuantModelImpl> from,
                const QString& title);
  /// Called by startRun() just before a run starts, with its options to complete (the
  /// autosave of crash safety: training_recovery.h).
  void setRunPreparation(std::function<void(TrainingRunOptions&)> prepare) { m_prepareRun = std::move(prepare); }
  /// Asked by startTraining() and startFineTune() (not by Resume) before a new run: false
  /// keeps it from starting (a stopped run whose autosave it would replace:
  /// TrainingRecovery::confirmNewRun).
  void setNewRunGuard(std::function<bool()> guard) { m_newRunGuard = std::move(guard); }
  /// Training > Cancel (Esc) of a run: stops after the current batch, then evaluates.
  void cancelTraining();
  /// File > Save Checkpoint…: asks for a path and writes the current model.
  bool saveCheckpointDialog();
  void foldBatchNorm();
  void loadWeights(const QString& path);
  void importModel(const QString& path);
  /// Another project is in the window: no model, cleared views.
  void projectReplaced();
  /// The Analysis side replaced the current model (calibration): its views follow.
  void modelReplaced();

  /// The run's state for a question: "epoch 3 of 10", or "loading the data".
  QString runState() const;
  /// During a run: says in the status line that `what` must wait for the run (stop it
  /// with Esc or let it finish) and returns true. False (nothing said) when idle.
  bool refuseWhileRunning();
  /// Closing the window: during a run asks "Training is running (epoch 3 of 10). Stop it
  /// and quit?" naming what is lost (the run's model, models only in memory): true for
  /// Stop and Quit (the caller stops it), false for Cancel (the run goes on). True when
  /// idle, without a question.
  bool confirmStopRunForClose();
  /// How the Save / Discard / Cancel prompt names the models that exist only in memory
  /// (phrases like "the trained model (1 epoch, test accuracy 81.20 %)"), current first;
  /// empty during a run (closing asked about them already; nothing else goes on then).
  QStringList unsavedModelPhrases() const;
  /// Save in that prompt: one Save Checkpoint dialog per model of unsavedModelPhrases(),
  /// in that order. False as soon as one is cancelled or fails (the others stay unsaved).
  bool saveUnsavedModels();

 private:
  void onDocumentChanged();
  void onTrainingStarted();
  void onTrainingProgress(const qnn::TrainingProgressInfo& info);
  void onTrainingFinished(const qnn::TrainingSummary& summary);
  void onTrainingFailed(const QString& message);
  /// A run's evaluation in Test Results: accuracy label and confusion matrix.
  void showSummary(const qnn::TrainingSummary& summary);
  /// Test accuracy and confusion matrix of the current model: the last run's evaluation
  /// when it is that run's model, else "not evaluated" (a folded or loaded model).
  void showTestResults();
  /// Greys the training curves with a banner when the model their run trained is not the
  /// current one; clears the mark when an undo brings the run's model back.
  void markStaleCurves();
  /// The phrase naming one model in the prompts.
  QString describe(const ModelRecord& record) const;
  /// Asks for a checkpoint path (`title`, `suggested`) and writes `model` there.
  bool saveModelDialog(const std::shared_ptr<QuantModelImpl>& model, const QString& title, const QString& suggested);
  QString suggestedCheckpoint(const QString& suffix) const;

  ProjectDocument* m_document;
  TrainingController* m_controller;
  ProjectFileActions* m_files;
  QWidget* m_window;
  std::function<void(const QString&, const QString&)> m_error;
  std::function<void()> m_updateActions;
  std::function<bool()> m_analysisRunning;
  std::function<void(TrainingRunOptions&)> m_prepareRun;
  std::function<bool()> m_newRunGuard;
  Views m_views;
  Project m_trainedNetwork;  ///< the network of the last run (the model goes when it is edited)
  int m_epoch = 0;           ///< the run's epoch and epochs, from its progress (0: loading)
  int m_epochs = 0;

  QAction* m_saveCheckpointAction = nullptr;
  QAction* m_loadWeightsAction = nullptr;
  QAction* m_importModelAction = nullptr;
  QAction* m_foldBatchNormAction = nullptr;
};

}  // namespace qnn
