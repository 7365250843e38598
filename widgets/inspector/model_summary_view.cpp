// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/inspector/model_summary_view.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QScrollBar>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

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

/// Weight memory: bits below 8 kbit, else bytes (a saturated count as such).
QString bits(int64_t b) {
  if (b >= kCountSaturated) return ModelSummaryView::tr("%1 bits").arg(count(b));
  if (b < 8000) return ModelSummaryView::tr("%1 bits").arg(b);
  return b < 8000000 ? QStringLiteral("%1 kB").arg(double(b) / 8e3, 0, 'f', 1)
                     : QStringLiteral("%1 MB").arg(double(b) / 8e6, 0, 'f', 2);
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
  // Narrower tables in tabs instead of one wide one: each fits a dock column.
  auto* tabs = new QTabWidget(this);
  m_tabs = tabs;
  tabs->setObjectName(QStringLiteral("summaryTabs"));
  tabs->setDocumentMode(true);
  const auto makeTable = [this](const QString& name) {
    auto* t = new QTableWidget(0, 0, this);
    t->setObjectName(name);
    t->verticalHeader()->hide();
    t->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    return t;
  };
  m_table = makeTable(QStringLiteral("summaryTable"));
  m_table->setToolTip(tr("Storage at the chosen bit widths: weight codes at the weight bit width, biases at the "
                         "bias bit width (32 when float); scales are not counted."));
  m_hwTable = makeTable(QStringLiteral("hardwareTable"));
  m_hwTable->setToolTip(tr("A bits: the bit width of the layer's input (32f: a float input, counted as 32 bits); "
                           "BitOps = MACs × W bits × A bits; W mem: weights × W bits, without the bias; "
                           "acc bits = A bits + W bits + ⌈log2 fan-in⌉.\n"
                           "With the deployment target FINN, the FINN tab has each MVAU's LUTs and BRAM18 "
                           "at a folding you choose."));
  // The FINN tab: the folding (view settings, not document edits) above the per-MVAU table.
  m_finnPage = new QWidget(this);
  m_finnPage->setObjectName(QStringLiteral("finnPage"));
  auto* finnLayout = new QVBoxLayout(m_finnPage);
  finnLayout->setContentsMargins(0, 4, 0, 0);
  m_foldingRow = new QWidget(m_finnPage);
  auto* row = new QHBoxLayout(m_foldingRow);
  row->setContentsMargins(0, 0, 0, 0);
  const QString clampTip = tr("Requested for every MVAU; each layer uses the largest divisor of its %1 not above "
                              "it (FINN needs %1 divisible by %2), shown per layer below");
  m_pe = new QSpinBox(m_foldingRow);
  m_pe->setObjectName(QStringLiteral("foldingPe"));
  m_pe->setRange(1, 4096);
  m_pe->setToolTip(tr("PE: processing elements (output channels computed in parallel). ") +
                   clampTip.arg(QStringLiteral("MH"), QStringLiteral("PE")));
  m_simd = new QSpinBox(m_foldingRow);
  m_simd->setObjectName(QStringLiteral("foldingSimd"));
  m_simd->setRange(1, 4096);
  m_simd->setToolTip(tr("SIMD: input elements multiplied in parallel per PE. ") +
                     clampTip.arg(QStringLiteral("MW"), QStringLiteral("SIMD")));
  m_clock = new QDoubleSpinBox(m_foldingRow);
  m_clock->setObjectName(QStringLiteral("foldingClock"));
  m_clock->setRange(1.0, 2000.0);
  m_clock->setDecimals(1);
  m_clock->setValue(100.0);
  m_clock->setSuffix(tr(" MHz"));
  m_clock->setToolTip(tr("The clock the throughput is computed at (samples/s = clock / the slowest layer's cycles)"));
  const auto addField = [row, this](const QString& text, QWidget* field) {
    auto* label = new QLabel(text, m_foldingRow);
    label->setBuddy(field);
    row->addWidget(label);
    row->addWidget(field);
  };
  addField(tr("PE"), m_pe);
  addField(tr("SIMD"), m_simd);
  addField(tr("Clock"), m_clock);
  row->addStretch(1);
  m_finnTable = makeTable(QStringLiteral("finnTable"));
  m_finnTable->setParent(m_finnPage);
  m_finnTable->setToolTip(tr("FINN's MVAU estimate per QuantLinear/QuantConv1d/QuantConv2d (groups 1; depthwise: "
                             "a VVAU): the PE and "
                             "SIMD this layer uses, cycles per sample = (MH/PE)·(MW/SIMD)·output pixels, LUTs "
                             "from FINN's lut_estimation(), BRAM18 from bram_estimation() (README \"Model summary\")"));
  finnLayout->addWidget(m_foldingRow);
  finnLayout->addWidget(m_finnTable, 1);
  for (QSpinBox* box : {m_pe, m_simd}) connect(box, &QSpinBox::valueChanged, this, &ModelSummaryView::refresh);
  connect(m_clock, &QDoubleSpinBox::valueChanged, this, &ModelSummaryView::refresh);
  tabs->addTab(m_table, tr("Size"));
  tabs->addTab(m_hwTable, tr("Hardware"));
  tabs->addTab(m_finnPage, tr("FINN"));
  tabs->setTabVisible(2, false);  // until the deployment target is FINN
  layout->addWidget(m_totals);
  layout->addWidget(tabs, 1);
  connect(document, &ProjectDocument::changed, this, &ModelSummaryView::refresh);
  refresh();
}

