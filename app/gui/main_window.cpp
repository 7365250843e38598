// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QIcon>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QShowEvent>
#include <QStatusBar>
#include <QStyle>
#include <QToolBar>
#include <QUndoStack>
#include <QVBoxLayout>

#include "app/gui/analysis_actions.h"
#include "app/gui/export_dialog.h"
#include "app/gui/project_files.h"
#include "core/errors.h"
#include "core/graph/layer_rules.h"
#include "core/io/onnx_import.h"
#include "widgets/analysis/analysis_panel.h"
#include "widgets/document/example_projects.h"
#include "widgets/document/project_document.h"
#include "widgets/inspect/inspection_link.h"
#include "widgets/inspect/inspection_panel.h"
#include "widgets/inspector/layer_inspector.h"
#include "widgets/inspector/model_summary_view.h"
#include "widgets/node_editor/layer_palette.h"
#include "widgets/node_editor/graph_scene.h"
#include "widgets/node_editor/graph_view.h"
#include "widgets/plots/confusion_matrix_view.h"
#include "widgets/plots/training_plot.h"
#include "widgets/training/training_controller.h"
#include "widgets/training/dataset_settings_panel.h"
#include "widgets/training/training_settings_panel.h"

// The .qrc is compiled into the static qnn_app library: pull its initializer in.
static void initAppResources() { Q_INIT_RESOURCE(resources); }

