// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/plots/weight_histogram_plot.h"

#include <algorithm>
#include <cmath>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "core/graph/validate.h"
#include "core/inspect/inspect.h"
#include "widgets/plots/inspect_plot_style.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {
namespace {

const inspect::WeightStats* findWeights(const inspect::Report& r, const QString& layer) {
  for (const inspect::WeightStats& w : r.weights)
    if (layer.isEmpty() || QString::fromStdString(w.layer) == layer) return &w;
  return nullptr;
}

QString gridText(const inspect::Grid& g) {
  return QObject::tr("%1-bit %2%3 [%4, %5]")
      .arg(g.bit_width)
      .arg(g.is_signed ? QObject::tr("signed") : QObject::tr("unsigned"))
      .arg(g.narrow_range ? QObject::tr(" narrow") : QString())
      .arg(g.min_int)
      .arg(g.max_int);
}

}  // namespace

WeightHistogramPlot::WeightHistogramPlot(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  auto* row = new QHBoxLayout;
  row->setContentsMargins(6, 2, 6, 0);
  m_channelLabel = new QLabel(tr("Channel:"), this);
  m_channelCombo = new QComboBox(this);
  m_channelCombo->setObjectName(QStringLiteral("channelCombo"));
  m_channelCombo->setToolTip(tr("Per-channel quantizers: the integer codes of one output channel"));
  m_channelCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  row->addWidget(m_channelLabel);
  row->addWidget(m_channelCombo);
  row->addStretch(1);
  layout->addLayout(row);

  m_plot = new QCustomPlot(this);
  m_plot->setObjectName(QStringLiteral("exportPlot"));
  m_plot->setMinimumSize(320, 260);
  m_plot->setAutoAddPlottableToLegend(false);
  m_plot->setNoAntialiasingOnDrag(true);
  m_plot->plotLayout()->insertRow(0);
  m_title = new QCPTextElement(m_plot, QString(), QFont(font().family(), 9, QFont::Bold));
  m_plot->plotLayout()->addElement(0, 0, m_title);
  m_floatRect = m_plot->axisRect();
  m_levelRect = new QCPAxisRect(m_plot);
  // Side by side under the title (the dock is wide and short).
  auto* rects = new QCPLayoutGrid;
  m_plot->plotLayout()->take(m_floatRect);
  m_plot->plotLayout()->addElement(1, 0, rects);
  rects->addElement(0, 0, m_floatRect);
  rects->addElement(0, 1, m_levelRect);
  rects->setColumnSpacing(12);
  auto* margins = new QCPMarginGroup(m_plot);
  m_floatRect->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
  m_levelRect->setMarginGroup(QCP::msTop | QCP::msBottom, margins);

  m_floatRect->axis(QCPAxis::atBottom)->setLabel(tr("float weight · grey: (q − z)·s · red: clamp bounds"));
  m_floatRect->axis(QCPAxis::atLeft)->setLabel(tr("count"));
  m_levelRect->axis(QCPAxis::atBottom)->setLabel(tr("integer code q"));
  m_levelRect->axis(QCPAxis::atLeft)->setLabel(tr("count"));

  m_floatBars = new QCPBars(m_floatRect->axis(QCPAxis::atBottom), m_floatRect->axis(QCPAxis::atLeft));
  m_floatBars->setName(tr("float weights"));
  styleBars(m_floatBars, kFloatColor);
  m_unusedBars = new QCPBars(m_levelRect->axis(QCPAxis::atBottom), m_levelRect->axis(QCPAxis::atLeft));
  m_unusedBars->setName(tr("unused (count 0)"));
  m_unusedBars->setPen(QPen(kUnusedColor.darker(130), 1, Qt::DashLine));
  m_unusedBars->setBrush(QColor(kUnusedColor.red(), kUnusedColor.green(), kUnusedColor.blue(), 90));
  m_usedBars = new QCPBars(m_levelRect->axis(QCPAxis::atBottom), m_levelRect->axis(QCPAxis::atLeft));
  m_usedBars->setName(tr("in use"));
  styleBars(m_usedBars, kLevelColor);
  m_saturatedBars = new QCPBars(m_levelRect->axis(QCPAxis::atBottom), m_levelRect->axis(QCPAxis::atLeft));
  m_saturatedBars->setName(tr("saturated (gets clamped values)"));
  styleBars(m_saturatedBars, kSaturatedColor);
  for (QCPBars* b : {m_usedBars, m_saturatedBars, m_unusedBars}) b->setWidth(0.8);

  m_floatRect->insetLayout()->take(m_plot->legend);
  m_floatRect->insetLayout()->simplify();
  m_levelRect->insetLayout()->addElement(m_plot->legend, Qt::AlignTop | Qt::AlignRight);
  styleLegend(m_plot->legend, font());
  m_plot->legend->setVisible(true);
  for (QCPBars* b : {m_usedBars, m_saturatedBars, m_unusedBars}) b->addToLegend(m_plot->legend);
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  layout->addWidget(m_plot, 1);

  connect(m_channelCombo, qOverload<int>(&QComboBox::activated), this,
          [this](int index) { setChannel(m_channelCombo->itemData(index).toInt()); });
  refresh();
}

