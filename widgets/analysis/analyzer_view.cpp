// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/analysis/analyzer_view.h"

#include <algorithm>
#include <cmath>

#include <QEvent>
#include <QFontMetrics>
#include <QHeaderView>
#include <QLabel>
#include <QMouseEvent>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>

#include "core/analysis/analysis.h"
#include "widgets/analysis/analysis_format.h"
#include "widgets/plots/inspect_plot_style.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {
namespace {

constexpr int kSortRole = Qt::UserRole + 1;
const QColor kKeepRow(255, 214, 214);

/// Numbers sort by value; NaN after every number.
class NumericProxy : public QSortFilterProxyModel {
 public:
  using QSortFilterProxyModel::QSortFilterProxyModel;

 protected:
  bool lessThan(const QModelIndex& a, const QModelIndex& b) const override {
    const QVariant va = a.data(kSortRole), vb = b.data(kSortRole);
    if (va.typeId() != QMetaType::Double || vb.typeId() != QMetaType::Double)
      return QSortFilterProxyModel::lessThan(a, b);
    const double x = va.toDouble(), y = vb.toDouble();
    if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
    return x < y;
  }
};

QStandardItem* textItem(const QString& text) {
  auto* item = new QStandardItem(text);
  item->setData(text, kSortRole);
  item->setEditable(false);
  return item;
}

QStandardItem* numberItem(double v, const QString& text) {
  auto* item = new QStandardItem(text);
  item->setData(v, kSortRole);
  item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  item->setEditable(false);
  return item;
}

QString dbText(double v) {
  if (std::isnan(v)) return QStringLiteral("—");
  if (std::isinf(v)) return v > 0 ? QStringLiteral("∞") : QStringLiteral("−∞");
  return QString::number(v, 'f', 1);
}

QString pointsText(double fractionDiff) {
  if (std::isnan(fractionDiff)) return QStringLiteral("—");
  const double p = fractionDiff * 100.0;
  return (p > 0.0 ? QStringLiteral("+") : QString()) + QString::number(std::abs(p) < 0.005 ? 0.0 : p, 'f', 2);
}

}  // namespace

AnalyzerView::AnalyzerView(QWidget* parent) : AnalysisViewBase(QStringLiteral("analyzer"), parent) {
  m_headline = new QLabel(this);
  m_headline->setObjectName(QStringLiteral("analyzerHeadline"));
  m_headline->setWordWrap(true);
  QFont bold = font();
  bold.setBold(true);
  m_headline->setFont(bold);
  m_keep = new QLabel(this);
  m_keep->setObjectName(QStringLiteral("analyzerKeep"));
  m_keep->setWordWrap(true);
  for (QLabel* l : {m_headline, m_keep}) l->setContentsMargins(4, 0, 4, 0);
  contentLayout()->addWidget(m_headline);
  contentLayout()->addWidget(m_keep);

  // Side by side: docked at the bottom of a 1366 x 768 screen the view is wide and low.
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  m_model = new QStandardItemModel(0, ColumnCount, this);
  // Short headers (their tooltips say it all): six columns fit half of a 1366-wide dock.
  m_model->setHorizontalHeaderLabels(
      {tr("layer"), tr("type"), tr("only"), tr("all but"), tr("gain"), tr("SQNR")});
  const QStringList headerTips{tr("layer id"), tr("layer type"),
                               tr("accuracy with only this layer's quantizers on (%)"),
                               tr("accuracy with every quantizer on except this layer's (%)"),
                               tr("gain (points) = all but this − quantized: what keeping this layer at higher "
                                  "precision gives back"),
                               tr("output SQNR (dB): this layer's output, quantized network vs float")};
  for (int c = 0; c < headerTips.size(); ++c)
    m_model->setHeaderData(c, Qt::Horizontal, headerTips[c], Qt::ToolTipRole);
  m_proxy = new NumericProxy(this);
  m_proxy->setSourceModel(m_model);
  m_proxy->setSortRole(kSortRole);
  m_table = new QTableView(splitter);
  m_table->setObjectName(QStringLiteral("analyzerTable"));
  m_table->setModel(m_proxy);
  m_table->setSortingEnabled(true);
  m_table->sortByColumn(-1, Qt::AscendingOrder);  // execution order until a header is clicked
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::SingleSelection);
  m_table->verticalHeader()->setVisible(false);
  m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
  m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  m_table->horizontalHeader()->setStretchLastSection(false);  // every column at its contents: six fit a narrow dock
  m_table->setToolTip(tr("only this: accuracy with only this layer's quantizers on; all but this: every quantizer on "
                         "except this layer's; gain = all but this − quantized: what keeping this layer at higher "
                         "precision gives back; output SQNR: this layer's output, quantized network vs float."));
  connect(m_table, &QTableView::clicked, this, [this](const QModelIndex& index) {
    Q_EMIT layerActivated(m_proxy->index(index.row(), Layer).data().toString());
  });

  m_plot = new QCustomPlot(splitter);
  m_plot->setObjectName(QStringLiteral("exportPlot"));
  m_plot->setMinimumSize(200, 160);
  m_plot->setAutoAddPlottableToLegend(false);
  m_plot->plotLayout()->insertRow(0);
  m_title = new QCPTextElement(m_plot, QString(), QFont(font().family(), 8, QFont::Bold));
  m_plot->plotLayout()->addElement(0, 0, m_title);
  m_plot->yAxis->setLabel(tr("gain (points)"));
  m_bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
  m_bars->setName(tr("gain"));
  styleBars(m_bars, kFloatColor);
  m_keepBars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
  m_keepBars->setName(tr("keep (> 0.5)"));
  styleBars(m_keepBars, kSaturatedColor);
  for (QCPBars* b : {m_bars, m_keepBars}) {
    b->setWidth(0.6);
    b->addToLegend();
  }
  styleLegend(m_plot->legend, font());
  m_plot->legend->setVisible(true);
  // The legend in a row of its own under the title: inside the axes it covered bars.
  m_plot->axisRect()->insetLayout()->take(m_plot->legend);
  m_plot->plotLayout()->insertRow(1);
  m_plot->plotLayout()->addElement(1, 0, m_plot->legend);
  m_plot->plotLayout()->setRowStretchFactor(1, 0.001);
  m_plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  m_plot->legend->setBorderPen(Qt::NoPen);
  m_plot->legend->setBrush(Qt::NoBrush);
  connect(m_plot, &QCustomPlot::plottableClick, this, [this](QCPAbstractPlottable* p, int index, QMouseEvent* event) {
    auto* bars = qobject_cast<QCPBars*>(p);
    if (!bars || (event && event->button() != Qt::LeftButton)) return;
    const int i = int(std::lround(bars->data()->at(index)->key));
    if (i >= 0 && i < m_barLayers.size()) Q_EMIT layerActivated(m_barLayers[i]);
  });
  m_plot->installEventFilter(this);  // re-wraps the title on resize
  splitter->addWidget(m_table);
  splitter->addWidget(m_plot);
  // The table's six columns need more room than the bars.
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({640, 320});
  contentLayout()->addWidget(splitter, 1);
  addStalePlot(m_plot);
  installExport();
  rebuild();
}

