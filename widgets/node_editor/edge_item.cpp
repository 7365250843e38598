// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/node_editor/edge_item.h"

#include <algorithm>
#include <cmath>

#include <QFont>
#include <QFontMetricsF>
#include <QGraphicsScene>
#include <QLineF>
#include <QPainter>
#include <QPainterPathStroker>

#include "widgets/node_editor/node_item.h"

namespace qnn {
namespace {
QFont labelFont() {
  QFont f;
  f.setPointSizeF(7.5);
  return f;
}
}  // namespace

EdgeItem::EdgeItem(NodeItem* source, NodeItem* target, int port, const QString& label)
    : m_source(source), m_target(target), m_port(port), m_label(label) {
  setZValue(0.0);
  setFlag(ItemIsSelectable);
  setPen(QPen(QColor(110, 110, 110), 1.4));
  setToolTip(label);
  source->addEdge(this);
  target->addEdge(this);
  updatePath();
}

EdgeItem::~EdgeItem() {
  m_source->removeEdge(this);
  m_target->removeEdge(this);
}

void EdgeItem::setLabel(const QString& label) {
  if (label == m_label) return;
  prepareGeometryChange();
  m_label = label;
  setToolTip(label);
  if (m_labelRect.isEmpty())
    updatePath();  // a first label: find it a place (GraphScene::rerouteEdges places all of them anew)
  else
    m_labelRect.setSize(labelSize());
  update();
}

QPainterPath EdgeItem::shape() const {
  QPainterPathStroker stroker;
  stroker.setWidth(10.0);
  return stroker.createStroke(path());
}

RouteNode EdgeItem::routeNode(const NodeItem* node) {
  const QPointF p = node->pos();
  return RouteNode{node->id().toStdString(), LayoutRect{p.x(), p.y(), NodeItem::kWidth, node->height()}};
}

QSizeF EdgeItem::labelSize() const {
  if (m_label.isEmpty()) return {};
  const QFontMetricsF fm(labelFont());
  return QSizeF(fm.horizontalAdvance(m_label) + 8, fm.height() + 2);
}

RouteEdge EdgeItem::routeEdge() const {
  const QPointF a = m_source->outputPort(), b = m_target->inputPort(m_port);
  const QSizeF size = labelSize();
  return RouteEdge{m_source->id().toStdString(), m_target->id().toStdString(), LayoutPoint{a.x(), a.y()},
                   LayoutPoint{b.x(), b.y()}, size.width(), size.height()};
}

void EdgeItem::updatePath() {
  std::vector<RouteNode> nodes;
  if (scene()) {
    for (QGraphicsItem* item : scene()->items())
      if (item->type() == NodeItem::Type) nodes.push_back(routeNode(static_cast<NodeItem*>(item)));
  } else {
    nodes = {routeNode(m_source), routeNode(m_target)};
  }
  const EdgeRoute r = route_edges(nodes, {routeEdge()}).front();
  QPolygonF points;
  for (const LayoutPoint& p : r.points) points << QPointF(p.x, p.y);
  setRoute(points, QRectF(r.label.x, r.label.y, r.label.w, r.label.h));
}

void EdgeItem::setRoute(const QPolygonF& points, const QRectF& labelBox) {
  prepareGeometryChange();
  m_points = points;
  m_labelRect = labelBox;
  // Straight runs joined by small arcs (at most half of either run).
  QPainterPath path;
  if (!points.isEmpty()) path.moveTo(points.front());
  for (int i = 1; i < points.size(); ++i) {
    if (i + 1 == points.size()) {
      path.lineTo(points[i]);
      break;
    }
    const QPointF prev = points[i - 1], corner = points[i], next = points[i + 1];
    const double in = QLineF(prev, corner).length(), out = QLineF(corner, next).length();
    const double radius = std::min({8.0, in / 2, out / 2});
    if (radius < 0.5) {
      path.lineTo(corner);
      continue;
    }
    const QPointF enter = corner + (prev - corner) * (radius / in);
    const QPointF leave = corner + (next - corner) * (radius / out);
    path.lineTo(enter);
    path.quadTo(corner, leave);
  }
  setPath(path);
  update();
}

QRectF EdgeItem::boundingRect() const {
  return QGraphicsPathItem::boundingRect().united(labelRect()).adjusted(-6, -6, 6, 6);
}

void EdgeItem::paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) {
  p->setRenderHint(QPainter::Antialiasing);
  QPen line = pen();
  if (isSelected()) {
    line.setColor(QColor(31, 119, 180));
    line.setWidthF(2.6);
  }
  p->setPen(line);
  p->setBrush(Qt::NoBrush);
  p->drawPath(path());

  // Arrow head at the target's input port.
  const QPointF tip = m_target->inputPort(m_port) - QPointF(0, 4.5);
  QPolygonF head;
  head << tip << tip + QPointF(-4.5, -8) << tip + QPointF(4.5, -8);
  p->setBrush(line.color());
  p->drawPolygon(head);

  if (!m_label.isEmpty()) {
    const QRectF r = labelRect();
    p->setPen(Qt::NoPen);
    p->setBrush(QColor(255, 255, 255, 225));
    p->drawRoundedRect(r, 3, 3);
    p->setFont(labelFont());
    p->setPen(QColor(70, 70, 70));
    p->drawText(r, Qt::AlignCenter, m_label);
  }
}

}  // namespace qnn
