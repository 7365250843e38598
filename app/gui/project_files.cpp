// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/project_files.h"

#include <QAction>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLocale>
#include <QLockFile>
#include <QMenu>
#include <QMessageBox>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSettings>
#include <QStandardPaths>
#include <QTimer>
#include <QUndoStack>

#include "core/errors.h"
#include "core/train/checkpoint.h"
#include "core/train/resume.h"
#include "widgets/document/example_projects.h"
#include "widgets/document/project_document.h"
#include "widgets/input/file_names.h"

namespace qnn {
namespace {
constexpr int kMaxRecent = 8;
const char* const kRecentKey = "recentProjects";
const char* const kRecoveryPrefix = "recovery-";
const char* const kRecoverySuffix = ".qnn.json";
const char* const kTrainingSuffix = ".train.pt";
const char* const kStoppedSuffix = ".stopped";  ///< beside a recovery file left at a normal close

QString recoveryDir() {
  return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(QStringLiteral("recovery"));
}

/// A lock that only a dead process's lock (or none) gives way to: no age limit, so a
/// running instance keeps its file however long it has been open.
std::unique_ptr<QLockFile> recoveryLock(const QString& file) {
  auto lock = std::make_unique<QLockFile>(file + QStringLiteral(".lock"));
  lock->setStaleLockTime(0);
  return lock;
}

/// The project file a recovery file was autosaved from (its .path; "" when untitled).
QString originalPath(const QString& recoveryFile) {
  QFile pathFile(recoveryFile + QStringLiteral(".path"));
  return pathFile.open(QIODevice::ReadOnly) ? QString::fromUtf8(pathFile.readAll()) : QString();
}

/// Whether `original` holds `project` as it is (a run's autosave without edits).
bool sameAsFile(const Project& project, const QString& original) {
  if (original.isEmpty() || !QFileInfo::exists(original)) return false;
  try {
    return load_project(original.toStdString()) == project;
  } catch (const std::exception&) {
    return false;  // unreadable now: the recovered copy is what is left
  }
}

/// One recovery file per window of this process: pid plus a counter.
QString newRecoveryFile() {
  static int counter = 0;
  return QDir(recoveryDir()).filePath(QStringLiteral("%1%2-%3%4")
                                          .arg(QLatin1String(kRecoveryPrefix))
                                          .arg(QCoreApplication::applicationPid())
                                          .arg(++counter)
                                          .arg(QLatin1String(kRecoverySuffix)));
}
}  // namespace

ProjectFileActions::ProjectFileActions(ProjectDocument* document, QWidget* window,
                                       std::function<bool(const QString&)> open,
                                       std::function<void(const QString&, const QString&)> error)
    : QObject(window),
      m_document(document),
      m_window(window),
      m_open(std::move(open)),
      m_error(std::move(error)),
      m_recoveryFile(newRecoveryFile()) {
  m_newMenu = new QMenu(tr("&New from Template"), window);
  m_newMenu->setObjectName(QStringLiteral("newFromTemplateMenu"));
  QAction* empty = m_newMenu->addAction(tr("Empty Project"));
  empty->setObjectName(QStringLiteral("newEmptyAction"));
  empty->setShortcut(QKeySequence::New);
  connect(empty, &QAction::triggered, this, [this] {
    if (m_newMenu->isEnabled() && !refused() && maybeSave()) m_document->setProject(Project{});
  });
  m_newMenu->addSeparator();
  for (const QString& path : exampleProjects()) {
    QAction* a = m_newMenu->addAction(QFileInfo(path).fileName().remove(QStringLiteral(".qnn.json")));
    connect(a, &QAction::triggered, this, [this, path] {
      if (!m_newMenu->isEnabled() || refused() || !maybeSave()) return;
      try {
        m_document->setProject(load_project(path.toStdString()));  // untitled: Save asks where
      } catch (const std::exception& e) {
        m_error(tr("Cannot open the template"), QString::fromStdString(e.what()));
      }
    });
  }

  m_saveAction = new QAction(tr("&Save Project"), window);
  m_saveAction->setObjectName(QStringLiteral("saveProjectAction"));
  m_saveAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_S));
  m_saveAction->setStatusTip(tr("Save the project (network, quantizers, training settings)"));
  connect(m_saveAction, &QAction::triggered, this, [this] { save(); });
  m_saveAsAction = new QAction(tr("Save Project &As…"), window);
  m_saveAsAction->setObjectName(QStringLiteral("saveProjectAsAction"));
  m_saveAsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
  connect(m_saveAsAction, &QAction::triggered, this, [this] { saveAs(); });
  window->addAction(m_saveAction);
  window->addAction(m_saveAsAction);

  m_recentMenu = new QMenu(tr("Open &Recent"), window);
  m_recentMenu->setObjectName(QStringLiteral("recentMenu"));
  connect(m_recentMenu, &QMenu::aboutToShow, this, &ProjectFileActions::rebuildRecentMenu);
  connect(document, &ProjectDocument::filePathChanged, this, [this](const QString& path) {
    if (!path.isEmpty()) addRecent(path);
  });
  rebuildRecentMenu();

  m_autosave = new QTimer(this);
  m_autosave->setInterval(30 * 1000);
  connect(m_autosave, &QTimer::timeout, this, &ProjectFileActions::autosaveNow);
  // Not started here: offerRecovery() (or startAutosave()) starts it once any
  // "Recover?" question has been answered.
  connect(document, &ProjectDocument::modifiedChanged, this, [this](bool modified) {
    if (!modified && !m_keepRecovery) discardRecovery();  // a run's recovery stays (setKeepRecovery)
  });
}