void AnalyzerView::setReport(const AnalyzerReportPtr& report) {
  m_report = report;
  rebuild();
}

void AnalyzerView::setReport(const analysis::AnalyzerReport& report) {
  setReport(std::make_shared<const analysis::AnalyzerReport>(report));
}

void AnalyzerView::clear() {
  m_report.reset();
  rebuild();
  setStale(false);
}

QString AnalyzerView::csv() const {
  return m_report ? QString::fromStdString(analysis::analyzer_csv(*m_report)) : QString();
}

QString AnalyzerView::headline() const { return m_headline->text(); }
QString AnalyzerView::keepText() const { return m_keep->text(); }

QStringList AnalyzerView::rowLayers() const {
  QStringList out;
  for (int r = 0; r < m_proxy->rowCount(); ++r) out << m_proxy->index(r, Layer).data().toString();
  return out;
}

QList<double> AnalyzerView::barGains() const {
  QList<double> out(m_barLayers.size(), std::numeric_limits<double>::quiet_NaN());
  for (QCPBars* b : {m_bars, m_keepBars})
    for (auto it = b->data()->constBegin(); it != b->data()->constEnd(); ++it) {
      const int i = int(std::lround(it->key));
      if (i >= 0 && i < out.size()) out[i] = it->value;
    }
  return out;
}

void AnalyzerView::staleChanged() { rebuild(); }

bool AnalyzerView::eventFilter(QObject* watched, QEvent* event) {
  if (watched == m_plot && event->type() == QEvent::Resize) layoutTitle();
  return AnalysisViewBase::eventFilter(watched, event);
}

