// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/training_recovery.h"

#include <algorithm>
#include <cmath>

#include <QAction>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
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

namespace {

QString batchLimitText(int64_t batches) {
  if (batches <= 0) return TrainingRecovery::tr("all batches");
  return batches == 1 ? TrainingRecovery::tr("1 batch") : TrainingRecovery::tr("%1 batches").arg(batches);
}

}  // namespace

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
  life->setNewRunGuard([this] { return confirmNewRun(); });
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
  bool ok = false;
  const double minutes = QSettings().value(QLatin1String(kAutosaveMinutesKey), kDefaultAutosaveMinutes).toDouble(&ok);
  // Not a number (a hand-edited settings file): the default, not "after every batch".
  if (!ok || !std::isfinite(minutes)) return kDefaultAutosaveMinutes;
  return std::max(0.0, minutes);
}

QString TrainingRecovery::describeRun(const QString& path) {
  // Asked on every updateActions() (the Resume tool tip): read the file again only when
  // it changed (path, size, modification time).
  struct Cached {
    QString path;
    QDateTime modified;
    qint64 size = -1;
    QString text;
  };
  static Cached cache;
  const QFileInfo file(path);
  if (!file.exists()) return QString();
  if (cache.path == path && cache.size == file.size() && cache.modified == file.lastModified()) return cache.text;
  QString text;
  try {
    const TrainingCheckpointInfo info = read_training_checkpoint_info(path.toStdString());
    if (info.batch_in_epoch > 0)  // stopped inside the next epoch
      text = tr("epoch %1 of %2, step %3").arg(info.epochs_done + 1).arg(info.epochs_planned).arg(info.global_step);
    else if (info.epochs_done == 0)  // autosaved before the first step
      text = tr("epoch 1 of %1, not started yet").arg(info.epochs_planned);
    else
      text = tr("epoch %1 of %2 done, step %3").arg(info.epochs_done).arg(info.epochs_planned).arg(info.global_step);
  } catch (const std::exception&) {
    // unreadable: the recovery question leaves it out
  }
  cache = Cached{path, file.lastModified(), file.size(), text};
  return text;
}

void TrainingRecovery::setResumable(const QString& path) {
  m_resumable = path;
  // This window's own checkpoint keeps the project's recovery file beside it.
  m_files->setKeepRecovery(m_controller->isRunning() || (!path.isEmpty() && path == m_files->trainingCheckpointFile()));
  m_updateActions();
}

void TrainingRecovery::prepareRun(TrainingRunOptions& options) {
  m_runStart = QDateTime::currentDateTime();
  m_files->setKeepRecovery(true);  // the project goes to the recovery file now, edited or not
  options.autosavePath = m_files->trainingCheckpointFile();
  options.autosaveMinutes = autosaveMinutes();
}

bool TrainingRecovery::confirmNewRun() {
  if (!m_files) return true;
  const QString own = m_files->trainingCheckpointFile();
  if (m_resumable != own || !QFileInfo::exists(own)) return true;  // a new run overwrites nothing resumable
  QMessageBox box(QMessageBox::Question, tr("Start a new training run?"),
                  tr("This window has a stopped training run (%1) that Training > Resume continues. A new run "
                     "starts from scratch and replaces its autosave.")
                      .arg(describeRun(own)),
                  QMessageBox::Yes | QMessageBox::Retry | QMessageBox::Cancel, m_window);
  box.setObjectName(QStringLiteral("newRunQuestion"));
  box.button(QMessageBox::Yes)->setText(tr("Start New Run"));
  box.button(QMessageBox::Retry)->setText(tr("Resume"));
  box.setDefaultButton(QMessageBox::Retry);
  box.setEscapeButton(QMessageBox::Cancel);
  const int answer = box.exec();
  if (answer == QMessageBox::Retry) resume();
  return answer == QMessageBox::Yes;
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
  const QString own = m_files->trainingCheckpointFile();
  if (m_controller->lastFailureWasNonFinite()) {
    // Stopped at a NaN/Inf (its last good model is in memory): resuming the same run,
    // with the same data order and settings, would only reach it again.
    QFile::remove(own);
    setResumable(QString());
    return;
  }
  // Refused (another dataset, train limit, damaged checkpoint…) or failed outside the
  // numerics: nothing is removed. The run it would have continued stays resumable, unless
  // this run autosaved progress of its own since it started.
  const QFileInfo autosaved(own);
  const bool progressed = autosaved.exists() && m_runStart.isValid() && autosaved.lastModified() >= m_runStart;
  setResumable(progressed || (m_resumable.isEmpty() && autosaved.exists()) ? own : m_resumable);
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
    status->setText(tr("Kept the training run (%1): Training > Resume continues it.")
                        .arg(describeRun(own)));
    status->setToolTip(QString());
  }
}

bool TrainingRecovery::hasOwnRunToKeep() const {
  if (!m_files) return false;
  if (m_controller->isRunning()) return true;
  const QString own = m_files->trainingCheckpointFile();
  return m_resumable == own && QFileInfo::exists(own);
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
    // Epochs may change: the Epochs setting when it is beyond the checkpoint's position
    // (train longer, or stop earlier), else the run's planned epochs.
    if (options.spec.epochs <= info.epochs_done) options.spec.epochs = info.epochs_planned;
    const Project& project = m_document->project();
    const std::string network = network_difference(read_checkpoint_project(path.toStdString()), project);
    const std::string spec = training_spec_difference(info, options.spec);
    // The data checks train_model() can make without loading the data (it checks the
    // sample count and labels as well); here they come before the curves are cleared.
    QString data;
    if (project.dataset.name != info.dataset)
      data = tr("the dataset is %1, the checkpoint's run used %2")
                 .arg(QString::fromStdString(project.dataset.name), QString::fromStdString(info.dataset));
    else if (options.maxBatchesPerEpoch != info.max_batches_per_epoch)
      data = tr("the run stops each epoch after %1, the checkpoint's run after %2")
                 .arg(batchLimitText(options.maxBatchesPerEpoch), batchLimitText(info.max_batches_per_epoch));
    else if (options.trainLimit > 0 && options.trainLimit != info.train_samples)
      data = tr("the run trains on the first %1 samples, the checkpoint's run on %2")
                 .arg(options.trainLimit)
                 .arg(info.train_samples);
    if (!network.empty())
      refusal = tr("The checkpoint %1 was trained on a different network (%2): open the project it was trained "
                   "from, or undo the edits made since.")
                    .arg(QDir::toNativeSeparators(path), QString::fromStdString(network));
    else if (!spec.empty() || !data.isEmpty())
      refusal = tr("Cannot resume from %1: %2; resume with the same training settings and data (only epochs may "
                   "change).")
                    .arg(QDir::toNativeSeparators(path), spec.empty() ? data : QString::fromStdString(spec));
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
