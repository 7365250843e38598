// SPDX-License-Identifier: GPL-3.0-or-later
// A grid of misclassified test images, each captioned with its true class, the
// predicted class and the model's confidence in that (wrong) prediction, in full (the
// cells fit the captions; nothing is elided), in dataset order. Filled after a run
// ends (qnn::inspect::misclassified, computed on the training thread).
#pragma once

#include <QWidget>

#include "widgets/inspect/inspection_types.h"

class QLabel;
class QListWidget;

namespace qnn {

class MisclassifiedGallery : public QWidget {
  Q_OBJECT
 public:
  explicit MisclassifiedGallery(QWidget* parent = nullptr);

  void setSamples(const MisclassifiedSet& set);
  void clear();

  int count() const;
  /// Caption of item `i`: "true: Ankle boot\npredicted: Sneaker (87.3 %)".
  QString caption(int i) const;
  const MisclassifiedSet& samples() const { return m_set; }
  QListWidget* list() const { return m_list; }
  /// index,true,predicted,true_name,predicted_name,confidence
  QString csv() const;

 private:
  QString className(int c) const;
  QString captionText(const MisclassifiedSample& s) const;
  MisclassifiedSet m_set;
  QLabel* m_header = nullptr;
  QListWidget* m_list = nullptr;
};

}  // namespace qnn
