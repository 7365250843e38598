// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/node_editor/layer_palette.h"

#include <QApplication>
#include <QHeaderView>
#include <QMouseEvent>
#include <QPainter>
#include <QPixmap>

#include "core/errors.h"
#include "core/layers/layer_descriptor.h"
#include "widgets/node_editor/graph_view.h"
#include "widgets/node_editor/node_item.h"

namespace qnn {
namespace {

QIcon swatch(LayerType t) {
  QPixmap pm(16, 12);
  pm.fill(Qt::transparent);
  QPainter p(&pm);
  p.setRenderHint(QPainter::Antialiasing);
  const NodeColors c = nodeColors(nodeKind(t));
  p.setPen(c.accent);
  p.setBrush(c.fill);
  p.drawRoundedRect(QRectF(0.5, 0.5, 15, 11), 3, 3);
  return QIcon(pm);
}

}  // namespace

LayerPalette::LayerPalette(QWidget* parent) : QTreeWidget(parent) {
  setHeaderHidden(true);
  setColumnCount(1);
  setRootIsDecorated(false);
  setIndentation(8);
  setSelectionMode(SingleSelection);
  setToolTip(tr("Drag a layer onto the graph, or double-click it to add it in the middle of the view"));
  // One group per layer family, types in registry order (core/layers/registry.cpp).
  for (LayerFamily family : all_families()) {
    auto* group = new QTreeWidgetItem(this, QStringList(tr(family_title(family).c_str())));
    group->setFlags(Qt::ItemIsEnabled);
    QFont f = group->font(0);
    f.setBold(true);
    group->setFont(0, f);
    for (const LayerDescriptor& d : all_descriptors()) {
      if (d.family != family) continue;
      const QString name = QString::fromStdString(d.name);
      auto* item = new QTreeWidgetItem(group, QStringList(name));
      item->setData(0, Qt::UserRole, name);
      item->setIcon(0, swatch(d.type));
      item->setToolTip(0, QString::fromStdString(d.tooltip));
      item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    }
  }
  expandAll();
  connect(this, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem* item) {
    const QString type = item ? item->data(0, Qt::UserRole).toString() : QString();
    if (!type.isEmpty()) addAt(type, true, {});
  });
}

QTreeWidgetItem* LayerPalette::itemFor(const QString& typeName) const {
  for (int g = 0; g < topLevelItemCount(); ++g)
    for (int i = 0; i < topLevelItem(g)->childCount(); ++i)
      if (topLevelItem(g)->child(i)->data(0, Qt::UserRole).toString() == typeName) return topLevelItem(g)->child(i);
  return nullptr;
}

QStringList LayerPalette::typeNames() const {
  QStringList out;
  for (int g = 0; g < topLevelItemCount(); ++g)
    for (int i = 0; i < topLevelItem(g)->childCount(); ++i)
      out << topLevelItem(g)->child(i)->data(0, Qt::UserRole).toString();
  return out;
}

void LayerPalette::mousePressEvent(QMouseEvent* event) {
  QTreeWidget::mousePressEvent(event);
  m_dragging = false;
  m_pressedType.clear();
  if (event->button() != Qt::LeftButton) return;
  if (QTreeWidgetItem* item = itemAt(event->position().toPoint())) {
    m_pressedType = item->data(0, Qt::UserRole).toString();
    m_pressPos = event->position().toPoint();
  }
}

void LayerPalette::mouseMoveEvent(QMouseEvent* event) {
  if (m_pressedType.isEmpty() || !(event->buttons() & Qt::LeftButton)) {
    QTreeWidget::mouseMoveEvent(event);
    return;
  }
  if (!m_dragging && (event->position().toPoint() - m_pressPos).manhattanLength() >= QApplication::startDragDistance()) {
    m_dragging = true;
    setCursor(Qt::DragCopyCursor);
  }
  event->accept();
}

void LayerPalette::mouseReleaseEvent(QMouseEvent* event) {
  const bool drop = m_dragging && event->button() == Qt::LeftButton;
  const QString type = m_pressedType;
  m_dragging = false;
  m_pressedType.clear();
  unsetCursor();
  if (drop) {
    addAt(type, false, viewport()->mapToGlobal(event->position().toPoint()));
    event->accept();
    return;
  }
  QTreeWidget::mouseReleaseEvent(event);
}

void LayerPalette::addAt(const QString& typeName, bool atCentre, QPoint globalPos) {
  if (!m_view || !m_view->isVisible()) return;
  LayerType type;
  try {
    type = layer_type_from_string(typeName.toStdString());
  } catch (const Error&) {
    return;
  }
  QString id;
  if (atCentre) {
    id = m_view->addLayerAtCenter(type);
  } else {
    const QPoint local = m_view->viewport()->mapFromGlobal(globalPos);
    if (!m_view->viewport()->rect().contains(local)) return;  // dropped elsewhere: nothing
    id = m_view->addLayerAt(type, m_view->mapToScene(local));
  }
  if (!id.isEmpty()) Q_EMIT layerAdded(id);
}

}  // namespace qnn
