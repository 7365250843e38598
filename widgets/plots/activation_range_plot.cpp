// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/plots/activation_range_plot.h"

#include <algorithm>
#include <cmath>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "core/inspect/inspect.h"
#include "widgets/plots/inspect_plot_style.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {
namespace {

/// The entry of `layer`'s `quantizer`, else the layer's first entry.
const inspect::ActivationStats* findActivation(const inspect::Report& r, const QString& layer,
                                               const QString& quantizer = QString()) {
  const inspect::ActivationStats* first = nullptr;
  for (const inspect::ActivationStats& a : r.activations)
    if (QString::fromStdString(a.layer) == layer) {
      if (QString::fromStdString(a.quantizer) == quantizer) return &a;
      if (!first) first = &a;
    }
  return first;
}

/// The layer whose activation quantizer the plot shows for the selection `selected`:
/// `selected` itself when it has one; else the first activation quantizer after it in
/// execution order (the one that quantizes its output on the way on), else the last
/// before it (the output layer); when `selected` is not in the report (none selected),
/// `previous` while the report has it, else the first. "" when the report has none.
QString activationLayerFor(const inspect::Report& r, const QString& selected, const QString& previous) {
  if (r.activations.empty()) return QString();
  if (findActivation(r, selected)) return selected;
  int at = -1;
  for (size_t i = 0; i < r.errors.size(); ++i)
    if (QString::fromStdString(r.errors[i].layer) == selected) at = int(i);
  if (at < 0) return findActivation(r, previous) ? previous : QString::fromStdString(r.activations.front().layer);
  for (size_t i = size_t(at) + 1; i < r.errors.size(); ++i)
    if (const auto* a = findActivation(r, QString::fromStdString(r.errors[i].layer)))
      return QString::fromStdString(a->layer);
  for (int i = at - 1; i >= 0; --i)
    if (const auto* a = findActivation(r, QString::fromStdString(r.errors[size_t(i)].layer)))
      return QString::fromStdString(a->layer);
  return QString::fromStdString(r.activations.front().layer);
}

}  // namespace

ActivationRangePlot::ActivationRangePlot(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* row = new QHBoxLayout;
  row->setContentsMargins(6, 2, 6, 0);
  m_quantizerLabel = new QLabel(tr("Quantizer:"), this);
  m_quantizerCombo = new QComboBox(this);
  m_quantizerCombo->setObjectName(QStringLiteral("quantizerCombo"));
  m_quantizerCombo->addItem(tr("input_quant (both inputs)"), QStringLiteral("input"));
  m_quantizerCombo->addItem(tr("output quantizer (the sum)"), QStringLiteral("act"));
  row->addWidget(m_quantizerLabel);
  row->addWidget(m_quantizerCombo);
  row->addStretch(1);
  layout->addLayout(row);
  connect(m_quantizerCombo, qOverload<int>(&QComboBox::activated), this,
          [this](int i) { setQuantizer(m_quantizerCombo->itemData(i).toString()); });
  m_plot = new QCustomPlot(this);
  m_plot->setObjectName(QStringLiteral("exportPlot"));
  m_plot->setMinimumSize(320, 220);
  m_plot->setAutoAddPlottableToLegend(false);
  m_plot->plotLayout()->insertRow(0);
  m_title = new QCPTextElement(m_plot, QString(), QFont(font().family(), 9, QFont::Bold));
  m_plot->plotLayout()->addElement(0, 0, m_title);
  m_plot->xAxis->setLabel(tr("quantizer input (real units)"));
  m_plot->yAxis->setLabel(tr("count on the calibration batch"));
  m_inside = new QCPBars(m_plot->xAxis, m_plot->yAxis);
  m_inside->setName(tr("rounds onto a level (in the band or across its edge)"));
  styleBars(m_inside, kFloatColor);
  m_outside = new QCPBars(m_plot->xAxis, m_plot->yAxis);
  m_outside->setName(tr("clipped (wholly beyond the band)"));
  styleBars(m_outside, kSaturatedColor);
  // Legend entries of the band and the lines (items have none): empty graphs drawn
  // with the same brush and pen.
  m_bandKey = m_plot->addGraph();
  m_bandKey->setName(tr("band [min − scale/2, max + scale/2]"));
  m_bandKey->setPen(Qt::NoPen);
  m_bandKey->setBrush(QColor(kRangeColor.red(), kRangeColor.green(), kRangeColor.blue(), 40));
  m_linesKey = m_plot->addGraph();
  m_linesKey->setName(tr("representable min, max (end levels)"));
  m_linesKey->setPen(QPen(kRangeColor.darker(120), 2, Qt::DashLine));
  m_inside->addToLegend();
  m_outside->addToLegend();
  m_bandKey->addToLegend();
  m_linesKey->addToLegend();
  styleLegend(m_plot->legend, font());
  m_plot->legend->setVisible(true);
  // The legend (four entries) sits in a row between the title and the chart, two
  // entries a row, not over the bars and the range label.
  m_plot->axisRect()->insetLayout()->take(m_plot->legend);
  m_plot->plotLayout()->insertRow(1);
  m_plot->plotLayout()->addElement(1, 0, m_plot->legend);
  m_plot->plotLayout()->setRowStretchFactor(1, 0.001);
  m_plot->legend->setBorderPen(Qt::NoPen);
  m_plot->legend->setBrush(Qt::NoBrush);
  m_plot->legend->setWrap(2);
  m_plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);  // rearranges with the wrap
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  // The shaded range sits behind the bars.
  m_plot->addLayer(QStringLiteral("band"), m_plot->layer(QStringLiteral("grid")), QCustomPlot::limAbove);
  layout->addWidget(m_plot);
  refresh();
}

