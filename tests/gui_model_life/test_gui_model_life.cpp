// SPDX-License-Identifier: GPL-3.0-or-later
// Results follow their model (issue 14, items 2 and 3): an edit that discards the trained
// model clears or marks stale every view of its results in the same event-loop turn and
// says how to get it back; Ctrl+Z brings the model and its results back as current;
// opening another project or quitting with a trained model that was never saved as a
// checkpoint asks first, naming the model; so does one folded from it or set aside by an
// edit (every model only in memory); the prompt's Save writes the checkpoints (with their
// optimizer steps) before going on; closing during a run asks first; New / Open Recent /
// Import wait for a run.
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/train/checkpoint.h"
#include "core/train/checkpoint_steps.h"

#include <QAction>
#include <QApplication>
#include <QFileDialog>
#include <QLineEdit>
#include <QGraphicsItem>
#include <QGraphicsSimpleTextItem>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTimer>
#include <QUndoStack>
#include <QtTest>

#include "app/gui/main_window.h"
#include "app/gui/project_files.h"
#include "app/gui/window_layouts.h"
#include <QDockWidget>
#include "widgets/document/project_document.h"
#include "widgets/inspect/inspection_link.h"
#include "widgets/inspect/inspection_panel.h"
#include "widgets/node_editor/graph_scene.h"
#include "widgets/node_editor/graph_view.h"
#include "widgets/node_editor/node_item.h"
#include "widgets/plots/confusion_matrix_view.h"
#include "widgets/plots/misclassified_gallery.h"
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

double firstNumber(const QString& text) {
  const QRegularExpressionMatch m = QRegularExpression(QStringLiteral("(\\d+\\.\\d+)")).match(text);
  return m.hasMatch() ? m.captured(1).toDouble() : std::nan("");
}

template <typename T>
T* mustFind(QObject* root, const char* name) {
  T* child = root->findChild<T*>(QLatin1String(name));
  if (!child) qFatal("no child named %s", name);
  return child;
}

/// Answers message boxes shown from now on with `button`, recording their texts; stops
/// looking after `timeoutMs` without one.
struct BoxAnswerer {
  QStringList texts;
  QMessageBox::StandardButton button = QMessageBox::Cancel;
  void arm(QMessageBox::StandardButton b, int timeoutMs = 5000) {
    button = b;
    poll(timeoutMs);
  }
  void poll(int left) {
    QTimer::singleShot(20, [this, left] {
      QMessageBox* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
      if (box && box->button(button)) {
        texts << box->text();
        box->button(button)->click();
        return;
      }
      if (left > 0) poll(left - 20);
    });
  }
};

/// Answers the next Save Checkpoint file dialog by typing `path` and accepting; records
/// the dialog's title.
struct FileDialogAnswerer {
  QString title;
  QString path;
  void arm(const QString& file, int timeoutMs = 10000) {
    path = file;
    poll(timeoutMs);
  }
  void poll(int left) {
    QTimer::singleShot(20, [this, left] {
      auto* dialog = qobject_cast<QFileDialog*>(QApplication::activeModalWidget());
      if (dialog) {
        title = dialog->windowTitle();
        auto* edit = dialog->findChild<QLineEdit*>(QStringLiteral("fileNameEdit"));
        if (edit) edit->setText(path);
        static_cast<QDialog*>(dialog)->accept();  // QFileDialog::accept(), through the public base
        return;
      }
      if (left > 0) poll(left - 20);
    });
  }
};

int sqnrLabelCount(MainWindow& w) {
  int n = 0;
  for (QGraphicsItem* item : w.graphView()->graphScene()->items())
    if (auto* t = dynamic_cast<QGraphicsSimpleTextItem*>(item); t && t->text().startsWith(QStringLiteral("SQNR")))
      ++n;
  return n;
}

QAction* exampleAction(MainWindow& w, const QString& name) {
  for (QAction* a : mustFind<QMenu>(&w, "examplesMenu")->actions())
    if (a->text() == name) return a;
  qFatal("no example %s", qPrintable(name));
}

}  // namespace

