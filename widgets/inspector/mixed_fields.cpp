// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/inspector/mixed_fields.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QKeyEvent>
#include <QSpinBox>
#include <QTimer>

namespace qnn::mixed {
namespace {

constexpr const char* kLowest = "qnnLowest";    ///< a spin box's own minimum (below it: the "mixed" sentinel)
constexpr const char* kBlocked = "qnnMixedBlocker";  ///< the step blocker is installed

QString mixedText() { return QCoreApplication::translate("qnn::LayerInspector", "mixed"); }

/// On a "mixed" spin box or combo box, the keys and the wheel that step it do nothing
/// (see the file comment of mixed_fields.h). The event is eaten: not delivered to the
/// editor, not passed on to its parent.
class MixedStepBlocker : public QObject {
 public:
  using QObject::QObject;

  static void install(QWidget* editor) {
    if (editor->property(kBlocked).toBool()) return;
    editor->setProperty(kBlocked, true);
    editor->installEventFilter(new MixedStepBlocker(editor));
  }

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override {
    const QEvent::Type type = event->type();
    if (type != QEvent::Wheel && type != QEvent::KeyPress) return false;
    auto* spin = qobject_cast<QAbstractSpinBox*>(watched);
    auto* combo = qobject_cast<QComboBox*>(watched);
    if (!(spin && isMixed(spin)) && !(combo && isMixed(combo))) return false;
    if (type == QEvent::Wheel) return true;
    switch (static_cast<QKeyEvent*>(event)->key()) {
      case Qt::Key_Up:
      case Qt::Key_Down:
      case Qt::Key_PageUp:
      case Qt::Key_PageDown: return true;
      case Qt::Key_Home:
      case Qt::Key_End: return combo != nullptr;  // a spin box's Home / End move the text cursor
      default: return false;
    }
  }
};

template <typename Spin, typename T>
void showNumbers(Spin* s, const std::vector<T>& values) {
  if (values.empty()) return;
  if (!s->property(kLowest).isValid()) {
    s->setProperty(kLowest, s->minimum());
    MixedStepBlocker::install(s);
  }
  const T lowest = s->property(kLowest).template value<T>();
  if (!allEqual(values)) {
    s->setSpecialValueText(mixedText());
    s->setMinimum(lowest - 1);
    s->setValue(lowest - 1);
  } else {
    s->setSpecialValueText(QString());
    s->setMinimum(lowest);
    s->setValue(values.front());
  }
}

}  // namespace

void showValues(QSpinBox* spin, const std::vector<int>& values) { showNumbers(spin, values); }
void showValues(QDoubleSpinBox* spin, const std::vector<double>& values) { showNumbers(spin, values); }

void showValues(QCheckBox* box, const std::vector<bool>& values) {
  if (values.empty()) return;
  const bool mixed = !allEqual(values);
  box->setTristate(mixed);
  box->setCheckState(mixed ? Qt::PartiallyChecked : values.front() ? Qt::Checked : Qt::Unchecked);
}

void showValues(QComboBox* combo, const std::vector<QVariant>& values) {
  if (values.empty()) return;
  MixedStepBlocker::install(combo);
  if (!allEqual(values)) {
    combo->setPlaceholderText(mixedText());
    combo->setCurrentIndex(-1);
  } else {
    combo->setCurrentIndex(std::max(0, combo->findData(values.front())));
  }
}

void showNumbers(QWidget* editor, const std::vector<double>& values) {
  if (auto* box = qobject_cast<QCheckBox*>(editor)) {
    std::vector<bool> on;
    for (double v : values) on.push_back(v != 0.0);
    showValues(box, on);
  } else if (auto* d = qobject_cast<QDoubleSpinBox*>(editor)) {
    showValues(d, values);
  } else if (auto* i = qobject_cast<QSpinBox*>(editor)) {
    std::vector<int> ints;
    for (double v : values) ints.push_back(int(v));
    showValues(i, ints);
  }
}

bool isMixed(const QAbstractSpinBox* s) {
  if (s->specialValueText().isEmpty()) return false;
  if (auto* i = qobject_cast<const QSpinBox*>(s)) return i->value() == i->minimum();
  if (auto* d = qobject_cast<const QDoubleSpinBox*>(s)) return d->value() == d->minimum();
  return false;
}

bool isMixed(const QComboBox* combo) { return combo->currentIndex() < 0; }

void onValue(QSpinBox* spin, QObject* context, std::function<void(int)> set, std::function<void()> finished) {
  QObject::connect(spin, &QSpinBox::valueChanged, context, [spin, set](int v) {
    if (!isMixed(spin)) set(v);
  });
  QObject::connect(spin, &QSpinBox::editingFinished, context, std::move(finished));
}

void onValue(QDoubleSpinBox* spin, QObject* context, std::function<void(double)> set, std::function<void()> finished) {
  QObject::connect(spin, &QDoubleSpinBox::valueChanged, context, [spin, set](double v) {
    if (!isMixed(spin)) set(v);
  });
  QObject::connect(spin, &QDoubleSpinBox::editingFinished, context, std::move(finished));
}

void onChecked(QCheckBox* box, QObject* context, std::function<void(bool)> set) {
  QObject::connect(box, &QCheckBox::stateChanged, context, [set](int state) {
    if (state != Qt::PartiallyChecked) set(state == Qt::Checked);
  });
}

void onChosen(QComboBox* combo, QObject* context, std::function<void(int)> chosen) {
  QObject::connect(combo, &QComboBox::currentIndexChanged, context, [chosen](int index) {
    if (index >= 0) chosen(index);
  });
}

void selectMixedOnEntry(QWidget* root) {
  QObject::connect(qApp, &QApplication::focusChanged, root, [root](QWidget*, QWidget* now) {
    QAbstractSpinBox* spin = qobject_cast<QAbstractSpinBox*>(now);
    if (!spin && now) spin = qobject_cast<QAbstractSpinBox*>(now->parentWidget());  // its line edit
    if (spin && root->isAncestorOf(spin) && isMixed(spin)) QTimer::singleShot(0, spin, &QAbstractSpinBox::selectAll);
  });
}

}  // namespace qnn::mixed
