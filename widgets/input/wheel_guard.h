// SPDX-License-Identifier: GPL-3.0-or-later
// No silent edits by the mouse wheel: a spin box, double spin box, combo box or slider
// (QAbstractSpinBox, QComboBox, QAbstractSlider other than a scroll bar) changes on a
// wheel turn only while it has keyboard focus. Over an unfocused one the wheel event is
// passed on to its parent, so the scroll area around a form keeps scrolling (a wheel
// event from the mouse; a synthesized one: see below).
// One application-wide event filter, so every panel and dialog — also ones added
// later — gets it without code of its own. It also gives those editors
// Qt::StrongFocus instead of Qt::WheelFocus when they are polished (a wheel turn must
// not give them focus and then change them).
// Passing on to the parent is Qt's, and only for wheel events from the window system
// (spontaneous ones, QEvent::spontaneous()): QApplication offers such an event to the
// widget under the mouse and then to each parent in turn until one accepts it. A wheel
// event synthesized by code (QCoreApplication::sendEvent() or postEvent(): e.g. a
// widget forwarding wheel events, a test) goes to its receiver only. Sent to an
// unfocused guarded editor it is stopped here: the editor does not change, nothing
// scrolls, and the event comes back ignored (isAccepted() false), so the sender can
// pass it on itself (e.g. to the scroll area's viewport).
#pragma once

#include <QObject>

class QWidget;

namespace qnn {

class WheelGuard : public QObject {
  Q_OBJECT
 public:
  /// Installs the guard on the running QApplication (once; later calls do nothing) and
  /// applies the focus policy to the editors that already exist. Called by qnn-studio's
  /// main() and by the panels that hold editors (so they are guarded in any host, e.g.
  /// a test). Needs a QApplication.
  static void install();

  /// Whether `w` is an editor the guard protects (spin box, combo box, slider; not a
  /// scroll bar).
  static bool guards(const QWidget* w);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  explicit WheelGuard(QObject* parent) : QObject(parent) {}
};

}  // namespace qnn
