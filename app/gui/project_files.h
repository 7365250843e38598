// SPDX-License-Identifier: GPL-3.0-or-later
// File handling of the project document for the main window: New from template (the
// bundled LeNet variants, opened untitled so Save asks for a path), Save (Ctrl+S),
// Save As (Ctrl+Shift+S), Open Recent, the "save your changes?" prompt, and autosave:
// while there are unsaved edits, the project is written every 30 s to this window's
// own recovery file in the application data folder (recovery/recovery-<pid>-<n>.qnn.json,
// + .path holding the project's own path, + .lock held while the window lives); it is
// removed when the document is saved, clean again, or closed normally. After a crash
// the next start offers files whose lock is stale (their process is gone). While a run
// trains (setKeepRecovery), the file is written even for a saved project, and the
// trainer autosaves a training checkpoint beside it (recovery-<pid>-<n>.train.pt,
// app/gui/training_recovery.h): the recovery question then names the interrupted run too.
// Saves are atomic (core save_project: temporary file + rename); a failed save leaves
// the old file and the document's modified flag as they were.
#pragma once

#include <QObject>
#include <memory>
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
  ~ProjectFileActions() override;

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
  /// With unsaved edits or models that exist only in memory (setUnsavedModel), asks once
  /// Save / Discard / Cancel, naming both. Save saves the project (when edited) and then
  /// the models (their checkpoint dialogs); a cancelled or failed save stops, nothing is
  /// lost then. True when it is fine to go on (close, open or create another project).
  bool maybeSave();
  /// The window's models for maybeSave(): `describe` names each model that exists only in
  /// memory, for use inside a sentence ("the trained model (2 epochs, test accuracy
  /// 81.20 %)"), none when all are saved; `save` saves them (Save Checkpoint dialogs),
  /// false when one was cancelled or failed.
  void setUnsavedModel(std::function<QStringList()> describe, std::function<bool()> save) {
    m_describeModel = std::move(describe);
    m_saveModel = std::move(save);
  }
  /// Asked first by New Empty Project, New from Template and Open Recent: true refuses
  /// (the callback says why, e.g. "Training is running…" in the status line).
  void setRefuseWhileBusy(std::function<bool()> refuse) { m_refuse = std::move(refuse); }
  /// Remembers a file in the recent list (QSettings "recentProjects", 8 entries).
  void addRecent(const QString& path);
  QStringList recentFiles() const;

  /// Called first by save(), saveAs() and maybeSave(): commits an edit still being typed.
  void setCommitPendingEdits(std::function<void()> commit) { m_commitPending = std::move(commit); }
  /// Enables or disables New Empty / New from Template and Open Recent (disabled while
  /// training runs).
  void setNewEnabled(bool enabled);

  /// Writes this window's recovery file now when the document has unsaved edits (else
  /// removes it). The first write takes the file's QLockFile (`<file>.lock`), held
  /// until this object goes, so other instances never offer or delete it.
  void autosaveNow();
  /// Removes this window's recovery files, its training checkpoint included (normal
  /// close); never touches other files.
  void discardRecovery();
  /// Closing with a stopped (or stopping) run whose training checkpoint can be continued:
  /// the project is written to the recovery file once more, the checkpoint stays beside
  /// it and both are marked as left at a normal close (`<recovery file>.stopped`), so the
  /// next start offers to keep the run (offerRecovery) instead of calling it a crash.
  /// The autosave timer stops; the lock goes with this object.
  void keepRecoveryForStoppedRun();
  /// This window's recovery file: AppDataLocation/recovery/recovery-<pid>-<n>.qnn.json.
  QString recoveryFile() const;
  bool hasRecovery() const;
  /// The training checkpoint beside a recovery file: recovery-<pid>-<n>.train.pt.
  static QString trainingCheckpointFor(const QString& recoveryFile);
  /// This window's: trainingCheckpointFor(recoveryFile()).
  QString trainingCheckpointFile() const { return trainingCheckpointFor(m_recoveryFile); }
  /// true while a run trains or this window's training checkpoint is kept for Resume:
  /// autosaveNow() then writes the project even without unsaved edits, and saving the
  /// project does not remove the recovery file. false: only unsaved edits are written
  /// (and a clean document's recovery file goes at once).
  void setKeepRecovery(bool keep);
  bool keepsRecovery() const { return m_keepRecovery; }
  /// The interrupted run of a crashed window for offerRecovery(): `describe(file)` says
  /// what the training checkpoint `file` holds ("epoch 3 of 10, step 1996"; empty when it
  /// cannot be read: the question leaves it out); `adopt(file)` is called when the
  /// project was recovered, before `file` would be removed (it moves or keeps it).
  void setRecoveredRun(std::function<QString(const QString&)> describe, std::function<void(const QString&)> adopt) {
    m_describeRun = std::move(describe);
    m_adoptRun = std::move(adopt);
  }
  /// How the recovery question names the project of a recovery file: the file name of
  /// the project it was autosaved from (its .path), or "untitled".
  static QString recoveredProjectName(const QString& recoveryFile);
  /// Recovery files left by instances that are gone: their lock is stale (its process
  /// is not running) or missing. Newest first.
  static QStringList orphanedRecoveryFiles();
  /// Loads a recovery file into the document: same content, the original file path,
  /// marked modified (unless it equals the original file: then that file, clean).
  /// Throws qnn::Error when it cannot be read.
  void recover(const QString& file);
  /// At start-up: asks whether to recover the newest orphaned recovery file, naming its
  /// project and, when a training checkpoint lies beside it, the interrupted run
  /// (setRecoveredRun); then removes that file, which this call adopted by taking its
  /// lock (the run's checkpoint goes to setRecoveredRun's `adopt` when recovered), and
  /// starts the 30 s autosave timer (not before, so a long-open question loses nothing).
  /// The question is a QMessageBox named "recoveryQuestion".
  /// A run stopped at a normal close (keepRecoveryForStoppedRun) is offered as such
  /// ("…was stopped when QNN Studio was last closed"); keeping it opens the project file
  /// when its network is the run's, else the run's own network (from the checkpoint) as
  /// unsaved edits of that file. Training checkpoints of gone instances that have no
  /// recovery file beside them are removed.
  void offerRecovery();
  /// Starts the autosave timer (offerRecovery() does; scripted runs call this instead).
  void startAutosave();
  bool isAutosaving() const;

 private:
  void rebuildRecentMenu();
  /// The project for a run stopped at close: the recovery file written at the close (as
  /// recover(): the saved file when nothing differs, else its edits and the run's
  /// settings as unsaved) when its network is the run's; else the saved file when its
  /// network is the run's; else the checkpoint's network as unsaved edits. Throws
  /// qnn::Error.
  void recoverStoppedRun(const QString& file, const QString& runFile);
  /// recovery-*.train.pt of gone instances with no recovery file beside them (the close
  /// could not write it, e.g. a full disk): an unfinished run gets its network from the
  /// checkpoint written as its recovery file with the stopped marker, so it is offered
  /// as a stopped run; a finished or unreadable one is removed; one that cannot be
  /// written now stays for a later start.
  static void removeStrayTrainingCheckpoints();
  /// Whether the training checkpoint `runFile` is readable and has epochs or steps left.
  static bool isUnfinishedRun(const QString& runFile);
  ProjectDocument* m_document;
  QWidget* m_window;
  std::function<bool(const QString&)> m_open;
  std::function<void(const QString&, const QString&)> m_error;
  QMenu* m_newMenu = nullptr;
  QMenu* m_recentMenu = nullptr;
  QAction* m_saveAction = nullptr;
  QAction* m_saveAsAction = nullptr;
  class QTimer* m_autosave = nullptr;
  QString m_recoveryFile;
  std::function<void()> m_commitPending;
  std::function<QStringList()> m_describeModel;
  std::function<bool()> m_saveModel;
  std::function<bool()> m_refuse;
  std::function<QString(const QString&)> m_describeRun;
  std::function<void(const QString&)> m_adoptRun;
  bool m_keepRecovery = false;
  /// Whether m_refuse refuses now.
  bool refused() const { return m_refuse && m_refuse(); }
  std::unique_ptr<class QLockFile> m_lock;  ///< held once this window has written its recovery file
};

}  // namespace qnn