namespace qnn {
namespace {

constexpr int kProgressRange = 1000;  // the progress bar counts permille of the run

QIcon themedIcon(const QString& resource, QStyle::StandardPixmap fallback) {
  return QFile::exists(resource) ? QIcon(resource) : QApplication::style()->standardIcon(fallback);
}

QString accuracyText(double accuracy) {
  return QStringLiteral("%1 (%2 %)").arg(accuracy, 0, 'f', 4).arg(accuracy * 100.0, 0, 'f', 2);
}

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), m_document(new ProjectDocument(this)), m_controller(new TrainingController(this)) {
  initAppResources();
  setObjectName(QStringLiteral("mainWindow"));
  setWindowIcon(QIcon(QStringLiteral(":/icons/qnn_studio.svg")));
  m_graphView = new GraphView(m_document, this);
  m_graphView->setObjectName(QStringLiteral("graphView"));
  setCentralWidget(m_graphView);

  createActions();
  m_export = new ExportActions(m_controller, m_document, this);  // File > Export… (export_dialog.h)
  createEditor();
  m_files = new ProjectFileActions(
      m_document, this, [this](const QString& path) { return openProject(path); },
      [this](const QString& title, const QString& message) { showError(title, message); });
  createStatusBar();  // before the docks: the Analysis dock reports in the status bar
  createDocks();
  m_files->setCommitPendingEdits([this] {
    if (m_inspector) m_inspector->commitPendingEdit();
  });
  // New / Open / Open Recent / examples / Import Model and the quit prompt name a trained
  // model that was never saved as a checkpoint.
  m_files->setUnsavedModel(
      [this] {
        if (!m_controller->hasUnsavedModel()) return QString();
        const TrainingSummary& s = m_controller->lastSummary();
        const int epochs = int(s.epochs.size());
        return tr("the trained model (%1, test accuracy %2 %)")
            .arg(epochs == 1 ? tr("1 epoch") : tr("%1 epochs").arg(epochs))
            .arg(s.testAccuracy * 100.0, 0, 'f', 2);
      },
      [this] { return saveCheckpointDialog(); });
  createMenus();

  connect(m_document, &ProjectDocument::projectReplaced, this, &MainWindow::onProjectReplaced);
  connect(m_document, &ProjectDocument::changed, this, &MainWindow::updateGraphStatus);
  connect(m_document, &ProjectDocument::changed, this, [this] {
    // A trained model of another network must not be saved or exported as this one; an
    // undo back to a network that has a kept model (the one before Fold BatchNorm, say)
    // brings that model back.
    if (m_controller->isRunning()) return;
    const bool had = m_controller->hasModel();
    if (m_controller->selectModelFor(m_document->project())) {
      // Another model (or none) is current: its numbers replace the old ones, or nothing shows.
      m_inspectionLink->clear();
      if (m_controller->currentIsLastRun()) m_inspectionLink->restoreRunMisclassified();
      if (m_controller->hasModel()) m_controller->reinspect(m_settings->options());
      showTestResults();
      markStaleCurves();
      if (had && !m_controller->hasModel()) {
        // Kept (TrainingController::kKeptModels): an undo back to its network brings it back.
        m_statusLabel->setText(tr("The network changed: the trained model was set aside; Ctrl+Z brings it back."));
        m_statusLabel->setToolTip(QString());
      } else if (m_controller->hasModel() && m_controller->currentIsLastRun()) {
        m_statusLabel->setText(tr("The trained model of this network is current again."));
        m_statusLabel->setToolTip(QString());
      }
      updateActions();
    }
  });
  connect(m_controller, &TrainingController::currentModelChanged, this, &MainWindow::markStaleCurves);
  connect(m_document, &ProjectDocument::modifiedChanged, this, &QWidget::setWindowModified);
  connect(m_document, &ProjectDocument::filePathChanged, this, &MainWindow::updateWindowTitle);  // Save As
  connect(m_controller, &TrainingController::started, this, &MainWindow::onTrainingStarted);
  connect(m_controller, &TrainingController::progress, this, &MainWindow::onTrainingProgress);
  connect(m_controller, &TrainingController::finished, this, &MainWindow::onTrainingFinished);
  connect(m_controller, &TrainingController::failed, this, &MainWindow::onTrainingFailed);

  // 90 % of the screen (qnn-studio maximises on small screens); the default dock
  // arrangement now, its sizes when the window is first shown at its real size.
  resize(defaultWindowSize(QGuiApplication::primaryScreen()));
  applyWindowLayout(this, m_docks, WindowLayout::Default);
  onProjectReplaced();
}

MainWindow::~MainWindow() {
  // Tear down in a safe order: no signal may reach a view that is being destroyed,
  // and nothing may outlive the document it observes. Views and docks first, the
  // document last (QObject would delete it first: it is the oldest child).
  if (GraphScene* scene = m_graphView ? m_graphView->graphScene() : nullptr) scene->disconnect();
  m_document->disconnect();
  m_controller->disconnect(this);
  delete m_analysis;  // cancels and joins its worker
  m_analysis = nullptr;
  delete m_inspectionLink;
  m_inspectionLink = nullptr;
  for (QDockWidget* dock : findChildren<QDockWidget*>(QString(), Qt::FindDirectChildrenOnly)) delete dock;
  m_inspector = nullptr;
  m_inspection = nullptr;
  m_palette = nullptr;
  m_settings = nullptr;
  m_plot = nullptr;
  m_confusion = nullptr;
  delete m_graphView;
  m_graphView = nullptr;
  delete m_files;
  m_files = nullptr;
  delete m_document;
  m_document = nullptr;
}

void MainWindow::createActions() {
  m_loadWeightsAction = new QAction(tr("Load &Weights…"), this);
  m_loadWeightsAction->setObjectName(QStringLiteral("loadWeightsAction"));
  m_loadWeightsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  m_loadWeightsAction->setToolTip(tr("Load a PyTorch / Brevitas state dict (torch.save(model.state_dict())) or a "
                                     "checkpoint whose tensor names match the layer ids"));
  connect(m_loadWeightsAction, &QAction::triggered, this, [this] { loadWeights(); });
  m_importModelAction = new QAction(tr("&Import Model…"), this);
  m_importModelAction->setObjectName(QStringLiteral("importModelAction"));
  m_importModelAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
  m_importModelAction->setToolTip(tr("Open an ONNX model (QONNX from Brevitas or FINN, QCDQ, or float ONNX) as a "
                                     "project with its weights and quantizer scales"));
  connect(m_importModelAction, &QAction::triggered, this, [this] { importModel(); });
  m_foldBatchNormAction = new QAction(tr("&Fold BatchNorm"), this);
  m_foldBatchNormAction->setObjectName(QStringLiteral("foldBatchNormAction"));
  m_foldBatchNormAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_B));
  m_foldBatchNormAction->setToolTip(
      tr("Fold every BatchNorm into the conv / linear layer before it, using the trained model's running "
         "statistics (one undo step; the model keeps its training)"));
  connect(m_foldBatchNormAction, &QAction::triggered, this, &MainWindow::foldBatchNorm);
  m_openAction = new QAction(themedIcon(QStringLiteral(":/icons/open.svg"), QStyle::SP_DialogOpenButton),
                             tr("&Open Project…"), this);
  m_openAction->setObjectName(QStringLiteral("openAction"));
  m_openAction->setShortcut(QKeySequence::Open);
  m_openAction->setStatusTip(tr("Open a QNN Studio project (*.qnn.json)"));
  connect(m_openAction, &QAction::triggered, this, &MainWindow::openProjectDialog);

  m_saveCheckpointAction = new QAction(themedIcon(QStringLiteral(":/icons/save.svg"), QStyle::SP_DialogSaveButton),
                                       tr("&Save Checkpoint…"), this);
  m_saveCheckpointAction->setObjectName(QStringLiteral("saveCheckpointAction"));
  m_saveCheckpointAction->setShortcut(QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_S));
  m_saveCheckpointAction->setStatusTip(tr("Save the trained model's parameters and quantizer state"));
  connect(m_saveCheckpointAction, &QAction::triggered, this, &MainWindow::saveCheckpointDialog);

  m_quitAction = new QAction(tr("&Quit"), this);
  m_quitAction->setObjectName(QStringLiteral("quitAction"));
  m_quitAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
  m_quitAction->setMenuRole(QAction::QuitRole);
  connect(m_quitAction, &QAction::triggered, this, &QWidget::close);

  m_trainAction = new QAction(themedIcon(QStringLiteral(":/icons/train.svg"), QStyle::SP_MediaPlay), tr("&Train"), this);
  m_trainAction->setObjectName(QStringLiteral("trainAction"));
  m_trainAction->setShortcut(QKeySequence(Qt::Key_F5));
  m_trainAction->setToolTip(tr("Train the project with the current settings (F5)"));
  connect(m_trainAction, &QAction::triggered, this, &MainWindow::startTraining);

  m_cancelAction = new QAction(themedIcon(QStringLiteral(":/icons/cancel.svg"), QStyle::SP_MediaStop), tr("&Cancel"), this);
  m_cancelAction->setObjectName(QStringLiteral("cancelAction"));
  m_cancelAction->setShortcut(QKeySequence(Qt::Key_Escape));
  m_cancelAction->setToolTip(tr("Stop after the current batch and evaluate the model (Esc)"));
  connect(m_cancelAction, &QAction::triggered, this, &MainWindow::cancelTraining);

  m_fitAction = new QAction(themedIcon(QStringLiteral(":/icons/fit.svg"), QStyle::SP_TitleBarMaxButton),
                            tr("&Fit Graph to Window"), this);
  m_fitAction->setObjectName(QStringLiteral("fitAction"));
  m_fitAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
  connect(m_fitAction, &QAction::triggered, m_graphView, &GraphView::fitToView);
  m_zoomInAction = new QAction(tr("Zoom &In"), this);
  m_zoomInAction->setShortcut(QKeySequence::ZoomIn);
  connect(m_zoomInAction, &QAction::triggered, m_graphView, &GraphView::zoomIn);
  m_zoomOutAction = new QAction(tr("Zoom &Out"), this);
  m_zoomOutAction->setShortcut(QKeySequence::ZoomOut);
  connect(m_zoomOutAction, &QAction::triggered, m_graphView, &GraphView::zoomOut);

  m_aboutAction = new QAction(tr("&About QNN Studio"), this);
  m_aboutAction->setObjectName(QStringLiteral("aboutAction"));
  m_aboutAction->setMenuRole(QAction::AboutRole);
  connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);

  for (QAction* a : {m_openAction, m_saveCheckpointAction, m_quitAction, m_trainAction, m_cancelAction,
                     m_fitAction, m_zoomInAction, m_zoomOutAction})
    addAction(a);  // shortcuts work even when the menu bar is hidden
}

