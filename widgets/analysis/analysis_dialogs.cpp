// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/analysis/analysis_dialogs.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "widgets/input/wheel_guard.h"

namespace qnn {
namespace {

QSpinBox* spinBox(QWidget* parent, const char* name, int min, int max, int value, const QString& tip) {
  auto* box = new QSpinBox(parent);
  box->setObjectName(QLatin1String(name));
  box->setRange(min, max);
  box->setValue(value);
  box->setToolTip(tip);
  box->setAccelerated(true);
  return box;
}

QDialogButtonBox* buttons(QDialog* dialog, const QString& okText, QPushButton** ok) {
  auto* box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, dialog);
  *ok = box->button(QDialogButtonBox::Ok);
  (*ok)->setText(okText);
  (*ok)->setObjectName(QStringLiteral("okButton"));
  QObject::connect(box, &QDialogButtonBox::accepted, dialog, &QDialog::accept);
  QObject::connect(box, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
  return box;
}

}  // namespace

// ------------------------------------------------------------------ calibrate

CalibrateDialog::CalibrateDialog(bool hasModel, const QString& startDir, QWidget* parent)
    : QDialog(parent), m_hasModel(hasModel), m_startDir(startDir) {
  WheelGuard::install();  // the wheel changes only the focused field
  setObjectName(QStringLiteral("calibrateDialog"));
  setWindowTitle(tr("Calibrate"));
  auto* layout = new QVBoxLayout(this);
  auto* intro = new QLabel(
      tr("Post-training calibration (Brevitas calibration_mode): the activation quantizers take the average "
         "range of the first images of the training split while the network computes in float. The "
         "calibrated model becomes the current model."),
      this);
  intro->setWordWrap(true);
  layout->addWidget(intro);

  auto* form = new QFormLayout;
  auto* source = new QWidget(this);
  auto* sourceLayout = new QHBoxLayout(source);
  sourceLayout->setContentsMargins(0, 0, 0, 0);
  m_weights = new QLineEdit(source);
  m_weights->setObjectName(QStringLiteral("weightsEdit"));
  auto* browse = new QPushButton(tr("Browse…"), source);
  browse->setObjectName(QStringLiteral("browseButton"));
  if (hasModel) {
    auto* current = new QLabel(tr("the current trained model"), source);
    current->setObjectName(QStringLiteral("sourceLabel"));
    sourceLayout->addWidget(current);
    m_weights->hide();
    browse->hide();
  } else {
    m_weights->setPlaceholderText(tr("checkpoint or state dict (*.pt, *.pth)"));
    m_weights->setToolTip(tr("There is no trained model: calibrate the weights of this file (File > Load Weights "
                             "formats: a QNN Studio checkpoint or a PyTorch / Brevitas state dict)"));
    sourceLayout->addWidget(m_weights, 1);
    sourceLayout->addWidget(browse);
  }
  form->addRow(tr("Weights:"), source);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Weights to calibrate"), m_startDir,
        tr("PyTorch state dicts and checkpoints (*.pt *.pth *.ckpt);;All files (*)"));
    if (!path.isEmpty()) m_weights->setText(path);
  });
  connect(m_weights, &QLineEdit::textChanged, this, &CalibrateDialog::updateOk);

  m_batches = spinBox(this, "batchesBox", 1, 100000, 16, tr("Calibration batches of the training split"));
  m_batchSize = spinBox(this, "batchSizeBox", 1, 4096, 64, tr("Images per calibration batch"));
  m_evalImages = spinBox(this, "evalImagesBox", 0, 1000000, 2000,
                         tr("Test images evaluated before and after calibration (the first ones; 0 = all)"));
  m_evalImages->setSpecialValueText(tr("all"));
  m_evalImages->setSingleStep(500);
  m_biasCorrection = new QCheckBox(tr("Bias correction"), this);
  m_biasCorrection->setObjectName(QStringLiteral("biasCorrectionBox"));
  m_biasCorrection->setToolTip(tr("Brevitas bias_correction_mode: each conv / linear bias absorbs the mean error "
                                  "its quantized weights add to its output"));
  m_perChannel = new QCheckBox(tr("Per-channel weight scales"), this);
  m_perChannel->setObjectName(QStringLiteral("perChannelBox"));
  m_perChannel->setToolTip(tr("Int8WeightPerTensorFloat weight quantizers become per output channel "
                              "(Int8WeightPerChannelFloat, same bits): a change of the project, one undo step "
                              "together with the calibrated model"));
  form->addRow(tr("Batches:"), m_batches);
  form->addRow(tr("Batch size:"), m_batchSize);
  form->addRow(tr("Evaluate on:"), m_evalImages);
  form->addRow(QString(), m_biasCorrection);
  form->addRow(QString(), m_perChannel);
  layout->addLayout(form);
  layout->addWidget(buttons(this, tr("Calibrate"), &m_ok));
  updateOk();
}

void CalibrateDialog::updateOk() { m_ok->setEnabled(m_hasModel || !m_weights->text().trimmed().isEmpty()); }

CalibrateRequest CalibrateDialog::request() const {
  CalibrateRequest r;
  r.batches = m_batches->value();
  r.batchSize = m_batchSize->value();
  r.evalImages = m_evalImages->value();
  r.biasCorrection = m_biasCorrection->isChecked();
  r.perChannel = m_perChannel->isChecked();
  if (!m_hasModel) r.weightsFile = m_weights->text().trimmed();
  return r;
}

