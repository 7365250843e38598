// SPDX-License-Identifier: GPL-3.0-or-later
// Crash safety and resume in the main window (issue 16, item 5): starting a run writes
// the project's recovery file at once and the trainer autosaves a training checkpoint
// beside it; a window that goes without closing (as after a kill -9) leaves both, the
// next window's recovery question names the project and the interrupted run, and
// Training > Resume continues it to its planned epochs with the old curve points first;
// the resumed model's provenance says where it came from, and replacing the project
// asks first. Resume refuses a checkpoint of another network, and a finished model's;
// a refused resume keeps the run resumable. Closing during a run keeps its last
// autosave, and the next start offers the stopped run (not as a crash).
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/train/checkpoint.h"
#include "core/train/resume.h"

#include <QAbstractButton>
#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include "app/gui/main_window.h"
#include "app/gui/project_files.h"
#include "app/gui/training_recovery.h"
#include "widgets/document/project_document.h"
#include "widgets/plots/training_plot.h"
#include "widgets/training/training_controller.h"

using namespace qnn;

namespace {

// 20 batches of 64 per epoch: long enough (a few 100 ms) that the "crash" lands in the run.
constexpr qint64 kTrainLimit = 1280;
constexpr qint64 kTestLimit = 256;
constexpr qint64 kBatches = 20;
constexpr int kEpochs = 3;

QString examplePath() { return QStringLiteral(QNN_SOURCE_DIR "/resources/examples/lenet_lowprec.qnn.json"); }

/// Answers the next message box with `button`, recording its text.
struct BoxAnswerer {
  QStringList texts;
  QMessageBox::StandardButton button = QMessageBox::Cancel;
  void arm(QMessageBox::StandardButton b, int timeoutMs = 10000) {
    button = b;
    poll(timeoutMs);
  }
  void poll(int left) {
    QTimer::singleShot(20, [this, left] {
      auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
      if (box && box->button(button)) {
        texts << box->text();
        box->button(button)->click();
        return;
      }
      if (left > 0) poll(left - 20);
    });
  }
};

/// Opens the example with a small, single-threaded run of kEpochs epochs.
bool openQuickProject(MainWindow& w) {
  if (!w.openProject(examplePath())) return false;
  Project p = w.document()->project();
  p.training.threads = 1;
  p.training.epochs = kEpochs;
  w.document()->setProject(p, w.document()->filePath());  // not modified: as if saved so
  w.setRunLimits(kTrainLimit, kTestLimit, kBatches);
  w.setEpochs(kEpochs);
  return true;
}

QAction* trainingMenuAction(MainWindow& w, const QString& name) {
  for (QAction* top : w.menuBar()->actions())
    if (top->menu() && top->text() == QStringLiteral("&Training"))
      for (QAction* a : top->menu()->actions())
        if (a->objectName() == name) return a;
  return nullptr;
}

}  // namespace

class TestGuiRecovery : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void trainStartWritesTheRecoveryFileAtOnce();
  void resumeRefusesAnotherNetworkAndAFinishedModel();
  void crashedRunIsOfferedAndResumes();
  void refusedResumeKeepsTheRun();
  void closingKeepsTheStoppedRunForTheNextStart();
  void newRunAsksBeforeReplacingAStoppedRun();
  void runWithoutItsProjectFileIsOffered();
  void declinedStoppedRunIsRemoved();

 private:
  QTemporaryDir m_tmp;
  QString m_epochCheckpoint;  ///< a copy of a run's training checkpoint after its first epoch
};

void TestGuiRecovery::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName(QStringLiteral("qnn-studio-test"));
  QCoreApplication::setApplicationName(QStringLiteral("gui-recovery"));
  // Nothing left by an earlier run of this test is offered.
  QDir(QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(QStringLiteral("recovery")))
      .removeRecursively();
  QSettings().setValue(QLatin1String(TrainingRecovery::kAutosaveMinutesKey), 0.0);  // after every batch
  QVERIFY(m_tmp.isValid());
}

