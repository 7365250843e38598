// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/plots/inspect_plot_style.h"

#include <QStringList>

#include "widgets/plots/qcustomplot_include.h"

namespace qnn {

void styleBars(QCPBars* bars, const QColor& color) {
  bars->setPen(QPen(color.darker(125), 1));
  bars->setBrush(QColor(color.red(), color.green(), color.blue(), 200));
  bars->setAntialiased(false);
}

void styleLegend(QCPLegend* legend, const QFont& base) {
  QFont f = base;
  f.setPointSizeF(f.pointSizeF() * 0.85);
  legend->setFont(f);
  legend->setBrush(QColor(255, 255, 255, 215));
  legend->setBorderPen(QPen(QColor(180, 180, 180)));
}

void addVerticalLine(QCustomPlot* plot, QCPAxisRect* rect, double x, const QPen& pen) {
  auto* line = new QCPItemStraightLine(plot);
  line->setClipAxisRect(rect);
  line->point1->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
  line->point2->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
  line->point1->setCoords(x, 0.0);
  line->point2->setCoords(x, 1.0);
  line->setPen(pen);
  line->setSelectable(false);
}

QString filterCsvRows(const QString& csv, const QString& key) {
  const QStringList lines = csv.split(QLatin1Char('\n'));
  QStringList out;
  for (int i = 0; i < lines.size(); ++i) {
    const QString& l = lines[i];
    if (i == 0 || l.section(QLatin1Char(','), 0, 0) == key ||
        l.section(QLatin1Char(','), 0, 0) == QLatin1Char('"') + key + QLatin1Char('"'))
      if (!l.isEmpty()) out << l;
  }
  return out.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

QColor seriesColor(int i) {
  static const QColor palette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},
                                   {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                   {188, 189, 34},  {23, 190, 207}};
  return palette[((i % 10) + 10) % 10];
}

}  // namespace qnn
