// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/analysis/analysis_panel.h"

#include <cmath>
#include <limits>

#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QResizeEvent>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>

#include "widgets/analysis/analyzer_view.h"
#include "widgets/analysis/pareto_view.h"
#include "widgets/analysis/sweep_curves_view.h"
#include "widgets/analysis/sweep_heatmap_view.h"

namespace qnn {
namespace {

QDoubleSpinBox* limitBox(QWidget* parent, const char* name, double max, int decimals, const QString& suffix,
                         const QString& tip) {
  auto* box = new QDoubleSpinBox(parent);
  box->setObjectName(QLatin1String(name));
  box->setDecimals(decimals);
  box->setRange(0.0, max);
  box->setSpecialValueText(QObject::tr("no limit"));  // the minimum, 0
  box->setSuffix(suffix);
  box->setGroupSeparatorShown(decimals == 0);
  box->setToolTip(tip);
  box->setAccelerated(true);
  box->setMinimumWidth(110);
  return box;
}

}  // namespace

AnalysisPanel::AnalysisPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->setSpacing(4);
  m_status = new QLabel(tr("No analysis yet: Analysis > Sensitivity Sweep… (F8) measures each quantizer at each "
                           "bit width of the trained model."),
                        this);
  m_status->setObjectName(QStringLiteral("analysisStatus"));
  m_status->setWordWrap(true);
  m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(m_status);

  m_tabs = new QTabWidget(this);
  m_tabs->setObjectName(QStringLiteral("analysisTabs"));
  m_tabs->setDocumentMode(true);
  m_heatmap = new SweepHeatmapView(m_tabs);
  m_heatmap->setObjectName(QStringLiteral("sweepHeatmapView"));
  m_curves = new SweepCurvesView(m_tabs);
  m_curves->setObjectName(QStringLiteral("sweepCurvesView"));
  m_analyzer = new AnalyzerView(m_tabs);
  m_analyzer->setObjectName(QStringLiteral("analyzerView"));
  m_tabs->addTab(m_heatmap, tr("Sweep Heat Map"));
  m_tabs->addTab(m_curves, tr("Curves"));
  m_tabs->addTab(createParetoTab(), tr("Pareto Front"));
  m_tabs->addTab(m_analyzer, tr("Analyzer"));
  layout->addWidget(m_tabs, 1);
  setControlsEnabled(false, false, false);
}

namespace {

/// The Pareto tab's page: the plot with the controls beside it when the page is wide
/// (the dock at the bottom of the window), under it when it is narrow or tall.
class AdaptivePage : public QWidget {
 public:
  using QWidget::QWidget;
  QBoxLayout* box = nullptr;

 protected:
  void resizeEvent(QResizeEvent* event) override {
    QWidget::resizeEvent(event);
    // Side by side from 560 px (a bottom dock on a 1366-wide screen is ~690 px wide):
    // stacked, the controls took the plot's height (its axis title was cut) and raised
    // the page's minimum height, which resized the dock when the tab was opened.
    const bool wide = width() >= 560 && width() >= height();
    const auto direction = wide ? QBoxLayout::LeftToRight : QBoxLayout::TopToBottom;
    if (box && box->direction() != direction) box->setDirection(direction);
  }
};

}  // namespace

