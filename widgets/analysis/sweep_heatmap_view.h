// SPDX-License-Identifier: GPL-3.0-or-later
// The sensitivity sweep as a heat map (QCPColorMap): one row per swept slot in
// execution order ("conv1 W" = conv1's weight quantizer, "relu1 A" = its activation
// quantizer), one column per bit_width of the swept range; the colour is the accuracy
// drop in points (base - point, x 100; white = no drop, dark red = large; a negative
// drop, the point beat the base, is drawn as 0 and its text says "-0.3"), each cell
// carries its drop as text. Points a partial sweep did not reach are hatched grey and
// have no text: missing, never zero. A colour scale labelled "accuracy drop (points)".
// Clicking a cell emits cellActivated.
#pragma once

#include <QList>
#include <QStringList>

#include "core/graph/sweep_record.h"
#include "widgets/analysis/analysis_view_base.h"

class QCPColorMap;
class QCPColorScale;
class QCPTextElement;

namespace qnn {

class SweepHeatmapView : public AnalysisViewBase {
  Q_OBJECT
 public:
  explicit SweepHeatmapView(QWidget* parent = nullptr);

  /// Shows `record` (complete or partial). Keeps the stale state.
  void setRecord(const SweepRecord& record);
  void clear() override;
  bool hasResult() const override { return m_hasRecord; }
  /// Rows as "layer,kind,slot" followed by one column per bit_width ("bits_2", ...)
  /// holding the drop in points ("" for a missing point), '.' decimals.
  QString csv() const override;

  const SweepRecord& record() const { return m_record; }
  /// Row labels top to bottom ("conv1 W", "relu1 A"), the record's slot order.
  QStringList rowLabels() const { return m_rowLabels; }
  /// Column bit widths left to right (min_bits .. max_bits).
  QList<int> columnBits() const { return m_bits; }
  /// Accuracy drop in points of row `row`, column `column` (base - point, x 100; may be
  /// negative); NaN when that point is missing or the indices are out of range.
  double cellDrop(int row, int column) const;
  /// The text drawn in the cell ("" for a missing point).
  QString cellText(int row, int column) const;
  /// Number of missing (hatched) cells.
  int missingCount() const;
  /// The title line (base accuracy, what was swept, "partial: k of n points" when so).
  QString title() const;
  QCustomPlot* plot() const { return m_plot; }
  /// "conv1 W" for (conv1, weight), "relu1 A" for (relu1, act).
  static QString slotLabel(const QString& layer, const QString& kind);

 Q_SIGNALS:
  /// The user clicked a cell (missing or not): the slot and the bit_width.
  void cellActivated(const QString& layer, const QString& kind, int bits);

 protected:
  void staleChanged() override;

 private:
  void rebuild();
  SweepRecord m_record;
  bool m_hasRecord = false;
  QStringList m_rowLabels;
  QList<int> m_bits;
  QList<QList<double>> m_drops;  ///< [row][column], NaN = missing
  QCustomPlot* m_plot = nullptr;
  QCPColorMap* m_map = nullptr;
  QCPColorScale* m_scale = nullptr;
  QCPTextElement* m_title = nullptr;
};

}  // namespace qnn
