// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/analysis/sweep_curves_view.h"

#include <limits>

#include <QComboBox>

#include "core/analysis/analysis.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {

SweepCurvesView::SweepCurvesView(QWidget* parent) : AnalysisViewBase(QStringLiteral("sweep_curves"), parent) {
  m_costBox = new QComboBox(this);
  m_plot = new QCustomPlot(this);
  m_plot->setObjectName(QStringLiteral("exportPlot"));
  contentLayout()->addWidget(m_costBox);
  contentLayout()->addWidget(m_plot);
  addStalePlot(m_plot);
  installExport();
}
void SweepCurvesView::setRecord(const SweepRecord& record) { m_record = record; m_hasRecord = true; rebuild(); }
void SweepCurvesView::clear() { m_record = SweepRecord(); m_hasRecord = false; setStale(false); rebuild(); }
QString SweepCurvesView::csv() const { return QString(); }
void SweepCurvesView::setCostAxis(analysis::CostAxis) {}
analysis::CostAxis SweepCurvesView::costAxis() const { return analysis::CostAxis::SizeBytes; }
QStringList SweepCurvesView::seriesNames() const { return {}; }
QList<QPointF> SweepCurvesView::seriesPoints(int) const { return {}; }
QList<QPointF> SweepCurvesView::costPoints(int) const { return {}; }
double SweepCurvesView::baseLine() const { return std::numeric_limits<double>::quiet_NaN(); }
void SweepCurvesView::staleChanged() {}
void SweepCurvesView::rebuild() {}

}  // namespace qnn
