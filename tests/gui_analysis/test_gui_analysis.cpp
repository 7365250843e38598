// SPDX-License-Identifier: GPL-3.0-or-later
// "Choose bit widths with evidence" in the GUI: drives MainWindow's Analysis menu like a
// user (F6..F9, dialogs, Esc, the Pareto tab's buttons) on the low-precision LeNet after
// a short training on real Fashion-MNIST. Every number is checked against the record,
// the core or an independent evaluation, not just "something happened".
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include <cmath>
#include <optional>

#include "core/analysis/analysis.h"
#include "core/data/dataset.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/train/checkpoint.h"
#include "core/train/trainer.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QDockWidget>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QUndoStack>
#include <QtTest>

#include "app/gui/analysis_actions.h"
#include "app/gui/main_window.h"
#include "app/gui/project_files.h"
#include "tests/gui_gap_probe.h"
#include "widgets/analysis/analysis_dialogs.h"
#include "widgets/analysis/analysis_panel.h"
#include "widgets/analysis/analysis_worker.h"
#include "widgets/analysis/analyzer_view.h"
#include "widgets/analysis/pareto_view.h"
#include "widgets/analysis/sweep_curves_view.h"
#include "widgets/analysis/sweep_heatmap_view.h"
#include "widgets/document/project_document.h"
#include "widgets/plots/qcustomplot_include.h"
#include "widgets/training/training_controller.h"

using namespace qnn;

namespace {

constexpr qint64 kTrainLimit = 3000;
constexpr qint64 kTestLimit = 500;

QString examplePath(const char* name) {
  return QStringLiteral(QNN_SOURCE_DIR "/resources/examples/") + QLatin1String(name);
}

template <typename T>
T* mustFind(QObject* root, const char* name) {
  T* child = root->findChild<T*>(QLatin1String(name));
  if (!child) qFatal("no child named %s", name);
  return child;
}

/// The visible window-modal dialog / box named `name` (waits for it), or nullptr.
template <typename T>
T* waitFor(QWidget* window, const char* name, int ms = 5000) {
  T* found = nullptr;
  QElapsedTimer clock;
  clock.start();
  while (clock.elapsed() < ms) {
    found = window->findChild<T*>(QLatin1String(name));
    if (found && found->isVisible()) return found;
    QTest::qWait(20);
  }
  return nullptr;
}

/// Shows the window and waits until it is active (shortcuts go to the active window).
bool showActive(MainWindow& w) {
  w.show();
  w.activateWindow();
  return QTest::qWaitForWindowActive(&w);
}

/// A shortcut as the user presses it: on the active main window (a closed dialog hands
/// the activation back asynchronously).
void press(MainWindow& w, Qt::Key key, Qt::KeyboardModifiers modifiers = Qt::NoModifier) {
  w.activateWindow();
  if (!QTest::qWaitForWindowActive(&w)) qWarning("the main window did not become active");
  QTest::keyClick(&w, key, modifiers);
}

/// Opens the low-precision LeNet with one LibTorch thread and trains it for one short
/// epoch (47 batches of 64 on 3000 Fashion-MNIST images) from F5.
bool trainQuick(MainWindow& w) {
  if (!w.openProject(examplePath("lenet_lowprec.qnn.json"))) return false;
  Project p = w.document()->project();
  p.training.threads = 1;  // 2 shared CI cores: OpenMP slows down badly when oversubscribed
  w.document()->setProject(p, w.document()->filePath());
  w.setRunLimits(kTrainLimit, kTestLimit, 0);
  w.setEpochs(1);
  if (!showActive(w)) return false;
  QTest::keyClick(&w, Qt::Key_F5);
  if (!w.trainingController()->isRunning()) return false;
  QElapsedTimer clock;
  clock.start();
  while (w.trainingController()->isRunning() && clock.elapsed() < 120000) QTest::qWait(50);
  return !w.trainingController()->isRunning() && w.trainingController()->hasModel();
}

/// The bit width of a sweep slot in `p` (weight: weight_quant, act: act_quant).
int slotBits(const Project& p, const SweepSlot& s) {
  const LayerSpec* l = p.find(s.layer);
  if (!l) return -1;
  const std::optional<QuantSpec>& q = s.kind == "weight" ? l->weight_quant : l->act_quant;
  return q ? q->bit_width : -1;
}

/// Opens the sweep dialog with F8 and runs it with these settings.
SweepDialog* openSweepDialog(MainWindow& w) {
  press(w, Qt::Key_F8);
  return waitFor<SweepDialog>(&w, "sweepDialog");
}

}  // namespace

class TestGuiAnalysis : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void menuAndDockAreInPlace();
  void sweepWithoutModelExplains();
  void sweepDrawsLiveSavesReopensAppliesAndUndoes();
  void cancelKeepsPartialResults();
  void calibrateDialogPaths();
  void loadedWeightsKeepTheWindowWithin1366();
};

void TestGuiAnalysis::initTestCase() {
  QVERIFY2(QFileInfo::exists(examplePath("lenet_lowprec.qnn.json")), "example project missing");
  // Installed by scripts/install-deps (dataset-fashion-mnist): missing data is a failure, not a skip.
  QVERIFY2(QFileInfo::exists(QStringLiteral("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")),
           "Fashion-MNIST is not installed in /usr/share/datasets/fashion-mnist (run scripts/install-deps)");
}

