// SPDX-License-Identifier: GPL-3.0-or-later
// Runs the long analyses of core/analysis/analysis.h (calibrate, analyze, run_sweep)
// off the GUI thread. AnalysisController lives on the GUI thread and owns one worker
// thread; a job gets its own copy of the model (clone_model, made on the GUI thread when
// the job starts: the worker never touches a model the GUI uses), a cancel flag (std::atomic<bool>) and posts its progress (throttled to ~20 per second), each
// sweep point as it is done, and its result back to the controller, which emits them
// as signals on the GUI thread. No LibTorch in this header.
#pragma once

#include <atomic>
#include <limits>
#include <memory>

#include <QObject>
#include <QString>
#include <QStringList>
#include <QThread>

#include "core/graph/project.h"
#include "core/graph/sweep_record.h"
#include "widgets/analysis/analysis_view_types.h"

namespace qnn {

class QuantModelImpl;

/// Progress of the running job (analysis::Progress on the Qt side).
struct AnalysisProgressInfo {
  qint64 done = 0;
  qint64 total = 0;
  QString what;  ///< "conv1 at 3 bits"
  double etaSeconds = std::numeric_limits<double>::quiet_NaN();  ///< NaN while unknown
};

/// Analysis > Calibrate…: what the dialog asks for.
struct CalibrateRequest {
  qint64 batches = 16;        ///< calibration batches of the training split (dataset order)
  qint64 batchSize = 64;
  bool biasCorrection = false;
  /// Int8WeightPerTensorFloat weight quantizers become per output channel
  /// (analysis::with_per_channel_weights): the project changes with the model.
  bool perChannel = false;
  qint64 evalImages = 2000;   ///< first test images evaluated before and after (0: all)
  QString weightsFile;        ///< used when there is no current model (a checkpoint or state dict)
};

/// What a calibration produced (the model is a new one; the source is untouched).
struct CalibrateOutcome {
  std::shared_ptr<QuantModelImpl> model;  ///< calibrated, of `project`
  Project project;                        ///< the network calibrated (per-channel weights or the input)
  bool perChannel = false;
  double accuracyBefore = 0.0, accuracyAfter = 0.0;  ///< on `evalSamples` test images
  qint64 evalSamples = 0;
  qint64 samples = 0;                     ///< calibration images seen
  QStringList calibrated, biasCorrected, notes;
  QString weightsFile;                    ///< non-empty when it started from a file
  /// "note: FILE was trained on a different network (...); its tensors are loaded by name
  /// and shape" when weightsFile is a checkpoint of another network; empty otherwise.
  QString otherNetwork;
};

/// Analysis > Sensitivity Sweep…: what the dialog asks for (analysis::SweepOptions).
struct SweepRequest {
  int minBits = 2, maxBits = 8;
  QString what = QStringLiteral("weights");  ///< "weights", "activations", "both"
  qint64 holdout = 2000;
  qint64 calibrationBatches = 8;
};

class AnalysisController : public QObject {
  Q_OBJECT
 public:
  enum class Job { None, Calibrate, Analyze, Sweep };

  explicit AnalysisController(QObject* parent = nullptr);
  /// Cancels a running job and waits for the worker thread to end.
  ~AnalysisController() override;

  bool isRunning() const { return m_job != Job::None; }
  bool isCancelling() const { return isRunning() && m_cancel->load(); }
  Job job() const { return m_job; }

  /// Each starts a job on `project` (the document's, validated) with a copy of `model`
  /// (the current model of that network, copied here, on the calling thread; may be null
  /// for calibrate: then request.weightsFile is loaded). The analyzer and the sweep first
  /// calibrate the activation quantizers still in their statistics phase
  /// (analysis::calibrate_uncalibrated). Return false (and do nothing) while a job runs.
  bool calibrate(const Project& project, std::shared_ptr<QuantModelImpl> model, const CalibrateRequest& request);
  bool analyze(const Project& project, std::shared_ptr<QuantModelImpl> model, qint64 holdout);
  bool sweep(const Project& project, std::shared_ptr<QuantModelImpl> model, const SweepRequest& request);

  /// Asks the job to stop at its next check: a sweep then finishes with its partial
  /// record (complete = false), an analyzer with its rows so far, a calibration with
  /// nothing (cancelled()).
  void cancel();
  /// Cancels and forgets the running job (another project was opened): nothing it posts
  /// afterwards is emitted; finished signals of the forgotten job never come.
  void discard();

 Q_SIGNALS:
  void started(qnn::AnalysisController::Job job);
  void progress(const qnn::AnalysisProgressInfo& info);
  /// A sweep has its data and model: `live` holds its settings, slots, base cost and the
  /// base accuracy measured on the same held-out images (no points yet). The final record
  /// (sweepFinished) replaces it.
  void sweepStarted(const qnn::SweepRecord& live);
  /// A sweep point as it is done (before sweepFinished).
  void sweepPoint(const qnn::SweepPoint& point);
  /// The sweep ended, complete or cancelled (record.complete false, partial points kept).
  void sweepFinished(const qnn::SweepRecord& record);
  /// `calibratedFirst`: the layers whose activation quantizers were still in their
  /// statistics phase and were calibrated before the analysis (empty: none).
  void analyzeFinished(const qnn::AnalyzerReportPtr& report, const QStringList& calibratedFirst);
  void calibrateFinished(const qnn::CalibrateOutcome& outcome);
  /// A job stopped by cancel() without a result (a calibration; an analyzer cancelled
  /// while it calibrated first).
  void cancelled(qnn::AnalysisController::Job job);
  /// A job failed; `message` names the job and the step, then the cause's first line
  /// ("Sweep: loading the test images: ..."; "Sweep: out of memory while ...").
  void failed(qnn::AnalysisController::Job job, const QString& message);

 private:
  /// Runs `work(generation, cancel)` on the worker thread; its posts go through post().
  template <typename Work>
  bool launch(Job job, Work work);
  /// Called on the worker thread: runs `f` on the GUI thread if `generation` is still current.
  template <typename F>
  void post(quint64 generation, F f);
  void finish(quint64 generation);

  struct Worker;
  QThread m_thread;
  QObject* m_context = nullptr;         ///< lives in m_thread: jobs are queued to it
  std::shared_ptr<Worker> m_worker;     ///< dataset cache, used on the worker thread only
  /// The running job's cancel flag (each job has its own: a discarded job keeps its set flag).
  std::shared_ptr<std::atomic<bool>> m_cancel;
  std::atomic<quint64> m_generation{0};
  Job m_job = Job::None;
};

}  // namespace qnn
