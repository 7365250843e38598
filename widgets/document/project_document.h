// SPDX-License-Identifier: GPL-3.0-or-later
// The open project: the core Project (single source of truth), its file and its
// validation. Views (graph scene, training settings) observe it; they never write it.
// Edits will arrive as QUndoCommands on undoStack() (the editor is future work).
#pragma once

#include <QObject>
#include <QString>

#include "core/graph/project.h"
#include "core/graph/validate.h"

class QUndoStack;

namespace qnn {

class ProjectDocument : public QObject {
  Q_OBJECT
 public:
  explicit ProjectDocument(QObject* parent = nullptr);

  /// Reads and validates `path`, then replaces the project. Throws qnn::Error
  /// (IoError / ConfigError with the core message); the document is unchanged then.
  void load(const QString& path);
  /// Replaces the project (clears the undo stack) and re-validates.
  void setProject(const Project& project, const QString& filePath = QString());

  const Project& project() const { return m_project; }
  /// The validation of project() (shapes per node, diagnostics).
  const ValidationResult& validation() const { return m_validation; }
  QString filePath() const { return m_filePath; }
  /// The project name, or the file name when the project has none.
  QString displayName() const;
  bool isEmpty() const { return m_project.layers.empty(); }
  QUndoStack* undoStack() const { return m_undoStack; }

 Q_SIGNALS:
  /// A different project was loaded or set.
  void projectReplaced();
  /// The project content changed (also emitted after projectReplaced()).
  void changed();

 private:
  Project m_project;
  ValidationResult m_validation;
  QString m_filePath;
  QUndoStack* m_undoStack = nullptr;
};

}  // namespace qnn