void TestGuiAnalysis::menuAndDockAreInPlace() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  // Analysis sits between Training and Help.
  QStringList titles;
  for (QAction* a : w.menuBar()->actions()) titles << a->text().remove(QLatin1Char('&'));
  const int training = int(titles.indexOf(QStringLiteral("Training")));
  QVERIFY2(training >= 0, qPrintable(titles.join(QLatin1Char(','))));
  QCOMPARE(titles.value(training + 1), QStringLiteral("Analysis"));
  QCOMPARE(titles.value(training + 2), QStringLiteral("Help"));
  AnalysisActions* a = w.analysisActions();
  QCOMPARE(a->calibrateAction()->shortcut(), QKeySequence(Qt::Key_F6));
  QCOMPARE(a->analyzeAction()->shortcut(), QKeySequence(Qt::Key_F7));
  QCOMPARE(a->sweepAction()->shortcut(), QKeySequence(Qt::Key_F8));
  QCOMPARE(a->suggestAction()->shortcut(), QKeySequence(Qt::Key_F9));
  // The dock is tabbed with the inspection plots in the right column; the graph stays the centre.
  auto* dock = mustFind<QDockWidget>(&w, "analysisDock");
  auto* inspectionDock = mustFind<QDockWidget>(&w, "inspectionDock");
  QVERIFY(w.tabifiedDockWidgets(inspectionDock).contains(dock));
  QCOMPARE(w.dockWidgetArea(dock), Qt::RightDockWidgetArea);
  QCOMPARE(w.centralWidget()->objectName(), QStringLiteral("graphView"));
  auto* tabs = mustFind<QTabWidget>(dock, "analysisTabs");
  QCOMPARE(tabs->count(), 4);
  QCOMPARE(tabs->tabText(0), QStringLiteral("Sweep Heat Map"));
  QCOMPARE(tabs->tabText(2), QStringLiteral("Pareto Front"));
  // No sweep in the example: empty views.
  QVERIFY(!a->panel()->heatmap()->hasResult());
  QVERIFY(!a->panel()->pareto()->hasResult());
}

void TestGuiAnalysis::sweepWithoutModelExplains() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  QVERIFY(showActive(w));
  QVERIFY(!w.trainingController()->hasModel());
  press(w, Qt::Key_F8);
  QMessageBox* box = waitFor<QMessageBox>(&w, "errorMessageBox");
  QVERIFY(box);
  QVERIFY2(box->text().startsWith(QStringLiteral("Train or load weights first")), qPrintable(box->text()));
  QVERIFY(!w.findChild<SweepDialog*>(QStringLiteral("sweepDialog")));
  QCOMPARE(w.analysisActions()->jobsStarted(), 0);
  box->close();
  // Suggest without a sweep says what to do first.
  press(w, Qt::Key_F9);
  QTRY_VERIFY(w.lastError().contains(QStringLiteral("Sensitivity Sweep")));
}

