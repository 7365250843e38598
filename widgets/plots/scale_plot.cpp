// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/plots/scale_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <QVBoxLayout>

#include "core/inspect/inspect.h"
#include "widgets/plots/inspect_plot_style.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {
namespace {

/// "conv1 W" (weights), "relu1 A" (activation / output), "add1 In" (QuantEltwiseAdd input_quant).
QString entryLabel(const inspect::ScaleSnapshot::Entry& e) {
  const QString tag = e.quantizer == "weight" ? QStringLiteral("W")
                      : e.quantizer == "input" ? QStringLiteral("In")
                                               : QStringLiteral("A");
  return QStringLiteral("%1 %2").arg(QString::fromStdString(e.layer), tag);
}

double meanOf(const std::vector<double>& v) {
  return v.empty() ? std::numeric_limits<double>::quiet_NaN()
                   : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}

void setLogAxis(QCPAxis* axis) {
  axis->setScaleType(QCPAxis::stLogarithmic);
  QSharedPointer<QCPAxisTickerLog> ticker(new QCPAxisTickerLog);
  axis->setTicker(ticker);
  axis->setNumberFormat(QStringLiteral("gb"));
  axis->setNumberPrecision(0);
}

}  // namespace

ScalePlot::ScalePlot(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  m_plot = new QCustomPlot(this);
  m_plot->setObjectName(QStringLiteral("exportPlot"));
  m_plot->setMinimumSize(320, 260);
  m_plot->setAutoAddPlottableToLegend(false);
  m_plot->plotLayout()->insertRow(0);
  m_title = new QCPTextElement(m_plot, QString(), QFont(font().family(), 9, QFont::Bold));
  m_plot->plotLayout()->addElement(0, 0, m_title);
  m_barRect = m_plot->axisRect();
  m_historyRect = new QCPAxisRect(m_plot);
  // Side by side under the title (the dock is wide and short).
  auto* rects = new QCPLayoutGrid;
  m_plot->plotLayout()->take(m_barRect);
  m_plot->plotLayout()->addElement(1, 0, rects);
  rects->addElement(0, 0, m_barRect);
  rects->addElement(0, 1, m_historyRect);
  rects->setColumnSpacing(12);
  auto* margins = new QCPMarginGroup(m_plot);
  m_barRect->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
  m_historyRect->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
  setLogAxis(m_barRect->axis(QCPAxis::atLeft));
  setLogAxis(m_historyRect->axis(QCPAxis::atLeft));
  m_barRect->axis(QCPAxis::atLeft)->setLabel(tr("scale (real units / step)"));
  m_historyRect->axis(QCPAxis::atLeft)->setLabel(tr("scale over training"));
  m_historyRect->axis(QCPAxis::atBottom)->setLabel(tr("optimizer step"));

  QCPAxis* x = m_barRect->axis(QCPAxis::atBottom);
  QCPAxis* y = m_barRect->axis(QCPAxis::atLeft);
  m_bars = new QCPBars(x, y);
  m_bars->setName(tr("scale (mean over channels)"));
  styleBars(m_bars, kFloatColor);
  m_selectedBars = new QCPBars(x, y);
  m_selectedBars->setName(tr("selected layer"));
  styleBars(m_selectedBars, kOutputColor);
  for (QCPBars* b : {m_bars, m_selectedBars}) b->setWidth(0.7);
  m_channelDots = new QCPGraph(x, y);
  m_channelDots->setName(tr("per-channel scales"));
  m_channelDots->setLineStyle(QCPGraph::lsNone);
  m_channelDots->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QColor(40, 40, 40), Qt::white, 5));
  m_bars->addToLegend();
  m_selectedBars->addToLegend();
  m_channelDots->addToLegend();
  styleLegend(m_plot->legend, font());
  m_plot->legend->setVisible(true);
  // Each legend sits in a row above its chart, not over the data.
  m_barRect->insetLayout()->take(m_plot->legend);
  m_historyLegend = new QCPLegend;
  rects->insertRow(0);
  rects->addElement(0, 0, m_plot->legend);
  rects->addElement(0, 1, m_historyLegend);
  rects->setRowStretchFactor(0, 0.001);
  m_historyLegend->setLayer(QStringLiteral("legend"));
  styleLegend(m_historyLegend, font());
  for (QCPLegend* legend : {m_plot->legend, m_historyLegend}) {
    legend->setBorderPen(Qt::NoPen);
    legend->setBrush(Qt::NoBrush);
  }
  m_plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  m_plot->legend->setWrap(2);
  m_historyLegend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  m_historyLegend->setWrap(3);
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  layout->addWidget(m_plot);
  refresh();
}

void ScalePlot::clearHistory() {
  m_steps.clear();
  m_history.clear();
  m_historyKeys.clear();
  m_lastSnapshotOf = nullptr;
}

void ScalePlot::setReport(const InspectionReportPtr& report, const QString& layer) {
  m_report = report;
  m_layer = layer;
  if (report && report.get() != m_lastSnapshotOf) {
    const qint64 step = report->scales.step;
    if (!m_steps.isEmpty() && step < m_steps.back()) clearHistory();
    if (m_steps.isEmpty() || step > m_steps.back()) {
      m_steps << step;
      for (auto& series : m_history) series << std::numeric_limits<double>::quiet_NaN();
      for (const auto& e : report->scales.entries) {
        const QString key = entryLabel(e);
        if (!m_history.contains(key)) {
          m_historyKeys << key;
          m_history.insert(key, QVector<double>(m_steps.size(), std::numeric_limits<double>::quiet_NaN()));
        }
        m_history[key].back() = meanOf(e.scales);
      }
    }
    m_lastSnapshotOf = report.get();
  }
  refresh();
}

