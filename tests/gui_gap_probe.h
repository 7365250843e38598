// SPDX-License-Identifier: GPL-3.0-or-later
// For GUI tests: is the event loop still turning while a worker thread trains? A 20 ms
// timer on the GUI thread counts its ticks and the longest gap between two of them; a
// blocked event loop shows one gap as long as the whole wait.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <algorithm>

namespace qnn_test {

struct GuiGapProbe {
  QTimer timer;
  QElapsedTimer clock;
  int ticks = 0;
  qint64 maxGapMs = 0;  ///< longest time between two ticks (or from start() to the first)
  qint64 last = 0;

  GuiGapProbe() {
    timer.setInterval(20);
    QObject::connect(&timer, &QTimer::timeout, [this] {
      const qint64 now = clock.elapsed();
      maxGapMs = std::max(maxGapMs, now - last);
      last = now;
      ++ticks;
    });
  }
  void start() {
    clock.start();
    timer.start();
  }
  void stop() { timer.stop(); }
};

}  // namespace qnn_test
