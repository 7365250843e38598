// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/analysis_actions.h"

#include <algorithm>
#include <cmath>

#include "core/analysis/analysis.h"
#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/model.h"
#include "core/quant/quantizers.h"

#include <QAction>
#include <QDir>
#include <QDockWidget>
#include <QEventLoop>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QTabWidget>
#include <QTimer>

#include "widgets/analysis/analysis_dialogs.h"
#include "widgets/analysis/analysis_format.h"
#include "widgets/analysis/analysis_panel.h"
#include "widgets/analysis/analyzer_view.h"
#include "widgets/analysis/pareto_view.h"
#include "widgets/analysis/sweep_curves_view.h"
#include "widgets/analysis/sweep_heatmap_view.h"
#include "widgets/document/project_document.h"
#include "widgets/training/training_controller.h"

namespace qnn {
namespace {

constexpr int kProgressRange = 1000;  // like the training's: permille

QString percent(double fraction) { return QStringLiteral("%1 %").arg(fraction * 100.0, 0, 'f', 2); }

/// analysis_format::nearChanceWarning for `accuracy` on `project`'s dataset ("warning:
/// the model's accuracy (12.2 %) is near chance (10 %): ..."); empty when it is not, or
/// when the number of classes is unknown.
QString nearChance(const Project& project, double accuracy) {
  try {
    return analysis_format::nearChanceWarning(accuracy, int64_t(dataset_info(project).class_names.size()));
  } catch (const std::exception&) {
    return QString();
  }
}

/// Whether `project`'s network has an activation quantizer with runtime statistics (what
/// calibration sets); true when it cannot tell.
bool hasRuntimeStatsQuantizer(const Project& project) {
  try {
    QuantModel model = build_model(project);
    for (const auto& item : model->named_modules())
      if (auto* q = dynamic_cast<ActQuantizerImpl*>(item.value().get()))
        if (q->spec().scaling == ScalingKind::RuntimeStats) return true;
    return false;
  } catch (const std::exception&) {
    return true;  // the job reports the error
  }
}

}  // namespace

QString AnalysisActions::noTrainedModelText() {
  return QObject::tr("Train or load weights first: the analysis measures the trained model of this network "
                     "(Training > Train, F5, or File > Load Weights…, Ctrl+Shift+O).");
}

namespace {

const char* const kStaleSweep = "the network changed since this sweep";

}  // namespace

AnalysisActions::AnalysisActions(ProjectDocument* document, TrainingController* training, QWidget* window,
                                 AnalysisHooks hooks)
    : QObject(window),
      m_document(document),
      m_training(training),
      m_window(window),
      m_hooks(std::move(hooks)),
      m_controller(new AnalysisController(this)),
      m_panel(new AnalysisPanel(window)),
      m_axis(analysis::CostAxis::SizeBytes) {
  m_panel->setObjectName(QStringLiteral("analysisPanel"));
  auto action = [this](const QString& text, const char* name, QKeySequence key, const QString& tip) {
    auto* a = new QAction(text, m_window);
    a->setObjectName(QLatin1String(name));
    a->setShortcut(key);
    a->setToolTip(tip);
    a->setStatusTip(tip);
    m_window->addAction(a);  // the shortcut works with the menu bar hidden too
    return a;
  };
  m_calibrateAction = action(tr("&Calibrate…"), "calibrateAction", QKeySequence(Qt::Key_F6),
                             tr("Post-training calibration of the activation ranges, optional bias correction and "
                                "per-channel weights; accuracy before and after (F6)"));
  m_analyzeAction = action(tr("&Analyze"), "analyzeAction", QKeySequence(Qt::Key_F7),
                           tr("Which layers lose accuracy when quantized: float, weights only, activations only, "
                              "and each layer alone / all but it (F7)"));
  m_sweepAction = action(tr("Sensitivity &Sweep…"), "sweepAction", QKeySequence(Qt::Key_F8),
                         tr("Each quantizer at each bit width, evaluated on held-out images; saved with the project "
                            "(F8)"));
  m_suggestAction = action(tr("Suggest &Mixed Precision"), "suggestAction", QKeySequence(Qt::Key_F9),
                           tr("The Pareto front of size or BitOps against predicted accuracy from the sweep; pick by "
                              "budget or click, then Apply or Fine-tune (F9)"));
  connect(m_calibrateAction, &QAction::triggered, this, &AnalysisActions::calibrate);
  connect(m_analyzeAction, &QAction::triggered, this, &AnalysisActions::analyze);
  connect(m_sweepAction, &QAction::triggered, this, &AnalysisActions::sweep);
  connect(m_suggestAction, &QAction::triggered, this, &AnalysisActions::suggestMixedPrecision);
  m_menu = new QMenu(tr("&Analysis"), window);
  m_menu->setObjectName(QStringLiteral("analysisMenu"));
  m_menu->addAction(m_calibrateAction);
  m_menu->addAction(m_analyzeAction);
  m_menu->addSeparator();
  m_menu->addAction(m_sweepAction);
  m_menu->addAction(m_suggestAction);

  m_redraw = new QTimer(this);
  m_redraw->setSingleShot(true);
  m_redraw->setInterval(100);
  connect(m_redraw, &QTimer::timeout, this, [this] {
    if (m_liveActive) showRecord(m_live, true);
  });

  connect(m_controller, &AnalysisController::started, this, &AnalysisActions::onStarted);
  connect(m_controller, &AnalysisController::progress, this, &AnalysisActions::onProgress);
  connect(m_controller, &AnalysisController::sweepStarted, this, &AnalysisActions::onSweepStarted);
  connect(m_controller, &AnalysisController::sweepPoint, this, &AnalysisActions::onSweepPoint);
  connect(m_controller, &AnalysisController::sweepFinished, this, &AnalysisActions::onSweepFinished);
  connect(m_controller, &AnalysisController::analyzeFinished, this, &AnalysisActions::onAnalyzeFinished);
  connect(m_controller, &AnalysisController::calibrateFinished, this, &AnalysisActions::onCalibrateFinished);
  connect(m_controller, &AnalysisController::cancelled, this, [this](AnalysisController::Job job) {
    onJobEnded();
    const QString text = job == AnalysisController::Job::Analyze
                             ? tr("Analyzer cancelled before any configuration was evaluated.")
                             : tr("Calibration cancelled: the model is unchanged.");
    if (m_hooks.progressBar) m_hooks.progressBar->setFormat(tr("cancelled"));
    if (m_hooks.etaLabel) m_hooks.etaLabel->clear();
    m_panel->setStatus(text);
    if (m_hooks.status) m_hooks.status(text, QString());
  });
  connect(m_controller, &AnalysisController::failed, this, [this](AnalysisController::Job job, const QString& message) {
    const bool wasSweep = job == AnalysisController::Job::Sweep;
    m_analyzingModel.reset();  // the report shown (if any) stays the previous model's
    onJobEnded();
    if (wasSweep && m_liveActive) {
      m_liveActive = false;
      onSweepChanged();  // back to the project's saved sweep (or nothing)
    }
    const QString title = job == AnalysisController::Job::Calibrate ? tr("Calibration failed")
                          : job == AnalysisController::Job::Analyze ? tr("Analysis failed")
                                                                    : tr("Sensitivity sweep failed");
    m_panel->setStatus(title + QStringLiteral(": ") + message);
    if (m_hooks.status) m_hooks.status(title + QLatin1Char('.'), message);
    if (m_hooks.error) m_hooks.error(title, message);
  });

  connect(m_document, &ProjectDocument::projectReplaced, this, &AnalysisActions::onProjectReplaced);
  connect(m_document, &ProjectDocument::changed, this, &AnalysisActions::onDocumentChanged);
  connect(m_document, &ProjectDocument::sweepChanged, this, &AnalysisActions::onSweepChanged);
  connect(m_training, &TrainingController::currentModelChanged, this, &AnalysisActions::refreshStale);
  connect(m_training, &TrainingController::finished, this, [this](const TrainingSummary& summary) {
    if (!m_fineTuneBits) return;
    const std::vector<int> bits = *m_fineTuneBits;
    m_fineTuneBits.reset();
    if (summary.cancelled) {  // not the configuration's accuracy after the epochs asked for
      m_panel->measuredLabel()->setText(
          tr("Fine-tune cancelled after %n epoch(s): %1 on %2 test images, not recorded as this configuration's "
             "measured accuracy.", "", int(summary.epochs.size()))
              .arg(percent(summary.testAccuracy))
              .arg(summary.testSamples));
      m_panel->measuredLabel()->setProperty("accuracy", QVariant());
      return;
    }
    setMeasured(bits, summary.testAccuracy);
    int index = -1;
    if (m_front)
      for (size_t i = 0; i < m_front->size(); ++i)
        if ((*m_front)[i].bits == bits) index = int(i);
    const QString predicted = index >= 0 ? percent((*m_front)[size_t(index)].predicted_accuracy) : tr("—");
    m_panel->measuredLabel()->setText(
        tr("Fine-tuned %n epoch(s): %1 measured on %2 test images, predicted %3 (on the sweep's held-out "
           "images).", "", int(summary.epochs.size()))
            .arg(percent(summary.testAccuracy))
            .arg(summary.testSamples)
            .arg(predicted));
    m_panel->measuredLabel()->setProperty("accuracy", summary.testAccuracy);
    raise(AnalysisPanel::ParetoTab);  // the measured point next to its prediction
  });
  connect(m_training, &TrainingController::failed, this, [this] { m_fineTuneBits.reset(); });

  connect(m_panel, &AnalysisPanel::suggestRequested, this, &AnalysisActions::suggestFromBudget);
  connect(m_panel, &AnalysisPanel::applyRequested, this, &AnalysisActions::applySelected);
  connect(m_panel, &AnalysisPanel::fineTuneRequested, this, &AnalysisActions::fineTuneSelected);
  connect(m_panel->pareto(), &ParetoView::pointSelected, this, &AnalysisActions::onPointSelected);
  connect(m_panel->pareto(), &ParetoView::costAxisChanged, this, [this](analysis::CostAxis axis) {
    if (m_front) computeFront(axis);
  });
  connect(m_panel->curves(), &SweepCurvesView::costAxisChanged, m_panel->pareto(), &ParetoView::setCostAxis);
  connect(m_panel->pareto(), &ParetoView::costAxisChanged, m_panel->curves(), &SweepCurvesView::setCostAxis);
}

AnalysisActions::~AnalysisActions() {
  m_controller->disconnect(this);
  ++m_frontGeneration;  // a front still being computed is dropped
}

bool AnalysisActions::isRunning() const { return m_controller->isRunning(); }
bool AnalysisActions::isCancelling() const { return m_controller->isCancelling(); }

void AnalysisActions::cancel() {
  if (!isRunning()) return;
  m_controller->cancel();
  const QString text = m_controller->job() == AnalysisController::Job::Sweep
                           ? tr("Cancelling the sweep: the points done so far are kept…")
                           : tr("Cancelling…");
  m_panel->setStatus(text);
  if (m_hooks.status) m_hooks.status(text, QString());
  if (m_hooks.busyChanged) m_hooks.busyChanged();
}

bool AnalysisActions::cancelAndWait(int timeoutMs) {
  if (!isRunning()) return true;
  cancel();
  // The job ends at its next check; its result comes as a queued signal: wait for it
  // with the event loop running (user input excluded).
  QEventLoop loop;
  QTimer poll;
  poll.setInterval(20);
  connect(&poll, &QTimer::timeout, &loop, [this, &loop] {
    if (!isRunning()) loop.quit();
  });
  QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
  poll.start();
  loop.exec(QEventLoop::ExcludeUserInputEvents);
  return !isRunning();
}

void AnalysisActions::updateActions(bool trainingRunning) {
  const bool idle = !trainingRunning && !isRunning();
  const bool hasProject = !m_document->isEmpty();
  for (QAction* a : {m_calibrateAction, m_analyzeAction, m_sweepAction}) a->setEnabled(idle && hasProject);
  m_suggestAction->setEnabled(hasProject);
  const bool hasFront = m_front && !m_front->empty() && !m_panel->pareto()->isStale();
  m_panel->setControlsEnabled(hasFront, m_panel->pareto()->selectedIndex() >= 0, !idle);
}

void AnalysisActions::raise(int tab) {
  m_panel->showTab(AnalysisPanel::Tab(tab));
  if (m_dock) {
    m_dock->show();
    m_dock->raise();
  }
}

void AnalysisActions::showInformation(const QString& title, const QString& text, const char* name) {
  if (m_box) m_box->close();
  // Window-modal and non-blocking (open(), not exec()), like the window's error box.
  m_box = new QMessageBox(QMessageBox::Information, title, text, QMessageBox::Ok, m_window);
  m_box->setObjectName(QLatin1String(name));
  m_box->setAttribute(Qt::WA_DeleteOnClose);
  m_box->open();
}

// ------------------------------------------------------------------ document

void AnalysisActions::onProjectReplaced() {
  if (isRunning()) {
    m_controller->discard();  // its result belongs to the previous project
    onJobEnded();
  }
  m_liveActive = false;
  m_redraw->stop();
  m_analyzedModel.reset();
  m_analyzingModel.reset();
  m_fineTuneSource.reset();
  m_fineTuneBits.reset();
  m_measured.clear();
  m_panel->analyzer()->clear();
  m_panel->measuredLabel()->clear();
  onSweepChanged();
  if (m_document->project().sweep) raise(AnalysisPanel::HeatmapTab);  // the saved evidence, at once
}

void AnalysisActions::onSweepChanged() {
  if (m_liveActive) return;  // the running sweep owns the views until it ends
  const Project& p = m_document->project();
  m_measured.clear();  // measured against the previous sweep's configurations
  m_front.reset();
  ++m_frontGeneration;
  m_panel->pareto()->clear();
  if (!p.sweep) {
    m_panel->heatmap()->clear();
    m_panel->curves()->clear();
    m_panel->setStatus(tr("No sweep in this project: Analysis > Sensitivity Sweep… (F8) measures each quantizer "
                          "at each bit width of the trained model."));
    updateActions(m_training->isRunning());
    return;
  }
  showRecord(*p.sweep, false);
  const SweepRecord& r = *p.sweep;
  // Activations do not change the model size: such a front is drawn against BitOps.
  if (!r.slots.empty() &&
      std::all_of(r.slots.begin(), r.slots.end(), [](const SweepSlot& s) { return s.kind == "act"; }))
    m_panel->pareto()->setCostAxis(analysis::CostAxis::BitOps);
  m_panel->setStatus(
      tr("Sweep of %1, %2–%3 bits: %4 points%5 on %6 held-out images, base accuracy %7 · saved with the project")
          .arg(QString::fromStdString(r.what))
          .arg(r.min_bits)
          .arg(r.max_bits)
          .arg(r.points.size())
          .arg(r.complete ? QString() : tr(" (partial: cancelled)"))
          .arg(r.holdout)
          .arg(percent(r.base_accuracy)),
      QString::fromStdString([&r] {
        std::string notes;
        for (const std::string& n : r.notes) notes += n + "\n";
        return notes;
      }()));
  refreshStale();
  if (r.complete && !m_panel->heatmap()->isStale()) computeFront(m_panel->pareto()->costAxis());
  updateActions(m_training->isRunning());
}

void AnalysisActions::onDocumentChanged() {
  refreshStale();
  if (m_front) onPointSelected(m_panel->pareto()->selectedIndex());  // "applied" may have changed
  updateActions(m_training->isRunning());
}

void AnalysisActions::refreshStale() {
  const Project& p = m_document->project();
  const SweepRecord* shown = m_liveActive ? &m_live : p.sweep ? &*p.sweep : nullptr;
  if (shown) {
    // The network and the bit widths the sweep did not vary (Apply keeps it current).
    std::string now;
    try {
      now = p.layers.empty() ? std::string() : analysis::sweep_fingerprint(p, shown->slots);
    } catch (const std::exception&) {
      now.clear();  // an invalid network: stale
    }
    const bool stale = now.empty() || now != shown->network;
    const QString why = tr(kStaleSweep);
    for (AnalysisViewBase* v : std::initializer_list<AnalysisViewBase*>{m_panel->heatmap(), m_panel->curves(),
                                                                         m_panel->pareto()})
      if (v->isStale() != stale) v->setStale(stale, why);
    if (!stale && !m_liveActive && !m_front && p.sweep && p.sweep->complete) computeFront(m_panel->pareto()->costAxis());
  }
  AnalyzerView* analyzer = m_panel->analyzer();
  if (analyzer->hasResult()) {
    const std::shared_ptr<QuantModelImpl> analysed = m_analyzedModel.lock();
    const bool stale = !analysed || analysed != m_training->model();
    if (analyzer->isStale() != stale) analyzer->setStale(stale, tr("the model changed since this analysis"));
  }
}

void AnalysisActions::showRecord(const SweepRecord& record, bool live) {
  m_panel->heatmap()->setRecord(record);
  m_panel->curves()->setRecord(record);
  if (live) m_panel->pareto()->clear();
}

// ------------------------------------------------------------------ jobs

void AnalysisActions::calibrate() {
  if (isRunning() || m_training->isRunning() || m_document->isEmpty()) return;
  const ValidationResult& v = m_document->validation();
  if (!v.ok()) {
    if (m_hooks.error) m_hooks.error(tr("Cannot calibrate"), QString::fromStdString(v.error_text()));
    return;
  }
  const bool hasModel = m_training->hasModel();
  const QString dir = m_document->filePath().isEmpty() ? QDir::homePath()
                                                       : QFileInfo(m_document->filePath()).absolutePath();
  auto* dialog = new CalibrateDialog(hasModel, dir, m_window);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  if (m_lastCalibration) dialog->setRequest(*m_lastCalibration);
  connect(dialog, &QDialog::accepted, this, [this, dialog] {
    const CalibrateRequest request = dialog->request();
    if (isRunning() || m_training->isRunning()) return;
    const Project& p = m_document->project();
    const bool perChannelChanges = request.perChannel && !(analysis::with_per_channel_weights(p).layers == p.layers);
    if (!request.biasCorrection && !perChannelChanges && !hasRuntimeStatsQuantizer(p)) {
      const QString name = m_document->filePath().isEmpty() ? QString::fromStdString(p.name)
                                                            : QFileInfo(m_document->filePath()).fileName();
      const QString text = tr("nothing to calibrate: %1 has no activation quantizer with runtime statistics "
                              "(calibration sets their scales; weight scales come from the weights, parameter "
                              "scales are learned in training)")
                               .arg(name);
      m_panel->setStatus(text);
      if (m_hooks.status) m_hooks.status(text, QString());
      if (m_hooks.error) m_hooks.error(tr("Nothing to calibrate"), text);
      return;
    }
    m_lastCalibration = request;
    m_jobProject = m_document->project();
    m_controller->calibrate(m_jobProject, m_training->model(), request);
  });
  dialog->open();
}

void AnalysisActions::analyze() {
  if (isRunning() || m_training->isRunning() || m_document->isEmpty()) return;
  std::shared_ptr<QuantModelImpl> model = m_training->model();
  if (!model) {
    if (m_hooks.error) m_hooks.error(tr("Nothing to analyze"), noTrainedModelText());
    return;
  }
  m_jobProject = m_document->project();
  // The report shown stays the previous model's until this one's arrives (a failed or
  // cancelled analysis leaves it stale).
  m_analyzingModel = model;
  const qint64 holdout = m_lastSweep ? m_lastSweep->holdout : 2000;
  m_controller->analyze(m_jobProject, model, holdout);
  raise(AnalysisPanel::AnalyzerTab);
}

void AnalysisActions::sweep() {
  if (isRunning() || m_training->isRunning() || m_document->isEmpty()) return;
  const ValidationResult& v = m_document->validation();
  if (!v.ok()) {
    if (m_hooks.error) m_hooks.error(tr("Cannot sweep"), QString::fromStdString(v.error_text()));
    return;
  }
  if (!m_training->hasModel()) {
    if (m_hooks.error) m_hooks.error(tr("Nothing to sweep"), noTrainedModelText());
    return;
  }
  int slots[3] = {-1, -1, -1};
  const analysis::QuantKind kinds[3] = {analysis::QuantKind::Weights, analysis::QuantKind::Activations,
                                        analysis::QuantKind::Both};
  for (int i = 0; i < 3; ++i) {
    try {
      slots[i] = int(analysis::sweep_slots(m_document->project(), kinds[i]).size());
    } catch (const std::exception&) {
      slots[i] = 0;
    }
  }
  auto* dialog = new SweepDialog(slots, m_window);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  if (m_lastSweep) {
    dialog->setRequest(*m_lastSweep);
  } else if (const auto& r = m_document->project().sweep) {
    SweepRequest last;
    last.minBits = r->min_bits;
    last.maxBits = r->max_bits;
    last.what = QString::fromStdString(r->what);
    last.holdout = r->holdout;
    last.calibrationBatches = r->calibration_batches;
    dialog->setRequest(last);
  }
  connect(dialog, &QDialog::accepted, this, [this, dialog] {
    const SweepRequest request = dialog->request();
    std::shared_ptr<QuantModelImpl> model = m_training->model();
    if (isRunning() || m_training->isRunning() || !model) return;
    m_lastSweep = request;
    m_jobProject = m_document->project();
    m_controller->sweep(m_jobProject, model, request);
    raise(AnalysisPanel::HeatmapTab);
  });
  dialog->open();
}

void AnalysisActions::onStarted(AnalysisController::Job job) {
  ++m_jobsStarted;
  if (m_hooks.progressBar) {
    m_hooks.progressBar->setValue(0);
    m_hooks.progressBar->setFormat(tr("starting…"));
  }
  if (m_hooks.etaLabel) m_hooks.etaLabel->clear();
  const QString text = job == AnalysisController::Job::Calibrate ? tr("Calibrating…")
                       : job == AnalysisController::Job::Analyze ? tr("Analyzing the quantization…")
                                                                 : tr("Sensitivity sweep: loading the data…");
  m_panel->setStatus(text);
  if (m_hooks.status) m_hooks.status(text, QString());
  if (m_hooks.busyChanged) m_hooks.busyChanged();
}

void AnalysisActions::onProgress(const AnalysisProgressInfo& info) {
  const AnalysisController::Job job = m_controller->job();
  const QString noun = job == AnalysisController::Job::Sweep     ? tr("sweep")
                       : job == AnalysisController::Job::Analyze ? tr("analyzer")
                                                                 : tr("calibration");
  if (m_hooks.progressBar) {
    if (info.total > 0) {
      m_hooks.progressBar->setValue(int(double(info.done) / double(info.total) * kProgressRange + 0.5));
      m_hooks.progressBar->setFormat(tr("%1 %2/%3 · %p%").arg(noun).arg(info.done).arg(info.total));
    } else {
      m_hooks.progressBar->setFormat(tr("%1…").arg(noun));
    }
  }
  if (m_hooks.etaLabel)
    m_hooks.etaLabel->setText(std::isnan(info.etaSeconds) ? tr("ETA …") : tr("ETA %1").arg(formatDuration(info.etaSeconds)));
  if (isCancelling()) return;  // keep the "Cancelling" message
  QString text = job == AnalysisController::Job::Sweep
                     ? tr("Sensitivity sweep: %1 of %2 · %3").arg(info.done).arg(info.total).arg(info.what)
                     : tr("%1: %2").arg(noun, info.what);
  if (info.total <= 0) text = tr("%1: %2").arg(noun, info.what);
  m_panel->setStatus(text);
  if (m_hooks.status) m_hooks.status(text, QString());
}

void AnalysisActions::onJobEnded() {
  if (m_hooks.busyChanged) m_hooks.busyChanged();
  updateActions(m_training->isRunning());
}

void AnalysisActions::onSweepStarted(const SweepRecord& live) {
  m_live = live;
  m_liveActive = true;
  m_front.reset();
  ++m_frontGeneration;
  showRecord(m_live, true);
  refreshStale();
  // Quantizers never calibrated are calibrated first (the record keeps the note): say so.
  for (const std::string& note : live.notes) {
    const QString text = tr("Sensitivity sweep: base accuracy %1; %2.")
                             .arg(percent(live.base_accuracy), QString::fromStdString(note));
    m_panel->setStatus(text);
    if (m_hooks.status) m_hooks.status(text, QString());
  }
}

void AnalysisActions::onSweepPoint(const SweepPoint& point) {
  if (!m_liveActive) return;
  m_live.points.push_back(point);
  if (!m_redraw->isActive()) m_redraw->start();  // draws the points of the next 100 ms at once
}

void AnalysisActions::onSweepFinished(const SweepRecord& record) {
  m_redraw->stop();
  m_liveActive = false;
  const size_t expected = record.slots.size() * size_t(std::max(0, record.max_bits - record.min_bits + 1));
  // An error at a point ends the record there: complete false, its last note "error: ...".
  const bool failed =
      !record.complete && !record.notes.empty() && record.notes.back().rfind("error: ", 0) == 0;
  const QString error = failed ? QString::fromStdString(record.notes.back().substr(7)) : QString();
  QString text;
  if (record.points.empty()) {
    // Nothing measured: the project's saved sweep (maybe complete) is worth more than an
    // empty record, so it stays.
    const bool saved = m_document->project().sweep.has_value();
    text = failed ? (saved ? tr("Sweep failed before any point; the saved sweep is kept.")
                           : tr("Sweep failed before any point."))
                  : (saved ? tr("Sweep cancelled before any point; the saved sweep is kept.")
                           : tr("Sweep cancelled before any point."));
    onSweepChanged();  // back to the saved sweep (or nothing)
  } else {
    text = record.complete
               ? tr("Sweep done: %1 points in %2; base accuracy %3. Suggest Mixed Precision (F9) shows the Pareto "
                    "front.")
                     .arg(record.points.size())
                     .arg(formatDuration(record.seconds))
                     .arg(percent(record.base_accuracy))
           : failed ? tr("Sweep stopped by an error: %1 of %2 points kept (partial, saved with the project).")
                          .arg(record.points.size())
                          .arg(expected)
                    : tr("Sweep cancelled: %1 of %2 points kept (partial, saved with the project; run it again to "
                         "complete it).")
                          .arg(record.points.size())
                          .arg(expected);
    // Which quantizers the base had to calibrate first (never calibrated: run_sweep's note).
    for (const std::string& note : record.notes)
      if (note.find("still in the statistics phase") != std::string::npos)
        text += QStringLiteral(" ") + tr("Calibrated first: %1.").arg(QString::fromStdString(note));
    if (const QString w = nearChance(m_jobProject, record.base_accuracy); !w.isEmpty())
      text += QStringLiteral(" ") + w;
    // Into the project (one undo step; saved with it). onSweepChanged redraws from it.
    if (!m_document->setSweep(record, record.complete ? tr("Sensitivity sweep") : tr("Sensitivity sweep (partial)")))
      onSweepChanged();
    // Edited during the sweep: the record is of the project it started on; it shows stale
    // when the network or a bit width it did not vary changed (refreshStale).
    const std::string edited = network_difference(m_jobProject, m_document->project());
    if (!edited.empty())
      text += QStringLiteral(" ") +
              (m_panel->heatmap()->isStale()
                   ? tr("The project was edited during the sweep (%1): the record is of the project it started on "
                        "and is marked stale.")
                   : tr("The project was edited during the sweep (%1): only bit widths the sweep varied, so the "
                        "record still applies."))
                  .arg(QString::fromStdString(edited));
  }
  if (m_hooks.progressBar) {
    if (record.complete) m_hooks.progressBar->setValue(kProgressRange);
    m_hooks.progressBar->setFormat(record.complete ? tr("done · %p%") : failed ? tr("failed · %p%") : tr("cancelled · %p%"));
  }
  if (m_hooks.etaLabel) m_hooks.etaLabel->setText(tr("took %1").arg(formatDuration(record.seconds)));
  onJobEnded();
  m_panel->setStatus(m_panel->status() + QStringLiteral("\n") + text);
  if (m_hooks.status) m_hooks.status(text, failed ? error : QString());
  if (failed && m_hooks.error) m_hooks.error(tr("Sensitivity sweep failed"), text + QStringLiteral("\n\n") + error);
}

void AnalysisActions::onAnalyzeFinished(const AnalyzerReportPtr& report, const QStringList& calibratedFirst) {
  m_analyzedModel = m_analyzingModel;
  m_analyzingModel.reset();
  m_panel->analyzer()->setReport(report);
  m_panel->analyzer()->setStale(false);
  refreshStale();
  onJobEnded();
  QString text = report->cancelled ? tr("Analyzer cancelled (partial): %1").arg(m_panel->analyzer()->headline())
                                   : tr("Analyzer: %1").arg(m_panel->analyzer()->headline());
  text += QStringLiteral("; ") + m_panel->analyzer()->keepText();
  // An untrained model (a trained float model that quantization breaks is what the
  // analyzer is for, so the better of the two is judged).
  if (const QString w = nearChance(m_jobProject, std::max(report->float_accuracy, report->quantized_accuracy));
      !w.isEmpty())
    text += QStringLiteral("; ") + w;
  if (!calibratedFirst.isEmpty())
    text += QStringLiteral("; ") + tr("calibrated first (activation quantizers never calibrated nor trained past "
                                       "their statistics phase): %1.")
                                        .arg(calibratedFirst.join(QStringLiteral(", ")));
  if (m_hooks.progressBar) m_hooks.progressBar->setFormat(report->cancelled ? tr("cancelled") : tr("done · %p%"));
  if (m_hooks.etaLabel) m_hooks.etaLabel->clear();
  // The summary is the plot's title and the status bar's line: the dock's header says
  // only what was done (and any warning).
  QString header = report->cancelled ? tr("Analyzer cancelled (partial) on %1 held-out images.").arg(report->samples)
                                     : tr("Analyzer done on %1 held-out images (F7 runs it again).").arg(report->samples);
  if (const QString w = nearChance(m_jobProject, std::max(report->float_accuracy, report->quantized_accuracy));
      !w.isEmpty())
    header += QStringLiteral(" ") + w;
  if (!calibratedFirst.isEmpty())
    header += QStringLiteral(" ") + tr("Quantizers calibrated first (never calibrated nor trained past their "
                                       "statistics phase): %1.")
                                        .arg(calibratedFirst.join(QStringLiteral(", ")));
  m_panel->setStatus(header);
  if (m_hooks.status) m_hooks.status(text, QString());
  raise(AnalysisPanel::AnalyzerTab);
}

void AnalysisActions::onCalibrateFinished(const CalibrateOutcome& outcome) {
  onJobEnded();
  if (m_hooks.progressBar) {
    m_hooks.progressBar->setValue(kProgressRange);
    m_hooks.progressBar->setFormat(tr("calibrated"));
  }
  if (m_hooks.etaLabel) m_hooks.etaLabel->clear();
  if (!network_difference(m_jobProject, m_document->project()).empty()) {
    const QString text = tr("The network was edited during the calibration: its result was discarded.");
    m_panel->setStatus(text);
    if (m_hooks.error) m_hooks.error(tr("Calibration discarded"), text);
    return;
  }
  // The model first (adopted and kept), then the per-channel edit: the document's change
  // finds the adopted model as the one of the new network; Undo brings the old one back.
  m_training->adoptModel(outcome.model);
  bool edited = false;
  if (outcome.perChannel)
    edited = m_document->replaceLayers(outcome.project.layers, tr("Calibrate with per-channel weights"));
  if (m_hooks.modelReplaced) m_hooks.modelReplaced();
  refreshStale();
  const int applied = appliedIndex();
  if (applied >= 0) setMeasured((*m_front)[size_t(applied)].bits, outcome.accuracyAfter);

  QString details = tr("Accuracy on %1 test images: %2 before, %3 after calibration (%4 images).")
                        .arg(outcome.evalSamples)
                        .arg(percent(outcome.accuracyBefore), percent(outcome.accuracyAfter))
                        .arg(outcome.samples);
  if (edited) details += QStringLiteral("\n") + tr("Weight quantizers made per output channel (Undo: Ctrl+Z).");
  if (!outcome.weightsFile.isEmpty())
    details += QStringLiteral("\n") + tr("Started from %1.").arg(QFileInfo(outcome.weightsFile).fileName());
  if (!outcome.otherNetwork.isEmpty())
    details += QStringLiteral("\n") + outcome.otherNetwork;
  details += QStringLiteral("\n\n") + tr("Calibrated: %1").arg(outcome.calibrated.isEmpty()
                                                                   ? tr("no activation quantizer with runtime statistics")
                                                                   : outcome.calibrated.join(QStringLiteral(", ")));
  if (!outcome.biasCorrected.isEmpty())
    details += QStringLiteral("\n") + tr("Bias corrected: %1").arg(outcome.biasCorrected.join(QStringLiteral(", ")));
  if (!outcome.notes.isEmpty()) details += QStringLiteral("\n") + tr("Notes: %1").arg(outcome.notes.join(QStringLiteral("; ")));
  QString line = tr("Calibrated: test accuracy %1 → %2 on %3 images; the calibrated model is current.")
                     .arg(percent(outcome.accuracyBefore), percent(outcome.accuracyAfter))
                     .arg(outcome.evalSamples);
  if (!outcome.otherNetwork.isEmpty()) line += QStringLiteral(" ") + outcome.otherNetwork;
  m_panel->setStatus(line, details);
  m_panel->measuredLabel()->setText(line);
  m_panel->measuredLabel()->setProperty("accuracy", outcome.accuracyAfter);
  if (m_hooks.status) m_hooks.status(line, details);
  showInformation(tr("Calibration"), details, "calibrationResultBox");
}

}  // namespace qnn
