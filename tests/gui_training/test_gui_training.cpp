// SPDX-License-Identifier: GPL-3.0-or-later
// "Press Train and watch it learn, live": drives MainWindow like a user would
// (F5, Esc, toolbar clicks) on the low-precision LeNet example with small limits.
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include <cmath>
#include <numeric>

#include "core/graph/project.h"
#include "core/train/checkpoint.h"

#include <QAction>
#include <QElapsedTimer>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTimer>
#include <QToolBar>
#include <QUndoStack>
#include <QClipboard>
#include <QGuiApplication>
#include <QMenu>
#include <QtTest>

#include "app/gui/main_window.h"
#include "tests/gui_gap_probe.h"
#include "app/gui/project_files.h"
#include "widgets/document/project_document.h"
#include "widgets/node_editor/graph_scene.h"
#include "widgets/node_editor/graph_view.h"
#include "widgets/node_editor/node_item.h"
#include "widgets/plots/qcustomplot_include.h"
#include "widgets/plots/confusion_matrix_view.h"
#include "widgets/plots/training_plot.h"
#include "widgets/training/training_controller.h"
#include "widgets/training/training_settings_panel.h"

using namespace qnn;

namespace {

constexpr qint64 kTrainLimit = 2000;
constexpr qint64 kTestLimit = 500;

QString examplePath(const char* name) {
  return QStringLiteral(QNN_SOURCE_DIR "/resources/examples/") + QLatin1String(name);
}

/// The first decimal number in `text` (NaN when there is none).
double firstNumber(const QString& text) {
  const QRegularExpressionMatch m = QRegularExpression(QStringLiteral("(\\d+\\.\\d+)")).match(text);
  return m.hasMatch() ? m.captured(1).toDouble() : std::nan("");
}

/// Opens the low-precision LeNet with one LibTorch thread: the 2 cores of CI are
/// shared with other jobs and OpenMP slows down badly when oversubscribed.
bool openQuickProject(MainWindow& w) {
  if (!w.openProject(examplePath("lenet_lowprec.qnn.json"))) return false;
  Project p = w.document()->project();
  p.training.threads = 1;
  w.document()->setProject(p, w.document()->filePath());
  return true;
}

template <typename T>
T* mustFind(QObject* root, const char* name) {
  T* child = root->findChild<T*>(QLatin1String(name));
  if (!child) qFatal("no child named %s", name);
  return child;
}

}  // namespace

class TestGuiTraining : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void showsTheGraphOfTheProject();
  void trainsLiveCancelsAndTrainsAgain();
  void malformedProjectShowsErrorAndKeepsPrevious();
  void invalidGraphShowsBadgesAndRefusesToTrain();
  void trainingFailureIsReported();
  void closingWhileTrainingStopsTheWorker();
  void trainingSettingsAreUndoableProjectEdits();
  void trainingCurvesExportTheirPoints();
  void staleCurvesKeepTrainAndTestApart();
  void graphLegendCoversNoNodeAtFitInTheTrainLayout();
};

void TestGuiTraining::initTestCase() {
  QVERIFY2(QFileInfo::exists(examplePath("lenet_lowprec.qnn.json")), "example project missing");
}

void TestGuiTraining::showsTheGraphOfTheProject() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  const Project& p = w.document()->project();
  QVERIFY(w.windowTitle().startsWith(QStringLiteral("lenet_lowprec.qnn.json[*] — ")));
  QVERIFY(w.windowTitle().endsWith(QStringLiteral(" — QNN Studio")));
  QVERIFY(w.windowTitle().contains(QString::fromStdString(p.name)));

  auto* view = mustFind<GraphView>(&w, "graphView");
  GraphScene* scene = view->graphScene();
  QCOMPARE(scene->nodeCount(), int(p.layers.size()));
  QCOMPARE(scene->edgeCount(), int(p.layers.size()) - 1);  // a chain
  // conv1: 3-bit narrow signed weights with an 8-bit bias, output 6x28x28 on the 4-bit grid.
  NodeItem* conv1 = scene->node(QStringLiteral("conv1"));
  QVERIFY(conv1);
  QCOMPARE(conv1->content().type, QStringLiteral("QuantConv2d"));
  QCOMPARE(conv1->content().shape, QStringLiteral("6×28×28"));
  QVERIFY2(conv1->content().quant.startsWith(QStringLiteral("W3 s narrow")), qPrintable(conv1->content().quant));
  QVERIFY2(conv1->content().quant.contains(QStringLiteral("Int8Bias")), qPrintable(conv1->content().quant));
  QCOMPARE(scene->node(QStringLiteral("relu1"))->content().quant, QStringLiteral("A4 u"));
  QCOMPARE(scene->node(QStringLiteral("fc3"))->content().shape, QStringLiteral("10"));
  QVERIFY(!conv1->hasErrors());
  // Positions come from the document.
  QCOMPARE(conv1->pos(), QPointF(p.find("conv1")->x, p.find("conv1")->y));
}

