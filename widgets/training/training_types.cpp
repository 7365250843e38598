// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/training/training_types.h"

#include <algorithm>
#include <cmath>

namespace qnn {

double TrainingProgressInfo::epochPosition() const {
  if (epoch <= 0) return 0.0;
  if (phase != Phase::Training || batchesPerEpoch <= 0) return double(epoch);
  return double(epoch - 1) + double(batch) / double(batchesPerEpoch);
}

double TrainingProgressInfo::fractionDone() const {
  if (phase == Phase::Finished) return 1.0;
  if (epochs <= 0) return 0.0;
  const double f = epochPosition() / double(epochs);
  return std::clamp(f, 0.0, 1.0);
}

double TrainingProgressInfo::secondsLeft() const {
  const double f = fractionDone();
  if (f <= 0.0 || seconds <= 0.0) return -1.0;
  return seconds * (1.0 - f) / f;
}

QString formatDuration(double seconds) {
  if (!(seconds >= 0.0) || !std::isfinite(seconds)) return QStringLiteral("–");
  const qint64 s = qint64(std::llround(seconds));
  const qint64 h = s / 3600, m = (s / 60) % 60, sec = s % 60;
  if (h > 0)
    return QStringLiteral("%1:%2:%3").arg(h).arg(m, 2, 10, QLatin1Char('0')).arg(sec, 2, 10, QLatin1Char('0'));
  return QStringLiteral("%1:%2").arg(m).arg(sec, 2, 10, QLatin1Char('0'));
}

}  // namespace qnn
