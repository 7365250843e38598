// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/node_editor/graph_view.h"

#include <algorithm>
#include <cmath>

#include <QAction>
#include <QContextMenuEvent>
#include <QKeyEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QResizeEvent>
#include <QTimer>
#include <QWheelEvent>

#include "widgets/document/layer_edits.h"
#include "widgets/document/project_document.h"
#include "widgets/node_editor/graph_scene.h"
#include "widgets/node_editor/node_item.h"

namespace qnn {
namespace {
constexpr double kMinZoom = 0.1, kMaxZoom = 4.0;
constexpr double kReadableZoom = 0.6;  // node text stays legible down to here
}

namespace {

const NodeKind kLegendKinds[] = {NodeKind::QuantLayer, NodeKind::QuantActivation, NodeKind::FloatLayer,
                                 NodeKind::FloatActivation, NodeKind::ShapeOp, NodeKind::InputOutput};
constexpr int kLegendMargin = 8;  // from the viewport's edges

QFont legendFont(QFont f) {
  f.setPointSizeF(8.0);
  return f;
}

}  // namespace

GraphView::GraphView(ProjectDocument* document, QWidget* parent)
    : QGraphicsView(parent), m_scene(new GraphScene(document, this)) {
  setScene(m_scene);
  setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing | QPainter::SmoothPixmapTransform);
  setDragMode(RubberBandDrag);
  setRubberBandSelectionMode(Qt::IntersectsItemShape);
  setFocusPolicy(Qt::StrongFocus);
  setTransformationAnchor(AnchorUnderMouse);
  setResizeAnchor(AnchorViewCenter);
  setViewportUpdateMode(FullViewportUpdate);  // the legend is fixed to the viewport
  setFrameShape(QFrame::NoFrame);
  connect(m_scene, &GraphScene::rebuilt, this, [this] {
    m_autoFit = true;
    QTimer::singleShot(0, this, &GraphView::autoFit);
  });
  createActions();
}

void GraphView::createActions() {
  auto make = [this](QAction*& a, const QString& text, const QString& name, QList<QKeySequence> keys,
                     void (GraphScene::*slot)()) {
    a = new QAction(text, this);
    a->setObjectName(name);
    a->setShortcuts(keys);
    a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(a, &QAction::triggered, m_scene, slot);
    addAction(a);
  };
  make(m_deleteAction, tr("&Delete"), QStringLiteral("deleteAction"),
       {QKeySequence::Delete, QKeySequence(Qt::Key_Backspace)}, &GraphScene::deleteSelection);
  make(m_cutAction, tr("Cu&t"), QStringLiteral("cutAction"), {QKeySequence::Cut}, &GraphScene::cutSelection);
  make(m_copyAction, tr("&Copy"), QStringLiteral("copyAction"), {QKeySequence::Copy}, &GraphScene::copySelection);
  m_pasteAction = new QAction(tr("&Paste"), this);
  m_pasteAction->setObjectName(QStringLiteral("pasteAction"));
  m_pasteAction->setShortcuts(QKeySequence::Paste);
  m_pasteAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  connect(m_pasteAction, &QAction::triggered, m_scene, [this] { m_scene->paste(); });
  addAction(m_pasteAction);
  m_duplicateAction = new QAction(tr("D&uplicate"), this);
  m_duplicateAction->setObjectName(QStringLiteral("duplicateAction"));
  m_duplicateAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
  m_duplicateAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  connect(m_duplicateAction, &QAction::triggered, m_scene, [this] { m_scene->duplicateSelection(); });
  addAction(m_duplicateAction);
  make(m_selectAllAction, tr("Select &All"), QStringLiteral("selectAllAction"), {QKeySequence::SelectAll},
       &GraphScene::selectAllNodes);
  make(m_autoLayoutAction, tr("Auto-&layout"), QStringLiteral("autoLayoutAction"),
       {QKeySequence(Qt::CTRL | Qt::Key_L)}, &GraphScene::autoLayout);
  m_changeTypeAction = new QAction(tr("Change &Type"), this);
  m_changeTypeAction->setObjectName(QStringLiteral("changeTypeAction"));
  connect(m_changeTypeAction, &QAction::triggered, m_scene, [this] { m_scene->changeSelectedLayerType(); });
  addAction(m_changeTypeAction);
  connect(m_scene, &GraphScene::layerSelectionChanged, this, &GraphView::updateChangeTypeAction);
  if (ProjectDocument* doc = m_scene->document())
    connect(doc, &ProjectDocument::changed, this, &GraphView::updateChangeTypeAction);
  updateChangeTypeAction();
}

