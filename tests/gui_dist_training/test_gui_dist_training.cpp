// SPDX-License-Identifier: GPL-3.0-or-later
// Training > Train on N Processes (local)… (issue 17, item 3): drives MainWindow like a
// user (the menu action, its dialog, Esc) on the low-precision LeNet with small limits.
// The run goes to the real `qnn launch` (QNN_CLI_PATH) on 127.0.0.1: the live curves must
// fill from rank 0's progress, the model rank 0 trained must become the window's model,
// Esc must leave no process behind, and a failing rank must be named in a message box.
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include <cmath>

#include "core/data/dataset.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/train/trainer.h"

#include <QAction>
#include <QApplication>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTimer>
#include <QtTest>

#include "app/gui/dist_training.h"
#include "app/gui/main_window.h"
#include "widgets/document/project_document.h"
#include "widgets/plots/training_plot.h"
#include "widgets/training/training_controller.h"

using namespace qnn;

namespace {

constexpr qint64 kTrainLimit = 1024;  // 2 ranks x 64: 8 steps per epoch
constexpr qint64 kTestLimit = 300;

QString examplePath(const char* name) {
  return QStringLiteral(QNN_SOURCE_DIR "/resources/examples/") + QLatin1String(name);
}

bool openQuickProject(MainWindow& w, int epochs) {
  if (!w.openProject(examplePath("lenet_lowprec.qnn.json"))) return false;
  Project p = w.document()->project();
  p.training.threads = 1;
  p.training.epochs = epochs;
  w.document()->setProject(p, w.document()->filePath());
  return true;
}

template <typename T>
T* mustFind(QObject* root, const char* name) {
  T* child = root->findChild<T*>(QLatin1String(name));
  if (!child) qFatal("no child named %s", name);
  return child;
}

/// Pids of the processes this test process started through the GUI (the launcher and its
/// ranks carry QNN_STUDIO_PARENT=<our pid>), read from /proc/*/environ.
QStringList ownQnnProcesses() {
  const QByteArray marker = "QNN_STUDIO_PARENT=" + QByteArray::number(QCoreApplication::applicationPid());
  QStringList pids;
  for (const QString& entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
    bool isPid = false;
    entry.toInt(&isPid);
    if (!isPid) continue;
    QFile environ(QStringLiteral("/proc/%1/environ").arg(entry));
    if (!environ.open(QIODevice::ReadOnly)) continue;
    // Zombies (ended, not yet reaped) have an empty environment: they count as gone.
    for (const QByteArray& var : environ.readAll().split('\0'))
      if (var == marker) pids << entry;
  }
  return pids;
}

/// Answers the Train on N Processes dialog (2 processes x 1 thread) once it is open.
void answerDialogLater(bool accept) {
  QTimer::singleShot(0, [accept] {
    QDialog* dialog = nullptr;
    for (QWidget* w : QApplication::topLevelWidgets())
      if (w->objectName() == QLatin1String("distTrainingDialog") && w->isVisible()) dialog = qobject_cast<QDialog*>(w);
    if (!dialog) {
      answerDialogLater(accept);  // not open yet
      return;
    }
    mustFind<QSpinBox>(dialog, "processesSpin")->setValue(2);
    mustFind<QSpinBox>(dialog, "threadsPerProcessSpin")->setValue(1);
    auto* buttons = dialog->findChild<QDialogButtonBox*>();
    buttons->button(accept ? QDialogButtonBox::Ok : QDialogButtonBox::Cancel)->click();
  });
}

std::vector<torch::Tensor> parameters(QuantModelImpl& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.named_parameters()) out.push_back(p.value().detach().clone());
  return out;
}

}  // namespace

class TestGuiDistTraining : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void actionIsInTheTrainingMenu();
  void trainsOnTwoProcessesWithLiveCurves();
  void escStopsEveryProcess();
  void aFailingRankIsNamedInAMessageBox();
};

void TestGuiDistTraining::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName(QStringLiteral("qnn-studio-test"));
  qputenv("QNN_EXECUTABLE", QByteArray(QNN_CLI_PATH));
  QVERIFY2(QFileInfo(QStringLiteral(QNN_CLI_PATH)).isExecutable(), QNN_CLI_PATH);
  QCOMPARE(DistTrainingAction::launcherPath(), QStringLiteral(QNN_CLI_PATH));
}

