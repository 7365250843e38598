// SPDX-License-Identifier: GPL-3.0-or-later
// The palette of layer types, grouped (input/output, quantized layers and
// activations, float counterparts, shape and other ops). Drag an entry onto the
// graph view to add that layer at the drop point; double-click adds it at the centre
// of the view. The drag is tracked by the palette itself (press, move, release over
// the view) rather than with QDrag, so it behaves the same on every platform plugin.
#pragma once

#include <QPointer>
#include <QTreeWidget>

#include "core/graph/project.h"

namespace qnn {

class GraphView;

class LayerPalette : public QTreeWidget {
  Q_OBJECT
 public:
  explicit LayerPalette(QWidget* parent = nullptr);

  /// The view that receives drops and double-clicks.
  void setTargetView(GraphView* view) { m_view = view; }
  /// The palette entry of a type name ("QuantConv2d"), or nullptr.
  QTreeWidgetItem* itemFor(const QString& typeName) const;
  /// Every type the palette offers (those known to the core), in palette order.
  QStringList typeNames() const;

 Q_SIGNALS:
  /// A layer was added through the palette (drop or double-click).
  void layerAdded(const QString& id);

 protected:
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;

 private:
  void addAt(const QString& typeName, bool atCentre, QPoint globalPos);
  QPointer<GraphView> m_view;
  QString m_pressedType;
  QPoint m_pressPos;
  bool m_dragging = false;
};

}  // namespace qnn
