// SPDX-License-Identifier: GPL-3.0-or-later
// The node editor, the layer inspector and the document's undo commands, driven
// like a user would: palette drags, port-to-port drags, inspector typing, shortcuts.
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/graph/validate.h"
#include "core/layers/layer_descriptor.h"
#include "core/train/trainer.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QSpinBox>
#include <QTableWidget>
#include <QToolButton>
#include <QTemporaryDir>
#include <QUndoStack>
#include <QtTest>

#include "tests/multi_test_main.h"
#include <memory>

#include "app/gui/main_window.h"
#include "app/gui/project_files.h"
#include "random_edits.h"
#include "widgets/document/project_document.h"
#include "widgets/inspector/layer_inspector.h"
#include "widgets/inspector/model_summary_view.h"
#include "widgets/node_editor/edge_item.h"
#include "widgets/node_editor/graph_scene.h"
#include "widgets/node_editor/graph_view.h"
#include "widgets/node_editor/layer_palette.h"
#include "widgets/node_editor/node_item.h"

using namespace qnn;

namespace {

QString examplePath(const char* name) {
  return QStringLiteral(QNN_SOURCE_DIR "/resources/examples/") + QLatin1String(name);
}

template <typename T>
T* mustFind(QObject* root, const QString& name) {
  T* child = root->findChild<T*>(name);
  if (!child) qFatal("no child named %s", qPrintable(name));
  return child;
}

/// A shown main window with room for the graph, the palette and the inspector.
struct Editor {
  MainWindow w;
  GraphView* view = nullptr;
  GraphScene* scene = nullptr;
  LayerPalette* palette = nullptr;
  LayerInspector* inspector = nullptr;
  Editor() {
    w.resize(1800, 1100);
    w.show();
    w.activateWindow();  // window shortcuts (Ctrl+Z) need the active window
    view = w.graphView();
    scene = view->graphScene();
    palette = w.palette();
    inspector = w.inspector();
  }
  ProjectDocument* doc() const { return w.document(); }
  /// Opens a bundled example, waits for the active window and fits the graph in view.
  bool openFitted(const char* example) {
    if (!w.openProject(examplePath(example))) return false;
    if (!QTest::qWaitForWindowActive(&w)) return false;
    view->fitToView();
    return true;
  }
  QWidget* vp() const { return view->viewport(); }
  QPoint at(QPointF scenePos) const { return view->mapFromScene(scenePos); }
  /// A point on the node body away from its ports and badge.
  QPoint bodyOf(const QString& id) const { return at(scene->node(id)->mapToScene(QPointF(50, 32))); }
  void click(const QString& id, Qt::KeyboardModifiers mods = {}) const {
    QTest::mouseClick(vp(), Qt::LeftButton, mods, bodyOf(id));
  }
  /// Press at `from`, move there in `steps` steps, release: a mouse drag in the view.
  void drag(QPoint from, QPoint to, int steps = 6) const {
    QTest::mousePress(vp(), Qt::LeftButton, {}, from);
    for (int i = 1; i <= steps; ++i) QTest::mouseMove(vp(), from + (to - from) * i / steps);
    QTest::mouseRelease(vp(), Qt::LeftButton, {}, to);
  }
  /// Drags a palette entry and drops it at `viewportPos` of the graph view.
  void dropFromPalette(const QString& type, QPoint viewportPos) const {
    QTreeWidgetItem* item = palette->itemFor(type);
    QVERIFY2(item, qPrintable(type));
    palette->scrollToItem(item);
    QWidget* pv = palette->viewport();
    const QPoint start = palette->visualItemRect(item).center();
    QTest::mousePress(pv, Qt::LeftButton, {}, start);
    QTest::mouseMove(pv, start + QPoint(12, 4));
    QTest::mouseMove(pv, start + QPoint(40, 10));
    const QPoint target = pv->mapFromGlobal(vp()->mapToGlobal(viewportPos));
    QTest::mouseMove(pv, target);
    QTest::mouseRelease(pv, Qt::LeftButton, {}, target);
  }
};

/// Replaces the spin box text by `value` with the keyboard, then Enter.
void typeInto(QWidget* editor, const QString& text) {
  QTest::mouseClick(editor, Qt::LeftButton, {}, QPoint(10, editor->height() / 2));
  QTest::keyClick(editor, Qt::Key_A, Qt::ControlModifier);
  QTest::keyClicks(editor, text);
  QTest::keyClick(editor, Qt::Key_Return);
}

void clickBox(QCheckBox* box) { QTest::mouseClick(box, Qt::LeftButton, {}, QPoint(8, box->height() / 2)); }

/// Chooses a combo entry with the keyboard (focus, then type its name: keyboard search).
void chooseIn(QComboBox* combo, const QString& text) {
  combo->setFocus(Qt::TabFocusReason);
  QTest::keyClicks(combo, text);
  QCOMPARE(combo->currentText(), text);
}

/// Training both models a few batches with the same seed; returns the max |logit difference|.
double trainedLogitDifference(const Project& a, const Project& b) {
  auto run = [](const Project& p) {
    set_thread_count(1);
    torch::manual_seed(0);
    QuantModel model = build_model(p);
    torch::manual_seed(123);
    Dataset data;
    data.images = torch::randn({96, 1, 32, 32});
    data.labels = torch::randint(0, 10, {96}, torch::kLong);
    TrainOptions o;
    o.spec = p.training;
    o.spec.epochs = 1;
    o.spec.batch_size = 16;
    o.spec.threads = 1;
    o.max_batches_per_epoch = 4;
    std::atomic<bool> cancel{false};
    train_model(model, data, data, o, {}, cancel);
    model->eval();
    torch::NoGradGuard guard;
    return model->forward(data.images.slice(0, 0, 8));
  };
  const torch::Tensor la = run(a), lb = run(b);
  return (la - lb).abs().max().item<double>();
}

}  // namespace