class TestGuiModelLife : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void editSetsTheModelAsideAndUndoBringsItBack();
  void openingAnotherProjectAsksForAnUnsavedModel();
  void quitPromptNamesTheModel();
  void closingDuringARunAsksFirst();
  void foldedAndSetAsideModelsAreOffered();
  void checkpointStepsGoWithTheirModel();
  void promptSaveWritesTheCheckpointsThenGoesOn();
  void divergingRunKeepsTheLastGoodModel();
  void deploymentTargetIsAnUndoableSetting();

 private:
  /// Trains the quick project through F5's path (the window's own settings).
  bool train(MainWindow& w);
};

bool TestGuiModelLife::train(MainWindow& w) {
  if (!w.openProject(examplePath("lenet_lowprec.qnn.json"))) return false;
  Project p = w.document()->project();
  p.training.threads = 1;
  w.document()->setProject(p, w.document()->filePath());
  w.setRunLimits(kTrainLimit, kTestLimit, 4);
  w.setEpochs(1);
  w.startTraining();
  if (!w.trainingController()->isRunning()) return false;
  if (!QTest::qWaitFor([&] { return !w.trainingController()->isRunning(); }, 120000)) return false;
  return w.trainingController()->hasModel();
}

void TestGuiModelLife::editSetsTheModelAsideAndUndoBringsItBack() {
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(train(w));
  TrainingController* c = w.trainingController();
  auto* label = mustFind<QLabel>(&w, "testAccuracyLabel");
  auto* confusion = mustFind<ConfusionMatrixView>(&w, "confusionMatrixView");
  auto* plot = mustFind<TrainingPlot>(&w, "trainingPlot");
  auto* status = mustFind<QLabel>(&w, "statusLabel");
  InspectionPanel* panel = w.inspectionPanel();
  const double accuracy = c->lastSummary().testAccuracy;
  QTRY_VERIFY_WITH_TIMEOUT(panel->reportsReceived() > 0 && sqnrLabelCount(w) > 0, 30000);
  QVERIFY(std::abs(firstNumber(label->text()) - accuracy) < 1e-4);
  QCOMPARE(confusion->total(), kTestLimit);
  QVERIFY(!plot->isStale());
  QCOMPARE(plot->testPointCount(), 1);
  const int misclassified = panel->gallery()->count();
  QVERIFY(misclassified > 0);
  // The run's inspection reports did not raise the Inspection tab over the live curves.
  QVERIFY(!w.docks().curves->visibleRegion().isEmpty());
  QVERIFY(w.docks().inspection->visibleRegion().isEmpty());

  // Auto-layout moves nodes only: the model stays current.
  QVERIFY(w.document()->autoLayout(260, 120));
  QVERIFY(c->currentIsLastRun());
  QVERIFY(!plot->isStale());
  // So do the training settings (not part of the network).
  TrainingSpec training = w.document()->project().training;
  training.epochs = 7;
  QVERIFY(w.document()->changeTraining(training, QStringLiteral("epochs")));
  QVERIFY(c->currentIsLastRun());
  w.document()->undoStack()->undo();

  // An inspector edit (the document's changeLayers, as LayerInspector does) discards it:
  // every view of its results is cleared or stale at once, before any event is processed.
  LayerSpec relu1 = *w.document()->project().find("relu1");
  relu1.act_quant->bit_width = 6;
  QVERIFY(w.document()->changeLayers({"relu1"}, {relu1}, QStringLiteral("bit_width"), 1));
  QVERIFY(!c->hasModel());
  QCOMPARE(label->text(),
           QStringLiteral("Test accuracy: — (the trained model was set aside by an edit; Ctrl+Z brings it back)"));
  QCOMPARE(confusion->classCount(), 0);
  QVERIFY(plot->isStale());
  QVERIFY2(plot->staleReason().contains(QStringLiteral("discarded (network edited)")), qPrintable(plot->staleReason()));
  QCOMPARE(plot->testPointCount(), 1);  // the history stays, greyed
  QCOMPARE(panel->reportsReceived(), 0);
  QCOMPARE(panel->gallery()->count(), 0);
  QCOMPARE(sqnrLabelCount(w), 0);
  QVERIFY(w.inspectionLink()->biasSummaries().isEmpty());
  QVERIFY2(status->text().contains(QStringLiteral("the trained model was set aside; Ctrl+Z brings it back")),
           qPrintable(status->text()));
  QTest::qWait(50);  // the scene's queued relabelling adds nothing back
  QCOMPARE(sqnrLabelCount(w), 0);

  // Ctrl+Z: the network and its model come back, with the run's results as current.
  w.document()->undoStack()->undo();
  QVERIFY(c->hasModel());
  QVERIFY(c->currentIsLastRun());
  QVERIFY(std::abs(firstNumber(label->text()) - accuracy) < 1e-4);
  QCOMPARE(confusion->total(), kTestLimit);
  QVERIFY(!plot->isStale());
  QVERIFY2(status->text().contains(QStringLiteral("current again")), qPrintable(status->text()));
  QCOMPARE(panel->gallery()->count(), misclassified);  // the run's misclassified images
  QTRY_VERIFY_WITH_TIMEOUT(panel->reportsReceived() > 0 && sqnrLabelCount(w) > 0, 30000);  // reinspected

  // Redo sets it aside again; a node delete too (after an undo).
  w.document()->undoStack()->redo();
  QVERIFY(!c->hasModel());
  QVERIFY(plot->isStale());
  w.document()->undoStack()->undo();
  QVERIFY(c->currentIsLastRun());
  QVERIFY(w.document()->removeLayers({QStringLiteral("fc3")}));
  QVERIFY(!c->hasModel());
  QVERIFY(plot->isStale());
  QCOMPARE(confusion->classCount(), 0);
  w.document()->undoStack()->undo();
  QVERIFY(c->currentIsLastRun());
  QVERIFY(!plot->isStale());
  QCOMPARE(confusion->total(), kTestLimit);

  // A new run's curves start current (TrainingPlot::clear drops the mark).
  w.document()->undoStack()->redo();
  QVERIFY(plot->isStale());
  plot->clear(1);
  QVERIFY(!plot->isStale());
  QVERIFY(plot->staleReason().isEmpty());
}

