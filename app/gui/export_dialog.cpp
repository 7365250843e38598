// SPDX-License-Identifier: GPL-3.0-or-later
#include <torch/torch.h>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/export/export.h"
#include "core/export/verify.h"
#include "core/graph/fold_batch_norm.h"
#include "core/graph/model.h"

#include "app/gui/export_dialog.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <QtConcurrent>

#include "widgets/document/project_document.h"
#include "widgets/input/wheel_guard.h"
#include "widgets/training/training_controller.h"

namespace qnn {

namespace {

/// What the worker hands back to the dialog.
struct Outcome {
  bool written = false;  ///< the file is on disk
  bool ok = false;       ///< written and (when asked) verified
  QString text;
};

struct FormatInfo {
  ExportFormat format;
  const char* label;
  const char* suffix;
  const char* filter;
};

const FormatInfo kFormats[] = {
    {ExportFormat::Qcdq, "ONNX QCDQ (ONNX Runtime)", ".onnx", "ONNX models (*.onnx)"},
    {ExportFormat::Qonnx, "QONNX (FINN)", ".qonnx.onnx", "ONNX models (*.onnx)"},
    {ExportFormat::Packed, "Packed integer model", ".qnnpk", "Packed models (*.qnnpk)"},
    {ExportFormat::Checkpoint, "Checkpoint + project", ".pt", "LibTorch checkpoints (*.pt)"},
    // A folder: model.py (brevitas.nn module) + model.pt (state dict).
    {ExportFormat::Brevitas, "Brevitas (Python module + state dict, folder)", "_brevitas", ""},
};

}  // namespace

ExportDialog::ExportDialog(std::shared_ptr<QuantModelImpl> model, const QString& projectPath, QWidget* parent)
    : QDialog(parent), m_model(std::move(model)), m_projectPath(projectPath) {
  WheelGuard::install();  // the wheel changes only the focused field
  setObjectName(QStringLiteral("exportDialog"));
  setWindowTitle(tr("Export"));
  m_format = new QComboBox(this);
  m_format->setObjectName(QStringLiteral("exportFormat"));
  for (const FormatInfo& f : kFormats) m_format->addItem(tr(f.label));
  m_path = new QLineEdit(this);
  m_path->setObjectName(QStringLiteral("exportPath"));
  auto* browseButton = new QPushButton(tr("Browse…"), this);
  auto* pathRow = new QHBoxLayout;
  pathRow->addWidget(m_path, 1);
  pathRow->addWidget(browseButton);
  m_verify = new QCheckBox(tr("Verify: run the file on test images and compare with the app"), this);
  m_verify->setObjectName(QStringLiteral("exportVerify"));
  m_verify->setChecked(true);
  m_foldBn = new QCheckBox(tr("Fold BatchNorm into the conv / linear layer before it"), this);
  m_foldBn->setObjectName(QStringLiteral("exportFoldBn"));
  m_foldBn->setToolTip(tr("Writes W' = W·γ/√(var+ε) and b' = (b−μ)·γ/√(var+ε)+β from the running statistics, so "
                          "the weight quantizer sees the folded weights (packed models need this)"));
  const bool hasBatchNorm = !batch_norm_layers(m_model->project()).empty();
  m_foldBn->setEnabled(hasBatchNorm);
  if (!hasBatchNorm) m_foldBn->setToolTip(tr("The network has no BatchNorm layer"));
  m_samples = new QSpinBox(this);
  m_samples->setRange(1, 10000);
  m_samples->setValue(1000);
  m_samples->setSuffix(tr(" images"));
  m_preflight = new QListWidget(this);
  m_preflight->setObjectName(QStringLiteral("exportPreflight"));
  m_preflight->setMaximumHeight(110);
  m_progress = new QProgressBar(this);
  m_progress->setRange(0, 100);
  m_progress->setValue(0);
  m_stage = new QLabel(this);
  m_result = new QPlainTextEdit(this);
  m_result->setObjectName(QStringLiteral("exportResult"));
  m_result->setReadOnly(true);
  m_result->setMaximumHeight(110);

  auto* form = new QFormLayout;
  form->addRow(tr("Format:"), m_format);
  form->addRow(tr("File:"), pathRow);
  form->addRow(QString(), m_foldBn);
  form->addRow(QString(), m_verify);
  form->addRow(tr("Test images:"), m_samples);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  m_exportButton = buttons->addButton(tr("Export"), QDialogButtonBox::AcceptRole);
  m_exportButton->setObjectName(QStringLiteral("exportButton"));
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(new QLabel(tr("Pre-flight check (what this format cannot express):"), this));
  layout->addWidget(m_preflight);
  layout->addWidget(m_progress);
  layout->addWidget(m_stage);
  layout->addWidget(m_result);
  layout->addWidget(buttons);
  resize(560, 460);

  connect(m_format, &QComboBox::currentIndexChanged, this, [this](int index) {
    const QFileInfo current(m_path->text());
    QString base = current.fileName();
    for (const FormatInfo& f : kFormats)
      if (base.endsWith(QLatin1String(f.suffix))) base.chop(int(qstrlen(f.suffix)));
    m_path->setText(QDir(current.absolutePath()).filePath(base + QLatin1String(kFormats[index].suffix)));
    updatePreflight();
  });
  connect(m_foldBn, &QCheckBox::toggled, this, &ExportDialog::updatePreflight);
  connect(browseButton, &QPushButton::clicked, this, &ExportDialog::browse);
  connect(buttons, &QDialogButtonBox::rejected, this, &ExportDialog::reject);
  connect(m_exportButton, &QPushButton::clicked, this, &ExportDialog::startExport);

  const QFileInfo project(m_projectPath);
  QString base = project.fileName().isEmpty() ? QStringLiteral("model") : project.fileName();
  base.remove(QStringLiteral(".qnn.json"));
  m_path->setText(QDir(project.fileName().isEmpty() ? QDir::homePath() : project.absolutePath())
                      .filePath(base + QLatin1String(kFormats[0].suffix)));
  updatePreflight();
}

ExportDialog::~ExportDialog() = default;

QString ExportDialog::resultText() const { return m_result->toPlainText(); }

void ExportDialog::updatePreflight() {
  const ExportFormat format = kFormats[m_format->currentIndex()].format;
  m_preflight->clear();
  m_hasErrors = false;
  std::vector<ExportIssue> issues;
  try {
    if (m_foldBn->isChecked()) {
      QuantModel model(m_model);
      check_batch_norm_statistics(model);  // and that every BatchNorm can be folded
      issues = preflight(fold_batch_norm_project(m_model->project()), format);
    } else {
      issues = preflight(m_model->project(), format);
    }
  } catch (const Error& e) {
    issues = {ExportIssue{true, "", e.what()}};
  }
  for (const ExportIssue& issue : issues) {
    auto* item = new QListWidgetItem(QString::fromStdString(issue.text()), m_preflight);
    item->setForeground(issue.error ? QColor(190, 30, 30) : QColor(160, 110, 0));
    m_hasErrors = m_hasErrors || issue.error;
  }
  if (m_preflight->count() == 0) new QListWidgetItem(tr("Nothing to report: the format expresses every layer."), m_preflight);
  const bool runnable = format == ExportFormat::Qcdq || format == ExportFormat::Packed;
  m_verify->setEnabled(runnable);
  m_samples->setEnabled(runnable);
  m_exportButton->setEnabled(!m_hasErrors && !m_busy);
}

void ExportDialog::browse() {
  const FormatInfo& f = kFormats[m_format->currentIndex()];
  const QString path =
      f.format == ExportFormat::Brevitas
          ? QFileDialog::getExistingDirectory(this, tr("Export To Folder"), QFileInfo(m_path->text()).absolutePath())
          : QFileDialog::getSaveFileName(this, tr("Export To"), m_path->text(),
                                         tr(f.filter) + QStringLiteral(";;") + tr("All files (*)"));
  if (!path.isEmpty()) m_path->setText(path);
}

void ExportDialog::startExport() {
  if (m_busy || m_hasErrors) return;
  const ExportFormat format = kFormats[m_format->currentIndex()].format;
  const std::string path = QDir::cleanPath(m_path->text()).toStdString();
  const bool verify = m_verify->isEnabled() && m_verify->isChecked();
  const int64_t samples = m_samples->value();
  const bool foldBn = m_foldBn->isEnabled() && m_foldBn->isChecked();
  m_busy = true;
  m_foldBn->setEnabled(false);
  m_exportButton->setEnabled(false);
  m_format->setEnabled(false);
  m_progress->setValue(5);
  m_stage->setText(tr("Exporting…"));
  m_result->clear();
  QPointer<ExportDialog> self(this);
  auto stage = [self](const QString& text, int percent) {
    QMetaObject::invokeMethod(qApp, [self, text, percent] {
      if (!self) return;
      self->m_stage->setText(text);
      self->m_progress->setValue(percent);
    });
  };
  std::shared_ptr<QuantModelImpl> impl = m_model;
  auto* watcher = new QFutureWatcher<Outcome>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
    const Outcome r = watcher->result();
    watcher->deleteLater();
    m_stage->setText(r.ok        ? tr("Done.")
                     : r.written ? tr("Written, but the file does not compute what the app computes (see below).")
                                 : tr("Nothing was written."));
    onFinished(r.ok, r.text);
  });
  watcher->setFuture(QtConcurrent::run([impl, format, path, verify, samples, foldBn, stage]() -> Outcome {
    QStringList lines;
    bool written = false;
    try {
      QuantModel model(impl);
      if (foldBn) {
        QuantModel folded = fold_batch_norm(model);  // a new model: the trained one stays as it is
        lines << QObject::tr("Folded %n BatchNorm layer(s).", "", int(batch_norm_layers(impl->project()).size()));
        stage(QObject::tr("Comparing the folded model with the unfolded one…"), 15);
        try {  // the weight quantizers now see other weights: what did that do to the predictions?
          const FoldComparison c = compare_folded(model, folded, samples);
          lines << (c.changed() ? QObject::tr("Warning: %1.") : QObject::tr("%1."))
                       .arg(QString::fromStdString(c.text()).replace(0, 1, QStringLiteral("T")));
        } catch (const Error& e) {
          lines << QObject::tr("Not compared with the unfolded model: %1").arg(QString::fromStdString(e.what()));
        }
        model = folded;
      }
      const ExportResult r = export_model(model, format, path);
      written = true;
      lines << QString::fromStdString(r.summary);
      if (!verify) return {true, true, lines.join('\n')};
      stage(QObject::tr("Loading %1 test images…").arg(samples), 30);
      const Dataset test = load_dataset(model->project(), false, samples);
      const VerifyResult v = verify_export(model, format, path, test.images, {},
                                           [&](const std::string& s, double f) {
                                             stage(QString::fromStdString(s), 30 + int(f * 65));
                                           });
      lines << QString::fromStdString("Verification (" + v.runtime + ", " + std::to_string(v.samples) +
                                      " images): " + v.text());
      return {true, v.passed, lines.join('\n')};
    } catch (const std::exception& e) {
      lines << QObject::tr("Failed: %1").arg(QString::fromStdString(e.what()));
      return {written, false, lines.join('\n')};
    }
  }));
}

