// SPDX-License-Identifier: GPL-3.0-or-later
// TrainingWorker::runLaunched: Training > Train on N Processes. The run goes to
// `qnn launch --nproc N` (app/cli/cli_launch.cpp: N local ranks of `qnn train --dist`);
// rank 0's --progress-json lines become the same progress signals as an in-process run,
// and the checkpoint rank 0 writes becomes the run's model.
#include "widgets/training/training_worker.h"

#include <sys/prctl.h>

#include <algorithm>
#include <csignal>
#include <limits>

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QTemporaryDir>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/model.h"
#include "core/inspect/inspect.h"
#include "core/train/checkpoint.h"
#include "core/train/trainer.h"
#include "widgets/inspect/misclassified_images.h"

namespace qnn {
namespace {

/// After a cancel: milliseconds rank 0 gets to stop, evaluate and save (SIGTERM to it
/// alone) before the launcher is asked to stop every rank (SIGTERM), and then before it
/// is killed (its ranks die with it).
constexpr qint64 kStopRank0Ms = 20000;
constexpr qint64 kStopAllMs = 30000;
constexpr qint64 kThrottleMs = 40;

/// One --progress-json line of `qnn train` ({"progress":"training",...}); false when the
/// line is something else (the human-readable lines around them).
bool parseProgress(const QByteArray& line, TrainingProgressInfo& info) {
  if (!line.startsWith("{\"progress\"")) return false;
  QJsonParseError error{};
  const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
  if (error.error != QJsonParseError::NoError || !doc.isObject()) return false;
  const QJsonObject o = doc.object();
  const QString phase = o.value(QLatin1String("progress")).toString();
  using Phase = TrainingProgressInfo::Phase;
  if (phase == QLatin1String("training")) info.phase = Phase::Training;
  else if (phase == QLatin1String("evaluating")) info.phase = Phase::Evaluating;
  else if (phase == QLatin1String("epoch")) info.phase = Phase::EpochDone;
  else if (phase == QLatin1String("finished")) info.phase = Phase::Finished;
  else if (phase == QLatin1String("cancelled")) info.phase = Phase::Cancelled;
  else return false;
  const auto integer = [&](const char* key) { return qint64(o.value(QLatin1String(key)).toDouble()); };
  const auto real = [&](const char* key) {  // null (NaN / Inf on the rank) stays NaN
    const QJsonValue v = o.value(QLatin1String(key));
    return v.isDouble() ? v.toDouble() : std::numeric_limits<double>::quiet_NaN();
  };
  info.epoch = integer("epoch");
  info.epochs = integer("epochs");
  info.batch = integer("batch");
  info.batchesPerEpoch = integer("batches");
  info.globalStep = integer("step");
  info.trainLoss = real("train_loss");
  info.trainAccuracy = real("train_acc");
  info.testLoss = real("test_loss");
  info.testAccuracy = real("test_acc");
  info.seconds = real("seconds");
  return true;
}

/// The launcher's own words for a failure: its "the run failed" line, else the last
/// error a rank printed, else the last line it wrote; "" when it wrote nothing.
QString failureCause(const QStringList& errLines) {
  for (auto it = errLines.rbegin(); it != errLines.rend(); ++it)
    if (it->startsWith(QLatin1String("qnn launch: the run failed:"))) return *it;
  for (auto it = errLines.rbegin(); it != errLines.rend(); ++it)
    if (it->contains(QLatin1String("error:"))) return *it;
  return errLines.isEmpty() ? QString() : errLines.back();
}

}  // namespace

void TrainingWorker::runLaunched(const Project& project, const TrainingRunOptions& options) {
  m_lastStep = 0;
  QElapsedTimer wall;
  wall.start();
  const int n = options.processes;
  try {
    reportLoading(tr("Starting %1 training processes (qnn launch)…").arg(n), options.spec.epochs);
    if (options.launcherPath.isEmpty() || !QFileInfo(options.launcherPath).isExecutable())
      throw ConfigError(tr("Training on %1 processes needs the qnn command line program, which was not found%2: it "
                           "belongs beside qnn-studio (build/app/qnn).")
                            .arg(n)
                            .arg(options.launcherPath.isEmpty() ? QString()
                                                                : tr(" at %1").arg(QDir::toNativeSeparators(options.launcherPath)))
                            .toStdString());
    QTemporaryDir dir(QDir::temp().filePath(QStringLiteral("qnn-studio-dist-XXXXXX")));
    if (!dir.isValid())
      throw IoError(tr("cannot create a temporary folder for the training processes: %1").arg(dir.errorString()).toStdString());
    // The document as it is now (unsaved edits included), with the run's settings.
    Project runProject = project;
    runProject.training = options.spec;
    const QString projectFile = dir.filePath(QStringLiteral("project.qnn.json"));
    const QString checkpoint = dir.filePath(QStringLiteral("model.pt"));
    save_project(runProject, projectFile.toStdString());

    QStringList args{QStringLiteral("launch"), QStringLiteral("--nproc"), QString::number(n), projectFile,
                     QStringLiteral("--checkpoint"), checkpoint, QStringLiteral("--no-autosave"),
                     QStringLiteral("--progress-json")};
    if (options.threadsPerProcess > 0) args << QStringLiteral("--threads") << QString::number(options.threadsPerProcess);
    if (options.trainLimit > 0) args << QStringLiteral("--train-limit") << QString::number(options.trainLimit);
    if (options.testLimit > 0) args << QStringLiteral("--test-limit") << QString::number(options.testLimit);
    if (options.maxBatchesPerEpoch > 0)
      args << QStringLiteral("--max-batches") << QString::number(options.maxBatchesPerEpoch);

    QProcess launcher;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QNN_STUDIO_PARENT"), QString::number(QCoreApplication::applicationPid()));
    launcher.setProcessEnvironment(env);
    launcher.setProgram(options.launcherPath);
    launcher.setArguments(args);
    // Should QNN Studio die, the launcher gets SIGTERM and stops its ranks (no orphans).
    launcher.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
    launcher.start();
    if (!launcher.waitForStarted(15000))
      throw ConfigError(tr("cannot start %1: %2").arg(QDir::toNativeSeparators(options.launcherPath),
                                                      launcher.errorString()).toStdString());

    TrainingSummary summary;
    QStringList errLines;
    QByteArray outPending, errPending;
    QElapsedTimer throttle, stopClock;
    qint64 lastStep = 0;
    bool stopping = false, stoppingAll = false;
    qint64 rank0Pid = 0;  // from the launcher's "rank 0 pid P"
    const auto readAll = [&] {
      outPending += launcher.readAllStandardOutput();
      errPending += launcher.readAllStandardError();
      qsizetype nl;
      while ((nl = errPending.indexOf('\n')) >= 0) {
        const QString line = QString::fromUtf8(errPending.left(nl)).trimmed();
        errPending.remove(0, nl + 1);
        if (!line.isEmpty()) errLines << line;
        // "qnn launch: 2 ranks on 127.0.0.1:PORT: rank 0 pid P; rank 1 pid Q": say so until training reports.
        static const QLatin1String started("qnn launch: ");
        if (lastStep == 0 && line.startsWith(started) && line.contains(QLatin1String(" ranks on "))) {
          const QString what = line.mid(started.size());
          const QRegularExpressionMatch pid = QRegularExpression(QStringLiteral("rank 0 pid (\\d+)")).match(what);
          if (pid.hasMatch()) rank0Pid = pid.captured(1).toLongLong();
          const qsizetype colon = what.indexOf(QLatin1String(": rank "));
          reportLoading(colon < 0 ? tr("Started %1; loading the data…").arg(what)
                                  : tr("Started %1 (%2); loading the data…").arg(what.left(colon), what.mid(colon + 2)),
                        options.spec.epochs);
        }
        if (errLines.size() > 200) errLines.removeFirst();
      }
      while ((nl = outPending.indexOf('\n')) >= 0) {
        const QByteArray line = outPending.left(nl).trimmed();
        outPending.remove(0, nl + 1);
        TrainingProgressInfo info;
        if (!parseProgress(line, info)) continue;
        lastStep = std::max(lastStep, info.globalStep);
        using Phase = TrainingProgressInfo::Phase;
        if (info.phase == Phase::EpochDone)
          summary.epochs.push_back(
              {info.epoch, info.trainLoss, info.trainAccuracy, info.testLoss, info.testAccuracy, info.seconds});
        if (info.phase == Phase::Training) {
          if (throttle.isValid() && throttle.elapsed() < kThrottleMs) continue;
          throttle.start();
        }
        Q_EMIT progress(info);
      }
    };
    while (launcher.state() != QProcess::NotRunning) {
      launcher.waitForReadyRead(50);
      readAll();
      if (m_cancel.load() && !stopping) {
        // Rank 0 alone stops after its batch, evaluates and saves (qnn train's SIGTERM is a
        // cancel); the other ranks then lose it in their next all-reduce and end. SIGTERM
        // to every rank at once could stop them at different batches, rank 0 then waiting
        // in an all-reduce nobody joins, so that it never saves.
        stopping = true;
        stopClock.start();
        if (rank0Pid <= 0 || ::kill(pid_t(rank0Pid), SIGTERM) != 0) {
          launcher.terminate();  // not started yet: the launcher stops every rank
          stoppingAll = true;
        }
      }
      if (stopping && !stoppingAll && stopClock.elapsed() > kStopRank0Ms) {
        launcher.terminate();
        stoppingAll = true;
      }
      if (stopping && stopClock.elapsed() > kStopAllMs) launcher.kill();  // its ranks die with it
    }
    launcher.waitForFinished(-1);
    readAll();
    if (!errPending.trimmed().isEmpty()) errLines << QString::fromUtf8(errPending).trimmed();

    const bool crashed = launcher.exitStatus() != QProcess::NormalExit;
    const int code = crashed ? -1 : launcher.exitCode();
    const bool cancelled = stopping || code == 130;
    const QString cause = failureCause(errLines);
    // A cancelled run whose rank 0 saved its model keeps it, whatever the other ranks said.
    if (!QFileInfo::exists(checkpoint) || (!cancelled && (crashed || code != 0))) {
      if (cancelled)
        throw ConfigError(tr("The run on %1 processes was stopped before rank 0 saved its model, so there is no "
                             "model of this run%2.")
                              .arg(n)
                              .arg(cause.isEmpty() ? QString() : tr(" (%1)").arg(cause))
                              .toStdString());
      throw ConfigError(tr("Training on %1 processes failed: %2")
                            .arg(n)
                            .arg(cause.isEmpty() ? tr("qnn launch ended with status %1 without a message").arg(code)
                                                 : cause)
                            .toStdString());
    }

    // Rank 0's model, evaluated here like an in-process run's end (same test samples).
    reportLoading(tr("Loading the model rank 0 trained…"), options.spec.epochs);
    set_thread_count(options.spec.threads);
    QuantModel model = build_model(runProject);
    load_checkpoint(model, checkpoint.toStdString());
    const Dataset& test = testSet(project, options.testLimit);
    reportLoading(tr("Evaluating the model on the test set…"), options.spec.epochs);
    const EvalResult result = evaluate(model, test);
    summary.cancelled = cancelled;
    summary.testLoss = result.loss;
    summary.testAccuracy = result.accuracy;
    summary.testSamples = result.samples;
    for (const auto& row : result.confusion) {
      QVector<qint64> qrow;
      for (int64_t c : row) qrow.push_back(c);
      summary.confusion.push_back(qrow);
    }
    for (const std::string& name : test.class_names) summary.classNames << QString::fromStdString(name);
    summary.notes << (options.threadsPerProcess > 0
                          ? tr("trained on %1 processes × %2 thread(s) (qnn launch)").arg(n).arg(options.threadsPerProcess)
                          : tr("trained on %1 processes (qnn launch)").arg(n));

    m_lastStep = lastStep;
    if (options.inspect && !m_closing.load() && test.size() > 0) {
      try {
        const torch::Tensor calibration = inspect::calibration_batch(test, options.calibrationSamples);
        auto report = std::make_shared<inspect::Report>(inspect::inspect_model(model, calibration, lastStep));
        Q_EMIT inspectionReport(InspectionReportPtr(std::move(report)));
        Q_EMIT misclassifiedReady(
            misclassifiedSet(test, inspect::misclassified(model, test, options.misclassifiedLimit)));
      } catch (const std::exception& e) {
        qWarning("qnn: inspection of the model trained on %d processes failed: %s", n, e.what());
      }
    }
    summary.seconds = double(wall.elapsed()) / 1000.0;
    m_storeModel(model.ptr(), true);
    Q_EMIT finished(summary);
  } catch (const Error& e) {
    Q_EMIT failed(QString::fromStdString(e.what()), -1);
  } catch (const c10::Error& e) {
    Q_EMIT failed(tr("LibTorch error: %1").arg(QString::fromStdString(e.what_without_backtrace())), -1);
  } catch (const std::exception& e) {
    Q_EMIT failed(QString::fromStdString(e.what()), -1);
  }
}

}  // namespace qnn
