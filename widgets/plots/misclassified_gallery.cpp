// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/plots/misclassified_gallery.h"

#include <algorithm>

#include <QLabel>
#include <QFontMetrics>
#include <QListWidget>
#include <QPixmap>
#include <QVBoxLayout>

namespace qnn {
namespace {

constexpr int kThumb = 84;  // 28x28 Fashion-MNIST images at 3x, 32x32 padded at ~2.6x

QString csvField(QString s) {
  if (s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')))
    s = QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
  return s;
}

}  // namespace

MisclassifiedGallery::MisclassifiedGallery(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  m_header = new QLabel(this);
  m_header->setObjectName(QStringLiteral("galleryHeader"));
  m_header->setWordWrap(true);
  m_list = new QListWidget(this);
  m_list->setObjectName(QStringLiteral("galleryList"));
  m_list->setViewMode(QListView::IconMode);
  m_list->setIconSize(QSize(kThumb, kThumb));
  m_list->setGridSize(QSize(kThumb + 70, kThumb + 44));
  m_list->setResizeMode(QListView::Adjust);
  m_list->setMovement(QListView::Static);
  m_list->setWordWrap(true);
  m_list->setUniformItemSizes(true);
  m_list->setSelectionMode(QAbstractItemView::SingleSelection);
  layout->addWidget(m_header);
  layout->addWidget(m_list, 1);
  clear();
}

void MisclassifiedGallery::clear() {
  m_set = MisclassifiedSet{};
  m_list->clear();
  m_header->setText(tr("Misclassified test images appear here when a training run ends."));
}

QString MisclassifiedGallery::className(int c) const {
  return c >= 0 && c < m_set.classNames.size() ? m_set.classNames[c] : QString::number(c);
}

void MisclassifiedGallery::setSamples(const MisclassifiedSet& set) {
  m_set = set;
  m_list->clear();
  for (const MisclassifiedSample& s : set.samples) {
    const QPixmap thumb = QPixmap::fromImage(s.image.scaled(kThumb, kThumb, Qt::KeepAspectRatio, Qt::FastTransformation));
    auto* item = new QListWidgetItem(QIcon(thumb), QStringLiteral("%1 / %2\n%3%")
                                                       .arg(className(s.predicted), className(s.label))
                                                       .arg(s.confidence * 100.0, 0, 'f', 0));
    item->setToolTip(tr("test image #%1: predicted %2 (%3% confident), true class %4")
                         .arg(s.index)
                         .arg(className(s.predicted))
                         .arg(s.confidence * 100.0, 0, 'f', 1)
                         .arg(className(s.label)));
    item->setTextAlignment(Qt::AlignHCenter | Qt::AlignTop);
    m_list->addItem(item);
  }
  // The grid fits the widest caption line (two lines plus one spare for wrapping),
  // so "airplane / automobile" is not cut off.
  const QFontMetrics fm = m_list->fontMetrics();
  int widest = kThumb;
  for (int i = 0; i < m_list->count(); ++i)
    for (const QString& line : m_list->item(i)->text().split(QLatin1Char('\n')))
      widest = std::max(widest, fm.horizontalAdvance(line));
  m_list->setGridSize(QSize(std::min(widest, 260) + 20, kThumb + 3 * fm.lineSpacing() + 16));
  m_list->setCurrentRow(-1);
  m_header->setText(set.samples.isEmpty()
                        ? tr("No misclassified image among %1 test samples.").arg(set.testSamples)
                        : tr("The first %1 misclassified of %2 test images, captioned <b>predicted / true</b> and the "
                             "confidence of the wrong prediction.")
                              .arg(set.samples.size())
                              .arg(set.testSamples));
}

int MisclassifiedGallery::count() const { return m_list->count(); }

QString MisclassifiedGallery::caption(int i) const {
  return i >= 0 && i < m_list->count() ? m_list->item(i)->text() : QString();
}

QString MisclassifiedGallery::csv() const {
  QString out = QStringLiteral("index,true,predicted,true_name,predicted_name,confidence\n");
  for (const MisclassifiedSample& s : m_set.samples)
    out += QStringLiteral("%1,%2,%3,%4,%5,%6\n")
               .arg(s.index)
               .arg(s.label)
               .arg(s.predicted)
               .arg(csvField(className(s.label)), csvField(className(s.predicted)))
               .arg(s.confidence, 0, 'f', 6);
  return out;
}

}  // namespace qnn