class TestGuiEditor : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void buildsLowPrecisionLeNetWithTheMouse();
  void undoRedoPropertyOverRandomEdits();
  void invalidEditShowsBadgeOnTheRightNode();
  void movesAndSpinBoxEditsAreOneUndoStepEach();
  void shortcutsEditTheGraph();
  void savesAtomicallyAndTracksModified();
  void summaryFollowsBitWidthsLive();
  void twoInputAddGetsBothPortsAndItsInputQuantizer();
  void pairParametersThroughLinkedFields();
};

void TestGuiEditor::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);  // recent files go to a test settings file
  QCoreApplication::setOrganizationName(QStringLiteral("qnn-studio-test"));
}

// (a) The low-precision LeNet from an empty canvas, with mouse and keyboard only.
void TestGuiEditor::buildsLowPrecisionLeNetWithTheMouse() {
  const Project example = load_project(examplePath("lenet_lowprec.qnn.json").toStdString());
  Editor e;
  QVERIFY(QTest::qWaitForWindowActive(&e.w));
  QVERIFY(e.doc()->isEmpty());
  // A fixed scene area so the view does not shift while the graph grows, zoomed out
  // with the keyboard (Ctrl+- three times: 0.512).
  e.scene->setSceneRect(-2000, -2000, 5000, 5000);
  e.view->setFocus();
  for (int i = 0; i < 3; ++i) QTest::keyClick(e.view, Qt::Key_Minus, Qt::ControlModifier);
  QVERIFY2(std::abs(e.view->zoom() - 0.512) < 1e-9, qPrintable(QString::number(e.view->zoom())));
  e.view->centerOn(QPointF(380, 480));

  QStringList ids;
  for (size_t i = 0; i < example.layers.size(); ++i) {
    const LayerSpec& want = example.layers[i];
    const QPointF topLeft(double(i / 8) * 300.0, double(i % 8) * 115.0);
    const QPoint drop = e.at(topLeft + QPointF(NodeItem::kWidth / 2, 11));
    QVERIFY2(e.vp()->rect().contains(drop), "drop point outside the view");
    const int before = int(e.doc()->project().layers.size());
    e.dropFromPalette(QString::fromStdString(to_string(want.type)), drop);
    QCOMPARE(int(e.doc()->project().layers.size()), before + 1);
    const QString id = QString::fromStdString(e.doc()->project().layers.back().id);
    QVERIFY(e.scene->node(id));
    QVERIFY(QLineF(e.scene->node(id)->pos(), topLeft).length() < 3.0);  // within a pixel at 0.512
    // Connect the previous layer's output port to this one's input port.
    if (!ids.isEmpty()) {
      e.drag(e.at(e.scene->node(ids.back())->outputPort()), e.at(e.scene->node(id)->inputPort(0)));
      QCOMPARE(e.doc()->layer(id)->inputs, std::vector<std::string>{ids.back().toStdString()});
    }
    ids << id;
  }
  QCOMPARE(e.scene->edgeCount(), int(example.layers.size()) - 1);

  // The inspector, by keyboard and mouse on its editors.
  for (size_t i = 0; i < example.layers.size(); ++i) {
    const LayerSpec& want = example.layers[i];
    QString id = ids[int(i)];
    e.click(id);
    QCOMPARE(e.inspector->selection(), QStringList{id});
    if (id.toStdString() != want.id) {
      typeInto(mustFind<QLineEdit>(e.inspector, QStringLiteral("idEdit")), QString::fromStdString(want.id));
      id = QString::fromStdString(want.id);
      QVERIFY2(e.doc()->layer(id), qPrintable(e.inspector->fieldError(QStringLiteral("id"))));
    }
    const LayerSpec* have = e.doc()->layer(id);
    for (const auto& [name, value] : want.params) {
      if (have->params.count(name) && have->params.at(name) == value) continue;
      const QString field = QStringLiteral("param_") + QString::fromStdString(name);
      if (name == "bias")
        clickBox(mustFind<QCheckBox>(e.inspector, field));
      else if (descriptor(want.type).param(name)->kind == ParamKind::IntTuple)  // linked h / w: h sets both
        typeInto(mustFind<QSpinBox>(e.inspector, field + QStringLiteral("_h")), QString::number(value));
      else
        typeInto(mustFind<QSpinBox>(e.inspector, field), QString::number(value));
      QCOMPARE(e.doc()->layer(id)->params.at(name), value);
    }
    auto setQuant = [&](const char* slot, const std::optional<QuantSpec>& q, const std::optional<QuantSpec>& now) {
      if (!q || q == now) return;
      const QString s = QString::fromLatin1(slot);
      if (!now || now->preset != q->preset)
        chooseIn(mustFind<QComboBox>(e.inspector, s + QStringLiteral("_preset")), QString::fromStdString(q->preset));
      typeInto(mustFind<QSpinBox>(e.inspector, s + QStringLiteral("_bit_width")), QString::number(q->bit_width));
    };
    setQuant("weight", want.weight_quant, have->weight_quant);
    setQuant("bias", want.bias_quant, e.doc()->layer(id)->bias_quant);
    setQuant("act", want.act_quant, e.doc()->layer(id)->act_quant);
    if (e.doc()->layer(id)->return_quant_tensor != want.return_quant_tensor)
      clickBox(mustFind<QCheckBox>(e.inspector, QStringLiteral("returnQuantTensor")));
    QVERIFY2(*e.doc()->layer(id) == [&] {
      LayerSpec w = want;
      w.x = e.doc()->layer(id)->x;
      w.y = e.doc()->layer(id)->y;
      return w;
    }(), qPrintable(QString::fromStdString(network_difference(e.doc()->project(), example))));
  }
  QCOMPARE(QString::fromStdString(network_difference(e.doc()->project(), example)), QString());
  QVERIFY(e.doc()->validation().ok());
  QVERIFY(e.doc()->isModified());
  QVERIFY(e.w.isWindowModified());

  // Same network, same seed: identical training and logits.
  QCOMPARE(trainedLogitDifference(e.doc()->project(), example), 0.0);
  Project other = example;  // the comparison can fail: one bit width apart
  other.find("fc3")->weight_quant->bit_width = 4;
  QVERIFY(trainedLogitDifference(e.doc()->project(), other) > 1e-4);
}

