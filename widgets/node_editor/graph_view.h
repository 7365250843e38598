// SPDX-License-Identifier: GPL-3.0-or-later
// Read-only view of the project graph (Netron-like): pan by dragging, zoom with
// Ctrl+wheel, fit to the window. Shows a GraphScene built from a ProjectDocument,
// with a colour legend in the corner.
#pragma once

#include <QGraphicsView>

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

 public Q_SLOTS:
  /// Shows the whole graph (never magnified above 100%).
  void fitToView();
  void zoomIn();
  void zoomOut();
  void resetZoom();

 protected:
  void wheelEvent(QWheelEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void drawForeground(QPainter* painter, const QRectF& rect) override;

 private:
  void zoomBy(double factor);
  /// What a new graph and resizes get until the user zooms: the whole graph when it
  /// fits at a readable zoom, else the top of it at that zoom (scroll for the rest).
  void autoFit();
  GraphScene* m_scene = nullptr;
  bool m_autoFit = true;
};

}  // namespace qnn
