// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QIcon>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QShowEvent>
#include <QStatusBar>
#include <QStyle>
#include <QToolBar>
#include <QUndoStack>

#include "app/gui/analysis_actions.h"
#include "app/gui/deployment_target_menu.h"
#include "app/gui/dist_training.h"
#include "app/gui/export_dialog.h"
#include "app/gui/model_life.h"
#include "app/gui/project_files.h"
#include "app/gui/training_recovery.h"
#include "core/errors.h"
#include "core/graph/layer_rules.h"
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

QIcon themedIcon(const QString& resource, QStyle::StandardPixmap fallback) {
  return QFile::exists(resource) ? QIcon(resource) : QApplication::style()->standardIcon(fallback);
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
  const auto error = [this](const QString& title, const QString& message) { showError(title, message); };
  m_files = new ProjectFileActions(m_document, this, [this](const QString& path) { return openProject(path); }, error);
  m_life = new ModelLife(m_document, m_controller, m_files, this, error, [this] { updateActions(); },
                         [this] { return m_analysis && m_analysis->isRunning(); });
  // Crash safety: the run's autosave, the recovered run, Training > Resume (training_recovery.h).
  m_recovery = new TrainingRecovery(m_document, m_controller, m_files, m_life, this, error, [this] { updateActions(); });
  m_distTraining = new DistTrainingAction(m_life, this);  // Training > Train on N Processes (local)…
  // The status bar (model_life.h) before the docks: the Analysis dock reports in it.
  const ModelLife::Views bar = m_life->createStatusBar(statusBar(), m_cancelAction);
  m_statusLabel = bar.status;
  m_progressBar = bar.progress;
  m_etaLabel = bar.eta;
  m_cancelButton = statusBar()->findChild<QPushButton*>(QStringLiteral("cancelButton"));
  createDocks();
  m_files->setCommitPendingEdits([this] { if (m_inspector) m_inspector->commitPendingEdit(); });
  createMenus();

  connect(m_document, &ProjectDocument::projectReplaced, this, &MainWindow::onProjectReplaced);
  connect(m_document, &ProjectDocument::changed, this, &MainWindow::updateGraphStatus);
  // The model's life (model_life.h): set aside / brought back by edits, the run's views.
  m_life->setViews({m_plot, m_confusion, m_testAccuracyLabel, m_statusLabel, m_progressBar, m_etaLabel, m_settings,
                    m_inspectionLink});
  connect(m_document, &ProjectDocument::modifiedChanged, this, &QWidget::setWindowModified);
  connect(m_document, &ProjectDocument::filePathChanged, this, &MainWindow::updateWindowTitle);  // Save As

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
  m_controller->disconnect(m_life);
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
  m_openAction = new QAction(themedIcon(QStringLiteral(":/icons/open.svg"), QStyle::SP_DialogOpenButton),
                             tr("&Open Project…"), this);
  m_openAction->setObjectName(QStringLiteral("openAction"));
  m_openAction->setShortcut(QKeySequence::Open);
  m_openAction->setStatusTip(tr("Open a QNN Studio project (*.qnn.json)"));
  connect(m_openAction, &QAction::triggered, this, &MainWindow::openProjectDialog);

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

  for (QAction* a : {m_openAction, m_quitAction, m_trainAction, m_cancelAction,
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
  settingsDock->setWidget(scrollableDockContent(m_settings));
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
  datasetDock->setWidget(scrollableDockContent(m_dataset));
  connect(m_dataset, &DatasetSettingsPanel::specEdited, m_document,
          [this](const DatasetSpec& spec, const QString& field) { m_document->changeDataset(spec, field); });
  connect(m_document, &ProjectDocument::datasetChanged, m_dataset, [this] {
    m_dataset->setSpec(m_document->project().dataset);
    m_settings->setSpec(m_document->project().training, m_document->project().dataset);
  });
  addDockWidget(Qt::RightDockWidgetArea, datasetDock);
  m_docks.dataset = datasetDock;
  // A dataset that does not fit the Input shows at once; Train says why it is unavailable.
  m_dataset->setDocument(m_document, m_settings);
  connect(m_dataset, &DatasetSettingsPanel::inputMismatchChanged, this, [this] {
    updateGraphStatus();  // the status line says why Train is off (and updates the actions)
    updateActions();
    fitSettingsStrip(this, m_docks);  // the note shows in full; the window keeps its size
  });

  m_plot = new TrainingPlot(this);
  m_plot->setObjectName(QStringLiteral("trainingPlot"));
  auto* plotDock = new QDockWidget(tr("Training Curves"), this);
  plotDock->setObjectName(QStringLiteral("trainingPlotDock"));
  plotDock->setWidget(m_plot);
  addDockWidget(Qt::RightDockWidgetArea, plotDock);
  m_docks.curves = plotDock;

  QWidget* results = m_life->createResultsWidget(this);  // accuracy label and confusion matrix
  m_testAccuracyLabel = results->findChild<QLabel*>(QStringLiteral("testAccuracyLabel"));
  m_confusion = results->findChild<ConfusionMatrixView*>(QStringLiteral("confusionMatrixView"));
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
    return m_life->startFineTune(project, std::move(from), epochs);
  };
  hooks.modelReplaced = [this] { m_life->modelReplaced(); };
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
      if (!m_life->refuseWhileRunning() && m_files->maybeSave()) openProject(path);
    });
  }
  m_examplesMenu->setEnabled(!m_examplesMenu->isEmpty());
  file->addSeparator();
  file->addAction(m_files->saveAction());
  file->addAction(m_files->saveAsAction());
  file->addAction(m_life->importModelAction());
  file->addAction(m_life->loadWeightsAction());
  file->addAction(m_life->saveCheckpointAction());
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
  edit->addAction(m_life->foldBatchNormAction());
  edit->addSeparator();
  edit->addMenu(createDeploymentTargetMenu(m_document, this));

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
  training->addAction(m_distTraining->action());
  training->addAction(m_cancelAction);
  m_recovery->addActions(training);  // Resume, Resume from Checkpoint…
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
  bar->addAction(m_life->saveCheckpointAction());
  bar->addSeparator();
  bar->addAction(m_trainAction);
  bar->addAction(m_cancelAction);
  bar->addSeparator();
  bar->addAction(m_fitAction);
}