// (b) Random edit sequences: undo all -> start, redo all -> end, every step on the way.
void TestGuiEditor::undoRedoPropertyOverRandomEdits() {
  const Project example = load_project(examplePath("lenet_lowprec.qnn.json").toStdString());
  ProjectDocument doc;
  GraphScene scene(&doc);  // the scene follows every step (and must not crash)
  RandomEditStats stats;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    doc.setProject(seed % 4 == 3 ? Project{} : example);
    const QString error = runRandomEdits(doc, seed, 20, stats);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    // The scene shows exactly the document.
    QCOMPARE(scene.nodeCount(), int(doc.project().layers.size()));
    int connections = 0;
    for (const LayerSpec& l : doc.project().layers)
      for (const std::string& in : l.inputs) connections += doc.project().find(in) ? 1 : 0;
    QCOMPARE(scene.edgeCount(), connections);
  }
  QCOMPARE(stats.edits, 4000);
  for (int k = 0; k < 10; ++k) QVERIFY2(stats.kinds[k] > 20, qPrintable(QStringLiteral("edit kind %1 rarely applied").arg(k)));
  QVERIFY(stats.commands < stats.edits);  // some merged
  qInfo("%d random edits made %d undo steps", stats.edits, stats.commands);
}

// (c) An invalid edit in the inspector: badge on the node at fault, validate()'s text.
void TestGuiEditor::invalidEditShowsBadgeOnTheRightNode() {
  Editor e;
  QVERIFY(e.openFitted("lenet_lowprec.qnn.json"));
  QVERIFY(!e.scene->node(QStringLiteral("conv2"))->hasErrors());
  e.click(QStringLiteral("conv2"));
  typeInto(mustFind<QSpinBox>(e.inspector, QStringLiteral("param_in_channels")), QStringLiteral("7"));
  QCOMPARE(e.doc()->layer(QStringLiteral("conv2"))->params.at("in_channels"), 7.0);  // applied: a graph error

  Project expected = load_project(examplePath("lenet_lowprec.qnn.json").toStdString());
  expected.find("conv2")->params["in_channels"] = 7;
  QStringList lines;
  for (const Diagnostic& d : validate(expected).diagnostics)
    if (d.node == "conv2" && d.severity == Diagnostic::Severity::Error)
      lines << QString::fromStdString(d.message) + (d.hint.empty() ? QString() : QStringLiteral(" (%1)").arg(QString::fromStdString(d.hint)));
  QVERIFY(!lines.isEmpty());
  NodeItem* conv2 = e.scene->node(QStringLiteral("conv2"));
  QVERIFY(conv2->hasErrors());
  QCOMPARE(conv2->content().errors, lines);
  QVERIFY(conv2->toolTip().contains(lines[0].toHtmlEscaped()));
  QVERIFY(!conv2->badgeSceneRect().isEmpty());
  for (const QString& other : {QStringLiteral("conv1"), QStringLiteral("pool1"), QStringLiteral("relu2")})
    QVERIFY2(!e.scene->node(other)->hasErrors(), qPrintable(other));

  // A quantizer value the core rejects is not applied; the core's message shows.
  QuantSpec bad = presets::Int8WeightPerTensorFloat();
  bad.bit_width = 1;
  QString coreMessage;
  try {
    bad.validate("conv2.weight_quant");
  } catch (const ConfigError& err) {
    coreMessage = QString::fromStdString(err.what());
  }
  QVERIFY(!coreMessage.isEmpty());
  const int steps = e.doc()->undoStack()->count();
  typeInto(mustFind<QSpinBox>(e.inspector, QStringLiteral("weight_bit_width")), QStringLiteral("1"));
  QCOMPARE(e.inspector->fieldError(QStringLiteral("weight.bit_width")), coreMessage);
  QCOMPARE(e.doc()->layer(QStringLiteral("conv2"))->weight_quant->bit_width, 3);
  QCOMPARE(e.doc()->undoStack()->count(), steps);

  // Undo removes the badge again.
  QTest::keyClick(e.view, Qt::Key_Z, Qt::ControlModifier);
  QVERIFY(!e.scene->node(QStringLiteral("conv2"))->hasErrors());
  QCOMPARE(e.doc()->project(), load_project(examplePath("lenet_lowprec.qnn.json").toStdString()));
}

