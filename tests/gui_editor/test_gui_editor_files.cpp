// SPDX-License-Identifier: GPL-3.0-or-later
// Project replacement with a selected node, per-window autosave recovery files,
// committing a half-typed id on save, the title after a save under a new name, and
// the consistency checks of LayerDelta::apply (run from test_gui_editor's main).
#include "core/graph/project.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QLineEdit>
#include <QLockFile>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <memory>
#include <stdexcept>

#include "app/gui/main_window.h"
#include "app/gui/project_files.h"
#include "widgets/document/layer_edits.h"
#include "widgets/document/project_document.h"
#include "widgets/inspector/layer_inspector.h"
#include "widgets/node_editor/graph_scene.h"
#include "widgets/node_editor/graph_view.h"
#include "widgets/node_editor/node_item.h"

using namespace qnn;

namespace {

QString example(const char* name) { return QStringLiteral(QNN_SOURCE_DIR "/resources/examples/") + QLatin1String(name); }

/// Clicks the body of node `id` in the window's graph view (away from ports and badge).
void clickNode(MainWindow& w, const QString& id) {
  GraphView* view = w.graphView();
  NodeItem* node = view->graphScene()->node(id);
  QVERIFY(node);
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->mapFromScene(node->mapToScene(QPointF(50, 32))));
}

QAction* actionNamed(QMenu* menu, const QString& text) {
  for (QAction* a : menu->actions())
    if (a->text() == text) return a;
  return nullptr;
}

/// Answers the next message box with `button` (from the event loop it runs); looks
/// again every 50 ms until one is shown.
void answerNextMessageBox(QMessageBox::StandardButton button, QString* text) {
  QTimer::singleShot(50, [button, text] {
    QMessageBox* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
    for (QWidget* w : QApplication::topLevelWidgets())
      if (!box && w->isVisible()) box = qobject_cast<QMessageBox*>(w);
    if (!box || !box->button(button)) {
      answerNextMessageBox(button, text);
      return;
    }
    if (text) *text = box->text();
    box->button(button)->click();
  });
}

}  // namespace

class TestGuiEditorFiles : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void replacingTheProjectWithASelectedNode();
  void recoveryFilesArePerWindowAndLocked();
  void saveCommitsTheIdBeingTyped();
  void titleFollowsSaveUnderANewName();
  void layerDeltaChecksInRelease();
};

void TestGuiEditorFiles::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName(QStringLiteral("qnn-studio-test"));
}

// Replacing the project deletes the node items; a selected one used to make the scene
// emit selectionChanged into a handler that read the already deleted items.
void TestGuiEditorFiles::replacingTheProjectWithASelectedNode() {
  MainWindow w;
  w.resize(1600, 1000);
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  GraphScene* scene = w.graphView()->graphScene();
  QSignalSpy selection(scene, &GraphScene::layerSelectionChanged);

  QVERIFY(w.openProject(example("lenet_w4a4_int32bias.qnn.json")));
  w.graphView()->fitToView();
  clickNode(w, QStringLiteral("conv1"));
  QCOMPARE(w.inspector()->selection(), QStringList{QStringLiteral("conv1")});
  selection.clear();
  // File > Open Example > lenet_float.
  QMenu* examples = w.findChild<QMenu*>(QStringLiteral("examplesMenu"));
  QVERIFY(examples);
  QAction* lenetFloat = actionNamed(examples, QStringLiteral("lenet_float"));
  QVERIFY(lenetFloat);
  lenetFloat->trigger();
  QCOMPARE(QFileInfo(w.document()->filePath()).fileName(), QStringLiteral("lenet_float.qnn.json"));
  QCOMPARE(selection.count(), 1);  // exactly one "nothing selected"
  QCOMPARE(selection.at(0).at(0).toStringList(), QStringList());
  QVERIFY(scene->selectedItems().isEmpty());
  QVERIFY(w.inspector()->selection().isEmpty());
  QCOMPARE(scene->nodeCount(), int(w.document()->project().layers.size()));

  // New from Template while a node is selected, then New Empty.
  w.graphView()->fitToView();
  clickNode(w, QStringLiteral("fc1"));
  QCOMPARE(w.inspector()->selection(), QStringList{QStringLiteral("fc1")});
  QAction* lowprec = actionNamed(w.fileActions()->newMenu(), QStringLiteral("lenet_lowprec"));
  QVERIFY(lowprec);
  lowprec->trigger();
  QVERIFY(w.document()->filePath().isEmpty());  // a template opens untitled
  QVERIFY(w.inspector()->selection().isEmpty());
  w.graphView()->fitToView();
  clickNode(w, QStringLiteral("conv2"));
  QCOMPARE(w.inspector()->selection(), QStringList{QStringLiteral("conv2")});
  // The networks beyond LeNet are templates too; each opens untitled with every layer on the canvas.
  for (const char* name : {"lenet5_classic", "tfc_w2a2", "cnv_w2a2", "resnet8_w4a4"}) {
    QAction* t = actionNamed(w.fileActions()->newMenu(), QString::fromLatin1(name));
    QVERIFY2(t, name);
    t->trigger();
    QVERIFY(w.document()->filePath().isEmpty());
    const Project want = load_project(QStringLiteral(QNN_SOURCE_DIR "/resources/examples/%1.qnn.json")
                                          .arg(QLatin1String(name))
                                          .toStdString());
    QCOMPARE(w.document()->project().layers.size(), want.layers.size());
    QCOMPARE(scene->nodeCount(), int(want.layers.size()));
    QVERIFY2(w.document()->validation().ok(), name);
  }
  w.findChild<QAction*>(QStringLiteral("newEmptyAction"))->trigger();
  QVERIFY(w.document()->isEmpty());
  QCOMPARE(scene->nodeCount(), 0);
  QVERIFY(w.inspector()->selection().isEmpty());
}