void MainWindow::updateActions() {
  const bool training = m_controller->isRunning();
  const bool analysing = m_analysis->isRunning();  // calibrate / analyze / sweep on its worker
  const bool running = training || analysing;
  const bool hasProject = !m_document->isEmpty();
  const QString mismatch = m_dataset->inputMismatch();
  m_trainAction->setEnabled(!running && hasProject && mismatch.isEmpty());
  m_trainAction->setToolTip(mismatch.isEmpty() ? tr("Train the project with the current settings (F5)") : mismatch);
  m_cancelAction->setEnabled((training && !m_controller->isCancelling()) ||
                             (analysing && !m_analysis->isCancelling()));
  m_cancelButton->setEnabled(m_cancelAction->isEnabled());
  m_openAction->setEnabled(!running);
  m_files->setNewEnabled(!running);
  m_examplesMenu->setEnabled(!running && !m_examplesMenu->isEmpty());
  m_life->updateActions(running, hasProject);
  m_recovery->updateActions(running, hasProject);
  m_distTraining->updateActions(running, hasProject, mismatch);
  // The analysis job works on its own copy of the model; still, nothing else reads or
  // flips the model's modes while it runs (a training explains itself in the dialog).
  m_export->exportAction()->setEnabled(!analysing);
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
  m_life->projectReplaced();  // no model of the previous project; cleared results
  updateWindowTitle();
  m_settings->setSpec(m_document->project().training, m_document->project().dataset);
  m_dataset->setSpec(m_document->project().dataset);
  updateGraphStatus();
}

void MainWindow::updateGraphStatus() {
  if (m_controller->isRunning() || m_analysis->isRunning()) return;  // the run's progress owns the status line
  const ValidationResult& v = m_document->validation();
  const int errors = int(std::count_if(v.diagnostics.begin(), v.diagnostics.end(),
                                       [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::Error; }));
  // Train disabled by a dataset that does not fit the Input: the reason, not "Press F5".
  const QString mismatch = datasetInputMismatchBrief(m_document->project());
  m_statusLabel->setText(m_document->isEmpty()
                             ? tr("Open a project to start (Ctrl+O).")
                             : errors > 0 ? tr("%1: %n error(s) in the graph; hover the red badges.", "", errors)
                                                .arg(m_document->displayName())
                                          : tr("%1: %2 layers. %3")
                                                .arg(m_document->displayName())
                                                .arg(m_document->project().layers.size())
                                                .arg(mismatch.isEmpty() ? tr("Press F5 to train.") : mismatch));
  updateActions();
}