QVector<double> ScalePlot::barValues() const {
  QVector<double> v(m_labels.size(), 0.0);
  for (QCPBars* b : {m_bars, m_selectedBars})
    for (auto it = b->data()->constBegin(); it != b->data()->constEnd(); ++it) {
      const int i = int(std::lround(it->key));
      if (i >= 0 && i < v.size()) v[i] = it->value;
    }
  return v;
}

QString ScalePlot::csv() const {
  return m_report ? QString::fromStdString(inspect::table_csv(*m_report, "scales")) : QString();
}

void ScalePlot::refresh() {
  m_bars->data()->clear();
  m_selectedBars->data()->clear();
  m_channelDots->data()->clear();
  m_labels.clear();
  for (QCPGraph* g : m_lines) {
    g->removeFromLegend(m_historyLegend);
    m_plot->removeGraph(g);
  }
  m_lines.clear();
  m_plot->clearItems();
  if (!m_report || m_report->scales.entries.empty()) {
    m_title->setText(!m_report ? tr("Scales: train the model to see its quantizers' scales")
                               : tr("This network has no quantizer"));
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  const auto& entries = m_report->scales.entries;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const QString label = entryLabel(e);
    m_labels << label;
    ticker->addTick(double(i), label);
    const double mean = meanOf(e.scales);
    if (!(mean > 0.0)) continue;
    (QString::fromStdString(e.layer) == m_layer ? m_selectedBars : m_bars)->addData(double(i), mean);
    for (double s : e.scales)
      if (s > 0.0) {
        lo = std::min(lo, s);
        hi = std::max(hi, s);
        if (e.scales.size() > 1) m_channelDots->addData(double(i), s);
      }
  }
  if (!(hi > 0.0)) lo = hi = 1.0;
  const double base = lo / 3.0;
  m_bars->setBaseValue(base);
  m_selectedBars->setBaseValue(base);
  QCPAxis* x = m_barRect->axis(QCPAxis::atBottom);
  x->setTicker(ticker);
  x->setTickLabelRotation(entries.size() > 6 ? 35 : 0);
  x->setRange(-0.6, double(entries.size()) - 0.4);
  m_barRect->axis(QCPAxis::atLeft)->setRange(base, hi * 2.0);  // room above the tallest bar

  // History: one line per quantizer.
  double hlo = std::numeric_limits<double>::infinity(), hhi = 0.0;
  for (int k = 0; k < m_historyKeys.size(); ++k) {
    const QString& key = m_historyKeys[k];
    auto* g = new QCPGraph(m_historyRect->axis(QCPAxis::atBottom), m_historyRect->axis(QCPAxis::atLeft));
    const bool selected = key.section(QLatin1Char(' '), 0, 0) == m_layer;
    g->setName(key);
    g->setPen(QPen(seriesColor(k), selected ? 3.0 : 1.4, !key.endsWith(QLatin1String(" W")) ? Qt::DashLine : Qt::SolidLine));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, seriesColor(k), seriesColor(k), selected ? 6 : 4));
    const QVector<double>& values = m_history[key];
    for (int i = 0; i < m_steps.size() && i < values.size(); ++i)
      if (values[i] > 0.0) {
        g->addData(double(m_steps[i]), values[i]);
        hlo = std::min(hlo, values[i]);
        hhi = std::max(hhi, values[i]);
      }
    g->addToLegend(m_historyLegend);
    m_lines << g;
  }
  if (!(hhi > 0.0)) hlo = hhi = 1.0;
  if (m_steps.size() < 2) {
    auto* note = new QCPItemText(m_plot);
    note->setClipAxisRect(m_historyRect);
    note->position->setAxisRect(m_historyRect);
    note->position->setType(QCPItemPosition::ptAxisRectRatio);
    note->position->setCoords(0.5, 0.5);
    note->setText(tr("The scales' history fills in\nwhile the model trains\n(one point per live report)."));
    note->setTextAlignment(Qt::AlignCenter);
    note->setColor(QColor(110, 110, 110));
  }
  m_historyRect->axis(QCPAxis::atLeft)->setRange(hlo / 1.5, hhi * 1.5);
  const double first = m_steps.isEmpty() ? 0.0 : double(m_steps.front());
  const double last = m_steps.isEmpty() ? 1.0 : double(m_steps.back());
  m_historyRect->axis(QCPAxis::atBottom)->setRange(first - 0.5 - (last - first) * 0.03, last + 0.5 + (last - first) * 0.03);
  m_title->setText(tr("Scales of %n quantizer(s) at %1\nhistory of %2 report(s)%3", "", int(entries.size()))
                       .arg(m_report->scales.step < 0 ? tr("an unrecorded step")  // a checkpoint without its step count
                                                      : tr("step %1").arg(m_report->scales.step))
                       .arg(m_steps.size())
                       .arg(m_layer.isEmpty() ? QString() : tr(" · selected: %1").arg(m_layer)));
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace qnn
