// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/document/example_projects.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace qnn {

QStringList exampleProjectDirs() {
  QStringList dirs;
  if (QCoreApplication::instance()) {
    const QDir exe(QCoreApplication::applicationDirPath());
    dirs << exe.filePath(QStringLiteral("../../resources/examples"))
         << exe.filePath(QStringLiteral("../resources/examples"))
         << exe.filePath(QStringLiteral("../share/qnn-studio/examples"));
  }
#ifdef QNN_EXAMPLES_DIR
  dirs << QStringLiteral(QNN_EXAMPLES_DIR);
#endif
  for (QString& d : dirs) d = QDir::cleanPath(d);
  return dirs;
}

QString exampleProjectDir() {
  for (const QString& d : exampleProjectDirs())
    if (QDir(d).exists() && !QDir(d).entryList({QStringLiteral("*.qnn.json")}, QDir::Files).isEmpty())
      return d;
  return {};
}

QString findExampleProject(const QString& fileName) {
  for (const QString& d : exampleProjectDirs()) {
    const QFileInfo f(QDir(d).filePath(fileName));
    if (f.isFile()) return f.absoluteFilePath();
  }
  return {};
}

QStringList exampleProjects() {
  const QString dir = exampleProjectDir();
  if (dir.isEmpty()) return {};
  QStringList out;
  const QDir d(dir);
  for (const QString& name : d.entryList({QStringLiteral("*.qnn.json")}, QDir::Files, QDir::Name))
    out << d.absoluteFilePath(name);
  return out;
}

}  // namespace qnn