// (d) One undo step per drag and per spin-box edit; multi-selection edits in one step.
void TestGuiEditor::movesAndSpinBoxEditsAreOneUndoStepEach() {
  Editor e;
  QVERIFY(e.openFitted("lenet_lowprec.qnn.json"));
  const Project original = e.doc()->project();
  QUndoStack* stack = e.doc()->undoStack();

  // Drag conv1 by (+120, +30) view pixels in 12 mouse moves.
  e.click(QStringLiteral("conv1"));
  const QPointF before = e.scene->node(QStringLiteral("conv1"))->pos();
  const QPoint from = e.bodyOf(QStringLiteral("conv1"));
  e.drag(from, from + QPoint(120, 30), 12);
  QCOMPARE(stack->count(), 1);
  const LayerSpec* conv1 = e.doc()->layer(QStringLiteral("conv1"));
  const QPointF moved(conv1->x, conv1->y);
  QVERIFY(moved != before);
  QCOMPARE(e.scene->node(QStringLiteral("conv1"))->pos(), moved);
  // A second drag is a second step.
  e.drag(e.bodyOf(QStringLiteral("conv1")), e.bodyOf(QStringLiteral("conv1")) + QPoint(0, 40), 5);
  QCOMPARE(stack->count(), 2);
  stack->undo();
  QCOMPARE(QPointF(e.doc()->layer(QStringLiteral("conv1"))->x, e.doc()->layer(QStringLiteral("conv1"))->y), moved);
  stack->undo();
  QCOMPARE(e.doc()->project(), original);
  QCOMPARE(e.scene->node(QStringLiteral("conv1"))->pos(), before);

  // Typing "120" in out_channels: three value changes, one step.
  e.click(QStringLiteral("conv2"));
  typeInto(mustFind<QSpinBox>(e.inspector, QStringLiteral("param_out_channels")), QStringLiteral("120"));
  QCOMPARE(e.doc()->layer(QStringLiteral("conv2"))->params.at("out_channels"), 120.0);
  QCOMPARE(stack->count(), 1);
  stack->undo();
  QCOMPARE(e.doc()->project(), original);

  // Multi-selection: every weight bit width to 4 in one step.
  stack->clear();
  e.click(QStringLiteral("conv1"));
  for (const char* id : {"conv2", "fc1", "fc2", "fc3", "relu1"}) e.click(QString::fromLatin1(id), Qt::ControlModifier);
  QCOMPARE(e.inspector->selection().size(), 6);
  typeInto(mustFind<QSpinBox>(e.inspector, QStringLiteral("weight_bit_width")), QStringLiteral("4"));
  QCOMPARE(stack->count(), 1);
  for (const LayerSpec& l : e.doc()->project().layers) {
    const LayerSpec* o = original.find(l.id);
    if (l.weight_quant) QCOMPARE(l.weight_quant->bit_width, 4);
    else QCOMPARE(l, *o);  // relu1 has no weights: untouched
  }
  QCOMPARE(e.scene->node(QStringLiteral("fc2"))->content().bits, QStringLiteral("W4 / B8"));
  QTest::keyClick(e.view, Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(e.doc()->project(), original);
  QTest::keyClick(e.view, Qt::Key_Y, Qt::ControlModifier);
  QCOMPARE(e.doc()->layer(QStringLiteral("fc3"))->weight_quant->bit_width, 4);
}

// Delete, copy/paste, duplicate, auto-layout, connection cancel, fit and zoom keys.
void TestGuiEditor::shortcutsEditTheGraph() {
  Editor e;
  QVERIFY(e.openFitted("lenet_lowprec.qnn.json"));
  const Project original = e.doc()->project();
  QUndoStack* stack = e.doc()->undoStack();
  const int n = int(original.layers.size());

  // Dropping a connection on empty space cancels it.
  const QPoint port = e.at(e.scene->node(QStringLiteral("conv1"))->outputPort());
  e.drag(port, port + QPoint(-200, 10));
  QCOMPARE(stack->count(), 0);
  QVERIFY(!e.scene->isConnecting());

  // Delete removes the node and its two connections; undo restores them.
  e.click(QStringLiteral("pool1"));
  e.view->setFocus();
  QTest::keyClick(e.view, Qt::Key_Delete);
  QCOMPARE(int(e.doc()->project().layers.size()), n - 1);
  QCOMPARE(e.scene->edgeCount(), n - 3);
  QVERIFY(e.doc()->layer(QStringLiteral("conv2"))->inputs == std::vector<std::string>{""});
  QVERIFY(e.scene->node(QStringLiteral("conv2"))->hasErrors());  // unconnected input
  QTest::keyClick(e.view, Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(e.doc()->project(), original);
  QCOMPARE(e.scene->edgeCount(), n - 1);

  // A selected edge is deleted with Delete (disconnect).
  EdgeItem* edge = e.scene->edge(QStringLiteral("relu1"));
  QVERIFY(edge);
  QTest::mouseClick(e.vp(), Qt::LeftButton, {}, e.at(edge->path().pointAtPercent(0.5)));
  QVERIFY(edge->isSelected());
  QTest::keyClick(e.view, Qt::Key_Delete);
  QVERIFY(e.doc()->layer(QStringLiteral("relu1"))->inputs == std::vector<std::string>{""});
  stack->undo();

  // Copy + paste: conv1 -> conv1_2 (no connections), Ctrl+D: conv1_3 keeps its input.
  e.click(QStringLiteral("conv1"));
  QTest::keyClick(e.view, Qt::Key_C, Qt::ControlModifier);
  QTest::keyClick(e.view, Qt::Key_V, Qt::ControlModifier);
  const LayerSpec* pasted = e.doc()->layer(QStringLiteral("conv1_2"));
  QVERIFY(pasted);
  QVERIFY(pasted->inputs == std::vector<std::string>{""});
  QCOMPARE(pasted->weight_quant, original.find("conv1")->weight_quant);
  QCOMPARE(e.inspector->selection(), QStringList{QStringLiteral("conv1_2")});
  e.click(QStringLiteral("conv1"));
  QTest::keyClick(e.view, Qt::Key_D, Qt::ControlModifier);
  QVERIFY(e.doc()->layer(QStringLiteral("conv1_3")));
  QVERIFY(e.doc()->layer(QStringLiteral("conv1_3"))->inputs == std::vector<std::string>{"quant_inp"});
  QCOMPARE(e.scene->nodeCount(), n + 2);

  // Auto-layout: the chain becomes one column, rows kRowPitch apart, in one step.
  const int steps = stack->count();
  QTest::keyClick(e.view, Qt::Key_L, Qt::ControlModifier);
  QCOMPARE(stack->count(), steps + 1);
  const LayerSpec* in = e.doc()->layer(QStringLiteral("input"));
  const LayerSpec* out = e.doc()->layer(QStringLiteral("output"));
  QCOMPARE(out->y - in->y, (n - 1) * GraphScene::kRowPitch);
  QCOMPARE(e.doc()->layer(QStringLiteral("conv1"))->y, e.doc()->layer(QStringLiteral("conv1_3"))->y);
  QVERIFY(e.doc()->layer(QStringLiteral("conv1"))->x != e.doc()->layer(QStringLiteral("conv1_3"))->x);

  // Undo everything with the keyboard: back to the file, not modified.
  while (stack->canUndo()) QTest::keyClick(e.view, Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(e.doc()->project(), original);
  QVERIFY(!e.doc()->isModified());
  QCOMPARE(e.scene->nodeCount(), n);

  // Zoom keys and fit.
  const double z = e.view->zoom();
  QTest::keyClick(e.view, Qt::Key_Equal, Qt::ControlModifier);
  QVERIFY(std::abs(e.view->zoom() - z * 1.25) < 1e-9);
  QTest::keyClick(e.view, Qt::Key_F);
  QCOMPARE(e.view->zoom(), z);
}

// Save / Save As through ProjectFileActions: atomic, modified flag, title, recent list.
void TestGuiEditor::savesAtomicallyAndTracksModified() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  Editor e;
  QVERIFY(e.w.openProject(examplePath("lenet_w4a4_int32bias.qnn.json")));
  QVERIFY(QTest::qWaitForWindowActive(&e.w));
  QVERIFY(!e.w.isWindowModified());
  e.view->fitToView();
  e.click(QStringLiteral("conv1"));
  QCOMPARE(e.inspector->selection(), QStringList{QStringLiteral("conv1")});
  typeInto(mustFind<QSpinBox>(e.inspector, QStringLiteral("weight_bit_width")), QStringLiteral("5"));
  QVERIFY2(e.doc()->isModified(), qPrintable(e.inspector->fieldError(QStringLiteral("weight.bit_width"))));
  QVERIFY(e.w.isWindowModified());
  QVERIFY(e.w.windowTitle().contains(QStringLiteral("[*]")));

  const QString path = dir.filePath(QStringLiteral("mine.qnn.json"));
  QVERIFY(e.w.fileActions()->saveTo(path));
  QVERIFY(!e.doc()->isModified());
  QVERIFY(!e.w.isWindowModified());
  QCOMPARE(e.doc()->filePath(), path);
  const Project saved = load_project(path.toStdString());
  QCOMPARE(saved, e.doc()->project());
  QCOMPARE(saved.find("conv1")->weight_quant->bit_width, 5);
  QCOMPARE(e.w.fileActions()->recentFiles().value(0), QFileInfo(path).absoluteFilePath());
  QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("mine.qnn.json")});  // no temporaries left

  // A failed save: message, file and flags unchanged.
  e.view->setFocus();  // Ctrl+Z in a spin box undoes its text, in the graph the document
  QTest::keyClick(e.view, Qt::Key_Z, Qt::ControlModifier);
  QVERIFY(e.doc()->isModified());
  QVERIFY(!e.w.fileActions()->saveTo(dir.filePath(QStringLiteral("missing/folder/x.qnn.json"))));
  QVERIFY(!e.w.lastError().isEmpty());
  QVERIFY(e.doc()->isModified());
  QCOMPARE(e.doc()->filePath(), path);
  QCOMPARE(load_project(path.toStdString()), saved);
  // Autosave: the modified project goes to the recovery file, which brings it back
  // (same content, original path, still modified) in a new window.
  ProjectFileActions* files = e.w.fileActions();
  files->autosaveNow();
  QVERIFY(files->hasRecovery());
  QCOMPARE(load_project(files->recoveryFile().toStdString()), e.doc()->project());
  {
    MainWindow other;
    other.fileActions()->recover(files->recoveryFile());
    QCOMPARE(other.document()->project(), e.doc()->project());
    QCOMPARE(other.document()->filePath(), path);
    QVERIFY(other.document()->isModified());
  }
  // Redo returns to the saved state: clean again.
  auto* box = e.w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox"));
  QVERIFY(box);
  QTest::keyClick(box, Qt::Key_Escape);
  e.w.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&e.w));
  QTest::keyClick(e.view, Qt::Key_Y, Qt::ControlModifier);
  QVERIFY(!e.doc()->isModified());
  QVERIFY(!files->hasRecovery());  // clean again: nothing to recover
}

