// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/analysis/sweep_heatmap_view.h"

#include <cmath>
#include <limits>

#include "widgets/plots/qcustomplot_include.h"

namespace qnn {

SweepHeatmapView::SweepHeatmapView(QWidget* parent) : AnalysisViewBase(QStringLiteral("sweep_heatmap"), parent) {
  m_plot = new QCustomPlot(this);
  m_plot->setObjectName(QStringLiteral("exportPlot"));
  contentLayout()->addWidget(m_plot);
  addStalePlot(m_plot);
  installExport();
}
void SweepHeatmapView::setRecord(const SweepRecord& record) { m_record = record; m_hasRecord = true; rebuild(); }
void SweepHeatmapView::clear() { m_record = SweepRecord(); m_hasRecord = false; setStale(false); rebuild(); }
QString SweepHeatmapView::csv() const { return QString(); }
double SweepHeatmapView::cellDrop(int, int) const { return std::numeric_limits<double>::quiet_NaN(); }
QString SweepHeatmapView::cellText(int, int) const { return QString(); }
int SweepHeatmapView::missingCount() const { return 0; }
QString SweepHeatmapView::title() const { return QString(); }
QString SweepHeatmapView::slotLabel(const QString& layer, const QString& kind) {
  return layer + (kind == QLatin1String("act") ? QStringLiteral(" A") : QStringLiteral(" W"));
}
void SweepHeatmapView::staleChanged() {}
void SweepHeatmapView::rebuild() {}

}  // namespace qnn
