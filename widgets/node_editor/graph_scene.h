// SPDX-License-Identifier: GPL-3.0-or-later
// The scene of the graph: observes a ProjectDocument and rebuilds its node and edge
// items whenever the document changes. Read-only for now; the editor will turn item
// moves and connections into undo commands on the document, never write it here.
#pragma once

#include <QGraphicsScene>
#include <QHash>
#include <QPointer>

namespace qnn {

class EdgeItem;
class NodeItem;
class ProjectDocument;

class GraphScene : public QGraphicsScene {
  Q_OBJECT
 public:
  explicit GraphScene(ProjectDocument* document, QObject* parent = nullptr);

  ProjectDocument* document() const;
  NodeItem* node(const QString& id) const { return m_nodes.value(id); }
  int nodeCount() const { return int(m_nodes.size()); }
  int edgeCount() const { return int(m_edges.size()); }
  const QList<EdgeItem*>& edges() const { return m_edges; }

  /// Vertical distance between the tops of consecutive nodes in the automatic layout.
  static constexpr double kRowPitch = 104.0;
  static constexpr double kColumnPitch = 290.0;

 Q_SIGNALS:
  /// Items were rebuilt from the document.
  void rebuilt();

 private:
  void rebuild();
  QPointer<ProjectDocument> m_document;
  QHash<QString, NodeItem*> m_nodes;
  QList<EdgeItem*> m_edges;
};

}  // namespace qnn
