// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/analysis/analysis_view_base.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "core/analysis/analysis.h"
#include "widgets/plots/plot_export.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {
namespace {
const char* kVeilName = "staleVeil";
}

AnalysisViewBase::AnalysisViewBase(const QString& exportBaseName, QWidget* parent)
    : QWidget(parent), m_baseName(exportBaseName) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  m_banner = new QLabel(this);
  m_banner->setObjectName(QStringLiteral("staleBanner"));
  m_banner->setWordWrap(true);
  m_banner->setStyleSheet(QStringLiteral("QLabel { background: #6e6e6e; color: white; padding: 3px 6px; "
                                         "font-weight: bold; }"));
  m_banner->setToolTip(tr("This result was computed for a different network or weights. "
                          "Run it again to see current numbers."));
  m_banner->hide();
  layout->addWidget(m_banner);
  m_content = new QVBoxLayout;
  m_content->setContentsMargins(0, 0, 0, 0);
  m_content->setSpacing(2);
  layout->addLayout(m_content, 1);
}

void AnalysisViewBase::setStale(bool stale, const QString& why) {
  m_stale = stale;
  m_why = stale ? why : QString();
  m_banner->setText(staleText());
  m_banner->setVisible(stale);
  refreshVeil();
  staleChanged();
}

QString AnalysisViewBase::staleText() const {
  if (!m_stale) return QString();
  return m_why.isEmpty() ? tr("stale: the network changed since this result was computed")
                         : tr("stale: %1").arg(m_why);
}

QString AnalysisViewBase::stalePrefix() const { return m_stale ? tr("STALE · ") : QString(); }

void AnalysisViewBase::addStalePlot(QCustomPlot* plot) { m_plots << plot; }

QCustomPlot* AnalysisViewBase::createTitledPlot(int minW, int minH, int titlePointSize, QCPTextElement*& title) {
  auto* plot = new QCustomPlot(this);
  plot->setObjectName(QStringLiteral("exportPlot"));
  plot->setMinimumSize(minW, minH);
  plot->plotLayout()->insertRow(0);
  title = new QCPTextElement(plot, QString(), QFont(font().family(), titlePointSize, QFont::Bold));
  plot->plotLayout()->addElement(0, 0, title);
  return plot;
}

QComboBox* AnalysisViewBase::addCostAxisRow(const QString& label) {
  auto* bar = new QHBoxLayout;
  bar->setContentsMargins(4, 0, 4, 0);
  bar->addWidget(new QLabel(label, this));
  auto* box = new QComboBox(this);
  box->setObjectName(QStringLiteral("costAxisBox"));
  box->addItem(tr("model size (bytes)"), int(analysis::CostAxis::SizeBytes));
  box->addItem(tr("BitOps per sample"), int(analysis::CostAxis::BitOps));
  bar->addWidget(box);
  bar->addStretch(1);
  contentLayout()->addLayout(bar);
  return box;
}

void AnalysisViewBase::installExport() {
  const QString base = m_baseName;
  installExportMenu(this, [base] { return base; }, [this] { return csv(); });
}

void AnalysisViewBase::refreshVeil() {
  for (QCustomPlot* plot : m_plots) {
    // One white rectangle over the whole plot on the top layer: dims what is under it
    // on screen and in exported files. Views may clear items; look it up each time.
    QCPItemRect* veil = nullptr;
    for (int i = 0; i < plot->itemCount(); ++i)
      if (plot->item(i)->objectName() == QLatin1String(kVeilName)) veil = qobject_cast<QCPItemRect*>(plot->item(i));
    if (!m_stale) {
      if (veil) plot->removeItem(veil);
      plot->replot(QCustomPlot::rpQueuedReplot);
      continue;
    }
    if (!veil) {
      if (!plot->layer(QStringLiteral("veil"))) plot->addLayer(QStringLiteral("veil"), nullptr, QCustomPlot::limAbove);
      veil = new QCPItemRect(plot);
      veil->setObjectName(QLatin1String(kVeilName));
      veil->setLayer(QStringLiteral("veil"));
      veil->setSelectable(false);
      veil->setClipAxisRect(plot->axisRect());
      for (QCPItemPosition* p : {veil->topLeft, veil->bottomRight}) {
        p->setType(QCPItemPosition::ptAxisRectRatio);
        p->setAxisRect(plot->axisRect());
      }
      veil->topLeft->setCoords(0.0, 0.0);
      veil->bottomRight->setCoords(1.0, 1.0);
      veil->setPen(Qt::NoPen);
      veil->setBrush(QColor(255, 255, 255, 150));
    }
    plot->replot(QCustomPlot::rpQueuedReplot);
  }
}

}  // namespace qnn
