// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/plots/training_plot.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include <QLabel>
#include <QVBoxLayout>

#include "widgets/plots/plot_export.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {
namespace {

const QColor kTrainColor(31, 119, 180);  // blue: train
const QColor kTestColor(230, 120, 20);   // orange: test

enum class Series { Train, Test };

/// The one place the curves' pens are set. Current curves: solid blue train line
/// (1.5 px), orange test line (2 px) with circles. Stale curves (a model that is not
/// current) keep their hues, paler and dashed, so train and test stay apart in the
/// plot and in the legend.
void styleGraph(QCPGraph* g, Series series, bool stale) {
  QColor color = series == Series::Train ? kTrainColor : kTestColor;
  if (stale) color = color.lighter(150);
  QPen pen(color, series == Series::Train ? 1.5 : 2.0);
  if (stale) pen.setStyle(Qt::DashLine);
  g->setPen(pen);
  if (series == Series::Test)
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color, Qt::white, 7));
}

/// How many of `plot`'s data points, and points along the lines between them, fall in
/// `box` (pixels of the plot).
int pointsIn(const QCustomPlot* plot, const QRectF& box) {
  int n = 0;
  for (int i = 0; i < plot->graphCount(); ++i) {
    const QCPGraph* g = plot->graph(i);
    if (!g->visible()) continue;
    QPointF last;
    bool haveLast = false;
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
      if (qIsNaN(it->value)) {
        haveLast = false;  // a break in the line
        continue;
      }
      const QPointF p(g->keyAxis()->coordToPixel(it->key), g->valueAxis()->coordToPixel(it->value));
      if (box.contains(p)) ++n;
      if (haveLast)  // the line's course between two points
        for (int k = 1; k < 8; ++k)
          if (box.contains(last + (p - last) * (k / 8.0))) ++n;
      last = p;
      haveLast = true;
    }
  }
  return n;
}

/// Puts the legend in the corner of the axis rect where it covers the fewest data
/// points and lines (none when a corner is free), preferring `preferred`'s order on
/// ties. Run after each layout (new data, a resize): when the corner changes, the plot
/// is drawn again with the legend there.
void placeLegendByData(QCustomPlot* plot, const QList<Qt::Alignment>& preferred) {
  QCPAxisRect* rect = plot->axisRect();
  QCPLayoutInset* inset = rect->insetLayout();
  const QRect area = rect->rect();
  const QSize size = plot->legend->minimumOuterSizeHint();
  if (area.isEmpty() || size.isEmpty() || inset->elementCount() == 0) return;
  const int gap = 7;  // QCPLayoutInset's default margin from the axes
  Qt::Alignment best = inset->insetAlignment(0);
  int fewest = INT_MAX;
  for (Qt::Alignment a : preferred) {
    const int x = (a & Qt::AlignLeft) ? area.left() + gap : area.right() - gap - size.width();
    const int y = (a & Qt::AlignTop) ? area.top() + gap : area.bottom() - gap - size.height();
    const int n = pointsIn(plot, QRectF(x, y, size.width(), size.height()));
    if (n < fewest) {
      fewest = n;
      best = a;
    }
  }
  if (best != inset->insetAlignment(0)) {
    inset->setInsetAlignment(0, best);
    plot->replot(QCustomPlot::rpQueuedReplot);
  }
}

QCustomPlot* makePlot(QWidget* parent, const QString& title, const QString& yLabel) {
  auto* plot = new QCustomPlot(parent);
  plot->setMinimumSize(220, 150);
  plot->setAntialiasedElements(QCP::aePlottables);
  plot->plotLayout()->insertRow(0);
  auto* caption = new QCPTextElement(plot, title, QFont(plot->font().family(), 10, QFont::Bold));
  plot->plotLayout()->addElement(0, 0, caption);
  plot->xAxis->setLabel(QObject::tr("epoch"));
  plot->yAxis->setLabel(yLabel);
  plot->legend->setVisible(true);
  QFont legendFont = plot->font();
  legendFont.setPointSizeF(legendFont.pointSizeF() * 0.85);
  plot->legend->setFont(legendFont);
  plot->legend->setBrush(QColor(255, 255, 255, 210));
  plot->legend->setBorderPen(QPen(QColor(180, 180, 180)));
  plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  return plot;
}