void TestGuiTraining::trainsLiveCancelsAndTrainsAgain() {
  MainWindow w;
  QVERIFY(openQuickProject(w));
  w.setRunLimits(kTrainLimit, kTestLimit, 0);
  w.setEpochs(50);  // far longer than the test waits: it is cancelled mid-run
  w.show();
  w.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&w));

  auto* trainAction = mustFind<QAction>(&w, "trainAction");
  auto* cancelAction = mustFind<QAction>(&w, "cancelAction");
  auto* saveAction = mustFind<QAction>(&w, "saveCheckpointAction");
  auto* bar = mustFind<QProgressBar>(&w, "progressBar");
  auto* plot = mustFind<TrainingPlot>(&w, "trainingPlot");
  auto* accuracyLabel = mustFind<QLabel>(&w, "testAccuracyLabel");
  auto* confusion = mustFind<ConfusionMatrixView>(&w, "confusionMatrixView");
  TrainingController* controller = w.trainingController();
  QVERIFY(trainAction->isEnabled());
  QVERIFY(!cancelAction->isEnabled());
  QVERIFY(!saveAction->isEnabled());

  // --- Run 1: F5 starts, progress and curves move, the GUI stays responsive.
  QTest::keyClick(&w, Qt::Key_F5);
  QVERIFY(controller->isRunning());
  QVERIFY(!trainAction->isEnabled());
  QVERIFY(cancelAction->isEnabled());
  // No New Empty / New from Template while the run goes on (like Open): Ctrl+N does nothing.
  auto* newEmpty = mustFind<QAction>(&w, "newEmptyAction");
  QVERIFY(!newEmpty->isEnabled());
  QVERIFY(!w.fileActions()->newMenu()->isEnabled());
  const size_t layerCount = w.document()->project().layers.size();
  QTest::keyClick(&w, Qt::Key_N, Qt::ControlModifier);
  QCOMPARE(w.document()->project().layers.size(), layerCount);
  QTRY_VERIFY_WITH_TIMEOUT(bar->value() > 0, 60000);
  QTRY_VERIFY_WITH_TIMEOUT(plot->trainPointCount() >= 3, 30000);
  const int barBefore = bar->value();
  const int pointsBefore = plot->trainPointCount();

  // A 20 ms timer on the GUI thread keeps firing while the worker trains.
  qnn_test::GuiGapProbe probe;
  probe.start();
  QTest::qWait(1500);
  probe.stop();
  QVERIFY2(controller->isRunning(), "the first run must still be going (50 epochs)");
  // Generous bounds (2 cores shared with the trainer's threads); a blocked event loop
  // would show one gap as long as the whole wait.
  QVERIFY2(probe.ticks >= 20, qPrintable(QStringLiteral("only %1 timer ticks in 1.5 s").arg(probe.ticks)));
  QVERIFY2(probe.maxGapMs < 1000, qPrintable(QStringLiteral("GUI thread blocked for %1 ms").arg(probe.maxGapMs)));
  QVERIFY(bar->value() > barBefore);
  QVERIFY(plot->trainPointCount() > pointsBefore);

  // --- Esc cancels: the run stops within a few seconds with an evaluated model.
  QTest::keyClick(&w, Qt::Key_Escape);
  QElapsedTimer stopping;
  stopping.start();
  QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 10000);
  QVERIFY2(stopping.elapsed() < 5000, qPrintable(QStringLiteral("stopping took %1 ms").arg(stopping.elapsed())));
  const TrainingSummary first = controller->lastSummary();
  qInfo("responsiveness: %d ticks of 20 ms in 1.5 s, longest gap %lld ms; cancel took %lld ms; "
        "cancelled run: test accuracy %.4f",
        probe.ticks, probe.maxGapMs, stopping.elapsed(), first.testAccuracy);
  QVERIFY(first.cancelled);
  QCOMPARE(first.testSamples, kTestLimit);
  const double shown = firstNumber(accuracyLabel->text());
  QVERIFY2(shown > 0.0 && shown <= 1.0, qPrintable(accuracyLabel->text()));
  QVERIFY(std::abs(shown - first.testAccuracy) < 1e-4);
  QCOMPARE(confusion->classCount(), 10);
  QCOMPARE(confusion->total(), kTestLimit);
  QVERIFY(std::abs(confusion->accuracy() - first.testAccuracy) < 1e-9);
  QVERIFY(controller->hasModel());
  QVERIFY(saveAction->isEnabled());
  QVERIFY(trainAction->isEnabled());
  QVERIFY(!cancelAction->isEnabled());
  QVERIFY(newEmpty->isEnabled());

  // --- Run 2: two short epochs from the toolbar button; it completes and learns.
  w.setEpochs(2);
  auto* toolBar = mustFind<QToolBar>(&w, "mainToolBar");
  QWidget* trainButton = toolBar->widgetForAction(trainAction);
  QVERIFY(trainButton);
  // The cancelled run is resumable: a new run asks first; Start New Run.
  QString question;
  QTimer::singleShot(0, this, [&question] {
    auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
    if (!box || box->objectName() != QStringLiteral("newRunQuestion")) return;
    question = box->text();
    box->button(QMessageBox::Yes)->click();
  });
  QTest::mouseClick(trainButton, Qt::LeftButton);
  QVERIFY2(question.contains(QStringLiteral("stopped training run")), qPrintable(question));
  QVERIFY(controller->isRunning());
  QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 120000);
  const TrainingSummary second = controller->lastSummary();
  qInfo("second run: %lld epochs, test accuracy %.4f, %.1f s", qint64(second.epochs.size()),
        second.testAccuracy, second.seconds);
  QVERIFY(!second.cancelled);
  QCOMPARE(second.epochs.size(), 2);
  QCOMPARE(second.testSamples, kTestLimit);
  QVERIFY2(second.testAccuracy > 0.3, qPrintable(QString::number(second.testAccuracy)));
  QCOMPARE(plot->testPointCount(), 2);
  QCOMPARE(bar->value(), bar->maximum());
  QVERIFY(std::abs(firstNumber(accuracyLabel->text()) - second.testAccuracy) < 1e-4);
  QCOMPARE(confusion->total(), kTestLimit);
  qint64 rows = 0;
  for (const auto& row : second.confusion) rows += std::accumulate(row.begin(), row.end(), qint64(0));
  QCOMPARE(rows, kTestLimit);
  QVERIFY(saveAction->isEnabled());

  // The kept model is usable: it saves as a checkpoint of this project.
  QTemporaryDir dir;
  const QString checkpoint = dir.filePath(QStringLiteral("lenet.pt"));
  controller->saveCheckpoint(checkpoint);
  QCOMPARE(read_checkpoint_project(checkpoint.toStdString()).name, w.document()->project().name);

  // Opening another project drops the model: it cannot be saved under the new project.
  QVERIFY(w.openProject(examplePath("lenet_float.qnn.json")));
  QVERIFY(!controller->hasModel());
  QVERIFY(!saveAction->isEnabled());

  // --- Run 3: the network is edited while it trains: its model is dropped at the end.
  QVERIFY(openQuickProject(w));
  w.setRunLimits(kTrainLimit, kTestLimit, 2);
  w.setEpochs(1);
  QVERIFY(trainAction->isEnabled());
  // The offscreen platform leaves no window active after run 2's question box closed;
  // a shortcut needs one (on a desktop the window gets its activation back).
  w.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&w));
  QTest::keyClick(&w, Qt::Key_F5);
  QVERIFY(controller->isRunning());
  QVERIFY(w.document()->removeLayers({QStringLiteral("fc3")}));
  QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 60000);
  QVERIFY(!controller->lastSummary().cancelled);
  QVERIFY(!controller->hasModel());
  QVERIFY(!saveAction->isEnabled());
}