void MainWindow::createEditor() {
  // The node editor: palette (left), inspector (left, below), undo/redo of the document.
  setCorner(Qt::TopLeftCorner, Qt::LeftDockWidgetArea);  // full-height side columns
  setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
  m_palette = new LayerPalette(this);
  m_palette->setObjectName(QStringLiteral("layerPalette"));
  m_palette->setTargetView(m_graphView);
  auto* paletteDock = new QDockWidget(tr("Layers"), this);
  paletteDock->setObjectName(QStringLiteral("layerPaletteDock"));
  paletteDock->setWidget(m_palette);
  addDockWidget(Qt::LeftDockWidgetArea, paletteDock);
  m_docks.palette = paletteDock;

  m_inspector = new LayerInspector(m_document, this);
  m_inspector->setObjectName(QStringLiteral("layerInspector"));
  auto* inspectorDock = new QDockWidget(tr("Inspector"), this);
  inspectorDock->setObjectName(QStringLiteral("layerInspectorDock"));
  inspectorDock->setWidget(m_inspector);
  addDockWidget(Qt::LeftDockWidgetArea, inspectorDock);
  m_docks.inspector = inspectorDock;
  connect(m_graphView->graphScene(), &GraphScene::layerSelectionChanged, m_inspector, &LayerInspector::setSelection);
  auto* summary = new ModelSummaryView(m_document, this);
  summary->setObjectName(QStringLiteral("modelSummary"));
  auto* summaryDock = new QDockWidget(tr("Model Summary"), this);
  summaryDock->setObjectName(QStringLiteral("modelSummaryDock"));
  summaryDock->setWidget(summary);
  addDockWidget(Qt::LeftDockWidgetArea, summaryDock);
  m_docks.summary = summaryDock;
  m_palette->setMinimumWidth(200);
  m_inspector->setMinimumWidth(240);

  m_undoAction = m_document->undoStack()->createUndoAction(this, tr("&Undo"));
  m_undoAction->setObjectName(QStringLiteral("undoAction"));
  m_undoAction->setShortcut(QKeySequence::Undo);
  m_redoAction = m_document->undoStack()->createRedoAction(this, tr("&Redo"));
  m_redoAction->setObjectName(QStringLiteral("redoAction"));
  m_redoAction->setShortcuts({QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
  addAction(m_undoAction);
  addAction(m_redoAction);
}

void MainWindow::createDocks() {
  setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
  setCorner(Qt::TopRightCorner, Qt::RightDockWidgetArea);
  setDockOptions(AnimatedDocks | AllowTabbedDocks);

  m_settings = new TrainingSettingsPanel(this);
  m_settings->setObjectName(QStringLiteral("trainingSettings"));
  auto* settingsDock = new QDockWidget(tr("Training Settings"), this);
  settingsDock->setObjectName(QStringLiteral("trainingSettingsDock"));
  settingsDock->setWidget(m_settings);
  // Epochs, batch size and learning rate belong to the project: edits are undoable
  // commands on the document, and undo/redo show up in the panel.
  connect(m_settings, &TrainingSettingsPanel::specEdited, m_document,
          [this](const TrainingSpec& spec, const QString& field) { m_document->changeTraining(spec, field); });
  connect(m_document, &ProjectDocument::trainingChanged, m_settings, [this] {
    m_settings->setSpec(m_document->project().training, m_document->project().dataset);
  });
  addDockWidget(Qt::RightDockWidgetArea, settingsDock);
  m_docks.settings = settingsDock;
  // The dataset settings, the same way: edits are commands, undo/redo show up here.
  m_dataset = new DatasetSettingsPanel(this);
  m_dataset->setObjectName(QStringLiteral("datasetSettings"));
  auto* datasetDock = new QDockWidget(tr("Dataset"), this);
  datasetDock->setObjectName(QStringLiteral("datasetSettingsDock"));
  datasetDock->setWidget(m_dataset);
  connect(m_dataset, &DatasetSettingsPanel::specEdited, m_document,
          [this](const DatasetSpec& spec, const QString& field) { m_document->changeDataset(spec, field); });
  connect(m_document, &ProjectDocument::datasetChanged, m_dataset, [this] {
    m_dataset->setSpec(m_document->project().dataset);
    m_settings->setSpec(m_document->project().training, m_document->project().dataset);
  });
  addDockWidget(Qt::RightDockWidgetArea, datasetDock);
  m_docks.dataset = datasetDock;

  m_plot = new TrainingPlot(this);
  m_plot->setObjectName(QStringLiteral("trainingPlot"));
  auto* plotDock = new QDockWidget(tr("Training Curves"), this);
  plotDock->setObjectName(QStringLiteral("trainingPlotDock"));
  plotDock->setWidget(m_plot);
  addDockWidget(Qt::RightDockWidgetArea, plotDock);
  m_docks.curves = plotDock;

  auto* results = new QWidget(this);
  auto* layout = new QVBoxLayout(results);
  layout->setContentsMargins(6, 4, 6, 4);
  m_testAccuracyLabel = new QLabel(results);
  m_testAccuracyLabel->setObjectName(QStringLiteral("testAccuracyLabel"));
  QFont big = m_testAccuracyLabel->font();
  big.setPointSizeF(big.pointSizeF() * 1.25);
  big.setBold(true);
  m_testAccuracyLabel->setFont(big);
  m_testAccuracyLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_testAccuracyLabel->setWordWrap(true);  // a long result wraps: it never widens the dock (and the window)
  m_confusion = new ConfusionMatrixView(results);
  m_confusion->setObjectName(QStringLiteral("confusionMatrixView"));
  layout->addWidget(m_testAccuracyLabel);
  layout->addWidget(m_confusion, 1);
  auto* resultsDock = new QDockWidget(tr("Test Results"), this);
  resultsDock->setObjectName(QStringLiteral("testResultsDock"));
  resultsDock->setWidget(results);
  addDockWidget(Qt::RightDockWidgetArea, resultsDock);
  m_docks.results = resultsDock;

  // Inspection (widgets/inspect/): weight histograms, scales, activation ranges,
  // per-layer SQNR and misclassified images, refreshed live while training.
  m_inspection = new InspectionPanel(this);
  m_inspection->setObjectName(QStringLiteral("inspectionPanel"));
  auto* inspectionDock = new QDockWidget(tr("Inspection"), this);
  inspectionDock->setObjectName(QStringLiteral("inspectionDock"));
  inspectionDock->setWidget(m_inspection);
  addDockWidget(Qt::RightDockWidgetArea, inspectionDock);  // a tab beside the curves; raised by the first report
  m_docks.inspection = inspectionDock;
  inspectionDock->toggleViewAction()->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_I));
  m_inspectionLink = new InspectionLink(m_controller, m_graphView, m_inspection, this);
  connect(m_inspectionLink, &InspectionLink::biasSummariesChanged, m_inspector, &LayerInspector::setBiasSummaries);
  InspectionLink::installConfusionExport(m_confusion);

  // Analysis (app/gui/analysis_actions.h): sweep heat map, curves, Pareto front and
  // analyzer, tabbed with the inspection plots (window_layouts.h arranges the docks).
  AnalysisHooks hooks;
  hooks.status = [this](const QString& text, const QString& tooltip) {
    m_statusLabel->setText(text);
    m_statusLabel->setToolTip(tooltip);
  };
  hooks.error = [this](const QString& title, const QString& message) { showError(title, message); };
  hooks.fineTune = [this](const Project& project, std::shared_ptr<QuantModelImpl> from, int epochs) {
    if (m_controller->isRunning() || m_analysis->isRunning()) return false;
    if (!m_document->validation().ok()) {
      showError(tr("Cannot fine-tune"), QString::fromStdString(m_document->validation().error_text()));
      return false;
    }
    TrainingRunOptions options = m_settings->options();
    options.spec.epochs = epochs;
    m_trainedNetwork = project;
    if (!m_controller->start(project, options, std::move(from))) return false;
    m_plot->clear(epochs);
    return true;
  };
  hooks.modelReplaced = [this] {
    m_inspectionLink->clear();
    showTestResults();
    if (m_controller->hasModel()) m_controller->reinspect(m_settings->options());
    updateActions();
  };
  hooks.busyChanged = [this] { updateActions(); };
  hooks.progressBar = m_progressBar;
  hooks.etaLabel = m_etaLabel;
  m_analysis = new AnalysisActions(m_document, m_controller, this, std::move(hooks));
  auto* analysisDock = new QDockWidget(tr("Analysis"), this);
  analysisDock->setObjectName(QStringLiteral("analysisDock"));
  analysisDock->setWidget(m_analysis->panel());
  addDockWidget(Qt::RightDockWidgetArea, analysisDock);
  m_docks.analysis = analysisDock;
  analysisDock->toggleViewAction()->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));
  m_analysis->setDock(analysisDock);
}