void AnalyzerView::layoutTitle() {
  const QFontMetrics fm(m_title->font());
  const int width = std::max(120, m_plot->width() - 30);
  QStringList out;
  for (const QString& line : m_titleLines) {
    // Pieces ending with their separator, so a broken line keeps it at its end.
    QStringList pieces;
    int start = 0;
    for (int i = 0; i < line.size(); ++i) {
      const bool dot = line.mid(i, 3) == QStringLiteral(" · ");
      const bool comma = line.mid(i, 2) == QStringLiteral(", ") || line.mid(i, 2) == QStringLiteral(": ");
      if (!dot && !comma) continue;
      const int end = i + (dot ? 3 : 2);
      pieces << line.mid(start, end - start);
      start = end;
      i = end - 1;
    }
    pieces << line.mid(start);
    QString current;
    for (const QString& piece : pieces) {
      if (!current.isEmpty() && fm.horizontalAdvance(current + piece.trimmed()) > width) {
        out << current.trimmed();
        current.clear();
      }
      current += piece;
    }
    if (!current.trimmed().isEmpty()) out << current.trimmed();
  }
  const QString text = out.join(QLatin1Char('\n'));
  if (m_title->text() == text) return;
  m_title->setText(text);
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void AnalyzerView::rebuild() {
  using analysis_format::percent;
  m_model->removeRows(0, m_model->rowCount());
  m_bars->data()->clear();
  m_keepBars->data()->clear();
  m_barLayers.clear();
  m_plot->clearItems();
  // With a report its summary is the plot's title (exports carry it) and the status
  // bar's line: the labels above keep the text (headline(), keepText()) but are hidden.
  m_headline->setVisible(!m_report);
  m_keep->setVisible(!m_report);
  if (!m_report) {
    m_headline->setText(tr("No analysis yet: Analysis ▸ Analyze (F7) (needs a trained model)"));
    m_keep->clear();
    m_titleLines.clear();
    layoutTitle();
    m_plot->xAxis->setRange(0, 1);
    m_plot->yAxis->setRange(0, 1);
    refreshVeil();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const analysis::AnalyzerReport& r = *m_report;
  m_headline->setText(stalePrefix() + tr("float %1 · weights only %2 · activations only %3 · quantized %4")
                                          .arg(percent(r.float_accuracy), percent(r.weights_only_accuracy),
                                               percent(r.activations_only_accuracy), percent(r.quantized_accuracy)) +
                      tr("  (%1 held-out images%2)").arg(r.samples).arg(r.cancelled ? tr(", partial: cancelled") : QString()));
  QStringList keep;
  for (const std::string& k : r.keep_higher) keep << QString::fromStdString(k);
  m_keep->setText(keep.isEmpty() ? tr("no layer costs more than 0.5 points: every layer can stay at its bit_width")
                                 : tr("keep at higher precision: %1").arg(keep.join(QStringLiteral(", "))));

  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  double lo = 0.0, hi = 0.0;
  for (const analysis::LayerSensitivity& l : r.layers) {
    const QString id = QString::fromStdString(l.layer);
    const double gain = l.gain();
    const bool kept = keep.contains(id);
    // "Conv2d" for QuantConv2d (narrower; the tooltip has the full type).
    const QString type = QString::fromStdString(l.type);
    QStandardItem* typeItem = textItem(type.startsWith(QStringLiteral("Quant")) && type.size() > 5 ? type.mid(5) : type);
    typeItem->setToolTip(type);
    QList<QStandardItem*> row{textItem(id),
                              typeItem,
                              numberItem(l.only_this_accuracy, QString::number(l.only_this_accuracy * 100.0, 'f', 2)),
                              numberItem(l.all_but_this_accuracy, QString::number(l.all_but_this_accuracy * 100.0, 'f', 2)),
                              numberItem(gain * 100.0, pointsText(gain)),
                              numberItem(l.output_sqnr_db, dbText(l.output_sqnr_db))};
    if (kept)
      for (QStandardItem* item : row) item->setBackground(kKeepRow);
    m_model->appendRow(row);
    const int i = int(m_barLayers.size());
    m_barLayers << id;
    ticker->addTick(i, id);
    if (std::isfinite(gain)) {
      (kept ? m_keepBars : m_bars)->addData(i, gain * 100.0);
      lo = std::min(lo, gain * 100.0);
      hi = std::max(hi, gain * 100.0);
    }
  }
  m_plot->xAxis->setTicker(ticker);
  m_plot->xAxis->setTickLabelRotation(m_barLayers.size() > 8 ? 35 : 0);
  m_plot->xAxis->setRange(-0.6, double(std::max<qsizetype>(1, m_barLayers.size())) - 0.4);
  m_plot->yAxis->setRange(std::min(0.0, lo * 1.15), std::max(1.0, hi * 1.3));
  auto* threshold = new QCPItemStraightLine(m_plot);
  threshold->setSelectable(false);
  threshold->point1->setCoords(0.0, 0.5);
  threshold->point2->setCoords(1.0, 0.5);
  threshold->setPen(QPen(kSaturatedColor.lighter(130), 1, Qt::DashLine));
  // The title holds the summary (an exported PNG/SVG carries it); the labels above are
  // hidden while there is a report.
  m_titleLines = {stalePrefix() + tr("float %1 · weights only %2 · activations only %3 · quantized %4")
                                      .arg(percent(r.float_accuracy), percent(r.weights_only_accuracy),
                                           percent(r.activations_only_accuracy), percent(r.quantized_accuracy)),
                  m_keep->text()};
  layoutTitle();
  refreshVeil();
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace qnn
