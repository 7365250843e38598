// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/model_life.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QStatusBar>
#include <QStyle>
#include <QVBoxLayout>

#include <cmath>

#include "app/gui/project_files.h"
#include "core/errors.h"
#include "core/graph/layer_rules.h"
#include "core/io/onnx_import.h"
#include "widgets/document/project_document.h"
#include "widgets/input/file_names.h"
#include "widgets/inspect/inspection_link.h"
#include "widgets/plots/confusion_matrix_view.h"
#include "widgets/plots/training_plot.h"
#include "widgets/training/dataset_settings_panel.h"
#include "widgets/training/training_settings_panel.h"

namespace qnn {
namespace {

QString accuracyText(double accuracy) {
  return QStringLiteral("%1 (%2 %)").arg(accuracy, 0, 'f', 4).arg(accuracy * 100.0, 0, 'f', 2);
}

QIcon themedIcon(const QString& resource, QStyle::StandardPixmap fallback) {
  return QFile::exists(resource) ? QIcon(resource) : QApplication::style()->standardIcon(fallback);
}

}  // namespace

ModelLife::ModelLife(ProjectDocument* document, TrainingController* controller, ProjectFileActions* files,
                     QWidget* window, std::function<void(const QString&, const QString&)> error,
                     std::function<void()> updateActions, std::function<bool()> analysisRunning)
    : QObject(window),
      m_document(document),
      m_controller(controller),
      m_files(files),
      m_window(window),
      m_error(std::move(error)),
      m_updateActions(std::move(updateActions)),
      m_analysisRunning(std::move(analysisRunning)) {
  m_loadWeightsAction = new QAction(tr("Load &Weights…"), window);
  m_loadWeightsAction->setObjectName(QStringLiteral("loadWeightsAction"));
  m_loadWeightsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  m_loadWeightsAction->setToolTip(tr("Load a PyTorch / Brevitas state dict (torch.save(model.state_dict())) or a "
                                     "checkpoint whose tensor names match the layer ids"));
  connect(m_loadWeightsAction, &QAction::triggered, this, [this] { loadWeights(QString()); });
  m_importModelAction = new QAction(tr("&Import Model…"), window);
  m_importModelAction->setObjectName(QStringLiteral("importModelAction"));
  m_importModelAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
  m_importModelAction->setToolTip(tr("Open an ONNX model (QONNX from Brevitas or FINN, QCDQ, or float ONNX) as a "
                                     "project with its weights and quantizer scales"));
  connect(m_importModelAction, &QAction::triggered, this, [this] { importModel(QString()); });
  m_foldBatchNormAction = new QAction(tr("&Fold BatchNorm"), window);
  m_foldBatchNormAction->setObjectName(QStringLiteral("foldBatchNormAction"));
  m_foldBatchNormAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_B));
  m_foldBatchNormAction->setToolTip(
      tr("Fold every BatchNorm into the conv / linear layer before it, using the trained model's running "
         "statistics (one undo step; the model keeps its training)"));
  connect(m_foldBatchNormAction, &QAction::triggered, this, &ModelLife::foldBatchNorm);
  m_saveCheckpointAction = new QAction(themedIcon(QStringLiteral(":/icons/save.svg"), QStyle::SP_DialogSaveButton),
                                       tr("&Save Checkpoint…"), window);
  m_saveCheckpointAction->setObjectName(QStringLiteral("saveCheckpointAction"));
  m_saveCheckpointAction->setShortcut(QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_S));
  m_saveCheckpointAction->setStatusTip(tr("Save the trained model's parameters and quantizer state"));
  connect(m_saveCheckpointAction, &QAction::triggered, this, &ModelLife::saveCheckpointDialog);
  window->addAction(m_saveCheckpointAction);  // its shortcut works even when the menu bar is hidden

  // New / Open / Open Recent / examples / Import Model and the quit prompt name every model
  // that exists only in memory; during a run, New / templates / Recent wait for it.
  m_files->setUnsavedModel([this] { return unsavedModelPhrases(); }, [this] { return saveUnsavedModels(); });
  m_files->setRefuseWhileBusy([this] { return refuseWhileRunning(); });
}

