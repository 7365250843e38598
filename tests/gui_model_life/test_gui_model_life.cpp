// SPDX-License-Identifier: GPL-3.0-or-later
// Results follow their model (issue 14, items 2 and 3): an edit that discards the trained
// model clears or marks stale every view of its results in the same event-loop turn and
// says how to get it back; Ctrl+Z brings the model and its results back as current;
// opening another project or quitting with a trained model that was never saved as a
// checkpoint asks first, naming the model.
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include <cmath>

#include "core/graph/project.h"
#include "core/train/checkpoint_steps.h"

#include <QAction>
#include <QApplication>
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
  const QString expected = QStringLiteral("The trained model (1 epoch, test accuracy %1 %) of \"")
                               .arg(c->lastSummary().testAccuracy * 100.0, 0, 'f', 2);
  QVERIFY2(answer.texts[0].startsWith(expected), qPrintable(answer.texts[0]));
  QVERIFY2(answer.texts[0].contains(QStringLiteral("has not been saved as a checkpoint")), qPrintable(answer.texts[0]));
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

  // During a run nothing is asked about the model it will replace (Save Checkpoint
  // would refuse while it runs); after it, its own model is unsaved.
  TrainingController* c = w.trainingController();
  w.startTraining();
  QVERIFY(c->isRunning());
  QVERIFY(!c->hasUnsavedModel());
  QTRY_VERIFY_WITH_TIMEOUT(!c->isRunning(), 120000);
  QVERIFY(c->hasUnsavedModel());

  // Unsaved edits and the model: one question naming both.
  QVERIFY(w.document()->autoLayout(300, 140));
  QVERIFY(w.document()->isModified());
  answer.texts.clear();
  answer.arm(QMessageBox::Discard);
  QVERIFY(w.close());
  QCOMPARE(answer.texts.size(), 1);
  QVERIFY2(answer.texts[0].contains(QStringLiteral("has unsaved changes, and the trained model (1 epoch")),
           qPrintable(answer.texts[0]));
}

QTEST_MAIN(TestGuiModelLife)
#include "test_gui_model_life.moc"
