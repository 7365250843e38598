// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/inspect/inspection_link.h"

#include <cmath>

#include <QBrush>
#include <QDockWidget>
#include <QFont>
#include <QGraphicsSimpleTextItem>
#include <QPen>

#include "core/inspect/inspect.h"
#include "widgets/document/project_document.h"
#include "widgets/inspect/inspection_panel.h"
#include "widgets/node_editor/graph_scene.h"
#include "widgets/node_editor/graph_view.h"
#include "widgets/node_editor/node_item.h"
#include "widgets/plots/confusion_matrix_view.h"
#include "widgets/plots/plot_export.h"
#include "widgets/training/training_controller.h"

namespace qnn {
namespace {

constexpr int kAnnotationKey = 0x514E;  // QGraphicsItem::data key marking our labels

/// The label item: a rounded pill behind the text, a child of the node.
class SqnrLabel : public QGraphicsSimpleTextItem {
 public:
  SqnrLabel(const QString& text, const QColor& color, QGraphicsItem* parent) : QGraphicsSimpleTextItem(text, parent) {
    QFont f;
    f.setPointSizeF(7.5);
    f.setBold(true);
    setFont(f);
    setBrush(color.darker(160));
    m_fill = QColor(color.red(), color.green(), color.blue(), 45);
    m_border = color;
    setData(kAnnotationKey, text);
    setZValue(2);
  }
  QRectF boundingRect() const override { return QGraphicsSimpleTextItem::boundingRect().adjusted(-4, -1, 4, 1); }
  void paint(QPainter* p, const QStyleOptionGraphicsItem* o, QWidget* w) override {
    p->setRenderHint(QPainter::Antialiasing);
    p->setPen(QPen(m_border, 1));
    p->setBrush(m_fill);
    p->drawRoundedRect(boundingRect(), 4, 4);
    QGraphicsSimpleTextItem::paint(p, o, w);
  }

