// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/plots/plot_export.h"

#include <QAction>
#include <QApplication>
#include <QBuffer>
#include <QClipboard>
#include <QDir>
#include <QFileDialog>
#include <QImage>
#include <QLayout>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QSaveFile>
#include <QSvgGenerator>

#include "widgets/input/file_names.h"
#include "widgets/plots/qcustomplot_include.h"

namespace qnn {
namespace {

/// The folder of the last file saved from any view (the next dialog opens there).
QString& lastDir() {
  static QString dir = QDir::homePath();
  return dir;
}

/// The QCustomPlot that stands for `view` in a file: the view itself, else its child
/// named "exportPlot", else nullptr (the widget is rendered as it is drawn).
QCustomPlot* exportPlot(QWidget* view) {
  if (auto* plot = qobject_cast<QCustomPlot*>(view)) return plot;
  return view->findChild<QCustomPlot*>(QStringLiteral("exportPlot"));
}

QSize targetSize(QWidget* w, int width, int height) {
  QSize s = w->size();
  if (width > 0) s.setWidth(width);
  if (height > 0) s.setHeight(height);
  if (s.width() < 16 || s.height() < 16) s = w->sizeHint().expandedTo(QSize(320, 240));
  return s;
}

/// Renders a non-plot widget at `size` (resizing it when it is not on screen).
QImage renderWidget(QWidget* w, QSize size) {
  if (!w->isVisible() && w->size() != size) w->resize(size);
  w->ensurePolished();
  if (w->layout()) w->layout()->activate();
  QImage img(w->size(), QImage::Format_ARGB32);
  img.fill(Qt::white);
  w->render(&img);
  return img;
}

bool commit(QSaveFile& file, const QString& path, QString* error) {
  if (!file.commit()) {
    if (error) *error = QObject::tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
    return false;
  }
  return true;
}

bool openFile(QSaveFile& file, const QString& path, QString* error) {
  if (!file.open(QIODevice::WriteOnly)) {
    if (error) *error = QObject::tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
    return false;
  }
  return true;
}

}  // namespace

bool saveViewPng(QWidget* view, const QString& path, QString* error, int width, int height) {
  QSaveFile file(path);
  if (!openFile(file, path, error)) return false;
  QImage image;
  if (QCustomPlot* plot = exportPlot(view)) {
    const QSize s = targetSize(plot, width, height);
    image = plot->toPixmap(s.width(), s.height()).toImage();
  } else {
    image = renderWidget(view, targetSize(view, width, height));
  }
  if (image.isNull() || !image.save(&file, "PNG")) {
    file.cancelWriting();
    if (error) *error = QObject::tr("Cannot render %1 as PNG").arg(QDir::toNativeSeparators(path));
    return false;
  }
  return commit(file, path, error);
}

bool saveViewSvg(QWidget* view, const QString& path, QString* error, int width, int height) {
  QSaveFile file(path);
  if (!openFile(file, path, error)) return false;
  QCustomPlot* plot = exportPlot(view);
  QWidget* source = plot ? static_cast<QWidget*>(plot) : view;
  const QSize s = targetSize(source, width, height);
  QSvgGenerator svg;
  svg.setOutputDevice(&file);
  svg.setSize(s);
  svg.setViewBox(QRect(QPoint(0, 0), s));
  svg.setTitle(view->windowTitle().isEmpty() ? view->objectName() : view->windowTitle());
  svg.setDescription(QObject::tr("QNN Studio inspection view"));
  if (plot) {
    QCPPainter painter(&svg);
    plot->toPainter(&painter, s.width(), s.height());
    painter.end();
  } else {
    if (!view->isVisible() && view->size() != s) view->resize(s);
    if (view->layout()) view->layout()->activate();
    QPainter painter(&svg);
    view->render(&painter);
    painter.end();
  }
  return commit(file, path, error);
}

bool saveText(const QString& path, const QString& text, QString* error) {
  QSaveFile file(path);
  if (!openFile(file, path, error)) return false;
  const QByteArray bytes = text.toUtf8();
  if (file.write(bytes) != bytes.size()) {
    file.cancelWriting();
    if (error) *error = QObject::tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
    return false;
  }
  return commit(file, path, error);
}

void installExportMenu(QWidget* view, const std::function<QString()>& baseName, CsvSource csv) {
  auto suggested = [baseName](const QString& ext) {
    return QDir(lastDir()).filePath((baseName ? baseName() : QStringLiteral("view")) + ext);
  };
  auto report = [view](bool ok, const QString& error) {
    if (!ok) QMessageBox::warning(view, QObject::tr("Cannot save"), error);
  };
  auto* png = new QAction(QObject::tr("Save as PNG…"), view);
  png->setObjectName(QStringLiteral("savePngAction"));
  QObject::connect(png, &QAction::triggered, view, [view, suggested, report] {
    QString path = QFileDialog::getSaveFileName(view, QObject::tr("Save as PNG"), suggested(QStringLiteral(".png")),
                                                      QObject::tr("PNG images (*.png)"));
    path = withDefaultSuffix(path, QStringLiteral(".png"));
    if (path.isEmpty()) return;
    lastDir() = QFileInfo(path).absolutePath();
    QString error;
    report(saveViewPng(view, path, &error), error);
  });
  auto* svg = new QAction(QObject::tr("Save as SVG…"), view);
  svg->setObjectName(QStringLiteral("saveSvgAction"));
  QObject::connect(svg, &QAction::triggered, view, [view, suggested, report] {
    QString path = QFileDialog::getSaveFileName(view, QObject::tr("Save as SVG"), suggested(QStringLiteral(".svg")),
                                                      QObject::tr("SVG images (*.svg)"));
    path = withDefaultSuffix(path, QStringLiteral(".svg"));
    if (path.isEmpty()) return;
    lastDir() = QFileInfo(path).absolutePath();
    QString error;
    report(saveViewSvg(view, path, &error), error);
  });
  auto* copy = new QAction(QObject::tr("Copy data"), view);
  copy->setObjectName(QStringLiteral("copyDataAction"));
  copy->setToolTip(QObject::tr("Copy the numbers behind this view as CSV"));
  QObject::connect(copy, &QAction::triggered, view, [csv] {
    if (csv) QApplication::clipboard()->setText(csv());
  });
  auto* exportCsv = new QAction(QObject::tr("Export CSV…"), view);
  exportCsv->setObjectName(QStringLiteral("exportCsvAction"));
  QObject::connect(exportCsv, &QAction::triggered, view, [view, csv, suggested, report] {
    if (!csv) return;
    QString path = QFileDialog::getSaveFileName(view, QObject::tr("Export CSV"), suggested(QStringLiteral(".csv")),
                                                      QObject::tr("CSV files (*.csv)"));
    path = withDefaultSuffix(path, QStringLiteral(".csv"));
    if (path.isEmpty()) return;
    lastDir() = QFileInfo(path).absolutePath();
    QString error;
    report(saveText(path, csv(), &error), error);
  });
  auto* separator = new QAction(view);
  separator->setSeparator(true);
  view->addActions({png, svg, separator, copy, exportCsv});
  view->setContextMenuPolicy(Qt::ActionsContextMenu);
  // QCustomPlot sets Qt::WA_NoMousePropagation, so a right click on a plot never
  // reaches `view`'s menu: every plot inside the view shows the same actions itself.
  QList<QCustomPlot*> plots = view->findChildren<QCustomPlot*>();
  if (auto* self = qobject_cast<QCustomPlot*>(view)) plots.removeAll(self);
  for (QCustomPlot* plot : plots) {
    plot->addActions({png, svg, separator, copy, exportCsv});
    plot->setContextMenuPolicy(Qt::ActionsContextMenu);
  }
}

void addExportActions(QMenu* menu, QWidget* view) {
  for (const char* name : {"savePngAction", "saveSvgAction", "copyDataAction", "exportCsvAction"})
    if (auto* a = view->findChild<QAction*>(QLatin1String(name), Qt::FindDirectChildrenOnly)) menu->addAction(a);
}

}  // namespace qnn
