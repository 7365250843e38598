// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/plots/quant_error_view.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QHeaderView>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStyle>
#include <QTableView>
#include <QVBoxLayout>

#include "core/inspect/inspect.h"
#include "widgets/plots/inspect_plot_style.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {
namespace {

constexpr int kSortRole = Qt::UserRole + 1;
const QColor kWorstRow(255, 214, 214);

/// Numbers sort by value; NaN ("—", nothing quantized) after every number.
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

QStandardItem* numberItem(double v, bool db) {
  auto* item = new QStandardItem(db ? dbText(v, 2) : realText(v));
  item->setData(v, kSortRole);
  item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  item->setEditable(false);
  return item;
}

}  // namespace

QuantErrorView::QuantErrorView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* splitter = new QSplitter(Qt::Vertical, this);

  m_model = new QStandardItemModel(0, ColumnCount, this);
  m_model->setHorizontalHeaderLabels({tr("layer"), tr("type"), tr("weight SQNR"), tr("act SQNR"), tr("output SQNR"),
                                      tr("weight MSE"), tr("act MSE"), tr("output MSE")});
  for (int c = 0; c < ColumnCount; ++c)  // a first click sorts ascending: the lowest SQNR on top
    m_model->setHeaderData(c, Qt::Horizontal, int(Qt::AscendingOrder), Qt::InitialSortOrderRole);
  m_proxy = new NumericProxy(this);
  m_proxy->setSourceModel(m_model);
  m_proxy->setSortRole(kSortRole);
  m_table = new QTableView(splitter);
  m_table->setObjectName(QStringLiteral("errorTable"));
  m_table->setModel(m_proxy);
  m_table->setSortingEnabled(true);
  m_table->sortByColumn(-1, Qt::AscendingOrder);  // execution order until a header is clicked
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::SingleSelection);
  m_table->verticalHeader()->setVisible(false);
  m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
  m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  m_table->horizontalHeader()->setStretchLastSection(true);
  m_table->setToolTip(tr("SQNR = 10·log10(Σref² / Σ(ref − quantized)²). weight: quantized vs float weights; "
                         "act: the activation quantizer's output vs its input; output: the layer's output vs the same "
                         "network with quantization off. Click a header to sort."));
  connect(m_table, &QTableView::clicked, this, [this](const QModelIndex& index) {
    Q_EMIT layerActivated(m_proxy->index(index.row(), Layer).data().toString());
  });

  m_plot = new QCustomPlot(splitter);
  m_plot->setObjectName(QStringLiteral("exportPlot"));
  // Docked in a 768-pixel-high window the bar chart keeps ~150 px of plotting area
  // (title, legend row and axis labels take the rest); the table gets what remains.
  m_plot->setMinimumSize(320, 270);
  m_plot->setAutoAddPlottableToLegend(false);
  m_plot->plotLayout()->insertRow(0);
  m_title = new QCPTextElement(m_plot, QString(), QFont(font().family(), 9, QFont::Bold));
  m_plot->plotLayout()->addElement(0, 0, m_title);
  m_plot->yAxis->setLabel(tr("SQNR (dB)"));
  m_bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
  m_bars->setName(tr("local SQNR (own quantizer)"));
  styleBars(m_bars, kFloatColor);
  m_worstBar = new QCPBars(m_plot->xAxis, m_plot->yAxis);
  m_worstBar->setName(tr("worst layer"));
  styleBars(m_worstBar, kSaturatedColor);
  for (QCPBars* b : {m_bars, m_worstBar}) b->setWidth(0.6);
  m_output = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
  m_output->setName(tr("output SQNR (accumulated)"));
  m_output->setPen(QPen(kOutputColor, 2));
  m_output->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, kOutputColor, Qt::white, 6));
  for (QCPAbstractPlottable* p : std::initializer_list<QCPAbstractPlottable*>{m_bars, m_worstBar, m_output})
    p->addToLegend();
  styleLegend(m_plot->legend, font());
  m_plot->legend->setVisible(true);
  // The legend gets a row of its own between the title and the chart: inside the axis
  // rect it covered the bars of the last layers whatever the headroom.
  m_plot->axisRect()->insetLayout()->take(m_plot->legend);
  m_plot->plotLayout()->insertRow(1);
  m_plot->plotLayout()->addElement(1, 0, m_plot->legend);
  m_plot->plotLayout()->setRowStretchFactor(1, 0.001);
  m_plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  m_plot->legend->setBorderPen(Qt::NoPen);
  m_plot->legend->setBrush(Qt::NoBrush);
  connect(m_plot, &QCustomPlot::plottableClick, this, [this](QCPAbstractPlottable* p, int index, QMouseEvent* event) {
    auto* bars = qobject_cast<QCPBars*>(p);
    // Only the left button selects; the right one opens the export menu.
    if (!bars || (event && event->button() != Qt::LeftButton)) return;
    const int i = int(std::lround(bars->data()->at(index)->key));
    if (i >= 0 && i < m_barLayers.size()) Q_EMIT layerActivated(m_barLayers[i]);
  });
  m_plot->setInteractions(QCP::iSelectPlottables);

  splitter->addWidget(m_table);
  splitter->addWidget(m_plot);
  splitter->setStretchFactor(0, 1);
  splitter->setStretchFactor(1, 2);
  splitter->setChildrenCollapsible(false);
  layout->addWidget(splitter);
  refreshChart();
}

