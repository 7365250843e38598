// SPDX-License-Identifier: GPL-3.0-or-later
// The mixed-precision Pareto front (analysis::pareto_front): cost on x (model size in
// bytes or BitOps per sample, the toggle above the plot) against predicted accuracy
// (%) on y, as a step line with markers; the base configuration as a grey diamond;
// the selected configuration highlighted (larger, red) with its per-slot bit widths in
// a label; a measured accuracy (after calibration or fine-tuning, setMeasured) drawn as
// a green marker beside its prediction. Clicking a marker selects it and emits
// pointSelected(index). The axis toggle emits costAxisChanged: the host computes the
// front for that axis and calls setFront again (until then the same configurations are
// drawn against the other cost).
#pragma once

#include <map>
#include <vector>

#include <QList>
#include <QPointF>
#include <QStringList>

#include "core/graph/sweep_record.h"
#include "widgets/analysis/analysis_view_base.h"
#include "widgets/analysis/analysis_view_types.h"

class QCPGraph;
class QCPItemText;
class QCPTextElement;
class QComboBox;

namespace qnn {

class ParetoView : public AnalysisViewBase {
  Q_OBJECT
 public:
  explicit ParetoView(QWidget* parent = nullptr);
  ~ParetoView() override;

  /// Shows `front` (sorted by cost, from analysis::pareto_front(record, project, axis)) of
  /// `record`'s slots; the selection and measured values are reset. Keeps the stale state.
  void setFront(const SweepRecord& record, const std::vector<analysis::MixedConfig>& front,
                analysis::CostAxis axis);
  void clear() override;
  bool hasResult() const override;
  /// "index,size_bytes,bitops,predicted_accuracy,measured_accuracy,<slot bits...>"
  /// (one column per slot named "conv1 W"; accuracies as fractions; measured "" when unset).
  QString csv() const override;

  /// Selects configuration `index` (-1: none) without emitting pointSelected.
  void setSelected(int index);
  int selectedIndex() const { return m_selected; }
  /// A measured accuracy (fraction) of configuration `index` (NaN removes it).
  void setMeasured(int index, double accuracy);
  /// NaN when not measured.
  double measured(int index) const;
  /// The x axis; emits costAxisChanged when it changes.
  void setCostAxis(analysis::CostAxis axis);
  analysis::CostAxis costAxis() const;

  int pointCount() const;
  /// Plot coordinates of configuration `index`: (cost on the current axis, predicted %).
  QPointF pointPosition(int index) const;
  /// "conv1 W4 · relu1 A6 · …  → 97.1 % · 12.3 kB · 1.2 MBitOps" of configuration `index`.
  QString describe(int index) const;
  const SweepRecord& record() const { return m_record; }
  QCustomPlot* plot() const { return m_plot; }
  QComboBox* costAxisBox() const { return m_costBox; }

 Q_SIGNALS:
  /// The user clicked configuration `index` of the front.
  void pointSelected(int index);
  void costAxisChanged(analysis::CostAxis axis);

 protected:
  void staleChanged() override;

 private:
  void rebuild();
  SweepRecord m_record;
  std::vector<analysis::MixedConfig> m_front;
  std::map<int, double> m_measured;
  int m_selected = -1;
  int m_frontAxis = 0;  ///< the CostAxis the front was computed for
  QComboBox* m_costBox = nullptr;
  QCustomPlot* m_plot = nullptr;
  QCPTextElement* m_title = nullptr;
  QCPGraph* m_line = nullptr;
};

}  // namespace qnn
