// SPDX-License-Identifier: GPL-3.0-or-later
// Saving a view as PNG / SVG and its numbers as CSV, the same way for every plot of
// the inspection views: a context menu "Save as PNG…", "Save as SVG…", "Copy data",
// "Export CSV…". QCustomPlot views are rendered through QCustomPlot itself (vector
// output in SVG); any other widget through QWidget::render. Files are written
// atomically (QSaveFile).
#pragma once

#include <functional>

#include <QString>

class QMenu;
class QWidget;

namespace qnn {

/// Writes `view` as a PNG of its current size (or width x height when > 0). Returns
/// false and sets `error` (file name and reason) when the file cannot be written.
bool saveViewPng(QWidget* view, const QString& path, QString* error = nullptr, int width = 0, int height = 0);
/// Writes `view` as SVG (Qt SVG generator; a QCustomPlot's lines and text stay vectors).
bool saveViewSvg(QWidget* view, const QString& path, QString* error = nullptr, int width = 0, int height = 0);
/// Writes `text` (UTF-8) atomically.
bool saveText(const QString& path, const QString& text, QString* error = nullptr);

/// The CSV text behind a view ("" when it has no data yet).
using CsvSource = std::function<QString()>;

/// Adds the four actions to `view` and shows them as its context menu
/// (Qt::ActionsContextMenu; child widgets without a menu of their own pass it on, and
/// every QCustomPlot inside `view` gets the same actions, since QCustomPlot sets
/// Qt::WA_NoMousePropagation and would swallow the right click).
/// `baseName` is the suggested file name without extension ("weights_conv1").
/// The actions are children of `view` with object names savePngAction, saveSvgAction,
/// copyDataAction and exportCsvAction, so tests and toolbars can trigger them.
void installExportMenu(QWidget* view, const std::function<QString()>& baseName, CsvSource csv);
/// The same four actions, appended to `menu` (for views with their own menu).
void addExportActions(QMenu* menu, QWidget* view);

}  // namespace qnn