void ModelLife::setViews(const Views& views) {
  m_views = views;
  connect(m_document, &ProjectDocument::changed, this, &ModelLife::onDocumentChanged);
  connect(m_controller, &TrainingController::currentModelChanged, this, &ModelLife::markStaleCurves);
  connect(m_controller, &TrainingController::started, this, &ModelLife::onTrainingStarted);
  connect(m_controller, &TrainingController::progress, this, &ModelLife::onTrainingProgress);
  connect(m_controller, &TrainingController::finished, this, &ModelLife::onTrainingFinished);
  connect(m_controller, &TrainingController::failed, this, &ModelLife::onTrainingFailed);
}

ModelLife::Views ModelLife::createStatusBar(QStatusBar* bar, QAction* cancel) {
  auto* status = new QLabel(bar);
  status->setObjectName(QStringLiteral("statusLabel"));
  // A long message is cut at the window's edge (its tooltip holds it): it never widens the window.
  status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  bar->addWidget(status, 1);

  auto* progress = new QProgressBar(bar);
  progress->setObjectName(QStringLiteral("progressBar"));
  progress->setRange(0, kProgressRange);
  progress->setValue(0);
  progress->setFixedWidth(260);
  progress->setTextVisible(true);
  progress->setFormat(tr("idle"));
  bar->addPermanentWidget(progress);

  auto* eta = new QLabel(bar);
  eta->setObjectName(QStringLiteral("etaLabel"));
  eta->setMinimumWidth(150);
  bar->addPermanentWidget(eta);

  auto* button = new QPushButton(cancel->icon(), tr("Cancel"), bar);
  button->setObjectName(QStringLiteral("cancelButton"));
  button->setToolTip(cancel->toolTip());
  connect(button, &QPushButton::clicked, cancel, &QAction::trigger);
  bar->addPermanentWidget(button);
  m_views.status = status;
  m_views.progress = progress;
  m_views.eta = eta;
  return m_views;
}

QWidget* ModelLife::createResultsWidget(QWidget* parent) {
  auto* results = new QWidget(parent);
  auto* layout = new QVBoxLayout(results);
  layout->setContentsMargins(6, 4, 6, 4);
  auto* label = new QLabel(results);
  label->setObjectName(QStringLiteral("testAccuracyLabel"));
  QFont big = label->font();
  big.setPointSizeF(big.pointSizeF() * 1.25);
  big.setBold(true);
  label->setFont(big);
  label->setTextInteractionFlags(Qt::TextSelectableByMouse);
  label->setWordWrap(true);  // a long result wraps: it never widens the dock (and the window)
  auto* confusion = new ConfusionMatrixView(results);
  confusion->setObjectName(QStringLiteral("confusionMatrixView"));
  layout->addWidget(label);
  layout->addWidget(confusion, 1);
  m_views.testAccuracy = label;
  m_views.confusion = confusion;
  return results;
}

void ModelLife::updateActions(bool running, bool hasProject) {
  m_saveCheckpointAction->setEnabled(!running && m_controller->hasModel());
  m_foldBatchNormAction->setEnabled(!running && !batch_norm_layers(m_document->project()).empty());
  m_loadWeightsAction->setEnabled(!running && hasProject);
  m_importModelAction->setEnabled(!running);
}

void ModelLife::onDocumentChanged() {
  // A trained model of another network must not be saved or exported as this one; an
  // undo back to a network that has a kept model (the one before Fold BatchNorm, say)
  // brings that model back.
  if (m_controller->isRunning()) return;
  const bool had = m_controller->hasModel();
  if (!m_controller->selectModelFor(m_document->project())) return;
  // Another model (or none) is current: its numbers replace the old ones, or nothing shows.
  m_views.inspection->clear();
  if (m_controller->currentIsLastRun()) m_views.inspection->restoreRunMisclassified();
  if (m_controller->hasModel()) m_controller->reinspect(m_views.settings->options());
  showTestResults();
  markStaleCurves();
  if (had && !m_controller->hasModel()) {
    // Kept (TrainingController::kKeptModels): an undo back to its network brings it back.
    m_views.status->setText(tr("The network changed: the trained model was set aside; Ctrl+Z brings it back."));
    m_views.status->setToolTip(QString());
  } else if (m_controller->hasModel() && m_controller->currentIsLastRun()) {
    m_views.status->setText(tr("The trained model of this network is current again."));
    m_views.status->setToolTip(QString());
  }
  m_updateActions();
}

