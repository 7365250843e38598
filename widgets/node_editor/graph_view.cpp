// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/node_editor/graph_view.h"

#include <algorithm>
#include <cmath>

#include <QPainter>
#include <QResizeEvent>
#include <QTimer>
#include <QWheelEvent>

#include "widgets/node_editor/graph_scene.h"
#include "widgets/node_editor/node_item.h"

namespace qnn {
namespace {
constexpr double kMinZoom = 0.1, kMaxZoom = 4.0;
constexpr double kReadableZoom = 0.8;  // node text stays legible down to here
}

GraphView::GraphView(ProjectDocument* document, QWidget* parent)
    : QGraphicsView(parent), m_scene(new GraphScene(document, this)) {
  setScene(m_scene);
  setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing | QPainter::SmoothPixmapTransform);
  setDragMode(ScrollHandDrag);
  setTransformationAnchor(AnchorUnderMouse);
  setResizeAnchor(AnchorViewCenter);
  setViewportUpdateMode(FullViewportUpdate);  // the legend is fixed to the viewport
  setFrameShape(QFrame::NoFrame);
  connect(m_scene, &GraphScene::rebuilt, this, [this] {
    m_autoFit = true;
    QTimer::singleShot(0, this, &GraphView::autoFit);
  });
}

double GraphView::zoom() const { return transform().m11(); }

void GraphView::fitToView() {
  if (!m_scene || m_scene->items().isEmpty()) return;
  const QRectF bounds = m_scene->itemsBoundingRect().adjusted(-30, -30, 30, 30);
  fitInView(bounds, Qt::KeepAspectRatio);
  if (zoom() > 1.0) resetZoom();
  centerOn(bounds.center());
  m_autoFit = false;  // an explicit fit stays until the next new graph
}

void GraphView::autoFit() {
  if (!m_scene || m_scene->items().isEmpty()) return;
  fitToView();
  m_autoFit = true;
  if (zoom() >= kReadableZoom) return;
  setTransform(QTransform::fromScale(kReadableZoom, kReadableZoom));
  const QRectF bounds = m_scene->itemsBoundingRect().adjusted(-30, -30, 30, 30);
  const QRectF visible = mapToScene(viewport()->rect()).boundingRect();
  centerOn(bounds.center().x(), bounds.top() + visible.height() / 2);
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

void GraphView::resizeEvent(QResizeEvent* event) {
  QGraphicsView::resizeEvent(event);
  if (m_autoFit) autoFit();
}

void GraphView::drawForeground(QPainter* painter, const QRectF&) {
  // Legend of the node colours, in viewport coordinates (top-left corner).
  const NodeKind kinds[] = {NodeKind::QuantLayer, NodeKind::QuantActivation, NodeKind::FloatLayer,
                            NodeKind::FloatActivation, NodeKind::ShapeOp, NodeKind::InputOutput};
  painter->save();
  painter->resetTransform();
  QFont f = font();
  f.setPointSizeF(8.0);
  painter->setFont(f);
  const QFontMetrics fm(f);
  const int row = fm.height() + 3;
  int width = 0;
  for (NodeKind k : kinds) width = std::max(width, fm.horizontalAdvance(nodeKindName(k)));
  const QRect box(8, 8, width + 34, row * int(std::size(kinds)) + 8);
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