// The model summary dock: LeNet numbers by hand, updated when a bit width changes.
void TestGuiEditor::summaryFollowsBitWidthsLive() {
  Editor e;
  QVERIFY(e.openFitted("lenet_lowprec.qnn.json"));
  auto* summary = mustFind<ModelSummaryView>(&e.w, QStringLiteral("modelSummary"));
  auto row = [&](const QString& id) {
    for (int r = 0; r < summary->table()->rowCount(); ++r)
      if (summary->table()->item(r, 0)->text() == id) return r;
    return -1;
  };
  auto number = [&](int r, int c) { return summary->table()->item(r, c)->text().remove(QRegularExpression(QStringLiteral("[^0-9]"))).toLongLong(); };
  const int conv1 = row(QStringLiteral("conv1"));
  QVERIFY(conv1 >= 0);
  QCOMPARE(number(conv1, 2), 6LL * 1 * 5 * 5 + 6);     // 156 parameters
  QCOMPARE(number(conv1, 3), 6LL * 28 * 28 * 1 * 25);  // 117600 MACs
  QCOMPARE(number(conv1, 4), 3LL);
  QCOMPARE(number(conv1, 5), 8LL);
  QCOMPARE(number(conv1, 6), (150LL * 3 + 6 * 8 + 7) / 8);  // 498 bits -> 63 bytes
  const int fc1 = row(QStringLiteral("fc1"));
  QCOMPARE(number(fc1, 2), 400LL * 120 + 120);
  QCOMPARE(number(fc1, 3), 400LL * 120);

  e.click(QStringLiteral("conv1"));
  typeInto(mustFind<QSpinBox>(e.inspector, QStringLiteral("weight_bit_width")), QStringLiteral("4"));
  QCOMPARE(number(row(QStringLiteral("conv1")), 4), 4LL);
  QCOMPARE(number(row(QStringLiteral("conv1")), 6), (150LL * 4 + 6 * 8) / 8);  // 648 bits -> 81 bytes
}