bool ModelLife::startTraining(const std::function<void(TrainingRunOptions&)>& adjust) {
  if (m_controller->isRunning() || m_analysisRunning() || m_document->isEmpty()) return false;
  if (m_newRunGuard && !m_newRunGuard()) return false;
  TrainingRunOptions options = m_views.settings->options();
  if (adjust) adjust(options);
  return startRun(m_document->project(), options, nullptr, tr("Cannot train"));
}

bool ModelLife::startRun(const Project& project, TrainingRunOptions options, std::shared_ptr<QuantModelImpl> from,
                         const QString& title) {
  if (m_controller->isRunning() || m_analysisRunning() || m_document->isEmpty()) return false;
  const ValidationResult& v = m_document->validation();
  if (!v.ok()) {
    m_error(title, QString::fromStdString(v.error_text()));
    return false;
  }
  const QString mismatch = datasetInputMismatchText(project);  // before any data is read
  if (!mismatch.isEmpty()) {
    m_error(title, mismatch);
    return false;
  }
  if (m_prepareRun) m_prepareRun(options);  // crash safety: recovery file now, the run's autosave path
  m_trainedNetwork = project;
  return m_controller->start(project, options, std::move(from));
}

void ModelLife::cancelTraining() {
  if (!m_controller->isRunning()) return;
  m_controller->cancel();
  m_views.status->setText(tr("Cancelling: finishing the current batch, then evaluating on the test set…"));
  m_updateActions();
}

bool ModelLife::startFineTune(const Project& project, std::shared_ptr<QuantModelImpl> from, int epochs) {
  if (m_controller->isRunning() || m_analysisRunning() || m_document->isEmpty()) return false;
  if (m_newRunGuard && !m_newRunGuard()) return false;
  TrainingRunOptions options = m_views.settings->options();
  options.spec.epochs = epochs;
  if (!startRun(project, options, std::move(from), tr("Cannot fine-tune"))) return false;
  m_views.plot->clear(epochs);
  return true;
}

void ModelLife::foldBatchNorm() {
  if (m_controller->isRunning() || m_analysisRunning() || batch_norm_layers(m_document->project()).empty()) return;
  try {
    // Folds the trained model and makes it current before the edit, so the edit finds it.
    QString comparison;
    const Project after = m_controller->foldBatchNorm(m_document->project(), &comparison);
    const int count = int(m_document->project().layers.size() - after.layers.size());
    if (!m_document->replaceLayers(after.layers, tr("Fold %n BatchNorm layer(s)", "", count))) {
      m_controller->selectModelFor(m_document->project());  // nothing changed: the model of this network
      return;
    }
    m_views.inspection->clear();  // the views show the folded model's numbers, once computed
    showTestResults();
    m_controller->reinspect(m_views.settings->options());
    m_views.status->setText(tr("Folded %n BatchNorm layer(s); %1. Undo (Ctrl+Z) brings them back with the unfolded "
                               "model.", "", count)
                                .arg(comparison));
    m_views.status->setToolTip(comparison);
    m_updateActions();
  } catch (const Error& e) {
    m_error(tr("Cannot fold BatchNorm"), QString::fromStdString(e.what()));
  } catch (const std::exception& e) {
    m_error(tr("Cannot fold BatchNorm"), tr("Folding failed: %1").arg(QString::fromStdString(e.what())));
  }
}

