// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/analysis/sweep_heatmap_view.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QMouseEvent>

#include "widgets/analysis/analysis_format.h"
#include "widgets/plots/inspect_plot_style.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QCPColorGradient dropGradient() {
  QCPColorGradient g;
  g.clearColorStops();
  g.setColorStopAt(0.0, QColor(255, 255, 255));
  g.setColorStopAt(0.25, QColor(255, 236, 160));
  g.setColorStopAt(0.6, QColor(245, 140, 60));
  g.setColorStopAt(1.0, QColor(165, 15, 21));
  g.setColorInterpolation(QCPColorGradient::ciRGB);
  g.setNanHandling(QCPColorGradient::nhTransparent);  // missing points: the hatch shows through
  return g;
}

}  // namespace

SweepHeatmapView::SweepHeatmapView(QWidget* parent) : AnalysisViewBase(QStringLiteral("sweep_heatmap"), parent) {
  m_plot = new QCustomPlot(this);
  m_plot->setObjectName(QStringLiteral("exportPlot"));
  m_plot->setMinimumSize(300, 200);
  m_plot->plotLayout()->insertRow(0);
  m_title = new QCPTextElement(m_plot, QString(), QFont(font().family(), 9, QFont::Bold));
  m_plot->plotLayout()->addElement(0, 0, m_title);
  m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
  m_map->setInterpolate(false);
  m_map->setTightBoundary(false);
  m_map->setGradient(dropGradient());
  m_scale = new QCPColorScale(m_plot);
  m_plot->plotLayout()->addElement(1, 1, m_scale);
  m_scale->setType(QCPAxis::atRight);
  m_scale->setBarWidth(10);
  m_scale->axis()->setLabel(tr("accuracy drop (points)"));
  m_map->setColorScale(m_scale);
  m_map->setGradient(dropGradient());
  auto* margins = new QCPMarginGroup(m_plot);
  m_plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
  m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
  m_plot->xAxis->setLabel(tr("bit_width"));
  m_plot->yAxis->setRangeReversed(true);  // the first slot on top
  m_plot->xAxis->grid()->setVisible(false);
  m_plot->yAxis->grid()->setVisible(false);
  m_plot->setToolTip(tr("Accuracy drop in points (base − point) when only this slot is set to this bit_width. "
                        "Hatched: not evaluated (partial sweep)."));
  connect(m_plot, &QCustomPlot::mousePress, this, [this](QMouseEvent* event) {
    if (!m_hasRecord || event->button() != Qt::LeftButton || m_bits.isEmpty()) return;
    const int bits = int(std::lround(m_plot->xAxis->pixelToCoord(event->pos().x())));
    const int row = int(std::lround(m_plot->yAxis->pixelToCoord(event->pos().y())));
    if (row < 0 || row >= m_rowLabels.size() || !m_bits.contains(bits)) return;
    if (!m_plot->axisRect()->rect().contains(event->pos())) return;
    const SweepSlot& s = m_record.slots[size_t(row)];
    Q_EMIT cellActivated(QString::fromStdString(s.layer), QString::fromStdString(s.kind), bits);
  });
  contentLayout()->addWidget(m_plot);
  addStalePlot(m_plot);
  installExport();
  rebuild();
}

void SweepHeatmapView::setRecord(const SweepRecord& record) {
  m_record = record;
  m_hasRecord = true;
  rebuild();
}

void SweepHeatmapView::clear() {
  m_record = SweepRecord();
  m_hasRecord = false;
  rebuild();
  setStale(false);
}

QString SweepHeatmapView::slotLabel(const QString& layer, const QString& kind) {
  return layer + (kind == QLatin1String("act") ? QStringLiteral(" A") : QStringLiteral(" W"));
}

double SweepHeatmapView::cellDrop(int row, int column) const {
  if (row < 0 || row >= m_drops.size() || column < 0 || column >= m_drops[row].size()) return kNaN;
  return m_drops[row][column];
}

QString SweepHeatmapView::cellText(int row, int column) const {
  const double d = cellDrop(row, column);
  if (std::isnan(d)) return QString();
  // -0.04 would read "-0.0": a drop that rounds to nothing is "0.0".
  return QString::number(std::abs(d) < 0.05 ? 0.0 : d, 'f', 1);
}

int SweepHeatmapView::missingCount() const {
  int n = 0;
  for (const QList<double>& row : m_drops)
    for (double d : row) n += std::isnan(d) ? 1 : 0;
  return n;
}

QString SweepHeatmapView::title() const { return m_title->text(); }

QString SweepHeatmapView::csv() const {
  if (!m_hasRecord) return QString();
  QString out = QStringLiteral("layer,kind,slot");
  for (int b : m_bits) out += QStringLiteral(",bits_%1").arg(b);
  out += QLatin1Char('\n');
  for (int r = 0; r < m_rowLabels.size(); ++r) {
    const SweepSlot& s = m_record.slots[size_t(r)];
    out += analysis_format::csvField(QString::fromStdString(s.layer)) + QLatin1Char(',') +
           QString::fromStdString(s.kind) + QLatin1Char(',') + analysis_format::csvField(m_rowLabels[r]);
    for (int c = 0; c < m_bits.size(); ++c) out += QLatin1Char(',') + analysis_format::csvNumber(m_drops[r][c]);
    out += QLatin1Char('\n');
  }
  return out;
}

