// SPDX-License-Identifier: GPL-3.0-or-later
// One activation quantizer (QuantIdentity / QuantReLU / QuantHardTanh) on the
// calibration batch: the histogram of what the quantizer sees, the representable
// range [range_lo, range_hi] = [(min_int − z)·s, (max_int − z)·s] as two dashed
// vertical lines (the end levels), the band [range_lo − s/2, range_hi + s/2] shaded
// (inputs in it round onto a level; beyond it they are clipped, as the clipped share
// counts them), the bins wholly beyond the shaded band in red, and the clipped share
// in the title; the legend names the band, the lines and both bar colours. A bin that
// dwarfs the others (ReLU's zeros) is cut and labelled with its count. When the
// selected layer has no activation quantizer the plot shows the next one after it in
// execution order (the one its output goes through; the output layer: the last before
// it) and its title says so ("Activations: input of QuantReLU relu1 (selected: conv1)").
// Numbers come from qnn::inspect::ActivationStats.
#pragma once

#include <QWidget>

#include "widgets/inspect/inspection_types.h"

class QCustomPlot;
class QCPBars;
class QCPGraph;
class QCPTextElement;
class QComboBox;
class QLabel;

namespace qnn {

class ActivationRangePlot : public QWidget {
  Q_OBJECT
 public:
  explicit ActivationRangePlot(QWidget* parent = nullptr);

  /// Shows the activation quantizer of `layer`, the selected layer. When `layer` has
  /// none: the first activation quantizer after it in the report's execution order (the
  /// last before it when none follows), and the title's first line names both:
  /// "Activations: input of QuantReLU relu1 (selected: conv1)". `layer` empty or not in
  /// the report (nothing selected): the quantizer shown before while the report has it,
  /// else the first; no "selected" line. Null report: cleared.
  void setReport(const InspectionReportPtr& report, const QString& layer);

  /// A QuantEltwiseAdd has two quantizers: "input" (input_quant) and "act" (output);
  /// a selector picks one. Other layers have "act" only.
  void setQuantizer(const QString& quantizer);

  QString layer() const { return m_layer; }
  QString quantizer() const { return m_quantizer; }
  QString title() const;
  /// The representable range in real units, drawn as two dashed lines (0, 0 when
  /// nothing is shown).
  double rangeLo() const { return m_rangeLo; }
  double rangeHi() const { return m_rangeHi; }
  /// The shaded band [rangeLo − scale/2, rangeHi + scale/2] in real units: inputs
  /// beyond it are clipped (0, 0 when nothing is shown).
  double bandLo() const { return m_bandLo; }
  double bandHi() const { return m_bandHi; }
  /// Histogram bins drawn in blue (in the band, or across its edge) / in red (wholly
  /// beyond the band).
  int binsInside() const;
  int binsOutside() const;
  /// The layer the user selected (may differ from layer(): one without an activation
  /// quantizer).
  QString selectedLayer() const { return m_selected; }
  QCustomPlot* plot() const { return m_plot; }
  QString csv() const;

 private:
  void refresh();
  InspectionReportPtr m_report;
  QString m_layer;
  QString m_selected;
  QString m_quantizer = QStringLiteral("act");
  QLabel* m_quantizerLabel = nullptr;
  QComboBox* m_quantizerCombo = nullptr;
  double m_rangeLo = 0.0, m_rangeHi = 0.0;
  double m_bandLo = 0.0, m_bandHi = 0.0;
  QCustomPlot* m_plot = nullptr;
  QCPTextElement* m_title = nullptr;
  QCPBars* m_inside = nullptr;
  QCPBars* m_outside = nullptr;
  QCPGraph* m_bandKey = nullptr;   ///< empty graph: the band's legend entry
  QCPGraph* m_linesKey = nullptr;  ///< empty graph: the dashed lines' legend entry
};

}  // namespace qnn