void CalibrateDialog::setRequest(const CalibrateRequest& r) {
  m_batches->setValue(int(r.batches));
  m_batchSize->setValue(int(r.batchSize));
  m_evalImages->setValue(int(r.evalImages));
  m_biasCorrection->setChecked(r.biasCorrection);
  m_perChannel->setChecked(r.perChannel);
  if (!m_hasModel && !r.weightsFile.isEmpty()) m_weights->setText(r.weightsFile);
}

// ------------------------------------------------------------------ sweep

SweepDialog::SweepDialog(const int slotCounts[3], QWidget* parent) : QDialog(parent) {
  WheelGuard::install();  // the wheel changes only the focused field
  for (int i = 0; i < 3; ++i) m_slots[i] = slotCounts[i];
  setObjectName(QStringLiteral("sweepDialog"));
  setWindowTitle(tr("Sensitivity Sweep"));
  auto* layout = new QVBoxLayout(this);
  auto* intro = new QLabel(tr("One quantizer at a time is set to each bit width of the range, the others keep the "
                              "project's; each point is calibrated and evaluated on the same held-out test images. "
                              "The result is saved in the project."),
                           this);
  intro->setWordWrap(true);
  layout->addWidget(intro);
  auto* form = new QFormLayout;
  m_minBits = spinBox(this, "minBitsBox", 2, 16, 2, tr("Lowest bit width (2..16)"));
  m_maxBits = spinBox(this, "maxBitsBox", 2, 16, 8, tr("Highest bit width (2..16)"));
  // min <= max: each box bounds the other, so an empty range cannot be entered.
  connect(m_minBits, &QSpinBox::valueChanged, this, [this](int v) {
    m_maxBits->setMinimum(v);
    updateEstimate();
  });
  connect(m_maxBits, &QSpinBox::valueChanged, this, [this](int v) {
    m_minBits->setMaximum(v);
    updateEstimate();
  });
  m_minBits->setMaximum(m_maxBits->value());
  m_maxBits->setMinimum(m_minBits->value());
  auto* range = new QWidget(this);
  auto* rangeLayout = new QHBoxLayout(range);
  rangeLayout->setContentsMargins(0, 0, 0, 0);
  rangeLayout->addWidget(m_minBits);
  rangeLayout->addWidget(new QLabel(tr("to"), range));
  rangeLayout->addWidget(m_maxBits);
  rangeLayout->addWidget(new QLabel(tr("bits"), range), 1);
  m_what = new QComboBox(this);
  m_what->setObjectName(QStringLiteral("whatBox"));
  m_what->addItem(tr("Weights"), QStringLiteral("weights"));
  m_what->addItem(tr("Activations"), QStringLiteral("activations"));
  m_what->addItem(tr("Weights and activations"), QStringLiteral("both"));
  connect(m_what, &QComboBox::currentIndexChanged, this, &SweepDialog::updateEstimate);
  m_holdout = spinBox(this, "holdoutBox", 0, 1000000, 2000, tr("Held-out test images per point (the first ones; 0 = all)"));
  m_holdout->setSpecialValueText(tr("all"));
  m_holdout->setSingleStep(256);
  m_calibration = spinBox(this, "calibrationBox", 1, 10000, 8,
                          tr("Calibration batches (of 64 training images) for activation quantizers of the trained model that were "
                             "never calibrated, once before the sweep; a varied activation quantizer keeps its "
                             "threshold (its scale follows the bit width), nothing is recalibrated per point"));
  m_estimate = new QLabel(this);
  m_estimate->setObjectName(QStringLiteral("estimateLabel"));
  form->addRow(tr("Bit widths:"), range);
  form->addRow(tr("Vary:"), m_what);
  form->addRow(tr("Held-out images:"), m_holdout);
  form->addRow(tr("Calibration batches:"), m_calibration);
  form->addRow(QString(), m_estimate);
  layout->addLayout(form);
  layout->addWidget(buttons(this, tr("Run Sweep"), &m_ok));
  updateEstimate();
}

void SweepDialog::updateEstimate() {
  const int slots = m_slots[qBound(0, m_what->currentIndex(), 2)];
  const int bits = m_maxBits->value() - m_minBits->value() + 1;
  if (slots < 0)
    m_estimate->setText(tr("%n bit width(s) per quantizer", "", bits));
  else if (slots == 0)
    m_estimate->setText(tr("nothing to sweep: no quantizer of this kind"));
  else
    m_estimate->setText(tr("%1 quantizer(s) × %2 bit width(s) = %3 points").arg(slots).arg(bits).arg(slots * bits));
  m_ok->setEnabled(slots != 0);
}

SweepRequest SweepDialog::request() const {
  SweepRequest r;
  r.minBits = m_minBits->value();
  r.maxBits = m_maxBits->value();
  r.what = m_what->currentData().toString();
  r.holdout = m_holdout->value();
  r.calibrationBatches = m_calibration->value();
  return r;
}

void SweepDialog::setRequest(const SweepRequest& r) {
  m_minBits->setMaximum(16);
  m_maxBits->setMinimum(2);
  m_minBits->setValue(r.minBits);
  m_maxBits->setValue(r.maxBits);
  const int i = m_what->findData(r.what);
  if (i >= 0) m_what->setCurrentIndex(i);
  m_holdout->setValue(int(r.holdout));
  m_calibration->setValue(int(r.calibrationBatches));
  updateEstimate();
}

}  // namespace qnn
