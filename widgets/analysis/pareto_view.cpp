// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/analysis/pareto_view.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>

#include "core/analysis/analysis.h"
#include "widgets/analysis/analysis_format.h"
#include "widgets/analysis/sweep_heatmap_view.h"
#include "widgets/plots/inspect_plot_style.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const QColor kFrontColor(31, 119, 180);
const QColor kMeasuredColor(44, 160, 44);
const QColor kSelectedColor(214, 39, 40);

}  // namespace

ParetoView::ParetoView(QWidget* parent) : AnalysisViewBase(QStringLiteral("pareto_front"), parent) {
  m_costBox = addCostAxisRow(tr("Cost:"));

  m_plot = createTitledPlot(260, 150, 9, m_title);
  m_plot->setAutoAddPlottableToLegend(false);
  m_plot->yAxis->setLabel(tr("predicted accuracy (%)"));
  styleLegend(m_plot->legend, font());
  m_plot->legend->setVisible(true);
  m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
  m_plot->setToolTip(tr("Each point: per-slot bit widths whose predicted accuracy (base − sum of the sweep's "
                        "per-slot drops) no cheaper configuration beats. Click a point to select it."));
  connect(m_costBox, &QComboBox::currentIndexChanged, this, [this] {
    rebuild();
    Q_EMIT costAxisChanged(costAxis());
  });
  connect(m_plot, &QCustomPlot::mousePress, this, [this](QMouseEvent* event) {
    if (event->button() != Qt::LeftButton || m_front.empty()) return;
    int best = -1;
    double bestDistance = 12.0;  // pixels
    for (int i = 0; i < pointCount(); ++i) {
      const QPointF p = pointPosition(i);
      const double dx = m_plot->xAxis->coordToPixel(p.x()) - event->pos().x();
      const double dy = m_plot->yAxis->coordToPixel(p.y()) - event->pos().y();
      const double d = std::hypot(dx, dy);
      if (d <= bestDistance) {
        bestDistance = d;
        best = i;
      }
    }
    if (best < 0) return;
    setSelected(best);
    Q_EMIT pointSelected(best);
  });
  contentLayout()->addWidget(m_plot, 1);
  addStalePlot(m_plot);
  installExport();
  rebuild();
}

ParetoView::~ParetoView() = default;

void ParetoView::setFront(const SweepRecord& record, const std::vector<analysis::MixedConfig>& front,
                          analysis::CostAxis axis) {
  m_record = record;
  m_front = front;
  m_measured.clear();
  m_selected = -1;
  const QSignalBlocker block(m_costBox);  // the host gave the front for this axis
  m_costBox->setCurrentIndex(std::max(0, m_costBox->findData(int(axis))));
  m_frontAxis = int(axis);
  rebuild();
}

void ParetoView::clear() {
  m_record = SweepRecord();
  m_front.clear();
  m_measured.clear();
  m_selected = -1;
  rebuild();
  setStale(false);
}

bool ParetoView::hasResult() const { return !m_front.empty(); }

void ParetoView::setSelected(int index) {
  m_selected = index >= 0 && index < pointCount() ? index : -1;
  rebuild();
}

void ParetoView::setMeasured(int index, double accuracy) {
  if (index < 0 || index >= pointCount()) return;
  if (std::isnan(accuracy))
    m_measured.erase(index);
  else
    m_measured[index] = accuracy;
  rebuild();
}

double ParetoView::measured(int index) const {
  const auto it = m_measured.find(index);
  return it == m_measured.end() ? kNaN : it->second;
}

void ParetoView::setCostAxis(analysis::CostAxis axis) {
  const int i = m_costBox->findData(int(axis));
  if (i >= 0) m_costBox->setCurrentIndex(i);
}

analysis::CostAxis ParetoView::costAxis() const { return analysis::CostAxis(m_costBox->currentData().toInt()); }

int ParetoView::pointCount() const { return int(m_front.size()); }

QPointF ParetoView::pointPosition(int index) const {
  if (index < 0 || index >= pointCount()) return QPointF(kNaN, kNaN);
  const analysis::MixedConfig& c = m_front[size_t(index)];
  const double x = costAxis() == analysis::CostAxis::SizeBytes ? double(c.size_bytes) : c.bitops;
  return QPointF(x, c.predicted_accuracy * 100.0);
}

QString ParetoView::describe(int index) const {
  if (index < 0 || index >= pointCount()) return QString();
  const analysis::MixedConfig& c = m_front[size_t(index)];
  QStringList slots;
  for (size_t s = 0; s < m_record.slots.size() && s < c.bits.size(); ++s)
    slots << QStringLiteral("%1 %2%3")
                 .arg(QString::fromStdString(m_record.slots[s].layer),
                      m_record.slots[s].kind == "act" ? QStringLiteral("A") : QStringLiteral("W"))
                 .arg(c.bits[s]);
  QString text = slots.join(QStringLiteral(" · ")) + QStringLiteral("  → ") +
                 analysis_format::percent(c.predicted_accuracy) + QStringLiteral(" · ") +
                 analysis_format::bytes(c.size_bytes) + QStringLiteral(" · ") + analysis_format::bitops(c.bitops);
  const double m = measured(index);
  if (!std::isnan(m)) text += tr(" · measured %1").arg(analysis_format::percent(m));
  return text;
}