void TestGuiRecovery::trainStartWritesTheRecoveryFileAtOnce() {
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(openQuickProject(w));
  ProjectFileActions* files = w.fileActions();
  TrainingController* c = w.trainingController();
  QVERIFY(!w.document()->isModified());
  QVERIFY(!files->hasRecovery());  // nothing unsaved, so nothing written before the run

  bool checkpointAtEpochEnd = false;
  m_epochCheckpoint = m_tmp.filePath(QStringLiteral("epoch1.train.pt"));
  connect(c, &TrainingController::epochDone, this, [&](const TrainingProgressInfo& info) {
    if (info.epoch != 1) return;
    checkpointAtEpochEnd = QFileInfo::exists(files->trainingCheckpointFile());
    QFile::copy(files->trainingCheckpointFile(), m_epochCheckpoint);
  });
  w.startTraining();
  QVERIFY(c->isRunning());
  // At once, before any event: the project (the run's crash could come any time now).
  QVERIFY(files->hasRecovery());
  QCOMPARE(load_project(files->recoveryFile().toStdString()), w.document()->project());
  QCOMPARE(ProjectFileActions::recoveredProjectName(files->recoveryFile()), QStringLiteral("lenet_lowprec.qnn.json"));
  QVERIFY(QTest::qWaitFor([&] { return !c->isRunning(); }, 120000));
  disconnect(c, &TrainingController::epochDone, this, nullptr);
  QVERIFY(c->hasModel());
  QVERIFY(checkpointAtEpochEnd);  // the trainer autosaved beside the recovery file
  QVERIFY(QFileInfo(m_epochCheckpoint).size() > 0);
  // Completed: the model is in memory, its training checkpoint and the clean project's
  // recovery file are gone.
  QVERIFY(!QFileInfo::exists(files->trainingCheckpointFile()));
  QVERIFY(!files->hasRecovery());
  QVERIFY(w.trainingRecovery()->resumablePath().isEmpty());
  QVERIFY(!w.trainingRecovery()->resumeAction()->isEnabled());
}

void TestGuiRecovery::resumeRefusesAnotherNetworkAndAFinishedModel() {
  QVERIFY2(QFileInfo::exists(m_epochCheckpoint), "needs trainStartWritesTheRecoveryFileAtOnce");
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(openQuickProject(w));
  TrainingPlot* plot = w.findChild<TrainingPlot*>(QStringLiteral("trainingPlot"));
  QVERIFY(plot);

  // Another network: relu1's activations at 6 bits instead of the checkpoint's.
  LayerSpec relu1 = *w.document()->project().find("relu1");
  relu1.act_quant->bit_width = 6;
  QVERIFY(w.document()->changeLayers({"relu1"}, {relu1}, QStringLiteral("bit_width"), 1));
  QVERIFY(!w.trainingRecovery()->resumeFrom(m_epochCheckpoint));
  QVERIFY(!w.trainingController()->isRunning());
  QVERIFY2(w.lastError().contains(QStringLiteral("epoch1.train.pt")) && w.lastError().contains(QStringLiteral("relu1")),
           qPrintable(w.lastError()));
  QVERIFY2(w.lastError().contains(QStringLiteral("different network")), qPrintable(w.lastError()));
  QVERIFY(!w.lastError().contains(QStringLiteral("c10")));
  QCOMPARE(plot->testPointCount(), 0);

  // The network of the checkpoint again (undo): it resumes.
  w.document()->undoStack()->undo();
  // A finished model's checkpoint (no optimizer state, no position) is no run to resume.
  const QString finished = m_tmp.filePath(QStringLiteral("finished.pt"));
  QuantModel model = build_model(w.document()->project());
  save_checkpoint(model, finished.toStdString());
  QVERIFY(!w.trainingRecovery()->resumeFrom(finished));
  QVERIFY(!w.trainingController()->isRunning());
  QVERIFY2(w.lastError().contains(QStringLiteral("finished.pt")), qPrintable(w.lastError()));
  QVERIFY2(w.lastError().contains(QStringLiteral("not of a training run")), qPrintable(w.lastError()));
}