void GraphView::updateChangeTypeAction() {
  const QStringList ids = m_scene->selectedLayerIds();
  const ProjectDocument* doc = m_scene->document();
  const LayerSpec* l = doc && ids.size() == 1 ? doc->layer(ids.front()) : nullptr;
  const std::optional<LayerType> twin = l ? typeTwin(l->type) : std::nullopt;
  m_changeTypeAction->setEnabled(bool(twin));
  m_changeTypeAction->setText(twin ? tr("Change &Type to %1").arg(QString::fromStdString(to_string(*twin)))
                                   : tr("Change &Type"));
  m_changeTypeAction->setToolTip(
      twin ? tr("Make %1 a %2 in place (parameters and connections kept; %3)")
                 .arg(ids.front(), QString::fromStdString(to_string(*twin)),
                      to_string(*twin).rfind("Quant", 0) == 0 ? tr("default quantizers") : tr("no quantizers"))
           : tr("Select one layer that has a float or quantized twin (e.g. Conv2d / QuantConv2d)"));
}

void GraphView::contextMenuEvent(QContextMenuEvent* event) {
  const QPointF p = mapToScene(event->pos());
  NodeItem* node = nullptr;
  for (QGraphicsItem* item : m_scene->items(p))
    if (item->type() == NodeItem::Type) {
      node = static_cast<NodeItem*>(item);
      break;
    }
  if (node && !node->isSelected()) m_scene->selectLayers({node->id()});
  updateChangeTypeAction();
  QMenu menu(this);
  if (node) {
    menu.addAction(m_changeTypeAction);
    menu.addSeparator();
    menu.addAction(m_cutAction);
    menu.addAction(m_copyAction);
    menu.addAction(m_duplicateAction);
    menu.addAction(m_deleteAction);
  } else {
    menu.addAction(m_pasteAction);
    menu.addAction(m_selectAllAction);
  }
  menu.addSeparator();
  menu.addAction(m_autoLayoutAction);
  menu.exec(event->globalPos());
  event->accept();
}

QString GraphView::addLayerAt(LayerType type, QPointF scenePos) {
  ProjectDocument* doc = m_scene->document();
  if (!doc) return {};
  const QString id = doc->addLayer(type, m_scene->freeNodePosition(scenePos - QPointF(NodeItem::kWidth / 2, 11)));
  m_scene->selectLayers({id});
  // The new node whole in view (a free spot may be off the visible area's edge).
  if (NodeItem* node = m_scene->node(id)) {
    ensureVisible(node, 24, 24);
    m_autoFit = false;  // a later resize keeps it where the user looks
  }
  return id;
}

QString GraphView::addLayerAtCenter(LayerType type) {
  // Beside the one selected node when it is in view (what the user works on), else the
  // middle of the visible area; repeated double-clicks land next to each other
  // (addLayerAt finds a free spot).
  const QStringList selected = m_scene->selectedLayerIds();
  const QRectF visible = mapToScene(viewport()->rect()).boundingRect();
  if (selected.size() == 1)
    if (NodeItem* node = m_scene->node(selected.front()); node && visible.intersects(node->sceneBoundingRect())) {
      const QRectF r = node->sceneBoundingRect();
      return addLayerAt(type, QPointF(r.right() + 40 + NodeItem::kWidth / 2, r.top() + 11));
    }
  return addLayerAt(type, visible.center());
}

double GraphView::zoom() const { return transform().m11(); }

void GraphView::fitToView() {
  fitWhole(kMinZoom);
  m_autoFit = false;  // an explicit fit stays until the next new graph
}

