// SPDX-License-Identifier: GPL-3.0-or-later
// The Analysis menu of the main window ("choose bit widths with evidence"):
//  - Calibrate… (F6): post-training calibration of the current model (or of a weights
//    file when there is none) on the worker thread, accuracy before / after; the
//    calibrated model becomes current; per-channel weights change the project's weight
//    quantizers as one undo step together with the model change (like Fold BatchNorm);
//  - Analyze (F7): the quantization analyzer on the worker, shown in the Analyzer tab;
//  - Sensitivity Sweep… (F8): run_sweep on the worker, each point drawn as it arrives,
//    progress / ETA in the status bar, Esc or Cancel keeps the partial result; the
//    record goes into the project (Project::sweep) through a document command, so it is
//    saved with it and reopens without recomputing;
//  - Suggest Mixed Precision (F9): the Pareto front with a budget; Apply sets the
//    per-layer bit widths as one undo step (the trained model no longer fits: it is
//    discarded after a warning, Undo brings it back); Fine-tune trains the applied
//    project for N epochs from the current weights and shows the measured accuracy
//    next to the prediction.
// The views show "stale" when the project's sweep_fingerprint (the network plus the bit
// widths the sweep did not vary) differs from the record's, or (analyzer) when the model
// it analysed is no longer current. A sweep cancelled or failed before any point keeps
// the saved sweep; one stopped by an error at a point keeps its points (and says so).
// analysis_actions.cpp: menu, jobs, document; analysis_mixed_precision.cpp: the front,
// Apply and Fine-tune.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <QObject>
#include <QPointer>
#include <QString>

#include "core/graph/project.h"
#include "widgets/analysis/analysis_view_types.h"
#include "widgets/analysis/analysis_worker.h"
#include "widgets/training/training_types.h"

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QMessageBox;
class QProgressBar;
class QTimer;
class QWidget;

namespace qnn {

class AnalysisPanel;
class ProjectDocument;
class QuantModelImpl;
class TrainingController;

/// What the main window lends the Analysis menu.
struct AnalysisHooks {
  std::function<void(const QString& text, const QString& tooltip)> status;  ///< the status line
  std::function<void(const QString& title, const QString& message)> error;  ///< MainWindow::showError
  /// Starts a training of `project` from `from`'s state for `epochs`; false when it cannot.
  std::function<bool(const Project& project, std::shared_ptr<QuantModelImpl> from, int epochs)> fineTune;
  /// The current model changed outside a run (the window refreshes results and inspection).
  std::function<void()> modelReplaced;
  /// A job started or ended (the window updates its actions).
  std::function<void()> busyChanged;
  QProgressBar* progressBar = nullptr;  ///< the status bar's (permille of the job)
  QLabel* etaLabel = nullptr;
};

class AnalysisActions : public QObject {
  Q_OBJECT
 public:
  AnalysisActions(ProjectDocument* document, TrainingController* training, QWidget* window, AnalysisHooks hooks);
  ~AnalysisActions() override;

  QMenu* menu() const { return m_menu; }
  /// The dock's content (tabs of the four views); the window puts it in a dock.
  AnalysisPanel* panel() const { return m_panel; }
  void setDock(QDockWidget* dock) { m_dock = dock; }
  AnalysisController* controller() const { return m_controller; }
  QAction* calibrateAction() const { return m_calibrateAction; }
  QAction* analyzeAction() const { return m_analyzeAction; }
  QAction* sweepAction() const { return m_sweepAction; }
  QAction* suggestAction() const { return m_suggestAction; }

  bool isRunning() const;
  bool isCancelling() const;
  /// Cancels the running job (Esc, the status bar's Cancel): a sweep keeps its points.
  void cancel();
  /// Cancels the running job and waits (events still flowing) until its result is in:
  /// a cancelled sweep's partial record is then in the document (closing the window asks
  /// to save it). False when it did not end within `timeoutMs`.
  bool cancelAndWait(int timeoutMs = 60000);
  /// Enables the actions for the window's state (`trainingRunning`).
  void updateActions(bool trainingRunning);
  /// Jobs started on the worker since this object exists (tests: a reopened sweep starts none).
  int jobsStarted() const { return m_jobsStarted; }
  /// The Pareto front shown (null while none).
  ParetoFrontPtr front() const { return m_front; }

 public Q_SLOTS:
  void calibrate();
  void analyze();
  void sweep();
  void suggestMixedPrecision();

 private:
  void onProjectReplaced();
  void onDocumentChanged();
  void onSweepChanged();
  void refreshStale();
  void showRecord(const SweepRecord& record, bool live);
  void computeFront(analysis::CostAxis axis);
  void onFrontReady(const ParetoFrontPtr& front, analysis::CostAxis axis, const QString& error, quint64 generation);
  void onPointSelected(int index);
  void suggestFromBudget();
  void applySelected();
  void fineTuneSelected(int epochs);
  /// Asks first when a trained model would be discarded, then applies configuration `index`.
  void confirmApply(int index, std::function<void()> then);
  bool applyConfig(int index);
  /// The front configuration the project's bit widths equal (-1: none).
  int appliedIndex() const;
  void startFineTune(int index, int epochs);
  void setMeasured(const std::vector<int>& bits, double accuracy);

  void onStarted(AnalysisController::Job job);
  void onProgress(const AnalysisProgressInfo& info);
  void onSweepStarted(const SweepRecord& live);
  void onSweepPoint(const SweepPoint& point);
  void onSweepFinished(const SweepRecord& record);
  void onAnalyzeFinished(const AnalyzerReportPtr& report, const QStringList& calibratedFirst);
  void onCalibrateFinished(const CalibrateOutcome& outcome);
  void onJobEnded();
  void showInformation(const QString& title, const QString& text, const char* name);
  /// "Train or load weights first: …" (no model to analyse or fine-tune).
  static QString noTrainedModelText();
  void raise(int tab);

  ProjectDocument* m_document;
  TrainingController* m_training;
  QWidget* m_window;
  AnalysisHooks m_hooks;
  AnalysisController* m_controller;
  AnalysisPanel* m_panel;
  QDockWidget* m_dock = nullptr;
  QMenu* m_menu = nullptr;
  QAction* m_calibrateAction = nullptr;
  QAction* m_analyzeAction = nullptr;
  QAction* m_sweepAction = nullptr;
  QAction* m_suggestAction = nullptr;
  QTimer* m_redraw = nullptr;  ///< coalesces the live redraws of arriving points

  Project m_jobProject;                      ///< the network the running job started on
  std::optional<SweepRequest> m_lastSweep;
  std::optional<CalibrateRequest> m_lastCalibration;
  SweepRecord m_live;                        ///< the running sweep's points so far
  bool m_liveActive = false;
  ParetoFrontPtr m_front;
  analysis::CostAxis m_axis;
  quint64 m_frontGeneration = 0;
  std::map<std::vector<int>, double> m_measured;  ///< per configuration's bits: measured accuracy
  std::weak_ptr<QuantModelImpl> m_analyzedModel;  ///< the model the shown analyzer report is of
  std::weak_ptr<QuantModelImpl> m_analyzingModel;  ///< the running analyzer's (becomes the above when it ends)
  /// The model trained before Apply changed the bit widths: fine-tuning starts from it.
  std::shared_ptr<QuantModelImpl> m_fineTuneSource;
  std::optional<std::vector<int>> m_fineTuneBits;  ///< a fine-tune of these bits is running
  QPointer<QMessageBox> m_box;
  int m_jobsStarted = 0;
};

}  // namespace qnn
