// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/document/project_document.h"

#include <QFileInfo>
#include <QUndoStack>

namespace qnn {

ProjectDocument::ProjectDocument(QObject* parent)
    : QObject(parent), m_undoStack(new QUndoStack(this)) {}

void ProjectDocument::load(const QString& path) {
  Project p = load_project(path.toStdString());  // throws; nothing changed yet
  setProject(p, path);
}

void ProjectDocument::setProject(const Project& project, const QString& filePath) {
  m_project = project;
  m_validation = validate(m_project);
  m_filePath = filePath;
  m_undoStack->clear();
  Q_EMIT projectReplaced();
  Q_EMIT changed();
}

QString ProjectDocument::displayName() const {
  if (!m_project.name.empty()) return QString::fromStdString(m_project.name);
  if (!m_filePath.isEmpty()) return QFileInfo(m_filePath).completeBaseName();
  return tr("Untitled");
}

}  // namespace qnn