void MainWindow::createMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addMenu(m_files->newMenu());
  file->addAction(m_openAction);
  file->addMenu(m_files->recentMenu());
  m_examplesMenu = file->addMenu(tr("Open &Example"));
  m_examplesMenu->setObjectName(QStringLiteral("examplesMenu"));
  for (const QString& path : exampleProjects()) {
    QAction* a = m_examplesMenu->addAction(QFileInfo(path).fileName().remove(QStringLiteral(".qnn.json")));
    connect(a, &QAction::triggered, this, [this, path] {
      if (!m_controller->isRunning() && m_files->maybeSave()) openProject(path);
    });
  }
  m_examplesMenu->setEnabled(!m_examplesMenu->isEmpty());
  file->addSeparator();
  file->addAction(m_files->saveAction());
  file->addAction(m_files->saveAsAction());
  file->addAction(m_importModelAction);
  file->addAction(m_loadWeightsAction);
  file->addAction(m_saveCheckpointAction);
  file->addAction(m_export->exportAction());
  file->addSeparator();
  file->addAction(m_quitAction);

  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  edit->setObjectName(QStringLiteral("editMenu"));
  edit->addAction(m_undoAction);
  edit->addAction(m_redoAction);
  edit->addSeparator();
  for (QAction* a : {m_graphView->cutAction(), m_graphView->copyAction(), m_graphView->pasteAction(),
                     m_graphView->duplicateAction(), m_graphView->deleteAction()})
    edit->addAction(a);
  edit->addSeparator();
  edit->addAction(m_graphView->selectAllAction());
  edit->addAction(m_graphView->autoLayoutAction());
  edit->addAction(m_graphView->changeTypeAction());
  edit->addSeparator();
  edit->addAction(m_foldBatchNormAction);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->addAction(m_fitAction);
  view->addAction(m_zoomInAction);
  view->addAction(m_zoomOutAction);
  view->addSeparator();
  for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());
  // Layouts one key away (Ctrl+1/2/3: free in the menus and the widgets); Reset Layout
  // brings the default arrangement back.
  view->addSeparator();
  QMenu* layouts = view->addMenu(tr("&Layout"));
  layouts->setObjectName(QStringLiteral("layoutMenu"));
  struct LayoutEntry {
    QString text, name, tip;
    Qt::Key key;
    WindowLayout layout;
  };
  const LayoutEntry entries[] = {
      {tr("&Design"), QStringLiteral("designLayoutAction"), tr("Layers, Inspector and Model Summary around the graph"),
       Qt::Key_1, WindowLayout::Design},
      {tr("&Train"), QStringLiteral("trainLayoutAction"),
       tr("Training Settings, Dataset, Training Curves and Test Results beside the graph"), Qt::Key_2,
       WindowLayout::Train},
      {tr("&Inspect"), QStringLiteral("inspectLayoutAction"), tr("Inspection and Analysis large, the Inspector beside"),
       Qt::Key_3, WindowLayout::Inspect},
  };
  for (const LayoutEntry& e : entries) {
    QAction* a = layouts->addAction(e.text);
    a->setObjectName(e.name);
    a->setShortcut(QKeySequence(Qt::CTRL | e.key));
    a->setStatusTip(e.tip);
    const WindowLayout layout = e.layout;
    connect(a, &QAction::triggered, this, [this, layout] { applyLayout(layout); });
    addAction(a);  // shortcuts work even when the menu bar is hidden
  }
  QAction* reset = view->addAction(tr("&Reset Layout"));
  reset->setObjectName(QStringLiteral("resetLayoutAction"));
  reset->setStatusTip(tr("Every dock back in its default place and size"));
  connect(reset, &QAction::triggered, this, &MainWindow::resetLayout);

  QMenu* training = menuBar()->addMenu(tr("&Training"));
  training->addAction(m_trainAction);
  training->addAction(m_cancelAction);
  training->addSeparator();
  if (auto* dock = findChild<QDockWidget*>(QStringLiteral("trainingSettingsDock"))) {
    QAction* settings = dock->toggleViewAction();
    settings->setText(tr("&Settings"));
    training->addAction(settings);
  }
  if (auto* dock = findChild<QDockWidget*>(QStringLiteral("datasetSettingsDock"))) {
    QAction* dataset = dock->toggleViewAction();
    dataset->setText(tr("&Dataset"));
    training->addAction(dataset);
  }

  menuBar()->addMenu(m_analysis->menu());

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(m_aboutAction);

  QToolBar* bar = addToolBar(tr("Main"));
  bar->setObjectName(QStringLiteral("mainToolBar"));
  bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  bar->setMovable(false);
  bar->addAction(m_openAction);
  bar->addAction(m_saveCheckpointAction);
  bar->addSeparator();
  bar->addAction(m_trainAction);
  bar->addAction(m_cancelAction);
  bar->addSeparator();
  bar->addAction(m_fitAction);
}

