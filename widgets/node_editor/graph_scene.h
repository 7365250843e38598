// SPDX-License-Identifier: GPL-3.0-or-later
// The scene of the graph, in the spirit of QtNodes v3: it observes a ProjectDocument
// by layer id (layerAdded / layerRemoved / layerRenamed / layerChanged /
// connectionsChanged) and keeps one NodeItem per layer and one EdgeItem per
// connection. User gestures become document edits (undo commands); the scene never
// writes the project itself:
//   - drag a node (or the selection): MoveLayers, one undo step per drag;
//   - drag from an output port to an input port (or the reverse): Connect; dropping
//     on nothing cancels; dropping on a node body uses its only input port;
//   - deleteSelection / copy / cut / paste / duplicate / autoLayout; pasted and
//     duplicated layers land on a free spot (none covers another node);
//   - changeLayerType (a node's context menu): the float/quantized twin in place.
#pragma once

#include <QGraphicsScene>
#include <QHash>
#include <QPointer>
#include <QStringList>
#include <vector>

#include "core/graph/graph_layout.h"
#include "core/graph/project.h"

class QGraphicsPathItem;

namespace qnn {

class EdgeItem;
class NodeItem;
class ProjectDocument;

/// MIME type of copied layers on the clipboard (a project JSON holding only them).
inline constexpr const char* kLayersMimeType = "application/x-qnn-studio-layers";

class GraphScene : public QGraphicsScene {
  Q_OBJECT
 public:
  explicit GraphScene(ProjectDocument* document, QObject* parent = nullptr);
  ~GraphScene() override;

  ProjectDocument* document() const;
  NodeItem* node(const QString& id) const { return m_nodes.value(id); }
  int nodeCount() const { return int(m_nodes.size()); }
  int edgeCount() const { return int(m_edges.size()); }
  const QList<EdgeItem*>& edges() const { return m_edges; }
  /// The edge into input port `port` of `target`, or nullptr.
  EdgeItem* edge(const QString& target, int port = 0) const;

  /// Ids of the selected nodes, in document order.
  QStringList selectedLayerIds() const;
  /// Selects exactly these nodes (and no edge).
  void selectLayers(const QStringList& ids);

  /// Vertical distance between the tops of consecutive nodes in the automatic layout.
  static constexpr double kRowPitch = 104.0;
  static constexpr double kColumnPitch = 290.0;

  /// Routes every edge anew (core route_edges): around the nodes, skip connections
  /// through side lanes, labels clear of nodes and of each other. Runs after every
  /// document change (also each step of a drag) and after a rebuild.
  void rerouteEdges();

  /// Whether a connection is being dragged from a port.
  bool isConnecting() const { return m_connect.preview != nullptr; }

 public Q_SLOTS:
  /// Removes the selected nodes (with their connections) and selected edges: one undo step.
  void deleteSelection();
  /// Copies the selected nodes (and the connections among them) to the clipboard.
  void copySelection();
  void cutSelection();
  /// Pastes layers from the clipboard, shifted from where they were copied; selects them.
  QStringList paste();
  /// Copies and pastes the selection in one step, keeping connections from outside.
  QStringList duplicateSelection();
  void selectAllNodes();
  /// Top-down layered layout of the whole graph (one undo step).
  void autoLayout();
  /// Changes the one selected layer to its float / quantized twin (typeTwin) in
  /// place, as one undo step; false when the selection is not one layer with a twin.
  bool changeSelectedLayerType();

 public:
  /// Where a new node whose top-left corner is wanted at `topLeft` goes: there when
  /// that spot is free, else the nearest free spot around it (no node box within 14).
  QPointF freeNodePosition(QPointF topLeft) const;
  /// The shift to give `layers` (their x, y) instead of `wanted` so that none of their
  /// boxes lands on a node of the scene (free_offset).
  QPointF freeOffset(const std::vector<LayerSpec>& layers, QPointF wanted) const;

 Q_SIGNALS:
  /// Items were rebuilt from a new project (projectReplaced).
  void rebuilt();
  /// The selected layer ids changed (also after a rename of a selected layer).
  void layerSelectionChanged(const QStringList& ids);

 protected:
  void mousePressEvent(QGraphicsSceneMouseEvent* event) override;
  void mouseMoveEvent(QGraphicsSceneMouseEvent* event) override;
  void mouseReleaseEvent(QGraphicsSceneMouseEvent* event) override;

 private:
  void rebuild();
  NodeItem* createNode(const LayerSpec& layer);
  void onLayerAdded(const QString& id);
  void onLayerRemoved(const QString& id);
  void onLayerRenamed(const QString& oldId, const QString& newId);
  void onLayerChanged(const QString& id);
  void onChanged();
  void rebuildEdges();
  void updateSceneRect();
  /// The selected layers, with the positions their nodes show.
  std::vector<LayerSpec> selectedLayers() const;
  std::vector<LayoutRect> nodeBoxes() const;
  void finishConnection(QPointF scenePos);

  QPointer<ProjectDocument> m_document;
  QHash<QString, NodeItem*> m_nodes;
  QList<EdgeItem*> m_edges;
  bool m_edgesDirty = false;
  bool m_rectValid = false;

  struct ConnectDrag {
    QString node;
    bool fromOutput = true;
    int port = 0;
    QGraphicsPathItem* preview = nullptr;
  } m_connect;
  bool m_moving = false;
  int m_moveKey = 0;
  int m_pasteCount = 0;
  QStringList m_lastSelection;
};

}  // namespace qnn
