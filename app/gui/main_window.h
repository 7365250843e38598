// SPDX-License-Identifier: GPL-3.0-or-later
// The main window: the project graph in the centre, docks for the training
// settings, the live curves and the test results (confusion matrix and accuracy),
// File / Edit / View / Training / Analysis / Help menus, a toolbar and a status bar with the run's
// progress, ETA and a Cancel button. Training runs on TrainingController's thread;
// nothing heavy happens on the GUI thread.
#pragma once

#include <QMainWindow>
#include <QPointer>
#include <QString>

#include "app/gui/model_life.h"
#include "app/gui/window_layouts.h"
#include "core/graph/project.h"
#include "widgets/training/training_types.h"

class QAction;
class QLabel;
class QMenu;
class QMessageBox;
class QProgressBar;
class QPushButton;

namespace qnn {

class AnalysisActions;
class DistTrainingAction;
class ConfusionMatrixView;
class DatasetSettingsPanel;
class ExportActions;
class GraphView;
class LayerInspector;
class InspectionLink;
class InspectionPanel;
class LayerPalette;
class ProjectDocument;
class ProjectFileActions;
class TrainingController;
class TrainingPlot;
class TrainingRecovery;
class TrainingSettingsPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Opens a project file. On failure shows the core's message in a window-modal
  /// (non-blocking) message box named "errorMessageBox", keeps the current project
  /// and returns false.
  bool openProject(const QString& path);
  /// Sample limits of the next runs (0 = everything): see TrainingRunOptions.
  void setRunLimits(qint64 trainLimit, qint64 testLimit, qint64 maxBatchesPerEpoch);
  /// Overrides the epochs of the next run (the project's value is the default).
  void setEpochs(int epochs);

  ProjectDocument* document() const { return m_document; }
  GraphView* graphView() const { return m_graphView; }
  LayerPalette* palette() const { return m_palette; }
  LayerInspector* inspector() const { return m_inspector; }
  ProjectFileActions* fileActions() const { return m_files; }
  TrainingController* trainingController() const { return m_controller; }
  TrainingSettingsPanel* settingsPanel() const { return m_settings; }
  DatasetSettingsPanel* datasetPanel() const { return m_dataset; }
  /// The Inspection dock's content (widgets/inspect/): live quantization views.
  InspectionPanel* inspectionPanel() const { return m_inspection; }
  InspectionLink* inspectionLink() const { return m_inspectionLink; }
  /// The Analysis menu and dock (app/gui/analysis_actions.h): calibration, analyzer,
  /// sensitivity sweep, mixed precision.
  AnalysisActions* analysisActions() const { return m_analysis; }
  /// Crash safety of training runs and Training > Resume (app/gui/training_recovery.h).
  TrainingRecovery* trainingRecovery() const { return m_recovery; }
  /// Training > Train on N Processes (local)… (app/gui/dist_training.h).
  DistTrainingAction* distTraining() const { return m_distTraining; }
  /// The last error shown to the user ("" when none).
  QString lastError() const { return m_lastError; }
  /// The docks by role (window_layouts.h).
  const MainDocks& docks() const { return m_docks; }

  /// Restores the geometry and dock state saved when the window was last closed
  /// (QSettings of the application, group "mainWindow") and saves them again on close;
  /// likewise the Model Summary's FINN folding (keys "modelSummary/pe", "modelSummary/simd",
  /// "modelSummary/clockMHz": view settings, not part of the project).
  /// Returns false when nothing usable was saved (another version, unreadable data):
  /// the default layout stays. qnn-studio calls it before showing the window; without
  /// it (tests) nothing is read or written.
  bool restoreSavedLayout();

