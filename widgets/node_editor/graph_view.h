// SPDX-License-Identifier: GPL-3.0-or-later
// The node editor's view of the project graph: rubber-band selection, pan with the
// middle button or Space+drag, zoom with Ctrl+wheel / Ctrl+= / Ctrl+-, fit with F or
// Ctrl+0, a colour legend in a corner free of nodes. Owns the editing actions (Delete, Cut,
// Copy, Paste, Duplicate, Select All, Auto-layout, Change Type) with shortcuts active
// while the view has focus; the main window puts them in its Edit menu, and a right
// click on the graph offers them (on a node: for that node). Layers are added with
// addLayerAt() (the palette's drop) or addLayerAtCenter(), on a free spot.
#pragma once

#include <QGraphicsView>

#include "core/graph/project.h"

class QAction;

namespace qnn {

class GraphScene;
class ProjectDocument;

class GraphView : public QGraphicsView {
  Q_OBJECT
 public:
  explicit GraphView(ProjectDocument* document, QWidget* parent = nullptr);

  GraphScene* graphScene() const { return m_scene; }
  /// Current zoom factor (1 = 100%).
  double zoom() const;
  /// The colour legend's rectangle in viewport pixels: in the first corner (top-left,
  /// top-right, bottom-left, bottom-right) where it covers no node (its box, ports and
  /// labels), else the middle of the first free edge (top, bottom, left, right). A null
  /// QRect when every spot would cover a node: the legend is then not drawn (a narrow
  /// view at a readable zoom; it comes back as soon as a spot is free). Worked out again
  /// at every paint, so it follows edits, scrolls and zooms. fitToView() zooms out (down
  /// to its floor) to free a spot.
  QRect legendRect() const;

  /// Adds a layer of `type` with its header centred at `scenePos` (or, when another
  /// node is there, on the nearest free spot), selects it and returns its id.
  QString addLayerAt(LayerType type, QPointF scenePos);
  /// Adds a layer beside the selected node (one selected, in view), else at the centre
  /// of the visible area, on a free spot; selects it and scrolls it into view.
  QString addLayerAtCenter(LayerType type);

  QAction* deleteAction() const { return m_deleteAction; }
  QAction* cutAction() const { return m_cutAction; }
  QAction* copyAction() const { return m_copyAction; }
  QAction* pasteAction() const { return m_pasteAction; }
  QAction* duplicateAction() const { return m_duplicateAction; }
  QAction* selectAllAction() const { return m_selectAllAction; }
  QAction* autoLayoutAction() const { return m_autoLayoutAction; }
  /// "Change Type to <twin>": the one selected layer to its float / quantized twin
  /// (GraphScene::changeSelectedLayerType); disabled unless one layer with a twin is selected.
  QAction* changeTypeAction() const { return m_changeTypeAction; }

 public Q_SLOTS:
  /// Shows the whole graph (never magnified above 100%), zoomed out a little more when
  /// needed so that the legend covers no node.
  void fitToView();
  void zoomIn();
  void zoomOut();
  void resetZoom();

 protected:
  void wheelEvent(QWheelEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void drawForeground(QPainter* painter, const QRectF& rect) override;
  void contextMenuEvent(QContextMenuEvent* event) override;

 private:
  void zoomBy(double factor);
  /// fitToView() without its end: the legend's room is made by zooming out down to
  /// `floor` at most.
  void fitWhole(double floor);
  /// When the legend covers a node in every corner, moves the view (not the zoom) so the
  /// graph leaves the legend a free column on its left (or a free row above it) when the
  /// viewport has that much spare room.
  void makeRoomForLegend();
  /// The legend's size in pixels (its font and entries).
  QSize legendSize() const;
  /// Whether `viewportRect` (viewport pixels) covers a node or one of its labels.
  bool coversNode(const QRect& viewportRect) const;
  /// What a new graph and resizes get until the user zooms: the whole graph when it
  /// fits at a readable zoom, else the top of it at that zoom (scroll for the rest).
  void autoFit();
  void createActions();
  void updateChangeTypeAction();
  GraphScene* m_scene = nullptr;
  bool m_autoFit = true;
  bool m_spaceHeld = false;
  bool m_panning = false;
  QPoint m_panLast;
  QAction* m_deleteAction = nullptr;
  QAction* m_cutAction = nullptr;
  QAction* m_copyAction = nullptr;
  QAction* m_pasteAction = nullptr;
  QAction* m_duplicateAction = nullptr;
  QAction* m_selectAllAction = nullptr;
  QAction* m_autoLayoutAction = nullptr;
  QAction* m_changeTypeAction = nullptr;
};

}  // namespace qnn