void TestGuiRecovery::crashedRunIsOfferedAndResumes() {
  // A window that trains and then goes without closing (no closeEvent: no cleanup, as
  // after a kill -9) while its run is in epoch 2.
  auto* crashed = new MainWindow;
  crashed->show();
  QVERIFY(QTest::qWaitForWindowExposed(crashed));
  QVERIFY(openQuickProject(*crashed));
  const Project project = crashed->document()->project();
  const QString recoveryFile = crashed->fileActions()->recoveryFile();
  const QString runFile = crashed->fileActions()->trainingCheckpointFile();
  bool epochOneDone = false;
  connect(crashed->trainingController(), &TrainingController::epochDone, this,
          [&](const TrainingProgressInfo& info) { epochOneDone = epochOneDone || info.epoch >= 1; });
  crashed->startTraining();
  QVERIFY(QTest::qWaitFor([&] { return epochOneDone; }, 120000));
  delete crashed;  // its lock goes with it, like a dead process's
  QVERIFY(QFileInfo::exists(recoveryFile));
  QVERIFY(QFileInfo::exists(runFile));
  const TrainingCheckpointInfo before = read_training_checkpoint_info(runFile.toStdString());
  QCOMPARE(before.epochs_planned, int64_t(kEpochs));
  QVERIFY(before.epochs_done >= 1 && before.epochs_done < kEpochs);
  QCOMPARE(int64_t(before.history.size()), before.epochs_done);
  const QString run = TrainingRecovery::describeRun(runFile);
  QVERIFY2(run.startsWith(QStringLiteral("epoch ")) && run.contains(QStringLiteral(" of 3")) &&
               run.contains(QStringLiteral("step %1").arg(before.global_step)),
           qPrintable(run));

  // The next window's start: the question names the project and the run; Yes.
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  w.setRunLimits(kTrainLimit, kTestLimit, kBatches);
  BoxAnswerer yes;
  yes.arm(QMessageBox::Yes);
  w.fileActions()->offerRecovery();
  QCOMPARE(yes.texts.size(), 1);
  const QString question = yes.texts.first();
  QVERIFY2(question.contains(QStringLiteral("\"lenet_lowprec.qnn.json\"")), qPrintable(question));
  QVERIFY2(question.contains(QStringLiteral("and its interrupted training run: ") + run), qPrintable(question));
  QCOMPARE(w.document()->project(), project);
  QCOMPARE(w.document()->filePath(), examplePath());
  QVERIFY(!QFileInfo::exists(recoveryFile));
  QVERIFY(!QFileInfo::exists(runFile));  // adopted: this window's own now
  TrainingRecovery* recovery = w.trainingRecovery();
  const QString own = w.fileActions()->trainingCheckpointFile();
  QCOMPARE(recovery->resumablePath(), own);
  QVERIFY(QFileInfo::exists(own));
  QVERIFY(w.fileActions()->hasRecovery());  // the project beside it, for another crash

  // Training > Resume, enabled with a status tip; not during the run.
  QAction* resume = trainingMenuAction(w, QStringLiteral("resumeTrainingAction"));
  QVERIFY(resume);
  QVERIFY(!resume->statusTip().isEmpty());
  QVERIFY(resume->isEnabled());
  QVERIFY(trainingMenuAction(w, QStringLiteral("resumeFromCheckpointAction")));
  TrainingController* c = w.trainingController();
  TrainingPlot* plot = w.findChild<TrainingPlot*>(QStringLiteral("trainingPlot"));
  QVERIFY(plot);
  resume->trigger();
  QVERIFY(c->isRunning());
  QVERIFY(!resume->isEnabled());
  QCOMPARE(plot->testPointCount(), int(before.epochs_done));  // the run so far, first
  QVERIFY(QTest::qWaitFor([&] { return !c->isRunning(); }, 120000));
  QVERIFY(c->hasModel());
  const ModelRecord record = c->currentRecord();
  QCOMPARE(record.epochs, kEpochs);
  QCOMPARE(plot->testPointCount(), kEpochs);  // old and new epochs on one curve
  QCOMPARE(c->lastSummary().epochs.size(), qsizetype(kEpochs));
  for (int i = 0; i < int(before.epochs_done); ++i)  // the history is the checkpoint's
    QCOMPARE(c->lastSummary().epochs[i].testAccuracy, before.history[size_t(i)].test_accuracy);
  QCOMPARE(record.resumedFrom, QFileInfo(own).fileName());
  QVERIFY(record.unsaved);
  QVERIFY(!QFileInfo::exists(own));  // completed: the model is in memory
  QVERIFY(recovery->resumablePath().isEmpty());
  QVERIFY(!resume->isEnabled());

  // Replacing the project asks first, naming the resumed model.
  BoxAnswerer cancel;
  cancel.arm(QMessageBox::Cancel);
  QVERIFY(!w.fileActions()->maybeSave());
  QCOMPARE(cancel.texts.size(), 1);
  QVERIFY2(cancel.texts.first().contains(QStringLiteral("resumed from ") + QFileInfo(own).fileName()),
           qPrintable(cancel.texts.first()));
  QVERIFY(c->hasModel());
}

