// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/plots/misclassified_gallery.h"

#include <algorithm>

#include <QLabel>
#include <QFontMetrics>
#include <QListWidget>
#include <QPixmap>
#include <QStyle>
#include <QVBoxLayout>

namespace qnn {
namespace {

constexpr int kThumb = 84;  // 28x28 Fashion-MNIST images at 3x, 32x32 padded at ~2.6x
constexpr int kMaxCaption = 280;  // px: wider caption lines wrap

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

QString MisclassifiedGallery::captionText(const MisclassifiedSample& s) const {
  return tr("true: %1\npredicted: %2 (%3 %)")
      .arg(className(s.label), className(s.predicted))
      .arg(s.confidence * 100.0, 0, 'f', 1);
}

void MisclassifiedGallery::setSamples(const MisclassifiedSet& set) {
  m_set = set;
  m_list->clear();
  // The cell is as wide as the widest caption line (up to kMaxCaption px; a longer
  // class name wraps) and as tall as the most wrapped caption, so the view never elides
  // a caption; the tooltip repeats it with the image's index.
  const QFontMetrics fm = m_list->fontMetrics();
  const int margin = 2 * (m_list->style()->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, m_list) + 1) + 8;
  QStringList captions;
  int widest = kThumb;
  for (const MisclassifiedSample& s : set.samples) {
    captions << captionText(s);
    for (const QString& line : captions.back().split(QLatin1Char('\n')))
      widest = std::max(widest, fm.horizontalAdvance(line));
  }
  const int textWidth = std::min(widest, kMaxCaption);
  int textHeight = 2 * fm.lineSpacing();
  for (const QString& c : captions)
    textHeight = std::max(textHeight, fm.boundingRect(QRect(0, 0, textWidth, 100000),
                                                      Qt::AlignHCenter | Qt::TextWordWrap | Qt::TextWrapAnywhere, c)
                                          .height());
  const QSize cell(textWidth + margin, kThumb + textHeight + fm.lineSpacing() + 12);
  m_list->setGridSize(cell);
  for (int i = 0; i < set.samples.size(); ++i) {
    const MisclassifiedSample& s = set.samples[i];
    const QPixmap thumb = QPixmap::fromImage(s.image.scaled(kThumb, kThumb, Qt::KeepAspectRatio, Qt::FastTransformation));
    auto* item = new QListWidgetItem(QIcon(thumb), captions[i]);
    item->setToolTip(tr("test image #%1: true class %2, predicted %3 (%4 % confident)")
                         .arg(s.index)
                         .arg(className(s.label), className(s.predicted))
                         .arg(s.confidence * 100.0, 0, 'f', 1));
    item->setTextAlignment(Qt::AlignHCenter | Qt::AlignTop);
    item->setSizeHint(cell);
    m_list->addItem(item);
  }
  m_list->setCurrentRow(-1);
  m_header->setText(set.samples.isEmpty()
                        ? tr("No misclassified image among %1 test samples.").arg(set.testSamples)
                        : tr("The first %1 misclassified of %2 test images, each captioned with its <b>true</b> class, "
                             "the <b>predicted</b> class and the model's confidence in that (wrong) prediction.")
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
