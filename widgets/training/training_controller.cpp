// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/training/training_controller.h"

#include <mutex>

#include "core/errors.h"
#include "core/graph/model.h"
#include "core/train/checkpoint.h"
#include "widgets/training/training_worker.h"

namespace qnn {

void registerTrainingMetaTypes() {
  qRegisterMetaType<qnn::TrainingProgressInfo>();
  qRegisterMetaType<qnn::TrainingSummary>();
  registerInspectionMetaTypes();
}

struct TrainingController::Shared {
  mutable std::mutex mutex;
  std::shared_ptr<QuantModelImpl> model;
};

TrainingController::TrainingController(QObject* parent)
    : QObject(parent), m_shared(std::make_shared<Shared>()) {
  registerTrainingMetaTypes();
  std::shared_ptr<Shared> shared = m_shared;
  m_worker = new TrainingWorker(m_cancel, m_closing, [shared](std::shared_ptr<QuantModelImpl> model) {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->model = std::move(model);
  });
  m_worker->moveToThread(&m_thread);
  connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
  connect(m_worker, &TrainingWorker::progress, this, &TrainingController::onWorkerProgress,
          Qt::QueuedConnection);
  connect(m_worker, &TrainingWorker::finished, this, &TrainingController::onWorkerFinished,
          Qt::QueuedConnection);
  connect(m_worker, &TrainingWorker::failed, this, &TrainingController::onWorkerFailed,
          Qt::QueuedConnection);
  connect(m_worker, &TrainingWorker::inspectionReport, this, &TrainingController::inspectionReport,
          Qt::QueuedConnection);
  connect(m_worker, &TrainingWorker::misclassifiedReady, this, &TrainingController::misclassifiedReady,
          Qt::QueuedConnection);
  m_thread.setObjectName(QStringLiteral("qnn-training"));
  m_thread.start();
}

TrainingController::~TrainingController() {
  m_closing = true;
  m_cancel = true;  // the trainer stops after its current batch
  m_thread.quit();
  m_thread.wait();
}

bool TrainingController::start(const Project& project, const TrainingRunOptions& options) {
  if (m_running) return false;
  m_cancel = false;
  m_running = true;
  TrainingWorker* worker = m_worker;
  QMetaObject::invokeMethod(
      worker, [worker, project, options] { worker->run(project, options); }, Qt::QueuedConnection);
  Q_EMIT started();
  return true;
}

void TrainingController::cancel() {
  if (m_running) m_cancel = true;
}

void TrainingController::cancelForClose() {
  m_closing = true;
  cancel();
}

std::shared_ptr<QuantModelImpl> TrainingController::model() const {
  std::lock_guard<std::mutex> lock(m_shared->mutex);
  return m_shared->model;
}

void TrainingController::clearModel() {
  if (m_running) return;
  std::lock_guard<std::mutex> lock(m_shared->mutex);
  m_shared->model.reset();
}

void TrainingController::saveCheckpoint(const QString& path) const {
  std::shared_ptr<QuantModelImpl> impl = model();
  if (!impl) throw ConfigError("There is no trained model to save yet: train the project first.");
  QuantModel holder(impl);
  save_checkpoint(holder, path.toStdString());
}

void TrainingController::onWorkerProgress(const TrainingProgressInfo& info) {
  Q_EMIT progress(info);
  if (info.phase == TrainingProgressInfo::Phase::EpochDone) Q_EMIT epochDone(info);
}

void TrainingController::onWorkerFinished(const TrainingSummary& summary) {
  m_running = false;
  m_lastSummary = summary;
  Q_EMIT finished(summary);
}

void TrainingController::onWorkerFailed(const QString& message) {
  m_running = false;
  Q_EMIT failed(message);
}

}  // namespace qnn