// QuantEltwiseAdd: added by double-click in the palette, two input ports connected by
// dragging, its input quantizer edited in the inspector.
void TestGuiEditor::twoInputAddGetsBothPortsAndItsInputQuantizer() {
  Editor e;
  QVERIFY(e.w.openProject(examplePath("lenet_lowprec.qnn.json")));
  QVERIFY(QTest::qWaitForWindowActive(&e.w));
  e.scene->setSceneRect(-1000, -1000, 3000, 3000);
  e.view->centerOn(QPointF(300, 300));
  QTreeWidgetItem* item = e.palette->itemFor(QStringLiteral("QuantEltwiseAdd"));
  QVERIFY(item);
  e.palette->scrollToItem(item);
  const QPoint p = e.palette->visualItemRect(item).center();
  QTest::mouseClick(e.palette->viewport(), Qt::LeftButton, {}, p);
  QTest::mouseDClick(e.palette->viewport(), Qt::LeftButton, {}, p);
  const LayerSpec* add = e.doc()->layer(QStringLiteral("add1"));
  QVERIFY(add);
  QCOMPARE(add->inputs.size(), size_t(2));
  NodeItem* node = e.scene->node(QStringLiteral("add1"));
  QCOMPARE(node->inputPortCount(), 2);
  // Move it beside the chain (drag its body), then connect relu1 -> port 0, pool1 -> port 1.
  e.drag(e.bodyOf(QStringLiteral("add1")), e.at(QPointF(400, 300)), 6);
  e.drag(e.at(e.scene->node(QStringLiteral("relu1"))->outputPort()), e.at(node->inputPort(0)));
  e.drag(e.at(node->inputPort(1)), e.at(e.scene->node(QStringLiteral("pool1"))->outputPort()));  // reverse drag
  QVERIFY(e.doc()->layer(QStringLiteral("add1"))->inputs == (std::vector<std::string>{"relu1", "pool1"}));
  QVERIFY(e.scene->edge(QStringLiteral("add1"), 0) && e.scene->edge(QStringLiteral("add1"), 1));
  e.click(QStringLiteral("add1"));
  typeInto(mustFind<QSpinBox>(e.inspector, QStringLiteral("input_bit_width")), QStringLiteral("6"));
  QCOMPARE(e.doc()->layer(QStringLiteral("add1"))->input_quant->bit_width, 6);
  QCOMPARE(e.doc()->layer(QStringLiteral("add1"))->input_quant->preset, std::string("Int8ActPerTensorFloat"));
  // relu1 (6x28x28) + pool1 (6x14x14): the core reports the shape mismatch on add1.
  QVERIFY(e.scene->node(QStringLiteral("add1"))->hasErrors());
}