QCPGraph* addTrainGraph(QCustomPlot* plot, const QString& name) {
  QCPGraph* g = plot->addGraph();
  g->setName(name);
  styleGraph(g, Series::Train, false);
  g->setAdaptiveSampling(true);
  return g;
}

QCPGraph* addTestGraph(QCustomPlot* plot, const QString& name) {
  QCPGraph* g = plot->addGraph();
  g->setName(name);
  styleGraph(g, Series::Test, false);
  return g;
}

}  // namespace

TrainingPlot::TrainingPlot(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);

  // The analysis views' stale look (analysis_view_base.cpp): a grey strip, bold white text.
  m_banner = new QLabel(this);
  m_banner->setObjectName(QStringLiteral("trainingPlotStaleBanner"));
  m_banner->setWordWrap(true);
  m_banner->setStyleSheet(QStringLiteral("QLabel { background: #6e6e6e; color: white; padding: 3px 6px; "
                                         "font-weight: bold; }"));
  m_banner->hide();
  layout->addWidget(m_banner);

  m_lossPlot = makePlot(this, tr("Loss"), tr("cross-entropy (nats)"));
  m_lossPlot->setObjectName(QStringLiteral("lossPlot"));
  m_trainLoss = addTrainGraph(m_lossPlot, tr("train (running mean)"));
  m_testLoss = addTestGraph(m_lossPlot, tr("test"));
  m_lossPlot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  // The legends go where they cover no points: a falling loss leaves the top right free,
  // a rising accuracy the bottom right; other corners when the data are elsewhere.
  connect(m_lossPlot, &QCustomPlot::afterLayout, this, [this] {
    placeLegendByData(m_lossPlot, {Qt::AlignTop | Qt::AlignRight, Qt::AlignBottom | Qt::AlignLeft,
                                   Qt::AlignBottom | Qt::AlignRight, Qt::AlignTop | Qt::AlignLeft});
  });

  m_accuracyPlot = makePlot(this, tr("Accuracy"), tr("accuracy"));
  m_accuracyPlot->setObjectName(QStringLiteral("accuracyPlot"));
  m_trainAccuracy = addTrainGraph(m_accuracyPlot, tr("train (running)"));
  m_testAccuracy = addTestGraph(m_accuracyPlot, tr("test"));
  m_accuracyPlot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
  connect(m_accuracyPlot, &QCustomPlot::afterLayout, this, [this] {
    placeLegendByData(m_accuracyPlot, {Qt::AlignBottom | Qt::AlignRight, Qt::AlignTop | Qt::AlignLeft,
                                       Qt::AlignTop | Qt::AlignRight, Qt::AlignBottom | Qt::AlignLeft});
  });

  layout->addWidget(m_lossPlot, 1);
  layout->addWidget(m_accuracyPlot, 1);
  installExportMenu(this, [] { return QStringLiteral("training_curves"); }, [this] { return csv(); });
  clear();
}

void TrainingPlot::clear(int epochs) {
  for (QCPGraph* g : {m_trainLoss, m_testLoss, m_trainAccuracy, m_testAccuracy}) g->data()->clear();
  m_maxX = std::max(1, epochs);
  m_maxLoss = 0.0;
  setStale(false);
  rescale();
}

void TrainingPlot::setStale(bool stale, const QString& reason) {
  const QString text = stale ? reason : QString();
  if (stale == m_stale && m_banner->text() == text) return;
  m_stale = stale;
  m_banner->setText(text);
  m_banner->setVisible(stale);
  applyPens();
  m_lossPlot->replot(QCustomPlot::rpQueuedReplot);
  m_accuracyPlot->replot(QCustomPlot::rpQueuedReplot);
}

