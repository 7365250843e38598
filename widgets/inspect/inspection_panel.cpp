// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/inspect/inspection_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QTabWidget>
#include <QVBoxLayout>

#include "core/inspect/inspect.h"
#include "widgets/plots/activation_range_plot.h"
#include "widgets/plots/misclassified_gallery.h"
#include "widgets/plots/plot_export.h"
#include "widgets/plots/quant_error_view.h"
#include "widgets/plots/scale_plot.h"
#include "widgets/plots/weight_histogram_plot.h"

namespace qnn {
namespace {

bool hasWeights(const inspect::Report& r, const QString& layer) {
  for (const auto& w : r.weights)
    if (QString::fromStdString(w.layer) == layer) return true;
  return false;
}

bool hasActivation(const inspect::Report& r, const QString& layer) {
  for (const auto& a : r.activations)
    if (QString::fromStdString(a.layer) == layer) return true;
  return false;
}

}  // namespace

InspectionPanel::InspectionPanel(QWidget* parent) : QWidget(parent) {
  registerInspectionMetaTypes();
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->setSpacing(4);
  auto* top = new QHBoxLayout;
  auto* layerLabel = new QLabel(tr("La&yer:"), this);
  m_layerCombo = new QComboBox(this);
  m_layerCombo->setObjectName(QStringLiteral("layerCombo"));
  // A fixed width: live refreshes must not resize the dock (and the window).
  m_layerCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  m_layerCombo->setMinimumContentsLength(22);
  m_layerCombo->setToolTip(tr("The layer shown in every view; selecting a node in the graph selects it too"));
  layerLabel->setBuddy(m_layerCombo);
  m_summary = new QLabel(this);
  m_summary->setObjectName(QStringLiteral("inspectionSummary"));
  m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
  // A long summary must not set the dock's (and the window's) minimum width: it is cut
  // at the dock's edge; the tooltip holds all of it.
  m_summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  m_summary->setMinimumWidth(0);
  top->addWidget(layerLabel);
  top->addWidget(m_layerCombo);
  top->addSpacing(10);
  top->addWidget(m_summary, 1);
  layout->addLayout(top);

  m_tabs = new QTabWidget(this);
  m_tabs->setObjectName(QStringLiteral("inspectionTabs"));
  m_weights = new WeightHistogramPlot(m_tabs);
  m_weights->setObjectName(QStringLiteral("weightHistogramPlot"));
  m_scales = new ScalePlot(m_tabs);
  m_scales->setObjectName(QStringLiteral("scalePlot"));
  m_activations = new ActivationRangePlot(m_tabs);
  m_activations->setObjectName(QStringLiteral("activationRangePlot"));
  m_errors = new QuantErrorView(m_tabs);
  m_errors->setObjectName(QStringLiteral("quantErrorView"));
  m_gallery = new MisclassifiedGallery(m_tabs);
  m_gallery->setObjectName(QStringLiteral("misclassifiedGallery"));
  m_tabs->addTab(m_weights, tr("&Weights"));
  m_tabs->addTab(m_scales, tr("&Scales"));
  m_tabs->addTab(m_activations, tr("&Activations"));
  m_tabs->addTab(m_errors, tr("E&rror"));
  m_tabs->addTab(m_gallery, tr("&Misclassified"));
  layout->addWidget(m_tabs, 1);

  auto layerName = [this](const char* prefix) {
    return [this, prefix] {
      return QLatin1String(prefix) + (m_layer.isEmpty() ? QStringLiteral("all") : m_layer);
    };
  };
  installExportMenu(m_weights, layerName("weights_"), [this] { return m_weights->csv(); });
  installExportMenu(m_scales, [] { return QStringLiteral("scales"); }, [this] { return m_scales->csv(); });
  installExportMenu(m_activations, [this] { return QStringLiteral("activation_") + m_activations->layer(); },
                    [this] { return m_activations->csv(); });
  installExportMenu(m_errors, [] { return QStringLiteral("layer_error"); }, [this] { return m_errors->csv(); });
  installExportMenu(m_gallery, [] { return QStringLiteral("misclassified"); }, [this] { return m_gallery->csv(); });

  connect(m_layerCombo, qOverload<int>(&QComboBox::activated), this,
          [this](int index) { userSelects(m_layerCombo->itemData(index).toString()); });
  connect(m_errors, &QuantErrorView::layerActivated, this, &InspectionPanel::userSelects);
  clear();
}

QWidget* InspectionPanel::view(Tab tab) const {
  switch (tab) {
    case WeightsTab: return m_weights;
    case ScalesTab: return m_scales;
    case ActivationsTab: return m_activations;
    case ErrorTab: return m_errors;
    case MisclassifiedTab: return m_gallery;
  }
  return nullptr;
}

void InspectionPanel::clear() {
  m_report.reset();
  m_reports = 0;
  m_scales->clearHistory();
  m_gallery->clear();
  m_layerCombo->clear();
  refreshViews();
}

void InspectionPanel::setReport(const InspectionReportPtr& report) {
  m_report = report;
  if (report) ++m_reports;
  fillLayerCombo();
  refreshViews();
  Q_EMIT reportShown();
}

void InspectionPanel::setMisclassified(const MisclassifiedSet& set) { m_gallery->setSamples(set); }

void InspectionPanel::fillLayerCombo() {
  const QSignalBlocker block(m_layerCombo);
  // Every layer of the report (its error rows); a weights-only report (an imported
  // file whose graph cannot run) lists its weight layers.
  std::vector<std::pair<std::string, std::string>> layers;  // id, type
  if (m_report) {
    for (const auto& e : m_report->errors) layers.emplace_back(e.layer, e.type);
    if (m_report->weights_only)
      for (const auto& w : m_report->weights) layers.emplace_back(w.layer, w.type);
  }
  QStringList ids, current;
  for (const auto& [id, type] : layers) ids << QString::fromStdString(id);
  for (int i = 0; i < m_layerCombo->count(); ++i) current << m_layerCombo->itemData(i).toString();
  if (current != ids) {
    m_layerCombo->clear();
    for (const auto& [id, type] : layers)
      m_layerCombo->addItem(QStringLiteral("%1 (%2)").arg(QString::fromStdString(id), QString::fromStdString(type)),
                            QString::fromStdString(id));
  }
  // A layer this report does not have (one of another project or network) is not
  // selected any more: the views must not name it.
  if (m_report && !ids.isEmpty() && !ids.contains(m_layer)) m_layer.clear();
  if (m_layer.isEmpty() && m_report && !m_report->weights.empty())
    m_layer = QString::fromStdString(m_report->weights.front().layer);
  m_layerCombo->setCurrentIndex(m_layerCombo->findData(m_layer));
}

void InspectionPanel::refreshViews() {
  m_weights->setReport(m_report, m_layer);
  m_scales->setReport(m_report, m_layer);
  m_activations->setReport(m_report, m_layer);
  m_errors->setReport(m_report);
  m_errors->selectLayer(m_layer);
  m_summary->setText(summaryText());
  m_summary->setToolTip(m_summary->text());
}

QString InspectionPanel::summaryText() const {
  if (!m_report) return tr("No report yet: train the model (F5); the views refresh while it trains.");
  if (m_report->weights_only)
    return tr("weights only: %n weight quantizer(s) from the file's constants (the graph cannot run: no activations, "
              "no errors)", "", int(m_report->weights.size()));
  // A checkpoint without its step count (loaded weights, an import, a fold) reports step -1.
  const QString step = m_report->scales.step < 0 ? tr("steps not recorded") : tr("step %1").arg(m_report->scales.step);
  return tr("%1 · %2 calibration samples · logits SQNR %3 · top-1 agreement %4% · worst layer %5")
      .arg(step)
      .arg(m_report->calibration_samples)
      .arg(dbText(m_report->logits_sqnr_db))
      .arg(m_report->top1_agreement * 100.0, 0, 'f', 1)
      .arg(m_report->worst_layer.empty() ? tr("—") : QString::fromStdString(m_report->worst_layer));
}

void InspectionPanel::selectLayer(const QString& layer) {
  if (layer.isEmpty()) return;
  m_layer = layer;
  {
    const QSignalBlocker block(m_layerCombo);
    m_layerCombo->setCurrentIndex(m_layerCombo->findData(layer));
  }
  if (m_report) {
    if (m_tabs->currentIndex() == WeightsTab && !hasWeights(*m_report, layer) && hasActivation(*m_report, layer))
      m_tabs->setCurrentIndex(ActivationsTab);
    else if (m_tabs->currentIndex() == ActivationsTab && hasWeights(*m_report, layer) &&
             !hasActivation(*m_report, layer))
      m_tabs->setCurrentIndex(WeightsTab);
  }
  refreshViews();
}

void InspectionPanel::userSelects(const QString& layer) {
  if (layer.isEmpty() || layer == m_layer) return;
  selectLayer(layer);
  Q_EMIT layerSelected(layer);
}

}  // namespace qnn
