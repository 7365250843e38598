// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/analysis/analysis_worker.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <QElapsedTimer>

#include "core/analysis/analysis.h"
#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/model.h"
#include "core/quant/quantizers.h"
#include "core/train/trainer.h"
#include "core/train/weights.h"

namespace qnn {
namespace {

constexpr qint64 kThrottleMs = 50;  // progress reports per second: ~20

QStringList toStrings(const std::vector<std::string>& v) {
  QStringList out;
  for (const std::string& s : v) out << QString::fromStdString(s);
  return out;
}

AnalysisProgressInfo toInfo(const analysis::Progress& p) {
  AnalysisProgressInfo i;
  i.done = p.done;
  i.total = p.total;
  i.what = QString::fromStdString(p.what);
  i.etaSeconds = p.eta_seconds;
  return i;
}

}  // namespace

/// The worker thread's state: the datasets of the last job, reused when unchanged.
struct AnalysisController::Worker {
  struct Entry {
    DatasetSpec spec;
    std::vector<int64_t> inputShape;
    int64_t limit = -1;
    Dataset data;
  };
  std::optional<Entry> train, test;

  const Dataset& get(std::optional<Entry>& slot, const Project& project, bool isTrain, int64_t limit) {
    if (!slot || !(slot->spec == project.dataset) || slot->inputShape != project.input_shape || slot->limit != limit) {
      slot.reset();  // free the old tensors first
      Entry e{project.dataset, project.input_shape, limit, load_dataset(project, isTrain, limit)};
      slot = std::move(e);
    }
    return slot->data;
  }
};

AnalysisController::AnalysisController(QObject* parent)
    : QObject(parent),
      m_context(new QObject),
      m_worker(std::make_shared<Worker>()),
      m_cancel(std::make_shared<std::atomic<bool>>(false)) {
  qRegisterMetaType<qnn::AnalysisProgressInfo>();
  m_context->moveToThread(&m_thread);
  connect(&m_thread, &QThread::finished, m_context, &QObject::deleteLater);
  m_thread.setObjectName(QStringLiteral("qnn-analysis"));
  m_thread.start();
}

AnalysisController::~AnalysisController() {
  ++m_generation;  // nothing posted from now on reaches this object
  *m_cancel = true;
  m_thread.quit();
  m_thread.wait();
}

template <typename F>
void AnalysisController::post(quint64 generation, F f) {
  QMetaObject::invokeMethod(
      this,
      [this, generation, f = std::move(f)]() mutable {
        if (generation == m_generation.load()) f();
      },
      Qt::QueuedConnection);
}

void AnalysisController::finish(quint64 generation) {
  if (generation == m_generation.load()) m_job = Job::None;
}

template <typename Work>
bool AnalysisController::launch(Job job, Work work) {
  if (isRunning()) return false;
  m_cancel = std::make_shared<std::atomic<bool>>(false);
  m_job = job;
  const quint64 generation = ++m_generation;
  std::shared_ptr<std::atomic<bool>> cancel = m_cancel;
  QMetaObject::invokeMethod(
      m_context,
      [this, job, generation, cancel, work = std::move(work)]() mutable {
        if (generation != m_generation.load()) return;  // discarded before it started
        try {
          work(generation, cancel.get());
        } catch (const Error& e) {
          const QString message = QString::fromStdString(e.what());
          post(generation, [this, job, generation, message] {
            finish(generation);
            Q_EMIT failed(job, message);
          });
        } catch (const c10::Error& e) {
          const QString message =
              tr("LibTorch error: %1").arg(QString::fromStdString(e.what_without_backtrace()).left(400));
          post(generation, [this, job, generation, message] {
            finish(generation);
            Q_EMIT failed(job, message);
          });
        } catch (const std::exception& e) {
          const QString message = QString::fromStdString(e.what());
          post(generation, [this, job, generation, message] {
            finish(generation);
            Q_EMIT failed(job, message);
          });
        }
      },
      Qt::QueuedConnection);
  Q_EMIT started(job);
  return true;
}

void AnalysisController::cancel() {
  if (isRunning()) *m_cancel = true;
}

void AnalysisController::discard() {
  *m_cancel = true;
  ++m_generation;
  m_job = Job::None;
}

namespace {

/// A progress callback that posts at most every kThrottleMs (and always the last unit).
template <typename Post>
analysis::ProgressFn throttled(Post postProgress) {
  auto clock = std::make_shared<QElapsedTimer>();
  return [clock, postProgress](const analysis::Progress& p) {
    if (clock->isValid() && clock->elapsed() < kThrottleMs && p.done < p.total) return;
    clock->start();
    postProgress(toInfo(p));
  };
}

/// The worker's own copy of `impl` (the GUI keeps using the original).
QuantModel copyOf(const std::shared_ptr<QuantModelImpl>& impl) {
  QuantModel original(impl);
  return clone_model(original);
}

}  // namespace

bool AnalysisController::calibrate(const Project& project, std::shared_ptr<QuantModelImpl> model,
                                   const CalibrateRequest& request) {
  std::shared_ptr<Worker> worker = m_worker;
  return launch(Job::Calibrate, [this, worker, project, model, request](quint64 generation, std::atomic<bool>* cancel) {
    set_thread_count(int(project.training.threads));  // the project's setting, as training uses
    auto report = throttled([this, generation](const AnalysisProgressInfo& i) {
      post(generation, [this, i] { Q_EMIT progress(i); });
    });
    analysis::Progress loading;
    loading.what = "loading the data";
    report(loading);
    const Dataset& train = worker->get(worker->train, project, true, request.batches * request.batchSize);
    const Dataset& test = worker->get(worker->test, project, false, request.evalImages);
    QuantModel source(nullptr);
    if (model) {
      source = copyOf(model);
    } else {
      source = build_model(project);
      load_weights(source, request.weightsFile.toStdString());
    }
    loading.what = "evaluating before calibration";
    report(loading);
    const EvalResult before = evaluate(source, test, 256, cancel);
    CalibrateOutcome out;
    out.perChannel = request.perChannel;
    out.project = request.perChannel ? analysis::with_per_channel_weights(project) : project;
    out.weightsFile = model ? QString() : request.weightsFile;
    QuantModel target = source;
    if (request.perChannel) {
      target = build_model(out.project);
      copy_model_state(*source, *target);
    }
    analysis::CalibrationOptions options;
    options.batches = request.batches;
    options.batch_size = request.batchSize;
    options.bias_correction = request.biasCorrection;
    const analysis::CalibrationResult r = analysis::calibrate(target, train, options, report, cancel);
    if (r.cancelled || cancel->load()) {
      post(generation, [this, generation] {
        finish(generation);
        Q_EMIT cancelled(Job::Calibrate);
      });
      return;
    }
    loading.what = "evaluating after calibration";
    report(loading);
    const EvalResult after = evaluate(target, test, 256);
    out.model = target.ptr();
    out.accuracyBefore = before.accuracy;
    out.accuracyAfter = after.accuracy;
    out.evalSamples = after.samples;
    out.samples = r.samples;
    out.calibrated = toStrings(r.calibrated);
    out.biasCorrected = toStrings(r.bias_corrected);
    out.notes = toStrings(r.notes);
    post(generation, [this, generation, out] {
      finish(generation);
      Q_EMIT calibrateFinished(out);
    });
  });
}

bool AnalysisController::analyze(const Project& project, std::shared_ptr<QuantModelImpl> model, qint64 holdout) {
  if (!model) return false;
  std::shared_ptr<Worker> worker = m_worker;
  return launch(Job::Analyze, [this, worker, project, model, holdout](quint64 generation, std::atomic<bool>* cancel) {
    set_thread_count(int(project.training.threads));  // the project's setting, as training uses
    auto report = throttled([this, generation](const AnalysisProgressInfo& i) {
      post(generation, [this, i] { Q_EMIT progress(i); });
    });
    const Dataset& test = worker->get(worker->test, project, false, holdout);
    QuantModel copy = copyOf(model);
    analysis::AnalyzerOptions options;
    options.holdout = holdout;
    auto result = std::make_shared<analysis::AnalyzerReport>(analysis::analyze(copy, test, options, report, cancel));
    AnalyzerReportPtr shared = std::move(result);
    post(generation, [this, generation, shared] {
      finish(generation);
      Q_EMIT analyzeFinished(shared);
    });
  });
}

bool AnalysisController::sweep(const Project& project, std::shared_ptr<QuantModelImpl> model,
                               const SweepRequest& request) {
  if (!model) return false;
  std::shared_ptr<Worker> worker = m_worker;
  return launch(Job::Sweep, [this, worker, project, model, request](quint64 generation, std::atomic<bool>* cancel) {
    set_thread_count(int(project.training.threads));  // the project's setting, as training uses
    auto report = throttled([this, generation](const AnalysisProgressInfo& i) {
      post(generation, [this, i] { Q_EMIT progress(i); });
    });
    analysis::SweepOptions options;
    options.min_bits = request.minBits;
    options.max_bits = request.maxBits;
    options.what = analysis::quant_kind_from_string(request.what.toStdString());
    options.holdout = request.holdout;
    options.calibration_batches = request.calibrationBatches;
    analysis::Progress loading;
    loading.what = "loading the data";
    report(loading);
    const Dataset& train =
        worker->get(worker->train, project, true, options.calibration_batches * options.calibration_batch_size);
    const Dataset& test = worker->get(worker->test, project, false, options.holdout);
    QuantModel copy = copyOf(model);
    {
      // What the views draw until the record comes: the slots, the base cost and the
      // base accuracy on the same images (run_sweep measures it again for the record).
      SweepRecord live;
      live.what = request.what.toStdString();
      live.min_bits = options.min_bits;
      live.max_bits = options.max_bits;
      live.holdout = options.holdout;
      live.calibration_batches = options.calibration_batches;
      live.network = network_fingerprint(project);
      live.slots = analysis::sweep_slots(project, options.what);
      const analysis::Cost cost = analysis::model_cost(project);
      live.base_size_bytes = cost.size_bytes;
      live.base_bitops = cost.bitops;
      // The base as run_sweep makes it: quantizers still in their statistics phase
      // calibrated first (then the live drops are the record's).
      QuantModel probe = copyOf(model);
      probe->eval();
      std::vector<std::string> uncalibrated;
      for (const auto& item : probe->named_modules()) {
        const auto* q = dynamic_cast<const ActQuantizerImpl*>(item.value().get());
        const std::string id = item.key().substr(0, item.key().find('.'));
        if (q && q->spec().scaling == ScalingKind::RuntimeStats && !q->learned_phase() &&
            std::find(uncalibrated.begin(), uncalibrated.end(), id) == uncalibrated.end())
          uncalibrated.push_back(id);
      }
      if (!uncalibrated.empty()) {
        analysis::CalibrationOptions c;
        c.batches = options.calibration_batches;
        c.batch_size = options.calibration_batch_size;
        c.only = uncalibrated;
        analysis::calibrate(probe, train, c, {}, cancel);
      }
      const EvalResult base = evaluate(probe, test, options.eval_batch_size, cancel);
      live.base_accuracy = base.accuracy;
      live.base_loss = base.loss;
      post(generation, [this, live] { Q_EMIT sweepStarted(live); });
    }
    const SweepRecord record = analysis::run_sweep(
        project, copy, train, test, options, report, cancel,
        [this, generation](const SweepPoint& p) { post(generation, [this, p] { Q_EMIT sweepPoint(p); }); });
    post(generation, [this, generation, record] {
      finish(generation);
      Q_EMIT sweepFinished(record);
    });
  });
}

}  // namespace qnn