void TestGuiRecovery::refusedResumeKeepsTheRun() {
  QVERIFY2(QFileInfo::exists(m_epochCheckpoint), "needs trainStartWritesTheRecoveryFileAtOnce");
  const QString run = m_tmp.filePath(QStringLiteral("refused.train.pt"));
  QVERIFY(QFile::copy(m_epochCheckpoint, run));
  const QByteArray bytes = [&] {
    QFile f(run);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
  }();
  QVERIFY(!bytes.isEmpty());
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(openQuickProject(w));
  TrainingPlot* plot = w.findChild<TrainingPlot*>(QStringLiteral("trainingPlot"));
  TrainingController* c = w.trainingController();
  TrainingRecovery* recovery = w.trainingRecovery();

  // Half the batches per epoch: refused before anything starts, curves untouched.
  w.setRunLimits(kTrainLimit, kTestLimit, kBatches / 2);
  QVERIFY(!recovery->resumeFrom(run));
  QVERIFY(!c->isRunning());
  QVERIFY2(w.lastError().contains(QStringLiteral("refused.train.pt")) &&
               w.lastError().contains(QStringLiteral("after 10 batches, the checkpoint's run after 20 batches")),
           qPrintable(w.lastError()));
  QCOMPARE(plot->testPointCount(), 0);

  // All training samples instead of the checkpoint's 1280: only the trainer can tell
  // (it loads the data); the run fails, and the checkpoint stays the resumable run.
  w.setRunLimits(0, kTestLimit, kBatches);
  QVERIFY(recovery->resumeFrom(run));
  QVERIFY(QTest::qWaitFor([&] { return !c->isRunning(); }, 120000));
  QVERIFY(!c->hasModel());
  QVERIFY2(w.lastError().contains(QStringLiteral("60000")) && w.lastError().contains(QStringLiteral("1280")),
           qPrintable(w.lastError()));
  QVERIFY(!w.lastError().contains(QStringLiteral("c10")));
  QCOMPARE(recovery->resumablePath(), run);
  QVERIFY(recovery->resumeAction()->isEnabled());
  QFile after(run);
  QVERIFY(after.open(QIODevice::ReadOnly));
  QCOMPARE(after.readAll(), bytes);  // untouched
  QVERIFY(!QFileInfo::exists(w.fileActions()->trainingCheckpointFile()));  // nothing autosaved
}

