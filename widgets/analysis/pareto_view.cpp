// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/analysis/pareto_view.h"

#include <limits>

#include <QComboBox>

#include "core/analysis/analysis.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {

ParetoView::ParetoView(QWidget* parent) : AnalysisViewBase(QStringLiteral("pareto_front"), parent) {
  m_costBox = new QComboBox(this);
  m_plot = new QCustomPlot(this);
  m_plot->setObjectName(QStringLiteral("exportPlot"));
  contentLayout()->addWidget(m_costBox);
  contentLayout()->addWidget(m_plot);
  addStalePlot(m_plot);
  installExport();
}
ParetoView::~ParetoView() = default;
void ParetoView::setFront(const SweepRecord& record, const std::vector<analysis::MixedConfig>& front,
                          analysis::CostAxis) {
  m_record = record;
  m_front = front;
  rebuild();
}
void ParetoView::clear() { m_front.clear(); setStale(false); rebuild(); }
bool ParetoView::hasResult() const { return !m_front.empty(); }
QString ParetoView::csv() const { return QString(); }
void ParetoView::setSelected(int index) { m_selected = index; }
void ParetoView::setMeasured(int index, double accuracy) { m_measured[index] = accuracy; }
double ParetoView::measured(int) const { return std::numeric_limits<double>::quiet_NaN(); }
void ParetoView::setCostAxis(analysis::CostAxis) {}
analysis::CostAxis ParetoView::costAxis() const { return analysis::CostAxis::SizeBytes; }
int ParetoView::pointCount() const { return int(m_front.size()); }
QPointF ParetoView::pointPosition(int) const { return {}; }
QString ParetoView::describe(int) const { return QString(); }
void ParetoView::staleChanged() {}
void ParetoView::rebuild() {}

}  // namespace qnn
