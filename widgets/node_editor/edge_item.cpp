// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/node_editor/edge_item.h"

#include <algorithm>
#include <cmath>

#include <QFont>
#include <QFontMetricsF>
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
  update();
}

QPainterPath EdgeItem::shape() const {
  QPainterPathStroker stroker;
  stroker.setWidth(10.0);
  return stroker.createStroke(path());
}

void EdgeItem::updatePath() {
  prepareGeometryChange();
  const QPointF a = m_source->outputPort(), b = m_target->inputPort(m_port);
  // Vertical tangents at both ports; a long backward jump (next column) bends further.
  const double dy = std::max(30.0, std::abs(b.y() - a.y()) * 0.5);
  QPainterPath path(a);
  path.cubicTo(a + QPointF(0, dy), b - QPointF(0, dy), b);
  setPath(path);
  m_labelAnchor = path.pointAtPercent(0.5);
}

QRectF EdgeItem::labelRect() const {
  if (m_label.isEmpty()) return {};
  const QFontMetricsF fm(labelFont());
  const QSizeF size(fm.horizontalAdvance(m_label) + 8, fm.height() + 2);
  // Beside a vertical edge, over the middle of a slanted one.
  const bool vertical = std::abs(m_source->outputPort().x() - m_target->inputPort(m_port).x()) < 1.0;
  const QPointF topLeft = vertical ? QPointF(m_labelAnchor.x() + 6, m_labelAnchor.y() - size.height() / 2)
                                   : m_labelAnchor - QPointF(size.width() / 2, size.height() / 2);
  return QRectF(topLeft, size);
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