void MainWindow::createStatusBar() {
  m_statusLabel = new QLabel(this);
  m_statusLabel->setObjectName(QStringLiteral("statusLabel"));
  // A long message is cut at the window's edge (its tooltip holds it): it never widens the window.
  m_statusLabel->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  statusBar()->addWidget(m_statusLabel, 1);

  m_progressBar = new QProgressBar(this);
  m_progressBar->setObjectName(QStringLiteral("progressBar"));
  m_progressBar->setRange(0, kProgressRange);
  m_progressBar->setValue(0);
  m_progressBar->setFixedWidth(260);
  m_progressBar->setTextVisible(true);
  m_progressBar->setFormat(tr("idle"));
  statusBar()->addPermanentWidget(m_progressBar);

  m_etaLabel = new QLabel(this);
  m_etaLabel->setObjectName(QStringLiteral("etaLabel"));
  m_etaLabel->setMinimumWidth(150);
  statusBar()->addPermanentWidget(m_etaLabel);

  m_cancelButton = new QPushButton(m_cancelAction->icon(), tr("Cancel"), this);
  m_cancelButton->setObjectName(QStringLiteral("cancelButton"));
  m_cancelButton->setToolTip(m_cancelAction->toolTip());
  connect(m_cancelButton, &QPushButton::clicked, m_cancelAction, &QAction::trigger);
  statusBar()->addPermanentWidget(m_cancelButton);
}

void MainWindow::updateActions() {
  const bool training = m_controller->isRunning();
  const bool analysing = m_analysis->isRunning();  // calibrate / analyze / sweep on its worker
  const bool running = training || analysing;
  const bool hasProject = !m_document->isEmpty();
  m_trainAction->setEnabled(!running && hasProject);
  m_cancelAction->setEnabled((training && !m_controller->isCancelling()) ||
                             (analysing && !m_analysis->isCancelling()));
  m_cancelButton->setEnabled(m_cancelAction->isEnabled());
  m_openAction->setEnabled(!running);
  m_files->setNewEnabled(!running);
  m_examplesMenu->setEnabled(!running && !m_examplesMenu->isEmpty());
  m_saveCheckpointAction->setEnabled(!running && m_controller->hasModel());
  // The analysis job works on its own copy of the model; still, nothing else reads or
  // flips the model's modes while it runs (a training explains itself in the dialog).
  m_export->exportAction()->setEnabled(!analysing);
  m_foldBatchNormAction->setEnabled(!running && !batch_norm_layers(m_document->project()).empty());
  m_loadWeightsAction->setEnabled(!running && hasProject);
  m_importModelAction->setEnabled(!running);
  m_settings->setEnabled(!training);
  m_analysis->updateActions(training);
}

bool MainWindow::openProject(const QString& path) {
  if (m_controller->isRunning()) {
    showError(tr("Cannot open project"), tr("Cancel the running training (Esc) before opening another project."));
    return false;
  }
  try {
    m_document->load(path);
    return true;
  } catch (const Error& e) {
    showError(tr("Cannot open project"), QString::fromStdString(e.what()));
  } catch (const std::exception& e) {
    showError(tr("Cannot open project"), tr("%1: %2").arg(path, QString::fromStdString(e.what())));
  }
  return false;
}

void MainWindow::setRunLimits(qint64 trainLimit, qint64 testLimit, qint64 maxBatchesPerEpoch) {
  m_settings->setLimits(trainLimit, testLimit, maxBatchesPerEpoch);
}

void MainWindow::setEpochs(int epochs) { m_settings->setEpochs(epochs); }

void MainWindow::updateWindowTitle() {
  // "lenet_lowprec.qnn.json[*] — LeNet-5, low precision — QNN Studio": the file first (what a
  // task bar shows), then the project's name when it is not just the file's; "Untitled" before
  // the first save.
  const QString path = m_document->filePath();
  const QString file = path.isEmpty() ? tr("Untitled") : QFileInfo(path).fileName();
  const QString name = QString::fromStdString(m_document->project().name);
  QStringList parts{file + QStringLiteral("[*]")};
  if (!name.isEmpty() && name != QFileInfo(path).completeBaseName() &&
      name + QStringLiteral(".qnn.json") != file)
    parts << name;
  parts << tr("QNN Studio");
  setWindowTitle(m_document->isEmpty() && path.isEmpty() ? tr("QNN Studio[*]") : parts.join(QStringLiteral(" — ")));
  setWindowModified(m_document->isModified());
}

