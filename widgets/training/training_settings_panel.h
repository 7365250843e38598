// SPDX-License-Identifier: GPL-3.0-or-later
// The training settings of the next run: epochs, batch size and learning rate
// (defaults from the project's training spec) and the sample limits for quick looks.
#pragma once

#include <QWidget>

#include "core/graph/project.h"
#include "widgets/training/training_types.h"

class QDoubleSpinBox;
class QLabel;
class QSpinBox;

namespace qnn {

class TrainingSettingsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit TrainingSettingsPanel(QWidget* parent = nullptr);

  /// Takes epochs, batch size and learning rate from `spec` (a project was opened);
  /// the other fields of `spec` are used unchanged by options().
  void setSpec(const TrainingSpec& spec, const DatasetSpec& dataset);
  /// Sample limits (0 = everything); they survive opening another project.
  void setLimits(qint64 trainLimit, qint64 testLimit, qint64 maxBatchesPerEpoch);
  void setEpochs(int epochs);

  /// The spec given to setSpec() with the edited values, and the limits.
  TrainingRunOptions options() const;

  /// Shows `message` (DatasetSettingsPanel::inputMismatch(): the dataset does not fit the
  /// Input layer) as a red note under the settings, in the short form `brief` when given
  /// (datasetInputMismatchBrief(): the strip's room at 1366 x 768 is two lines), the
  /// full message in its tooltip; "" hides it.
  void setInputMismatch(const QString& message, const QString& brief = QString());
  /// The full message given to setInputMismatch().
  QString inputMismatch() const;
  QLabel* inputMismatchLabel() const { return m_mismatch; }

  QSpinBox* epochsSpinBox() const { return m_epochs; }
  QSpinBox* batchSizeSpinBox() const { return m_batchSize; }
  QDoubleSpinBox* learningRateSpinBox() const { return m_learningRate; }

 Q_SIGNALS:
  /// The user edited epochs, batch size or learning rate: `spec` is the project's
  /// training spec with the new value, `field` names it ("epochs", "batch size",
  /// "learning rate"). Not emitted by setSpec() / setEpochs().
  void specEdited(const qnn::TrainingSpec& spec, const QString& field);

 private:
  TrainingSpec m_spec;
  QSpinBox* m_epochs = nullptr;
  QSpinBox* m_batchSize = nullptr;
  QDoubleSpinBox* m_learningRate = nullptr;
  QSpinBox* m_trainLimit = nullptr;
  QSpinBox* m_testLimit = nullptr;
  QSpinBox* m_maxBatches = nullptr;
  QLabel* m_info = nullptr;
  QLabel* m_mismatch = nullptr;
  QString m_mismatchMessage;  ///< the full text (m_mismatch may show the brief one)
};

}  // namespace qnn