void TestGuiAnalysis::sweepDrawsLiveSavesReopensAppliesAndUndoes() {
  MainWindow w;
  QVERIFY(trainQuick(w));
  AnalysisActions* actions = w.analysisActions();
  AnalysisPanel* panel = actions->panel();
  ProjectDocument* doc = w.document();

  // --- The dialog: bits outside 2..16 cannot be entered, min <= max is enforced.
  SweepDialog* dialog = openSweepDialog(w);
  QVERIFY(dialog);
  QSpinBox* minBox = dialog->minBitsBox();
  QSpinBox* maxBox = dialog->maxBitsBox();
  minBox->setValue(1);
  QCOMPARE(minBox->value(), 2);
  maxBox->setValue(40);
  QCOMPARE(maxBox->value(), 16);
  maxBox->setValue(4);
  minBox->setValue(9);
  QCOMPARE(minBox->value(), 4);  // bounded by max
  // 2..3 bits: the example's weights are 3-bit, so 2 bits costs accuracy and the front
  // has more than one point (at 3..4 every configuration predicts the base accuracy).
  minBox->setValue(2);
  maxBox->setValue(3);
  dialog->whatBox()->setCurrentIndex(dialog->whatBox()->findData(QStringLiteral("weights")));
  dialog->holdoutBox()->setValue(256);
  dialog->calibrationBox()->setValue(2);
  QVERIFY2(dialog->estimateLabel()->text().contains(QStringLiteral("= 10 points")),
           qPrintable(dialog->estimateLabel()->text()));  // 5 weight layers x 2 bit widths

  // --- Run it: points arrive one by one, drawn at once, the UI thread never stalls.
  QList<SweepPoint> arrived;
  QList<int> drawnWhenArrived;
  connect(actions->controller(), &AnalysisController::sweepPoint, this, [&](const SweepPoint& p) {
    arrived << p;
    drawnWhenArrived << int(panel->heatmap()->rowLabels().size() * panel->heatmap()->columnBits().size() -
                            panel->heatmap()->missingCount());
  });
  qnn_test::GuiGapProbe probe;
  probe.start();
  QTest::mouseClick(dialog->okButton(), Qt::LeftButton);
  QVERIFY(actions->isRunning());
  QVERIFY(!mustFind<QAction>(&w, "trainAction")->isEnabled());
  QVERIFY(mustFind<QAction>(&w, "cancelAction")->isEnabled());
  // Nothing else reads the model or flips its modes while the job runs.
  QVERIFY(!mustFind<QAction>(&w, "exportAction")->isEnabled());
  QVERIFY(!mustFind<QAction>(&w, "saveCheckpointAction")->isEnabled());
  QTRY_VERIFY_WITH_TIMEOUT(!actions->isRunning(), 120000);
  QVERIFY(mustFind<QAction>(&w, "exportAction")->isEnabled());
  QVERIFY(mustFind<QAction>(&w, "saveCheckpointAction")->isEnabled());
  probe.stop();
  qInfo("sweep: %lld points, UI thread: %d ticks, longest gap %lld ms", qint64(arrived.size()), probe.ticks,
        probe.maxGapMs);
  QVERIFY2(probe.maxGapMs < 50, qPrintable(QStringLiteral("UI thread stalled %1 ms").arg(probe.maxGapMs)));

  QVERIFY(doc->project().sweep);
  const SweepRecord record = *doc->project().sweep;
  QVERIFY(record.complete);
  QCOMPARE(record.min_bits, 2);
  QCOMPARE(record.max_bits, 3);
  QCOMPARE(record.holdout, 256);
  QCOMPARE(record.what, std::string("weights"));
  QCOMPARE(record.slots.size(), size_t(5));
  // The digest of the network plus the bit widths the sweep did not vary.
  QCOMPARE(record.network, analysis::sweep_fingerprint(doc->project(), record.slots));
  QVERIFY(record.network != analysis::sweep_fingerprint(doc->project(), {}));  // the swept bits do not count
  QCOMPARE(arrived.size(), 10);
  for (int i = 0; i < arrived.size(); ++i) QVERIFY(arrived[i] == record.points[size_t(i)]);
  // Drawn as they came: when point k arrived the heat map already showed the ones before
  // it (redraws are coalesced over 100 ms, so at most a few behind, never ahead).
  for (int i = 1; i < drawnWhenArrived.size(); ++i) QVERIFY(drawnWhenArrived[i] >= drawnWhenArrived[i - 1]);
  QVERIFY(drawnWhenArrived.last() <= 9);
  QVERIFY(record.base_accuracy > 0.3 && record.base_accuracy <= 1.0);
  for (const SweepPoint& p : record.points) QVERIFY(p.accuracy >= 0.0 && p.accuracy <= 1.0);

  // The views show the record: rows = slots, columns = 2..3, drops = base - point.
  SweepHeatmapView* heat = panel->heatmap();
  QCOMPARE(heat->rowLabels().size(), 5);
  QCOMPARE(heat->rowLabels().first(), QStringLiteral("conv1 W"));
  QCOMPARE(heat->columnBits(), (QList<int>{2, 3}));
  QCOMPARE(heat->missingCount(), 0);
  for (const SweepPoint& p : record.points) {
    int row = -1;
    for (size_t s = 0; s < record.slots.size(); ++s)
      if (record.slots[s].layer == p.layer && record.slots[s].kind == p.kind) row = int(s);
    QVERIFY(row >= 0);
    QCOMPARE(heat->cellDrop(row, p.bits - 2), (record.base_accuracy - p.accuracy) * 100.0);
  }
  QVERIFY(!heat->isStale());
  QCOMPARE(panel->curves()->seriesNames().size(), 5);
  QCOMPARE(panel->curves()->baseLine(), record.base_accuracy * 100.0);
  // One undo step "Sensitivity sweep"; the document is modified (the record is project data).
  QCOMPARE(doc->undoStack()->undoText(), QStringLiteral("Sensitivity sweep"));
  QVERIFY(doc->isModified());
  QVERIFY(w.trainingController()->hasModel());  // a sweep never discards the model
  auto* bar = mustFind<QProgressBar>(&w, "progressBar");
  QCOMPARE(bar->value(), bar->maximum());

  // --- The Pareto front (computed from the record off the GUI thread).
  QTRY_VERIFY_WITH_TIMEOUT(actions->front() != nullptr, 10000);
  const std::vector<analysis::MixedConfig> expectedFront = analysis::pareto_front(record, doc->project());
  QCOMPARE(actions->front()->size(), expectedFront.size());
  QCOMPARE(panel->pareto()->pointCount(), int(expectedFront.size()));
  for (size_t i = 0; i < expectedFront.size(); ++i) {
    QCOMPARE((*actions->front())[i].bits, expectedFront[i].bits);
    QCOMPARE((*actions->front())[i].size_bytes, expectedFront[i].size_bytes);
  }
  QVERIFY(expectedFront.size() >= 2);

  // --- Budget nothing meets: the core's message in a message box.
  press(w, Qt::Key_F9);
  QCOMPARE(panel->tabs()->currentIndex(), int(AnalysisPanel::ParetoTab));
  panel->maxBytesBox()->setValue(1);
  QString expectedMessage;
  try {
    analysis::Budget b;
    b.max_size_bytes = 1;
    analysis::suggest(expectedFront, b);
  } catch (const std::exception& e) {
    expectedMessage = QString::fromStdString(e.what());
  }
  QVERIFY(!expectedMessage.isEmpty());
  QTest::mouseClick(panel->suggestButton(), Qt::LeftButton);
  QMessageBox* box = waitFor<QMessageBox>(&w, "errorMessageBox");
  QVERIFY(box);
  QCOMPARE(box->text(), expectedMessage);
  box->close();

  // --- Click the cheapest point of the front, Apply: one undo step, the model set aside.
  panel->maxBytesBox()->setValue(0);
  ParetoView* pareto = panel->pareto();
  QCustomPlot* plot = pareto->plot();
  plot->replot();
  const QPointF pos = pareto->pointPosition(0);
  const QPoint pixel(int(plot->xAxis->coordToPixel(pos.x())), int(plot->yAxis->coordToPixel(pos.y())));
  QTest::mouseClick(plot, Qt::LeftButton, Qt::NoModifier, pixel);
  QTRY_COMPARE(pareto->selectedIndex(), 0);
  QVERIFY(panel->applyButton()->isEnabled());
  const Project before = doc->project();
  const int undoCount = doc->undoStack()->count();
  QTest::mouseClick(panel->applyButton(), Qt::LeftButton);
  QMessageBox* confirm = waitFor<QMessageBox>(&w, "applyConfirmBox");
  QVERIFY2(confirm, "a trained model would be discarded: Apply asks first");
  QVERIFY(confirm->text().contains(QStringLiteral("discarded")));
  QTest::mouseClick(confirm->button(QMessageBox::Ok), Qt::LeftButton);
  QTRY_COMPARE(doc->undoStack()->count(), undoCount + 1);
  QCOMPARE(doc->undoStack()->undoText(), QStringLiteral("Apply mixed precision"));
  for (size_t s = 0; s < record.slots.size(); ++s)
    QCOMPARE(slotBits(doc->project(), record.slots[s]), expectedFront[0].bits[s]);
  QVERIFY(!w.trainingController()->hasModel());  // trained at the old bit widths
  QVERIFY(!heat->isStale());                     // bit widths do not make the sweep stale
  QVERIFY(panel->selectionLabel()->text().contains(QStringLiteral("(applied)")));
  QCOMPARE(analysis::model_cost(doc->project()).size_bytes, expectedFront[0].size_bytes);

  // Ctrl+Z restores every bit width and the trained model; Ctrl+Shift+Z applies again.
  press(w, Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(doc->project().layers, before.layers);
  QVERIFY(w.trainingController()->hasModel());
  press(w, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
  for (size_t s = 0; s < record.slots.size(); ++s)
    QCOMPARE(slotBits(doc->project(), record.slots[s]), expectedFront[0].bits[s]);

  // --- Fine-tune 1 epoch (few batches) from the weights trained before Apply.
  w.setRunLimits(kTrainLimit, kTestLimit, 5);
  panel->fineTuneEpochsBox()->setValue(1);
  QTest::mouseClick(panel->fineTuneButton(), Qt::LeftButton);
  QVERIFY(w.trainingController()->isRunning());
  QTRY_VERIFY_WITH_TIMEOUT(!w.trainingController()->isRunning(), 120000);
  const TrainingSummary tuned = w.trainingController()->lastSummary();
  QCOMPARE(tuned.testSamples, kTestLimit);
  QCOMPARE(pareto->measured(0), tuned.testAccuracy);
  QCOMPARE(panel->measuredLabel()->property("accuracy").toDouble(), tuned.testAccuracy);
  QVERIFY(panel->measuredLabel()->text().contains(QStringLiteral("measured")));
  // Started from the trained weights, not from scratch: far above chance after 5 batches.
  QVERIFY2(tuned.testAccuracy > 0.4, qPrintable(QString::number(tuned.testAccuracy)));
  // A cancelled fine-tune is not the configuration's measured accuracy.
  QTest::mouseClick(panel->fineTuneButton(), Qt::LeftButton);
  QVERIFY(w.trainingController()->isRunning());
  press(w, Qt::Key_Escape);
  QTRY_VERIFY_WITH_TIMEOUT(!w.trainingController()->isRunning(), 120000);
  QVERIFY(w.trainingController()->lastSummary().cancelled);
  QCOMPARE(pareto->measured(0), tuned.testAccuracy);
  QVERIFY2(panel->measuredLabel()->text().startsWith(QStringLiteral("Fine-tune cancelled")),
           qPrintable(panel->measuredLabel()->text()));
  QVERIFY(!panel->measuredLabel()->property("accuracy").isValid());

  // --- A network edit makes the sweep stale; undo makes it current again.
  LayerSpec conv1 = *doc->project().find("conv1");
  conv1.params["bias"] = 0.0;
  QVERIFY(doc->changeLayers({"conv1"}, {conv1}, QStringLiteral("bias"), 1));
  QVERIFY(heat->isStale());
  QVERIFY(pareto->isStale());
  QVERIFY(panel->curves()->isStale());
  QVERIFY(heat->staleText().contains(QStringLiteral("network changed")));
  QVERIFY(!panel->applyButton()->isEnabled());
  press(w, Qt::Key_Z, Qt::ControlModifier);
  QVERIFY(!heat->isStale());
  // A bit width the sweep did not vary (relu1's activations: a weights sweep) counts too:
  // the record's drops were measured with 4-bit activations there.
  LayerSpec relu1 = *doc->project().find("relu1");
  QCOMPARE(relu1.act_quant->bit_width, 4);
  relu1.act_quant->bit_width = 6;
  QVERIFY(doc->changeLayers({"relu1"}, {relu1}, QStringLiteral("bit_width"), 2));
  QVERIFY(heat->isStale());
  QVERIFY(pareto->isStale());
  press(w, Qt::Key_Z, Qt::ControlModifier);
  QVERIFY(!heat->isStale());

  // --- Save, reopen in a new window: the views show the record, nothing is recomputed.
  QTemporaryDir dir;
  const QString path = dir.filePath(QStringLiteral("swept.qnn.json"));
  QVERIFY(w.fileActions()->saveTo(path));
  MainWindow w2;
  QVERIFY(w2.openProject(path));
  AnalysisActions* actions2 = w2.analysisActions();
  QVERIFY(w2.document()->project().sweep);
  QVERIFY(*w2.document()->project().sweep == record);
  QCOMPARE(actions2->panel()->heatmap()->missingCount(), 0);
  QCOMPARE(actions2->panel()->heatmap()->rowLabels(), heat->rowLabels());
  QCOMPARE(actions2->panel()->heatmap()->cellDrop(2, 1), heat->cellDrop(2, 1));
  QVERIFY(!actions2->panel()->heatmap()->isStale());
  QTRY_VERIFY(actions2->front() != nullptr);
  QCOMPARE(actions2->panel()->pareto()->pointCount(), int(expectedFront.size()));
  QCOMPARE(actions2->jobsStarted(), 0);
  QVERIFY(!actions2->isRunning());

  // A file whose network no longer matches its sweep opens with the sweep marked stale.
  Project edited = w2.document()->project();
  edited.find("fc2")->params["bias"] = 0.0;  // fc3 has none already
  edited.find("fc2")->bias_quant.reset();
  const QString stalePath = dir.filePath(QStringLiteral("stale.qnn.json"));
  save_project(edited, stalePath.toStdString());
  QVERIFY(w2.openProject(stalePath));
  QVERIFY(actions2->panel()->heatmap()->hasResult());
  QVERIFY(actions2->panel()->heatmap()->isStale());
  QVERIFY(actions2->panel()->curves()->isStale());
  QVERIFY(actions2->front() == nullptr);  // no front from a stale record
}

void TestGuiAnalysis::cancelKeepsPartialResults() {
  MainWindow w;
  QVERIFY(trainQuick(w));
  AnalysisActions* actions = w.analysisActions();
  SweepDialog* dialog = openSweepDialog(w);
  QVERIFY(dialog);
  dialog->minBitsBox()->setValue(2);
  dialog->maxBitsBox()->setValue(8);
  dialog->whatBox()->setCurrentIndex(dialog->whatBox()->findData(QStringLiteral("both")));
  dialog->holdoutBox()->setValue(2000);
  dialog->calibrationBox()->setValue(4);
  int arrived = 0;
  connect(actions->controller(), &AnalysisController::sweepPoint, this, [&] { ++arrived; });
  qnn_test::GuiGapProbe probe;
  probe.start();
  QTest::mouseClick(dialog->okButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(arrived >= 4, 120000);
  QVERIFY2(mustFind<QLabel>(&w, "etaLabel")->text().startsWith(QStringLiteral("ETA")),
           qPrintable(mustFind<QLabel>(&w, "etaLabel")->text()));
  press(w, Qt::Key_Escape);  // Esc cancels the analysis like a training
  QTRY_VERIFY_WITH_TIMEOUT(!actions->isRunning(), 30000);
  probe.stop();
  qInfo("cancelled sweep: %d points, UI thread: %d ticks, longest gap %lld ms", arrived, probe.ticks, probe.maxGapMs);
  QVERIFY2(probe.maxGapMs < 50, qPrintable(QStringLiteral("UI thread stalled %1 ms").arg(probe.maxGapMs)));
  QVERIFY(w.document()->project().sweep);
  const SweepRecord& r = *w.document()->project().sweep;
  QVERIFY(!r.complete);
  const int total = int(r.slots.size()) * 7;
  QVERIFY(r.slots.size() >= 8);  // LeNet: 5 weight and 5 activation quantizers (input included)
  QCOMPARE(int(r.points.size()), arrived);
  QVERIFY2(arrived >= 4 && arrived < total, qPrintable(QString::number(arrived)));
  SweepHeatmapView* heat = actions->panel()->heatmap();
  QCOMPARE(heat->missingCount(), total - arrived);
  QVERIFY2(heat->title().contains(QStringLiteral("partial")), qPrintable(heat->title()));
  QCOMPARE(w.document()->undoStack()->undoText(), QStringLiteral("Sensitivity sweep (partial)"));
  QVERIFY(mustFind<QLabel>(&w, "statusLabel")->text().startsWith(QStringLiteral("Sweep cancelled")));
  // No Pareto front from a partial sweep: F9 says which point is missing.
  press(w, Qt::Key_F9);
  QTRY_VERIFY(!w.lastError().isEmpty());
  QVERIFY(actions->front() == nullptr);
  if (QMessageBox* box = waitFor<QMessageBox>(&w, "errorMessageBox", 1000)) box->close();

  // --- A sweep cancelled before any point does not replace the saved one.
  const SweepRecord saved = *w.document()->project().sweep;
  const int undoCount = w.document()->undoStack()->count();
  dialog = openSweepDialog(w);
  QVERIFY(dialog);
  dialog->minBitsBox()->setValue(2);
  dialog->maxBitsBox()->setValue(2);
  dialog->whatBox()->setCurrentIndex(dialog->whatBox()->findData(QStringLiteral("weights")));
  dialog->holdoutBox()->setValue(256);
  QTest::mouseClick(dialog->okButton(), Qt::LeftButton);
  QVERIFY(actions->isRunning());
  actions->cancel();  // before the base is evaluated: the core returns no point
  QTRY_VERIFY_WITH_TIMEOUT(!actions->isRunning(), 30000);
  QVERIFY(w.document()->project().sweep);
  QVERIFY(*w.document()->project().sweep == saved);
  QCOMPARE(w.document()->undoStack()->count(), undoCount);
  QVERIFY2(mustFind<QLabel>(&w, "statusLabel")->text() ==
               QStringLiteral("Sweep cancelled before any point; the saved sweep is kept."),
           qPrintable(mustFind<QLabel>(&w, "statusLabel")->text()));
  QCOMPARE(heat->missingCount(), total - arrived);  // the saved partial sweep is still drawn

  // --- The project edited during a sweep: the record is stored, of the project it ran
  // on, and shows stale (relu1's activations are not swept by a weights sweep).
  dialog = openSweepDialog(w);
  QVERIFY(dialog);
  dialog->minBitsBox()->setValue(2);
  dialog->maxBitsBox()->setValue(2);
  dialog->whatBox()->setCurrentIndex(dialog->whatBox()->findData(QStringLiteral("weights")));
  dialog->holdoutBox()->setValue(256);
  const Project started = w.document()->project();
  QTest::mouseClick(dialog->okButton(), Qt::LeftButton);
  QVERIFY(actions->isRunning());
  LayerSpec relu1 = *w.document()->project().find("relu1");
  relu1.act_quant->bit_width = 6;
  QVERIFY(w.document()->changeLayers({"relu1"}, {relu1}, QStringLiteral("bit_width"), 3));
  QTRY_VERIFY_WITH_TIMEOUT(!actions->isRunning(), 120000);
  QVERIFY(w.document()->project().sweep);
  const SweepRecord edited = *w.document()->project().sweep;
  QVERIFY(edited.complete);
  QCOMPARE(int(edited.points.size()), 5);
  QCOMPARE(edited.network, analysis::sweep_fingerprint(started, edited.slots));
  QVERIFY(heat->isStale());
  QVERIFY(actions->panel()->curves()->isStale());
  QVERIFY2(mustFind<QLabel>(&w, "statusLabel")->text().contains(QStringLiteral("edited during the sweep")),
           qPrintable(mustFind<QLabel>(&w, "statusLabel")->text()));
  QCOMPARE(w.document()->undoStack()->undoText(), QStringLiteral("Sensitivity sweep"));
  w.document()->undoStack()->undo();  // the sweep
  w.document()->undoStack()->undo();  // the edit
  QCOMPARE(w.document()->project().layers, started.layers);
  QVERIFY(*w.document()->project().sweep == saved);

  // --- Closing the window mid-sweep: the sweep stops first, so its partial record is in
  // the document when the save prompt asks (Cancel there keeps the window open).
  dialog = openSweepDialog(w);
  QVERIFY(dialog);
  dialog->minBitsBox()->setValue(2);
  dialog->maxBitsBox()->setValue(8);
  dialog->whatBox()->setCurrentIndex(dialog->whatBox()->findData(QStringLiteral("both")));
  dialog->holdoutBox()->setValue(2000);
  arrived = 0;
  QTest::mouseClick(dialog->okButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(arrived >= 1, 120000);
  bool prompted = false;
  std::optional<SweepRecord> atPrompt;
  bool runningAtPrompt = true;
  QTimer answer;
  answer.setInterval(20);
  connect(&answer, &QTimer::timeout, this, [&] {
    auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
    if (!box || prompted) return;
    prompted = true;
    atPrompt = w.document()->project().sweep;
    runningAtPrompt = actions->isRunning();
    box->button(QMessageBox::Cancel)->click();
  });
  answer.start();
  QVERIFY(!w.close());  // Cancel at the prompt
  answer.stop();
  QVERIFY(prompted);
  QVERIFY(!runningAtPrompt);
  QVERIFY(atPrompt);
  QVERIFY(!atPrompt->complete);
  QVERIFY(!atPrompt->points.empty());
  QVERIFY(int(atPrompt->points.size()) >= arrived);
  QVERIFY(!(*atPrompt == saved));
  QCOMPARE(w.document()->undoStack()->undoText(), QStringLiteral("Sensitivity sweep (partial)"));

  // --- An error at a point: the core returns the points so far (complete false, last
  // note "error: ..."); the GUI stores them and shows the error in a message box.
  SweepRecord failed = *atPrompt;
  const std::string error = "sweep point conv2 weight at 5 bits: the model's weights hold NaN or Inf (conv2.weight)";
  failed.notes.push_back("error: " + error);
  Q_EMIT actions->controller()->sweepFinished(failed);
  QMessageBox* box = waitFor<QMessageBox>(&w, "errorMessageBox");
  QVERIFY(box);
  QCOMPARE(box->windowTitle(), QStringLiteral("Sensitivity sweep failed"));
  QVERIFY2(box->text().contains(QString::fromStdString(error)), qPrintable(box->text()));
  QVERIFY2(box->text().startsWith(QStringLiteral("Sweep stopped by an error: %1 of %2 points kept")
                                      .arg(failed.points.size())
                                      .arg(failed.slots.size() * 7)),
           qPrintable(box->text()));
  box->close();
  QVERIFY(*w.document()->project().sweep == failed);
  QCOMPARE(heat->missingCount(), int(failed.slots.size()) * 7 - int(failed.points.size()));
  // ... and one before any point keeps the saved sweep, still saying why.
  SweepRecord empty = failed;
  empty.points.clear();
  Q_EMIT actions->controller()->sweepFinished(empty);
  box = waitFor<QMessageBox>(&w, "errorMessageBox");
  QVERIFY(box);
  QVERIFY2(box->text().startsWith(QStringLiteral("Sweep failed before any point; the saved sweep is kept.")),
           qPrintable(box->text()));
  QVERIFY(box->text().contains(QString::fromStdString(error)));
  box->close();
  QVERIFY(*w.document()->project().sweep == failed);
}

void TestGuiAnalysis::calibrateDialogPaths() {
  QTemporaryDir dir;
  const QString checkpoint = dir.filePath(QStringLiteral("lenet.pt"));
  {
    MainWindow w;
    QVERIFY(trainQuick(w));
    w.trainingController()->saveCheckpoint(checkpoint);
    ProjectDocument* doc = w.document();
    const std::shared_ptr<QuantModelImpl> trained = w.trainingController()->model();

    // --- Analyze (F7): the analyzer on the trained model, then stale when it goes.
    press(w, Qt::Key_F7);
    AnalyzerView* analyzer = w.analysisActions()->panel()->analyzer();
    QTRY_VERIFY_WITH_TIMEOUT(!w.analysisActions()->isRunning(), 120000);
    QVERIFY(analyzer->hasResult());
    const AnalyzerReportPtr report = analyzer->report();
    QCOMPARE(report->samples, qint64(2000));
    QCOMPARE(int(report->layers.size()), int(analysis::quantized_layers(*trained, analysis::QuantKind::Both).size()));
    QVERIFY(report->float_accuracy > 0.3);
    QVERIFY(!analyzer->isStale());

    // --- Calibrate (F6) with per-channel weights: one undo step with the model change.
    CalibrateOutcome outcome;
    bool finished = false;
    connect(w.analysisActions()->controller(), &AnalysisController::calibrateFinished, this,
            [&](const CalibrateOutcome& o) {
              outcome = o;
              finished = true;
            });
    press(w, Qt::Key_F6);
    auto* dialog = waitFor<CalibrateDialog>(&w, "calibrateDialog");
    QVERIFY(dialog);
    QVERIFY(!dialog->weightsEdit()->isVisible());  // the current model is calibrated
    dialog->batchesBox()->setValue(4);
    dialog->batchSizeBox()->setValue(32);
    dialog->evalImagesBox()->setValue(500);
    dialog->perChannelBox()->setChecked(true);
    const int undoCount = doc->undoStack()->count();
    QTest::mouseClick(dialog->okButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(finished, 120000);
    QVERIFY(!w.analysisActions()->isRunning());
    QMessageBox* result = waitFor<QMessageBox>(&w, "calibrationResultBox");
    QVERIFY(result);
    QVERIFY(result->text().contains(QStringLiteral("before")));
    QCOMPARE(outcome.samples, qint64(128));
    QCOMPARE(outcome.evalSamples, qint64(500));
    QVERIFY(!outcome.calibrated.isEmpty());
    QCOMPARE(doc->undoStack()->count(), undoCount + 1);
    QCOMPARE(doc->undoStack()->undoText(), QStringLiteral("Calibrate with per-channel weights"));
    QVERIFY(doc->project().find("conv1")->weight_quant->per_channel);
    QVERIFY(w.trainingController()->model() == outcome.model);
    QVERIFY(analyzer->isStale());  // the analysed model is no longer current
    // The accuracy shown is the calibrated model's, measured independently here.
    {
      QuantModel m(outcome.model);
      const Dataset test = load_dataset(doc->project(), false, 500);
      QCOMPARE(evaluate(m, test, 256).accuracy, outcome.accuracyAfter);
      QuantModel t(trained);
      QCOMPARE(evaluate(t, test, 256).accuracy, outcome.accuracyBefore);
    }
    result->close();

    // --- An analysis that fails leaves the report shown stale (it is of `trained`, not
    // of the calibrated model), with an error naming the job and the step.
    const DatasetSpec dataset = doc->project().dataset;
    DatasetSpec broken = dataset;
    broken.path = dir.filePath(QStringLiteral("missing")).toStdString();
    QVERIFY(doc->changeDataset(broken, QStringLiteral("path")));
    QVERIFY(w.trainingController()->model() == outcome.model);
    press(w, Qt::Key_F7);
    QTRY_VERIFY_WITH_TIMEOUT(!w.analysisActions()->isRunning(), 30000);
    QMessageBox* failure = waitFor<QMessageBox>(&w, "errorMessageBox");
    QVERIFY(failure);
    QCOMPARE(failure->windowTitle(), QStringLiteral("Analysis failed"));
    QVERIFY2(w.lastError().startsWith(QStringLiteral("Analyzer: loading the training images: ")),
             qPrintable(w.lastError()));
    QVERIFY(!w.lastError().contains(QStringLiteral("LibTorch")));
    QVERIFY(analyzer->report() == report);
    QVERIFY(analyzer->isStale());
    failure->close();
    press(w, Qt::Key_Z, Qt::ControlModifier);  // the dataset path (the views refresh)
    QVERIFY(doc->project().dataset == dataset);
    QVERIFY(analyzer->isStale());  // still the report of `trained`, not of the current model

    // Undo: per-tensor weights and the trained model again.
    press(w, Qt::Key_Z, Qt::ControlModifier);
    QVERIFY(!doc->project().find("conv1")->weight_quant->per_channel);
    QVERIFY(w.trainingController()->model() == trained);
  }

  // --- No trained model: the dialog asks for a weights file and calibrates it.
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  QVERIFY(showActive(w));
  QVERIFY(!w.trainingController()->hasModel());
  press(w, Qt::Key_F6);
  auto* dialog = waitFor<CalibrateDialog>(&w, "calibrateDialog");
  QVERIFY(dialog);
  QVERIFY(dialog->weightsEdit()->isVisible());
  QVERIFY(!dialog->okButton()->isEnabled());
  QTest::keyClicks(dialog->weightsEdit(), checkpoint);
  QVERIFY(dialog->okButton()->isEnabled());
  dialog->batchesBox()->setValue(2);
  dialog->evalImagesBox()->setValue(300);
  QTest::mouseClick(dialog->okButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(!w.analysisActions()->isRunning(), 120000);
  QMessageBox* calibrated = waitFor<QMessageBox>(&w, "calibrationResultBox");
  QVERIFY(calibrated);
  QVERIFY(w.trainingController()->hasModel());
  QCOMPARE(w.document()->undoStack()->count(), 0);  // no per-channel: the project is unchanged
  const double after = w.analysisActions()->panel()->measuredLabel()->property("accuracy").toDouble();
  QVERIFY2(after > 0.3 && after <= 1.0, qPrintable(QString::number(after)));
  calibrated->close();

  // --- A model whose activation quantizers never saw data: the analyzer calibrates them
  // first (as `qnn analyze` does, 16 x 64 training images) and says which.
  QuantModel fresh = build_model(w.document()->project());
  std::vector<std::string> expected;
  {
    QuantModel probe = clone_model(fresh);
    const analysis::CalibrationOptions c;
    const Dataset train = load_dataset(w.document()->project(), true, c.batches * c.batch_size);
    expected = analysis::calibrate_uncalibrated(probe, train, c).calibrated;
  }
  QVERIFY(expected.size() >= 5);  // quant_inp, relu1..relu4
  QStringList ids;
  for (const std::string& id : expected) ids << QString::fromStdString(id);
  w.trainingController()->adoptModel(fresh.ptr());
  press(w, Qt::Key_F7);
  QTRY_VERIFY_WITH_TIMEOUT(!w.analysisActions()->isRunning(), 120000);
  const QString status = w.analysisActions()->panel()->status();
  QVERIFY2(status.contains(QStringLiteral("calibrated first")) && status.contains(ids.join(QStringLiteral(", "))),
           qPrintable(status));
  QVERIFY(w.analysisActions()->panel()->analyzer()->hasResult());
  QVERIFY(!w.analysisActions()->panel()->analyzer()->isStale());

  // The sweep does the same for its base: the live base (drawn before the points) is the
  // record's, and the status names the quantizers calibrated first.
  SweepDialog* sweep = openSweepDialog(w);
  QVERIFY(sweep);
  sweep->minBitsBox()->setValue(2);
  sweep->maxBitsBox()->setValue(2);
  sweep->whatBox()->setCurrentIndex(sweep->whatBox()->findData(QStringLiteral("weights")));
  sweep->holdoutBox()->setValue(256);
  std::optional<SweepRecord> live;
  connect(w.analysisActions()->controller(), &AnalysisController::sweepStarted, this,
          [&](const SweepRecord& r) { live = r; });
  QTest::mouseClick(sweep->okButton(), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(!w.analysisActions()->isRunning(), 120000);
  QVERIFY(live);
  QVERIFY(w.document()->project().sweep);
  const SweepRecord& swept = *w.document()->project().sweep;
  QVERIFY(swept.complete);
  QCOMPARE(live->base_accuracy, swept.base_accuracy);
  QCOMPARE(live->network, swept.network);
  QCOMPARE(live->notes, swept.notes);
  QVERIFY(!swept.notes.empty());
  QVERIFY(QString::fromStdString(swept.notes.front()).startsWith(ids.join(QStringLiteral(", ")) + QStringLiteral(":")));
  const QString done = mustFind<QLabel>(&w, "statusLabel")->text();
  QVERIFY2(done.contains(QStringLiteral("Calibrated first: ") + ids.join(QStringLiteral(", "))), qPrintable(done));
}

/// New-user finding: on a 1366 x 768 screen, File > Load Weights grew the window to
/// 1577 px (the inspection summary and the status line set its minimum width). No label
/// may widen the window: after loading weights (and showing the analysis tabs) the
/// window's minimum width stays within 1366.
void TestGuiAnalysis::loadedWeightsKeepTheWindowWithin1366() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const QString ckpt = dir.filePath(QStringLiteral("weights_1366.pt"));
  {
    torch::manual_seed(3);
    QuantModel m = build_model(load_project(examplePath("lenet_lowprec.qnn.json").toStdString()));
    save_checkpoint(m, ckpt.toStdString());
  }
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  w.resize(1366, 740);
  QVERIFY(showActive(w));
  w.loadWeights(ckpt);
  auto* summary = mustFind<QLabel>(&w, "inspectionSummary");
  QTRY_VERIFY_WITH_TIMEOUT(summary->text().contains(QStringLiteral("worst layer")), 60000);
  // A long status line must not widen the window either.
  mustFind<QLabel>(&w, "statusLabel")->setText(QString(400, QLatin1Char('x')));
  QApplication::processEvents();
  QVERIFY2(w.minimumSizeHint().width() <= 1366, qPrintable(QString::number(w.minimumSizeHint().width())));
  QVERIFY2(w.minimumWidth() <= 1366, qPrintable(QString::number(w.minimumWidth())));
  QVERIFY2(w.width() <= 1366, qPrintable(QString::number(w.width())));
  // Every analysis tab, too (the Pareto tab once changed the dock's size).
  auto* tabs = mustFind<QTabWidget>(&w, "analysisTabs");
  for (int i = 0; i < tabs->count(); ++i) {
    tabs->setCurrentIndex(i);
    QApplication::processEvents();
    QVERIFY2(w.minimumSizeHint().width() <= 1366,
             qPrintable(tabs->tabText(i) + QStringLiteral(": ") + QString::number(w.minimumSizeHint().width())));
  }
}

QTEST_MAIN(TestGuiAnalysis)
#include "test_gui_analysis.moc"