void ActivationRangePlot::setReport(const InspectionReportPtr& report, const QString& layer) {
  m_report = report;
  m_selected = layer;  // "" (nothing selected): no "selected" line, never an old selection
  if (m_report) m_layer = activationLayerFor(*m_report, layer, m_layer);
  refresh();
}

void ActivationRangePlot::setQuantizer(const QString& quantizer) {
  m_quantizer = quantizer;
  refresh();
}

QString ActivationRangePlot::title() const { return m_title->text(); }
int ActivationRangePlot::binsInside() const { return m_inside->dataCount(); }
int ActivationRangePlot::binsOutside() const { return m_outside->dataCount(); }

QString ActivationRangePlot::csv() const {
  if (!m_report || m_layer.isEmpty()) return QString();
  const inspect::ActivationStats* a = findActivation(*m_report, m_layer, m_quantizer);
  const QString key = a && a->quantizer == "input" ? m_layer + QStringLiteral(".input_quant") : m_layer;
  return filterCsvRows(QString::fromStdString(inspect::table_csv(*m_report, "activation_histogram")), key);
}

void ActivationRangePlot::refresh() {
  m_inside->data()->clear();
  m_outside->data()->clear();
  m_plot->clearItems();
  m_rangeLo = m_rangeHi = m_bandLo = m_bandHi = 0.0;
  const inspect::ActivationStats* a = m_report ? findActivation(*m_report, m_layer, m_quantizer) : nullptr;
  int entries = 0;
  if (m_report)
    for (const auto& e : m_report->activations) entries += QString::fromStdString(e.layer) == m_layer ? 1 : 0;
  m_quantizerCombo->setVisible(entries > 1);
  m_quantizerLabel->setVisible(entries > 1);
  if (a) {
    m_quantizer = QString::fromStdString(a->quantizer);
    m_quantizerCombo->setCurrentIndex(std::max(0, m_quantizerCombo->findData(m_quantizer)));
  }
  if (!a) {
    m_title->setText(!m_report ? tr("Activations: train the model to see the activation ranges")
                               : tr("This network has no activation quantizer"));
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  m_rangeLo = a->range_lo;
  m_rangeHi = a->range_hi;
  // Inputs within half a step of an end still round onto the end level: the clipped
  // ones lie beyond this band (as the clipped share counts them), and it is what is shaded.
  m_bandLo = a->range_lo - 0.5 * a->scale;
  m_bandHi = a->range_hi + 0.5 * a->scale;
  const inspect::Histogram& h = a->input_histogram;
  const double bw = h.counts.empty() || h.hi <= h.lo ? 1.0 : (h.hi - h.lo) / double(h.counts.size());
  m_inside->setWidth(bw);
  m_outside->setWidth(bw);
  std::vector<double> sorted;
  size_t peakBin = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    const double lo = h.lo + double(i) * bw, hi = lo + bw, centre = lo + 0.5 * bw;
    const double count = double(h.counts[i]);
    // Red when the whole bin lies beyond the shaded band.
    const bool outside = hi <= m_bandLo || lo >= m_bandHi;
    (outside ? m_outside : m_inside)->addData(centre, count);
    sorted.push_back(count);
    if (h.counts[i] > h.counts[peakBin]) peakBin = i;
  }
  std::sort(sorted.begin(), sorted.end(), std::greater<double>());
  double ymax = sorted.empty() ? 1.0 : std::max(1.0, sorted[0]);
  if (sorted.size() > 1 && sorted[1] > 0 && sorted[0] > 3.0 * sorted[1]) {
    // One bin dwarfs the rest: cut the axis and write its count on top.
    ymax = sorted[1] * 1.6;
    auto* label = new QCPItemText(m_plot);
    label->position->setCoords(h.lo + (double(peakBin) + 0.5) * bw, ymax);
    label->setPositionAlignment(Qt::AlignTop | Qt::AlignHCenter);
    label->setText(tr("▲ %1").arg(qint64(sorted[0])));
    label->setColor(QColor(60, 60, 60));
    label->setClipToAxisRect(true);
  }
  m_plot->yAxis->setRange(0.0, ymax * 1.05);
  const double xlo = std::min(h.lo, m_bandLo), xhi = std::max(h.hi, m_bandHi);
  const double pad = std::max(1e-9, (xhi - xlo) * 0.04);
  m_plot->xAxis->setRange(xlo - pad, xhi + pad);

  auto* band = new QCPItemRect(m_plot);
  band->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
  band->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
  band->topLeft->setCoords(m_bandLo, 0.0);
  band->bottomRight->setCoords(m_bandHi, 1.0);
  band->setPen(Qt::NoPen);
  band->setBrush(m_bandKey->brush());
  band->setClipToAxisRect(true);
  band->setLayer(QStringLiteral("band"));
  addVerticalLine(m_plot, m_plot->axisRect(), a->range_lo, QPen(kRangeColor.darker(120), 2, Qt::DashLine));
  addVerticalLine(m_plot, m_plot->axisRect(), a->range_hi, QPen(kRangeColor.darker(120), 2, Qt::DashLine));
  auto* rangeLabel = new QCPItemText(m_plot);
  rangeLabel->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
  rangeLabel->position->setCoords(0.5 * (a->range_lo + a->range_hi), 0.02);
  rangeLabel->setPositionAlignment(Qt::AlignTop | Qt::AlignHCenter);
  rangeLabel->setText(tr("representable [%1, %2]\nclipped beyond [%3, %4]")
                          .arg(realText(a->range_lo), realText(a->range_hi), realText(m_bandLo), realText(m_bandHi)));
  rangeLabel->setColor(kRangeColor.darker(150));
  rangeLabel->setClipToAxisRect(true);

  const QString who = a->quantizer == "input" ? m_layer + QStringLiteral(".input_quant") : m_layer;
  // Another layer selected (one without an activation quantizer): say whose input this
  // is and which layer is selected.
  QString shownFor;
  if (!m_selected.isEmpty() && m_selected != m_layer) {
    const QString quantizer = QString::fromStdString(a->type) +
                              (a->quantizer == "input" ? QStringLiteral(" input_quant") : QString());
    shownFor = tr("Activations: input of %1 %2 (selected: %3)\n").arg(quantizer, m_layer, m_selected);
  }
  m_title->setText(shownFor + tr("%1 · %2 · %3-bit %4%5 · scale %6%7 · zero_point %8\n"
                      "input [%9, %10] · representable [%11, %12]\nclipped %13% · SQNR %14")
                       .arg(who, QString::fromStdString(a->type))
                       .arg(a->grid.bit_width)
                       .arg(a->grid.is_signed ? tr("signed") : tr("unsigned"),
                            a->grid.narrow_range ? tr(" narrow") : QString(), realText(a->scale),
                            a->learned_phase ? tr(" (learned)") : tr(" (statistics)"))
                       .arg(a->zero_point)
                       .arg(realText(a->input_min), realText(a->input_max), realText(a->range_lo),
                            realText(a->range_hi))
                       .arg(a->clipped_share * 100.0, 0, 'f', 3)
                       .arg(dbText(a->sqnr_db)));
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace qnn
