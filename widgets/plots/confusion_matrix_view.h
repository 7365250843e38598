// SPDX-License-Identifier: GPL-3.0-or-later
// A painted confusion matrix: rows are true classes, columns predicted classes,
// counts in the cells, shaded by the fraction of the row; the right column gives
// each class's accuracy (recall), the bottom line the overall accuracy.
#pragma once

#include <QStringList>
#include <QVector>
#include <QWidget>

namespace qnn {

class ConfusionMatrixView : public QWidget {
  Q_OBJECT
 public:
  explicit ConfusionMatrixView(QWidget* parent = nullptr);

  /// counts[true][predicted], square; `classNames` may be shorter (indices are shown then).
  void setMatrix(const QVector<QVector<qint64>>& counts, const QStringList& classNames);
  void clear();

  const QVector<QVector<qint64>>& matrix() const { return m_counts; }
  int classCount() const { return int(m_counts.size()); }
  qint64 total() const;
  /// Fraction of class `c`'s samples predicted as `c` (0 when the class is empty).
  double classAccuracy(int c) const;
  /// Sum of the diagonal over the total (0 when empty).
  double accuracy() const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  struct Geometry;
  Geometry geometry() const;
  QString className(int c) const;

  QVector<QVector<qint64>> m_counts;
  QStringList m_names;
};

}  // namespace qnn
