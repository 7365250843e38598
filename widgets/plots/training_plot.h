// SPDX-License-Identifier: GPL-3.0-or-later
// Live training curves: loss (train per report, test per epoch) and accuracy
// (running train accuracy, test accuracy per epoch) against epochs, on QCustomPlot.
#pragma once

#include <QWidget>

#include "widgets/training/training_types.h"

class QCustomPlot;
class QCPGraph;
class QLabel;

namespace qnn {

class TrainingPlot : public QWidget {
  Q_OBJECT
 public:
  explicit TrainingPlot(QWidget* parent = nullptr);

  /// Removes every point (a new run starts); `epochs` sets the x range [0, epochs].
  /// The curves are current again (setStale(false)).
  void clear(int epochs = 1);
  /// Marks the curves as those of a run whose model is no longer current (discarded by
  /// an edit, replaced by loaded weights...): a banner above the plots says `reason`
  /// and the curves turn paler and dashed (train still blue, test still orange, so the
  /// legend tells them apart); the points stay. setStale(false) shows them as current.
  void setStale(bool stale, const QString& reason = QString());
  bool isStale() const { return m_stale; }
  /// The banner's text ("" when the curves are current).
  QString staleReason() const;
  /// Adds one train point at `epochPosition` (1.5 = half-way through epoch 2).
  /// loss in nats per sample, accuracy in [0, 1].
  void addTrainPoint(double epochPosition, double loss, double accuracy);
  /// Adds the test metrics at the end of `epoch` (1-based).
  void addTestPoint(double epoch, double loss, double accuracy);
  /// Training reports become train points, EpochDone reports test points.
  void addProgress(const TrainingProgressInfo& info);

  int trainPointCount() const;
  int testPointCount() const;
  /// The points as CSV: "series,epoch,loss,accuracy", train rows then test rows
  /// (what "Copy data" / "Export CSV…" of the plot's context menu write).
  QString csv() const;
  QCustomPlot* lossPlot() const { return m_lossPlot; }
  QCustomPlot* accuracyPlot() const { return m_accuracyPlot; }

 private:
  void rescale();
  void applyPens();
  QLabel* m_banner = nullptr;
  bool m_stale = false;
  QCustomPlot* m_lossPlot = nullptr;
  QCustomPlot* m_accuracyPlot = nullptr;
  QCPGraph* m_trainLoss = nullptr;
  QCPGraph* m_testLoss = nullptr;
  QCPGraph* m_trainAccuracy = nullptr;
  QCPGraph* m_testAccuracy = nullptr;
  double m_maxX = 1.0;
  double m_maxLoss = 0.0;
};

}  // namespace qnn
