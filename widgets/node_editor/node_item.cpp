// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/node_editor/node_item.h"

#include <QFont>
#include <QLineF>
#include <algorithm>
#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPath>
#include <QStyleOptionGraphicsItem>

#include "widgets/node_editor/edge_item.h"

namespace qnn {
namespace {

constexpr double kRadius = 8.0;
constexpr double kHeader = 22.0;  // id + type band
constexpr double kLine = 15.0;
constexpr double kPad = 6.0;
constexpr double kPort = 4.5;

QFont titleFont() {
  QFont f;
  f.setPointSizeF(9.5);
  f.setBold(true);
  return f;
}
QFont bodyFont() {
  QFont f;
  f.setPointSizeF(8.5);
  return f;
}

}  // namespace

NodeColors nodeColors(NodeKind kind) {
  switch (kind) {
    case NodeKind::InputOutput: return {QColor(44, 160, 44), QColor(232, 246, 232)};
    case NodeKind::QuantLayer: return {QColor(31, 119, 180), QColor(228, 239, 249)};
    case NodeKind::QuantActivation: return {QColor(148, 103, 189), QColor(242, 235, 249)};
    case NodeKind::FloatLayer: return {QColor(230, 120, 20), QColor(253, 239, 224)};
    case NodeKind::FloatActivation: return {QColor(188, 150, 20), QColor(251, 245, 221)};
    case NodeKind::ShapeOp: return {QColor(127, 127, 127), QColor(243, 243, 243)};
  }
  return {Qt::gray, Qt::white};
}

NodeItem::NodeItem(const NodeContent& content, QGraphicsItem* parent) : QGraphicsItem(parent) {
  setFlag(ItemIsSelectable);
  setFlag(ItemIsMovable);
  setFlag(ItemSendsGeometryChanges);
  setCacheMode(DeviceCoordinateCache);
  setZValue(1.0);
  setContent(content);
}

void NodeItem::setContent(const NodeContent& content) {
  m_content = content;
  updateGeometry();
}

void NodeItem::updateGeometry() {
  prepareGeometryChange();
  const int bodyLines = 1 + (m_content.quant.isEmpty() ? 0 : 1);
  m_height = kHeader + kPad / 2 + bodyLines * kLine + kPad / 2;

  QStringList tip;
  tip << QStringLiteral("<b>%1</b> — %2 (%3)").arg(m_content.id, m_content.type, nodeKindName(m_content.kind));
  tip << QObject::tr("output: %1%2").arg(m_content.shape,
                                         m_content.outputQuant.isEmpty() ? QString() : QStringLiteral(" · ") + m_content.outputQuant);
  if (!m_content.quant.isEmpty()) tip << QObject::tr("quantizers: %1").arg(m_content.quant);
  for (const QString& e : m_content.errors) tip << QStringLiteral("<font color='#c0392b'>error: %1</font>").arg(e.toHtmlEscaped());
  for (const QString& w : m_content.warnings) tip << QStringLiteral("<font color='#b7950b'>warning: %1</font>").arg(w.toHtmlEscaped());
  setToolTip(tip.join(QStringLiteral("<br>")));
  for (EdgeItem* e : m_edges) e->updatePath();
  update();
}

QRectF NodeItem::boundingRect() const {
  // Room for the badge sticking out of the top-right corner and the ports.
  return QRectF(-4, -10, kWidth + 14, m_height + 20);
}

QPainterPath NodeItem::shape() const {
  QPainterPath path;
  path.addRoundedRect(QRectF(0, 0, kWidth, m_height), kRadius, kRadius);
  const int n = m_content.inputPorts;
  for (int i = 0; i < n; ++i) path.addEllipse(QPointF(kWidth * (i + 1) / (n + 1), 0), kPort + 2, kPort + 2);
  if (m_content.outputPort) path.addEllipse(QPointF(kWidth / 2, m_height), kPort + 2, kPort + 2);
  if (!m_content.errors.isEmpty() || !m_content.warnings.isEmpty()) path.addEllipse(badgeRect());
  path.setFillRule(Qt::WindingFill);
  return path;
}

QRectF NodeItem::badgeRect() const { return QRectF(kWidth - 11, -9, 20, 20); }

QRectF NodeItem::badgeSceneRect() const {
  if (m_content.errors.isEmpty() && m_content.warnings.isEmpty()) return {};
  return mapRectToScene(badgeRect());
}

QPointF NodeItem::inputPort(int port) const {
  const int n = std::max(1, m_content.inputPorts);
  return mapToScene(QPointF(kWidth * (port + 1) / (n + 1), 0));
}
QPointF NodeItem::outputPort() const { return mapToScene(QPointF(kWidth / 2, m_height)); }

int NodeItem::inputPortAt(QPointF scenePos) const {
  for (int i = 0; i < m_content.inputPorts; ++i)
    if (QLineF(inputPort(i), scenePos).length() <= kPortHit) return i;
  return -1;
}

bool NodeItem::outputPortAt(QPointF scenePos) const {
  return m_content.outputPort && QLineF(outputPort(), scenePos).length() <= kPortHit;
}

void NodeItem::paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) {
  const NodeColors colors = nodeColors(m_content.kind);
  const QRectF box(0, 0, kWidth, m_height);
  const bool selected = option->state & QStyle::State_Selected;
  p->setRenderHint(QPainter::Antialiasing);

  // Body, then the header band clipped to the rounded shape.
  QPainterPath shape;
  shape.addRoundedRect(box, kRadius, kRadius);
  p->fillPath(shape, colors.fill);
  p->save();
  p->setClipPath(shape);
  QColor header = colors.accent;
  header.setAlpha(48);
  p->fillRect(QRectF(0, 0, kWidth, kHeader), header);
  p->fillRect(QRectF(0, 0, 5, m_height), colors.accent);
  p->restore();
  p->setPen(QPen(selected ? QColor(20, 20, 20) : colors.accent, selected ? 2.2 : 1.3));
  p->setBrush(Qt::NoBrush);
  p->drawPath(shape);

  // Header: id (bold) on the left, type and parameters on the right.
  const QFont title = titleFont(), body = bodyFont();
  p->setPen(QColor(30, 30, 30));
  p->setFont(title);
  const QRectF headerText(12, 0, kWidth - 20, kHeader);
  const double idWidth = QFontMetricsF(title).horizontalAdvance(m_content.id);
  p->drawText(headerText, Qt::AlignLeft | Qt::AlignVCenter, m_content.id);
  p->setFont(body);
  p->setPen(colors.accent.darker(150));
  QString type = m_content.type + (m_content.params.isEmpty() ? QString() : QStringLiteral(" ") + m_content.params);
  const QFontMetricsF bfm(body);
  type = bfm.elidedText(type, Qt::ElideRight, std::max(20.0, headerText.width() - idWidth - 8));
  p->drawText(headerText, Qt::AlignRight | Qt::AlignVCenter, type);

  // Body: output shape (with the QuantTensor tag), then the quantizers.
  double y = kHeader + kPad / 2;
  p->setPen(QColor(50, 50, 50));
  QString shapeLine = QStringLiteral("out %1").arg(m_content.shape);
  if (!m_content.outputQuant.isEmpty()) shapeLine += QStringLiteral("  ·  %1").arg(m_content.outputQuant);
  p->drawText(QRectF(12, y, kWidth - 20, kLine), Qt::AlignLeft | Qt::AlignVCenter, shapeLine);
  y += kLine;
  if (!m_content.bits.isEmpty()) {
    QFont bold = body;
    bold.setBold(true);
    p->setFont(bold);
    p->setPen(colors.accent.darker(150));
    p->drawText(QRectF(12, y - kLine, kWidth - 20, kLine), Qt::AlignRight | Qt::AlignVCenter, m_content.bits);
    p->setFont(body);
  }
  if (!m_content.quant.isEmpty()) {
    p->setPen(colors.accent.darker(130));
    p->drawText(QRectF(12, y, kWidth - 20, kLine), Qt::AlignLeft | Qt::AlignVCenter,
                bfm.elidedText(m_content.quant, Qt::ElideRight, kWidth - 20));
    y += kLine;
  }

  // Ports: inputs on the top edge, the output at the bottom centre.
  p->setPen(QPen(colors.accent.darker(120), 1.2));
  p->setBrush(Qt::white);
  const int n = m_content.inputPorts;
  for (int i = 0; i < n; ++i) p->drawEllipse(QPointF(kWidth * (i + 1) / (n + 1), 0), kPort, kPort);
  if (m_content.outputPort) {
    p->setBrush(colors.accent);
    p->drawEllipse(QPointF(kWidth / 2, m_height), kPort, kPort);
  }

  // Diagnostics badge.
  if (!m_content.errors.isEmpty() || !m_content.warnings.isEmpty()) {
    const bool error = !m_content.errors.isEmpty();
    p->setPen(QPen(Qt::white, 1.5));
    p->setBrush(error ? QColor(192, 57, 43) : QColor(230, 170, 20));
    p->drawEllipse(badgeRect());
    QFont bf = title;
    bf.setPointSizeF(9.0);
    p->setFont(bf);
    p->setPen(Qt::white);
    const int count = int(m_content.errors.size() + m_content.warnings.size());
    p->drawText(badgeRect(), Qt::AlignCenter, count > 1 ? QString::number(count) : QStringLiteral("!"));
  }
}

QVariant NodeItem::itemChange(GraphicsItemChange change, const QVariant& value) {
  if (change == ItemPositionHasChanged)
    for (EdgeItem* e : m_edges) e->updatePath();
  return QGraphicsItem::itemChange(change, value);
}

}  // namespace qnn