ProjectFileActions::~ProjectFileActions() = default;

QString ProjectFileActions::recoveryFile() const { return m_recoveryFile; }

bool ProjectFileActions::hasRecovery() const { return QFileInfo::exists(m_recoveryFile); }

void ProjectFileActions::startAutosave() { m_autosave->start(); }

bool ProjectFileActions::isAutosaving() const { return m_autosave->isActive(); }

QString ProjectFileActions::trainingCheckpointFor(const QString& recoveryFile) {
  QString file = recoveryFile;
  if (file.endsWith(QLatin1String(kRecoverySuffix))) file.chop(int(qstrlen(kRecoverySuffix)));
  return file + QLatin1String(kTrainingSuffix);
}

void ProjectFileActions::setKeepRecovery(bool keep) {
  m_keepRecovery = keep;
  autosaveNow();  // kept: written at once; else a clean document's file goes now
}

QString ProjectFileActions::recoveredProjectName(const QString& recoveryFile) {
  const QString original = originalPath(recoveryFile);
  return original.isEmpty() ? tr("untitled") : QFileInfo(original).fileName();
}

QStringList ProjectFileActions::orphanedRecoveryFiles() {
  QStringList result;
  const QDir dir(recoveryDir());
  const QFileInfoList files =
      dir.entryInfoList({QLatin1String(kRecoveryPrefix) + QLatin1Char('*') + QLatin1String(kRecoverySuffix)},
                        QDir::Files, QDir::Time);  // newest first
  for (const QFileInfo& info : files) {
    // A live instance holds its lock; one that crashed left a stale lock (or none).
    std::unique_ptr<QLockFile> lock = recoveryLock(info.absoluteFilePath());
    if (lock->tryLock(0)) result << info.absoluteFilePath();  // unlocked again when `lock` goes
  }
  return result;
}

void ProjectFileActions::autosaveNow() {
  if (!m_document->isModified() && !m_keepRecovery) {
    discardRecovery();
    return;
  }
  const QString file = m_recoveryFile;
  QDir().mkpath(QFileInfo(file).absolutePath());
  if (!m_lock) {
    m_lock = recoveryLock(file);
    if (!m_lock->tryLock(0)) {  // cannot happen unless someone took our name: write nothing
      m_lock.reset();
      return;
    }
  }
  try {
    save_project(m_document->project(), file.toStdString());  // atomic
    QSaveFile path(file + QStringLiteral(".path"));
    if (path.open(QIODevice::WriteOnly)) {
      path.write(m_document->filePath().toUtf8());
      path.commit();
    }
  } catch (const std::exception&) {
    // Autosave is best effort: the next tick tries again.
  }
}

