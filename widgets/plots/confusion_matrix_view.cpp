// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/plots/confusion_matrix_view.h"

#include <algorithm>

#include <QEvent>
#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

namespace qnn {
namespace {

const QColor kCorrect(31, 119, 180);  // diagonal: blue
const QColor kWrong(214, 39, 40);     // confusions: red

QColor blend(const QColor& to, double t) {
  t = std::clamp(t, 0.0, 1.0);
  return QColor::fromRgbF(float(1.0 + (to.redF() - 1.0) * t), float(1.0 + (to.greenF() - 1.0) * t),
                          float(1.0 + (to.blueF() - 1.0) * t));
}

}  // namespace

struct ConfusionMatrixView::Geometry {
  QRectF grid;       ///< the n x n cells
  double cell = 0;   ///< cell side
  QRectF rowLabels;  ///< left of the grid
  QRectF accColumn;  ///< right of the grid
  QFont font, small;
};

ConfusionMatrixView::ConfusionMatrixView(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ConfusionMatrixView::setMatrix(const QVector<QVector<qint64>>& counts,
                                    const QStringList& classNames) {
  m_counts = counts;
  m_names = classNames;
  update();
}

void ConfusionMatrixView::clear() {
  m_counts.clear();
  update();
}

qint64 ConfusionMatrixView::total() const {
  qint64 t = 0;
  for (const auto& row : m_counts)
    for (qint64 v : row) t += v;
  return t;
}

double ConfusionMatrixView::classAccuracy(int c) const {
  if (c < 0 || c >= m_counts.size()) return 0.0;
  qint64 row = 0;
  for (qint64 v : m_counts[c]) row += v;
  return row > 0 && c < m_counts[c].size() ? double(m_counts[c][c]) / double(row) : 0.0;
}

double ConfusionMatrixView::accuracy() const {
  const qint64 t = total();
  if (t == 0) return 0.0;
  qint64 diag = 0;
  for (int c = 0; c < m_counts.size(); ++c)
    if (c < m_counts[c].size()) diag += m_counts[c][c];
  return double(diag) / double(t);
}

QSize ConfusionMatrixView::sizeHint() const { return {460, 400}; }
QSize ConfusionMatrixView::minimumSizeHint() const { return {260, 220}; }

QString ConfusionMatrixView::className(int c) const {
  return c < m_names.size() ? m_names[c] : QString::number(c);
}

ConfusionMatrixView::Geometry ConfusionMatrixView::geometry() const {
  Geometry g;
  const int n = std::max(1, classCount());
  g.font = font();
  g.small = font();
  g.small.setPointSizeF(std::max(6.0, font().pointSizeF() * 0.85));
  const QFontMetricsF fm(g.small);
  double labelWidth = 0;
  for (int c = 0; c < n; ++c)
    labelWidth = std::max(labelWidth, fm.horizontalAdvance(QStringLiteral("%1 %2").arg(c).arg(className(c))));
  labelWidth += 8;
  const double accWidth = fm.horizontalAdvance(QStringLiteral("100.0%")) + 10;
  const double top = fm.height() * 2 + 6;     // title "predicted" + column indices
  const double bottom = fm.height() + 8;      // overall accuracy line
  const QRectF area = QRectF(rect()).adjusted(4, 4, -4, -4);
  const double availW = area.width() - labelWidth - accWidth;
  const double availH = area.height() - top - bottom;
  g.cell = std::max(4.0, std::min(availW, availH) / n);
  const double gridSide = g.cell * n;
  const double left = area.left() + std::max(0.0, (area.width() - labelWidth - gridSide - accWidth) / 2);
  g.rowLabels = QRectF(left, area.top() + top, labelWidth, gridSide);
  g.grid = QRectF(left + labelWidth, area.top() + top, gridSide, gridSide);
  g.accColumn = QRectF(g.grid.right(), g.grid.top(), accWidth, gridSide);
  return g;
}

void ConfusionMatrixView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing, false);
  p.fillRect(rect(), palette().base());
  if (m_counts.isEmpty()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect().adjusted(12, 12, -12, -12), Qt::AlignCenter | Qt::TextWordWrap,
               tr("Train the model to see its confusion matrix on the test set."));
    return;
  }
  const int n = classCount();
  const Geometry g = geometry();
  const QFontMetricsF fmSmall(g.small);
  const QColor text = palette().color(QPalette::Text);

  // Headers: "predicted" over the column indices, the accuracy column title.
  p.setFont(g.small);
  p.setPen(text);
  const double headerH = fmSmall.height();
  p.drawText(QRectF(g.grid.left(), g.grid.top() - 2 * headerH - 4, g.grid.width(), headerH),
             Qt::AlignCenter, tr("predicted class →"));
  p.drawText(QRectF(g.rowLabels.left(), g.grid.top() - 2 * headerH - 4, g.rowLabels.width(), headerH),
             Qt::AlignRight | Qt::AlignVCenter, tr("true class ↓ "));
  for (int c = 0; c < n; ++c)
    p.drawText(QRectF(g.grid.left() + c * g.cell, g.grid.top() - headerH - 2, g.cell, headerH),
               Qt::AlignCenter, QString::number(c));
  p.drawText(QRectF(g.accColumn.left(), g.grid.top() - headerH - 2, g.accColumn.width(), headerH),
             Qt::AlignCenter, tr("recall"));

  // Cell font: as large as fits "9999" in a cell.
  QFont cellFont = g.small;
  const QString widest = QString::number(std::max<qint64>(1, [&] {
    qint64 m = 0;
    for (const auto& row : m_counts) for (qint64 v : row) m = std::max(m, v);
    return m;
  }()));
  for (double pt = g.small.pointSizeF(); pt > 5.0; pt -= 0.5) {
    cellFont.setPointSizeF(pt);
    if (QFontMetricsF(cellFont).horizontalAdvance(widest) < g.cell - 3) break;
  }

  for (int r = 0; r < n; ++r) {
    qint64 rowTotal = 0;
    for (qint64 v : m_counts[r]) rowTotal += v;
    p.setFont(g.small);
    p.setPen(text);
    p.drawText(QRectF(g.rowLabels.left(), g.grid.top() + r * g.cell, g.rowLabels.width() - 6, g.cell),
               Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("%1 %2").arg(className(r)).arg(r));
    for (int c = 0; c < n; ++c) {
      const qint64 v = c < m_counts[r].size() ? m_counts[r][c] : 0;
      const double frac = rowTotal > 0 ? double(v) / double(rowTotal) : 0.0;
      // Confusions are small fractions: stretch them so a 10% confusion is visible.
      const QColor fill = r == c ? blend(kCorrect, frac) : blend(kWrong, std::min(1.0, frac * 2.5));
      const QRectF cell(g.grid.left() + c * g.cell, g.grid.top() + r * g.cell, g.cell, g.cell);
      p.fillRect(cell, fill);
      if (v > 0 && g.cell >= 14) {
        p.setFont(cellFont);
        p.setPen(fill.lightnessF() < 0.55 ? Qt::white : QColor(40, 40, 40));
        p.drawText(cell, Qt::AlignCenter, QString::number(v));
      }
    }
    const double acc = classAccuracy(r);
    p.setFont(g.small);
    p.setPen(text);
    p.drawText(QRectF(g.accColumn.left() + 4, g.grid.top() + r * g.cell, g.accColumn.width() - 4, g.cell),
               Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("%1%").arg(acc * 100.0, 0, 'f', 1));
  }
  p.setPen(QPen(QColor(160, 160, 160), 1));
  p.setBrush(Qt::NoBrush);
  p.drawRect(g.grid);

  p.setFont(g.small);
  p.setPen(text);
  p.drawText(QRectF(g.rowLabels.left(), g.grid.bottom() + 4, g.rowLabels.width() + g.grid.width() + g.accColumn.width(),
                    fmSmall.height() + 2),
             Qt::AlignCenter,
             tr("%1 test samples · accuracy %2%").arg(total()).arg(accuracy() * 100.0, 0, 'f', 2));
}

bool ConfusionMatrixView::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip && !m_counts.isEmpty()) {
    auto* help = static_cast<QHelpEvent*>(event);
    const Geometry g = geometry();
    if (g.grid.contains(help->pos())) {
      const int c = std::clamp(int((help->pos().x() - g.grid.left()) / g.cell), 0, classCount() - 1);
      const int r = std::clamp(int((help->pos().y() - g.grid.top()) / g.cell), 0, classCount() - 1);
      qint64 rowTotal = 0;
      for (qint64 v : m_counts[r]) rowTotal += v;
      const qint64 v = c < m_counts[r].size() ? m_counts[r][c] : 0;
      QToolTip::showText(help->globalPos(),
                         tr("true %1 → predicted %2: %3 (%4% of %1)")
                             .arg(className(r), className(c))
                             .arg(v)
                             .arg(rowTotal > 0 ? 100.0 * double(v) / double(rowTotal) : 0.0, 0, 'f', 1),
                         this);
    } else {
      QToolTip::hideText();
    }
    return true;
  }
  return QWidget::event(event);
}

}  // namespace qnn
