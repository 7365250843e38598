// SPDX-License-Identifier: GPL-3.0-or-later
// The model summary dock: per layer the parameter count, multiply-accumulates per
// sample, weight and bias bit widths and storage in bytes at the chosen bit widths,
// and the totals against float32 (core/graph/summary.h); the hardware cost per Conv/Linear
// layer (input bits, BitOps, weight memory, accumulator bits: core/graph/finn_cost.h);
// with the deployment target FINN a third tab, FINN, with the folding the user states
// (PE, SIMD, clock MHz: view settings, not document edits) and per MVAU the effective
// PE and SIMD (the largest divisors of MH and MW not above them, as `qnn summary --pe
// --simd`), cycles per sample, LUTs and BRAM18; the totals line names the folding.
// Follows the document live: changing a bit width in the inspector updates the sizes at once.
#pragma once

#include <QPointer>
#include <QWidget>
#include <string>

#include "core/graph/finn_cost.h"

class QDoubleSpinBox;
class QLabel;
class QSpinBox;
class QTabWidget;
class QTableWidget;

namespace qnn {

class ProjectDocument;

class ModelSummaryView : public QWidget {
  Q_OBJECT
 public:
  explicit ModelSummaryView(ProjectDocument* document, QWidget* parent = nullptr);

  /// The "Size" tab: layer, type, params, MACs, W bits, B bits, bytes.
  QTableWidget* table() const { return m_table; }
  /// The "Hardware" tab (objectName hardwareTable): layer, A bits, BitOps, W mem, acc bits.
  QTableWidget* hardwareTable() const { return m_hwTable; }
  /// The "FINN" tab's table (objectName finnTable; the tab is there only with the
  /// deployment target FINN): layer, PE, SIMD, cycles, LUT, BRAM18 per MVAU at folding().
  QTableWidget* finnTable() const { return m_finnTable; }
  /// The FINN tab's folding controls (objectNames foldingPe, foldingSimd, foldingClock).
  QSpinBox* peSpinBox() const { return m_pe; }
  QSpinBox* simdSpinBox() const { return m_simd; }
  QDoubleSpinBox* clockSpinBox() const { return m_clock; }
  /// The folding the FINN figures are for (requested PE / SIMD, clamped per layer by
  /// core's hardware_cost(); clock in MHz). Default PE 1, SIMD 1, 100 MHz.
  Folding folding() const;
  /// Sets the controls (values outside their range are clamped: PE, SIMD 1..4096,
  /// clock 1..2000 MHz) and refreshes the figures.
  void setFolding(const Folding& folding);
  /// The totals line, e.g. "61 706 parameters · 416 520 MACs · 23.3 kB vs 246.8 kB float32 (10.6×)";
  /// for an invalid graph the MACs are marked partial: "≥ 117 600 MACs per sample
  /// (partial: 3 layer(s) without shapes)".
  QString totalsText() const;
  /// The width in pixels that shows every column of any tab's table whole (each as
  /// wide as its header and its widest cell), with the frame, the margins and a vertical
  /// scroll bar: what a dock column should give the summary.
  int columnsWidth() const;

 private:
  void refresh();
  QPointer<ProjectDocument> m_document;
  QTabWidget* m_tabs = nullptr;
  QTableWidget* m_table = nullptr;
  QTableWidget* m_hwTable = nullptr;
  QWidget* m_finnPage = nullptr;
  QWidget* m_foldingRow = nullptr;
  QTableWidget* m_finnTable = nullptr;
  QSpinBox* m_pe = nullptr;
  QSpinBox* m_simd = nullptr;
  QDoubleSpinBox* m_clock = nullptr;
  QLabel* m_totals = nullptr;
  std::string m_shown;  ///< summary_table() of what is shown (skip identical refreshes)
};

}  // namespace qnn