void ModelLife::importModel(const QString& chosen) {
  if (refuseWhileRunning() || !m_files->maybeSave()) return;
  QString path = chosen;
  if (path.isEmpty()) {
    const QString dir = m_document->filePath().isEmpty() ? QDir::homePath() : QFileInfo(m_document->filePath()).absolutePath();
    path = QFileDialog::getOpenFileName(m_window, tr("Import Model"), dir, tr("ONNX models (*.onnx);;All files (*)"));
    if (path.isEmpty()) return;
  }
  try {
    // Everything that can fail happens before the open project is replaced.
    const ImportedModel imported = import_onnx(path.toStdString());
    std::shared_ptr<QuantModelImpl> model;
    if (imported.report.runnable()) model = build_imported_model(imported).ptr();
    m_document->setProject(imported.project);  // untitled: Save asks where
    const QString name = QFileInfo(path).fileName();
    const QString report = QString::fromStdString(imported.report.text()).trimmed();
    if (model) {
      m_controller->adoptModel(model, ModelOrigin::Imported);  // the .onnx file holds it
      m_views.inspection->clear();
      m_views.inspection->raiseOnNextReport();  // the imported model's quantizers, in front
      m_controller->reinspect(m_views.settings->options());
      m_views.status->setText(tr("Imported %1 (%2): %n layer(s)%3", "", int(imported.project.layers.size()))
                                  .arg(name, QString::fromStdString(imported.report.format),
                                       imported.report.notes.empty()
                                           ? QString()
                                           : tr("; %n note(s), hover for details", "", int(imported.report.notes.size()))));
      m_views.status->setToolTip(report);
    } else {
      auto weights = std::make_shared<inspect::Report>();
      weights->weights_only = true;
      weights->weights = imported.weights;
      m_views.inspection->raiseOnNextReport();  // the message below points at the Inspection dock
      m_views.inspection->showReport(weights);
      m_views.status->setText(tr("Imported %1 for inspection only: %n node(s) not supported", "",
                                 int(imported.report.unsupported.size()))
                                  .arg(name));
      m_views.status->setToolTip(report);
      m_error(tr("Model opened for inspection only"),
              tr("%1 has nodes QNN Studio cannot run, so it cannot be evaluated or trained. Its weight quantizers "
                 "(grids, scales, saturation, SQNR) are in the Inspection dock.\n\n%2")
                  .arg(name, report));
    }
    m_updateActions();
  } catch (const Error& e) {
    m_error(tr("Cannot import model"), QString::fromStdString(e.what()));
  } catch (const std::exception& e) {
    m_error(tr("Cannot import model"), tr("%1: %2").arg(path, QString::fromStdString(e.what())));
  }
}

void ModelLife::loadWeights(const QString& chosen) {
  if (m_controller->isRunning() || m_document->isEmpty()) return;
  const ValidationResult& v = m_document->validation();
  if (!v.ok()) {
    m_error(tr("Cannot load weights"),
            tr("The graph has errors; fix them first:\n%1").arg(QString::fromStdString(v.error_text())));
    return;
  }
  QString path = chosen;
  if (path.isEmpty()) {
    const QString dir = m_document->filePath().isEmpty() ? QDir::homePath() : QFileInfo(m_document->filePath()).absolutePath();
    path = QFileDialog::getOpenFileName(m_window, tr("Load Weights"), dir,
                                        tr("PyTorch state dicts and checkpoints (*.pt *.pth *.ckpt);;All files (*)"));
    if (path.isEmpty()) return;
  }
  try {
    const QString report = m_controller->loadWeights(m_document->project(), path);
    m_views.inspection->clear();
    showTestResults();
    m_controller->reinspect(m_views.settings->options());
    m_views.status->setText(
        tr("Weights from %1: %2").arg(QFileInfo(path).fileName(), report.section(QLatin1Char('\n'), 0, 0)));
    m_views.status->setToolTip(report);
    m_updateActions();
  } catch (const Error& e) {
    m_error(tr("Cannot load weights"), QString::fromStdString(e.what()));
  } catch (const std::exception& e) {
    m_error(tr("Cannot load weights"), tr("%1: %2").arg(path, QString::fromStdString(e.what())));
  }
}

