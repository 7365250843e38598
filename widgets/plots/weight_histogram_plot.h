// SPDX-License-Identifier: GPL-3.0-or-later
// Weights of one QuantConv2d / QuantLinear before and after quantization: the float
// weights as a 64-bin histogram with the quantization grid (y = (q - z)·s) drawn over
// it, and the integer codes as one bar per level min_int..max_int. The end levels that
// received clamped (saturated) values are red, levels no weight uses are grey stubs.
// The title carries bit width, signedness, narrow range, scale, zero point and SQNR.
// Per-channel quantizers get a channel selector (whole tensor or one output channel).
// Numbers come from qnn::inspect::WeightStats; nothing is computed here.
#pragma once

#include <QVector>
#include <QWidget>

#include "widgets/inspect/inspection_types.h"

class QComboBox;
class QCustomPlot;
class QCPBars;
class QCPTextElement;
class QCPAxisRect;
class QLabel;

namespace qnn {

class WeightHistogramPlot : public QWidget {
  Q_OBJECT
 public:
  explicit WeightHistogramPlot(QWidget* parent = nullptr);

  /// Shows `layer` of `report` (null report: cleared). A layer without weight
  /// quantizer shows a note; an empty id shows the first quantized weight layer.
  void setReport(const InspectionReportPtr& report, const QString& layer);
  /// -1: whole tensor; c: output channel c (per-channel quantizers only).
  void setChannel(int channel);

  QString layer() const { return m_layer; }
  int channel() const { return m_channel; }
  QString title() const;
  /// Bars drawn on the integer grid (used + saturated + unused) and their codes.
  int levelBarCount() const;
  QVector<int> saturatedCodes() const;
  QVector<int> unusedCodes() const;
  /// Count drawn for `code` (-1 when there is no such bar).
  qint64 levelCount(int code) const;
  QCustomPlot* plot() const { return m_plot; }
  /// CSV of the shown layer's level counts (inspect table "weight_levels", filtered).
  QString csv() const;

 private:
  void refresh();
  InspectionReportPtr m_report;
  QString m_layer;
  int m_channel = -1;
  QComboBox* m_channelCombo = nullptr;
  QLabel* m_channelLabel = nullptr;
  QCustomPlot* m_plot = nullptr;
  QCPTextElement* m_title = nullptr;
  QCPAxisRect* m_floatRect = nullptr;
  QCPAxisRect* m_levelRect = nullptr;
  QCPBars* m_floatBars = nullptr;
  QCPBars* m_usedBars = nullptr;
  QCPBars* m_saturatedBars = nullptr;
  QCPBars* m_unusedBars = nullptr;
};

}  // namespace qnn
