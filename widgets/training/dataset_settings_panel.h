// SPDX-License-Identifier: GPL-3.0-or-later
// The project's dataset settings: which dataset (Fashion-MNIST, MNIST, CIFAR-10 or an
// image folder), its folder, padding, normalisation, and for an image folder how
// images meet the input (fit) and the share held out for testing. A view of the
// document: edits are emitted as specEdited() and become undoable commands there.
// Under the fields, a red note says when the dataset's samples do not fit the
// network's Input layer (the check `qnn validate` and training make), as soon as
// either changes (setDocument).
#pragma once

#include <QPointer>
#include <QWidget>

#include "core/graph/project.h"

class QCheckBox;
class QLabel;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;
class QToolButton;

namespace qnn {

class ProjectDocument;
class TrainingSettingsPanel;

/// The sentence the Dataset panel shows when `project`'s Input layer cannot take the
/// samples of its built-in dataset (core dataset_input_mismatch): "The dataset
/// Fashion-MNIST gives samples of 1×28×28 (channels × height × width, no padding), but
/// the Input layer 'input' takes 1×32×32. Set the dataset padding to 2 (28 + 2 x 2 =
/// 32), or set the Input shape to [1, 28, 28]." Full sentences, each
/// starting with a capital letter. "" when they fit or the dataset's shape is not known
/// without reading it (an image folder, an unknown name).
QString datasetInputMismatchText(const Project& project);
/// The same in brief, for the Training Settings strip and the status line (where the
/// room is one or two lines): "Train is unavailable: Fashion-MNIST gives 1×28×28
/// samples, the Input layer 'input' takes 1×32×32. Set the dataset padding to 2, or set
/// the Input shape to [1, 28, 28]." (the hint without its worked sums). "" when they fit.
QString datasetInputMismatchBrief(const Project& project);

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

  /// Checks `document`'s Input layer against its dataset now and after every change of
  /// the document (an edit of the dataset or of the Input layer, its undo, another
  /// project): the note under the fields shows datasetInputMismatchText() or hides, and
  /// so does the one of `strip` (optional: the Training Settings, the tab shown in the
  /// Train layout). nullptr stops following (the notes hide).
  void setDocument(ProjectDocument* document, TrainingSettingsPanel* strip = nullptr);
  /// Shows the check of `project` once (what setDocument does on every change).
  void checkInput(const Project& project);
  /// The note's text ("" when the dataset fits the Input layer): the reason Train
  /// cannot run these settings, e.g. for the Train action's tooltip.
  QString inputMismatch() const { return m_inputMismatch; }
  QLabel* inputMismatchLabel() const { return m_mismatchLabel; }

 Q_SIGNALS:
  /// The user changed a setting: `spec` is the shown spec with the new value, `field`
  /// names it ("dataset", "dataset folder", "padding", "normalisation", "fit",
  /// "test share"). Choosing "image-folder" also sets the padding to 0 (its default in
  /// project files). Not emitted by setSpec().
  void specEdited(const qnn::DatasetSpec& spec, const QString& field);
  /// inputMismatch() changed ("" when the dataset fits the Input layer again).
  void inputMismatchChanged(const QString& message);

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  /// Keeps the whole note readable: its minimum height is its wrapped height at the
  /// panel's width (a dock does not ask a label for its height at a width).
  void fitNote();
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
  QLabel* m_mismatchLabel = nullptr;
  QString m_inputMismatch;
  QMetaObject::Connection m_documentConnection;
  QPointer<TrainingSettingsPanel> m_strip;
};

}  // namespace qnn