void GraphView::fitWhole(double floor) {
  if (!m_scene || m_scene->items().isEmpty()) return;
  const QRectF bounds = m_scene->itemsBoundingRect().adjusted(-30, -30, 30, 30);
  fitInView(bounds, Qt::KeepAspectRatio);
  if (zoom() > 1.0) resetZoom();
  centerOn(bounds.center());
  makeRoomForLegend();
  // Still no room for the legend: zoom out a little (not below `floor`) until a corner is
  // free (the graph shrinks towards the centre, or leaves the legend a column beside it).
  for (int i = 0; i < 40 && zoom() > floor && legendRect().isNull(); ++i) {
    const double f = std::max(floor, zoom() * 0.95) / zoom();
    scale(f, f);
    centerOn(bounds.center());
    makeRoomForLegend();
  }
}

void GraphView::makeRoomForLegend() {
  if (!legendRect().isNull()) return;
  const QRect vp = viewport()->rect();
  const QRect graph = mapFromScene(m_scene->itemsBoundingRect()).boundingRect();
  const QSize legend = legendSize();
  const QPointF centre = mapToScene(vp.center());
  const int left = legend.width() + 2 * kLegendMargin, top = legend.height() + 2 * kLegendMargin;
  if (graph.width() + left <= vp.width() && graph.left() < left)
    centerOn(centre.x() - double(left - graph.left()) / zoom(), centre.y());  // the graph moves right
  else if (graph.height() + top <= vp.height() && graph.top() < top)
    centerOn(centre.x(), centre.y() - double(top - graph.top()) / zoom());  // the graph moves down
}

void GraphView::autoFit() {
  if (!m_scene || m_scene->items().isEmpty()) return;
  fitWhole(kReadableZoom);
  m_autoFit = true;
  if (zoom() >= kReadableZoom - 1e-9) return;
  setTransform(QTransform::fromScale(kReadableZoom, kReadableZoom));
  const QRectF bounds = m_scene->itemsBoundingRect().adjusted(-30, -30, 30, 30);
  const QRectF visible = mapToScene(viewport()->rect()).boundingRect();
  centerOn(bounds.center().x(), bounds.top() + visible.height() / 2);
  makeRoomForLegend();
}

void GraphView::zoomIn() { zoomBy(1.25); }
void GraphView::zoomOut() { zoomBy(1.0 / 1.25); }

void GraphView::resetZoom() {
  const QPointF c = mapToScene(viewport()->rect().center());
  setTransform(QTransform());
  centerOn(c);
}

void GraphView::zoomBy(double factor) {
  const double target = std::clamp(zoom() * factor, kMinZoom, kMaxZoom);
  const double f = target / zoom();
  scale(f, f);
  m_autoFit = false;
}

void GraphView::wheelEvent(QWheelEvent* event) {
  if (event->modifiers() & Qt::ControlModifier) {
    const double steps = event->angleDelta().y() / 120.0;
    if (steps != 0.0) zoomBy(std::pow(1.15, steps));
    event->accept();
    return;
  }
  QGraphicsView::wheelEvent(event);
}

void GraphView::keyPressEvent(QKeyEvent* event) {
  const bool ctrl = event->modifiers() & Qt::ControlModifier;
  if (event->key() == Qt::Key_Space && !event->isAutoRepeat() && !m_scene->isConnecting()) {
    m_spaceHeld = true;
    viewport()->setCursor(Qt::OpenHandCursor);
    event->accept();
    return;
  }
  if ((event->key() == Qt::Key_F && !ctrl) || (event->key() == Qt::Key_0 && ctrl)) {
    fitToView();
  } else if (ctrl && (event->key() == Qt::Key_Equal || event->key() == Qt::Key_Plus)) {
    zoomIn();
  } else if (ctrl && event->key() == Qt::Key_Minus) {
    zoomOut();
  } else {
    QGraphicsView::keyPressEvent(event);
    return;
  }
  event->accept();
}

void GraphView::keyReleaseEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
    m_spaceHeld = false;
    if (!m_panning) viewport()->unsetCursor();
    event->accept();
    return;
  }
  QGraphicsView::keyReleaseEvent(event);
}

void GraphView::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::MiddleButton || (event->button() == Qt::LeftButton && m_spaceHeld)) {
    m_panning = true;
    m_panLast = event->position().toPoint();
    viewport()->setCursor(Qt::ClosedHandCursor);
    event->accept();
    return;
  }
  QGraphicsView::mousePressEvent(event);
}

