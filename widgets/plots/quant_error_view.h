// SPDX-License-Identifier: GPL-3.0-or-later
// Quantization error per layer (qnn::inspect::Report::errors): a sortable table
// (layer, type, weight / activation / output SQNR in dB, the MSEs) with the worst
// layer's row highlighted, and a bar chart of each layer's local SQNR (its own
// quantizer, min of weight and activation) in execution order, the worst bar in red
// and named, with the output SQNR (error accumulated up to that layer, quantized vs the
// same network in float) drawn as a line. Clicking a row or bar selects the layer.
#pragma once

#include <QWidget>

#include "widgets/inspect/inspection_types.h"

class QCustomPlot;
class QCPBars;
class QCPGraph;
class QCPTextElement;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTableView;

namespace qnn {

class QuantErrorView : public QWidget {
  Q_OBJECT
 public:
  enum Column { Layer, Type, WeightSqnr, ActSqnr, OutputSqnr, WeightMse, ActMse, OutputMse, ColumnCount };

  explicit QuantErrorView(QWidget* parent = nullptr);

  void setReport(const InspectionReportPtr& report);
  /// Selects the row of `layer` (no signal).
  void selectLayer(const QString& layer);

  QTableView* table() const { return m_table; }
  QCustomPlot* plot() const { return m_plot; }
  /// The report's worst layer ("" when nothing is quantized).
  QString worstLayer() const { return m_worst; }
  /// "<layer>: k of n bias codes clipped (<quantizer>)" per layer whose bias saturates
  /// (also a line of the chart title and a warning icon with a tooltip on the row).
  QStringList biasWarnings() const { return m_biasWarnings; }
  /// Layer ids of the table rows in their current (sorted) order.
  QStringList rowLayers() const;
  /// True when the row of `layer` is drawn highlighted.
  bool isHighlighted(const QString& layer) const;
  /// Layers of the bar chart (those with a quantizer), in execution order, and the red one.
  QStringList barLayers() const { return m_barLayers; }
  QString redBarLayer() const;
  QString chartTitle() const;
  QString csv() const;

 Q_SIGNALS:
  /// The user clicked a row or a bar.
  void layerActivated(const QString& layer);

 private:
  void refreshChart();
  InspectionReportPtr m_report;
  QString m_worst;
  QStringList m_biasWarnings;
  QStringList m_barLayers;
  QStandardItemModel* m_model = nullptr;
  QSortFilterProxyModel* m_proxy = nullptr;
  QTableView* m_table = nullptr;
  QCustomPlot* m_plot = nullptr;
  QCPTextElement* m_title = nullptr;
  QCPBars* m_bars = nullptr;
  QCPBars* m_worstBar = nullptr;
  QCPGraph* m_output = nullptr;
};

}  // namespace qnn
