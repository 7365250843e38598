// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/inspector/model_summary_view.h"

#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QScrollBar>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

#include "core/graph/summary.h"
#include "widgets/document/project_document.h"

namespace qnn {
namespace {

QTableWidgetItem* cell(const QString& text, bool number) {
  auto* item = new QTableWidgetItem(text);
  item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
  if (number) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  return item;
}

/// A count in the system locale; a saturated one (core/graph/summary.h) reads "more than …".
QString count(int64_t v) {
  return v >= kCountSaturated ? ModelSummaryView::tr("more than %1").arg(QLocale::system().toString(qlonglong(kCountSaturated - 1)))
                              : QLocale::system().toString(qlonglong(v));
}

QString bytes(double b) {
  if (b < 1000) return QStringLiteral("%1 B").arg(b, 0, 'f', 0);
  if (b < 1e6) return QStringLiteral("%1 kB").arg(b / 1e3, 0, 'f', 1);
  return QStringLiteral("%1 MB").arg(b / 1e6, 0, 'f', 2);
}

}  // namespace

ModelSummaryView::ModelSummaryView(ProjectDocument* document, QWidget* parent)
    : QWidget(parent), m_document(document) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  m_totals = new QLabel(this);
  m_totals->setObjectName(QStringLiteral("summaryTotals"));
  m_totals->setWordWrap(true);
  m_totals->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_table = new QTableWidget(0, 7, this);
  m_table->setObjectName(QStringLiteral("summaryTable"));
  m_table->setHorizontalHeaderLabels({tr("layer"), tr("type"), tr("params"), tr("MACs"), tr("W bits"), tr("B bits"),
                                      tr("bytes")});
  m_table->verticalHeader()->hide();
  m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
  m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_table->setToolTip(tr("Storage at the chosen bit widths: weight codes at the weight bit width, biases at the "
                         "bias bit width (32 when float); scales are not counted"));
  layout->addWidget(m_totals);
  layout->addWidget(m_table, 1);
  connect(document, &ProjectDocument::changed, this, &ModelSummaryView::refresh);
  refresh();
}

QString ModelSummaryView::totalsText() const { return m_totals->text(); }

int ModelSummaryView::columnsWidth() const {
  const auto* view = static_cast<const QAbstractItemView*>(m_table);
  int width = 0;
  for (int c = 0; c < m_table->columnCount(); ++c)
    width += std::max(m_table->horizontalHeader()->sectionSizeHint(c), view->sizeHintForColumn(c));
  const QMargins margins = layout()->contentsMargins();
  return width + 2 * m_table->frameWidth() + m_table->verticalScrollBar()->sizeHint().width() + margins.left() +
         margins.right();
}

void ModelSummaryView::refresh() {
  if (!m_document) return;
  const ModelSummary s = summarize(m_document->project(), m_document->validation());
  const std::string text = summary_table(s);
  if (text == m_shown) return;  // e.g. a node was only moved
  m_shown = text;
  m_table->setRowCount(int(s.layers.size()));
  for (int r = 0; r < int(s.layers.size()); ++r) {
    const LayerSummary& l = s.layers[size_t(r)];
    m_table->setItem(r, 0, cell(QString::fromStdString(l.id), false));
    m_table->setItem(r, 1, cell(QString::fromStdString(to_string(l.type)), false));
    m_table->setItem(r, 2, cell(l.params ? count(l.params) : QString(), true));
    m_table->setItem(r, 3, cell(l.macs ? count(l.macs) : l.shape_known ? QString() : QStringLiteral("?"), true));
    m_table->setItem(r, 4, cell(l.weight_bits ? QString::number(l.weight_bits) : QString(), true));
    m_table->setItem(r, 5, cell(l.bias_bits ? QString::number(l.bias_bits) : QString(), true));
    m_table->setItem(r, 6, cell(l.storage_bits ? count(l.storage_bits >= kCountSaturated - 7 ? kCountSaturated : (l.storage_bits + 7) / 8) : QString(), true));
  }
  // An invalid graph: layers without a shape have no MACs, so the sum is only a lower bound.
  const QString macs = s.macs_partial()
                           ? tr("<b>≥ %1</b> MACs per sample (partial: %n layer(s) without shapes)", "",
                                int(s.layers_without_shape))
                                 .arg(count(s.macs))
                           : tr("<b>%1</b> MACs per sample").arg(count(s.macs));
  m_totals->setText(tr("<b>%1</b> parameters · %2<br><b>%3</b> at the chosen bit widths vs %4 float32 (%5×)")
                        .arg(count(s.params), macs, bytes(double(s.size_bytes)), bytes(double(s.float32_bytes)))
                        .arg(s.compression, 0, 'f', 2));
  m_totals->setToolTip(s.macs_partial() ? tr("The graph is invalid: %n layer(s) with weights have no inferred output "
                                             "shape, so their MACs are missing from the total (shown as \"?\")",
                                             "", int(s.layers_without_shape))
                                        : QString());
}

}  // namespace qnn