void GraphView::mouseMoveEvent(QMouseEvent* event) {
  if (m_panning) {
    const QPoint p = event->position().toPoint();
    const QPoint d = p - m_panLast;
    m_panLast = p;
    horizontalScrollBar()->setValue(horizontalScrollBar()->value() - d.x());
    verticalScrollBar()->setValue(verticalScrollBar()->value() - d.y());
    m_autoFit = false;
    event->accept();
    return;
  }
  QGraphicsView::mouseMoveEvent(event);
}

void GraphView::mouseReleaseEvent(QMouseEvent* event) {
  if (m_panning && (event->button() == Qt::MiddleButton || event->button() == Qt::LeftButton)) {
    m_panning = false;
    if (m_spaceHeld)
      viewport()->setCursor(Qt::OpenHandCursor);
    else
      viewport()->unsetCursor();
    event->accept();
    return;
  }
  QGraphicsView::mouseReleaseEvent(event);
}

void GraphView::resizeEvent(QResizeEvent* event) {
  QGraphicsView::resizeEvent(event);
  if (m_autoFit) autoFit();
}

QSize GraphView::legendSize() const {
  const QFontMetrics fm(legendFont(font()));
  const int row = fm.height() + 3;
  int width = 0;
  for (NodeKind k : kLegendKinds) width = std::max(width, fm.horizontalAdvance(nodeKindName(k)));
  return QSize(width + 34, row * int(std::size(kLegendKinds)) + 8);
}

bool GraphView::coversNode(const QRect& viewportRect) const {
  const QPolygonF area = mapToScene(viewportRect);
  for (QGraphicsItem* item : m_scene->items(area, Qt::IntersectsItemBoundingRect))
    if (item->type() == NodeItem::Type || (item->topLevelItem() && item->topLevelItem()->type() == NodeItem::Type))
      return true;
  return false;
}

QRect GraphView::legendRect() const {
  const QSize size = legendSize();
  const QRect area = viewport()->rect().adjusted(kLegendMargin, kLegendMargin, -kLegendMargin, -kLegendMargin);
  const QRect corners[] = {QRect(area.topLeft(), size), QRect(QPoint(area.right() - size.width() + 1, area.top()), size),
                           QRect(QPoint(area.left(), area.bottom() - size.height() + 1), size),
                           QRect(QPoint(area.right() - size.width() + 1, area.bottom() - size.height() + 1), size)};
  for (const QRect& r : corners)
    if (!coversNode(r)) return r;
  const QPoint mid = area.center() - QPoint(size.width() / 2, size.height() / 2);
  const QRect edges[] = {QRect(QPoint(mid.x(), area.top()), size), QRect(QPoint(mid.x(), area.bottom() - size.height() + 1), size),
                         QRect(QPoint(area.left(), mid.y()), size), QRect(QPoint(area.right() - size.width() + 1, mid.y()), size)};
  for (const QRect& r : edges)
    if (!coversNode(r)) return r;
  return QRect();  // no free spot: hidden rather than drawn over a node
}

void GraphView::drawForeground(QPainter* painter, const QRectF&) {
  // Legend of the node colours, in viewport coordinates (a corner free of nodes).
  painter->save();
  painter->resetTransform();
  const QFont f = legendFont(font());
  painter->setFont(f);
  const QFontMetrics fm(f);
  const int row = fm.height() + 3;
  const QRect box = legendRect();
  if (box.isNull()) {  // every spot would cover a node (a narrow view at a readable zoom)
    painter->restore();
    return;
  }
  const int width = box.width() - 34;
  const auto& kinds = kLegendKinds;
  painter->setPen(QColor(210, 210, 215));
  painter->setBrush(QColor(255, 255, 255, 215));
  painter->drawRoundedRect(box, 4, 4);
  int y = box.top() + 4;
  for (NodeKind k : kinds) {
    const NodeColors c = nodeColors(k);
    painter->setPen(c.accent);
    painter->setBrush(c.fill);
    painter->drawRoundedRect(QRect(box.left() + 8, y + (row - 11) / 2, 16, 11), 3, 3);
    painter->setPen(QColor(60, 60, 60));
    painter->drawText(QRect(box.left() + 30, y, width + 4, row), Qt::AlignLeft | Qt::AlignVCenter,
                      nodeKindName(k));
    y += row;
  }
  painter->restore();
}

}  // namespace qnn