QString TrainingPlot::staleReason() const { return m_stale ? m_banner->text() : QString(); }

void TrainingPlot::applyPens() {
  for (QCPGraph* g : {m_trainLoss, m_trainAccuracy}) styleGraph(g, Series::Train, m_stale);
  for (QCPGraph* g : {m_testLoss, m_testAccuracy}) styleGraph(g, Series::Test, m_stale);
}

void TrainingPlot::addTrainPoint(double epochPosition, double loss, double accuracy) {
  if (!std::isfinite(loss) || !std::isfinite(accuracy)) return;
  m_trainLoss->addData(epochPosition, loss);
  m_trainAccuracy->addData(epochPosition, accuracy);
  m_maxX = std::max(m_maxX, epochPosition);
  m_maxLoss = std::max(m_maxLoss, loss);
  rescale();
}

void TrainingPlot::addTestPoint(double epoch, double loss, double accuracy) {
  if (!std::isfinite(loss) || !std::isfinite(accuracy)) return;
  m_testLoss->addData(epoch, loss);
  m_testAccuracy->addData(epoch, accuracy);
  m_maxX = std::max(m_maxX, epoch);
  m_maxLoss = std::max(m_maxLoss, loss);
  rescale();
}

void TrainingPlot::addProgress(const TrainingProgressInfo& info) {
  using Phase = TrainingProgressInfo::Phase;
  if (info.phase == Phase::Training && info.batch > 0)
    addTrainPoint(info.epochPosition(), info.trainLoss, info.trainAccuracy);
  else if (info.phase == Phase::EpochDone) {
    // The epoch's final running train metrics (the last throttled report may be older).
    addTrainPoint(double(info.epoch), info.trainLoss, info.trainAccuracy);
    addTestPoint(double(info.epoch), info.testLoss, info.testAccuracy);
    // The running means restart with the next epoch: break the train line there.
    m_trainLoss->addData(double(info.epoch) + 1e-6, qQNaN());
    m_trainAccuracy->addData(double(info.epoch) + 1e-6, qQNaN());
  }
}

int TrainingPlot::trainPointCount() const {
  int n = 0;
  for (auto it = m_trainLoss->data()->constBegin(); it != m_trainLoss->data()->constEnd(); ++it)
    if (!qIsNaN(it->value)) ++n;
  return n;
}
int TrainingPlot::testPointCount() const { return m_testLoss->dataCount(); }

QString TrainingPlot::csv() const {
  QString out = QStringLiteral("series,epoch,loss,accuracy\n");
  auto rows = [&out](const char* series, QCPGraph* loss, QCPGraph* accuracy) {
    auto a = accuracy->data()->constBegin();
    for (auto l = loss->data()->constBegin(); l != loss->data()->constEnd(); ++l, ++a) {
      if (qIsNaN(l->value)) continue;  // the break between epochs
      out += QStringLiteral("%1,%2,%3,%4\n")
                 .arg(QLatin1String(series))
                 .arg(l->key, 0, 'g', 9)
                 .arg(l->value, 0, 'g', 9)
                 .arg(a->value, 0, 'g', 9);
    }
  };
  rows("train", m_trainLoss, m_trainAccuracy);
  rows("test", m_testLoss, m_testAccuracy);
  return out;
}

void TrainingPlot::rescale() {
  // x: the whole run; loss: from 0 to a little above the largest value seen;
  // accuracy: always [0, 1] so runs compare at a glance.
  for (QCustomPlot* p : {m_lossPlot, m_accuracyPlot}) p->xAxis->setRange(0.0, m_maxX * 1.02);
  m_lossPlot->yAxis->setRange(0.0, m_maxLoss > 0.0 ? m_maxLoss * 1.08 : 2.5);
  m_accuracyPlot->yAxis->setRange(0.0, 1.03);
  m_lossPlot->replot(QCustomPlot::rpQueuedReplot);
  m_accuracyPlot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace qnn
