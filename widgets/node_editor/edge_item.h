// SPDX-License-Identifier: GPL-3.0-or-later
// A connection between two layers: a curve from the source's output port to the
// target's input port `port`, labelled with the tensor it carries (shape,
// quantization). Selectable (Delete disconnects it).
#pragma once

#include <QGraphicsPathItem>
#include <QString>

namespace qnn {

class NodeItem;

class EdgeItem : public QGraphicsPathItem {
 public:
  static constexpr int Type = UserType + 2;
  EdgeItem(NodeItem* source, NodeItem* target, int port, const QString& label);
  ~EdgeItem() override;

  int type() const override { return Type; }
  QRectF boundingRect() const override;
  QPainterPath shape() const override;
  void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

  /// Recomputes the curve from the nodes' current positions.
  void updatePath();
  NodeItem* source() const { return m_source; }
  NodeItem* target() const { return m_target; }
  int port() const { return m_port; }
  QString label() const { return m_label; }
  void setLabel(const QString& label);

 private:
  QRectF labelRect() const;
  NodeItem* m_source;
  NodeItem* m_target;
  int m_port = 0;
  QString m_label;
  QPointF m_labelAnchor;
};

}  // namespace qnn
