// SPDX-License-Identifier: GPL-3.0-or-later
// The message of the exception of type Ex that f() throws, for tests that check what a
// user reads: "WRONG EXCEPTION TYPE: ..." for another std::exception, "NOTHING THROWN"
// when f returns.
#pragma once

#include <exception>

#include <QString>

template <typename Ex, typename F>
QString thrown_message(F&& f) {
  try {
    f();
  } catch (const Ex& e) {
    return QString::fromStdString(e.what());
  } catch (const std::exception& e) {
    return QStringLiteral("WRONG EXCEPTION TYPE: ") + e.what();
  }
  return QStringLiteral("NOTHING THROWN");
}