void WeightHistogramPlot::setReport(const InspectionReportPtr& report, const QString& layer) {
  const bool sameLayer = layer == m_layer;
  m_report = report;
  m_layer = layer;
  if (!sameLayer) m_channel = -1;
  refresh();
}

void WeightHistogramPlot::setChannel(int channel) {
  m_channel = channel;
  refresh();
}

QString WeightHistogramPlot::title() const { return m_title->text(); }

int WeightHistogramPlot::levelBarCount() const {
  return m_usedBars->dataCount() + m_saturatedBars->dataCount() + m_unusedBars->dataCount();
}

QVector<int> WeightHistogramPlot::saturatedCodes() const {
  QVector<int> codes;
  for (auto it = m_saturatedBars->data()->constBegin(); it != m_saturatedBars->data()->constEnd(); ++it)
    codes << int(std::lround(it->key));
  return codes;
}

QVector<int> WeightHistogramPlot::unusedCodes() const {
  QVector<int> codes;
  for (auto it = m_unusedBars->data()->constBegin(); it != m_unusedBars->data()->constEnd(); ++it)
    codes << int(std::lround(it->key));
  return codes;
}

qint64 WeightHistogramPlot::levelCount(int code) const {
  for (QCPBars* b : {m_usedBars, m_saturatedBars})
    for (auto it = b->data()->constBegin(); it != b->data()->constEnd(); ++it)
      if (std::lround(it->key) == code) return qint64(std::llround(it->value));
  return unusedCodes().contains(code) ? 0 : -1;
}

QString WeightHistogramPlot::csv() const {
  if (!m_report) return QString();
  const inspect::WeightStats* w = findWeights(*m_report, m_layer);
  if (!w) return QString();
  return filterCsvRows(QString::fromStdString(inspect::table_csv(*m_report, "weight_levels")),
                       QString::fromStdString(w->layer));
}