QWidget* AnalysisPanel::createParetoTab() {
  auto* page = new AdaptivePage(m_tabs);
  auto* layout = new QBoxLayout(QBoxLayout::LeftToRight, page);  // wide until resized narrow
  page->box = layout;
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(6);
  m_pareto = new ParetoView(page);
  m_pareto->setObjectName(QStringLiteral("paretoView"));
  layout->addWidget(m_pareto, 1);

  auto* side = new QWidget(page);
  side->setMaximumWidth(320);  // the plot gets the rest of a narrow bottom dock
  auto* column = new QVBoxLayout(side);
  column->setContentsMargins(0, 0, 0, 0);
  column->setSpacing(4);
  m_selection = new QLabel(tr("Click a point of the front, or set a budget and press Suggest."), side);
  m_selection->setObjectName(QStringLiteral("paretoSelectionLabel"));
  m_selection->setWordWrap(true);
  m_selection->setTextInteractionFlags(Qt::TextSelectableByMouse);
  column->addWidget(m_selection);

  // The budget: any of the three limits; Suggest picks the most accurate point that meets them.
  auto* budget = new QWidget(side);
  auto* grid = new QGridLayout(budget);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->setHorizontalSpacing(6);
  grid->setVerticalSpacing(2);
  m_maxBytes = limitBox(budget, "maxBytesBox", 1e12, 0, tr(" B"), tr("At most this model size in bytes"));
  m_maxBitOps = limitBox(budget, "maxBitOpsBox", 1e15, 0, tr(" BitOps"),
                         tr("At most this many BitOps per sample (MACs × weight bits × input bits)"));
  m_maxDrop = limitBox(budget, "maxDropBox", 100.0, 2, tr(" points"),
                       tr("At most this predicted accuracy drop below the sweep's base, in percentage points"));
  m_maxDrop->setSingleStep(0.5);
  // 0 points is a real limit ("no drop"): "no limit" is the box's minimum, -0.01.
  m_maxDrop->setMinimum(-0.01);
  m_maxDrop->setValue(-0.01);
  m_suggest = new QPushButton(tr("Suggest"), budget);
  m_suggest->setObjectName(QStringLiteral("suggestButton"));
  m_suggest->setToolTip(tr("Select the front point with the highest predicted accuracy that meets every limit"));
  grid->addWidget(new QLabel(tr("Max size:"), budget), 0, 0);
  grid->addWidget(m_maxBytes, 0, 1);
  grid->addWidget(new QLabel(tr("Max BitOps:"), budget), 1, 0);
  grid->addWidget(m_maxBitOps, 1, 1);
  grid->addWidget(new QLabel(tr("Max drop:"), budget), 2, 0);
  grid->addWidget(m_maxDrop, 2, 1);
  grid->addWidget(m_suggest, 2, 2);
  grid->setColumnStretch(1, 1);
  column->addWidget(budget);

  auto* actions = new QWidget(side);
  auto* row = new QHBoxLayout(actions);
  row->setContentsMargins(0, 0, 0, 0);
  m_apply = new QPushButton(tr("Apply"), actions);
  m_apply->setObjectName(QStringLiteral("applyButton"));
  m_apply->setToolTip(tr("Set these per-layer bit widths in the project (one undo step; the trained model no "
                         "longer fits and is discarded, Undo brings it back)"));
  m_epochs = new QSpinBox(actions);
  m_epochs->setObjectName(QStringLiteral("fineTuneEpochsBox"));
  m_epochs->setRange(1, 1000);
  m_epochs->setValue(2);
  m_epochs->setSuffix(tr(" epoch(s)"));
  m_fineTune = new QPushButton(tr("Fine-tune"), actions);
  m_fineTune->setObjectName(QStringLiteral("fineTuneButton"));
  m_fineTune->setToolTip(tr("Apply (when not applied yet), then train these bit widths from the current weights "
                            "for the given epochs (quantization-aware training) and measure the accuracy"));
  row->addWidget(m_apply);
  row->addSpacing(12);
  row->addWidget(m_fineTune);
  row->addWidget(m_epochs);
  row->addStretch(1);
  column->addWidget(actions);
  m_measured = new QLabel(side);
  m_measured->setObjectName(QStringLiteral("measuredLabel"));
  m_measured->setWordWrap(true);
  m_measured->setTextInteractionFlags(Qt::TextSelectableByMouse);
  column->addWidget(m_measured);
  column->addStretch(1);
  layout->addWidget(side);

  connect(m_suggest, &QPushButton::clicked, this, &AnalysisPanel::suggestRequested);
  connect(m_apply, &QPushButton::clicked, this, &AnalysisPanel::applyRequested);
  connect(m_fineTune, &QPushButton::clicked, this, [this] { Q_EMIT fineTuneRequested(m_epochs->value()); });
  return page;
}

void AnalysisPanel::showTab(Tab tab) { m_tabs->setCurrentIndex(int(tab)); }

void AnalysisPanel::setStatus(const QString& text, const QString& tooltip) {
  m_status->setText(text);
  m_status->setToolTip(tooltip);
}

QString AnalysisPanel::status() const { return m_status->text(); }

qint64 AnalysisPanel::maxBytes() const { return qint64(std::llround(m_maxBytes->value())); }

double AnalysisPanel::maxBitOps() const { return m_maxBitOps->value(); }

double AnalysisPanel::maxDrop() const {
  const double v = m_maxDrop->value();
  return v < 0.0 ? std::numeric_limits<double>::quiet_NaN() : v / 100.0;
}

void AnalysisPanel::setControlsEnabled(bool hasFront, bool hasSelection, bool busy) {
  m_suggest->setEnabled(hasFront);
  m_apply->setEnabled(hasFront && hasSelection && !busy);
  m_fineTune->setEnabled(hasFront && hasSelection && !busy);
}

}  // namespace qnn