void MainWindow::onProjectReplaced() {
  m_controller->clearModel();  // a model of the previous project must not be saved under this one
  updateWindowTitle();
  m_settings->setSpec(m_document->project().training, m_document->project().dataset);
  m_dataset->setSpec(m_document->project().dataset);
  m_plot->clear(int(m_document->project().training.epochs));
  m_confusion->clear();
  m_testAccuracyLabel->setText(tr("Test accuracy: —"));
  m_progressBar->setValue(0);
  m_progressBar->setFormat(tr("idle"));
  m_etaLabel->clear();
  updateGraphStatus();
}

void MainWindow::updateGraphStatus() {
  if (m_controller->isRunning() || m_analysis->isRunning()) return;  // the run's progress owns the status line
  const ValidationResult& v = m_document->validation();
  const int errors = int(std::count_if(v.diagnostics.begin(), v.diagnostics.end(),
                                       [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::Error; }));
  m_statusLabel->setText(m_document->isEmpty()
                             ? tr("Open a project to start (Ctrl+O).")
                             : errors > 0 ? tr("%1: %n error(s) in the graph; hover the red badges.", "", errors)
                                                .arg(m_document->displayName())
                                          : tr("%1: %2 layers. Press F5 to train.")
                                                .arg(m_document->displayName())
                                                .arg(m_document->project().layers.size()));
  updateActions();
}

void MainWindow::startTraining() {
  if (m_controller->isRunning() || m_analysis->isRunning() || m_document->isEmpty()) return;
  const ValidationResult& v = m_document->validation();
  if (!v.ok()) {
    showError(tr("Cannot train"), QString::fromStdString(v.error_text()));
    return;
  }
  m_trainedNetwork = m_document->project();
  m_controller->start(m_document->project(), m_settings->options());
}

void MainWindow::foldBatchNorm() {
  if (m_controller->isRunning() || m_analysis->isRunning() || batch_norm_layers(m_document->project()).empty()) return;
  try {
    // Folds the trained model and makes it current before the edit, so the edit finds it.
    QString comparison;
    const Project after = m_controller->foldBatchNorm(m_document->project(), &comparison);
    const int count = int(m_document->project().layers.size() - after.layers.size());
    if (!m_document->replaceLayers(after.layers, tr("Fold %n BatchNorm layer(s)", "", count))) {
      m_controller->selectModelFor(m_document->project());  // nothing changed: the model of this network
      return;
    }
    m_inspectionLink->clear();  // the views show the folded model's numbers, once computed
    showTestResults();
    m_controller->reinspect(m_settings->options());
    m_statusLabel->setText(tr("Folded %n BatchNorm layer(s); %1. Undo (Ctrl+Z) brings them back with the unfolded "
                              "model.", "", count)
                               .arg(comparison));
    m_statusLabel->setToolTip(comparison);
    updateActions();
  } catch (const Error& e) {
    showError(tr("Cannot fold BatchNorm"), QString::fromStdString(e.what()));
  } catch (const std::exception& e) {
    showError(tr("Cannot fold BatchNorm"), tr("Folding failed: %1").arg(QString::fromStdString(e.what())));
  }
}

void MainWindow::importModel(const QString& chosen) {
  if (m_controller->isRunning() || !m_files->maybeSave()) return;
  QString path = chosen;
  if (path.isEmpty()) {
    const QString dir = m_document->filePath().isEmpty() ? QDir::homePath() : QFileInfo(m_document->filePath()).absolutePath();
    path = QFileDialog::getOpenFileName(this, tr("Import Model"), dir, tr("ONNX models (*.onnx);;All files (*)"));
    if (path.isEmpty()) return;
  }
  try {
    // Everything that can fail happens before the open project is replaced.
    const ImportedModel imported = import_onnx(path.toStdString());
    std::shared_ptr<QuantModelImpl> model;
    if (imported.report.runnable()) model = build_imported_model(imported).ptr();
    m_document->setProject(imported.project);  // untitled: Save asks where
    const QString name = QFileInfo(path).fileName();
    const QString report = QString::fromStdString(imported.report.text()).trimmed();
    if (model) {
      m_controller->adoptModel(model);
      m_inspectionLink->clear();
      m_controller->reinspect(m_settings->options());
      m_statusLabel->setText(tr("Imported %1 (%2): %n layer(s)%3", "", int(imported.project.layers.size()))
                                 .arg(name, QString::fromStdString(imported.report.format),
                                      imported.report.notes.empty()
                                          ? QString()
                                          : tr("; %n note(s), hover for details", "", int(imported.report.notes.size()))));
      m_statusLabel->setToolTip(report);
    } else {
      auto weights = std::make_shared<inspect::Report>();
      weights->weights_only = true;
      weights->weights = imported.weights;
      m_inspectionLink->showReport(weights);
      m_statusLabel->setText(tr("Imported %1 for inspection only: %n node(s) not supported", "",
                                int(imported.report.unsupported.size()))
                                 .arg(name));
      m_statusLabel->setToolTip(report);
      showError(tr("Model opened for inspection only"),
                tr("%1 has nodes QNN Studio cannot run, so it cannot be evaluated or trained. Its weight quantizers "
                   "(grids, scales, saturation, SQNR) are in the Inspection dock.\n\n%2")
                    .arg(name, report));
    }
    updateActions();
  } catch (const Error& e) {
    showError(tr("Cannot import model"), QString::fromStdString(e.what()));
  } catch (const std::exception& e) {
    showError(tr("Cannot import model"), tr("%1: %2").arg(path, QString::fromStdString(e.what())));
  }
}

