// SPDX-License-Identifier: GPL-3.0-or-later
// Readable graphs in the editor (run from test_gui_editor's main): new layers from the
// palette, paste and duplicate never land on another node; Change Type (float <->
// quantized twin) in place as one undo step that restores the old layer exactly;
// after Auto-layout on ResNet-8 no edge passes behind a node and no label covers a
// node or another label.
#include "core/graph/project.h"

#include <QAction>
#include <QApplication>
#include <QTreeWidget>
#include <QUndoStack>
#include <QtTest>
#include <memory>

#include "app/gui/main_window.h"
#include "widgets/document/project_document.h"
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

struct Window {
  MainWindow w;
  GraphView* view = nullptr;
  GraphScene* scene = nullptr;
  Window() {
    w.resize(1600, 1000);
    w.show();
    w.activateWindow();
    view = w.graphView();
    scene = view->graphScene();
  }
  ProjectDocument* doc() const { return w.document(); }
  bool open(const char* example) { return w.openProject(examplePath(example)) && QTest::qWaitForWindowActive(&w); }
};

QRectF box(const NodeItem* n) { return n->mapRectToScene(QRectF(0, 0, NodeItem::kWidth, n->height())); }

/// "a and b overlap" for every pair of node boxes of the scene that overlap.
QStringList overlappingNodes(GraphScene* scene) {
  QList<NodeItem*> nodes;
  for (QGraphicsItem* item : scene->items())
    if (item->type() == NodeItem::Type) nodes << static_cast<NodeItem*>(item);
  QStringList out;
  for (int i = 0; i < nodes.size(); ++i)
    for (int j = i + 1; j < nodes.size(); ++j)
      if (box(nodes[i]).intersects(box(nodes[j]))) out << nodes[i]->id() + " / " + nodes[j]->id();
  return out;
}

int nodeCount(GraphScene* scene) {
  int n = 0;
  for (QGraphicsItem* item : scene->items()) n += item->type() == NodeItem::Type;
  return n;
}

/// Changes `id` through the Edit menu's Change Type action (what the context menu
/// shows too) and checks the promises: same id, position, connections and carried
/// parameters, one undo step, undo gives back the project byte for byte.
void changeTypeRoundTrip(Window& e, const QString& id, LayerType from, LayerType to) {
  ProjectDocument* doc = e.doc();
  const LayerSpec before = *doc->layer(id);
  QCOMPARE(before.type, from);
  const std::string jsonBefore = project_to_json(doc->project());
  const int steps = doc->undoStack()->count();
  e.scene->selectLayers({id});
  QAction* change = e.view->changeTypeAction();
  QVERIFY(change->isEnabled());
  QCOMPARE(change->text().remove('&'), QStringLiteral("Change Type to %1").arg(QString::fromStdString(to_string(to))));
  change->trigger();

  const LayerSpec* after = doc->layer(id);
  QVERIFY(after);
  QCOMPARE(after->type, to);
  QCOMPARE(after->x, before.x);
  QCOMPARE(after->y, before.y);
  QCOMPARE(after->inputs, before.inputs);
  for (const auto& [name, value] : before.params) {
    QVERIFY2(after->params.count(name), name.c_str());
    QCOMPARE(after->params.at(name), value);
  }
  for (const auto& [name, value] : before.pairs) QVERIFY((after->pairs.at(name) == value));
  // Whatever reads this layer's output still does.
  for (const LayerSpec& l : doc->project().layers)
    for (const std::string& in : l.inputs) QVERIFY(in.empty() || doc->layer(QString::fromStdString(in)));
  QCOMPARE(doc->undoStack()->count(), steps + 1);
  QVERIFY(e.scene->node(id));
  QCOMPARE(e.scene->node(id)->pos(), QPointF(before.x, before.y));

  doc->undoStack()->undo();
  QCOMPARE(project_to_json(doc->project()), jsonBefore);
  doc->undoStack()->redo();
  QCOMPARE(doc->layer(id)->type, to);
}

}  // namespace

class TestGuiReadableGraphs : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void twentyPaletteAddsDoNotOverlap();
  void pasteAndDuplicateDoNotOverlap();
  void changeTypeConvReluAddInPlace();
  void changeTypeFloatToQuantGetsDefaults();
  void autoLayoutRoutesResNetReadably();
};

void TestGuiReadableGraphs::twentyPaletteAddsDoNotOverlap() {
  Window e;
  QVERIFY(e.open("lenet_float.qnn.json"));
  LayerPalette* palette = e.w.palette();
  QTreeWidgetItem* item = palette->itemFor(QStringLiteral("QuantConv2d"));
  QVERIFY(item);
  const int before = nodeCount(e.scene);
  for (int i = 0; i < 20; ++i) Q_EMIT palette->itemDoubleClicked(item, 0);  // a double-click in the palette
  QCOMPARE(nodeCount(e.scene), before + 20);
  // Dropped from the palette on top of an existing node: beside it instead.
  e.view->addLayerAt(LayerType::ReLU, e.scene->node(QStringLiteral("conv1"))->sceneBoundingRect().center());
  QCOMPARE(nodeCount(e.scene), before + 21);
  const QStringList overlaps = overlappingNodes(e.scene);
  QVERIFY2(overlaps.isEmpty(), qPrintable(overlaps.join(", ")));
}