void ProjectFileActions::discardRecovery() {
  if (!m_lock) return;  // never written by this window: nothing of ours to remove
  QFile::remove(m_recoveryFile);
  QFile::remove(m_recoveryFile + QStringLiteral(".path"));
  QFile::remove(m_recoveryFile + QLatin1String(kStoppedSuffix));
  QFile::remove(trainingCheckpointFile());
}

void ProjectFileActions::keepRecoveryForStoppedRun() {
  m_autosave->stop();
  m_keepRecovery = true;
  autosaveNow();  // the project as it is now, beside the run's checkpoint
  if (!m_lock) return;  // could not be written: nothing to mark
  QSaveFile marker(m_recoveryFile + QLatin1String(kStoppedSuffix));
  if (marker.open(QIODevice::WriteOnly)) marker.commit();
}

bool ProjectFileActions::isUnfinishedRun(const QString& runFile) {
  try {
    const TrainingCheckpointInfo info = read_training_checkpoint_info(runFile.toStdString());
    return info.epochs_done < info.epochs_planned || info.batch_in_epoch > 0;
  } catch (const std::exception&) {
    return false;  // unreadable: nothing to continue
  }
}

void ProjectFileActions::removeStrayTrainingCheckpoints() {
  const QDir dir(recoveryDir());
  const QFileInfoList files = dir.entryInfoList(
      {QLatin1String(kRecoveryPrefix) + QLatin1Char('*') + QLatin1String(kTrainingSuffix)}, QDir::Files);
  for (const QFileInfo& info : files) {
    QString recovery = info.absoluteFilePath();
    recovery.chop(int(qstrlen(kTrainingSuffix)));
    recovery += QLatin1String(kRecoverySuffix);
    if (QFileInfo::exists(recovery)) continue;  // offered with its project
    // A live window writes its recovery file before its run's first autosave and holds
    // its lock: only a gone instance's checkpoint is looked at.
    std::unique_ptr<QLockFile> lock = recoveryLock(recovery);
    if (!lock->tryLock(0)) continue;
    // A run that can still be continued lost only its project file (the close could not
    // write it: a full disk): its network comes from the checkpoint, offered as stopped.
    if (isUnfinishedRun(info.absoluteFilePath())) {
      try {
        save_project(read_checkpoint_project(info.absoluteFilePath().toStdString()), recovery.toStdString());
        QSaveFile marker(recovery + QLatin1String(kStoppedSuffix));
        if (!(marker.open(QIODevice::WriteOnly) && marker.commit())) QFile::remove(recovery);
        continue;  // offered now, or (no room for the marker) kept for a later start
      } catch (const std::exception&) {
        continue;  // still no room: kept for a later start
      }
    }
    QFile::remove(info.absoluteFilePath());
  }
}

void ProjectFileActions::recoverStoppedRun(const QString& file, const QString& runFile) {
  const Project trained = read_checkpoint_project(runFile.toStdString());  // throws
  // The project as it was at the close, with the run's settings (epochs, learning rate)
  // even when they were never saved, unless its network was edited after the run.
  try {
    if (network_difference(trained, load_project(file.toStdString())).empty()) {
      recover(file);
      return;
    }
  } catch (const std::exception&) {
    // unreadable recovery file: the run's own network below
  }
  const QString original = originalPath(file);
  if (!original.isEmpty() && QFileInfo::exists(original)) {
    try {
      if (network_difference(trained, load_project(original.toStdString())).empty()) {
        m_document->load(original);
        return;
      }
    } catch (const std::exception&) {
      // unreadable now: the run's own network below
    }
  }
  m_document->setProject(trained, original);
  m_document->undoStack()->resetClean();  // unsaved until the user saves it
}

void ProjectFileActions::recover(const QString& file) {
  const Project p = load_project(file.toStdString());  // throws
  const QString original = originalPath(file);
  if (sameAsFile(p, original)) {  // autosaved for a run without edits (setKeepRecovery): the file, clean
    m_document->load(original);
    return;
  }
  m_document->setProject(p, original);
  m_document->undoStack()->resetClean();  // unsaved until the user saves it
}