void TestGuiModelLife::openingAnotherProjectAsksForAnUnsavedModel() {
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(train(w));
  TrainingController* c = w.trainingController();
  QVERIFY(c->hasUnsavedModel());
  QVERIFY(!w.document()->isModified());
  const std::string name = w.document()->project().name;

  // Cancel: nothing changes.
  BoxAnswerer answer;
  answer.arm(QMessageBox::Cancel);
  exampleAction(w, QStringLiteral("lenet_float"))->trigger();
  QCOMPARE(answer.texts.size(), 1);
  // One sentence built whole: the model's phrase stands inside it.
  const QString expected = QStringLiteral("The project \"%1\" has 1 model(s) kept only in memory, not saved as a "
                                          "checkpoint: the trained model (1 epoch, test accuracy %2 %). Save?")
                               .arg(w.document()->displayName())
                               .arg(c->lastSummary().testAccuracy * 100.0, 0, 'f', 2);
  QCOMPARE(answer.texts[0], expected);
  QCOMPARE(w.document()->project().name, name);
  QVERIFY(c->hasModel());

  // New Empty Project asks too; Discard goes on.
  answer.texts.clear();
  answer.arm(QMessageBox::Discard);
  mustFind<QAction>(&w, "newEmptyAction")->trigger();
  QCOMPARE(answer.texts.size(), 1);
  QVERIFY(w.document()->isEmpty());
  QVERIFY(!c->hasModel());

  // After Save Checkpoint there is nothing to ask about.
  QVERIFY(train(w));
  QVERIFY(c->hasUnsavedModel());
  QTemporaryDir dir;
  c->saveCheckpoint(dir.filePath(QStringLiteral("lenet.pt")));
  QVERIFY(!c->hasUnsavedModel());
  // It records the run's optimizer steps like `qnn train --checkpoint`: 1 epoch of 4 batches.
  QCOMPARE(read_checkpoint_optimizer_steps(dir.filePath(QStringLiteral("lenet.pt")).toStdString()), int64_t(4));
  answer.texts.clear();
  answer.arm(QMessageBox::Cancel, 1000);
  exampleAction(w, QStringLiteral("lenet_float"))->trigger();
  QVERIFY2(answer.texts.isEmpty(), qPrintable(answer.texts.join(QLatin1Char('\n'))));
  QCOMPARE(w.document()->project().name, load_project(examplePath("lenet_float.qnn.json").toStdString()).name);
  QTest::qWait(1100);  // the answerer's polling ends before the window goes
}