void TestGuiEditorFiles::recoveryFilesArePerWindowAndLocked() {
  MainWindow a;
  MainWindow b;
  ProjectFileActions* fa = a.fileActions();
  ProjectFileActions* fb = b.fileActions();
  // The timer waits for the recovery question (offerRecovery) to be answered.
  QVERIFY(!fa->isAutosaving());
  QVERIFY(fa->recoveryFile() != fb->recoveryFile());
  QVERIFY(QFileInfo(fa->recoveryFile()).fileName().contains(QString::number(QCoreApplication::applicationPid())));
  const QDir dir = QFileInfo(fa->recoveryFile()).absoluteDir();

  QVERIFY(a.openProject(example("lenet_w4a4_int32bias.qnn.json")));
  QVERIFY(a.document()->removeLayers({QStringLiteral("fc3")}));
  QVERIFY(a.document()->isModified());
  fa->autosaveNow();
  QVERIFY(fa->hasRecovery());
  QVERIFY(QFileInfo::exists(fa->recoveryFile() + QStringLiteral(".lock")));
  QCOMPARE(load_project(fa->recoveryFile().toStdString()), a.document()->project());
  // A live window's file is nobody's orphan, and another window never removes it.
  QVERIFY(!ProjectFileActions::orphanedRecoveryFiles().contains(fa->recoveryFile()));
  fb->discardRecovery();
  QVERIFY(fa->hasRecovery());

  // A file left by a crashed instance (no lock): b offers it, recovers it, removes it.
  const QString orphan = dir.filePath(QStringLiteral("recovery-999999999-1.qnn.json"));
  Project crashed = load_project(example("lenet_float.qnn.json").toStdString());
  crashed.name = "crashed edits";
  save_project(crashed, orphan.toStdString());
  {
    QFile path(orphan + QStringLiteral(".path"));
    QVERIFY(path.open(QIODevice::WriteOnly));
    path.write("/somewhere/mine.qnn.json");
  }
  const QStringList orphans = ProjectFileActions::orphanedRecoveryFiles();
  QVERIFY(orphans.contains(QFileInfo(orphan).absoluteFilePath()));
  QVERIFY(!orphans.contains(fa->recoveryFile()));
  // Make the crashed file the newest one so it is the one offered.
  {
    QFile f(orphan);
    QVERIFY(f.open(QIODevice::ReadWrite));
    QVERIFY(f.setFileTime(QDateTime::currentDateTime().addSecs(60), QFileDevice::FileModificationTime));
  }
  QString question;
  answerNextMessageBox(QMessageBox::Yes, &question);
  fb->offerRecovery();
  QVERIFY2(question.contains(QStringLiteral("Recover")), qPrintable(question));
  QCOMPARE(b.document()->project(), crashed);
  QCOMPARE(b.document()->filePath(), QStringLiteral("/somewhere/mine.qnn.json"));
  QVERIFY(b.document()->isModified());
  QVERIFY(!QFileInfo::exists(orphan));
  QVERIFY(!QFileInfo::exists(orphan + QStringLiteral(".path")));
  QVERIFY(fb->isAutosaving());
  QVERIFY(fa->hasRecovery());  // a's file untouched

  // Saved: a's own file goes.
  QTemporaryDir tmp;
  QVERIFY(fa->saveTo(tmp.filePath(QStringLiteral("a.qnn.json"))));
  QVERIFY(!fa->hasRecovery());
}

