// SPDX-License-Identifier: GPL-3.0-or-later
// The model summary dock: per layer the parameter count, multiply-accumulates per
// sample, weight and bias bit widths and storage in bytes at the chosen bit widths,
// and the totals against float32 (core/graph/summary.h); the hardware cost per Conv/Linear
// layer (input bits, BitOps, weight memory, accumulator bits; LUT and BRAM18 with the
// deployment target FINN, at the default folding PE = SIMD = 1, 100 MHz: core/graph/finn_cost.h)
// and its totals line. Follows the document live:
// changing a bit width in the inspector updates the sizes at once.
#pragma once

#include <QPointer>
#include <QWidget>
#include <string>

class QLabel;
class QTableWidget;

namespace qnn {

class ProjectDocument;

class ModelSummaryView : public QWidget {
  Q_OBJECT
 public:
  explicit ModelSummaryView(ProjectDocument* document, QWidget* parent = nullptr);

  /// The "Size" tab: layer, type, params, MACs, W bits, B bits, bytes.
  QTableWidget* table() const { return m_table; }
  /// The "Hardware" tab (objectName hardwareTable): layer, A bits, BitOps, W mem, acc
  /// bits, and LUT, BRAM18 with the deployment target FINN.
  QTableWidget* hardwareTable() const { return m_hwTable; }
  /// The totals line, e.g. "61 706 parameters · 416 520 MACs · 23.3 kB vs 246.8 kB float32 (10.6×)";
  /// for an invalid graph the MACs are marked partial: "≥ 117 600 MACs per sample
  /// (partial: 3 layer(s) without shapes)".
  QString totalsText() const;
  /// The width in pixels that shows every column of either tab's table whole (each as
  /// wide as its header and its widest cell), with the frame, the margins and a vertical
  /// scroll bar: what a dock column should give the summary.
  int columnsWidth() const;

 private:
  void refresh();
  QPointer<ProjectDocument> m_document;
  QTableWidget* m_table = nullptr;
  QTableWidget* m_hwTable = nullptr;
  QLabel* m_totals = nullptr;
  std::string m_shown;  ///< summary_table() of what is shown (skip identical refreshes)
};

}  // namespace qnn