void TestGuiModelLife::quitPromptNamesTheModel() {
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(train(w));
  BoxAnswerer answer;
  answer.arm(QMessageBox::Cancel);
  QVERIFY(!w.close());
  QCOMPARE(answer.texts.size(), 1);
  QVERIFY2(answer.texts[0].contains(QStringLiteral("trained model (1 epoch")), qPrintable(answer.texts[0]));
  QVERIFY(w.isVisible());

  // During a run the earlier model is still only in memory (closingDuringARunAsksFirst);
  // after the run, its own model is the unsaved one.
  TrainingController* c = w.trainingController();
  w.startTraining();
  QVERIFY(c->isRunning());
  QVERIFY(c->hasUnsavedModel());
  QTRY_VERIFY_WITH_TIMEOUT(!c->isRunning(), 120000);
  QVERIFY(c->hasUnsavedModel());
  QCOMPARE(int(c->unsavedModels().size()), 1);

  // Unsaved edits and the model: one question naming both.
  QVERIFY(w.document()->autoLayout(300, 140));
  QVERIFY(w.document()->isModified());
  answer.texts.clear();
  answer.arm(QMessageBox::Discard);
  QVERIFY(w.close());
  QCOMPARE(answer.texts.size(), 1);
  QVERIFY2(answer.texts[0].contains(QStringLiteral("has unsaved changes, and 1 model(s) kept only in memory, not saved "
                                                   "as a checkpoint: the trained model (1 epoch")),
           qPrintable(answer.texts[0]));
}