void ProjectFileActions::offerRecovery() {
  removeStrayTrainingCheckpoints();
  const QStringList orphans = orphanedRecoveryFiles();
  if (!orphans.isEmpty()) {
    // Only files of instances that are gone (stale lock): adopt the newest by taking
    // its lock, so no other starting instance offers it too.
    const QString file = orphans.first();
    std::unique_ptr<QLockFile> lock = recoveryLock(file);
    if (lock->tryLock(0)) {
      const QString runFile = trainingCheckpointFor(file);
      const QString run = QFileInfo::exists(runFile) && m_describeRun ? m_describeRun(runFile) : QString();
      // Left at a normal close with a stopped run (keepRecoveryForStoppedRun): only the
      // run is offered; without a readable checkpoint there is nothing to offer.
      const bool stopped = QFileInfo::exists(file + QLatin1String(kStoppedSuffix));
      bool keep = false;
      // A run that completed while the window closed has nothing to continue (its model
      // was in memory): not offered, removed below.
      const bool unreadableRun = stopped && run.isEmpty() && QFileInfo::exists(runFile);
      if (unreadableRun) {
        keep = true;  // perhaps only now (a read error): never deleted unread; offered at a later start
      } else if (stopped && !run.isEmpty() && isUnfinishedRun(runFile)) {
        QMessageBox box(QMessageBox::Question, tr("Keep the stopped training run?"),
                        tr("The training run of the project \"%1\" was stopped when QNN Studio was last closed (%2). "
                           "Open the project and keep the run?")
                            .arg(recoveredProjectName(file), run),
                        QMessageBox::Yes | QMessageBox::No, m_window);
        box.setObjectName(QStringLiteral("recoveryQuestion"));
        box.setDefaultButton(QMessageBox::Yes);
        box.setInformativeText(tr("Training > Resume then continues the run from its last autosave, with its curves "
                                  "and optimizer state. No removes the run's training checkpoint."));
        if (box.exec() == QMessageBox::Yes) {
          try {
            recoverStoppedRun(file, runFile);
            if (m_adoptRun) m_adoptRun(runFile);
          } catch (const std::exception& e) {
            m_error(tr("Cannot keep the stopped training run"), QString::fromStdString(e.what()));
            keep = true;  // unreadable now: leave it for the user
          }
        }
      } else if (!stopped) {
        bool edited = true;
        try {
          edited = !sameAsFile(load_project(file.toStdString()), originalPath(file));
        } catch (const std::exception&) {
          // unreadable: recover() says so if asked
        }
        QString what = edited ? tr("the project \"%1\" with its unsaved edits").arg(recoveredProjectName(file))
                              : tr("the project \"%1\"").arg(recoveredProjectName(file));
        if (!run.isEmpty()) what += tr(" and its interrupted training run: %1").arg(run);
        QMessageBox box(QMessageBox::Question, tr("Recover unsaved work?"),
                        tr("QNN Studio did not close properly last time. Recover %1 (autosaved %2)?")
                            .arg(what, QLocale().toString(QFileInfo(file).lastModified(), QLocale::ShortFormat)),
                        QMessageBox::Yes | QMessageBox::No, m_window);
        box.setObjectName(QStringLiteral("recoveryQuestion"));
        box.setDefaultButton(QMessageBox::Yes);
        if (!run.isEmpty())
          box.setInformativeText(tr("Training > Resume then continues the run from its last autosave, with its "
                                    "curves and optimizer state."));
        if (box.exec() == QMessageBox::Yes) {
          try {
            recover(file);  // its edits now live in this window and its own autosave
            if (!run.isEmpty() && m_adoptRun) m_adoptRun(runFile);  // the resumable run
          } catch (const std::exception& e) {
            m_error(tr("Cannot recover the project"), QString::fromStdString(e.what()));
            keep = true;  // unreadable now: leave it for the user
          }
        }
      }
      if (!keep) {  // adopted (locked by us): recovered or declined
        QFile::remove(file);
        QFile::remove(file + QStringLiteral(".path"));
        QFile::remove(file + QLatin1String(kStoppedSuffix));
        QFile::remove(runFile);  // unless `adopt` moved it to this window's own name
      }
    }
  }
  startAutosave();
}

void ProjectFileActions::setNewEnabled(bool enabled) {
  m_newMenu->setEnabled(enabled);
  for (QAction* a : m_newMenu->actions()) a->setEnabled(enabled);  // Ctrl+N too
  m_recentMenu->setEnabled(enabled);
}