void ModelLife::projectReplaced() {
  m_controller->clearModel();  // a model of the previous project must not be saved under this one
  m_views.plot->clear(int(m_document->project().training.epochs));
  m_views.confusion->clear();
  m_views.testAccuracy->setText(tr("Test accuracy: —"));
  m_views.progress->setValue(0);
  m_views.progress->setFormat(tr("idle"));
  m_views.eta->clear();
}

void ModelLife::modelReplaced() {
  m_views.inspection->clear();
  showTestResults();
  if (m_controller->hasModel()) m_controller->reinspect(m_views.settings->options());
  m_updateActions();
}

void ModelLife::onTrainingStarted() {
  const TrainingRunOptions o = m_views.settings->options();
  m_epoch = 0;
  m_epochs = int(o.spec.epochs);
  m_views.plot->clear(int(o.spec.epochs));
  m_views.confusion->clear();
  m_views.testAccuracy->setText(tr("Test accuracy: training…"));
  m_views.progress->setValue(0);
  m_views.progress->setFormat(tr("starting…"));
  m_views.eta->clear();
  m_views.status->setText(tr("Starting…"));
  m_updateActions();
}

void ModelLife::onTrainingProgress(const TrainingProgressInfo& info) {
  using Phase = TrainingProgressInfo::Phase;
  m_views.plot->addProgress(info);
  if (info.phase == Phase::Loading) {
    m_views.status->setText(info.message);
    m_views.progress->setFormat(tr("loading…"));
    return;
  }
  m_epoch = int(info.epoch);
  m_epochs = int(info.epochs);
  m_views.progress->setValue(int(info.fractionDone() * kProgressRange + 0.5));
  m_views.progress->setFormat(tr("epoch %1/%2 · %p%").arg(info.epoch).arg(info.epochs));
  const double left = info.secondsLeft();
  m_views.eta->setText(
      tr("%1 elapsed · ETA %2").arg(formatDuration(info.seconds), left >= 0 ? formatDuration(left) : tr("…")));
  if (m_controller->isCancelling()) return;  // keep the "Cancelling" message
  switch (info.phase) {
    case Phase::Training:
      m_views.status->setText(tr("Epoch %1/%2 · batch %3/%4 · loss %5 · accuracy %6")
                                  .arg(info.epoch).arg(info.epochs).arg(info.batch).arg(info.batchesPerEpoch)
                                  .arg(info.trainLoss, 0, 'f', 4).arg(info.trainAccuracy, 0, 'f', 4));
      break;
    case Phase::Evaluating:
      m_views.status->setText(tr("Epoch %1/%2 · evaluating on the test set…").arg(info.epoch).arg(info.epochs));
      break;
    case Phase::EpochDone:
      m_views.testAccuracy->setText(tr("Test accuracy: %1 after epoch %2/%3")
                                        .arg(accuracyText(info.testAccuracy)).arg(info.epoch).arg(info.epochs));
      break;
    default: break;
  }
}

void ModelLife::showSummary(const TrainingSummary& summary) {
  m_views.confusion->setMatrix(summary.confusion, summary.classNames);
  m_views.testAccuracy->setText(tr("Test accuracy: %1%2")
                                    .arg(accuracyText(summary.testAccuracy),
                                         summary.cancelled ? tr(" · cancelled") : QString()));
}