QString ModelSummaryView::totalsText() const { return m_totals->text(); }

Folding ModelSummaryView::folding() const {
  Folding f;
  f.pe = m_pe->value();
  f.simd = m_simd->value();
  f.clock_mhz = m_clock->value();
  return f;
}

void ModelSummaryView::setFolding(const Folding& folding) {
  {
    const QSignalBlocker a(m_pe), b(m_simd), c(m_clock);  // one refresh, not three
    m_pe->setValue(int(std::clamp<int64_t>(folding.pe, m_pe->minimum(), m_pe->maximum())));
    m_simd->setValue(int(std::clamp<int64_t>(folding.simd, m_simd->minimum(), m_simd->maximum())));
    m_clock->setValue(folding.clock_mhz);
  }
  refresh();
}

int ModelSummaryView::columnsWidth() const {
  int width = 0;
  for (const QTableWidget* t : {m_table, m_hwTable, m_finnTable}) {
    const auto* view = static_cast<const QAbstractItemView*>(t);
    int w = 0;
    for (int c = 0; c < t->columnCount(); ++c)
      w += std::max(t->horizontalHeader()->sectionSizeHint(c), view->sizeHintForColumn(c));
    width = std::max(width, w);
  }
  // The folding row of the FINN tab whole too (less the table's frame and scroll bar added below).
  width = std::max(width, m_foldingRow->sizeHint().width() - 2 * m_table->frameWidth() -
                              m_table->verticalScrollBar()->sizeHint().width());
  const QMargins margins = layout()->contentsMargins();
  return width + 2 * m_table->frameWidth() + m_table->verticalScrollBar()->sizeHint().width() + margins.left() +
         margins.right();
}

