// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/training/training_settings_panel.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSpinBox>

#include "widgets/input/wheel_guard.h"

namespace qnn {
namespace {

QSpinBox* limitSpinBox(QWidget* parent, const QString& name, int max, const QString& tip) {
  auto* s = new QSpinBox(parent);
  s->setObjectName(name);
  s->setRange(0, max);
  s->setSingleStep(1000);
  s->setSpecialValueText(QObject::tr("all"));
  s->setToolTip(tip);
  return s;
}

}  // namespace

TrainingSettingsPanel::TrainingSettingsPanel(QWidget* parent) : QWidget(parent) {
  WheelGuard::install();  // the wheel changes only the focused field
  m_epochs = new QSpinBox(this);
  m_epochs->setObjectName(QStringLiteral("epochsSpinBox"));
  m_epochs->setRange(1, 10000);
  m_epochs->setToolTip(tr("Passes over the training set"));

  m_batchSize = new QSpinBox(this);
  m_batchSize->setObjectName(QStringLiteral("batchSizeSpinBox"));
  m_batchSize->setRange(1, 65536);
  m_batchSize->setToolTip(tr("Samples per optimizer step"));

  m_learningRate = new QDoubleSpinBox(this);
  m_learningRate->setObjectName(QStringLiteral("learningRateSpinBox"));
  m_learningRate->setDecimals(6);
  m_learningRate->setRange(1e-6, 10.0);
  m_learningRate->setSingleStep(1e-4);
  m_learningRate->setToolTip(tr("Step size of the optimizer"));

  m_trainLimit = limitSpinBox(this, QStringLiteral("trainLimitSpinBox"), 10'000'000,
                              tr("Train on the first N samples only (quick looks)"));
  m_testLimit = limitSpinBox(this, QStringLiteral("testLimitSpinBox"), 10'000'000,
                             tr("Evaluate on the first N test samples only"));
  m_maxBatches = limitSpinBox(this, QStringLiteral("maxBatchesSpinBox"), 10'000'000,
                              tr("Stop every epoch after N batches"));
  m_maxBatches->setSingleStep(10);

  m_info = new QLabel(this);
  m_info->setObjectName(QStringLiteral("trainingInfoLabel"));
  m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_info->setWordWrap(true);  // a long line wraps: it never widens the dock (and the window)
  QPalette pal = m_info->palette();
  pal.setColor(QPalette::WindowText, pal.color(QPalette::PlaceholderText));
  m_info->setPalette(pal);

  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(8, 4, 8, 4);
  grid->setHorizontalSpacing(8);
  grid->setVerticalSpacing(4);
  auto add = [&](int row, int col, const QString& label, QWidget* w) {
    auto* l = new QLabel(label, this);
    l->setBuddy(w);
    grid->addWidget(l, row, col * 2, Qt::AlignRight);
    grid->addWidget(w, row, col * 2 + 1);
  };
  add(0, 0, tr("Ep&ochs"), m_epochs);
  add(0, 1, tr("&Batch size"), m_batchSize);
  add(0, 2, tr("&Learning rate"), m_learningRate);
  add(1, 0, tr("Train samples"), m_trainLimit);
  add(1, 1, tr("Test samples"), m_testLimit);
  add(1, 2, tr("Batches/epoch"), m_maxBatches);
  grid->addWidget(m_info, 2, 0, 1, 6);
  m_mismatch = new QLabel(this);
  m_mismatch->setObjectName(QStringLiteral("trainingInputMismatchLabel"));
  m_mismatch->setWordWrap(true);
  m_mismatch->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_mismatch->setStyleSheet(QStringLiteral("QLabel { background: #fdecea; color: #8a1c14; border: 1px solid #e8a29b; "
                                           "border-radius: 3px; padding: 2px 6px; }"));
  m_mismatch->hide();
  grid->addWidget(m_mismatch, 3, 0, 1, 6);
  for (int c : {1, 3, 5}) grid->setColumnStretch(c, 1);
  setSpec(TrainingSpec{}, DatasetSpec{});

  // Edits of the project's settings go to the document (undoable, saved with it).
  auto edited = [this](const QString& field) {
    TrainingSpec s = m_spec;
    s.epochs = m_epochs->value();
    s.batch_size = m_batchSize->value();
    s.learning_rate = m_learningRate->value();
    Q_EMIT specEdited(s, field);
  };
  connect(m_epochs, qOverload<int>(&QSpinBox::valueChanged), this, [edited] { edited(tr("epochs")); });
  connect(m_batchSize, qOverload<int>(&QSpinBox::valueChanged), this, [edited] { edited(tr("batch size")); });
  connect(m_learningRate, qOverload<double>(&QDoubleSpinBox::valueChanged), this,
          [edited] { edited(tr("learning rate")); });
}

void TrainingSettingsPanel::setSpec(const TrainingSpec& spec, const DatasetSpec& dataset) {
  m_spec = spec;
  {
    const QSignalBlocker b1(m_epochs), b2(m_batchSize), b3(m_learningRate);
    // A project value beyond a field's usual range widens it: the field shows, and a run
    // uses, what the project file says (never a silently clamped value).
    if (spec.epochs > m_epochs->maximum()) m_epochs->setMaximum(int(std::min<int64_t>(spec.epochs, INT_MAX)));
    if (spec.batch_size > m_batchSize->maximum())
      m_batchSize->setMaximum(int(std::min<int64_t>(spec.batch_size, INT_MAX)));
    if (spec.learning_rate > m_learningRate->maximum()) m_learningRate->setMaximum(spec.learning_rate);
    if (spec.learning_rate > 0 && spec.learning_rate < m_learningRate->minimum()) {
      m_learningRate->setDecimals(std::min(15, int(std::ceil(-std::log10(spec.learning_rate))) + 3));
      m_learningRate->setMinimum(spec.learning_rate);
    }
    m_epochs->setValue(int(spec.epochs));
    m_batchSize->setValue(int(spec.batch_size));
    m_learningRate->setValue(spec.learning_rate);
  }
  QString optimizer = QString::fromStdString(spec.optimizer);
  if (spec.optimizer == "sgd") optimizer += tr(" (momentum %1)").arg(spec.momentum);
  m_info->setText(tr("Optimizer %1 · weight decay %2 · seed %3 · %4 threads · dataset %5")
                      .arg(optimizer)
                      .arg(spec.weight_decay)
                      .arg(spec.seed)
                      .arg(spec.threads > 0 ? QString::number(spec.threads) : tr("all"))
                      .arg(QString::fromStdString(dataset.name)));
}

void TrainingSettingsPanel::setLimits(qint64 trainLimit, qint64 testLimit, qint64 maxBatchesPerEpoch) {
  m_trainLimit->setValue(int(trainLimit));
  m_testLimit->setValue(int(testLimit));
  m_maxBatches->setValue(int(maxBatchesPerEpoch));
}

void TrainingSettingsPanel::setEpochs(int epochs) {
  const QSignalBlocker block(m_epochs);  // a run override, not an edit of the project
  m_epochs->setValue(epochs);
}

TrainingRunOptions TrainingSettingsPanel::options() const {
  TrainingRunOptions o;
  o.spec = m_spec;
  o.spec.epochs = m_epochs->value();
  o.spec.batch_size = m_batchSize->value();
  o.spec.learning_rate = m_learningRate->value();
  o.trainLimit = m_trainLimit->value();
  o.testLimit = m_testLimit->value();
  o.maxBatchesPerEpoch = m_maxBatches->value();
  return o;
}

void TrainingSettingsPanel::setInputMismatch(const QString& message, const QString& brief) {
  m_mismatchMessage = message;
  m_mismatch->setText(message.isEmpty() || brief.isEmpty() ? message : brief);
  m_mismatch->setToolTip(message);
  m_mismatch->setVisible(!message.isEmpty());
  // The note takes the place of the optimizer line, so the strip need not grow much.
  m_info->setVisible(message.isEmpty());
}

QString TrainingSettingsPanel::inputMismatch() const { return m_mismatchMessage; }

}  // namespace qnn
