// SPDX-License-Identifier: GPL-3.0-or-later
// Wires the inspection panel to the rest of the window: live reports and the
// misclassified images from TrainingController go to the panel; selecting a node in
// the graph selects its layer in the panel and the other way round; every node with
// a quantizer shows its SQNR ("SQNR 18.3 dB", red for the worst layer) as a small
// label drawn on the node. Uses only the public GraphScene / NodeItem API (the node
// items are rebuilt with the document; the labels are added again after each rebuild).
#pragma once

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>

#include "widgets/inspect/inspection_types.h"

class QWidget;

namespace qnn {

class GraphView;
class InspectionPanel;
class NodeItem;
class TrainingController;

class InspectionLink : public QObject {
  Q_OBJECT
 public:
  InspectionLink(TrainingController* controller, GraphView* graph, InspectionPanel* panel, QObject* parent = nullptr);

  /// The SQNR label shown on node `layer` ("" when none).
  QString annotation(const QString& layer) const { return m_annotations.value(layer); }
  /// Adds the save/copy menu to a view that is not in the panel (the confusion matrix):
  /// its CSV is the matrix with per-class accuracy.
  static void installConfusionExport(QWidget* confusionMatrixView);
  /// Empties the panel, the node labels and the bias summaries (the model they showed is
  /// no longer current: a new run, another project, an edit, fold or undo switching models).
  void clear();
  /// Shows the misclassified test images of the last run again (an undo made its model
  /// current again after clear(); a reinspection does not search them anew). Nothing
  /// when there are none (a new run started or another project was opened since).
  void restoreRunMisclassified();
  /// An explicit inspection request: the next report (e.g. of the reinspect() the caller
  /// starts next) raises the Inspection dock over the docks tabbed with it. Without it no
  /// report raises the dock: reinspections after an undo, Load Weights or Fold BatchNorm
  /// and a run's live reports refresh it in place. A run starting cancels the request.
  void raiseOnNextReport() { m_raiseOnReport = true; }
  /// Shows `report` as if the controller had computed it: a report with weights only
  /// (an imported file whose graph cannot run, inspected from its constants).
  void showReport(const InspectionReportPtr& report) { onReport(report); }
  /// Layer -> BiasStats::summary() of every quantized bias in the last report.
  QHash<QString, QString> biasSummaries() const { return m_biasSummaries; }

 Q_SIGNALS:
  /// A report arrived or the views were cleared: the bias summaries changed.
  /// `clipped`: the layers whose bias codes were clipped (BiasStats::clipped() > 0).
  void biasSummariesChanged(const QHash<QString, QString>& summaries, const QStringList& clipped);

 private:
  void onReport(const InspectionReportPtr& report);
  void onSceneSelection();
  void onPanelSelection(const QString& layer);
  /// Labels every node with its SQNR (keeps labels that are up to date).
  void applyAnnotations();
  /// The same for one node (after an edit of that layer).
  void annotateLayer(const QString& id);
  void annotate(NodeItem* node);

  QPointer<TrainingController> m_controller;
  QPointer<GraphView> m_graph;
  QPointer<InspectionPanel> m_panel;
  QHash<QString, QString> m_annotations;  ///< layer -> "SQNR 18.3 dB" (+ " · bias 2/6 clipped")
  QHash<QString, QString> m_biasWarnings; ///< layer -> BiasStats::warning() of a saturating bias
  QHash<QString, QString> m_biasSummaries; ///< layer -> BiasStats::summary()
  QString m_worst;
  MisclassifiedSet m_runMisclassified;  ///< the last run's, for restoreRunMisclassified()
  bool m_syncing = false;
  bool m_raiseOnReport = false;  ///< raiseOnNextReport() was called since the last report
};

}  // namespace qnn