void ModelLife::onTrainingFinished(const TrainingSummary& summary) {
  showSummary(summary);
  m_views.testAccuracy->setProperty("accuracy", summary.testAccuracy);
  m_views.testAccuracy->setToolTip(tr("Final evaluation on %1 test samples, loss %2")
                                       .arg(summary.testSamples).arg(summary.testLoss, 0, 'f', 4));
  if (!summary.cancelled) m_views.progress->setValue(kProgressRange);
  m_views.progress->setFormat(summary.cancelled ? tr("cancelled · %p%") : tr("done · %p%"));
  m_views.eta->setText(tr("took %1").arg(formatDuration(summary.seconds)));
  m_views.status->setText(
      tr("%1 after %n epoch(s): test accuracy %2 on %3 samples. Save the checkpoint with Ctrl+Alt+S.", "",
         int(summary.epochs.size()))
          .arg(summary.cancelled ? tr("Cancelled") : tr("Finished"), accuracyText(summary.testAccuracy))
          .arg(summary.testSamples));
  if (!summary.notes.isEmpty()) {
    m_views.status->setText(m_views.status->text() + QLatin1Char(' ') +
                            tr("Note: %1.").arg(summary.notes.join(QStringLiteral("; "))));
    m_views.status->setToolTip(summary.notes.join(QLatin1Char('\n')));
  }
  // The network was edited while the run went on: its model is not this network's.
  if (m_controller->hasModel() && !network_difference(m_trainedNetwork, m_document->project()).empty()) {
    m_controller->clearModel();
    m_views.status->setText(m_views.status->text() +
                            tr(" The network was edited during the run: the trained model was discarded."));
  }
  m_updateActions();
}

void ModelLife::showTestResults() {
  // The run's own evaluation belongs to this model (a run stopped at a NaN/Inf has none).
  if (m_controller->currentIsLastRun() && m_controller->lastSummary().testSamples > 0) {
    showSummary(m_controller->lastSummary());
    return;
  }
  m_views.confusion->clear();
  if (m_controller->hasModel())
    m_views.testAccuracy->setText(tr("Test accuracy: — (this model is not evaluated yet)"));
  else if (m_controller->runModelSetAside())
    m_views.testAccuracy->setText(
        tr("Test accuracy: — (the trained model was set aside by an edit; Ctrl+Z brings it back)"));
  else
    m_views.testAccuracy->setText(tr("Test accuracy: —"));
}

void ModelLife::markStaleCurves() {
  TrainingPlot* plot = m_views.plot;
  if (m_controller->isRunning() || (plot->trainPointCount() == 0 && plot->testPointCount() == 0)) {
    plot->setStale(false);
    return;
  }
  if (m_controller->currentIsLastRun())
    plot->setStale(false);
  else if (!m_controller->hasModel())
    plot->setStale(true, m_controller->runModelSetAside()
                             ? tr("stale: the model of this run was discarded (network edited); Ctrl+Z brings it back")
                             : tr("stale: the model of this run was discarded (network edited)"));
  else
    plot->setStale(true, tr("stale: the current model is not this run's (loaded weights, folded BatchNorm or "
                            "another network's model)"));
}

void ModelLife::onTrainingFailed(const QString& message) {
  // Edits (or undo / redo) made during the failed run: the model of the network now shown.
  if (m_controller->selectModelFor(m_document->project())) m_views.inspection->clear();
  m_views.progress->setFormat(tr("failed"));
  m_views.eta->clear();
  m_views.testAccuracy->setText(tr("Test accuracy: —"));
  m_views.status->setText(tr("Training failed."));
  m_updateActions();
  m_error(tr("Training failed"), message);
}

QString ModelLife::suggestedCheckpoint(const QString& suffix) const {
  const QFileInfo projectFile(m_document->filePath());
  const QString base = projectFile.fileName().isEmpty() ? QStringLiteral("model")
                                                        : projectFile.fileName().remove(QStringLiteral(".qnn.json"));
  return QDir(projectFile.absolutePath()).filePath(base + suffix + QStringLiteral(".pt"));
}

bool ModelLife::saveModelDialog(const std::shared_ptr<QuantModelImpl>& model, const QString& title,
                                const QString& suggested) {
  const QString path = withDefaultSuffix(
      QFileDialog::getSaveFileName(m_window, title, suggested, tr("LibTorch checkpoints (*.pt);;All files (*)")),
      QStringLiteral(".pt"));
  if (path.isEmpty()) return false;
  try {
    m_controller->saveCheckpoint(path, model);
    m_views.status->setText(tr("Checkpoint saved to %1").arg(QDir::toNativeSeparators(path)));
    return true;
  } catch (const std::exception& e) {
    m_error(tr("Cannot save the checkpoint"), QString::fromStdString(e.what()));
    return false;
  }
}

