// SPDX-License-Identifier: GPL-3.0-or-later
// What the four analysis views (heat map, curves, Pareto front, analyzer) share: a grey
// banner above the content that says why the result is stale ("stale: the network
// changed since this sweep"), the plots dimmed under a white veil and their title
// prefixed "STALE" (so an exported PNG/SVG says it too), and the Save as PNG/SVG,
// Copy data, Export CSV context menu of widgets/plots/plot_export.h.
// A stale result is still shown (the user may want to compare) but never as current.
#pragma once

#include <QList>
#include <QString>
#include <QWidget>

class QComboBox;
class QCPTextElement;
class QCustomPlot;
class QLabel;
class QVBoxLayout;

namespace qnn {

class AnalysisViewBase : public QWidget {
  Q_OBJECT
 public:
  /// Marks the content stale (`stale` true: banner "stale: <why>" shown, plots dimmed)
  /// or current again. Kept across setRecord/setReport until called again;
  /// clear() resets it.
  void setStale(bool stale, const QString& why = QString());
  bool isStale() const { return m_stale; }
  /// The banner's text ("" when current).
  QString staleText() const;
  QLabel* staleBanner() const { return m_banner; }

  /// Removes the result (the view shows its "nothing yet" hint) and the stale mark.
  virtual void clear() = 0;
  /// The numbers behind the view as CSV, '.' decimals ("" when there is no result):
  /// what "Copy data" and "Export CSV…" of the context menu write.
  virtual QString csv() const = 0;
  /// True when a result is shown.
  virtual bool hasResult() const = 0;

 protected:
  /// `exportBaseName`: the suggested file name of the context menu ("sweep_heatmap").
  AnalysisViewBase(const QString& exportBaseName, QWidget* parent);
  /// The layout under the banner where a view puts its content.
  QVBoxLayout* contentLayout() const { return m_content; }
  /// A plot named "exportPlot" (the one the export menu saves), at least minW x minH
  /// pixels, with a bold title of `titlePointSize` points in a row of its own on top;
  /// `title` receives that title element.
  QCustomPlot* createTitledPlot(int minW, int minH, int titlePointSize, QCPTextElement*& title);
  /// Adds "label [model size (bytes) | BitOps per sample]" as a row of the content
  /// layout; the combo box ("costAxisBox") holds analysis::CostAxis values as data.
  QComboBox* addCostAxisRow(const QString& label);
  /// Registers a plot to be dimmed when stale; call once per plot, after creating it.
  void addStalePlot(QCustomPlot* plot);
  /// Installs the export context menu; call at the end of the view's constructor
  /// (after every plot exists).
  void installExport();
  /// Called after the stale state changed (views re-title their plots).
  virtual void staleChanged() {}
  /// Redraws the veil over the registered plots (after a view rebuilt them).
  void refreshVeil();
  /// "STALE · " when stale, else "" (prefix of plot titles).
  QString stalePrefix() const;

 private:
  QString m_baseName;
  bool m_stale = false;
  QString m_why;
  QLabel* m_banner = nullptr;
  QVBoxLayout* m_content = nullptr;
  QList<QCustomPlot*> m_plots;
};

}  // namespace qnn
