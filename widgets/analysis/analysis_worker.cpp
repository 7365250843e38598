// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/analysis/analysis_worker.h"

#include <algorithm>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <QElapsedTimer>
#include <QFileInfo>

#include "core/analysis/analysis.h"
#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/model.h"
#include "core/quant/quantizers.h"
#include "core/train/checkpoint.h"
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

/// A failure already worded for the user: "Sweep: loading the data: <first line>".
class JobError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

/// Runs `f` (one step of a job); rethrows its failure as a JobError naming the job and
/// the step ("Sweep: copying the model: ..."): a LibTorch or library error by its first
/// line (no backtrace, no C++ file names), a core error (qnn::Error) whole, as it is
/// written for the user; running out of memory as "Sweep: out of memory while ...".
template <typename F>
auto step(const char* job, const char* what, F&& f) -> decltype(f()) {
  const std::string where = std::string(job) + ": ";
  try {
    return f();
  } catch (const JobError&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw JobError(where + "out of memory while " + what);
  } catch (const c10::OutOfMemoryError&) {
    throw JobError(where + "out of memory while " + what);
  } catch (const c10::Error& e) {
    throw JobError(where + what + ": " + firstLine(e.what_without_backtrace()));
  } catch (const Error& e) {
    throw JobError(where + what + ": " + e.what());
  } catch (const std::exception& e) {
    throw JobError(where + what + ": " + firstLine(e.what()));
  }
}

const char* jobName(AnalysisController::Job job) {
  return job == AnalysisController::Job::Calibrate ? "Calibration"
         : job == AnalysisController::Job::Analyze ? "Analyzer"
                                                   : "Sweep";
}

/// The job's own copy of `impl`, made on the calling (GUI) thread before the job starts:
/// the worker never touches a model the GUI uses (an export flips its training flags).
/// Null with `error` set when the copy fails.
std::shared_ptr<QuantModelImpl> copyHere(const std::shared_ptr<QuantModelImpl>& impl, AnalysisController::Job job,
                                         std::string& error) {
  if (!impl) return nullptr;
  try {
    return step(jobName(job), "copying the model", [&impl] {
      QuantModel original(impl);
      return clone_model(original).ptr();
    });
  } catch (const JobError& e) {
    error = e.what();
    return nullptr;
  }
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
        QString message;
        try {
          work(generation, cancel.get());
          return;
        } catch (const JobError& e) {
          message = QString::fromStdString(e.what());
        } catch (const std::bad_alloc&) {
          message = QStringLiteral("%1: out of memory").arg(QLatin1String(jobName(job)));
        } catch (const c10::Error& e) {
          message = QStringLiteral("%1: %2").arg(QLatin1String(jobName(job)),
                                                 QString::fromStdString(firstLine(e.what_without_backtrace())));
        } catch (const Error& e) {
          message = QStringLiteral("%1: %2").arg(QLatin1String(jobName(job)), QString::fromStdString(e.what()));
        } catch (const std::exception& e) {
          message = QStringLiteral("%1: %2").arg(QLatin1String(jobName(job)), QString::fromStdString(firstLine(e.what())));
        }
        post(generation, [this, job, generation, message] {
          finish(generation);
          Q_EMIT failed(job, message);
        });
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

}  // namespace

