// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/training_recovery.h"

#include <algorithm>

#include <QAction>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QSettings>

#include "app/gui/model_life.h"
#include "app/gui/project_files.h"
#include "core/errors.h"
#include "core/train/checkpoint.h"
#include "core/train/resume.h"
#include "widgets/document/project_document.h"
#include "widgets/plots/training_plot.h"
#include "widgets/training/training_controller.h"
#include "widgets/training/training_settings_panel.h"

namespace qnn {

TrainingRecovery::TrainingRecovery(ProjectDocument* document, TrainingController* controller, ProjectFileActions* files,
                                   ModelLife* life, QWidget* window,
                                   std::function<void(const QString&, const QString&)> error,
                                   std::function<void()> updateActions)
    : QObject(window),
      m_document(document),
      m_controller(controller),
      m_files(files),
      m_life(life),
      m_window(window),
      m_error(std::move(error)),
      m_updateActions(std::move(updateActions)) {
  m_resumeAction = new QAction(tr("&Resume"), window);
  m_resumeAction->setObjectName(QStringLiteral("resumeTrainingAction"));
  m_resumeAction->setStatusTip(tr("Continue the interrupted training run from its last autosave, with its optimizer "
                                  "state and curves"));
  connect(m_resumeAction, &QAction::triggered, this, &TrainingRecovery::resume);
  m_resumeFromAction = new QAction(tr("Resume from C&heckpoint…"), window);
  m_resumeFromAction->setObjectName(QStringLiteral("resumeFromCheckpointAction"));
  m_resumeFromAction->setStatusTip(tr("Continue a training run from a training checkpoint (an autosave of the GUI, "
                                      "or of qnn train)"));
  connect(m_resumeFromAction, &QAction::triggered, this, [this] { resumeFrom(QString()); });

  life->setRunPreparation([this](TrainingRunOptions& options) { prepareRun(options); });
  files->setRecoveredRun([](const QString& file) { return describeRun(file); },
                         [this](const QString& file) { adoptRecoveredRun(file); });
  connect(controller, &TrainingController::finished, this, [this](const TrainingSummary& summary) {
    if (m_files) onRunFinished(summary.cancelled);
  });
  connect(controller, &TrainingController::failed, this, [this] {
    if (m_files) onRunFailed();
  });
}

void TrainingRecovery::addActions(QMenu* menu) {
  menu->addSeparator();
  menu->addAction(m_resumeAction);
  menu->addAction(m_resumeFromAction);
}

void TrainingRecovery::updateActions(bool running, bool hasProject) {
  m_resumeAction->setEnabled(!running && hasProject && !m_resumable.isEmpty() && QFileInfo::exists(m_resumable));
  m_resumeAction->setToolTip(m_resumable.isEmpty()
                                 ? m_resumeAction->statusTip()
                                 : tr("Continue %1 (%2)").arg(QFileInfo(m_resumable).fileName(), describeRun(m_resumable)));
  m_resumeFromAction->setEnabled(!running && hasProject);
}

double TrainingRecovery::autosaveMinutes() {
  return std::max(0.0, QSettings().value(QLatin1String(kAutosaveMinutesKey), kDefaultAutosaveMinutes).toDouble());
}

QString TrainingRecovery::describeRun(const QString& path) {
  try {
    const TrainingCheckpointInfo info = read_training_checkpoint_info(path.toStdString());
    if (info.batch_in_epoch > 0)  // stopped inside the next epoch
      return tr("epoch %1 of %2, step %3").arg(info.epochs_done + 1).arg(info.epochs_planned).arg(info.global_step);
    if (info.epochs_done == 0)  // autosaved before the first step
      return tr("epoch 1 of %1, not started yet").arg(info.epochs_planned);
    return tr("epoch %1 of %2 done, step %3").arg(info.epochs_done).arg(info.epochs_planned).arg(info.global_step);
  } catch (const std::exception&) {
    return QString();  // unreadable: the recovery question leaves it out
  }
}

void TrainingRecovery::setResumable(const QString& path) {
  m_resumable = path;
  // This window's own checkpoint keeps the project's recovery file beside it.
  m_files->setKeepRecovery(m_controller->isRunning() || (!path.isEmpty() && path == m_files->trainingCheckpointFile()));
  m_updateActions();
}

void TrainingRecovery::prepareRun(TrainingRunOptions& options) {
  m_files->setKeepRecovery(true);  // the project goes to the recovery file now, edited or not
  options.autosavePath = m_files->trainingCheckpointFile();
  options.autosaveMinutes = autosaveMinutes();
}

void TrainingRecovery::onRunFinished(bool cancelled) {
  const QString own = m_files->trainingCheckpointFile();
  if (cancelled && QFileInfo::exists(own)) {
    // Its last autosave can be continued: Training > Resume.
    setResumable(own);
    if (QLabel* status = m_life->views().status)
      status->setText(status->text() + QLatin1Char(' ') +
                      tr("Training > Resume continues the run from its last autosave (%1).").arg(describeRun(own)));
    return;
  }
  // Completed: its model is in memory, the unsaved-model questions guard it now.
  QFile::remove(own);
  setResumable(QString());
}

void TrainingRecovery::onRunFailed() {
  // Stopped at a NaN/Inf (its last good model is in memory) or never started: resuming
  // the same run would only fail again.
  QFile::remove(m_files->trainingCheckpointFile());
  setResumable(QString());
}

void TrainingRecovery::adoptRecoveredRun(const QString& file) {
  const QString own = m_files->trainingCheckpointFile();
  QFile::remove(own);
  const bool moved = QFile::rename(file, own) || QFile::copy(file, own);
  if (!moved) {
    m_error(tr("Cannot keep the interrupted training run"),
            tr("%1 could not be moved to %2: the run cannot be resumed from this window.")
                .arg(QDir::toNativeSeparators(file), QDir::toNativeSeparators(own)));
    return;
  }
  setResumable(own);
  if (QLabel* status = m_life->views().status) {
    status->setText(tr("Recovered the interrupted training run (%1): Training > Resume continues it.")
                        .arg(describeRun(own)));
    status->setToolTip(QString());
  }
}

bool TrainingRecovery::resume() { return !m_resumable.isEmpty() && resumeFrom(m_resumable); }

bool TrainingRecovery::resumeFrom(const QString& chosen) {
  if (m_controller->isRunning() || m_document->isEmpty()) return false;
  QString path = chosen;
  if (path.isEmpty()) {
    const QString dir =
        m_document->filePath().isEmpty() ? QDir::homePath() : QFileInfo(m_document->filePath()).absolutePath();
    path = QFileDialog::getOpenFileName(m_window, tr("Resume from Checkpoint"), dir,
                                        tr("Training checkpoints (*.pt);;All files (*)"));
    if (path.isEmpty()) return false;
  }
  // Checked here, before the curves are cleared; train_model() checks the data too.
  TrainingRunOptions options = m_life->views().settings->options();
  options.resumePath = path;
  TrainingCheckpointInfo info;
  QString refusal;
  try {
    info = read_training_checkpoint_info(path.toStdString());  // a finished model's: ConfigError
    options.spec.epochs = info.epochs_planned;
    const std::string network = network_difference(read_checkpoint_project(path.toStdString()), m_document->project());
    const std::string spec = training_spec_difference(info, options.spec);
    if (!network.empty())
      refusal = tr("The checkpoint %1 was trained on a different network (%2): open the project it was trained "
                   "from, or undo the edits made since.")
                    .arg(QDir::toNativeSeparators(path), QString::fromStdString(network));
    else if (!spec.empty())
      refusal = tr("Cannot resume from %1: %2; resume with the same training settings (only epochs may change).")
                    .arg(QDir::toNativeSeparators(path), QString::fromStdString(spec));
  } catch (const std::exception& e) {
    refusal = QString::fromStdString(e.what());
  }
  if (!refusal.isEmpty()) {
    m_error(tr("Cannot resume training"), refusal);
    return false;
  }
  if (!m_life->startRun(m_document->project(), options, nullptr, tr("Cannot resume training"))) return false;
  // The curves of the run so far, before the new epochs' points (started() cleared them).
  TrainingPlot* plot = m_life->views().plot;
  plot->clear(int(options.spec.epochs));
  for (const EpochRecord& e : info.history) {
    TrainingProgressInfo point;
    point.phase = TrainingProgressInfo::Phase::EpochDone;
    point.epoch = e.epoch;
    point.epochs = options.spec.epochs;
    point.trainLoss = e.train_loss;
    point.trainAccuracy = e.train_accuracy;
    point.testLoss = e.test_loss;
    point.testAccuracy = e.test_accuracy;
    point.seconds = e.seconds;
    plot->addProgress(point);
  }
  m_resumable = path;  // known until the run completes
  m_updateActions();
  return true;
}

}  // namespace qnn