 private:
  QColor m_fill, m_border;
};

QColor sqnrColor(double db, bool worst) {
  if (worst) return QColor(214, 39, 40);
  if (!std::isfinite(db) || db >= 20.0) return QColor(44, 140, 44);
  if (db >= 10.0) return QColor(200, 140, 0);
  return QColor(214, 39, 40);
}

}  // namespace

InspectionLink::InspectionLink(TrainingController* controller, GraphView* graph, InspectionPanel* panel,
                               QObject* parent)
    : QObject(parent), m_controller(controller), m_graph(graph), m_panel(panel) {
  connect(controller, &TrainingController::inspectionReport, this, &InspectionLink::onReport);
  connect(controller, &TrainingController::misclassifiedReady, panel, &InspectionPanel::setMisclassified);
  connect(controller, &TrainingController::misclassifiedReady, this,
          [this](const MisclassifiedSet& set) { m_runMisclassified = set; });
  connect(controller, &TrainingController::started, this, [this] {
    m_raiseOnReport = false;  // the run's reports replace the one asked for
    m_runMisclassified = MisclassifiedSet{};
    clear();
  });
  connect(panel, &InspectionPanel::layerSelected, this, &InspectionLink::onPanelSelection);
  GraphScene* scene = graph->graphScene();
  // Queued: the scene also reports selection changes while it is being torn down.
  connect(scene, &QGraphicsScene::selectionChanged, this, &InspectionLink::onSceneSelection, Qt::QueuedConnection);
  connect(scene, &GraphScene::rebuilt, this, &InspectionLink::applyAnnotations);
  if (ProjectDocument* doc = scene->document()) {
    connect(doc, &ProjectDocument::projectReplaced, this, [this] {
      m_runMisclassified = MisclassifiedSet{};  // the run of another project
      clear();
    });
    // Edits may recreate node items: label them again once the scene has caught up.
    // Per layer (a drag sends layerChanged for every moved node on every mouse move),
    // and only where the label is missing or out of date.
    for (auto signal : {&ProjectDocument::layerAdded, &ProjectDocument::layerChanged})
      connect(doc, signal, this, &InspectionLink::annotateLayer, Qt::QueuedConnection);
    connect(doc, &ProjectDocument::layerRenamed, this, &InspectionLink::applyAnnotations, Qt::QueuedConnection);
  }
}

void InspectionLink::clear() {
  m_annotations.clear();
  m_biasWarnings.clear();
  m_biasSummaries.clear();
  Q_EMIT biasSummariesChanged(m_biasSummaries, {});
  m_worst.clear();
  if (m_panel) m_panel->clear();
  applyAnnotations();
}

void InspectionLink::restoreRunMisclassified() {
  if (m_panel && !m_runMisclassified.samples.isEmpty()) m_panel->setMisclassified(m_runMisclassified);
}

void InspectionLink::onReport(const InspectionReportPtr& report) {
  if (!report || !m_panel) return;
  m_panel->setReport(report);
  // Only a report the user asked to see (raiseOnNextReport) brings the dock to the front
  // of its tab group: the reinspections after an undo, Load Weights or a fold, and a
  // run's reports, refresh it where it is (the user may be reading the Training Curves).
  if (m_raiseOnReport) {
    m_raiseOnReport = false;
    if (auto* dock = qobject_cast<QDockWidget*>(m_panel->parentWidget())) dock->raise();
  }
  m_annotations.clear();
  m_worst = QString::fromStdString(report->worst_layer);
  for (const inspect::LayerError& e : report->errors) {
    const double local = e.local_sqnr_db();
    if (std::isnan(local)) continue;
    m_annotations.insert(QString::fromStdString(e.layer), QStringLiteral("SQNR %1").arg(dbText(local)));
  }
  // A saturating bias quantizer: the label says so (and turns red), the tooltip gives the count.
  m_biasWarnings.clear();
  m_biasSummaries.clear();
  for (const inspect::BiasStats& b : report->biases) {
    const QString id = QString::fromStdString(b.layer);
    m_biasSummaries.insert(id, QString::fromStdString(b.summary()));
    if (b.clipped() == 0) continue;
    m_biasWarnings.insert(id, QString::fromStdString(b.warning()));
    const QString sqnr = m_annotations.value(id);
    m_annotations.insert(id, (sqnr.isEmpty() ? QString() : sqnr + QStringLiteral(" · ")) +
                                 tr("bias %1/%2 clipped").arg(b.clipped()).arg(b.total));
  }
  Q_EMIT biasSummariesChanged(m_biasSummaries, m_biasWarnings.keys());  // the clipped layers
  applyAnnotations();
}

void InspectionLink::applyAnnotations() {
  if (!m_graph) return;
  GraphScene* scene = m_graph->graphScene();
  QList<NodeItem*> nodes;  // collected first: annotate() deletes items of scene->items()
  for (QGraphicsItem* item : scene->items())
    if (item->type() == NodeItem::Type) nodes << static_cast<NodeItem*>(item);
  for (NodeItem* node : nodes) annotate(node);
}

void InspectionLink::annotateLayer(const QString& id) {
  if (!m_graph) return;
  if (NodeItem* node = m_graph->graphScene()->node(id)) annotate(node);
}

void InspectionLink::annotate(NodeItem* node) {
  const QString text = m_annotations.value(node->id());
  const bool worst = !text.isEmpty() && node->id() == m_worst;
  // The label's data: its text, with a mark when it is the worst layer's.
  const QString key = worst ? text + QStringLiteral("|worst") : text;
  bool current = false;
  for (QGraphicsItem* child : node->childItems()) {
    if (!child->data(kAnnotationKey).isValid()) continue;
    if (!current && !text.isEmpty() && child->data(kAnnotationKey).toString() == key)
      current = true;  // up to date: keep it
    else
      delete child;
  }
  if (current || text.isEmpty()) return;
  {
    const QString number = text.section(QLatin1Char(' '), 1, 1);
    const double db = number == QStringLiteral("∞") ? INFINITY : number.toDouble();
    const QString bias = m_biasWarnings.value(node->id());
    auto* label = new SqnrLabel(text, bias.isEmpty() ? sqnrColor(db, worst) : sqnrColor(0.0, true), node);
    label->setData(kAnnotationKey, key);
    QString tip = node->id() == m_worst ? tr("Worst layer: lowest SQNR of its own quantizer")
                                        : tr("SQNR of this layer's own quantizer on the calibration batch");
    if (!bias.isEmpty())
      tip += QStringLiteral("\n") + tr("Warning: %1: the layer adds another bias than the trained one").arg(bias);
    label->setToolTip(tip);
    // Beside the node's right edge, level with its header (the node's own text stays clear).
    label->setPos(NodeItem::kWidth + 8.0, 4.0);
  }
}

void InspectionLink::onSceneSelection() {
  if (m_syncing || !m_graph || !m_panel) return;
  for (QGraphicsItem* item : m_graph->graphScene()->selectedItems())
    if (item->type() == NodeItem::Type) {
      m_syncing = true;
      m_panel->selectLayer(static_cast<NodeItem*>(item)->id());
      m_syncing = false;
      return;
    }
}

void InspectionLink::onPanelSelection(const QString& layer) {
  if (m_syncing || !m_graph) return;
  GraphScene* scene = m_graph->graphScene();
  NodeItem* node = scene->node(layer);
  if (!node) return;
  m_syncing = true;
  scene->selectLayers({layer});  // one selectionChanged, not clear + select
  m_graph->ensureVisible(node, 40, 40);
  m_syncing = false;
}

void InspectionLink::installConfusionExport(QWidget* view) {
  auto* matrix = qobject_cast<ConfusionMatrixView*>(view);
  if (!matrix) return;
  installExportMenu(matrix, [] { return QStringLiteral("confusion_matrix"); }, [matrix] {
    if (matrix->classCount() == 0) return QString();
    QString out = QStringLiteral("true\\predicted");
    for (int c = 0; c < matrix->classCount(); ++c) out += QStringLiteral(",%1").arg(c);
    out += QStringLiteral(",accuracy\n");
    for (int r = 0; r < matrix->classCount(); ++r) {
      out += QString::number(r);
      for (qint64 v : matrix->matrix()[r]) out += QStringLiteral(",%1").arg(v);
      out += QStringLiteral(",%1\n").arg(matrix->classAccuracy(r), 0, 'f', 6);
    }
    return out;
  });
}

}  // namespace qnn
