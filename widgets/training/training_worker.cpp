// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/training/training_worker.h"

#include <optional>
#include <utility>

#include <QElapsedTimer>
#include <QFileInfo>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/model.h"
#include "core/inspect/inspect.h"
#include "core/train/trainer.h"
#include "widgets/inspect/misclassified_images.h"

namespace qnn {
namespace {

// The trainer sends Training reports every 50 ms (~20 per second); the worker keeps a
// safety throttle slightly below that so both clocks never drop every other report.
constexpr int kTrainerIntervalMs = 50;
constexpr qint64 kThrottleMs = 40;

TrainingProgressInfo::Phase toPhase(TrainProgress::Phase p) {
  switch (p) {
    case TrainProgress::Phase::Training: return TrainingProgressInfo::Phase::Training;
    case TrainProgress::Phase::Evaluating: return TrainingProgressInfo::Phase::Evaluating;
    case TrainProgress::Phase::EpochDone: return TrainingProgressInfo::Phase::EpochDone;
    case TrainProgress::Phase::Finished: return TrainingProgressInfo::Phase::Finished;
    case TrainProgress::Phase::Cancelled: return TrainingProgressInfo::Phase::Cancelled;
  }
  return TrainingProgressInfo::Phase::Training;
}

TrainingProgressInfo toInfo(const TrainProgress& p) {
  TrainingProgressInfo i;
  i.phase = toPhase(p.phase);
  i.epoch = p.epoch;
  i.epochs = p.epochs;
  i.batch = p.batch;
  i.batchesPerEpoch = p.batches_per_epoch;
  i.globalStep = p.global_step;
  i.trainLoss = p.train_loss;
  i.trainAccuracy = p.train_accuracy;
  i.testLoss = p.test_loss;
  i.testAccuracy = p.test_accuracy;
  i.seconds = p.seconds;
  return i;
}

TrainingSummary toSummary(const TrainResult& r, const std::vector<std::string>& classNames,
                          double seconds) {
  TrainingSummary s;
  s.cancelled = r.cancelled;
  for (const EpochRecord& e : r.epochs)
    s.epochs.push_back({e.epoch, e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy, e.seconds});
  s.testLoss = r.test.loss;
  s.testAccuracy = r.test.accuracy;
  s.testSamples = r.test.samples;
  for (const auto& row : r.test.confusion) {
    QVector<qint64> qrow;
    qrow.reserve(qsizetype(row.size()));
    for (int64_t c : row) qrow.push_back(c);
    s.confusion.push_back(qrow);
  }
  for (const std::string& n : classNames) s.classNames << QString::fromStdString(n);
  s.seconds = seconds;
  for (const std::string& n : r.notes) s.notes << QString::fromStdString(n);
  return s;
}

QString datasetTitle(const DatasetSpec& spec) {
  if (spec.name == "fashion-mnist") return QStringLiteral("Fashion-MNIST");
  if (spec.name == "mnist") return QStringLiteral("MNIST");
  if (spec.name == "cifar10") return QStringLiteral("CIFAR-10");
  if (is_image_folder_dataset(spec.name)) return QStringLiteral("image folder");
  return QString::fromStdString(spec.name);
}

}  // namespace

/// The datasets of the previous run, so that a second run does not decode the files again.
struct TrainingWorker::DataCache {
  struct Entry {
    DatasetSpec spec;
    std::vector<int64_t> inputShape;  ///< an image folder is fitted to it
    qint64 limit = -1;
    Dataset data;
  };
  std::optional<Entry> train, test;