std::unique_ptr<QObject> makeGuiEditorFileTests();  // test_gui_editor_files.cpp
std::unique_ptr<QObject> makeGuiReadableGraphTests();  // test_gui_readable_graphs.cpp

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  return qnn_test::run_test_classes(
      argc, argv, {[] { return std::unique_ptr<QObject>(new TestGuiEditor); }, [] { return makeGuiEditorFileTests(); },
                       [] { return makeGuiReadableGraphTests(); }});
}
#include "test_gui_editor.moc"

// kernel_size as a pair through the Inspector's linked h / w fields: linked edits store
// one number, unlinking stores [h, w], an invalid entry is refused under the field;
// each edit one undo step.
void TestGuiEditor::pairParametersThroughLinkedFields() {
  Editor e;
  QVERIFY(e.openFitted("lenet_lowprec.qnn.json"));
  const Project original = e.doc()->project();
  QUndoStack* stack = e.doc()->undoStack();
  const QString conv = QStringLiteral("conv2");
  e.click(conv);
  auto* h = mustFind<QSpinBox>(e.inspector, QStringLiteral("param_kernel_size_h"));
  auto* w = mustFind<QSpinBox>(e.inspector, QStringLiteral("param_kernel_size_w"));
  auto* link = mustFind<QToolButton>(e.inspector, QStringLiteral("param_kernel_size_link"));
  QCOMPARE(h->value(), 5);
  QCOMPARE(w->value(), 5);
  QVERIFY(link->isChecked());  // a number in the file: linked

  // Linked: typing h sets both axes, stored as one number.
  typeInto(h, QStringLiteral("3"));
  QCOMPARE(e.doc()->layer(conv)->params.at("kernel_size"), 3.0);
  QVERIFY(!e.doc()->layer(conv)->pairs.count("kernel_size"));
  QCOMPARE(w->value(), 3);
  QCOMPARE(stack->count(), 1);

  // Unlink, then w = 1: the pair [3, 1].
  QTest::mouseClick(link, Qt::LeftButton);
  QVERIFY(!link->isChecked());
  QCOMPARE(stack->count(), 2);
  QVERIFY((e.doc()->layer(conv)->pairs.at("kernel_size") == std::array<double, 2>{3, 3}));
  typeInto(w, QStringLiteral("1"));
  QVERIFY((e.doc()->layer(conv)->pairs.at("kernel_size") == std::array<double, 2>{3, 1}));
  QCOMPARE(stack->count(), 3);
  QVERIFY2(e.scene->node(conv)->content().params.startsWith(QStringLiteral("k3x1")),
           qPrintable(e.scene->node(conv)->content().params));
  // Validation follows: conv2 on pool1's [6, 14, 14] gives (14 - 3 + 1) x (14 - 1 + 1).
  QCOMPARE(e.doc()->validation().nodes.at("conv2").shape, (std::vector<int64_t>{16, 12, 14}));

  // An entry of 0 is refused under the field; the document keeps [3, 1].
  typeInto(h, QStringLiteral("0"));
  QVERIFY2(e.inspector->fieldError(QStringLiteral("kernel_size")).contains(QStringLiteral("must be positive")),
           qPrintable(e.inspector->fieldError(QStringLiteral("kernel_size"))));
  QVERIFY((e.doc()->layer(conv)->pairs.at("kernel_size") == std::array<double, 2>{3, 1}));
  QCOMPARE(stack->count(), 3);

  // Link again: one number (h) for both axes.
  QTest::mouseClick(link, Qt::LeftButton);
  QCOMPARE(e.doc()->layer(conv)->params.at("kernel_size"), 3.0);
  QCOMPARE(stack->count(), 4);
  for (int i = 0; i < 4; ++i) stack->undo();
  QCOMPARE(e.doc()->project(), original);
  QCOMPARE(h->value(), 5);
  QVERIFY(link->isChecked());
}