void TestGuiReadableGraphs::pasteAndDuplicateDoNotOverlap() {
  Window e;
  QVERIFY(e.open("lenet_float.qnn.json"));
  e.scene->selectLayers({QStringLiteral("conv1"), QStringLiteral("relu1"), QStringLiteral("pool1")});
  e.scene->copySelection();
  for (int i = 0; i < 4; ++i) QCOMPARE(e.scene->paste().size(), 3);
  e.scene->selectLayers({QStringLiteral("fc1"), QStringLiteral("relu3")});
  for (int i = 0; i < 4; ++i) QCOMPARE(e.scene->duplicateSelection().size(), 2);
  const QStringList overlaps = overlappingNodes(e.scene);
  QVERIFY2(overlaps.isEmpty(), qPrintable(overlaps.join(", ")));
}

void TestGuiReadableGraphs::changeTypeConvReluAddInPlace() {
  Window e;
  QVERIFY(e.open("resnet8_w4a4.qnn.json"));
  changeTypeRoundTrip(e, QStringLiteral("s1_conv1"), LayerType::QuantConv2d, LayerType::Conv2d);
  changeTypeRoundTrip(e, QStringLiteral("s1_conv1"), LayerType::Conv2d, LayerType::QuantConv2d);
  changeTypeRoundTrip(e, QStringLiteral("s1_relu1"), LayerType::QuantReLU, LayerType::ReLU);
  changeTypeRoundTrip(e, QStringLiteral("s1_relu1"), LayerType::ReLU, LayerType::QuantReLU);
  changeTypeRoundTrip(e, QStringLiteral("s1_add"), LayerType::QuantEltwiseAdd, LayerType::Add);
  changeTypeRoundTrip(e, QStringLiteral("s1_add"), LayerType::Add, LayerType::QuantEltwiseAdd);
  // A layer without a twin: nothing to change.
  e.scene->selectLayers({QStringLiteral("bn0")});
  QVERIFY(!e.view->changeTypeAction()->isEnabled());
}

void TestGuiReadableGraphs::changeTypeFloatToQuantGetsDefaults() {
  Window e;
  QVERIFY(e.open("lenet_float.qnn.json"));
  changeTypeRoundTrip(e, QStringLiteral("conv1"), LayerType::Conv2d, LayerType::QuantConv2d);
  const LayerSpec* conv = e.doc()->layer(QStringLiteral("conv1"));
  QVERIFY(conv->weight_quant);  // the registry's default weight quantizer
  changeTypeRoundTrip(e, QStringLiteral("relu1"), LayerType::ReLU, LayerType::QuantReLU);
  QVERIFY(e.doc()->layer(QStringLiteral("relu1"))->act_quant);
  // Shape inference follows: the new layer is validated like any edit (no errors).
  QVERIFY(!e.scene->node(QStringLiteral("conv1"))->hasErrors());
  QVERIFY(!e.scene->node(QStringLiteral("relu1"))->hasErrors());
}

void TestGuiReadableGraphs::autoLayoutRoutesResNetReadably() {
  Window e;
  QVERIFY(e.open("resnet8_w4a4.qnn.json"));
  e.view->autoLayoutAction()->trigger();
  QList<NodeItem*> nodes;
  QList<EdgeItem*> edges;
  for (QGraphicsItem* item : e.scene->items()) {
    if (item->type() == NodeItem::Type) nodes << static_cast<NodeItem*>(item);
    if (auto* edge = dynamic_cast<EdgeItem*>(item)) edges << edge;
  }
  QVERIFY(edges.size() >= 34);
  int labelled = 0;
  QList<QRectF> labels;
  for (EdgeItem* edge : edges) {
    const QString at = edge->source()->id() + " -> " + edge->target()->id();
    const QPolygonF route = edge->route();
    QVERIFY2(route.size() >= 2, qPrintable(at));
    for (int k = 1; k < route.size(); ++k)
      for (NodeItem* n : nodes) {
        if (n == edge->source() || n == edge->target()) continue;
        const QRectF r = box(n);
        const bool hidden = segment_crosses({route[k - 1].x(), route[k - 1].y()}, {route[k].x(), route[k].y()},
                                            LayoutRect{r.x(), r.y(), r.width(), r.height()});
        QVERIFY2(!hidden, qPrintable(at + " passes behind " + n->id()));
      }
    const QRectF label = edge->labelSceneRect();
    if (label.isEmpty()) continue;
    ++labelled;
    for (NodeItem* n : nodes) QVERIFY2(!label.intersects(box(n)), qPrintable("label of " + at + " covers " + n->id()));
    for (const QRectF& other : labels) QVERIFY2(!label.intersects(other), qPrintable("label of " + at));
    labels << label;
  }
  QVERIFY(labelled >= 30);  // shapes are inferred: nearly every edge is labelled
  // Dragging a node re-routes its edges live (the route follows the port).
  NodeItem* add = e.scene->node(QStringLiteral("s1_add"));
  add->setPos(add->pos() + QPointF(37, 0));
  for (EdgeItem* edge : edges)
    if (edge->target() == add) QCOMPARE(edge->route().back(), edge->target()->inputPort(edge->port()));
}

std::unique_ptr<QObject> makeGuiReadableGraphTests() { return std::make_unique<TestGuiReadableGraphs>(); }
#include "test_gui_readable_graphs.moc"