 public Q_SLOTS:
  /// Starts training the current project with the current settings (F5).
  void startTraining() { m_life->startTraining(); }
  /// Cancels the running training (Esc); the result of the cancelled run is evaluated.
  void cancelTraining();
  void openProjectDialog();
  /// File > Save Checkpoint… (Ctrl+Alt+S): asks for a path and writes the current model
  /// with its optimizer step count. Returns whether it was saved (false: cancelled,
  /// failed, no model, or a run or an analysis goes on).
  bool saveCheckpointDialog() { return m_life->saveCheckpointDialog(); }
  /// Edit > Fold BatchNorm (Ctrl+Shift+B): folds every BatchNorm layer into the conv /
  /// linear layer before it (core/graph/fold_batch_norm.h) in the document (one undo
  /// step) and in the trained model, which stays current; explains when there is no
  /// trained model or a BatchNorm cannot be folded.
  void foldBatchNorm() { m_life->foldBatchNorm(); }
  /// File > Load Weights… (Ctrl+Shift+O): a PyTorch / Brevitas state dict or a checkpoint
  /// whose tensor names match the layer ids becomes the current model (export, save,
  /// inspection); the report goes to the status line. `path` empty: asks for the file.
  void loadWeights(const QString& path = QString()) { m_life->loadWeights(path); }
  /// File > Import Model (Ctrl+I): an ONNX model (QONNX, QCDQ, float) becomes an
  /// untitled project with its weights as the current model (core/io/onnx_import.h);
  /// a graph with unsupported nodes opens for inspection only (weight statistics from
  /// the file's constants) after a dialog naming the nodes. Asks to save first; refused
  /// (status line) while a training runs.
  void importModel(const QString& path = QString()) { m_life->importModel(path); }
  void showAbout();
  /// View > Layout > Design (Ctrl+1), Train (Ctrl+2), Inspect (Ctrl+3), and View > Reset
  /// Layout (WindowLayout::Default): see window_layouts.h.
  void applyLayout(qnn::WindowLayout layout);
  void resetLayout() { applyLayout(WindowLayout::Default); }

 protected:
  void closeEvent(QCloseEvent* event) override;
  void showEvent(QShowEvent* event) override;

 private:
  void createActions();
  void createMenus();
  void createDocks();
  void updateActions();
  void onProjectReplaced();
  void updateWindowTitle();
  void createEditor();
  void updateGraphStatus();
  void showError(const QString& title, const QString& message);

  ProjectDocument* m_document = nullptr;
  TrainingController* m_controller = nullptr;
  GraphView* m_graphView = nullptr;
  TrainingPlot* m_plot = nullptr;
  ConfusionMatrixView* m_confusion = nullptr;
  TrainingSettingsPanel* m_settings = nullptr;
  DatasetSettingsPanel* m_dataset = nullptr;
  QLabel* m_testAccuracyLabel = nullptr;
  QLabel* m_statusLabel = nullptr;
  QLabel* m_etaLabel = nullptr;
  QProgressBar* m_progressBar = nullptr;
  QPushButton* m_cancelButton = nullptr;
  QMenu* m_examplesMenu = nullptr;
  ExportActions* m_export = nullptr;
  LayerPalette* m_palette = nullptr;
  LayerInspector* m_inspector = nullptr;
  ProjectFileActions* m_files = nullptr;
  /// The trained model's life (app/gui/model_life.h): the run's views, the model actions,
  /// set-aside models, the unsaved-model and running-training questions.
  ModelLife* m_life = nullptr;
  TrainingRecovery* m_recovery = nullptr;
  DistTrainingAction* m_distTraining = nullptr;
  InspectionPanel* m_inspection = nullptr;
  InspectionLink* m_inspectionLink = nullptr;
  AnalysisActions* m_analysis = nullptr;
  QAction* m_undoAction = nullptr;
  QAction* m_redoAction = nullptr;

  QAction* m_openAction = nullptr;
  QAction* m_quitAction = nullptr;
  QAction* m_trainAction = nullptr;
  QAction* m_cancelAction = nullptr;
  QAction* m_fitAction = nullptr;
  QAction* m_zoomInAction = nullptr;
  QAction* m_zoomOutAction = nullptr;
  QAction* m_aboutAction = nullptr;

  QPointer<QMessageBox> m_errorBox;
  QString m_lastError;

  MainDocks m_docks;
  bool m_layoutSized = false;   ///< the default layout got its sizes (first show) or a saved one was restored
  bool m_savesLayout = false;   ///< restoreSavedLayout() was called: closing saves the layout
};

}  // namespace qnn