void WeightHistogramPlot::refresh() {
  for (QCPBars* b : {m_floatBars, m_usedBars, m_saturatedBars, m_unusedBars}) b->data()->clear();
  m_plot->clearItems();
  const inspect::WeightStats* w = m_report ? findWeights(*m_report, m_layer) : nullptr;
  m_channelCombo->setVisible(w && w->per_channel);
  m_channelLabel->setVisible(w && w->per_channel);
  if (!w) {
    m_title->setText(!m_report ? tr("Weights: train the model to see its weight histograms")
                               : tr("%1 has no quantized weights; pick a QuantConv2d or QuantLinear").arg(m_layer));
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const QString id = QString::fromStdString(w->layer);
  if (w->per_channel) {
    const int channels = int(w->channel_levels.size());
    if (m_channel >= channels) m_channel = -1;
    if (m_channelCombo->count() != channels + 1) {
      m_channelCombo->clear();
      m_channelCombo->addItem(tr("whole tensor"), -1);
      for (int c = 0; c < channels; ++c) m_channelCombo->addItem(tr("channel %1").arg(c), c);
    }
    m_channelCombo->setCurrentIndex(m_channel + 1);
  } else {
    m_channel = -1;
  }
  const bool oneChannel = m_channel >= 0;
  const inspect::LevelHistogram& levels = oneChannel ? w->channel_levels[size_t(m_channel)] : w->levels;
  const int ci = oneChannel ? m_channel : 0;
  const bool singleScale = oneChannel || !w->per_channel;

  // Float histogram and, for one scale, the grid of representable values.
  const inspect::Histogram& h = w->float_histogram;
  const double bw = h.counts.empty() ? 1.0 : (h.hi > h.lo ? (h.hi - h.lo) / double(h.counts.size()) : 1.0);
  m_floatBars->setWidth(bw);
  double floatMax = 1.0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    m_floatBars->addData(h.lo + (double(i) + 0.5) * bw, double(h.counts[i]));
    floatMax = std::max(floatMax, double(h.counts[i]));
  }
  double xlo = h.lo, xhi = h.hi;
  if (singleScale && !w->scales.empty()) {
    const double s = w->scales[size_t(ci)], z = w->zero_points[size_t(ci)];
    const int64_t levelsN = levels.max_int - levels.min_int + 1;
    if (levelsN <= 64)
      for (int64_t q = levels.min_int; q <= levels.max_int; ++q)
        addVerticalLine(m_plot, m_floatRect, (double(q) - z) * s, QPen(QColor(60, 60, 60, 170), 1, Qt::DashLine));
    const double lo = (double(levels.min_int) - z) * s, hi = (double(levels.max_int) - z) * s;
    addVerticalLine(m_plot, m_floatRect, lo, QPen(kSaturatedColor, 1.5, Qt::DashLine));
    addVerticalLine(m_plot, m_floatRect, hi, QPen(kSaturatedColor, 1.5, Qt::DashLine));
    xlo = std::min(xlo, lo - 0.5 * s);
    xhi = std::max(xhi, hi + 0.5 * s);
  }
  const double pad = std::max(1e-12, (xhi - xlo) * 0.03);
  m_floatRect->axis(QCPAxis::atBottom)->setRange(xlo - pad, xhi + pad);
  m_floatRect->axis(QCPAxis::atLeft)->setRange(0.0, floatMax * 1.08);

  // One bar per level.
  double levelMax = 1.0;
  for (int64_t c : levels.counts) levelMax = std::max(levelMax, double(c));
  for (size_t i = 0; i < levels.counts.size(); ++i) {
    const int64_t code = levels.min_int + int64_t(i);
    const double count = double(levels.counts[i]);
    const bool saturated = (code == levels.min_int && levels.saturated_low > 0) ||
                           (code == levels.max_int && levels.saturated_high > 0);
    if (levels.counts[i] == 0)
      m_unusedBars->addData(double(code), levelMax * 1.05);
    else if (saturated)
      m_saturatedBars->addData(double(code), count);
    else
      m_usedBars->addData(double(code), count);
  }
  QCPAxis* codeAxis = m_levelRect->axis(QCPAxis::atBottom);
  codeAxis->setRange(double(levels.min_int) - 0.7, double(levels.max_int) + 0.7);
  if (levels.max_int - levels.min_int <= 32) {
    QSharedPointer<QCPAxisTickerFixed> fixed(new QCPAxisTickerFixed);
    fixed->setTickStep(1.0);
    fixed->setScaleStrategy(QCPAxisTickerFixed::ssNone);
    codeAxis->setTicker(fixed);
  } else {
    codeAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  }
  m_levelRect->axis(QCPAxis::atLeft)->setRange(0.0, levelMax * 1.8);  // headroom for the legend

  QString scaleText;
  if (singleScale && !w->scales.empty())
    scaleText = tr("scale %1 · zero_point %2").arg(realText(w->scales[size_t(ci)])).arg(w->zero_points[size_t(ci)]);
  else if (!w->scales.empty())
    scaleText = tr("per-channel scales %1 … %2")
                    .arg(realText(*std::min_element(w->scales.begin(), w->scales.end())),
                         realText(*std::max_element(w->scales.begin(), w->scales.end())));
  const qint64 total = std::max<qint64>(1, levels.total());
  const double satShare = double(levels.saturated_low + levels.saturated_high) / double(total);
  m_title->setText(tr("%1 · %2 %3%4\n%5 · %6\nSQNR %7 · %8 of %9 levels unused · %10% saturated")
                       .arg(id, QString::fromStdString(w->type), QString::fromStdString(shape_text(w->shape)),
                            oneChannel ? tr(" · channel %1").arg(m_channel) : QString(), gridText(w->grid), scaleText,
                            dbText(w->sqnr_db))
                       .arg(levels.unused_levels())
                       .arg(levels.counts.size())
                       .arg(satShare * 100.0, 0, 'f', 2));
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace qnn