void QuantErrorView::setReport(const InspectionReportPtr& report) {
  m_report = report;
  m_worst = report ? QString::fromStdString(report->worst_layer) : QString();
  // Keep the user's sort order across live refreshes.
  const int sortColumn = m_table->horizontalHeader()->sortIndicatorSection();
  const Qt::SortOrder order = m_table->horizontalHeader()->sortIndicatorOrder();
  const QModelIndex selected = m_table->currentIndex();
  const QString selectedLayer = selected.isValid() ? m_proxy->index(selected.row(), Layer).data().toString() : QString();
  m_model->removeRows(0, m_model->rowCount());
  m_biasWarnings.clear();
  if (report)
    for (const inspect::BiasStats& b : report->biases)
      if (b.clipped() > 0)
        m_biasWarnings << QStringLiteral("%1: %2").arg(QString::fromStdString(b.layer), QString::fromStdString(b.warning()));
  if (report) {
    for (const inspect::LayerError& e : report->errors) {
      const QString id = QString::fromStdString(e.layer);
      QList<QStandardItem*> row{textItem(id),
                                textItem(QString::fromStdString(e.type)),
                                numberItem(e.weight_sqnr_db, true),
                                numberItem(e.act_sqnr_db, true),
                                numberItem(e.output_sqnr_db, true),
                                numberItem(e.weight_mse, false),
                                numberItem(e.act_mse, false),
                                numberItem(e.output_mse, false)};
      if (id == m_worst) {
        for (QStandardItem* item : row) {
          item->setBackground(kWorstRow);
          QFont f = item->font();
          f.setBold(true);
          item->setFont(f);
          item->setToolTip(tr("worst layer: lowest SQNR of its own quantizer (%1)").arg(dbText(e.local_sqnr_db(), 2)));
        }
      }
      for (const inspect::BiasStats& b : report->biases)
        if (b.layer == e.layer && b.clipped() > 0) {
          row[Layer]->setIcon(style()->standardIcon(QStyle::SP_MessageBoxWarning));
          row[Layer]->setToolTip(tr("%1 of %2 bias codes clipped (%3, %4): the layer adds a "
                                    "bias that differs from the trained one")
                                     .arg(b.clipped())
                                     .arg(b.total)
                                     .arg(QString::fromStdString(b.quantizer), QString::fromStdString(b.codes_text())));
        }
      m_model->appendRow(row);
    }
  }
  if (sortColumn >= 0 && sortColumn < ColumnCount) m_proxy->sort(sortColumn, order);
  if (!selectedLayer.isEmpty()) selectLayer(selectedLayer);
  refreshChart();
}