void MainWindow::loadWeights(const QString& chosen) {
  if (m_controller->isRunning() || m_document->isEmpty()) return;
  const ValidationResult& v = m_document->validation();
  if (!v.ok()) {
    showError(tr("Cannot load weights"),
              tr("The graph has errors; fix them first:\n%1").arg(QString::fromStdString(v.error_text())));
    return;
  }
  QString path = chosen;
  if (path.isEmpty()) {
    const QString dir = m_document->filePath().isEmpty() ? QDir::homePath() : QFileInfo(m_document->filePath()).absolutePath();
    path = QFileDialog::getOpenFileName(this, tr("Load Weights"), dir,
                                        tr("PyTorch state dicts and checkpoints (*.pt *.pth *.ckpt);;All files (*)"));
    if (path.isEmpty()) return;
  }
  try {
    const QString report = m_controller->loadWeights(m_document->project(), path);
    m_inspectionLink->clear();
    showTestResults();
    m_controller->reinspect(m_settings->options());
    m_statusLabel->setText(tr("Weights from %1: %2").arg(QFileInfo(path).fileName(), report.section(QLatin1Char('\n'), 0, 0)));
    m_statusLabel->setToolTip(report);
    updateActions();
  } catch (const Error& e) {
    showError(tr("Cannot load weights"), QString::fromStdString(e.what()));
  } catch (const std::exception& e) {
    showError(tr("Cannot load weights"), tr("%1: %2").arg(path, QString::fromStdString(e.what())));
  }
}

void MainWindow::cancelTraining() {
  if (m_analysis->isRunning()) {  // Esc and Cancel stop an analysis job too (a sweep keeps its points)
    m_analysis->cancel();
    return;
  }
  if (!m_controller->isRunning()) return;
  m_controller->cancel();
  m_statusLabel->setText(tr("Cancelling: finishing the current batch, then evaluating on the test set…"));
  updateActions();
}

void MainWindow::onTrainingStarted() {
  const TrainingRunOptions o = m_settings->options();
  m_plot->clear(int(o.spec.epochs));
  m_confusion->clear();
  m_testAccuracyLabel->setText(tr("Test accuracy: training…"));
  m_progressBar->setValue(0);
  m_progressBar->setFormat(tr("starting…"));
  m_etaLabel->clear();
  m_statusLabel->setText(tr("Starting…"));
  updateActions();
}

void MainWindow::onTrainingProgress(const TrainingProgressInfo& info) {
  using Phase = TrainingProgressInfo::Phase;
  m_plot->addProgress(info);
  if (info.phase == Phase::Loading) {
    m_statusLabel->setText(info.message);
    m_progressBar->setFormat(tr("loading…"));
    return;
  }
  m_progressBar->setValue(int(info.fractionDone() * kProgressRange + 0.5));
  m_progressBar->setFormat(tr("epoch %1/%2 · %p%").arg(info.epoch).arg(info.epochs));
  const double left = info.secondsLeft();
  m_etaLabel->setText(tr("%1 elapsed · ETA %2").arg(formatDuration(info.seconds), left >= 0 ? formatDuration(left) : tr("…")));
  if (m_controller->isCancelling()) return;  // keep the "Cancelling" message
  switch (info.phase) {
    case Phase::Training:
      m_statusLabel->setText(tr("Epoch %1/%2 · batch %3/%4 · loss %5 · accuracy %6")
                                 .arg(info.epoch).arg(info.epochs).arg(info.batch).arg(info.batchesPerEpoch)
                                 .arg(info.trainLoss, 0, 'f', 4).arg(info.trainAccuracy, 0, 'f', 4));
      break;
    case Phase::Evaluating:
      m_statusLabel->setText(tr("Epoch %1/%2 · evaluating on the test set…").arg(info.epoch).arg(info.epochs));
      break;
    case Phase::EpochDone:
      m_testAccuracyLabel->setText(tr("Test accuracy: %1 after epoch %2/%3")
                                       .arg(accuracyText(info.testAccuracy)).arg(info.epoch).arg(info.epochs));
      break;
    default: break;
  }
}

void MainWindow::showSummary(const TrainingSummary& summary) {
  m_confusion->setMatrix(summary.confusion, summary.classNames);
  m_testAccuracyLabel->setText(tr("Test accuracy: %1%2")
                                   .arg(accuracyText(summary.testAccuracy),
                                        summary.cancelled ? tr(" · cancelled") : QString()));
}

void MainWindow::onTrainingFinished(const TrainingSummary& summary) {
  showSummary(summary);
  m_testAccuracyLabel->setProperty("accuracy", summary.testAccuracy);
  m_testAccuracyLabel->setToolTip(tr("Final evaluation on %1 test samples, loss %2")
                                      .arg(summary.testSamples).arg(summary.testLoss, 0, 'f', 4));
  if (!summary.cancelled) m_progressBar->setValue(kProgressRange);
  m_progressBar->setFormat(summary.cancelled ? tr("cancelled · %p%") : tr("done · %p%"));
  m_etaLabel->setText(tr("took %1").arg(formatDuration(summary.seconds)));
  m_statusLabel->setText(
      tr("%1 after %n epoch(s): test accuracy %2 on %3 samples. Save the checkpoint with Ctrl+Alt+S.", "",
         int(summary.epochs.size()))
          .arg(summary.cancelled ? tr("Cancelled") : tr("Finished"), accuracyText(summary.testAccuracy))
          .arg(summary.testSamples));
  if (!summary.notes.isEmpty()) {
    m_statusLabel->setText(m_statusLabel->text() + QLatin1Char(' ') + tr("Note: %1.").arg(summary.notes.join(QStringLiteral("; "))));
    m_statusLabel->setToolTip(summary.notes.join(QLatin1Char('\n')));
  }
  // The network was edited while the run went on: its model is not this network's.
  if (m_controller->hasModel() && !network_difference(m_trainedNetwork, m_document->project()).empty()) {
    m_controller->clearModel();
    m_statusLabel->setText(m_statusLabel->text() +
                           tr(" The network was edited during the run: the trained model was discarded."));
  }
  updateActions();
}

