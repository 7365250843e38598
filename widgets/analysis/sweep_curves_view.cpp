// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/analysis/sweep_curves_view.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>

#include "core/analysis/analysis.h"
#include "widgets/analysis/analysis_format.h"
#include "widgets/analysis/sweep_heatmap_view.h"
#include "widgets/plots/inspect_plot_style.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The points of `slot` by bit_width (finite accuracies only).
std::map<int, const SweepPoint*> slotPoints(const SweepRecord& r, const SweepSlot& slot) {
  std::map<int, const SweepPoint*> out;
  for (const SweepPoint& p : r.points)
    if (p.layer == slot.layer && p.kind == slot.kind && std::isfinite(p.accuracy)) out[p.bits] = &p;
  return out;
}

}  // namespace

SweepCurvesView::SweepCurvesView(QWidget* parent) : AnalysisViewBase(QStringLiteral("sweep_curves"), parent) {
  m_costBox = addCostAxisRow(tr("Right axis:"));

  m_plot = createTitledPlot(300, 200, 9, m_title);
  m_plot->setAutoAddPlottableToLegend(false);
  m_plot->xAxis->setLabel(tr("bit_width"));
  m_plot->yAxis->setLabel(tr("accuracy (%)"));
  m_plot->yAxis2->setVisible(true);
  styleLegend(m_plot->legend, font());
  m_plot->legend->setVisible(true);
  // The legend sits right of the axes: inside, it covered the low-bit points.
  // The legend gets a row of its own under the title, entries side by side: beside the
  // axes it squeezed them at a docked width, inside it covered the low-bit points.
  m_plot->axisRect()->insetLayout()->take(m_plot->legend);
  m_plot->plotLayout()->insertRow(1);
  m_plot->plotLayout()->addElement(1, 0, m_plot->legend);
  m_plot->plotLayout()->setRowStretchFactor(1, 0.001);
  m_plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  m_plot->legend->setWrap(4);
  connect(m_costBox, &QComboBox::currentIndexChanged, this, [this] {
    rebuild();
    Q_EMIT costAxisChanged(costAxis());
  });
  contentLayout()->addWidget(m_plot, 1);
  addStalePlot(m_plot);
  installExport();
  rebuild();
}

void SweepCurvesView::setRecord(const SweepRecord& record) {
  m_record = record;
  m_hasRecord = true;
  rebuild();
}

void SweepCurvesView::clear() {
  m_record = SweepRecord();
  m_hasRecord = false;
  rebuild();
  setStale(false);
}

void SweepCurvesView::setCostAxis(analysis::CostAxis axis) {
  const int i = m_costBox->findData(int(axis));
  if (i >= 0) m_costBox->setCurrentIndex(i);  // emits through currentIndexChanged when it changes
}

analysis::CostAxis SweepCurvesView::costAxis() const {
  return analysis::CostAxis(m_costBox->currentData().toInt());
}

QStringList SweepCurvesView::seriesNames() const {
  QStringList out;
  for (const SweepSlot& s : m_record.slots)
    out << SweepHeatmapView::slotLabel(QString::fromStdString(s.layer), QString::fromStdString(s.kind));
  return out;
}

QList<QPointF> SweepCurvesView::seriesPoints(int i) const {
  QList<QPointF> out;
  if (!m_hasRecord || i < 0 || i >= int(m_record.slots.size())) return out;
  for (const auto& [bits, p] : slotPoints(m_record, m_record.slots[size_t(i)])) out << QPointF(bits, p->accuracy * 100.0);
  return out;
}

QList<QPointF> SweepCurvesView::costPoints(int i) const {
  QList<QPointF> out;
  if (!m_hasRecord || i < 0 || i >= int(m_record.slots.size())) return out;
  const bool size = costAxis() == analysis::CostAxis::SizeBytes;
  for (const auto& [bits, p] : slotPoints(m_record, m_record.slots[size_t(i)]))
    out << QPointF(bits, size ? double(p->size_bytes) : p->bitops);
  return out;
}

double SweepCurvesView::baseLine() const { return m_hasRecord ? m_record.base_accuracy * 100.0 : kNaN; }

QString SweepCurvesView::csv() const {
  if (!m_hasRecord) return QString();
  using analysis_format::csvNumber;
  const SweepRecord& r = m_record;
  QString out = QStringLiteral("layer,kind,bits,accuracy,accuracy_drop,size_bytes,bitops\n");
  out += QStringLiteral("(base),,,%1,0,%2,%3\n")
             .arg(csvNumber(r.base_accuracy), QString::number(r.base_size_bytes), csvNumber(r.base_bitops));
  for (const SweepPoint& p : r.points)
    out += QStringLiteral("%1,%2,%3,%4,%5,%6,%7\n")
               .arg(analysis_format::csvField(QString::fromStdString(p.layer)), QString::fromStdString(p.kind))
               .arg(p.bits)
               .arg(csvNumber(p.accuracy), csvNumber(r.base_accuracy - p.accuracy), QString::number(p.size_bytes),
                    csvNumber(p.bitops));
  return out;
}

