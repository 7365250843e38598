// SPDX-License-Identifier: GPL-3.0-or-later
// The quantization analyzer (analysis::analyze): on top the four headline accuracies
// (float / weights only / activations only / quantized) and "keep at higher precision:
// fc1, conv1"; a sortable table (layer, type, only-this %, all-but-this %, gain in
// points, output SQNR dB); a bar chart of the gain per layer in execution order (the
// layers to keep at higher precision in red). Clicking a row or bar emits
// layerActivated. A cancelled report shows its finished rows and says "partial".
#pragma once

#include <QStringList>

#include "widgets/analysis/analysis_view_base.h"
#include "widgets/analysis/analysis_view_types.h"

class QCPBars;
class QCPTextElement;
class QLabel;
class QStandardItemModel;
class QSortFilterProxyModel;
class QTableView;

namespace qnn {

class AnalyzerView : public AnalysisViewBase {
  Q_OBJECT
 public:
  enum Column { Layer, Type, OnlyThis, AllButThis, Gain, OutputSqnr, ColumnCount };

  explicit AnalyzerView(QWidget* parent = nullptr);

  void setReport(const AnalyzerReportPtr& report);
  /// Copies `report`.
  void setReport(const analysis::AnalyzerReport& report);
  AnalyzerReportPtr report() const { return m_report; }
  void clear() override;
  bool hasResult() const override { return m_report != nullptr; }
  /// analysis::analyzer_csv of the report.
  QString csv() const override;

  /// "float 98.9 % · weights only 98.7 % · activations only 97.0 % · quantized 96.8 %"
  QString headline() const;
  /// "keep at higher precision: fc1, conv1" (or "no layer costs more than 0.5 points").
  QString keepText() const;
  /// Layer ids of the table rows in their current (sorted) order.
  QStringList rowLayers() const;
  /// Layers of the bar chart (execution order) and their gains in points.
  QStringList barLayers() const { return m_barLayers; }
  QList<double> barGains() const;
  QTableView* table() const { return m_table; }
  QCustomPlot* plot() const { return m_plot; }

 Q_SIGNALS:
  void layerActivated(const QString& layer);

 protected:
  void staleChanged() override;
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void rebuild();
  /// The plot's title from m_titleLines, each broken at " · " / ", " / ": " to the plot's width
  /// (a QCPTextElement does not wrap; the dock is narrow at 1366 x 768).
  void layoutTitle();
  QStringList m_titleLines;
  AnalyzerReportPtr m_report;
  QStringList m_barLayers;
  QLabel* m_headline = nullptr;
  QLabel* m_keep = nullptr;
  QStandardItemModel* m_model = nullptr;
  QSortFilterProxyModel* m_proxy = nullptr;
  QTableView* m_table = nullptr;
  QCustomPlot* m_plot = nullptr;
  QCPTextElement* m_title = nullptr;
  QCPBars* m_bars = nullptr;
  QCPBars* m_keepBars = nullptr;
};

}  // namespace qnn