void MainWindow::showTestResults() {
  if (m_controller->currentIsLastRun()) {  // the run's own evaluation belongs to this model
    showSummary(m_controller->lastSummary());
    return;
  }
  m_confusion->clear();
  if (m_controller->hasModel())
    m_testAccuracyLabel->setText(tr("Test accuracy: — (this model is not evaluated yet)"));
  else if (m_controller->runModelSetAside())
    m_testAccuracyLabel->setText(tr("Test accuracy: — (the trained model was set aside by an edit; Ctrl+Z brings it "
                                    "back)"));
  else
    m_testAccuracyLabel->setText(tr("Test accuracy: —"));
}

void MainWindow::markStaleCurves() {
  if (m_controller->isRunning() || (m_plot->trainPointCount() == 0 && m_plot->testPointCount() == 0)) {
    m_plot->setStale(false);
    return;
  }
  if (m_controller->currentIsLastRun())
    m_plot->setStale(false);
  else if (!m_controller->hasModel())
    m_plot->setStale(true, m_controller->runModelSetAside()
                               ? tr("stale: the model of this run was discarded (network edited); Ctrl+Z brings it back")
                               : tr("stale: the model of this run was discarded (network edited)"));
  else
    m_plot->setStale(true, tr("stale: the current model is not this run's (loaded weights, folded BatchNorm or "
                              "another network's model)"));
}

void MainWindow::onTrainingFailed(const QString& message) {
  // Edits (or undo / redo) made during the failed run: the model of the network now shown.
  if (m_controller->selectModelFor(m_document->project())) m_inspectionLink->clear();
  m_progressBar->setFormat(tr("failed"));
  m_etaLabel->clear();
  m_testAccuracyLabel->setText(tr("Test accuracy: —"));
  m_statusLabel->setText(tr("Training failed."));
  updateActions();
  showError(tr("Training failed"), message);
}

void MainWindow::openProjectDialog() {
  if (m_controller->isRunning() || !m_files->maybeSave()) return;
  QString dir = m_document->filePath().isEmpty() ? exampleProjectDir() : QFileInfo(m_document->filePath()).absolutePath();
  const QString path = QFileDialog::getOpenFileName(this, tr("Open Project"), dir,
                                                    tr("QNN Studio projects (*.qnn.json *.json);;All files (*)"));
  if (!path.isEmpty()) openProject(path);
}

bool MainWindow::saveCheckpointDialog() {
  if (m_controller->isRunning() || m_analysis->isRunning() || !m_controller->hasModel()) return false;
  const QFileInfo projectFile(m_document->filePath());
  const QString base = projectFile.fileName().isEmpty() ? QStringLiteral("model")
                                                        : projectFile.fileName().remove(QStringLiteral(".qnn.json"));
  const QString suggested = QDir(projectFile.absolutePath()).filePath(base + QStringLiteral(".pt"));
  const QString path = QFileDialog::getSaveFileName(this, tr("Save Checkpoint"), suggested,
                                                    tr("LibTorch checkpoints (*.pt);;All files (*)"));
  if (path.isEmpty()) return false;
  try {
    m_controller->saveCheckpoint(path);
    m_statusLabel->setText(tr("Checkpoint saved to %1").arg(QDir::toNativeSeparators(path)));
    return true;
  } catch (const std::exception& e) {
    showError(tr("Cannot save the checkpoint"), QString::fromStdString(e.what()));
    return false;
  }
}

void MainWindow::applyLayout(WindowLayout layout) {
  applyWindowLayout(this, m_docks, layout);
  m_layoutSized = true;
}

bool MainWindow::restoreSavedLayout() {
  m_savesLayout = true;
  QSettings settings;
  if (!restoreWindowLayout(this, settings)) return false;
  m_layoutSized = true;  // the saved sizes, not the default ones
  return true;
}

void MainWindow::showEvent(QShowEvent* event) {
  QMainWindow::showEvent(event);
  // The default arrangement's widths and heights follow the window's size, known now.
  if (!m_layoutSized && !event->spontaneous()) applyLayout(WindowLayout::Default);
}

void MainWindow::showAbout() {
  QMessageBox::about(this, tr("About QNN Studio"),
                     tr("<h3>QNN Studio %1</h3><p>Design, train, inspect and export quantized neural "
                        "networks with Brevitas-compatible quantization-aware training.</p>"
                        "<p>Qt %2 · LibTorch · QCustomPlot</p><p>License: GPL-3.0-or-later</p>")
                         .arg(QStringLiteral(QNN_VERSION), QString::fromLatin1(qVersion())));
}

void MainWindow::showError(const QString& title, const QString& message) {
  m_lastError = message;
  if (m_errorBox) m_errorBox->close();
  // Window-modal and non-blocking (open(), not exec()): training signals keep flowing
  // and tests can find and close the box.
  m_errorBox = new QMessageBox(QMessageBox::Critical, title, message, QMessageBox::Ok, this);
  m_errorBox->setObjectName(QStringLiteral("errorMessageBox"));
  m_errorBox->setAttribute(Qt::WA_DeleteOnClose);
  m_errorBox->open();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  m_inspector->commitPendingEdit();  // an id typed but not yet committed
  if (m_analysis->isRunning()) {
    // Stop it first: a cancelled sweep's partial record lands in the document, so the
    // save prompt below offers to keep it.
    m_statusLabel->setText(tr("Stopping the analysis…"));
    m_analysis->cancelAndWait();
  }
  if (!m_files->maybeSave()) {
    event->ignore();
    return;
  }
  m_files->discardRecovery();  // closed normally: nothing to recover
  if (m_analysis->isRunning()) m_analysis->cancel();  // its destructor joins the worker
  // The controller's destructor cancels and joins the worker; say so while it does.
  if (m_controller->isRunning()) {
    m_controller->cancelForClose();  // stops like Esc, without the final inspection
    m_statusLabel->setText(tr("Stopping the training…"));
  }
  if (m_savesLayout) {  // the next start opens as the window was left
    QSettings settings;
    saveWindowLayout(this, settings);
  }
  event->accept();
}

}  // namespace qnn
