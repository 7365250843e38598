// SPDX-License-Identifier: GPL-3.0-or-later
// A connection between two layers: a curve from the source's output port to the
// target's input port, labelled with the tensor it carries (shape, quantization).
#pragma once

#include <QGraphicsPathItem>
#include <QString>

namespace qnn {

class NodeItem;

class EdgeItem : public QGraphicsPathItem {
 public:
  static constexpr int Type = UserType + 2;
  EdgeItem(NodeItem* source, NodeItem* target, const QString& label);

  int type() const override { return Type; }
  QRectF boundingRect() const override;
  void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

  /// Recomputes the curve from the nodes' current positions.
  void updatePath();
  NodeItem* source() const { return m_source; }
  NodeItem* target() const { return m_target; }
  QString label() const { return m_label; }

 private:
  QRectF labelRect() const;
  NodeItem* m_source;
  NodeItem* m_target;
  QString m_label;
  QPointF m_labelAnchor;
};

}  // namespace qnn
