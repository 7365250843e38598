// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/node_editor/graph_scene.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <QApplication>
#include <QClipboard>
#include <QGraphicsPathItem>
#include <QGraphicsSceneMouseEvent>
#include <QMimeData>

#include "core/errors.h"
#include "widgets/document/layer_edits.h"
#include "widgets/document/project_document.h"
#include "widgets/node_editor/edge_item.h"
#include "widgets/node_editor/node_item.h"

namespace qnn {
namespace {

/// Layer ids in the order to lay them out: topological when validation found one,
/// then any layer it left out, in file order.
std::vector<std::string> layoutOrder(const Project& project, const ValidationResult& v) {
  std::vector<std::string> order = v.order;
  std::set<std::string> seen(order.begin(), order.end());
  for (const LayerSpec& l : project.layers)
    if (seen.insert(l.id).second) order.push_back(l.id);
  return order;
}

bool sameContent(const NodeContent& a, const NodeContent& b) {
  return a.id == b.id && a.type == b.type && a.params == b.params && a.shape == b.shape &&
         a.outputQuant == b.outputQuant && a.quant == b.quant && a.bits == b.bits && a.errors == b.errors &&
         a.warnings == b.warnings && a.inputPorts == b.inputPorts && a.outputPort == b.outputPort;
}

QString infoLabel(const ValidationResult& v, const std::string& id) {
  const auto it = v.nodes.find(id);
  return edgeLabel(it == v.nodes.end() ? nullptr : &it->second);
}

}  // namespace

GraphScene::GraphScene(ProjectDocument* document, QObject* parent)
    : QGraphicsScene(parent), m_document(document) {
  setBackgroundBrush(QColor(250, 250, 252));
  connect(document, &ProjectDocument::projectReplaced, this, &GraphScene::rebuild);
  connect(document, &ProjectDocument::layerAdded, this, &GraphScene::onLayerAdded);
  connect(document, &ProjectDocument::layerRemoved, this, &GraphScene::onLayerRemoved);
  connect(document, &ProjectDocument::layerRenamed, this, &GraphScene::onLayerRenamed);
  connect(document, &ProjectDocument::layerChanged, this, &GraphScene::onLayerChanged);
  connect(document, &ProjectDocument::connectionsChanged, this, [this] { m_edgesDirty = true; });
  connect(document, &ProjectDocument::changed, this, &GraphScene::onChanged);
  connect(this, &QGraphicsScene::selectionChanged, this, [this] {
    const QStringList ids = selectedLayerIds();
    if (ids == m_lastSelection) return;
    m_lastSelection = ids;
    Q_EMIT layerSelectionChanged(ids);
  });
  rebuild();
}

GraphScene::~GraphScene() {
  // No more selection signals: QGraphicsScene's destructor removes items after this
  // object's members are gone. Edges unregister from their nodes: delete them first.
  blockSignals(true);
  qDeleteAll(m_edges);
  m_edges.clear();
  clear();
  m_nodes.clear();
}

ProjectDocument* GraphScene::document() const { return m_document.data(); }

EdgeItem* GraphScene::edge(const QString& target, int port) const {
  for (EdgeItem* e : m_edges)
    if (e->target()->id() == target && e->port() == port) return e;
  return nullptr;
}

// ------------------------------------------------------------------ observing the document

NodeItem* GraphScene::createNode(const LayerSpec& l) {
  auto* item = new NodeItem(describeLayer(l, m_document->validation()));
  item->setPos(l.x, l.y);
  addItem(item);
  m_nodes.insert(item->id(), item);
  return item;
}

void GraphScene::rebuild() {
  {
    // Deleting a selected item makes QGraphicsScene emit selectionChanged, whose handler
    // walks m_nodes: empty the members first and keep the scene quiet while deleting.
    const QSignalBlocker block(this);
    QList<EdgeItem*> edges;
    edges.swap(m_edges);
    QHash<QString, NodeItem*> nodes;
    nodes.swap(m_nodes);
    qDeleteAll(edges);
    clear();
  }
  const bool hadSelection = !m_lastSelection.isEmpty();
  m_lastSelection.clear();
  if (hadSelection) Q_EMIT layerSelectionChanged({});
  m_connect = ConnectDrag{};
  m_rectValid = false;
  if (!m_document) return;
  const Project& project = m_document->project();
  for (const LayerSpec& l : project.layers) createNode(l);

  // No stored positions: top-to-bottom in execution order, wrapped into columns so
  // that a LeNet-sized chain stays readable when fitted to the window.
  const bool placed = std::any_of(project.layers.begin(), project.layers.end(),
                                  [](const LayerSpec& l) { return l.x != 0.0 || l.y != 0.0; });
  if (!placed && project.layers.size() > 1) {
    const std::vector<std::string> order = layoutOrder(project, m_document->validation());
    const int n = int(order.size());
    const int perColumn = n <= 8 ? n : std::max(6, int(std::ceil(std::sqrt(2.0 * n))));
    for (int i = 0; i < n; ++i)
      if (NodeItem* item = m_nodes.value(QString::fromStdString(order[size_t(i)])))
        item->setPos((i / perColumn) * kColumnPitch, (i % perColumn) * kRowPitch);
  }
  rebuildEdges();
  rerouteEdges();
  updateSceneRect();
  Q_EMIT rebuilt();
}

void GraphScene::onLayerAdded(const QString& id) {
  if (const LayerSpec* l = m_document->layer(id); l && !m_nodes.contains(id)) createNode(*l);
  m_edgesDirty = true;
}

void GraphScene::onLayerRemoved(const QString& id) {
  NodeItem* item = m_nodes.take(id);
  if (!item) return;
  for (auto it = m_edges.begin(); it != m_edges.end();) {
    if ((*it)->source() == item || (*it)->target() == item) {
      delete *it;
      it = m_edges.erase(it);
    } else {
      ++it;
    }
  }
  delete item;
  m_edgesDirty = true;
}

void GraphScene::onLayerRenamed(const QString& oldId, const QString& newId) {
  if (NodeItem* item = m_nodes.take(oldId)) m_nodes.insert(newId, item);
}

void GraphScene::onLayerChanged(const QString& id) {
  NodeItem* item = m_nodes.value(id);
  const LayerSpec* l = m_document->layer(id);
  if (!item || !l) return;
  if (item->pos() != QPointF(l->x, l->y)) item->setPos(l->x, l->y);
}

void GraphScene::onChanged() {
  if (!m_document) return;
  const ValidationResult& v = m_document->validation();
  for (const LayerSpec& l : m_document->project().layers) {
    NodeItem* item = m_nodes.value(QString::fromStdString(l.id));
    if (!item) continue;
    const NodeContent c = describeLayer(l, v);
    if (!sameContent(c, item->content())) item->setContent(c);
  }
  if (m_edgesDirty) {
    rebuildEdges();
  } else {
    for (EdgeItem* e : m_edges) e->setLabel(infoLabel(v, e->source()->id().toStdString()));
  }
  rerouteEdges();
  updateSceneRect();
  const QStringList ids = selectedLayerIds();
  if (ids != m_lastSelection) {  // a rename of a selected layer
    m_lastSelection = ids;
    Q_EMIT layerSelectionChanged(ids);
  }
}

void GraphScene::rebuildEdges() {
  m_edgesDirty = false;
  std::set<std::pair<QString, int>> selected;
  for (EdgeItem* e : m_edges)
    if (e->isSelected()) selected.insert({e->target()->id(), e->port()});
  qDeleteAll(m_edges);
  m_edges.clear();
  if (!m_document) return;
  const ValidationResult& v = m_document->validation();
  for (const LayerSpec& l : m_document->project().layers) {
    NodeItem* target = m_nodes.value(QString::fromStdString(l.id));
    for (size_t port = 0; port < l.inputs.size(); ++port) {
      NodeItem* source = m_nodes.value(QString::fromStdString(l.inputs[port]));
      if (!source || !target) continue;  // validation reports the dangling input on the node
      auto* e = new EdgeItem(source, target, int(port), infoLabel(v, l.inputs[port]));
      addItem(e);
      if (selected.count({target->id(), int(port)})) e->setSelected(true);
      m_edges << e;
    }
  }
}

void GraphScene::rerouteEdges() {
  if (m_edges.isEmpty()) return;
  std::vector<RouteNode> nodes;
  if (m_document)  // document order: the same routes whatever the hash order
    for (const LayerSpec& l : m_document->project().layers)
      if (NodeItem* n = m_nodes.value(QString::fromStdString(l.id))) nodes.push_back(EdgeItem::routeNode(n));
  std::vector<RouteEdge> edges;
  for (const EdgeItem* e : std::as_const(m_edges)) edges.push_back(e->routeEdge());
  const std::vector<EdgeRoute> routes = route_edges(nodes, edges);
  for (int i = 0; i < m_edges.size(); ++i) {
    const EdgeRoute& r = routes[size_t(i)];
    QPolygonF points;
    for (const LayoutPoint& p : r.points) points << QPointF(p.x, p.y);
    m_edges[i]->setRoute(points, QRectF(r.label.x, r.label.y, r.label.w, r.label.h));
  }
}

void GraphScene::updateSceneRect() {
  // Generous margins so nodes can be dropped and dragged beyond the current graph;
  // only grows between rebuilds, so the view does not jump while dragging.
  const QRectF wanted = itemsBoundingRect().adjusted(-400, -300, 400, 300);
  setSceneRect(m_rectValid ? sceneRect().united(wanted) : wanted);
  m_rectValid = true;
}

// ------------------------------------------------------------------ selection

QStringList GraphScene::selectedLayerIds() const {
  QStringList ids;
  if (!m_document) return ids;
  for (const LayerSpec& l : m_document->project().layers) {
    const QString id = QString::fromStdString(l.id);
    if (NodeItem* item = m_nodes.value(id); item && item->isSelected()) ids << id;
  }
  return ids;
}

void GraphScene::selectLayers(const QStringList& ids) {
  QSignalBlocker block(this);
  clearSelection();
  for (const QString& id : ids)
    if (NodeItem* item = m_nodes.value(id)) item->setSelected(true);
  block.unblock();
  Q_EMIT selectionChanged();
}

void GraphScene::selectAllNodes() { selectLayers(m_nodes.keys()); }

std::vector<LayerSpec> GraphScene::selectedLayers() const {
  std::vector<LayerSpec> out;
  for (const QString& id : selectedLayerIds())
    if (const LayerSpec* l = m_document->layer(id)) {
      out.push_back(*l);
      if (const NodeItem* n = m_nodes.value(id)) {  // a graph opened without positions shows its own
        out.back().x = n->pos().x();
        out.back().y = n->pos().y();
      }
    }
  return out;
}

std::vector<LayoutRect> GraphScene::nodeBoxes() const {
  std::vector<LayoutRect> boxes;
  for (const NodeItem* n : std::as_const(m_nodes))
    boxes.push_back(LayoutRect{n->pos().x(), n->pos().y(), NodeItem::kWidth, n->height()});
  return boxes;
}

QPointF GraphScene::freeNodePosition(QPointF topLeft) const {
  const auto [dx, dy] =
      free_offset(nodeBoxes(), {LayoutRect{topLeft.x(), topLeft.y(), kLayoutNodeWidth, kLayoutNodeHeight}}, 0, 0);
  return topLeft + QPointF(dx, dy);
}

QPointF GraphScene::freeOffset(const std::vector<LayerSpec>& layers, QPointF wanted) const {
  const auto [dx, dy] = free_offset(nodeBoxes(), nominal_boxes(layers), wanted.x(), wanted.y());
  return QPointF(dx, dy);
}

// ------------------------------------------------------------------ editing

void GraphScene::deleteSelection() {
  if (!m_document) return;
  const QStringList ids = selectedLayerIds();
  QList<PortRef> ports;
  for (EdgeItem* e : m_edges)
    if (e->isSelected() && !ids.contains(e->target()->id())) ports << PortRef{e->target()->id(), e->port()};
  if (!ids.isEmpty() || !ports.isEmpty()) m_document->removeLayers(ids, ports);
}

void GraphScene::copySelection() {
  std::vector<LayerSpec> layers = selectedLayers();
  if (layers.empty()) return;
  std::set<std::string> inside;
  for (const LayerSpec& l : layers) inside.insert(l.id);
  for (LayerSpec& l : layers)  // connections to layers left behind are not copied
    for (std::string& in : l.inputs)
      if (!inside.count(in)) in.clear();
  Project clip;
  clip.name = "clipboard";
  clip.layers = layers;
  auto* mime = new QMimeData;
  const QByteArray json = QByteArray::fromStdString(project_to_json(clip));
  mime->setData(QString::fromLatin1(kLayersMimeType), json);
  mime->setText(QString::fromUtf8(json));
  QGuiApplication::clipboard()->setMimeData(mime);
  m_pasteCount = 0;
}

void GraphScene::cutSelection() {
  copySelection();
  deleteSelection();
}

QStringList GraphScene::paste() {
  const QMimeData* mime = QGuiApplication::clipboard()->mimeData();
  if (!m_document || !mime || !mime->hasFormat(QString::fromLatin1(kLayersMimeType))) return {};
  std::vector<LayerSpec> clip;
  try {
    clip = project_from_json(mime->data(QString::fromLatin1(kLayersMimeType)).toStdString(), "clipboard").layers;
  } catch (const Error&) {
    return {};
  }
  for (LayerSpec& l : clip)  // unconnected ports may not survive the file format
    if (l.inputs.size() < size_t(inputPortCount(l.type))) l.inputs.resize(size_t(inputPortCount(l.type)));
  ++m_pasteCount;
  const QStringList ids = m_document->pasteLayers(clip, freeOffset(clip, QPointF(40, 40) * m_pasteCount));
  selectLayers(ids);
  return ids;
}

QStringList GraphScene::duplicateSelection() {
  if (!m_document) return {};
  const std::vector<LayerSpec> layers = selectedLayers();
  if (layers.empty()) return {};
  const QStringList ids = m_document->pasteLayers(layers, freeOffset(layers, QPointF(40, 40)), true, tr("Duplicate"));
  selectLayers(ids);
  return ids;
}

void GraphScene::autoLayout() {
  if (m_document) m_document->autoLayout(kColumnPitch, kRowPitch);
}

bool GraphScene::changeSelectedLayerType() {
  const QStringList ids = selectedLayerIds();
  if (!m_document || ids.size() != 1) return false;
  const LayerSpec* l = m_document->layer(ids.front());
  const std::optional<LayerType> twin = l ? typeTwin(l->type) : std::nullopt;
  return twin && m_document->changeLayerType(ids.front(), *twin);
}

// ------------------------------------------------------------------ mouse

void GraphScene::mousePressEvent(QGraphicsSceneMouseEvent* event) {
  if (event->button() == Qt::LeftButton && m_document) {
    const QPointF p = event->scenePos();
    for (NodeItem* n : std::as_const(m_nodes)) {
      const int in = n->inputPortAt(p);
      const bool out = in < 0 && n->outputPortAt(p);
      if (in < 0 && !out) continue;
      m_connect.node = n->id();
      m_connect.fromOutput = out;
      m_connect.port = std::max(in, 0);
      m_connect.preview = new QGraphicsPathItem;
      m_connect.preview->setPen(QPen(QColor(31, 119, 180), 1.8, Qt::DashLine));
      m_connect.preview->setZValue(3.0);
      addItem(m_connect.preview);
      event->accept();
      return;
    }
  }
  QGraphicsScene::mousePressEvent(event);
  m_moving = event->button() == Qt::LeftButton && mouseGrabberItem() &&
             mouseGrabberItem()->type() == NodeItem::Type;
  if (m_moving) ++m_moveKey;
}

void GraphScene::mouseMoveEvent(QGraphicsSceneMouseEvent* event) {
  if (m_connect.preview) {
    NodeItem* n = m_nodes.value(m_connect.node);
    if (!n) return;
    const QPointF a = m_connect.fromOutput ? n->outputPort() : event->scenePos();
    const QPointF b = m_connect.fromOutput ? event->scenePos() : n->inputPort(m_connect.port);
    const double dy = std::max(30.0, std::abs(b.y() - a.y()) * 0.5);
    QPainterPath path(a);
    path.cubicTo(a + QPointF(0, dy), b - QPointF(0, dy), b);
    m_connect.preview->setPath(path);
    event->accept();
    return;
  }
  QGraphicsScene::mouseMoveEvent(event);
  if (!m_moving || !(event->buttons() & Qt::LeftButton) || !m_document) return;
  // The items moved; record it in the document (merged into one step per drag).
  std::map<std::string, QPointF> moved;
  for (NodeItem* n : std::as_const(m_nodes)) {
    if (!n->isSelected()) continue;
    const LayerSpec* l = m_document->layer(n->id());
    if (l && n->pos() != QPointF(l->x, l->y)) moved[l->id] = n->pos();
  }
  if (!moved.empty()) {
    // Keep every selected node in the command so consecutive moves have the same ids.
    for (NodeItem* n : std::as_const(m_nodes))
      if (n->isSelected()) moved.emplace(n->id().toStdString(), n->pos());
    m_document->moveLayers(moved, m_moveKey);
  }
}

void GraphScene::mouseReleaseEvent(QGraphicsSceneMouseEvent* event) {
  if (m_connect.preview) {
    finishConnection(event->scenePos());
    event->accept();
    return;
  }
  QGraphicsScene::mouseReleaseEvent(event);
  m_moving = false;
}

void GraphScene::finishConnection(QPointF p) {
  const ConnectDrag drag = m_connect;
  delete m_connect.preview;
  m_connect = ConnectDrag{};
  if (!m_document || !m_nodes.contains(drag.node)) return;
  for (NodeItem* n : std::as_const(m_nodes)) {
    if (n->id() == drag.node) continue;
    const bool onBody = n->sceneBoundingRect().contains(p);
    if (drag.fromOutput) {
      int port = n->inputPortAt(p);
      if (port < 0 && onBody && n->inputPortCount() == 1) port = 0;
      if (port >= 0) {
        m_document->connectLayers(drag.node, n->id(), port);
        return;
      }
    } else if (n->outputPortAt(p) || (onBody && n->hasOutputPort())) {
      m_document->connectLayers(n->id(), drag.node, drag.port);
      return;
    }
  }
  // Dropped on nothing: cancelled.
}

}  // namespace qnn