void QuantErrorView::selectLayer(const QString& layer) {
  for (int r = 0; r < m_proxy->rowCount(); ++r)
    if (m_proxy->index(r, Layer).data().toString() == layer) {
      m_table->selectionModel()->setCurrentIndex(m_proxy->index(r, Layer),
                                                 QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
      m_table->scrollTo(m_proxy->index(r, Layer));
      return;
    }
  m_table->clearSelection();
}

QStringList QuantErrorView::rowLayers() const {
  QStringList out;
  for (int r = 0; r < m_proxy->rowCount(); ++r) out << m_proxy->index(r, Layer).data().toString();
  return out;
}

bool QuantErrorView::isHighlighted(const QString& layer) const {
  for (int r = 0; r < m_model->rowCount(); ++r)
    if (m_model->item(r, Layer)->text() == layer) return m_model->item(r, Layer)->background().color() == kWorstRow;
  return false;
}

QString QuantErrorView::redBarLayer() const {
  if (m_worstBar->dataCount() == 0) return QString();
  const int i = int(std::lround(m_worstBar->data()->at(0)->key));
  return i >= 0 && i < m_barLayers.size() ? m_barLayers[i] : QString();
}

QString QuantErrorView::chartTitle() const { return m_title->text(); }

QString QuantErrorView::csv() const {
  return m_report ? QString::fromStdString(inspect::table_csv(*m_report, "layer_error")) : QString();
}

void QuantErrorView::refreshChart() {
  m_bars->data()->clear();
  m_worstBar->data()->clear();
  m_output->data()->clear();
  m_plot->clearItems();
  m_barLayers.clear();
  if (!m_report) {
    m_title->setText(tr("Quantization error: train the model to see each layer's SQNR"));
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  // Finite values set the axis; exact layers (+inf) are drawn at the top.
  double hi = 0.0, lo = 0.0;
  for (const inspect::LayerError& e : m_report->errors) {
    const double local = e.local_sqnr_db();
    if (std::isnan(local)) continue;
    for (double v : {local, e.output_sqnr_db})
      if (std::isfinite(v)) {
        hi = std::max(hi, v);
        lo = std::min(lo, v);
      }
  }
  const double top = hi > 0.0 ? hi * 1.25 : 10.0;  // headroom for the worst layer's label
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (const inspect::LayerError& e : m_report->errors) {
    const double local = e.local_sqnr_db();
    if (std::isnan(local)) continue;
    const int i = int(m_barLayers.size());
    const QString id = QString::fromStdString(e.layer);
    m_barLayers << id;
    ticker->addTick(double(i), id);
    const double shown = std::isfinite(local) ? local : top * 0.95;
    (id == m_worst ? m_worstBar : m_bars)->addData(double(i), shown);
    if (!std::isnan(e.output_sqnr_db))
      m_output->addData(double(i), std::isfinite(e.output_sqnr_db) ? e.output_sqnr_db : top * 0.95);
    if (id == m_worst) {
      auto* label = new QCPItemText(m_plot);
      label->position->setCoords(double(i), shown);
      label->setPositionAlignment(Qt::AlignBottom | Qt::AlignHCenter);
      label->setText(tr("worst: %1\n%2").arg(id, dbText(local)));
      label->setColor(kSaturatedColor.darker(130));
      QFont f = font();
      f.setBold(true);
      label->setFont(f);
    }
  }
  m_plot->xAxis->setTicker(ticker);
  m_plot->xAxis->setTickLabelRotation(m_barLayers.size() > 8 ? 35 : 0);
  m_plot->xAxis->setRange(-0.6, double(std::max<qsizetype>(1, m_barLayers.size())) - 0.4);
  m_plot->yAxis->setRange(std::min(0.0, lo * 1.1), top);
  m_title->setText(m_worst.isEmpty()
                       ? tr("Nothing is quantized")
                       : tr("Worst layer: %1 · logits SQNR %2\ntop-1 agreement with float %3% · %4 calibration samples")
                             .arg(m_worst, dbText(m_report->logits_sqnr_db))
                             .arg(m_report->top1_agreement * 100.0, 0, 'f', 1)
                             .arg(m_report->calibration_samples) +
                             (m_biasWarnings.isEmpty() ? QString() : QStringLiteral("\n") + m_biasWarnings.join(QStringLiteral(" · "))));
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace qnn