void TestGuiModelLife::closingDuringARunAsksFirst() {
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(train(w));
  TrainingController* c = w.trainingController();
  const std::shared_ptr<QuantModelImpl> earlier = c->model();
  const std::string name = w.document()->project().name;
  auto* status = mustFind<QLabel>(&w, "statusLabel");
  // A long run: every batch of 2000 images for 50 epochs.
  w.setRunLimits(kTrainLimit, kTestLimit, 0);
  w.setEpochs(50);
  w.startTraining();
  QVERIFY(c->isRunning());
  QTRY_VERIFY_WITH_TIMEOUT(status->text().startsWith(QStringLiteral("Epoch ")), 60000);

  // Cancel keeps everything: the window, the run and the earlier model.
  QString question, details;
  bool stop = false;
  QTimer answer;
  answer.setInterval(20);
  QStringList others;  // any other question or message (there must be none)
  connect(&answer, &QTimer::timeout, this, [&] {
    auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
    if (!box) return;
    if (box->objectName() != QStringLiteral("stopRunQuestion")) {
      others << box->text();
      box->close();
      return;
    }
    question = box->text();
    details = box->informativeText();
    if (qEnvironmentVariableIsSet("QNN_STOP_RUN_SCREENSHOT") && !stop)
      box->grab().save(qEnvironmentVariable("QNN_STOP_RUN_SCREENSHOT"));
    if (stop)
      mustFind<QPushButton>(box, "stopAndQuitButton")->click();
    else
      box->button(QMessageBox::Cancel)->click();
  });
  answer.start();
  QVERIFY(!w.close());
  QVERIFY2(QRegularExpression(QStringLiteral("^Training is running \\(epoch \\d+ of 50\\)\\. Stop it and quit\\?$"))
               .match(question)
               .hasMatch(),
           qPrintable(question));
  QVERIFY2(details.contains(QStringLiteral("The model of this run will be lost, and so will 1 model(s) not saved as a "
                                           "checkpoint: the trained model (1 epoch")),
           qPrintable(details));
  QVERIFY(w.isVisible());
  QVERIFY(c->isRunning());
  QVERIFY(!c->isCancelling());
  QCOMPARE(c->model(), earlier);

  // Opening another project waits for the run: Open Recent and Import Model say so in the
  // status line and change nothing (no save question, no error box).
  question.clear();
  QMenu* recent = w.fileActions()->recentMenu();
  QVERIFY(!recent->isEnabled());
  Q_EMIT recent->aboutToShow();
  QVERIFY(!recent->actions().isEmpty() && recent->actions().first()->isEnabled());
  recent->actions().first()->trigger();
  QVERIFY2(status->text().startsWith(QStringLiteral("Training is running (epoch ")), qPrintable(status->text()));
  QVERIFY(!w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox")));
  status->clear();
  w.importModel(examplePath("lenet_lowprec.qnn.json"));
  QVERIFY2(status->text().startsWith(QStringLiteral("Training is running (epoch ")), qPrintable(status->text()));
  QTest::qWait(100);  // time for a question to show up, if one came
  QVERIFY(question.isEmpty());
  QVERIFY2(others.isEmpty(), qPrintable(others.join(QLatin1Char('\n'))));
  QCOMPARE(w.document()->project().name, name);
  QVERIFY(c->isRunning());

  // Stop and Quit: the run stops and the window closes.
  stop = true;
  QVERIFY(w.close());
  answer.stop();
  QVERIFY(!question.isEmpty());
  QVERIFY(c->isCancelling());
}

void TestGuiModelLife::foldedAndSetAsideModelsAreOffered() {
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(w.openProject(examplePath("tfc_w2a2.qnn.json")));  // has BatchNorm layers
  Project p = w.document()->project();
  p.training.threads = 1;
  w.document()->setProject(p, w.document()->filePath());
  w.setRunLimits(kTrainLimit, kTestLimit, 4);
  w.setEpochs(1);
  w.startTraining();
  TrainingController* c = w.trainingController();
  QTRY_VERIFY_WITH_TIMEOUT(!c->isRunning(), 120000);
  QVERIFY(c->hasModel());
  const QString run = QStringLiteral("1 epoch, test accuracy %1 %").arg(c->lastSummary().testAccuracy * 100.0, 0, 'f', 2);
  w.foldBatchNorm();
  QVERIFY(c->hasModel() && !c->currentIsLastRun());
  QVERIFY(w.document()->isModified());
  // Keep the project's edit out of the question: saved under a new name.
  QTemporaryDir dir;
  QVERIFY(w.fileActions()->saveTo(dir.filePath(QStringLiteral("tfc.qnn.json"))));

  // The folded model and the unfolded one Ctrl+Z brings back: both only in memory.
  BoxAnswerer answer;
  answer.arm(QMessageBox::Cancel);
  QVERIFY(!w.close());
  QCOMPARE(answer.texts.size(), 1);
  QCOMPARE(answer.texts[0],
           QStringLiteral("The project \"%1\" has 2 model(s) kept only in memory, not saved as a checkpoint: the folded "
                          "model (BatchNorm folded into the trained model of %2); the trained model (%2), set aside "
                          "by an edit (Ctrl+Z brings it back). Save?")
               .arg(w.document()->displayName(), run));

  // Saved, the folded model no longer counts; the set-aside one still does.
  c->saveCheckpoint(dir.filePath(QStringLiteral("folded.pt")));
  QCOMPARE(int(c->unsavedModels().size()), 1);
  QVERIFY(!c->unsavedModels()[0].current);
  answer.texts.clear();
  answer.arm(QMessageBox::Cancel);
  QVERIFY(!w.close());
  QCOMPARE(answer.texts.size(), 1);
  QVERIFY2(answer.texts[0].contains(QStringLiteral(": the trained model (%1), set aside by an edit").arg(run)),
           qPrintable(answer.texts[0]));

  // Discard goes on.
  answer.texts.clear();
  answer.arm(QMessageBox::Discard);
  QVERIFY(w.close());
  QCOMPARE(answer.texts.size(), 1);
}

void TestGuiModelLife::checkpointStepsGoWithTheirModel() {
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(train(w));  // 1 epoch of 4 batches: 4 optimizer steps
  TrainingController* c = w.trainingController();
  const std::shared_ptr<QuantModelImpl> trained = c->model();
  QCOMPARE(c->currentRecord().steps, int64_t(4));

  // A later run that fails (no dataset there) leaves the model and its 4 steps.
  Project broken = w.document()->project();
  broken.dataset.path = "/nonexistent/qnn-model-life-dataset";
  QSignalSpy failed(c, &TrainingController::failed);
  QVERIFY(c->start(broken, w.settingsPanel()->options()));
  QTRY_VERIFY_WITH_TIMEOUT(failed.count() == 1, 60000);
  QTRY_VERIFY(w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox")));
  w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox"))->close();
  QCOMPARE(c->model(), trained);
  QTemporaryDir dir;
  const QString first = dir.filePath(QStringLiteral("first.pt"));
  c->saveCheckpoint(first);
  QCOMPARE(read_checkpoint_optimizer_steps(first.toStdString()), int64_t(4));

  // A checkpoint loaded back keeps its steps, and a fine-tune from it adds its own 4.
  w.loadWeights(first);
  QVERIFY(c->model() != trained);
  QCOMPARE(c->currentRecord().origin, ModelOrigin::Loaded);
  QCOMPARE(c->currentRecord().steps, int64_t(4));
  QVERIFY(!c->hasUnsavedModel());  // the file holds it
  QVERIFY(c->start(w.document()->project(), w.settingsPanel()->options(), c->model()));
  QTRY_VERIFY_WITH_TIMEOUT(!c->isRunning(), 120000);
  QVERIFY(c->currentIsLastRun());
  QCOMPARE(c->currentRecord().steps, int64_t(8));
  QVERIFY(c->currentRecord().fineTuned);
  const QString second = dir.filePath(QStringLiteral("second.pt"));
  c->saveCheckpoint(second);
  QCOMPARE(read_checkpoint_optimizer_steps(second.toStdString()), int64_t(8));
}

void TestGuiModelLife::promptSaveWritesTheCheckpointsThenGoesOn() {
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(train(w));
  TrainingController* c = w.trainingController();
  const std::string name = w.document()->project().name;
  QTemporaryDir dir;

  // Save with a path that cannot be written: nothing goes on, nothing is lost.
  BoxAnswerer answer;
  FileDialogAnswerer file;
  answer.arm(QMessageBox::Save);
  file.arm(QStringLiteral("/nonexistent/qnn-model-life/lenet.pt"));
  QVERIFY(!w.close());
  QCOMPARE(answer.texts.size(), 1);
  QVERIFY2(file.title.startsWith(QStringLiteral("Save Checkpoint of the trained model (1 epoch")), qPrintable(file.title));
  QTRY_VERIFY(w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox")));
  QVERIFY2(w.lastError().contains(QStringLiteral("/nonexistent/qnn-model-life")), qPrintable(w.lastError()));
  w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox"))->close();
  QVERIFY(w.isVisible());
  QVERIFY(c->hasModel() && c->hasUnsavedModel());
  QCOMPARE(w.document()->project().name, name);

  // Save with a good path: the checkpoint is written (with its steps, loadable), then New
  // Empty Project goes on. The name is typed without its extension: .pt is added.
  const QString path = dir.filePath(QStringLiteral("lenet.pt"));
  file.title.clear();
  answer.texts.clear();
  answer.arm(QMessageBox::Save);
  file.arm(dir.filePath(QStringLiteral("lenet")));
  mustFind<QAction>(&w, "newEmptyAction")->trigger();
  QCOMPARE(answer.texts.size(), 1);
  QVERIFY(!file.title.isEmpty());
  QVERIFY(QFileInfo::exists(path));
  QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("lenet"))));
  QCOMPARE(read_checkpoint_optimizer_steps(path.toStdString()), int64_t(4));
  QuantModel loaded = build_model(load_project(examplePath("lenet_lowprec.qnn.json").toStdString()));
  load_checkpoint(loaded, path.toStdString());  // throws when it is not this network's checkpoint
  QVERIFY(w.document()->isEmpty());
  QVERIFY(!c->hasModel());
}