void ExportDialog::onFinished(bool ok, const QString& text) {
  m_busy = false;
  const bool hasBatchNorm = !batch_norm_layers(m_model->project()).empty();
  m_foldBn->setEnabled(hasBatchNorm);
  m_format->setEnabled(true);
  m_progress->setValue(100);
  m_result->setPlainText(text);
  updatePreflight();
  Q_EMIT exportFinished(ok, text);
}

void ExportDialog::reject() {
  if (m_busy) return;  // the worker holds the model; wait for it
  QDialog::reject();
}

// ---------------------------------------------------------------- ExportActions

ExportActions::ExportActions(TrainingController* controller, ProjectDocument* document, QWidget* window)
    : QObject(window), m_controller(controller), m_document(document), m_window(window) {
  m_action = new QAction(tr("&Export…"), this);
  m_action->setObjectName(QStringLiteral("exportAction"));
  m_action->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
  m_action->setToolTip(tr("Export the trained model as ONNX QCDQ, QONNX, a packed integer model, a checkpoint or "
                          "a Brevitas module (Python) with its state dict"));
  connect(m_action, &QAction::triggered, this, &ExportActions::openDialog);
}

void ExportActions::openDialog() {
  if (m_controller->isRunning() || !m_controller->hasModel()) {
    QMessageBox::information(m_window, tr("Export"),
                             m_controller->isRunning() ? tr("Wait for the training run to end, then export.")
                                                       : tr("Train the project first (Training → Train): "
                                                            "the export writes the trained model."));
    return;
  }
  ExportDialog dialog(m_controller->model(), m_document->filePath(), m_window);
  dialog.exec();
}

}  // namespace qnn