void TestGuiTraining::malformedProjectShowsErrorAndKeepsPrevious() {
  MainWindow w;
  w.show();
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  const QString title = w.windowTitle();
  const int nodes = mustFind<GraphView>(&w, "graphView")->graphScene()->nodeCount();
  QVERIFY(nodes > 0);

  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const QString bad = dir.filePath(QStringLiteral("broken.qnn.json"));
  {
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("{ \"format\": \"qnn-studio-project\", \"version\": 1, \"layers\": [ {\"id\": ");
  }
  QVERIFY(!w.openProject(bad));  // returns at once: the message box is not modal-blocking

  QMessageBox* box = nullptr;
  QTRY_VERIFY((box = w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox"))) && box->isVisible());
  QVERIFY2(box->text().contains(QStringLiteral("JSON")), qPrintable(box->text()));
  QCOMPARE(w.lastError(), box->text());
  QTest::keyClick(box, Qt::Key_Return);
  QTRY_VERIFY(!w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox")));

  // The previous project is still open and shown.
  QCOMPARE(w.windowTitle(), title);
  QCOMPARE(w.document()->filePath(), examplePath("lenet_lowprec.qnn.json"));
  QCOMPARE(mustFind<GraphView>(&w, "graphView")->graphScene()->nodeCount(), nodes);
  QVERIFY(mustFind<QAction>(&w, "trainAction")->isEnabled());

  // A missing file is reported the same way, naming the file.
  QVERIFY(!w.openProject(dir.filePath(QStringLiteral("missing.qnn.json"))));
  QVERIFY2(w.lastError().contains(QStringLiteral("missing.qnn.json")), qPrintable(w.lastError()));
  QCOMPARE(w.windowTitle(), title);
}

void TestGuiTraining::invalidGraphShowsBadgesAndRefusesToTrain() {
  MainWindow w;
  w.show();
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  Project p = w.document()->project();
  p.find("fc1")->params["in_features"] = 256;  // flatten gives 400
  w.document()->setProject(p, w.document()->filePath());
  GraphScene* scene = mustFind<GraphView>(&w, "graphView")->graphScene();
  QVERIFY(scene->node(QStringLiteral("fc1"))->hasErrors());
  QVERIFY(!scene->node(QStringLiteral("conv1"))->hasErrors());
  QVERIFY(scene->node(QStringLiteral("fc1"))->toolTip().contains(QStringLiteral("error")));

  w.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&w));
  QTest::keyClick(&w, Qt::Key_F5);
  QVERIFY(!w.trainingController()->isRunning());
  QMessageBox* box = nullptr;
  QTRY_VERIFY((box = w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox"))) && box->isVisible());
  QVERIFY2(box->text().contains(QStringLiteral("fc1")), qPrintable(box->text()));
  box->close();
}

void TestGuiTraining::trainingFailureIsReported() {
  MainWindow w;
  w.show();
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  Project p = w.document()->project();
  p.dataset.path = "/nonexistent/qnn-datasets";
  w.document()->setProject(p, w.document()->filePath());
  w.setRunLimits(kTrainLimit, kTestLimit, 0);
  TrainingController* controller = w.trainingController();
  QSignalSpy failed(controller, &TrainingController::failed);

  mustFind<QAction>(&w, "trainAction")->trigger();
  QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 30000);
  QCOMPARE(failed.count(), 1);
  const QString message = failed.first().first().toString();
  QVERIFY2(message.contains(QStringLiteral("/nonexistent/qnn-datasets")), qPrintable(message));
  QMessageBox* box = nullptr;
  QTRY_VERIFY((box = w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox"))) && box->isVisible());
  QCOMPARE(box->text(), message);
  box->close();
  QVERIFY(mustFind<QAction>(&w, "trainAction")->isEnabled());
  QVERIFY(!controller->hasModel());
}

void TestGuiTraining::closingWhileTrainingStopsTheWorker() {
  auto* w = new MainWindow;
  w->show();
  QVERIFY(openQuickProject(*w));
  w->setRunLimits(kTrainLimit, kTestLimit, 0);
  w->setEpochs(50);
  mustFind<QAction>(w, "trainAction")->trigger();
  QTRY_VERIFY_WITH_TIMEOUT(mustFind<TrainingPlot>(w, "trainingPlot")->trainPointCount() >= 2, 60000);
  QVERIFY(w->trainingController()->isRunning());
  QElapsedTimer clock;
  clock.start();
  // Closing during a run asks first (tests/gui_model_life): Stop and Quit.
  QTimer::singleShot(50, w, [w] {
    if (auto* box = w->findChild<QMessageBox*>(QStringLiteral("stopRunQuestion")))
      box->findChild<QPushButton*>(QStringLiteral("stopAndQuitButton"))->click();
  });
  QVERIFY(w->close());
  delete w;  // the controller cancels and joins its thread
  QVERIFY2(clock.elapsed() < 5000, qPrintable(QStringLiteral("closing took %1 ms").arg(clock.elapsed())));
}

// Epochs / batch size / learning rate typed in the dock are edits of the project:
// modified flag, one undo step per field, undo shows the old value, saved with the file.
void TestGuiTraining::trainingSettingsAreUndoableProjectEdits() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  w.show();
  w.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&w));
  ProjectDocument* doc = w.document();
  QCOMPARE(doc->project().training.epochs, int64_t(5));
  QVERIFY(!doc->isModified());

  auto* epochs = mustFind<QSpinBox>(&w, "epochsSpinBox");
  epochs->setFocus();
  QTest::keyClick(epochs, Qt::Key_A, Qt::ControlModifier);
  QTest::keyClicks(epochs, QStringLiteral("12"));  // "1" then "12": one merged undo step
  QTest::keyClick(epochs, Qt::Key_Tab);
  QCOMPARE(doc->project().training.epochs, int64_t(12));
  QVERIFY(doc->isModified());
  QCOMPARE(doc->undoStack()->count(), 1);

  auto* batch = mustFind<QSpinBox>(&w, "batchSizeSpinBox");
  batch->setFocus();
  QTest::keyClick(batch, Qt::Key_Up);  // 64 -> 65
  QCOMPARE(doc->project().training.batch_size, int64_t(65));
  QCOMPARE(doc->project().training.epochs, int64_t(12));
  QCOMPARE(doc->undoStack()->count(), 2);
  // The run uses what the dock shows.
  QCOMPARE(w.settingsPanel()->options().spec.batch_size, int64_t(65));

  doc->undoStack()->undo();
  QCOMPARE(doc->project().training.batch_size, int64_t(64));
  QCOMPARE(batch->value(), 64);
  doc->undoStack()->undo();
  QCOMPARE(doc->project().training.epochs, int64_t(5));
  QCOMPARE(epochs->value(), 5);
  QVERIFY(!doc->isModified());
  doc->undoStack()->redo();
  QCOMPARE(epochs->value(), 12);

  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const QString path = dir.filePath(QStringLiteral("edited.qnn.json"));
  doc->save(path);
  const Project saved = load_project(path.toStdString());
  QCOMPARE(saved.training.epochs, int64_t(12));
  QCOMPARE(saved.training.batch_size, int64_t(64));
  QVERIFY(!doc->isModified());
}

void TestGuiTraining::trainingCurvesExportTheirPoints() {
  TrainingPlot plot;
  plot.clear(2);
  plot.addTrainPoint(0.5, 1.25, 0.5);
  plot.addTrainPoint(1.0, 0.75, 0.625);
  plot.addTestPoint(1.0, 0.8, 0.7);
  QCOMPARE(plot.csv(), QStringLiteral("series,epoch,loss,accuracy\ntrain,0.5,1.25,0.5\ntrain,1,0.75,0.625\n"
                                      "test,1,0.8,0.7\n"));
  // The context menu of every inspection plot, here too.
  auto* copy = plot.findChild<QAction*>(QStringLiteral("copyDataAction"));
  QVERIFY(copy);
  QVERIFY(plot.findChild<QAction*>(QStringLiteral("saveSvgAction")));
  copy->trigger();
  QCOMPARE(QGuiApplication::clipboard()->text(), plot.csv());
}

void TestGuiTraining::staleCurvesKeepTrainAndTestApart() {
  TrainingPlot plot;
  plot.clear(2);
  plot.addTrainPoint(0.5, 1.25, 0.5);
  plot.addTestPoint(1.0, 0.8, 0.7);
  for (QCustomPlot* qcp : {plot.lossPlot(), plot.accuracyPlot()}) {
    QCOMPARE(qcp->graphCount(), 2);
    const QPen train = qcp->graph(0)->pen(), test = qcp->graph(1)->pen();
    QCOMPARE(train.style(), Qt::SolidLine);
    QVERIFY(train.color() != test.color());
    plot.setStale(true, QStringLiteral("discarded (network edited)"));
    const QPen staleTrain = qcp->graph(0)->pen(), staleTest = qcp->graph(1)->pen();
    // Marked as not current: dashed and paler than the current pens...
    QCOMPARE(staleTrain.style(), Qt::DashLine);
    QCOMPARE(staleTest.style(), Qt::DashLine);
    QVERIFY(staleTrain.color().lightness() > train.color().lightness());
    QVERIFY(staleTest.color().lightness() > test.color().lightness());
    // ...but train and test keep their own hues (blue, orange), so the legend, which draws
    // each entry with its graph's pen, still tells them apart.
    QVERIFY(staleTrain.color() != staleTest.color());
    QVERIFY2(std::abs(staleTrain.color().hslHue() - train.color().hslHue()) <= 2,
             qPrintable(QStringLiteral("train hue %1 -> %2").arg(train.color().hslHue()).arg(staleTrain.color().hslHue())));
    QVERIFY(std::abs(staleTest.color().hslHue() - test.color().hslHue()) <= 2);
    QVERIFY(std::abs(staleTrain.color().hslHue() - staleTest.color().hslHue()) > 90);
    QCOMPARE(qcp->graph(1)->scatterStyle().pen().color(), staleTest.color());  // the test points too
    QCOMPARE(qcp->legend->itemCount(), 2);
    for (int i = 0; i < 2; ++i) {
      auto* item = qobject_cast<QCPPlottableLegendItem*>(qcp->legend->item(i));
      QVERIFY(item);
      QCOMPARE(item->plottable()->pen(), i == 0 ? staleTrain : staleTest);
    }
    // Current again: the original pens.
    plot.setStale(false);
    QCOMPARE(qcp->graph(0)->pen(), train);
    QCOMPARE(qcp->graph(1)->pen(), test);
  }
}

void TestGuiTraining::graphLegendCoversNoNodeAtFitInTheTrainLayout() {
  MainWindow w;
  w.resize(1229, 703);  // the window qnn-studio opens on a 1366 x 768 screen
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  GraphView* view = w.graphView();
  // Every node with its children (ports, labels), in scene coordinates.
  auto nodeRects = [&view] {
    QList<QPair<QString, QRectF>> rects;
    for (QGraphicsItem* item : view->graphScene()->items())
      if (item->type() == NodeItem::Type) {
        auto* node = static_cast<NodeItem*>(item);
        rects << qMakePair(node->id(), node->sceneBoundingRect().united(node->mapRectToScene(node->childrenBoundingRect())));
      }
    return rects;
  };
  // Drawn inside the view covering no node; at a readable zoom in a narrow view
  // (`mayHide`) possibly not drawn at all, but after an explicit fit always drawn.
  auto check = [&](const char* when, bool mayHide = false) {
    QVERIFY2(mayHide || !view->legendRect().isNull(), when);
    if (view->legendRect().isNull()) return;
    const QRectF legend = view->mapToScene(view->legendRect()).boundingRect();
    QVERIFY(view->viewport()->rect().contains(view->legendRect()));
    const auto rects = nodeRects();
    QCOMPARE(rects.size(), int(w.document()->project().layers.size()));
    for (const auto& [id, r] : rects)
      QVERIFY2(!legend.intersects(r), qPrintable(QStringLiteral("%1: the legend (%2, %3, %4 x %5) covers node %6")
                                                     .arg(QLatin1String(when))
                                                     .arg(legend.x())
                                                     .arg(legend.y())
                                                     .arg(legend.width())
                                                     .arg(legend.height())
                                                     .arg(id)));
  };
  QTest::qWait(50);  // the queued fit of the new graph
  // At open the graph is taller than the view at the readable zoom: its top is shown, and
  // the narrow view has no node-free corner unless the graph moves aside for the legend.
  check("at open", true);
  w.applyLayout(WindowLayout::Train);
  QTest::qWait(50);  // the layout's resizes
  check("Train layout", true);
  view->fitToView();  // F / Ctrl+0
  check("after Fit");
  // Every node is in view after the fit.
  const QRectF visible = view->mapToScene(view->viewport()->rect()).boundingRect();
  for (const auto& [id, r] : nodeRects()) QVERIFY2(visible.contains(r), qPrintable(id));
  // A view of the graph's own proportions (no spare room beside it): the fit zooms out a
  // little more, still no node under the legend.
  ProjectDocument doc;
  doc.load(examplePath("lenet_lowprec.qnn.json"));
  GraphView tight(&doc);
  const QRectF bounds = tight.graphScene()->itemsBoundingRect().adjusted(-30, -30, 30, 30);
  const double k = 320.0 / bounds.width();
  tight.resize(320, int(bounds.height() * k));
  tight.show();
  QVERIFY(QTest::qWaitForWindowExposed(&tight));
  tight.fitToView();
  view = &tight;
  check("a view of the graph's proportions");
}

QTEST_MAIN(TestGuiTraining)
#include "test_gui_training.moc"
