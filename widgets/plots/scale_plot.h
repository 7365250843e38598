// SPDX-License-Identifier: GPL-3.0-or-later
// The scales of every quantizer: a bar per quantizer ("conv1 W" = weight scale,
// "relu1 A" = activation scale, real units per integer step, log axis) with the
// per-channel scales of per-channel quantizers as dots on their bar (the bar is their
// mean); below, how each scale moved during training (one line per quantizer, the
// learned activation scales included) from the ScaleSnapshot of every report received.
// The selected layer is highlighted in both. Numbers from qnn::inspect::ScaleSnapshot.
#pragma once

#include <QHash>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include "widgets/inspect/inspection_types.h"

class QCustomPlot;
class QCPAxisRect;
class QCPBars;
class QCPGraph;
class QCPLegend;
class QCPTextElement;

namespace qnn {

class ScalePlot : public QWidget {
  Q_OBJECT
 public:
  explicit ScalePlot(QWidget* parent = nullptr);

  /// Shows the report's scales and appends its snapshot to the history when it is a
  /// new report with a later step; an earlier step starts a new history (a new run).
  void setReport(const InspectionReportPtr& report, const QString& layer);
  void clearHistory();

  /// Quantizers in the bar plot ("conv1 W", "relu1 A"), in execution order.
  QStringList barLabels() const { return m_labels; }
  /// Bar heights (mean scale of each quantizer).
  QVector<double> barValues() const;
  /// Snapshots in the history and the steps they were taken at.
  int historySize() const { return int(m_steps.size()); }
  QVector<qint64> historySteps() const { return m_steps; }
  QCustomPlot* plot() const { return m_plot; }
  QString csv() const;

 private:
  void refresh();
  InspectionReportPtr m_report;
  const void* m_lastSnapshotOf = nullptr;  ///< report whose snapshot was appended last
  QString m_layer;
  QStringList m_labels;
  QVector<qint64> m_steps;
  QStringList m_historyKeys;               ///< "conv1 W" in first-seen order
  QHash<QString, QVector<double>> m_history;  ///< key -> mean scale per snapshot (NaN: absent)
  QCustomPlot* m_plot = nullptr;
  QCPTextElement* m_title = nullptr;
  QCPAxisRect* m_barRect = nullptr;
  QCPAxisRect* m_historyRect = nullptr;
  QCPBars* m_bars = nullptr;
  QCPBars* m_selectedBars = nullptr;
  QCPGraph* m_channelDots = nullptr;
  QVector<QCPGraph*> m_lines;
  QCPLegend* m_historyLegend = nullptr;
};

}  // namespace qnn