void TestGuiDistTraining::actionIsInTheTrainingMenu() {
  MainWindow w;
  auto* action = mustFind<QAction>(&w, "distTrainingAction");
  QVERIFY(!action->isEnabled());  // no project yet
  QVERIFY(openQuickProject(w, 1));
  QVERIFY(action->isEnabled());
  QVERIFY(!action->toolTip().isEmpty());
  QVERIFY(!action->statusTip().isEmpty());
  QMenu* training = nullptr;
  for (QAction* top : w.menuBar()->actions())
    if (top->menu() && top->text().remove(QLatin1Char('&')) == QLatin1String("Training")) training = top->menu();
  QVERIFY(training);
  QVERIFY(training->actions().contains(action));
  QCOMPARE(action->text().remove(QLatin1Char('&')), QStringLiteral("Train on N Processes (local)…"));
  // Cancel in the dialog starts nothing.
  answerDialogLater(false);
  action->trigger();
  QVERIFY(!w.trainingController()->isRunning());
}

void TestGuiDistTraining::trainsOnTwoProcessesWithLiveCurves() {
  MainWindow w;
  QVERIFY(openQuickProject(w, 2));
  w.setRunLimits(kTrainLimit, kTestLimit, 0);
  w.show();
  const bool modifiedBefore = w.document()->isModified();
  const Project before = w.document()->project();
  TrainingController* controller = w.trainingController();
  auto* plot = mustFind<TrainingPlot>(&w, "trainingPlot");
  auto* action = mustFind<QAction>(&w, "distTrainingAction");
  QSignalSpy progress(controller, &TrainingController::progress);
  QSignalSpy finished(controller, &TrainingController::finished);
  QSignalSpy failed(controller, &TrainingController::failed);

  answerDialogLater(true);
  action->trigger();
  QVERIFY(controller->isRunning());
  QVERIFY(!action->isEnabled());                                  // no second run meanwhile
  QVERIFY(!mustFind<QAction>(&w, "trainAction")->isEnabled());
  QTRY_VERIFY_WITH_TIMEOUT(!ownQnnProcesses().isEmpty() || !controller->isRunning(), 20000);
  QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 120000);
  QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));
  QCOMPARE(finished.count(), 1);
  const auto summary = finished.first().first().value<TrainingSummary>();
  QVERIFY(!summary.cancelled);
  QCOMPARE(summary.epochs.size(), 2);

  // Live curves from rank 0's reports: train points per batch, one test point per epoch.
  int training = 0;
  bool startedSaid = false;  // the status line named the launcher's ranks while they loaded
  TrainingProgressInfo last;
  for (const auto& args : progress) {
    const auto info = args.first().value<TrainingProgressInfo>();
    if (info.phase == TrainingProgressInfo::Phase::Loading &&
        info.message.startsWith(QStringLiteral("Started 2 ranks on 127.0.0.1:")) &&
        info.message.contains(QStringLiteral("rank 1 pid ")))
      startedSaid = true;
    if (info.phase == TrainingProgressInfo::Phase::Training) ++training;
    if (info.phase == TrainingProgressInfo::Phase::Finished) last = info;
  }
  QVERIFY(startedSaid);
  QVERIFY2(training >= 2, qPrintable(QString::number(training)));
  QVERIFY(plot->trainPointCount() >= 2);
  QCOMPARE(plot->testPointCount(), 2);
  QCOMPARE(last.phase, TrainingProgressInfo::Phase::Finished);
  QCOMPARE(last.globalStep, 2 * kTrainLimit / (2 * before.training.batch_size));  // global batch = 2 x 64
  QCOMPARE(last.epochs, 2);

  // The model is the one rank 0 trained: trained (not the seed's initial weights) and
  // evaluated here exactly as rank 0 evaluated it in its own process.
  QVERIFY(controller->hasModel());
  QVERIFY(controller->currentIsLastRun());
  QuantModel model(controller->model());
  torch::manual_seed(before.training.seed);
  QuantModel initial = build_model(before);
  const auto trained = parameters(*model), start = parameters(*initial);
  QCOMPARE(trained.size(), start.size());
  bool changed = false;
  for (size_t i = 0; i < trained.size(); ++i) changed = changed || !torch::equal(trained[i], start[i]);
  QVERIFY(changed);
  const Dataset test = load_dataset(before, false, kTestLimit);
  const EvalResult mine = evaluate(model, test);
  QCOMPARE(mine.samples, kTestLimit);
  QCOMPARE(summary.testSamples, kTestLimit);
  QCOMPARE(summary.testAccuracy, mine.accuracy);
  QVERIFY2(std::abs(last.testAccuracy - mine.accuracy) < 1e-6,
           qPrintable(QStringLiteral("rank 0 %1, here %2").arg(last.testAccuracy).arg(mine.accuracy)));
  QCOMPARE(controller->currentRecord().steps, last.globalStep);

  // The end of the run as after F5: test results, status, the document untouched.
  QVERIFY(mustFind<QLabel>(&w, "testAccuracyLabel")->text().contains(QStringLiteral("%")));
  QVERIFY2(mustFind<QLabel>(&w, "statusLabel")->text().contains(QStringLiteral("trained on 2 processes")),
           qPrintable(mustFind<QLabel>(&w, "statusLabel")->text()));
  QCOMPARE(w.document()->isModified(), modifiedBefore);
  QVERIFY(network_difference(before, w.document()->project()).empty());
  QVERIFY(action->isEnabled());
  QTRY_VERIFY_WITH_TIMEOUT(ownQnnProcesses().isEmpty(), 5000);
}