// An id typed in the inspector without Enter is part of what Ctrl+S writes.
void TestGuiEditorFiles::saveCommitsTheIdBeingTyped() {
  QTemporaryDir dir;
  const QString path = dir.filePath(QStringLiteral("net.qnn.json"));
  QVERIFY(QFile::copy(example("lenet_w4a4_int32bias.qnn.json"), path));
  MainWindow w;
  w.resize(1600, 1000);
  w.show();
  w.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&w));
  QVERIFY(w.openProject(path));
  w.graphView()->fitToView();
  clickNode(w, QStringLiteral("conv1"));
  auto* idEdit = w.inspector()->findChild<QLineEdit*>(QStringLiteral("idEdit"));
  QVERIFY(idEdit);
  QTest::mouseClick(idEdit, Qt::LeftButton, {}, QPoint(10, idEdit->height() / 2));
  QTest::keyClick(idEdit, Qt::Key_A, Qt::ControlModifier);
  QTest::keyClicks(idEdit, QStringLiteral("stem"));
  QVERIFY(!w.document()->layer(QStringLiteral("stem")));  // not committed yet
  QTest::keyClick(idEdit, Qt::Key_S, Qt::ControlModifier);  // File > Save
  const Project saved = load_project(path.toStdString());
  QVERIFY(saved.find("stem"));
  QVERIFY(!saved.find("conv1"));
  QVERIFY(!w.document()->isModified());
}

// Save under a new name: the title shows the new file (the project has no name).
void TestGuiEditorFiles::titleFollowsSaveUnderANewName() {
  QTemporaryDir dir;
  MainWindow w;
  QVERIFY(!w.document()->addLayer(LayerType::QuantIdentity, QPointF(0, 0)).isEmpty());
  QVERIFY(!w.windowTitle().contains(QStringLiteral("mynet")));
  QVERIFY(w.fileActions()->saveTo(dir.filePath(QStringLiteral("mynet.qnn.json"))));
  QVERIFY2(w.windowTitle().contains(QStringLiteral("mynet")), qPrintable(w.windowTitle()));
}

void TestGuiEditorFiles::layerDeltaChecksInRelease() {
  const Project p = load_project(example("lenet_float.qnn.json").toStdString());
  std::vector<LayerSpec> layers = p.layers;
  LayerDelta d;
  LayerSpec wrongBefore = layers[1];
  wrongBefore.x += 7.0;  // not what the list holds
  LayerSpec after = layers[1];
  after.y += 3.0;
  d.changed.push_back({1, wrongBefore, after});
  d.added.push_back(layers[0]);
  bool threw = false;
  try {
    d.apply(layers, true);
  } catch (const std::logic_error&) {
    threw = true;
  }
  QVERIFY(threw);
  QVERIFY(layers == p.layers);  // the check comes before that layer is touched
  // The matching delta applies and reverts.
  d.changed[0].before = layers[1];
  d.apply(layers, true);
  QCOMPARE(layers.size(), p.layers.size() + 1);
  QCOMPARE(layers[1].y, p.layers[1].y + 3.0);
  d.apply(layers, false);
  QVERIFY(layers == p.layers);
  // Undo of a delta that added more layers than there are.
  std::vector<LayerSpec> none;
  threw = false;
  try {
    d.apply(none, false);
  } catch (const std::logic_error&) {
    threw = true;
  }
  QVERIFY(threw);
}

std::unique_ptr<QObject> makeGuiEditorFileTests() { return std::make_unique<TestGuiEditorFiles>(); }

#include "test_gui_editor_files.moc"
