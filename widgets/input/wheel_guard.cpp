// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/input/wheel_guard.h"

#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QApplication>
#include <QComboBox>
#include <QEvent>
#include <QScrollBar>
#include <QWidget>

namespace qnn {
namespace {

/// Wheel focus would let a wheel turn focus the editor and then change it.
void useStrongFocus(QWidget* w) {
  if ((w->focusPolicy() & Qt::WheelFocus) == Qt::WheelFocus) w->setFocusPolicy(Qt::StrongFocus);
}

/// The editor or a child of it (a spin box's line edit) has keyboard focus.
bool hasFocusWithin(const QWidget* w) {
  const QWidget* focus = QApplication::focusWidget();
  return focus && (focus == w || w->isAncestorOf(focus));
}

}  // namespace

void WheelGuard::install() {
  QCoreApplication* app = QCoreApplication::instance();
  if (!qobject_cast<QApplication*>(app)) return;
  if (app->findChild<WheelGuard*>(QString(), Qt::FindDirectChildrenOnly)) return;
  app->installEventFilter(new WheelGuard(app));
  for (QWidget* w : QApplication::allWidgets())
    if (guards(w)) useStrongFocus(w);
}

bool WheelGuard::guards(const QWidget* w) {
  if (!w) return false;
  if (qobject_cast<const QAbstractSpinBox*>(w) || qobject_cast<const QComboBox*>(w)) return true;
  return qobject_cast<const QAbstractSlider*>(w) && !qobject_cast<const QScrollBar*>(w);
}

bool WheelGuard::eventFilter(QObject* watched, QEvent* event) {
  const QEvent::Type type = event->type();
  if (type != QEvent::Wheel && type != QEvent::Polish) return false;
  if (!watched->isWidgetType()) return false;
  auto* w = static_cast<QWidget*>(watched);
  if (!guards(w)) return false;
  if (type == QEvent::Polish) {
    useStrongFocus(w);
    return false;
  }
  if (hasFocusWithin(w)) return false;
  // Not delivered to the editor; ignored, so QApplication hands it to the parent
  // (a scroll area's viewport scrolls).
  event->ignore();
  return true;
}

}  // namespace qnn
