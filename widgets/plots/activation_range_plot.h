// SPDX-License-Identifier: GPL-3.0-or-later
// One activation quantizer (QuantIdentity / QuantReLU / QuantHardTanh) on the
// calibration batch: the histogram of what the quantizer sees, the representable
// range [range_lo, range_hi] = [(min_int − z)·s, (max_int − z)·s] shaded between two
// vertical lines, the bins outside it in red, and the clipped share in the title.
// A bin that dwarfs the others (ReLU's zeros) is cut and labelled with its count.
// Numbers come from qnn::inspect::ActivationStats.
#pragma once

#include <QWidget>

#include "widgets/inspect/inspection_types.h"

class QCustomPlot;
class QCPBars;
class QCPTextElement;
class QComboBox;
class QLabel;

namespace qnn {

class ActivationRangePlot : public QWidget {
  Q_OBJECT
 public:
  explicit ActivationRangePlot(QWidget* parent = nullptr);

  /// Shows the activation quantizer `layer`; when `layer` has none, keeps the one shown
  /// before (or the first of the report). Null report: cleared.
  void setReport(const InspectionReportPtr& report, const QString& layer);

  /// A QuantEltwiseAdd has two quantizers: "input" (input_quant) and "act" (output);
  /// a selector picks one. Other layers have "act" only.
  void setQuantizer(const QString& quantizer);

  QString layer() const { return m_layer; }
  QString quantizer() const { return m_quantizer; }
  QString title() const;
  /// The shaded representable range in real units (0, 0 when nothing is shown).
  double rangeLo() const { return m_rangeLo; }
  double rangeHi() const { return m_rangeHi; }
  /// Histogram bins drawn inside / outside the range.
  int binsInside() const;
  int binsOutside() const;
  QCustomPlot* plot() const { return m_plot; }
  QString csv() const;

 private:
  void refresh();
  InspectionReportPtr m_report;
  QString m_layer;
  QString m_quantizer = QStringLiteral("act");
  QLabel* m_quantizerLabel = nullptr;
  QComboBox* m_quantizerCombo = nullptr;
  double m_rangeLo = 0.0, m_rangeHi = 0.0;
  QCustomPlot* m_plot = nullptr;
  QCPTextElement* m_title = nullptr;
  QCPBars* m_inside = nullptr;
  QCPBars* m_outside = nullptr;
};

}  // namespace qnn
