// SPDX-License-Identifier: GPL-3.0-or-later
// A connection between two layers: an orthogonal polyline (rounded corners) from the
// source's output port to the target's input port `port`, labelled with the tensor
// it carries (shape, quantization). Its route comes from core/graph/edge_routing.h:
// GraphScene::rerouteEdges() routes all edges together (lanes around the nodes a
// skip connection passes, labels apart); updatePath() alone re-routes this edge
// around the nodes while one is dragged. Selectable (Delete disconnects it).
#pragma once

#include <QGraphicsPathItem>
#include <QPolygonF>
#include <QString>

#include "core/graph/edge_routing.h"

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

  /// Re-routes this edge alone from the nodes' current positions, around every node
  /// of the scene (no lanes shared with other edges: GraphScene::rerouteEdges does that).
  void updatePath();
  /// Shows `points` (scene coordinates, output port to input port) with the label in
  /// `labelBox` (scene coordinates).
  void setRoute(const QPolygonF& points, const QRectF& labelBox);
  /// The polyline shown and the label's scene rectangle (empty without a label).
  QPolygonF route() const { return m_points; }
  QRectF labelSceneRect() const { return m_label.isEmpty() ? QRectF() : m_labelRect; }
  /// What the router needs: ports, node ids and the label's size.
  RouteEdge routeEdge() const;
  /// A node's box for the router.
  static RouteNode routeNode(const NodeItem* node);
  NodeItem* source() const { return m_source; }
  NodeItem* target() const { return m_target; }
  int port() const { return m_port; }
  QString label() const { return m_label; }
  void setLabel(const QString& label);

 private:
  QRectF labelRect() const { return labelSceneRect(); }
  QSizeF labelSize() const;
  NodeItem* m_source;
  NodeItem* m_target;
  int m_port = 0;
  QString m_label;
  QPolygonF m_points;
  QRectF m_labelRect;
};

}  // namespace qnn