  const Dataset& get(std::optional<Entry>& slot, const Project& project, bool isTrain, qint64 limit) {
    if (!slot || !(slot->spec == project.dataset) || slot->inputShape != project.input_shape ||
        slot->limit != limit) {
      slot.reset();  // free the old tensors before loading new ones
      Entry e{project.dataset, project.input_shape, limit, load_dataset(project, isTrain, limit)};
      slot = std::move(e);
    }
    return slot->data;
  }
};

TrainingWorker::TrainingWorker(const std::atomic<bool>& cancel, const std::atomic<bool>& closing,
                               std::function<void(std::shared_ptr<QuantModelImpl>, bool)> storeModel)
    : m_cancel(cancel), m_closing(closing), m_storeModel(std::move(storeModel)), m_cache(std::make_unique<DataCache>()) {}

TrainingWorker::~TrainingWorker() = default;

void TrainingWorker::run(const Project& project, const TrainingRunOptions& options,
                         const std::shared_ptr<QuantModelImpl>& initial) {
  if (options.processes >= 2) {  // Training > Train on N Processes: qnn launch does the training
    runLaunched(project, options);
    return;
  }
  m_lastStep = 0;
  QElapsedTimer wall;
  wall.start();
  auto loading = [&](const QString& message) {
    TrainingProgressInfo info;
    info.phase = TrainingProgressInfo::Phase::Loading;
    info.message = message;
    info.epochs = options.spec.epochs;
    Q_EMIT progress(info);
  };
  try {
    const QString title = datasetTitle(project.dataset);
    loading(tr("Loading %1 training set…").arg(title));
    const Dataset& train = m_cache->get(m_cache->train, project, true, options.trainLimit);
    loading(tr("Loading %1 test set…").arg(title));
    const Dataset& test = m_cache->get(m_cache->test, project, false, options.testLimit);

    loading(tr("Building the model…"));
    torch::manual_seed(options.spec.seed);
    QuantModel model = build_model(project);
    if (!options.resumePath.isEmpty()) {  // train_model restores the run: model, optimizer, position
      loading(tr("Resuming from %1…").arg(QFileInfo(options.resumePath).fileName()));
    } else if (initial) {  // fine-tuning: the given weights and quantizer state, not a fresh start
      loading(tr("Starting from the current weights…"));
      copy_model_state(*initial, *model);
    }

    TrainOptions trainOptions;
    trainOptions.spec = options.spec;
    trainOptions.max_batches_per_epoch = options.maxBatchesPerEpoch;
    trainOptions.progress_interval_ms = kTrainerIntervalMs;
    trainOptions.autosave_path = options.autosavePath.toStdString();  // crash safety (core/train/resume.h)
    trainOptions.autosave_minutes = options.autosaveMinutes;
    trainOptions.resume_path = options.resumePath.toStdString();

    // Live inspection on a fixed calibration batch, between batches on this thread.
    torch::Tensor calibration;
    if (options.inspect && test.size() > 0) calibration = inspect::calibration_batch(test, options.calibrationSamples);
    QElapsedTimer inspectClock;
    int64_t lastInspectedStep = -1;
    auto inspectNow = [&](int64_t step) {
      if (!calibration.defined() || step == lastInspectedStep || m_closing.load()) return;
      lastInspectedStep = step;
      m_lastStep = step;
      try {
        auto report = std::make_shared<inspect::Report>(inspect::inspect_model(model, calibration, step));
        Q_EMIT inspectionReport(InspectionReportPtr(std::move(report)));
      } catch (const std::exception& e) {
        // Inspection must never stop a training: report once and stop inspecting.
        qWarning("qnn: live inspection stopped: %s", e.what());
        calibration = torch::Tensor();
      }
      inspectClock.start();  // the interval counts training time, not inspection time
    };

    // Training-phase reports are throttled here too, whatever the trainer sends;
    // phase changes (evaluation, epoch ends, the end) always go through.
    QElapsedTimer throttle;
    int64_t step = 0;
    const ProgressFn report = [&](const TrainProgress& p) {
      step = p.global_step;
      const bool inspectDue = p.phase == TrainProgress::Phase::EpochDone ||
                              (p.phase == TrainProgress::Phase::Training &&
                               (!inspectClock.isValid() || inspectClock.elapsed() >= options.inspectIntervalMs));
      if (p.phase == TrainProgress::Phase::Training) {
        if (!(throttle.isValid() && throttle.elapsed() < kThrottleMs)) {
          throttle.start();
          Q_EMIT progress(toInfo(p));
        }
      } else {
        Q_EMIT progress(toInfo(p));
      }
      if (inspectDue && p.global_step > 0) inspectNow(p.global_step);
    };
    TrainResult result;
    try {
      result = train_model(model, train, test, trainOptions, report, m_cancel);
    } catch (const NumericsError& e) {
      // The trainer put back the weights of the last good step: they are the run's
      // model (unsaved, not evaluated), not lost with the failed step.
      m_storeModel(model.ptr(), false);  // a diverged run replaces no earlier model
      Q_EMIT failed(QString::fromStdString(e.what()), std::max<qint64>(0, e.step() - 1));
      return;
    }
    if (options.inspect && !m_closing.load()) {  // nobody is left to look at it after a close
      inspectNow(step);  // after the final evaluation (skipped when the epoch end just did it)
      try {
        Q_EMIT misclassifiedReady(
            misclassifiedSet(test, inspect::misclassified(model, test, options.misclassifiedLimit)));
      } catch (const std::exception& e) {
        qWarning("qnn: misclassified images not available: %s", e.what());  // the run itself succeeded
      }
    }
    m_storeModel(model.ptr(), true);
    Q_EMIT finished(toSummary(result, test.class_names, double(wall.elapsed()) / 1000.0));
  } catch (const Error& e) {
    Q_EMIT failed(QString::fromStdString(e.what()), -1);
  } catch (const c10::Error& e) {
    Q_EMIT failed(tr("LibTorch error: %1").arg(QString::fromStdString(e.what_without_backtrace())), -1);
  } catch (const std::exception& e) {
    Q_EMIT failed(QString::fromStdString(e.what()), -1);
  }
}

void TrainingWorker::reportLoading(const QString& message, qint64 epochs) {
  TrainingProgressInfo info;
  info.phase = TrainingProgressInfo::Phase::Loading;
  info.message = message;
  info.epochs = epochs;
  Q_EMIT progress(info);
}

const Dataset& TrainingWorker::testSet(const Project& project, qint64 limit) {
  return m_cache->get(m_cache->test, project, false, limit);
}

void TrainingWorker::inspect(const std::shared_ptr<QuantModelImpl>& impl, const TrainingRunOptions& options,
                             quint64 generation) {
  try {
    QuantModel model(impl);
    const Dataset& test = m_cache->get(m_cache->test, model->project(), false, options.testLimit);
    if (test.size() == 0) return;
    const torch::Tensor calibration = inspect::calibration_batch(test, options.calibrationSamples);
    auto report = std::make_shared<inspect::Report>(inspect::inspect_model(model, calibration, m_lastStep));
    Q_EMIT inspectedReport(InspectionReportPtr(std::move(report)), generation);
  } catch (const std::exception& e) {
    qWarning("qnn: inspection of the model failed: %s", e.what());
  }
}

}  // namespace qnn
