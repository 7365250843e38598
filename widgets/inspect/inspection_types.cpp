// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/inspect/inspection_types.h"

#include <cmath>

namespace qnn {

QString dbText(double db, int decimals) {
  if (std::isnan(db)) return QStringLiteral("—");
  if (std::isinf(db)) return db > 0 ? QStringLiteral("∞ dB") : QStringLiteral("−∞ dB");
  return QStringLiteral("%1 dB").arg(db, 0, 'f', decimals);
}

QString realText(double v) {
  if (std::isnan(v)) return QStringLiteral("—");
  return QString::number(v, 'g', 4);
}

void registerInspectionMetaTypes() {
  qRegisterMetaType<qnn::InspectionReportPtr>();
  qRegisterMetaType<qnn::MisclassifiedSet>();
}

}  // namespace qnn
