// SPDX-License-Identifier: GPL-3.0-or-later
// The "Inspection" dock's content: what quantization does to the network, as tabs
// over one qnn::inspect::Report — Weights (WeightHistogramPlot), Scales (ScalePlot),
// Activations (ActivationRangePlot), Error (QuantErrorView) and Misclassified
// (MisclassifiedGallery). A layer selector on top drives every view; each view has a
// context menu to save it as PNG / SVG and copy or export its numbers as CSV.
// Only plots: the report is computed elsewhere (training thread, `qnn inspect`).
#pragma once

#include <QWidget>

#include "widgets/inspect/inspection_types.h"

class QComboBox;
class QLabel;
class QTabWidget;

namespace qnn {

class ActivationRangePlot;
class MisclassifiedGallery;
class QuantErrorView;
class ScalePlot;
class WeightHistogramPlot;

class InspectionPanel : public QWidget {
  Q_OBJECT
 public:
  enum Tab { WeightsTab, ScalesTab, ActivationsTab, ErrorTab, MisclassifiedTab };

  explicit InspectionPanel(QWidget* parent = nullptr);

  /// Shows `report` in every view (UI-thread work only: copying numbers, replotting).
  void setReport(const InspectionReportPtr& report);
  void setMisclassified(const MisclassifiedSet& set);
  /// Forgets the report, the scale history and the gallery (another project / a new run).
  void clear();
  /// Selects `layer` in every view (no layerSelected signal). A layer with only an
  /// activation quantizer switches the Weights tab to Activations and vice versa.
  void selectLayer(const QString& layer);

  InspectionReportPtr report() const { return m_report; }
  QString selectedLayer() const { return m_layer; }
  int reportsReceived() const { return m_reports; }
  /// The line above the tabs: "step 1200 · 256 calibration samples · logits SQNR … · top-1
  /// agreement … · worst layer …" ("steps not recorded" instead of the step when the
  /// model's checkpoint has no step count: loaded weights, an import, a fold).
  QString summaryText() const;

  QTabWidget* tabs() const { return m_tabs; }
  WeightHistogramPlot* weightPlot() const { return m_weights; }
  ScalePlot* scalePlot() const { return m_scales; }
  ActivationRangePlot* activationPlot() const { return m_activations; }
  QuantErrorView* errorView() const { return m_errors; }
  MisclassifiedGallery* gallery() const { return m_gallery; }
  /// The view of `tab` (the widget carrying its export actions).
  QWidget* view(Tab tab) const;

 Q_SIGNALS:
  /// The user picked a layer in the panel (selector, error table or bar chart).
  void layerSelected(const QString& layer);
  /// A report was shown (after setReport).
  void reportShown();

 private:
  void refreshViews();
  void fillLayerCombo();
  void userSelects(const QString& layer);
  InspectionReportPtr m_report;
  QString m_layer;
  int m_reports = 0;
  QLabel* m_summary = nullptr;
  QComboBox* m_layerCombo = nullptr;
  QTabWidget* m_tabs = nullptr;
  WeightHistogramPlot* m_weights = nullptr;
  ScalePlot* m_scales = nullptr;
  ActivationRangePlot* m_activations = nullptr;
  QuantErrorView* m_errors = nullptr;
  MisclassifiedGallery* m_gallery = nullptr;
};

}  // namespace qnn
