// SPDX-License-Identifier: GPL-3.0-or-later
// One layer drawn as a rounded box: id, type and parameters, output shape, the
// quantizers in use; coloured by kind; a badge when validation reports a problem.
// The item only displays a NodeContent; it never touches the project.
#pragma once

#include <QColor>
#include <QGraphicsItem>
#include <QList>

#include "widgets/node_editor/node_content.h"

namespace qnn {

class EdgeItem;

/// Colours of a node kind: the accent (border, header) and the body fill.
struct NodeColors {
  QColor accent, fill;
};
NodeColors nodeColors(NodeKind kind);

class NodeItem : public QGraphicsItem {
 public:
  static constexpr int Type = UserType + 1;
  static constexpr double kWidth = 210.0;

  explicit NodeItem(const NodeContent& content, QGraphicsItem* parent = nullptr);

  int type() const override { return Type; }
  QRectF boundingRect() const override;
  void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

  const NodeContent& content() const { return m_content; }
  QString id() const { return m_content.id; }
  double height() const { return m_height; }
  /// Scene positions of the input (top centre) and output (bottom centre) ports.
  QPointF inputPort() const;
  QPointF outputPort() const;
  bool hasErrors() const { return !m_content.errors.isEmpty(); }

  void addEdge(EdgeItem* edge) { m_edges << edge; }

 protected:
  QVariant itemChange(GraphicsItemChange change, const QVariant& value) override;

 private:
  QRectF badgeRect() const;
  NodeContent m_content;
  double m_height = 0.0;
  QList<EdgeItem*> m_edges;
};

}  // namespace qnn