void ModelSummaryView::refresh() {
  if (!m_document) return;
  const Project& project = m_document->project();
  const ModelSummary s = summarize(project, m_document->validation());
  const bool finn = project.deployment_target == DeploymentTarget::Finn;
  const Folding fold = folding();
  const ModelHwCost hw = hardware_cost(project, m_document->validation(), s, fold);
  std::ostringstream clock;  // the clock is in the totals line only
  clock << fold.clock_mhz;
  const std::string text = summary_table(s) + hardware_cost_table(hw, finn) + clock.str();
  if (text == m_shown) return;  // e.g. a node was only moved
  m_shown = text;
  m_tabs->setTabVisible(2, finn);
  const QStringList headers{tr("layer"), tr("type"), tr("params"), tr("MACs"), tr("W bits"), tr("B bits"), tr("bytes")};
  m_table->setColumnCount(int(headers.size()));
  m_table->setHorizontalHeaderLabels(headers);
  const QStringList hwHeaders{tr("layer"), tr("A bits"), tr("BitOps"), tr("W mem"), tr("acc bits")};
  m_hwTable->setColumnCount(int(hwHeaders.size()));
  m_hwTable->setHorizontalHeaderLabels(hwHeaders);
  m_hwTable->setRowCount(int(s.layers.size()));
  std::map<std::string, const LayerHwCost*> hw_rows;
  for (const LayerHwCost& c : hw.layers) hw_rows[c.id] = &c;
  // FINN: one row per dot-product layer (the MVAUs; "no estimate" for the others).
  const QStringList finnHeaders{tr("layer"), tr("PE"), tr("SIMD"), tr("cycles"), tr("LUT"), tr("BRAM18")};
  m_finnTable->setColumnCount(int(finnHeaders.size()));
  m_finnTable->setHorizontalHeaderLabels(finnHeaders);
  m_finnTable->setRowCount(finn ? int(hw.layers.size()) : 0);
  for (int r = 0; finn && r < int(hw.layers.size()); ++r) {
    const LayerHwCost& c = hw.layers[size_t(r)];
    m_finnTable->setItem(r, 0, cell(QString::fromStdString(c.id), false));
    const QString dash = QStringLiteral("—");  // no estimate: the reason is the row's tooltip
    m_finnTable->setItem(r, 1, cell(c.finn ? QString::number(c.pe) : dash, true));
    m_finnTable->setItem(r, 2, cell(c.finn ? QString::number(c.simd) : dash, true));
    m_finnTable->setItem(r, 3, cell(c.finn ? count(c.cycles) : dash, true));
    m_finnTable->setItem(r, 4, cell(c.finn ? count(c.luts) : dash, true));
    m_finnTable->setItem(r, 5, cell(c.finn ? count(c.bram18) : dash, true));
    if (!c.finn) {
      const QString why = c.no_finn_reason == "float input"
                              ? tr("No FINN estimate: float input. FINN builds no MVAU for a layer that reads a "
                                   "float tensor (put a QuantIdentity before it); not in the totals")
                              : tr("No FINN estimate: %1; not in the totals").arg(QString::fromStdString(c.no_finn_reason));
      for (int col = 0; col < m_finnTable->columnCount(); ++col) m_finnTable->item(r, col)->setToolTip(why);
    }
    else if (c.vvau)
      m_finnTable->item(r, 0)->setToolTip(tr("Depthwise: FINN's VVAU (VectorVectorActivation); SIMD divides "
                                             "the kernel taps k_h·k_w"));
  }
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
    const auto it = hw_rows.find(l.id);
    const LayerHwCost* c = it == hw_rows.end() ? nullptr : it->second;
    const bool in = c && c->input_known;
    m_hwTable->setItem(r, 0, cell(QString::fromStdString(l.id), false));
    m_hwTable->setItem(r, 1, cell(!c ? QString() : in ? QString::number(c->input_bits) + (c->input_float ? QStringLiteral("f") : QString()) : QStringLiteral("?"), true));
    m_hwTable->setItem(r, 2, cell(!c ? QString() : c->shape_known ? count(c->bitops) : QStringLiteral("?"), true));
    m_hwTable->setItem(r, 3, cell(c ? bits(c->weight_memory_bits) : QString(), true));
    m_hwTable->setItem(r, 4, cell(!c ? QString() : in ? QString::number(c->acc_bits) : QStringLiteral("?"), true));
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
  QString hw_line = tr("<br><b>%1%2</b> BitOps per sample · %3 weight memory (without biases)")
                        .arg(hw.layers_without_shape ? QStringLiteral("≥ ") : QString(), count(hw.bitops),
                             bits(hw.weight_memory_bits));
  if (hw.any_float_input) hw_line += tr(" · float inputs counted as 32 bits");
  if (finn)
    hw_line += hw.max_cycles > 0
                   ? tr("<br>FINN at PE %1, SIMD %2 (requested; clamped per layer to divisors), %3 MHz: "
                        "<b>%4</b> LUTs · <b>%5</b> BRAM18 · %6 samples/s (slowest: %7, %8 cycles per sample)")
                         .arg(QString::number(fold.pe), QString::number(fold.simd),
                              QString::number(fold.clock_mhz, 'f', fold.clock_mhz == std::floor(fold.clock_mhz) ? 0 : 1),
                              count(hw.luts), count(hw.bram18), QString::number(hw.samples_per_second, 'f', 1),
                              QString::fromStdString(hw.slowest), count(hw.max_cycles))
                   : tr("<br>FINN: no MVAU or VVAU layer (QuantLinear, QuantConv1d/2d with a known shape)");
  if (finn && !hw.excluded.empty()) {
    QStringList ex;
    for (const std::string& e : hw.excluded) ex << QString::fromStdString(e);
    hw_line += tr(" · not in the FINN totals (no estimate): %1").arg(ex.join(QStringLiteral(", ")));
  }
  if (finn && !hw.finn_findings.empty()) {
    QStringList found;
    for (const std::string& f : hw.finn_findings) found << QString::fromStdString(f).toHtmlEscaped();
    hw_line += tr("<br><b>Not a FINN build yet</b>: %n FINN rule warning(s): %1 (each is marked on its node; the QONNX "
                  "export for FINN is refused until they are fixed)",
                  "", int(found.size()))
                   .arg(found.join(QStringLiteral(", ")));
  }
  m_totals->setText(m_totals->text() + hw_line);
  m_totals->setToolTip(s.macs_partial() ? tr("The graph is invalid: %n layer(s) with weights have no inferred output "
                                             "shape, so their MACs are missing from the total (shown as \"?\")",
                                             "", int(s.layers_without_shape))
                                        : QString());
}

}  // namespace qnn
