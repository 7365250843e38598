// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/node_editor/graph_scene.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "widgets/document/project_document.h"
#include "widgets/node_editor/edge_item.h"
#include "widgets/node_editor/node_item.h"

namespace qnn {
namespace {

/// Layer ids in the order to lay them out: topological when validation found one,
/// then any layer it left out, in file order.
std::vector<std::string> layoutOrder(const Project& project, const ValidationResult& v) {
  std::vector<std::string> order = v.order;
  std::set<std::string> seen(order.begin(), order.end());
  for (const LayerSpec& l : project.layers)
    if (seen.insert(l.id).second) order.push_back(l.id);
  return order;
}

}  // namespace

GraphScene::GraphScene(ProjectDocument* document, QObject* parent)
    : QGraphicsScene(parent), m_document(document) {
  setBackgroundBrush(QColor(250, 250, 252));
  connect(document, &ProjectDocument::changed, this, &GraphScene::rebuild);
  rebuild();
}

ProjectDocument* GraphScene::document() const { return m_document.data(); }

void GraphScene::rebuild() {
  clear();
  m_nodes.clear();
  m_edges.clear();
  if (!m_document) return;
  const Project& project = m_document->project();
  const ValidationResult& validation = m_document->validation();

  for (const LayerSpec& l : project.layers) {
    auto* item = new NodeItem(describeLayer(l, validation));
    item->setPos(l.x, l.y);
    addItem(item);
    m_nodes.insert(item->id(), item);
  }

  // No stored positions: top-to-bottom in execution order, wrapped into columns so
  // that a LeNet-sized chain stays readable when fitted to the window.
  const bool placed = std::any_of(project.layers.begin(), project.layers.end(),
                                  [](const LayerSpec& l) { return l.x != 0.0 || l.y != 0.0; });
  if (!placed && !project.layers.empty()) {
    const std::vector<std::string> order = layoutOrder(project, validation);
    const int n = int(order.size());
    const int perColumn = n <= 8 ? n : std::max(6, int(std::ceil(std::sqrt(2.0 * n))));
    for (int i = 0; i < n; ++i)
      if (NodeItem* item = m_nodes.value(QString::fromStdString(order[size_t(i)])))
        item->setPos((i / perColumn) * kColumnPitch, (i % perColumn) * kRowPitch);
  }

  for (const LayerSpec& l : project.layers) {
    NodeItem* target = m_nodes.value(QString::fromStdString(l.id));
    for (const std::string& in : l.inputs) {
      NodeItem* source = m_nodes.value(QString::fromStdString(in));
      if (!source || !target) continue;  // validation reports the dangling input on the node
      const auto info = validation.nodes.find(in);
      auto* edge = new EdgeItem(source, target, edgeLabel(info == validation.nodes.end() ? nullptr : &info->second));
      addItem(edge);
      m_edges << edge;
    }
  }
  setSceneRect(itemsBoundingRect().adjusted(-60, -60, 60, 60));
  Q_EMIT rebuilt();
}

}  // namespace qnn