QString ParetoView::csv() const {
  if (m_front.empty()) return QString();
  using analysis_format::csvNumber;
  QString out = QStringLiteral("index,size_bytes,bitops,predicted_accuracy,measured_accuracy");
  for (const SweepSlot& s : m_record.slots)
    out += QLatin1Char(',') + analysis_format::csvField(SweepHeatmapView::slotLabel(
                                  QString::fromStdString(s.layer), QString::fromStdString(s.kind)));
  out += QLatin1Char('\n');
  for (int i = 0; i < pointCount(); ++i) {
    const analysis::MixedConfig& c = m_front[size_t(i)];
    out += QStringLiteral("%1,%2,%3,%4,%5")
               .arg(i)
               .arg(c.size_bytes)
               .arg(csvNumber(c.bitops), csvNumber(c.predicted_accuracy), csvNumber(measured(i)));
    for (int b : c.bits) out += QLatin1Char(',') + QString::number(b);
    out += QLatin1Char('\n');
  }
  return out;
}

void ParetoView::staleChanged() { rebuild(); }

void ParetoView::rebuild() {
  m_plot->clearPlottables();
  m_plot->clearItems();
  m_line = nullptr;
  const bool size = costAxis() == analysis::CostAxis::SizeBytes;
  m_plot->xAxis->setLabel(size ? tr("model size (bytes)") : tr("BitOps per sample"));
  m_plot->xAxis->setNumberFormat(QStringLiteral("gb"));
  if (m_front.empty()) {
    m_title->setText(tr("No Pareto front yet: it needs a complete sweep\n(Analysis ▸ Sensitivity Sweep…, F8)"));
    m_plot->legend->setVisible(false);
    m_plot->xAxis->setRange(0, 1);
    m_plot->yAxis->setRange(0, 100);
    refreshVeil();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  // The front is non-dominated for the axis it was computed on; drawn against the
  // other cost its points are shown without the step line (the host recomputes).
  const bool frontAxis = m_frontAxis == int(costAxis());
  m_line = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
  m_line->setName(tr("Pareto front (%1 configurations)").arg(pointCount()));
  m_line->setPen(QPen(kFrontColor, 2));
  m_line->setLineStyle(frontAxis ? QCPGraph::lsStepLeft : QCPGraph::lsNone);
  m_line->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, kFrontColor, Qt::white, 6));
  m_line->addToLegend();
  double xMin = std::numeric_limits<double>::max(), xMax = 0.0, yMin = 100.0, yMax = 0.0;
  auto extend = [&](double x, double y) {
    if (!std::isfinite(x) || !std::isfinite(y)) return;
    xMin = std::min(xMin, x);
    xMax = std::max(xMax, x);
    yMin = std::min(yMin, y);
    yMax = std::max(yMax, y);
  };
  for (int i = 0; i < pointCount(); ++i) {
    const QPointF p = pointPosition(i);
    m_line->addData(p.x(), p.y());
    extend(p.x(), p.y());
  }
  // The base configuration (the project's bit widths).
  const double baseX = size ? double(m_record.base_size_bytes) : m_record.base_bitops;
  if (baseX > 0.0) {
    auto* base = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
    base->setName(tr("sweep base %1").arg(analysis_format::percent(m_record.base_accuracy)));
    base->setLineStyle(QCPGraph::lsNone);
    base->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, QColor(90, 90, 90), QColor(200, 200, 200), 9));
    base->addData(baseX, m_record.base_accuracy * 100.0);
    base->addToLegend();
    extend(baseX, m_record.base_accuracy * 100.0);
  }
  if (!m_measured.empty()) {
    auto* meas = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
    meas->setName(tr("measured (calibrated / fine-tuned)"));
    meas->setLineStyle(QCPGraph::lsNone);
    meas->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangle, kMeasuredColor, kMeasuredColor, 8));
    for (const auto& [i, acc] : m_measured) {
      const QPointF p = pointPosition(i);
      meas->addData(p.x(), acc * 100.0);
      extend(p.x(), acc * 100.0);
      auto* link = new QCPItemLine(m_plot);
      link->setSelectable(false);
      link->start->setCoords(p);
      link->end->setCoords(p.x(), acc * 100.0);
      link->setPen(QPen(kMeasuredColor, 1, Qt::DotLine));
    }
    meas->addToLegend();
  }
  if (m_selected >= 0) {
    const QPointF p = pointPosition(m_selected);
    auto* sel = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
    sel->setName(tr("selected"));
    sel->setLineStyle(QCPGraph::lsNone);
    sel->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, kSelectedColor, kSelectedColor, 11));
    sel->addData(p.x(), p.y());
    sel->addToLegend();
    auto* label = new QCPItemText(m_plot);
    label->setObjectName(QStringLiteral("selectedLabel"));
    label->setSelectable(false);
    label->position->setType(QCPItemPosition::ptAxisRectRatio);
    label->position->setCoords(0.02, 0.02);
    label->setPositionAlignment(Qt::AlignTop | Qt::AlignLeft);
    label->setTextAlignment(Qt::AlignLeft);
    label->setText(describe(m_selected));
    label->setColor(kSelectedColor.darker(140));
    label->setBrush(QColor(255, 255, 255, 215));
    label->setPadding(QMargins(3, 2, 3, 2));
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 0.85);
    label->setFont(f);
  }
  const double xPad = std::max(1.0, (xMax - xMin) * 0.06);
  const double yPad = std::max(0.5, (yMax - yMin) * 0.1);
  m_plot->xAxis->setRange(std::max(0.0, xMin - xPad), xMax + xPad);
  m_plot->yAxis->setRange(std::max(0.0, yMin - yPad), std::min(100.0, yMax + yPad * 2.5));  // room for the label
  m_plot->legend->setVisible(true);
  m_title->setText(stalePrefix() + tr("Mixed precision:\npredicted accuracy vs %1%2")
                                       .arg(size ? tr("model size") : tr("BitOps"),
                                            frontAxis ? QString() : tr("\n(front computed for the other cost)")));
  refreshVeil();
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace qnn
