// SPDX-License-Identifier: GPL-3.0-or-later
// Number formatting shared by the analysis views (and the GUI's and the CLI's analysis
// messages): '.' decimals whatever the locale, so CSV and labels read the same everywhere.
#pragma once

#include <cmath>
#include <cstdint>

#include <QString>

namespace qnn::analysis_format {

/// "97.3 %" from a fraction; "—" for NaN.
inline QString percent(double fraction, int decimals = 1) {
  if (std::isnan(fraction)) return QStringLiteral("—");
  return QString::number(fraction * 100.0, 'f', decimals) + QStringLiteral(" %");
}
/// A CSV number: shortest round-trip form, "" for NaN, "inf"/"-inf".
inline QString csvNumber(double v) {
  if (std::isnan(v)) return QString();
  if (std::isinf(v)) return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
  return QString::number(v, 'g', 10);
}
/// "12.3 kB", "950 B", "1.25 MB" (1 kB = 1000 B).
inline QString bytes(int64_t b) {
  if (b < 1000) return QString::number(b) + QStringLiteral(" B");
  if (b < 1000000) return QString::number(double(b) / 1e3, 'f', 1) + QStringLiteral(" kB");
  return QString::number(double(b) / 1e6, 'f', 2) + QStringLiteral(" MB");
}
/// "3.2 MBitOps", "850 kBitOps", "1.1 GBitOps".
inline QString bitops(double v) {
  if (std::isnan(v)) return QStringLiteral("—");
  if (v >= 1e9) return QString::number(v / 1e9, 'f', 2) + QStringLiteral(" GBitOps");
  if (v >= 1e6) return QString::number(v / 1e6, 'f', 2) + QStringLiteral(" MBitOps");
  if (v >= 1e3) return QString::number(v / 1e3, 'f', 1) + QStringLiteral(" kBitOps");
  return QString::number(v, 'f', 0) + QStringLiteral(" BitOps");
}
/// "warning: the model's accuracy (12.2 %) is near chance (10 %): is it trained? its
/// drops are noise" when `accuracy` (a fraction) is below 1.5 x chance (1 / `classes`);
/// empty otherwise (and for NaN or fewer than 2 classes). The analyses' drops and gains
/// of such a model measure noise, not quantization.
inline QString nearChanceWarning(double accuracy, int64_t classes) {
  if (classes < 2 || !std::isfinite(accuracy)) return QString();
  const double chance = 1.0 / double(classes);
  if (accuracy >= 1.5 * chance) return QString();
  QString c = QString::number(chance * 100.0, 'f', 1);
  if (c.endsWith(QLatin1String(".0"))) c.chop(2);
  return QStringLiteral("warning: the model's accuracy (%1 %) is near chance (%2 %): is it trained? its drops are "
                        "noise")
      .arg(QString::number(accuracy * 100.0, 'f', 1), c);
}
/// A CSV field, quoted when it holds a comma or a quote.
inline QString csvField(const QString& s) {
  if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"'))) return s;
  QString q = s;
  q.replace(QLatin1String("\""), QLatin1String("\"\""));
  return QLatin1Char('"') + q + QLatin1Char('"');
}

}  // namespace qnn::analysis_format
