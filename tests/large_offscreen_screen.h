// SPDX-License-Identifier: GPL-3.0-or-later
// For GUI tests: the offscreen platform's screen is 800 x 600, so restoreGeometry() and
// the layouts would shrink windows to it. Call before the QApplication is created:
// under QT_QPA_PLATFORM=offscreen the screen becomes 1920 x 1200 at 96 dpi (a
// configuration file in `configDir`, which must outlive the application); any other
// platform is left alone.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QTemporaryDir>

namespace qnn_test {

inline void useLargeOffscreenScreen(const QTemporaryDir& configDir, const char* screenName) {
  if (qgetenv("QT_QPA_PLATFORM") != "offscreen" || !configDir.isValid()) return;
  const QString config = configDir.filePath(QStringLiteral("screens.json"));
  QFile f(config);
  if (f.open(QIODevice::WriteOnly))
    f.write(QByteArray(R"({"screens": [{"name": ")") + screenName +
            R"(", "x": 0, "y": 0, "width": 1920, "height": 1200, "logicalDpi": 96, "dpr": 1}]})");
  f.close();
  qputenv("QT_QPA_PLATFORM", "offscreen:configfile=" + config.toLocal8Bit());
}

}  // namespace qnn_test
