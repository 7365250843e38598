// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/analysis/analyzer_view.h"

#include "core/analysis/analysis.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {

AnalyzerView::AnalyzerView(QWidget* parent) : AnalysisViewBase(QStringLiteral("analyzer"), parent) {
  m_plot = new QCustomPlot(this);
  m_plot->setObjectName(QStringLiteral("exportPlot"));
  contentLayout()->addWidget(m_plot);
  addStalePlot(m_plot);
  installExport();
}
void AnalyzerView::setReport(const AnalyzerReportPtr& report) { m_report = report; rebuild(); }
void AnalyzerView::setReport(const analysis::AnalyzerReport& report) {
  setReport(std::make_shared<const analysis::AnalyzerReport>(report));
}
void AnalyzerView::clear() { m_report.reset(); setStale(false); rebuild(); }
QString AnalyzerView::csv() const { return QString(); }
QString AnalyzerView::headline() const { return QString(); }
QString AnalyzerView::keepText() const { return QString(); }
QStringList AnalyzerView::rowLayers() const { return {}; }
QList<double> AnalyzerView::barGains() const { return {}; }
void AnalyzerView::staleChanged() {}
void AnalyzerView::rebuild() {}

}  // namespace qnn
