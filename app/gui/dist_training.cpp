// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/dist_training.h"

#include <algorithm>
#include <thread>

#include <QAction>
#include <QCoreApplication>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QVBoxLayout>

#include "app/gui/model_life.h"
#include "widgets/training/training_types.h"

namespace qnn {
namespace {

int cores() { return int(std::max(1u, std::thread::hardware_concurrency())); }

}  // namespace

DistTrainingAction::DistTrainingAction(ModelLife* life, QWidget* window)
    : QObject(window), m_life(life), m_window(window) {
  m_action = new QAction(tr("Train on N &Processes (local)…"), this);
  m_action->setObjectName(QStringLiteral("distTrainingAction"));
  m_action->setStatusTip(tr("Data-parallel training on several processes of this machine (qnn launch), with the "
                            "live curves of Train"));
  m_action->setToolTip(m_action->statusTip());
  connect(m_action, &QAction::triggered, this, [this] { ask(); });
}

void DistTrainingAction::updateActions(bool running, bool hasProject, const QString& mismatch) {
  m_action->setEnabled(!running && hasProject && mismatch.isEmpty());
  m_action->setToolTip(!mismatch.isEmpty() ? mismatch
                       : running           ? tr("A run goes on: stop it (Esc) or let it finish first")
                                           : m_action->statusTip());
}

QString DistTrainingAction::launcherPath() {
  const QString fromEnv = qEnvironmentVariable("QNN_EXECUTABLE");
  if (!fromEnv.isEmpty()) return fromEnv;
  const QString beside = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("qnn"));
  if (QFileInfo(beside).isExecutable()) return beside;
  return QStandardPaths::findExecutable(QStringLiteral("qnn"));
}

bool DistTrainingAction::ask() {
  QSettings settings;
  QDialog dialog(m_window);
  dialog.setObjectName(QStringLiteral("distTrainingDialog"));
  dialog.setWindowTitle(tr("Train on N Processes"));
  auto* layout = new QVBoxLayout(&dialog);
  auto* about = new QLabel(
      tr("Data-parallel quantization-aware training on this machine: <tt>qnn launch</tt> starts the processes "
         "(ranks) of <tt>qnn train --dist</tt> on a copy of the project as it is now. Each process trains on its "
         "slice of every global batch (batch size × processes) and the gradients are averaged every step, so every "
         "process holds the same model. Esc stops them all; the trained model comes back here."),
      &dialog);
  about->setWordWrap(true);
  layout->addWidget(about);
  auto* form = new QFormLayout;
  auto* processes = new QSpinBox(&dialog);
  processes->setObjectName(QStringLiteral("processesSpin"));
  processes->setRange(2, std::max(2, cores()));
  processes->setValue(settings.value(QLatin1String(kProcessesKey), 2).toInt());
  processes->setToolTip(tr("Number of training processes (ranks); this machine has %n core(s)", "", cores()));
  form->addRow(tr("&Processes:"), processes);
  auto* threads = new QSpinBox(&dialog);
  threads->setObjectName(QStringLiteral("threadsPerProcessSpin"));
  threads->setRange(0, cores());
  threads->setSpecialValueText(tr("auto (cores / processes)"));
  threads->setValue(settings.value(QLatin1String(kThreadsKey), 0).toInt());
  threads->setToolTip(tr("LibTorch threads of each process; auto gives each process cores / processes"));
  form->addRow(tr("&Threads per process:"), threads);
  layout->addLayout(form);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("&Train"));
  connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  layout->addWidget(buttons);
  if (dialog.exec() != QDialog::Accepted) return false;
  settings.setValue(QLatin1String(kProcessesKey), processes->value());
  settings.setValue(QLatin1String(kThreadsKey), threads->value());
  return start(processes->value(), threads->value());
}

bool DistTrainingAction::start(int processes, int threads) {
  const QString launcher = launcherPath();
  return m_life->startTraining([&](TrainingRunOptions& options) {
    options.processes = std::max(2, processes);
    options.threadsPerProcess = std::max(0, threads);
    options.launcherPath = launcher;
  });
}

}  // namespace qnn
