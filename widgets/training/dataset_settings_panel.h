// SPDX-License-Identifier: GPL-3.0-or-later
// The project's dataset settings: which dataset (Fashion-MNIST, MNIST, CIFAR-10 or an
// image folder), its folder, padding, normalisation, and for an image folder how
// images meet the input (fit) and the share held out for testing. A view of the
// document: edits are emitted as specEdited() and become undoable commands there.
#pragma once

#include <QWidget>

#include "core/graph/project.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;
class QToolButton;

namespace qnn {

class DatasetSettingsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit DatasetSettingsPanel(QWidget* parent = nullptr);

  /// Shows `spec` (a project was opened, or an edit was done or undone); emits nothing.
  void setSpec(const DatasetSpec& spec);
  const DatasetSpec& spec() const { return m_spec; }

  QComboBox* nameComboBox() const { return m_name; }
  QLineEdit* folderEdit() const { return m_folder; }
  QComboBox* fitComboBox() const { return m_fit; }
  QDoubleSpinBox* testFractionSpinBox() const { return m_testFraction; }
  QSpinBox* padSpinBox() const { return m_pad; }

 Q_SIGNALS:
  /// The user changed a setting: `spec` is the shown spec with the new value, `field`
  /// names it ("dataset", "dataset folder", "padding", "normalisation", "fit",
  /// "test share"). Choosing "image-folder" also sets the padding to 0 (its default in
  /// project files). Not emitted by setSpec().
  void specEdited(const qnn::DatasetSpec& spec, const QString& field);

 private:
  void emitEdit(DatasetSpec spec, const QString& field);
  void browse();
  void updateEnabled();

  DatasetSpec m_spec;
  QComboBox* m_name = nullptr;
  QLineEdit* m_folder = nullptr;
  QToolButton* m_browse = nullptr;
  QSpinBox* m_pad = nullptr;
  QCheckBox* m_normalize = nullptr;
  QComboBox* m_fit = nullptr;
  QDoubleSpinBox* m_testFraction = nullptr;
};

}  // namespace qnn