void MainWindow::cancelTraining() {
  if (m_analysis->isRunning())
    m_analysis->cancel();  // Esc and Cancel stop an analysis job too (a sweep keeps its points)
  else
    m_life->cancelTraining();
}

void MainWindow::openProjectDialog() {
  if (m_life->refuseWhileRunning() || !m_files->maybeSave()) return;
  QString dir = m_document->filePath().isEmpty() ? exampleProjectDir() : QFileInfo(m_document->filePath()).absolutePath();
  const QString path = QFileDialog::getOpenFileName(this, tr("Open Project"), dir,
                                                    tr("QNN Studio projects (*.qnn.json *.json);;All files (*)"));
  if (!path.isEmpty()) openProject(path);
}

void MainWindow::applyLayout(WindowLayout layout) {
  applyWindowLayout(this, m_docks, layout);
  m_layoutSized = true;
}

namespace {
const char kFoldingPe[] = "modelSummary/pe";
const char kFoldingSimd[] = "modelSummary/simd";
const char kFoldingClock[] = "modelSummary/clockMHz";
}  // namespace

bool MainWindow::restoreSavedLayout() {
  m_savesLayout = true;
  QSettings settings;
  if (auto* summary = qobject_cast<ModelSummaryView*>(m_docks.summary->widget())) {
    Folding f = summary->folding();
    f.pe = settings.value(QLatin1String(kFoldingPe), qlonglong(f.pe)).toLongLong();
    f.simd = settings.value(QLatin1String(kFoldingSimd), qlonglong(f.simd)).toLongLong();
    f.clock_mhz = settings.value(QLatin1String(kFoldingClock), f.clock_mhz).toDouble();
    summary->setFolding(f);
  }
  if (!restoreWindowLayout(this, settings)) return false;
  m_layoutSized = true;  // the saved sizes, not the default ones
  return true;
}

void MainWindow::showEvent(QShowEvent* event) {
  QMainWindow::showEvent(event);
  // The default arrangement's widths and heights follow the window's size: the one it
  // has now, and the one it settles at (a window manager maximises it after this).
  if (!m_layoutSized && !event->spontaneous()) {
    applyWindowLayoutUntilSettled(this, m_docks, WindowLayout::Default);
    m_layoutSized = true;
  }
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
  // During a run: "Training is running (epoch 3 of 10). Stop it and quit?"; Cancel keeps
  // it running. The models only in memory are named there (none can be saved meanwhile).
  if (!m_life->confirmStopRunForClose()) {
    event->ignore();
    return;
  }
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
  // Closed normally: nothing to recover, unless a run can be continued (its checkpoint
  // stays, and the next start offers it; a running run's last autosave is written as it stops).
  if (m_recovery->hasOwnRunToKeep())
    m_files->keepRecoveryForStoppedRun();
  else
    m_files->discardRecovery();
  if (m_analysis->isRunning()) m_analysis->cancel();  // its destructor joins the worker
  // The controller's destructor cancels and joins the worker; say so while it does.
  if (m_controller->isRunning()) {
    m_controller->cancelForClose();  // stops like Esc, without the final inspection
    m_statusLabel->setText(tr("Stopping the training…"));
  }
  if (m_savesLayout) {  // the next start opens as the window was left
    QSettings settings;
    saveWindowLayout(this, settings);
    if (auto* summary = qobject_cast<ModelSummaryView*>(m_docks.summary->widget())) {
      const Folding f = summary->folding();
      settings.setValue(QLatin1String(kFoldingPe), qlonglong(f.pe));
      settings.setValue(QLatin1String(kFoldingSimd), qlonglong(f.simd));
      settings.setValue(QLatin1String(kFoldingClock), f.clock_mhz);
    }
  }
  event->accept();
}

}  // namespace qnn
