// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/training/training_controller.h"

#include <algorithm>
#include <mutex>

#include "core/errors.h"
#include "core/graph/fold_batch_norm.h"
#include "core/graph/model.h"
#include "core/train/checkpoint.h"
#include "core/train/checkpoint_steps.h"
#include "core/train/weights.h"
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
  /// Recent models, newest last (the current one among them unless it was discarded).
  std::vector<std::shared_ptr<QuantModelImpl>> kept;
  std::weak_ptr<QuantModelImpl> lastRun;  ///< the model the last run stored
  std::weak_ptr<QuantModelImpl> saved;    ///< the model saveCheckpoint() wrote last
};

TrainingController::TrainingController(QObject* parent)
    : QObject(parent), m_shared(std::make_shared<Shared>()) {
  registerTrainingMetaTypes();
  std::shared_ptr<Shared> shared = m_shared;
  m_worker = new TrainingWorker(m_cancel, m_closing, [shared](std::shared_ptr<QuantModelImpl> model) {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->kept = {model};  // a new run: the models of earlier runs go
    shared->lastRun = model;
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
  connect(m_worker, &TrainingWorker::inspectedReport, this, &TrainingController::onInspected, Qt::QueuedConnection);
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

bool TrainingController::start(const Project& project, const TrainingRunOptions& options,
                               std::shared_ptr<QuantModelImpl> initial) {
  if (m_running) return false;
  m_cancel = false;
  m_running = true;
  m_runSteps = 0;
  ++m_generation;
  TrainingWorker* worker = m_worker;
  QMetaObject::invokeMethod(
      worker, [worker, project, options, initial] { worker->run(project, options, initial); },
      Qt::QueuedConnection);
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

bool TrainingController::currentIsLastRun() const {
  std::lock_guard<std::mutex> lock(m_shared->mutex);
  return m_shared->model && m_shared->model == m_shared->lastRun.lock();
}

void TrainingController::clearModel() {
  if (m_running) return;
  bool had = false;
  {
    std::lock_guard<std::mutex> lock(m_shared->mutex);
    had = m_shared->model != nullptr;
    m_shared->model.reset();
    m_shared->kept.clear();
    ++m_generation;
  }
  if (had) Q_EMIT currentModelChanged();
}

void TrainingController::adoptModel(std::shared_ptr<QuantModelImpl> model) {
  if (m_running || !model) return;
  {
    std::lock_guard<std::mutex> lock(m_shared->mutex);
    auto& kept = m_shared->kept;
    kept.erase(std::remove(kept.begin(), kept.end(), model), kept.end());
    kept.push_back(model);
    while (kept.size() > size_t(kKeptModels)) kept.erase(kept.begin());
    m_shared->model = std::move(model);
    ++m_generation;
  }
  Q_EMIT currentModelChanged();
}

bool TrainingController::selectModelFor(const Project& network) {
  if (m_running) return false;
  {
    std::lock_guard<std::mutex> lock(m_shared->mutex);
    std::shared_ptr<QuantModelImpl> match;
    for (auto it = m_shared->kept.rbegin(); it != m_shared->kept.rend() && !match; ++it)
      if (network_difference((*it)->project(), network).empty()) match = *it;
    if (match == m_shared->model) return false;
    m_shared->model = std::move(match);
    ++m_generation;
  }
  Q_EMIT currentModelChanged();
  return true;
}

Project TrainingController::foldBatchNorm(const Project& document, QString* comparison) {
  if (m_running) throw ConfigError("Cannot fold BatchNorm while a training runs: wait for it or cancel it (Esc).");
  std::shared_ptr<QuantModelImpl> impl = model();
  if (!impl || !network_difference(impl->project(), document).empty())
    throw ConfigError("Folding uses the running statistics of a trained model, and this network has none yet: "
                      "train it first (F5), then fold.");
  try {
    QuantModel trained(impl);
    QuantModel folded = fold_batch_norm(trained);
    Project after = fold_batch_norm_project(document);
    if (comparison) {
      try {
        *comparison = QString::fromStdString(compare_folded(trained, folded, 1000).text());
      } catch (const Error& e) {
        *comparison = tr("not compared with the unfolded model: %1").arg(QString::fromStdString(e.what()));
      }
    }
    adoptModel(folded.ptr());
    return after;
  } catch (const c10::Error& e) {
    throw ConfigError(std::string("Cannot fold BatchNorm: a tensor operation failed (") +
                      std::string(e.what_without_backtrace()).substr(0, 160) + ")");
  }
}

QString TrainingController::loadWeights(const Project& document, const QString& path) {
  if (m_running) throw ConfigError("Cannot load weights while a training runs: wait for it or cancel it (Esc).");
  try {
    QuantModel model = build_model(document);
    const WeightsReport r = load_weights(model, path.toStdString());
    adoptModel(model.ptr());
    return QString::fromStdString(r.text());
  } catch (const c10::Error& e) {
    throw ConfigError(path.toStdString() + " could not be loaded into the model (" +
                      std::string(e.what_without_backtrace()).substr(0, 160) + ")");
  }
}

void TrainingController::reinspect(const TrainingRunOptions& options) {
  std::shared_ptr<QuantModelImpl> current = model();
  if (m_running || !current || !options.inspect) return;
  // The worker inspects a copy: the current model stays free for an export or a save
  // while the inspection runs (inspection switches modes and quantizers).
  std::shared_ptr<QuantModelImpl> impl;
  try {
    QuantModel original(current);
    impl = clone_model(original).ptr();
  } catch (const std::exception& e) {
    qWarning("qnn: cannot inspect the model: %s", e.what());
    return;
  }
  TrainingWorker* worker = m_worker;
  const quint64 generation = m_generation;
  QMetaObject::invokeMethod(
      worker, [worker, impl, options, generation] { worker->inspect(impl, options, generation); },
      Qt::QueuedConnection);
}

void TrainingController::onInspected(const InspectionReportPtr& report, quint64 generation) {
  if (m_running || generation != m_generation) return;  // another model is current by now
  Q_EMIT inspectionReport(report);
}

void TrainingController::saveCheckpoint(const QString& path) {
  std::shared_ptr<QuantModelImpl> impl = model();
  if (!impl) throw ConfigError("There is no trained model to save yet: train the project first.");
  QuantModel holder(impl);
  if (currentIsLastRun())
    save_checkpoint(holder, path.toStdString(), int64_t(m_runSteps));
  else
    save_checkpoint(holder, path.toStdString());
  std::lock_guard<std::mutex> lock(m_shared->mutex);
  m_shared->saved = impl;
}

bool TrainingController::runModelSetAside() const {
  std::lock_guard<std::mutex> lock(m_shared->mutex);
  const std::shared_ptr<QuantModelImpl> run = m_shared->lastRun.lock();
  return run && run != m_shared->model &&
         std::find(m_shared->kept.begin(), m_shared->kept.end(), run) != m_shared->kept.end();
}

bool TrainingController::hasUnsavedModel() const {
  if (m_running) return false;  // the run replaces it (and Save Checkpoint waits for the run)
  std::lock_guard<std::mutex> lock(m_shared->mutex);
  return m_shared->model && m_shared->model == m_shared->lastRun.lock() && m_shared->model != m_shared->saved.lock();
}

void TrainingController::onWorkerProgress(const TrainingProgressInfo& info) {
  m_runSteps = std::max(m_runSteps, info.globalStep);
  Q_EMIT progress(info);
  if (info.phase == TrainingProgressInfo::Phase::EpochDone) Q_EMIT epochDone(info);
}

void TrainingController::onWorkerFinished(const TrainingSummary& summary) {
  m_running = false;
  m_lastSummary = summary;
  Q_EMIT currentModelChanged();  // the run's model is current now
  Q_EMIT finished(summary);
}

void TrainingController::onWorkerFailed(const QString& message) {
  m_running = false;
  Q_EMIT failed(message);
}

}  // namespace qnn