void TestGuiRecovery::closingKeepsTheStoppedRunForTheNextStart() {
  auto* closing = new MainWindow;
  closing->show();
  QVERIFY(QTest::qWaitForWindowExposed(closing));
  QVERIFY(openQuickProject(*closing));
  closing->setEpochs(50);  // still running when the window closes
  const QString recoveryFile = closing->fileActions()->recoveryFile();
  const QString runFile = closing->fileActions()->trainingCheckpointFile();
  bool epochOneDone = false;
  connect(closing->trainingController(), &TrainingController::epochDone, this,
          [&](const TrainingProgressInfo& info) { epochOneDone = epochOneDone || info.epoch >= 1; });
  closing->startTraining();
  QVERIFY(QTest::qWaitFor([&] { return epochOneDone; }, 120000));
  QStringList questions;
  QTimer answer;
  answer.setInterval(20);
  connect(&answer, &QTimer::timeout, this, [&] {
    auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
    if (!box) return;
    questions << box->informativeText();
    if (auto* stop = box->findChild<QPushButton*>(QStringLiteral("stopAndQuitButton")))
      stop->click();
    else
      box->close();
  });
  answer.start();
  QVERIFY(closing->close());
  answer.stop();
  delete closing;  // joins the worker: the stopped run's last autosave is written
  QCOMPARE(questions.size(), 1);
  QVERIFY2(questions.first().contains(QStringLiteral("The run's last autosave is kept")), qPrintable(questions.first()));
  QVERIFY(QFileInfo::exists(recoveryFile));
  QVERIFY(QFileInfo::exists(recoveryFile + QStringLiteral(".stopped")));
  QVERIFY(QFileInfo::exists(runFile));
  const TrainingCheckpointInfo before = read_training_checkpoint_info(runFile.toStdString());
  QCOMPARE(before.epochs_planned, int64_t(50));
  QVERIFY(before.epochs_done >= 1 && before.epochs_done < 50);
  const QString run = TrainingRecovery::describeRun(runFile);

  // An unreadable training checkpoint left without its recovery file goes.
  const QString stray = QFileInfo(recoveryFile).absoluteDir().filePath(QStringLiteral("recovery-1-99.train.pt"));
  {
    QFile f(stray);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("PK\x03\x04 not a checkpoint");
  }

  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  w.setRunLimits(kTrainLimit, kTestLimit, kBatches);
  BoxAnswerer yes;
  yes.arm(QMessageBox::Yes);
  w.fileActions()->offerRecovery();
  QCOMPARE(yes.texts.size(), 1);
  const QString question = yes.texts.first();
  QVERIFY2(question.contains(QStringLiteral("The training run of the project \"lenet_lowprec.qnn.json\" was stopped "
                                            "when QNN Studio was last closed (") +
                             run),
           qPrintable(question));
  QVERIFY(!question.contains(QStringLiteral("did not close properly")));
  QVERIFY(!QFileInfo::exists(stray));
  QCOMPARE(w.document()->filePath(), examplePath());  // its network is the run's
  // The project's settings at the close (1 thread, 3 epochs: never saved) came back with
  // the run, as unsaved edits, not the file's (all threads, 5 epochs).
  QCOMPARE(w.document()->project().training.threads, 1);
  QCOMPARE(w.document()->project().training.epochs, kEpochs);
  QVERIFY(w.document()->isModified());
  QVERIFY(!QFileInfo::exists(recoveryFile));
  QVERIFY(!QFileInfo::exists(recoveryFile + QStringLiteral(".stopped")));
  const QString own = w.fileActions()->trainingCheckpointFile();
  QCOMPARE(w.trainingRecovery()->resumablePath(), own);

  // Resume with one more epoch than it has done (the Epochs setting beyond its position).
  const int epochs = int(before.epochs_done) + 1;
  w.setEpochs(epochs);
  QVERIFY(w.trainingRecovery()->resume());
  TrainingController* c = w.trainingController();
  QVERIFY(QTest::qWaitFor([&] { return !c->isRunning(); }, 120000));
  QVERIFY(c->hasModel());
  QCOMPARE(c->currentRecord().epochs, epochs);
  QCOMPARE(w.findChild<TrainingPlot*>(QStringLiteral("trainingPlot"))->testPointCount(), epochs);
  QVERIFY(!QFileInfo::exists(own));  // completed
}

void TestGuiRecovery::newRunAsksBeforeReplacingAStoppedRun() {
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(openQuickProject(w));
  w.setEpochs(50);
  TrainingController* c = w.trainingController();
  TrainingRecovery* recovery = w.trainingRecovery();
  TrainingPlot* plot = w.findChild<TrainingPlot*>(QStringLiteral("trainingPlot"));
  const QString own = w.fileActions()->trainingCheckpointFile();
  int lastEpoch = 0;
  connect(c, &TrainingController::epochDone, this, [&](const TrainingProgressInfo& info) { lastEpoch = info.epoch; });
  const auto stopAfterAnEpoch = [&] {
    lastEpoch = 0;
    if (!QTest::qWaitFor([&] { return lastEpoch >= 1; }, 120000)) return false;
    w.cancelTraining();
    return QTest::qWaitFor([&] { return !c->isRunning(); }, 120000);
  };
  const auto fileBytes = [](const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
  };

  w.startTraining();  // no stopped run yet: no question
  QVERIFY(c->isRunning());
  QVERIFY(stopAfterAnEpoch());
  QCOMPARE(recovery->resumablePath(), own);
  const QByteArray stopped = fileBytes(own);
  QVERIFY(!stopped.isEmpty());
  const int64_t stoppedEpochs = read_training_checkpoint_info(own.toStdString()).epochs_done;
  QVERIFY(stoppedEpochs >= 1);

  // F5 again: asked, naming the run; Cancel starts nothing and leaves its autosave.
  BoxAnswerer cancel;
  cancel.arm(QMessageBox::Cancel);
  w.startTraining();
  QCOMPARE(cancel.texts.size(), 1);
  QVERIFY2(cancel.texts.first().contains(QStringLiteral("stopped training run (") +
                                         TrainingRecovery::describeRun(own) + QStringLiteral(") that Training > Resume")),
           qPrintable(cancel.texts.first()));
  QVERIFY(!c->isRunning());
  QCOMPARE(fileBytes(own), stopped);
  QCOMPARE(recovery->resumablePath(), own);

  // Resume: the stopped run goes on (its history is on the curves at once).
  BoxAnswerer resume;
  resume.arm(QMessageBox::Retry);
  w.startTraining();
  QCOMPARE(resume.texts.size(), 1);
  QVERIFY(c->isRunning());
  QCOMPARE(plot->testPointCount(), int(stoppedEpochs));
  QVERIFY(stopAfterAnEpoch());
  QVERIFY(read_training_checkpoint_info(own.toStdString()).epochs_done > stoppedEpochs);

  // Start New Run: from scratch (no history), the stopped run given up.
  BoxAnswerer fresh;
  fresh.arm(QMessageBox::Yes);
  w.startTraining();
  QCOMPARE(fresh.texts.size(), 1);
  QVERIFY(c->isRunning());
  QCOMPARE(plot->testPointCount(), 0);
  QVERIFY(stopAfterAnEpoch());
  QCOMPARE(read_training_checkpoint_info(own.toStdString()).epochs_done, int64_t(lastEpoch));
}

