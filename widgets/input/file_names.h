// SPDX-License-Identifier: GPL-3.0-or-later
// File names typed into a Save dialog. QFileDialog::getSaveFileName returns what the
// user typed; a name typed without an extension ("lenet_w2") would be saved as such and
// then be missing from the dialog's own filter ("*.pt") the next time.
#pragma once

#include <QFileInfo>
#include <QString>

namespace qnn {

/// `path` with `suffix` (".pt", ".qnn.json", ".png": with its leading dot) appended when
/// its file name has no extension at all (no '.' after the first character, so a hidden
/// name ".model" counts as having none); unchanged otherwise (another extension the user
/// chose is kept) and when empty (a cancelled dialog).
inline QString withDefaultSuffix(const QString& path, const QString& suffix) {
  if (path.isEmpty()) return path;
  const QString name = QFileInfo(path).fileName();
  if (name.isEmpty() || name.indexOf(QLatin1Char('.'), 1) >= 0) return path;
  return path + suffix;
}

}  // namespace qnn
