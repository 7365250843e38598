// SPDX-License-Identifier: GPL-3.0-or-later
// The sensitivity sweep as curves: accuracy (%) against bit_width, one line per swept
// slot (legend "conv1 W", "relu1 A"), the base accuracy as a dashed grey line; on the
// right y axis the model cost at each slot's points, dotted in the slot's colour:
// model size in bytes or BitOps per sample (the toggle above the plot, or
// setCostAxis). Missing points of a partial sweep are gaps, not zeros.
#pragma once

#include <QList>
#include <QPointF>
#include <QStringList>

#include "core/graph/sweep_record.h"
#include "widgets/analysis/analysis_view_base.h"
#include "widgets/analysis/analysis_view_types.h"

class QCPTextElement;
class QComboBox;

namespace qnn {

class SweepCurvesView : public AnalysisViewBase {
  Q_OBJECT
 public:
  explicit SweepCurvesView(QWidget* parent = nullptr);

  void setRecord(const SweepRecord& record);
  void clear() override;
  bool hasResult() const override { return m_hasRecord; }
  /// "layer,kind,bits,accuracy,accuracy_drop,size_bytes,bitops" per point (accuracies
  /// as fractions, like analysis::sweep_csv), after a "(base)" row.
  QString csv() const override;

  /// The right axis: model size (bytes) or BitOps. Emits costAxisChanged when it changes.
  void setCostAxis(analysis::CostAxis axis);
  analysis::CostAxis costAxis() const;
  /// Legend names of the accuracy lines, in slot order.
  QStringList seriesNames() const;
  /// Accuracy (%) points of series `i` as (bits, accuracy %) pairs, in bits order.
  QList<QPointF> seriesPoints(int i) const;
  /// Cost points of series `i` on the right axis (bits, bytes or BitOps).
  QList<QPointF> costPoints(int i) const;
  /// The base accuracy line's value in % (NaN without a record).
  double baseLine() const;
  const SweepRecord& record() const { return m_record; }
  QCustomPlot* plot() const { return m_plot; }
  QComboBox* costAxisBox() const { return m_costBox; }

 Q_SIGNALS:
  void costAxisChanged(analysis::CostAxis axis);

 protected:
  void staleChanged() override;

 private:
  void rebuild();
  SweepRecord m_record;
  bool m_hasRecord = false;
  QComboBox* m_costBox = nullptr;
  QCustomPlot* m_plot = nullptr;
  QCPTextElement* m_title = nullptr;
};

}  // namespace qnn