void SweepCurvesView::staleChanged() { rebuild(); }

void SweepCurvesView::rebuild() {
  m_plot->clearPlottables();
  m_plot->clearItems();
  m_plot->legend->clearItems();
  const bool size = costAxis() == analysis::CostAxis::SizeBytes;
  m_plot->yAxis2->setLabel(size ? tr("model size (bytes)") : tr("BitOps per sample"));
  if (!m_hasRecord || m_record.slots.empty()) {
    m_title->setText(m_hasRecord ? tr("The sweep has no slots") : tr("No sweep yet: Analysis ▸ Sensitivity Sweep…"));
    m_plot->xAxis->setRange(2, 8);
    m_plot->yAxis->setRange(0, 100);
    m_plot->yAxis2->setRange(0, 1);
    refreshVeil();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const SweepRecord& r = m_record;
  const double lo = r.min_bits - 0.3, hi = r.max_bits + 0.3;
  double accMin = r.base_accuracy * 100.0, accMax = accMin;
  double costMin = size ? double(r.base_size_bytes) : r.base_bitops, costMax = costMin;

  auto* base = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
  base->setName(tr("base %1").arg(analysis_format::percent(r.base_accuracy)));
  base->setPen(QPen(QColor(90, 90, 90), 1.5, Qt::DashLine));
  base->addData(lo, r.base_accuracy * 100.0);
  base->addData(hi, r.base_accuracy * 100.0);
  base->addToLegend();

  for (int i = 0; i < int(r.slots.size()); ++i) {
    const QColor color = seriesColor(i);
    auto* acc = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
    acc->setName(SweepHeatmapView::slotLabel(QString::fromStdString(r.slots[size_t(i)].layer),
                                             QString::fromStdString(r.slots[size_t(i)].kind)));
    acc->setPen(QPen(color, 2));
    acc->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color, Qt::white, 5));
    auto* cost = new QCPGraph(m_plot->xAxis, m_plot->yAxis2);
    cost->setPen(QPen(color, 1, Qt::DotLine));
    cost->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, QPen(color, 1), Qt::NoBrush, 4));
    const auto points = slotPoints(r, r.slots[size_t(i)]);
    for (int b = r.min_bits; b <= r.max_bits; ++b) {
      const auto it = points.find(b);
      if (it == points.end()) {  // a gap in the line, never a zero
        acc->addData(b, kNaN);
        cost->addData(b, kNaN);
        continue;
      }
      const double a = it->second->accuracy * 100.0;
      const double c = size ? double(it->second->size_bytes) : it->second->bitops;
      acc->addData(b, a);
      cost->addData(b, c);
      accMin = std::min(accMin, a);
      accMax = std::max(accMax, a);
      costMin = std::min(costMin, c);
      costMax = std::max(costMax, c);
    }
    acc->addToLegend();
  }
  // One legend entry explains every dotted line.
  auto* costKey = new QCPGraph(m_plot->xAxis, m_plot->yAxis2);
  costKey->setName(size ? tr("size (right axis)") : tr("BitOps (right axis)"));
  costKey->setPen(QPen(QColor(90, 90, 90), 1, Qt::DotLine));
  costKey->addToLegend();

  m_plot->xAxis->setRange(lo, hi);
  QSharedPointer<QCPAxisTickerFixed> bitsTicker(new QCPAxisTickerFixed);
  bitsTicker->setTickStep(1.0);
  m_plot->xAxis->setTicker(bitsTicker);
  const double pad = std::max(1.0, (accMax - accMin) * 0.08);
  m_plot->yAxis->setRange(std::max(0.0, accMin - pad), std::min(100.0, accMax + pad) + 0.01);
  const double cpad = std::max(1.0, (costMax - costMin) * 0.08);
  m_plot->yAxis2->setRange(std::max(0.0, costMin - cpad), costMax + cpad);
  m_plot->yAxis2->setNumberFormat(QStringLiteral("gb"));
  m_plot->legend->setVisible(true);
  QString title = stalePrefix() + tr("Accuracy vs bit_width per slot");
  if (!r.complete) title += tr(" · partial sweep");
  m_title->setText(title);
  refreshVeil();
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace qnn