void SweepHeatmapView::staleChanged() { rebuild(); }

void SweepHeatmapView::rebuild() {
  m_rowLabels.clear();
  m_bits.clear();
  m_drops.clear();
  m_plot->clearItems();
  m_map->data()->clear();
  if (!m_hasRecord || m_record.slots.empty() || m_record.max_bits < m_record.min_bits) {
    m_title->setText(m_hasRecord ? tr("The sweep has no slots") : tr("No sweep yet: Analysis ▸ Sensitivity Sweep…"));
    m_map->data()->setSize(0, 0);
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    m_plot->rescaleAxes();
    refreshVeil();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const SweepRecord& r = m_record;
  for (int b = r.min_bits; b <= r.max_bits; ++b) m_bits << b;
  const int nx = int(m_bits.size()), ny = int(r.slots.size());
  QSharedPointer<QCPAxisTickerText> rows(new QCPAxisTickerText);
  for (int i = 0; i < ny; ++i) {
    const SweepSlot& s = r.slots[size_t(i)];
    m_rowLabels << slotLabel(QString::fromStdString(s.layer), QString::fromStdString(s.kind));
    rows->addTick(i, m_rowLabels.back());
    m_drops << QList<double>(nx, kNaN);
  }
  int evaluated = 0;
  for (const SweepPoint& p : r.points) {
    const int c = p.bits - r.min_bits;
    if (c < 0 || c >= nx || !std::isfinite(p.accuracy)) continue;  // NaN never shown as a value
    for (int i = 0; i < ny; ++i)
      if (r.slots[size_t(i)].layer == p.layer && r.slots[size_t(i)].kind == p.kind) {
        if (std::isnan(m_drops[i][c])) ++evaluated;
        m_drops[i][c] = (r.base_accuracy - p.accuracy) * 100.0;
      }
  }
  double maxDrop = 1.0;  // at least one point of colour range: tiny drops stay pale
  m_map->data()->setSize(nx, ny);
  m_map->data()->setRange(QCPRange(m_bits.first(), m_bits.last()), QCPRange(0, ny - 1));
  for (int i = 0; i < ny; ++i)
    for (int c = 0; c < nx; ++c) {
      const double d = m_drops[i][c];
      if (!std::isnan(d)) maxDrop = std::max(maxDrop, d);
      m_map->data()->setCell(c, i, std::isnan(d) ? kNaN : std::max(0.0, d));
    }
  m_map->setDataRange(QCPRange(0.0, maxDrop));
  // Single-cell maps need an explicit extent: setRange with equal bounds is a point.
  if (nx == 1) m_map->data()->setKeyRange(QCPRange(m_bits.first() - 0.5, m_bits.first() + 0.5));
  if (ny == 1) m_map->data()->setValueRange(QCPRange(-0.5, 0.5));

  QFont cellFont = font();
  cellFont.setPointSizeF(std::max(6.5, cellFont.pointSizeF() * (nx > 10 || ny > 14 ? 0.75 : 1.0)));
  for (int i = 0; i < ny; ++i)
    for (int c = 0; c < nx; ++c) {
      const double d = m_drops[i][c];
      if (std::isnan(d)) {
        auto* hatch = new QCPItemRect(m_plot);
        hatch->setObjectName(QStringLiteral("missingCell"));
        hatch->setSelectable(false);
        hatch->topLeft->setCoords(m_bits[c] - 0.5, i - 0.5);
        hatch->bottomRight->setCoords(m_bits[c] + 0.5, i + 0.5);
        hatch->setPen(QPen(QColor(190, 190, 190)));
        hatch->setBrush(QBrush(QColor(150, 150, 150), Qt::BDiagPattern));
        continue;
      }
      auto* text = new QCPItemText(m_plot);
      text->setSelectable(false);
      text->position->setCoords(m_bits[c], i);
      text->setText(cellText(i, c));
      text->setFont(cellFont);
      text->setColor(std::max(0.0, d) > 0.6 * maxDrop ? Qt::white : Qt::black);
    }
  m_plot->yAxis->setTicker(rows);
  QSharedPointer<QCPAxisTickerFixed> bitsTicker(new QCPAxisTickerFixed);
  bitsTicker->setTickStep(1.0);
  bitsTicker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  m_plot->xAxis->setTicker(bitsTicker);
  m_plot->xAxis->setRange(m_bits.first() - 0.5, m_bits.last() + 0.5);
  m_plot->yAxis->setRange(-0.5, ny - 0.5);
  m_plot->xAxis->setSubTicks(false);
  m_plot->yAxis->setSubTicks(false);
  m_plot->yAxis->setTickLength(0, 0);
  m_plot->xAxis->setTickLength(0, 0);

  const int total = nx * ny;
  QString title = stalePrefix() + tr("Sweep of %1 · base %2 · %3 images")
                                      .arg(QString::fromStdString(r.what), analysis_format::percent(r.base_accuracy),
                                           r.holdout > 0 ? QString::number(r.holdout) : tr("all test"));
  if (!r.complete || evaluated < total) title += QLatin1Char('\n') + tr("partial: %1 of %2 points").arg(evaluated).arg(total);
  m_title->setText(title);
  refreshVeil();
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace qnn
