// SPDX-License-Identifier: GPL-3.0-or-later
// File handling of the project document for the main window: New from template (the
// bundled LeNet variants, opened untitled so Save asks for a path), Save (Ctrl+S),
// Save As (Ctrl+Shift+S), Open Recent, the "save your changes?" prompt, and autosave:
// while there are unsaved edits, the project is written every 30 s to a recovery file
// in the application data folder (recovery.qnn.json + recovery.path holding the
// project's own path); it is removed when the document is saved, clean again, or
// closed normally. After a crash the next start offers to recover it.
// Saves are atomic (core save_project: temporary file + rename); a failed save leaves
// the old file and the document's modified flag as they were.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <functional>

class QAction;
class QMenu;
class QWidget;

namespace qnn {

class ProjectDocument;

class ProjectFileActions : public QObject {
  Q_OBJECT
 public:
  /// `open` opens a path in the window (MainWindow::openProject); `error` shows a message.
  ProjectFileActions(ProjectDocument* document, QWidget* window, std::function<bool(const QString&)> open,
                     std::function<void(const QString&, const QString&)> error);

  QMenu* newMenu() const { return m_newMenu; }
  QMenu* recentMenu() const { return m_recentMenu; }
  QAction* saveAction() const { return m_saveAction; }
  QAction* saveAsAction() const { return m_saveAsAction; }

  /// Saves to the document's file, or asks for one (Save As) when it has none or it is
  /// one of the bundled examples (they are never overwritten by Ctrl+S).
  bool save();
  /// Asks for a path and saves there. Returns false when cancelled or on failure.
  bool saveAs();
  /// Saves to `path` (no dialog); on failure shows the error and returns false.
  bool saveTo(const QString& path);
  /// With unsaved edits, asks Save / Discard / Cancel. True when it is fine to go on.
  bool maybeSave();
  /// Remembers a file in the recent list (QSettings "recentProjects", 8 entries).
  void addRecent(const QString& path);
  QStringList recentFiles() const;

  /// Writes the recovery file now when the document has unsaved edits (else removes it).
  void autosaveNow();
  /// Removes the recovery files (normal close).
  void discardRecovery();
  /// Recovery file path (in QStandardPaths::AppDataLocation).
  static QString recoveryFile();
  static bool hasRecovery();
  /// Loads the recovery file into the document: same content, the original file path,
  /// marked modified. Throws qnn::Error when it cannot be read.
  void recover();
  /// Asks whether to recover when a recovery file exists (used at start-up).
  void offerRecovery();

 private:
  void rebuildRecentMenu();
  ProjectDocument* m_document;
  QWidget* m_window;
  std::function<bool(const QString&)> m_open;
  std::function<void(const QString&, const QString&)> m_error;
  QMenu* m_newMenu = nullptr;
  QMenu* m_recentMenu = nullptr;
  QAction* m_saveAction = nullptr;
  QAction* m_saveAsAction = nullptr;
  class QTimer* m_autosave = nullptr;
};

}  // namespace qnn
