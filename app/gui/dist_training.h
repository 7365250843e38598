// SPDX-License-Identifier: GPL-3.0-or-later
// Training > Train on N Processes (local)… (issue 17, item 3): data-parallel training on
// this machine with the same live curves, status line and end of run as F5. A dialog
// asks the number of processes and the LibTorch threads of each; the run then goes
// through ModelLife::startTraining with TrainingRunOptions::processes set, so the worker
// hands it to `qnn launch --nproc N` (widgets/training/training_worker_launch.cpp) on a
// temporary copy of the document (unsaved edits included). Esc stops every process;
// the checkpoint rank 0 writes becomes the trained model; a failure (a rank that died, a
// rendezvous that timed out) is shown with the launcher's message.
#pragma once

#include <functional>

#include <QObject>
#include <QString>

class QAction;
class QWidget;

namespace qnn {

class ModelLife;

class DistTrainingAction : public QObject {
  Q_OBJECT
 public:
  /// QSettings keys of the last choice in the dialog.
  static constexpr const char* kProcessesKey = "training/processes";
  static constexpr const char* kThreadsKey = "training/threadsPerProcess";

  DistTrainingAction(ModelLife* life, QWidget* window);

  /// "distTrainingAction": opens the dialog (ask()).
  QAction* action() const { return m_action; }
  /// Enabled when idle with a project whose dataset fits the Input (like Train, F5);
  /// `mismatch` (non-empty) is why it is not.
  void updateActions(bool running, bool hasProject, const QString& mismatch);
  /// The dialog ("distTrainingDialog": "processesSpin", "threadsPerProcessSpin"), then
  /// start() with its values. False when it was cancelled or the run did not start.
  bool ask();
  /// Starts the document's run on `processes` (>= 2) local processes with `threads`
  /// LibTorch threads each (0: cores / processes). False when busy, refused or when
  /// the user kept a stopped run (ModelLife::startTraining).
  bool start(int processes, int threads);
  /// The `qnn` program that runs the processes: $QNN_EXECUTABLE when set, else `qnn`
  /// beside this executable, else `qnn` on the PATH ("" when none is found).
  static QString launcherPath();

 private:
  ModelLife* m_life;
  QWidget* m_window;
  QAction* m_action = nullptr;
};

}  // namespace qnn