bool ModelLife::saveCheckpointDialog() {
  if (m_controller->isRunning() || m_analysisRunning() || !m_controller->hasModel()) return false;
  return saveModelDialog(m_controller->model(), tr("Save Checkpoint"), suggestedCheckpoint(QString()));
}

QString ModelLife::describe(const ModelRecord& r) const {
  QString run = r.epochs == 1 ? tr("1 epoch") : tr("%1 epochs").arg(r.epochs);
  if (!std::isnan(r.testAccuracy)) run = tr("%1, test accuracy %2 %").arg(run).arg(r.testAccuracy * 100.0, 0, 'f', 2);
  if (!r.resumedFrom.isEmpty()) run = tr("%1, resumed from %2").arg(run, r.resumedFrom);
  QString phrase;
  switch (r.origin) {
    case ModelOrigin::Folded:
      phrase = tr("the folded model (BatchNorm folded into the trained model of %1)").arg(run);
      break;
    case ModelOrigin::Derived:
      phrase = tr("the model made from the trained model (%1)").arg(run);
      break;
    default:
      phrase = r.fineTuned ? tr("the fine-tuned model (%1)").arg(run) : tr("the trained model (%1)").arg(run);
  }
  if (r.current) return phrase;
  return r.undoable ? tr("%1, set aside by an edit (Ctrl+Z brings it back)").arg(phrase)
                    : tr("%1, replaced by another model of this network").arg(phrase);
}

QStringList ModelLife::unsavedModelPhrases() const {
  QStringList phrases;
  if (m_controller->isRunning()) return phrases;
  for (const ModelRecord& r : m_controller->unsavedModels()) phrases << describe(r);
  return phrases;
}

bool ModelLife::saveUnsavedModels() {
  if (m_controller->isRunning()) return false;
  const std::vector<ModelRecord> models = m_controller->unsavedModels();
  for (size_t i = 0; i < models.size(); ++i) {
    const QString title = tr("Save Checkpoint of %1").arg(describe(models[i]));
    const QString suffix = i == 0 ? QString() : QStringLiteral("_%1").arg(i + 1);
    if (!saveModelDialog(models[i].model, title, suggestedCheckpoint(suffix))) return false;
  }
  return true;
}

QString ModelLife::runState() const {
  return m_epoch > 0 ? tr("epoch %1 of %2").arg(m_epoch).arg(m_epochs) : tr("loading the data");
}

bool ModelLife::refuseWhileRunning() {
  if (!m_controller->isRunning()) return false;
  m_views.status->setText(tr("Training is running (%1): stop it (Esc) or let it finish before opening or creating "
                             "another project.")
                              .arg(runState()));
  m_views.status->setToolTip(QString());
  return true;
}

bool ModelLife::confirmStopRunForClose() {
  if (!m_controller->isRunning()) return true;
  QMessageBox box(QMessageBox::Warning, tr("Training is running"),
                  tr("Training is running (%1). Stop it and quit?").arg(runState()), QMessageBox::NoButton, m_window);
  box.setObjectName(QStringLiteral("stopRunQuestion"));
  QStringList lost;
  for (const ModelRecord& r : m_controller->unsavedModels()) lost << describe(r);
  box.setInformativeText(
      (lost.isEmpty() ? tr("The model of this run will be lost.")
                      : tr("The model of this run will be lost, and so will %n model(s) not saved as a checkpoint: "
                           "%1.", "", int(lost.size()))
                            .arg(lost.join(QStringLiteral("; ")))) +
      QLatin1Char(' ') + tr("The run's last autosave is kept: the next start offers to continue it."));
  QPushButton* stop = box.addButton(tr("Stop and Quit"), QMessageBox::DestructiveRole);
  stop->setObjectName(QStringLiteral("stopAndQuitButton"));
  QPushButton* cancel = box.addButton(QMessageBox::Cancel);
  box.setDefaultButton(cancel);
  box.setEscapeButton(cancel);
  box.exec();
  // The run may have ended while the question was open: then nothing needs stopping.
  return box.clickedButton() == stop;
}

}  // namespace qnn