bool AnalysisController::calibrate(const Project& project, std::shared_ptr<QuantModelImpl> model,
                                   const CalibrateRequest& request) {
  if (isRunning()) return false;
  std::string copyError;
  std::shared_ptr<QuantModelImpl> copy = copyHere(model, Job::Calibrate, copyError);
  const bool fromFile = !model;
  std::shared_ptr<Worker> worker = m_worker;
  return launch(Job::Calibrate, [this, worker, project, copy, fromFile, copyError, request](
                                    quint64 generation, std::atomic<bool>* cancel) {
    const char* job = "Calibration";
    if (!fromFile && !copy) throw JobError(copyError);
    set_thread_count(int(project.training.threads));  // the project's setting, as training uses
    auto report = throttled([this, generation](const AnalysisProgressInfo& i) {
      post(generation, [this, i] { Q_EMIT progress(i); });
    });
    analysis::Progress loading;
    loading.what = "loading the data";
    report(loading);
    const Dataset& train = step(job, "loading the training images", [&]() -> const Dataset& {
      return worker->get(worker->train, project, true, request.batches * request.batchSize);
    });
    const Dataset& test = step(job, "loading the test images", [&]() -> const Dataset& {
      return worker->get(worker->test, project, false, request.evalImages);
    });
    QuantModel source(nullptr);
    QString otherNetwork;
    if (!fromFile) {
      source = QuantModel(copy);
    } else {
      try {  // a checkpoint of another network loads by name and shape: say so
        const std::string diff = network_difference(project, read_checkpoint_project(request.weightsFile.toStdString()));
        if (!diff.empty())
          otherNetwork = QStringLiteral("note: %1 was trained on a different network (%2); its tensors are loaded by "
                                        "name and shape")
                             .arg(QFileInfo(request.weightsFile).fileName(), QString::fromStdString(diff));
      } catch (const std::exception&) {
        // a state dict (no network), or unreadable: load_weights says so
      }
      step(job, "loading the weights", [&] {
        source = build_model(project);
        load_weights(source, request.weightsFile.toStdString());
      });
    }
    loading.what = "evaluating before calibration";
    report(loading);
    const EvalResult before = step(job, "evaluating before calibration", [&] { return evaluate(source, test, 256, cancel); });
    CalibrateOutcome out;
    out.perChannel = request.perChannel;
    out.project = request.perChannel ? analysis::with_per_channel_weights(project) : project;
    out.weightsFile = fromFile ? request.weightsFile : QString();
    out.otherNetwork = otherNetwork;
    QuantModel target = source;
    if (request.perChannel) {
      step(job, "making the weights per channel", [&] {
        target = build_model(out.project);
        copy_model_state(*source, *target);
      });
    }
    analysis::CalibrationOptions options;
    options.batches = request.batches;
    options.batch_size = request.batchSize;
    options.bias_correction = request.biasCorrection;
    const analysis::CalibrationResult r =
        step(job, "calibrating", [&] { return analysis::calibrate(target, train, options, report, cancel); });
    if (r.cancelled || cancel->load()) {
      post(generation, [this, generation] {
        finish(generation);
        Q_EMIT cancelled(Job::Calibrate);
      });
      return;
    }
    loading.what = "evaluating after calibration";
    report(loading);
    const EvalResult after = step(job, "evaluating after calibration", [&] { return evaluate(target, test, 256); });
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
  if (!model || isRunning()) return false;
  std::string copyError;
  std::shared_ptr<QuantModelImpl> copy = copyHere(model, Job::Analyze, copyError);
  std::shared_ptr<Worker> worker = m_worker;
  return launch(Job::Analyze, [this, worker, project, copy, copyError, holdout](quint64 generation,
                                                                                 std::atomic<bool>* cancel) {
    const char* job = "Analyzer";
    if (!copy) throw JobError(copyError);
    set_thread_count(int(project.training.threads));  // the project's setting, as training uses
    auto report = throttled([this, generation](const AnalysisProgressInfo& i) {
      post(generation, [this, i] { Q_EMIT progress(i); });
    });
    analysis::Progress loading;
    loading.what = "loading the data";
    report(loading);
    // Activation quantizers still in their statistics phase have no meaningful scale:
    // calibrated first (16 x 64 training images), as `qnn analyze` does.
    const analysis::CalibrationOptions calibration;
    const Dataset& train = step(job, "loading the training images", [&]() -> const Dataset& {
      return worker->get(worker->train, project, true, calibration.batches * calibration.batch_size);
    });
    const Dataset& test = step(job, "loading the test images", [&]() -> const Dataset& {
      return worker->get(worker->test, project, false, holdout);
    });
    QuantModel model(copy);
    const analysis::CalibrationResult calibrated = step(job, "calibrating the quantizers never calibrated", [&] {
      return analysis::calibrate_uncalibrated(model, train, calibration, report, cancel);
    });
    if (calibrated.cancelled || cancel->load()) {
      post(generation, [this, generation] {
        finish(generation);
        Q_EMIT cancelled(Job::Analyze);
      });
      return;
    }
    analysis::AnalyzerOptions options;
    options.holdout = holdout;
    AnalyzerReportPtr shared = step(job, "analyzing", [&] {
      return std::make_shared<const analysis::AnalyzerReport>(analysis::analyze(model, test, options, report, cancel));
    });
    const QStringList first = toStrings(calibrated.calibrated);
    post(generation, [this, generation, shared, first] {
      finish(generation);
      Q_EMIT analyzeFinished(shared, first);
    });
  });
}

bool AnalysisController::sweep(const Project& project, std::shared_ptr<QuantModelImpl> model,
                               const SweepRequest& request) {
  if (!model || isRunning()) return false;
  std::string copyError;
  std::shared_ptr<QuantModelImpl> copy = copyHere(model, Job::Sweep, copyError);
  std::shared_ptr<Worker> worker = m_worker;
  return launch(Job::Sweep, [this, worker, project, copy, copyError, request](quint64 generation,
                                                                             std::atomic<bool>* cancel) {
    const char* job = "Sweep";
    if (!copy) throw JobError(copyError);
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
    const Dataset& train = step(job, "loading the training images", [&]() -> const Dataset& {
      return worker->get(worker->train, project, true, options.calibration_batches * options.calibration_batch_size);
    });
    const Dataset& test = step(job, "loading the test images", [&]() -> const Dataset& {
      return worker->get(worker->test, project, false, options.holdout);
    });
    QuantModel trained(copy);
    {
      // What the views draw until the record comes: the slots, the base cost and the
      // base accuracy on the same images (run_sweep measures it again for the record).
      SweepRecord live;
      live.what = request.what.toStdString();
      live.min_bits = options.min_bits;
      live.max_bits = options.max_bits;
      live.holdout = options.holdout;
      live.calibration_batches = options.calibration_batches;
      step(job, "listing the quantizers to sweep", [&] {
        live.slots = analysis::sweep_slots(project, options.what);
        live.network = analysis::sweep_fingerprint(project, live.slots);
        const analysis::Cost cost = analysis::model_cost(project);
        live.base_size_bytes = cost.size_bytes;
        live.base_bitops = cost.bitops;
      });
      // The base as run_sweep makes it: quantizers still in their statistics phase
      // calibrated first (then the live drops are the record's).
      QuantModel probe = step(job, "copying the model", [&] { return clone_model(trained); });
      probe->eval();
      analysis::CalibrationOptions c;
      c.batches = options.calibration_batches;
      c.batch_size = options.calibration_batch_size;
      const analysis::CalibrationResult calibrated = step(job, "calibrating the quantizers never calibrated", [&] {
        return analysis::calibrate_uncalibrated(probe, train, c, {}, cancel);
      });
      if (!calibrated.calibrated.empty()) {
        std::string ids;
        for (const std::string& id : calibrated.calibrated) ids += (ids.empty() ? "" : ", ") + id;
        live.notes.push_back(ids + ": still in the statistics phase (never calibrated nor trained past it); "
                                   "calibrated first on " + std::to_string(calibrated.samples) + " training images");
      }
      const EvalResult base =
          step(job, "evaluating the base", [&] { return evaluate(probe, test, options.eval_batch_size, cancel); });
      live.base_accuracy = base.accuracy;
      live.base_loss = base.loss;
      // Cancelled before the base was measured: nothing to draw (run_sweep returns at once).
      if (!calibrated.cancelled && !cancel->load()) post(generation, [this, live] { Q_EMIT sweepStarted(live); });
    }
    const SweepRecord record = step(job, "running the sweep", [&] {
      return analysis::run_sweep(project, trained, train, test, options, report, cancel,
                                 [this, generation](const SweepPoint& p) {
                                   post(generation, [this, p] { Q_EMIT sweepPoint(p); });
                                 });
    });
    post(generation, [this, generation, record] {
      finish(generation);
      Q_EMIT sweepFinished(record);
    });
  });
}

}  // namespace qnn
