// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/training/training_controller.h"

#include <algorithm>
#include <mutex>

#include <QFileInfo>

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

namespace {
/// Drops the oldest models that a file holds while more than `limit` are kept; a model
/// that exists only in memory is never dropped here (the save question offers it).
void trimKept(std::vector<ModelRecord>& kept, size_t limit) {
  for (auto it = kept.begin(); kept.size() > limit && it != kept.end();)
    it = it->unsaved ? it + 1 : kept.erase(it);
}
}  // namespace

struct TrainingController::Shared {
  mutable std::mutex mutex;
  std::shared_ptr<QuantModelImpl> model;
  /// Recent models with their provenance and step counts, newest last (the current one
  /// among them unless it was discarded). ModelRecord::current is filled in on reading.
  std::vector<ModelRecord> kept;
  std::weak_ptr<QuantModelImpl> lastRun;  ///< the model the last run stored

  ModelRecord* find(const std::shared_ptr<QuantModelImpl>& m) {
    for (ModelRecord& r : kept)
      if (r.model == m) return &r;
    return nullptr;
  }
};

TrainingController::TrainingController(QObject* parent)
    : QObject(parent), m_shared(std::make_shared<Shared>()) {
  registerTrainingMetaTypes();
  std::shared_ptr<Shared> shared = m_shared;
  m_worker = new TrainingWorker(m_cancel, m_closing, [shared](std::shared_ptr<QuantModelImpl> model, bool replaceEarlier) {
    std::lock_guard<std::mutex> lock(shared->mutex);
    ModelRecord record;  // its steps, epochs and accuracy follow in onWorkerFinished (same lock)
    record.model = model;
    record.origin = ModelOrigin::Trained;
    record.unsaved = true;
    // A completed run replaces the models of earlier runs (a new run is a new start);
    // a run stopped at a NaN/Inf keeps them beside its last good model, so the save
    // question still offers an earlier unsaved one.
    if (replaceEarlier) shared->kept.clear();
    shared->kept.push_back(record);
    trimKept(shared->kept, size_t(kKeptModels));
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
  m_baseSteps = 0;  // a resumed run's steps count from the start of the checkpoint's run
  m_resumedFrom = options.resumePath.isEmpty() ? QString() : QFileInfo(options.resumePath).fileName();
  if (initial) {  // a fine-tune continues the step count of the model it starts from
    std::lock_guard<std::mutex> lock(m_shared->mutex);
    const ModelRecord* base = m_shared->find(initial);
    m_baseSteps = base ? base->steps : -1;
  }
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

void TrainingController::adoptModel(std::shared_ptr<QuantModelImpl> model, ModelOrigin origin, int64_t steps) {
  if (m_running || !model) return;
  {
    std::lock_guard<std::mutex> lock(m_shared->mutex);
    auto& kept = m_shared->kept;
    ModelRecord record;
    record.model = model;
    record.origin = origin;
    record.steps = steps;
    if (origin == ModelOrigin::Derived || origin == ModelOrigin::Folded) {
      // Made from the current model in memory: only in memory too when that one was.
      record.steps = -1;  // folded / calibrated: no run of this build trained it as it is
      if (const ModelRecord* source = m_shared->model ? m_shared->find(m_shared->model) : nullptr) {
        record.unsaved = source->unsaved;
        record.epochs = source->epochs;
        record.testAccuracy = source->testAccuracy;
        record.fineTuned = source->fineTuned;
      }
    } else if (const ModelRecord* same = m_shared->find(model)) {
      record = *same;  // adopted again (a kept model): it keeps what it was
    }
    kept.erase(std::remove_if(kept.begin(), kept.end(), [&](const ModelRecord& r) { return r.model == model; }),
               kept.end());
    kept.push_back(record);
    trimKept(kept, size_t(kKeptModels));
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
      if (network_difference(it->model->project(), network).empty()) match = it->model;
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
    adoptModel(folded.ptr(), ModelOrigin::Folded);
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
    int64_t steps = -1;  // a checkpoint of this build records them; a state dict does not
    try {
      steps = read_checkpoint_optimizer_steps(path.toStdString());
    } catch (const std::exception&) {
      steps = -1;  // not a QNN Studio checkpoint (a PyTorch / Brevitas state dict)
    }
    adoptModel(model.ptr(), ModelOrigin::Loaded, steps);
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

void TrainingController::saveCheckpoint(const QString& path, std::shared_ptr<QuantModelImpl> which) {
  int64_t steps = -1;
  {
    // The model and its step count together, under the lock the worker stores them with.
    std::lock_guard<std::mutex> lock(m_shared->mutex);
    if (!which) which = m_shared->model;
    if (!which) throw ConfigError("There is no trained model to save yet: train the project first.");
    const ModelRecord* record = m_shared->find(which);
    if (!record) throw ConfigError("That model is no longer kept, so it cannot be saved.");
    steps = record->steps;
  }
  QuantModel holder(which);
  if (steps >= 0)
    save_checkpoint(holder, path.toStdString(), steps);
  else
    save_checkpoint(holder, path.toStdString());
  std::lock_guard<std::mutex> lock(m_shared->mutex);
  if (ModelRecord* record = m_shared->find(which)) record->unsaved = false;
}

std::vector<ModelRecord> TrainingController::unsavedModels() const {
  std::vector<ModelRecord> result;
  std::lock_guard<std::mutex> lock(m_shared->mutex);
  const auto& kept = m_shared->kept;
  for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
    if (!it->unsaved) continue;
    ModelRecord r = *it;
    r.current = r.model == m_shared->model;
    // selectModelFor takes the newest kept model of a network: an older one of the same
    // network (replaced by Load Weights, say) no undo brings back.
    r.undoable = r.current || std::none_of(kept.rbegin(), it, [&](const ModelRecord& newer) {
                   return network_difference(newer.model->project(), r.model->project()).empty();
                 });
    if (r.current)
      result.insert(result.begin(), r);
    else
      result.push_back(r);
  }
  return result;
}

ModelRecord TrainingController::currentRecord() const {
  std::lock_guard<std::mutex> lock(m_shared->mutex);
  ModelRecord r;
  if (const ModelRecord* found = m_shared->model ? m_shared->find(m_shared->model) : nullptr) r = *found;
  r.model = m_shared->model;
  r.current = r.model != nullptr;
  return r;
}

bool TrainingController::runModelSetAside() const {
  std::lock_guard<std::mutex> lock(m_shared->mutex);
  const std::shared_ptr<QuantModelImpl> run = m_shared->lastRun.lock();
  return run && run != m_shared->model && m_shared->find(run) != nullptr;
}

bool TrainingController::hasUnsavedModel() const { return !unsavedModels().empty(); }

void TrainingController::onWorkerProgress(const TrainingProgressInfo& info) {
  m_runSteps = std::max(m_runSteps, info.globalStep);
  Q_EMIT progress(info);
  if (info.phase == TrainingProgressInfo::Phase::EpochDone) Q_EMIT epochDone(info);
}

void TrainingController::onWorkerFinished(const TrainingSummary& summary) {
  {
    // The run's step count goes with its model (a later failed run or a fine-tune
    // cannot change what a checkpoint of this model records).
    std::lock_guard<std::mutex> lock(m_shared->mutex);
    if (ModelRecord* run = m_shared->find(m_shared->lastRun.lock())) {
      run->steps = m_baseSteps < 0 ? -1 : m_baseSteps + int64_t(m_runSteps);
      run->epochs = int(summary.epochs.size());
      run->testAccuracy = summary.testAccuracy;
      run->fineTuned = m_baseSteps != 0;
      run->resumedFrom = m_resumedFrom;
    }
  }
  m_running = false;
  m_lastSummary = summary;
  Q_EMIT currentModelChanged();  // the run's model is current now
  Q_EMIT finished(summary);
}

void TrainingController::onWorkerFailed(const QString& message, qint64 keptSteps) {
  m_lastFailureNonFinite = keptSteps >= 0;
  if (keptSteps >= 0) {  // stopped at a NaN/Inf: the last good step's model was stored
    {
      std::lock_guard<std::mutex> lock(m_shared->mutex);
      if (ModelRecord* run = m_shared->find(m_shared->lastRun.lock())) {
        run->steps = m_baseSteps < 0 ? -1 : m_baseSteps + int64_t(keptSteps);
        run->fineTuned = m_baseSteps != 0;
        run->resumedFrom = m_resumedFrom;
      }
      ++m_generation;
    }
    m_lastSummary = TrainingSummary();  // not evaluated: no results belong to this model
    m_running = false;
    Q_EMIT currentModelChanged();  // views of the earlier model's results are stale
    Q_EMIT failed(message);
    return;
  }
  m_running = false;
  Q_EMIT failed(message);
}

}  // namespace qnn