void TestGuiRecovery::runWithoutItsProjectFileIsOffered() {
  // The close could not write the project (a full disk): only the run's checkpoint is
  // left. Its network comes from the checkpoint; the run is offered as stopped.
  QVERIFY2(QFileInfo::exists(m_epochCheckpoint), "needs trainStartWritesTheRecoveryFileAtOnce");
  // Nothing the earlier functions' windows left is offered first.
  QDir(QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(QStringLiteral("recovery")))
      .removeRecursively();
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  w.setRunLimits(kTrainLimit, kTestLimit, kBatches);
  const QString dir = QFileInfo(w.fileActions()->recoveryFile()).absolutePath();
  QVERIFY(QDir().mkpath(dir));
  const QString lone = QDir(dir).filePath(QStringLiteral("recovery-1-77.train.pt"));
  QVERIFY(QFile::copy(m_epochCheckpoint, lone));  // epoch 1 of 3 done
  BoxAnswerer yes;
  yes.arm(QMessageBox::Yes);
  w.fileActions()->offerRecovery();
  QCOMPARE(yes.texts.size(), 1);
  QVERIFY2(yes.texts.first().contains(QStringLiteral("was stopped when QNN Studio was last closed (epoch 1 of 3 done")),
           qPrintable(yes.texts.first()));
  QVERIFY(!QFileInfo::exists(lone));  // moved to this window's own name
  QCOMPARE(w.trainingRecovery()->resumablePath(), w.fileActions()->trainingCheckpointFile());
  QVERIFY(network_difference(w.document()->project(), load_project(examplePath().toStdString())).empty());
  QVERIFY(w.trainingRecovery()->resumeAction()->isEnabled());
}

void TestGuiRecovery::declinedStoppedRunIsRemoved() {
  QVERIFY2(QFileInfo::exists(m_epochCheckpoint), "needs trainStartWritesTheRecoveryFileAtOnce");
  const QString dir =
      QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(QStringLiteral("recovery"));
  QDir(dir).removeRecursively();
  QVERIFY(QDir().mkpath(dir));
  const QString lone = QDir(dir).filePath(QStringLiteral("recovery-1-78.train.pt"));
  QVERIFY(QFile::copy(m_epochCheckpoint, lone));
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  BoxAnswerer no;
  no.arm(QMessageBox::No);
  w.fileActions()->offerRecovery();
  QCOMPARE(no.texts.size(), 1);
  QVERIFY(no.texts.first().contains(QStringLiteral("was stopped when QNN Studio was last closed")));
  // No: the run's checkpoint, its project file and the stopped marker are gone.
  QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden), QStringList());
  QVERIFY(w.trainingRecovery()->resumablePath().isEmpty());
  QVERIFY(w.document()->isEmpty());
}

QTEST_MAIN(TestGuiRecovery)
#include "test_gui_recovery.moc"