void TestGuiDistTraining::escStopsEveryProcess() {
  MainWindow w;
  QVERIFY(openQuickProject(w, 50));  // far longer than the test waits
  w.setRunLimits(6000, kTestLimit, 0);
  w.show();
  w.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&w));
  TrainingController* controller = w.trainingController();
  auto* plot = mustFind<TrainingPlot>(&w, "trainingPlot");
  QSignalSpy finished(controller, &TrainingController::finished);
  QSignalSpy failed(controller, &TrainingController::failed);
  QVERIFY(w.distTraining()->start(2, 1));
  QTRY_VERIFY_WITH_TIMEOUT(plot->trainPointCount() >= 2 || !controller->isRunning(), 60000);
  QVERIFY(controller->isRunning());
  const QStringList running = ownQnnProcesses();
  QVERIFY2(running.size() >= 3, qPrintable(running.join(QLatin1Char(' '))));  // the launcher and 2 ranks

  QElapsedTimer clock;
  clock.start();
  QTest::keyClick(&w, Qt::Key_Escape);
  QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 40000);
  QTRY_VERIFY2_WITH_TIMEOUT(ownQnnProcesses().isEmpty(), qPrintable(ownQnnProcesses().join(QLatin1Char(' '))), 5000);
  // Esc reaches rank 0 alone: it stops after its batch, evaluates and saves, the other
  // rank ends when rank 0 leaves; the run is a cancelled run whose model is here, as with
  // Esc in one process.
  QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));
  QCOMPARE(finished.count(), 1);
  const auto summary = finished.first().first().value<TrainingSummary>();
  QVERIFY(summary.cancelled);
  QVERIFY(controller->hasModel());
  QVERIFY(controller->currentIsLastRun());
  QCOMPARE(summary.testSamples, kTestLimit);
  QVERIFY2(clock.elapsed() < 30000, qPrintable(QString::number(clock.elapsed())));
  qInfo("Esc to the end of the run: %lld ms", qint64(clock.elapsed()));
  if (auto* box = w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox"))) box->close();
}

void TestGuiDistTraining::aFailingRankIsNamedInAMessageBox() {
  MainWindow w;
  w.show();
  QVERIFY(openQuickProject(w, 1));
  Project p = w.document()->project();
  p.dataset.path = "/nonexistent/qnn-datasets";
  w.document()->setProject(p, w.document()->filePath());
  w.setRunLimits(kTrainLimit, kTestLimit, 0);
  TrainingController* controller = w.trainingController();
  QSignalSpy failed(controller, &TrainingController::failed);
  QVERIFY(w.distTraining()->start(2, 1));
  QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 60000);
  QCOMPARE(failed.count(), 1);
  const QString message = failed.first().first().toString();
  qInfo("%s", qPrintable(message));
  // The launcher's words: which rank failed and why (the dataset folder it could not read).
  QVERIFY2(message.startsWith(QStringLiteral("Training on 2 processes failed: qnn launch: the run failed: rank ")),
           qPrintable(message));
  QVERIFY2(message.contains(QStringLiteral("/nonexistent/qnn-datasets")), qPrintable(message));
  QMessageBox* box = nullptr;
  QTRY_VERIFY((box = w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox"))) && box->isVisible());
  QCOMPARE(box->text(), message);
  box->close();
  QVERIFY(!controller->hasModel());
  QVERIFY(mustFind<QAction>(&w, "distTrainingAction")->isEnabled());
  QTRY_VERIFY_WITH_TIMEOUT(ownQnnProcesses().isEmpty(), 5000);
  // The document is as the user left it.
  QCOMPARE(w.document()->project().dataset.path, std::string("/nonexistent/qnn-datasets"));
}

QTEST_MAIN(TestGuiDistTraining)
#include "test_gui_dist_training.moc"
