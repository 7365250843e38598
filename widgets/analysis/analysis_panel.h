// SPDX-License-Identifier: GPL-3.0-or-later
// The Analysis dock's content: a status line, then tabs for the sweep heat map, the
// sweep curves, the Pareto front (with the budget, Suggest, Apply and Fine-tune
// controls under it) and the analyzer. A view only: the buttons emit requests; the
// host (app/gui/analysis_actions.h) runs them and edits the document through commands.
// No LibTorch in this header.
#pragma once

#include <QWidget>

class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTabWidget;

namespace qnn {

class AnalyzerView;
class ParetoView;
class SweepCurvesView;
class SweepHeatmapView;

class AnalysisPanel : public QWidget {
  Q_OBJECT
 public:
  enum Tab { HeatmapTab, CurvesTab, ParetoTab, AnalyzerTab };

  explicit AnalysisPanel(QWidget* parent = nullptr);

  SweepHeatmapView* heatmap() const { return m_heatmap; }
  SweepCurvesView* curves() const { return m_curves; }
  ParetoView* pareto() const { return m_pareto; }
  AnalyzerView* analyzer() const { return m_analyzer; }
  QTabWidget* tabs() const { return m_tabs; }
  void showTab(Tab tab);

  /// The line above the tabs ("Sweep: 12 of 40 points · conv1 at 3 bits").
  void setStatus(const QString& text, const QString& tooltip = QString());
  QString status() const;

  /// Budget limits as entered: <= 0 (or NaN for the drop) when "no limit".
  qint64 maxBytes() const;
  double maxBitOps() const;
  /// Fraction (the box shows points: 1.5 = 0.015); NaN when "no limit".
  double maxDrop() const;
  QDoubleSpinBox* maxBytesBox() const { return m_maxBytes; }
  QDoubleSpinBox* maxBitOpsBox() const { return m_maxBitOps; }
  QDoubleSpinBox* maxDropBox() const { return m_maxDrop; }
  QSpinBox* fineTuneEpochsBox() const { return m_epochs; }
  QPushButton* suggestButton() const { return m_suggest; }
  QPushButton* applyButton() const { return m_apply; }
  QPushButton* fineTuneButton() const { return m_fineTune; }
  /// "conv1 W4 · …  → 97.1 % · 12.3 kB" of the selection, or a hint.
  QLabel* selectionLabel() const { return m_selection; }
  /// The recovered accuracy of the last fine-tune / calibration next to its prediction.
  QLabel* measuredLabel() const { return m_measured; }
  /// Enables the front's controls: `hasFront` a front is shown, `hasSelection` a point is
  /// selected, `busy` a training or an analysis runs.
  void setControlsEnabled(bool hasFront, bool hasSelection, bool busy);

 Q_SIGNALS:
  void suggestRequested();
  void applyRequested();
  void fineTuneRequested(int epochs);

 private:
  QWidget* createParetoTab();
  SweepHeatmapView* m_heatmap = nullptr;
  SweepCurvesView* m_curves = nullptr;
  ParetoView* m_pareto = nullptr;
  AnalyzerView* m_analyzer = nullptr;
  QTabWidget* m_tabs = nullptr;
  QLabel* m_status = nullptr;
  QDoubleSpinBox* m_maxBytes = nullptr;
  QDoubleSpinBox* m_maxBitOps = nullptr;
  QDoubleSpinBox* m_maxDrop = nullptr;
  QSpinBox* m_epochs = nullptr;
  QPushButton* m_suggest = nullptr;
  QPushButton* m_apply = nullptr;
  QPushButton* m_fineTune = nullptr;
  QLabel* m_selection = nullptr;
  QLabel* m_measured = nullptr;
};

}  // namespace qnn