void TestGuiModelLife::divergingRunKeepsTheLastGoodModel() {
  // Adam at lr 1e6 makes the low-precision LeNet's loss +Inf at step 2 (the trainer's
  // numerics guard, tests/numerics); the GUI keeps the model of step 1 as the run's.
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(train(w));  // a first run, not saved: the diverging run must not lose it
  TrainingController* c = w.trainingController();
  const std::shared_ptr<QuantModelImpl> first = c->model();
  QSignalSpy failed(c, &TrainingController::failed);
  TrainingRunOptions options = w.settingsPanel()->options();  // the panel's spin box stops at 10
  options.spec.learning_rate = 1e6;
  QVERIFY(c->start(w.document()->project(), options));
  QTRY_VERIFY_WITH_TIMEOUT(failed.count() == 1, 120000);
  QVERIFY2(failed.at(0).at(0).toString().contains(QStringLiteral("step 2")), qPrintable(failed.at(0).at(0).toString()));
  QTRY_VERIFY(w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox")));
  w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox"))->close();
  // Without the worker storing it, a failed run leaves no model at all.
  QVERIFY(c->hasModel());
  QVERIFY(c->currentIsLastRun());
  const ModelRecord record = c->currentRecord();
  QCOMPARE(record.origin, ModelOrigin::Trained);
  QCOMPARE(record.steps, int64_t(1));
  QVERIFY(record.unsaved);
  for (const auto& t : c->model()->parameters()) QVERIFY(torch::isfinite(t).all().item<bool>());
  for (const auto& t : c->model()->buffers()) QVERIFY(torch::isfinite(t).all().item<bool>());
  QTemporaryDir dir;
  const QString path = dir.filePath(QStringLiteral("last_good.pt"));
  c->saveCheckpoint(path);
  QCOMPARE(read_checkpoint_optimizer_steps(path.toStdString()), int64_t(1));

  // The first run's model is still offered by the save question, and the diverged
  // model shows no test results (it was never evaluated), not the first run's.
  const std::vector<ModelRecord> unsaved = c->unsavedModels();
  QVERIFY(std::any_of(unsaved.begin(), unsaved.end(), [&](const ModelRecord& r) { return r.model == first; }));
  auto* label = mustFind<QLabel>(&w, "testAccuracyLabel");
  QVERIFY2(label->text().contains(QStringLiteral("—")), qPrintable(label->text()));
  LayerSpec relu1 = *w.document()->project().find("relu1");  // an edit sets it aside...
  relu1.act_quant->bit_width = 6;
  QVERIFY(w.document()->changeLayers({"relu1"}, {relu1}, QStringLiteral("bit_width"), 1));
  w.document()->undoStack()->undo();  // ...and the undo brings the diverged model back
  QCOMPARE(c->model(), c->currentRecord().model);
  QVERIFY(c->currentIsLastRun());
  QCOMPARE(label->text(), QStringLiteral("Test accuracy: — (this model is not evaluated yet)"));
}

void TestGuiModelLife::deploymentTargetIsAnUndoableSetting() {
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(w.openProject(examplePath("lenet5_classic.qnn.json")));
  ProjectDocument* doc = w.document();
  auto* none = mustFind<QAction>(&w, "deploymentTargetNoneAction");
  auto* finn = mustFind<QAction>(&w, "deploymentTargetFinnAction");
  QVERIFY(none->isChecked() && !finn->isChecked());
  const auto floors = [doc] {
    return QStringList{QString::number(doc->project().find("pool1")->param("floor", 0.0)),
                       QString::number(doc->project().find("pool2")->param("floor", 0.0))};
  };
  QCOMPARE(floors(), (QStringList{"0", "0"}));

  // FINN: the target and FLOOR truncation in both pools, one undo step.
  const int steps = doc->undoStack()->count();
  finn->trigger();
  QCOMPARE(doc->project().deployment_target, DeploymentTarget::Finn);
  QCOMPARE(floors(), (QStringList{"1", "1"}));
  QVERIFY(finn->isChecked() && !none->isChecked());
  QCOMPARE(doc->undoStack()->count(), steps + 1);
  QCOMPARE(doc->undoStack()->undoText(), QStringLiteral("Deployment target FINN"));
  QVERIFY(doc->isModified());
  doc->undoStack()->undo();
  QCOMPARE(doc->project().deployment_target, DeploymentTarget::None);
  QCOMPARE(floors(), (QStringList{"0", "0"}));
  QVERIFY(none->isChecked());
  doc->undoStack()->redo();
  QCOMPARE(doc->project().deployment_target, DeploymentTarget::Finn);
  QVERIFY(finn->isChecked());

  // The rules show on the node at fault: the weights-only LeNet's conv1 takes the float input.
  doc->undoStack()->undo();  // clean again: opening another project asks nothing
  QVERIFY(!doc->isModified());
  QVERIFY(w.openProject(examplePath("lenet_weights3.qnn.json")));
  QVERIFY(none->isChecked());  // the other project's own target
  const auto conv1Warnings = [&w] {
    for (QGraphicsItem* item : w.graphView()->graphScene()->items())
      if (auto* n = dynamic_cast<NodeItem*>(item); n && n->id() == QStringLiteral("conv1")) return n->content().warnings;
    return QStringList{QStringLiteral("no conv1 node")};
  };
  QCOMPARE(conv1Warnings(), QStringList());
  finn->trigger();
  QCOMPARE(conv1Warnings().size(), 1);
  QVERIFY2(conv1Warnings().first().startsWith(QStringLiteral("FINN needs a quantized network input")),
           qPrintable(conv1Warnings().first()));
  doc->undoStack()->undo();
  QCOMPARE(conv1Warnings(), QStringList());
}

QTEST_MAIN(TestGuiModelLife)
#include "test_gui_model_life.moc"
