// SPDX-License-Identifier: GPL-3.0-or-later
// The object that lives on TrainingController's worker thread. Private to
// widgets/training; reports go back to the controller through queued signals.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include <QObject>
#include <QString>

#include "core/graph/project.h"
#include "widgets/inspect/inspection_types.h"
#include "widgets/training/training_types.h"

namespace qnn {

class QuantModelImpl;
struct Dataset;

class TrainingWorker : public QObject {
  Q_OBJECT
 public:
  /// `storeModel(model, replaceEarlier)` is called on the worker thread with the trained
  /// model before finished() is emitted (replaceEarlier true), or with the model of the
  /// last good step before failed() when training stopped at a NaN/Inf (false: earlier
  /// models stay). `cancel` is owned by the controller.
  /// `closing` (also the controller's) is set when the window closes: the run stops
  /// like a cancel but skips the final inspection and the misclassified scan.
  TrainingWorker(const std::atomic<bool>& cancel, const std::atomic<bool>& closing,
                 std::function<void(std::shared_ptr<QuantModelImpl>, bool)> storeModel);
  ~TrainingWorker() override;

  /// Runs one training (blocking the worker thread). Emits progress() throttled to
  /// about 20 per second, then exactly one of finished() / failed(). With
  /// options.inspect, also inspectionReport() and misclassifiedReady(); an inspection
  /// error is reported through failed() only when training itself fails.
  /// `initial` (optional): the state to start from (copy_model_state into the built model).
  void run(const Project& project, const TrainingRunOptions& options,
           const std::shared_ptr<QuantModelImpl>& initial = nullptr);
  /// Inspects `model` (no training; the report carries the last run's step) on options.calibrationSamples test images of its
  /// project's dataset and emits inspectionReport(); on an error only a warning is
  /// logged (inspection is a view, never a failure of the model).
  void inspect(const std::shared_ptr<QuantModelImpl>& model, const TrainingRunOptions& options, quint64 generation);

 Q_SIGNALS:
  void progress(const qnn::TrainingProgressInfo& info);
  void finished(const qnn::TrainingSummary& summary);
  /// The run failed. `keptSteps` >= 0: training stopped at a NaN/Inf (NumericsError)
  /// and the model of the last good step (the run's steps up to it) was stored as the
  /// run's model before this signal; -1: no model was stored.
  void failed(const QString& message, qint64 keptSteps);
  /// Live inspection report (options.inspect): throttled while training, at every epoch
  /// end and after the final evaluation (before finished()).
  void inspectionReport(const qnn::InspectionReportPtr& report);
  /// The report of inspect(), tagged with the controller's model generation it was asked for.
  void inspectedReport(const qnn::InspectionReportPtr& report, quint64 generation);
  /// Misclassified test images of the trained model (before finished()).
  void misclassifiedReady(const qnn::MisclassifiedSet& set);

 private:
  /// run() with options.processes >= 2: the run goes to `qnn launch` (training_worker_launch.cpp);
  /// the same signals, m_cancel terminates the launcher (it stops every rank).
  void runLaunched(const Project& project, const TrainingRunOptions& options);
  /// A Loading report saying `message`.
  void reportLoading(const QString& message, qint64 epochs);
  /// The test set of `project` (the first `limit` samples when > 0), from the cache.
  const Dataset& testSet(const Project& project, qint64 limit);

  struct DataCache;
  const std::atomic<bool>& m_cancel;
  const std::atomic<bool>& m_closing;
  std::function<void(std::shared_ptr<QuantModelImpl>, bool)> m_storeModel;
  std::unique_ptr<DataCache> m_cache;  ///< datasets of the last run, reused when unchanged
  int64_t m_lastStep = 0;  ///< training step of the last run's last inspection (inspect() reports it)
};

}  // namespace qnn
