// SPDX-License-Identifier: GPL-3.0-or-later
// The option dialogs of the Analysis menu: Calibrate… and Sensitivity Sweep…. They only
// collect a request (analysis_worker.h); the caller runs it. Window-modal, opened with
// open() (never exec()), so the event loop and the tests keep running. No LibTorch here.
#pragma once

#include <QDialog>

#include "widgets/analysis/analysis_worker.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace qnn {

/// Analysis > Calibrate…: calibration batches and batch size, evaluation images, bias
/// correction, per-channel weights; without a current model, the weights file to start
/// from (a checkpoint or a PyTorch / Brevitas state dict) is required.
class CalibrateDialog : public QDialog {
  Q_OBJECT
 public:
  /// `hasModel`: calibrate the current model (no file asked for). `startDir` for Browse….
  CalibrateDialog(bool hasModel, const QString& startDir, QWidget* parent = nullptr);
  CalibrateRequest request() const;
  void setRequest(const CalibrateRequest& request);

  QSpinBox* batchesBox() const { return m_batches; }
  QSpinBox* batchSizeBox() const { return m_batchSize; }
  QSpinBox* evalImagesBox() const { return m_evalImages; }
  QCheckBox* biasCorrectionBox() const { return m_biasCorrection; }
  QCheckBox* perChannelBox() const { return m_perChannel; }
  QLineEdit* weightsEdit() const { return m_weights; }
  QPushButton* okButton() const { return m_ok; }

 private:
  void updateOk();
  bool m_hasModel;
  QString m_startDir;
  QSpinBox* m_batches = nullptr;
  QSpinBox* m_batchSize = nullptr;
  QSpinBox* m_evalImages = nullptr;
  QCheckBox* m_biasCorrection = nullptr;
  QCheckBox* m_perChannel = nullptr;
  QLineEdit* m_weights = nullptr;
  QPushButton* m_ok = nullptr;
};

/// Analysis > Sensitivity Sweep…: the bit range (2..16, min <= max enforced by the spin
/// boxes), what to vary (weights / activations / both), held-out test images and
/// calibration batches per activation point. Shows the number of points it will run.
class SweepDialog : public QDialog {
  Q_OBJECT
 public:
  /// `slotCounts`: the project's swept slots for weights, activations, both (for the
  /// points estimate; -1 when unknown).
  SweepDialog(const int slotCounts[3], QWidget* parent = nullptr);
  SweepRequest request() const;
  void setRequest(const SweepRequest& request);

  QSpinBox* minBitsBox() const { return m_minBits; }
  QSpinBox* maxBitsBox() const { return m_maxBits; }
  QComboBox* whatBox() const { return m_what; }
  QSpinBox* holdoutBox() const { return m_holdout; }
  QSpinBox* calibrationBox() const { return m_calibration; }
  QLabel* estimateLabel() const { return m_estimate; }
  QPushButton* okButton() const { return m_ok; }

 private:
  void updateEstimate();
  int m_slots[3];
  QSpinBox* m_minBits = nullptr;
  QSpinBox* m_maxBits = nullptr;
  QComboBox* m_what = nullptr;
  QSpinBox* m_holdout = nullptr;
  QSpinBox* m_calibration = nullptr;
  QLabel* m_estimate = nullptr;
  QPushButton* m_ok = nullptr;
};

}  // namespace qnn