bool ProjectFileActions::save() {
  if (m_commitPending) m_commitPending();
  // Untitled, or a bundled example (File > Open Example): ask for a file of its own.
  const QString examples = exampleProjectDir();
  const QString folder = QFileInfo(m_document->filePath()).canonicalPath();
  const bool isExample = !examples.isEmpty() && !folder.isEmpty() && folder == QFileInfo(examples).canonicalFilePath();
  if (m_document->filePath().isEmpty() || isExample) return saveAs();
  return saveTo(m_document->filePath());
}

bool ProjectFileActions::saveAs() {
  if (m_commitPending) m_commitPending();
  QString suggested = m_document->filePath();
  if (suggested.isEmpty()) {
    QString base = m_document->displayName().toLower();
    base.replace(QRegularExpression(QStringLiteral("[^a-z0-9]+")), QStringLiteral("_"));
    suggested = QDir::home().filePath(base + QStringLiteral(".qnn.json"));
  }
  const QString path = withDefaultSuffix(QFileDialog::getSaveFileName(m_window, tr("Save Project As"), suggested,
                                                                      tr("QNN Studio projects (*.qnn.json);;All files (*)")),
                                         QStringLiteral(".qnn.json"));
  return !path.isEmpty() && saveTo(path);
}

bool ProjectFileActions::saveTo(const QString& path) {
  try {
    m_document->save(path);
    addRecent(path);
    return true;
  } catch (const std::exception& e) {
    m_error(tr("Cannot save the project"), QString::fromStdString(e.what()));
    return false;
  }
}

bool ProjectFileActions::maybeSave() {
  if (m_commitPending) m_commitPending();
  const bool edited = m_document->isModified();
  const QStringList models = m_describeModel ? m_describeModel() : QStringList();
  if (!edited && models.isEmpty()) return true;
  // Whole sentences: the models' phrases (joined by "; ": a phrase may hold a comma) only
  // ever stand inside one.
  const QString list = models.join(QStringLiteral("; "));
  const int count = int(models.size());
  QString text;
  if (!models.isEmpty() && edited)
    text = tr("The project \"%1\" has unsaved changes, and %n model(s) kept only in memory, not saved as a "
              "checkpoint: %2. Save them?", "", count)
               .arg(m_document->displayName(), list);
  else if (!models.isEmpty())
    text = tr("The project \"%1\" has %n model(s) kept only in memory, not saved as a checkpoint: %2. Save?", "",
              count)
               .arg(m_document->displayName(), list);
  else
    text = tr("The project \"%1\" has unsaved changes. Save them?").arg(m_document->displayName());
  const auto answer = QMessageBox::warning(m_window, models.isEmpty() ? tr("Unsaved changes") : tr("Unsaved trained model"),
                                           text, QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel,
                                           QMessageBox::Save);
  if (answer == QMessageBox::Save) {
    if (edited && !save()) return false;
    return models.isEmpty() || !m_saveModel || m_saveModel();
  }
  return answer == QMessageBox::Discard;
}

QStringList ProjectFileActions::recentFiles() const {
  return QSettings().value(QLatin1String(kRecentKey)).toStringList();
}

void ProjectFileActions::addRecent(const QString& path) {
  const QString absolute = QFileInfo(path).absoluteFilePath();
  QStringList list = recentFiles();
  list.removeAll(absolute);
  list.prepend(absolute);
  while (list.size() > kMaxRecent) list.removeLast();
  QSettings().setValue(QLatin1String(kRecentKey), list);
}

void ProjectFileActions::rebuildRecentMenu() {
  m_recentMenu->clear();
  const QStringList list = recentFiles();
  for (const QString& path : list) {
    QAction* a = m_recentMenu->addAction(QDir::toNativeSeparators(path));
    a->setEnabled(QFileInfo::exists(path));
    connect(a, &QAction::triggered, this, [this, path] {
      if (!refused() && maybeSave()) m_open(path);
    });
  }
  if (list.isEmpty()) m_recentMenu->addAction(tr("(none)"))->setEnabled(false);
}

}  // namespace qnn
