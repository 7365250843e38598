// SPDX-License-Identifier: GPL-3.0-or-later
// Shared look of the inspection plots (colours, bars, legends, marker lines) and a
// small CSV filter. Private to widgets/plots and widgets/inspect.
#pragma once

#include <QColor>
#include <QFont>
#include <QPen>
#include <QString>

class QCPAxisRect;
class QCPBars;
class QCPLegend;
class QCustomPlot;

namespace qnn {

inline const QColor kFloatColor(31, 119, 180);      // blue: float values
inline const QColor kLevelColor(44, 160, 44);       // green: integer levels in use
inline const QColor kSaturatedColor(214, 39, 40);   // red: clipped / saturated / worst
inline const QColor kUnusedColor(170, 170, 170);    // grey: unused levels
inline const QColor kRangeColor(44, 160, 44);       // green: representable range
inline const QColor kOutputColor(230, 120, 20);     // orange: output SQNR

void styleBars(QCPBars* bars, const QColor& color);
void styleLegend(QCPLegend* legend, const QFont& base);
/// A vertical line at x = `x` in `rect`'s coordinates, clipped to the rect.
void addVerticalLine(QCustomPlot* plot, QCPAxisRect* rect, double x, const QPen& pen);
/// The header line of `csv` plus the rows whose first field is `key`.
QString filterCsvRows(const QString& csv, const QString& key);
/// A distinct colour for series `i` (tab10 palette).
QColor seriesColor(int i);

}  // namespace qnn
