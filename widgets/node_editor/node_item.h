// SPDX-License-Identifier: GPL-3.0-or-later
// One layer drawn as a rounded box: id, type and parameters, output shape, bit widths
// and quantizers; coloured by kind; input ports on the top edge (one per port), the
// output port at the bottom centre; a badge when validation reports a problem (the
// tooltip lists validate()'s messages). The item displays a NodeContent; it never
// touches the project (the scene turns drags into document edits).
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
  /// Radius within which a press or a release hits a port (scene units).
  static constexpr double kPortHit = 9.0;

  explicit NodeItem(const NodeContent& content, QGraphicsItem* parent = nullptr);

  int type() const override { return Type; }
  QRectF boundingRect() const override;
  /// The box and its ports (not the margins of boundingRect), for hits and selection.
  QPainterPath shape() const override;
  void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

  const NodeContent& content() const { return m_content; }
  /// Shows new content (after an edit or re-validation); keeps position and selection.
  void setContent(const NodeContent& content);
  QString id() const { return m_content.id; }
  double height() const { return m_height; }
  /// Scene positions of input port `port` (top edge) and of the output port (bottom centre).
  QPointF inputPort(int port = 0) const;
  QPointF outputPort() const;
  int inputPortCount() const { return m_content.inputPorts; }
  bool hasOutputPort() const { return m_content.outputPort; }
  /// The input port within kPortHit of `scenePos`, or -1.
  int inputPortAt(QPointF scenePos) const;
  bool outputPortAt(QPointF scenePos) const;
  bool hasErrors() const { return !m_content.errors.isEmpty(); }
  bool hasWarnings() const { return !m_content.warnings.isEmpty(); }
  /// Scene rectangle of the diagnostics badge (empty when there is none).
  QRectF badgeSceneRect() const;

  void addEdge(EdgeItem* edge) { m_edges << edge; }
  void removeEdge(EdgeItem* edge) { m_edges.removeAll(edge); }

 protected:
  QVariant itemChange(GraphicsItemChange change, const QVariant& value) override;

 private:
  void updateGeometry();
  QRectF badgeRect() const;
  NodeContent m_content;
  double m_height = 0.0;
  QList<EdgeItem*> m_edges;
};

}  // namespace qnn
