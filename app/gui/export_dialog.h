// SPDX-License-Identifier: GPL-3.0-or-later
// File > Export…: a dialog that writes the last trained model as QCDQ, QONNX, packed
// or checkpoint (core/export/export.h). Before anything is written it shows the
// pre-flight list (what the chosen format cannot express: errors disable Export;
// what runs in float: warnings). The export and the optional verification (ONNX
// Runtime for QCDQ, the packed reader for packed) run on a worker thread; the result
// text gives the written size, the prediction agreement and the max difference in
// output-scale steps. No LibTorch in this header.
#pragma once

#include <memory>

#include <QDialog>
#include <QObject>

class QAction;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QWidget;

namespace qnn {

class ProjectDocument;
class QuantModelImpl;
class TrainingController;

class ExportDialog : public QDialog {
  Q_OBJECT
 public:
  /// `model` must stay alive while the dialog is open; `projectPath` suggests the file name.
  ExportDialog(std::shared_ptr<QuantModelImpl> model, const QString& projectPath, QWidget* parent = nullptr);
  ~ExportDialog() override;

  /// Runs the export synchronously (tests) or on the worker (the button). Returns
  /// the result text shown in the dialog.
  QString resultText() const;
  /// True while an export or verification runs.
  bool isBusy() const { return m_busy; }

 public Q_SLOTS:
  void startExport();

 Q_SIGNALS:
  /// The export (and verification) ended; `ok` false when it failed.
  void exportFinished(bool ok, const QString& text);

 protected:
  void reject() override;

 private:
  void updatePreflight();
  void browse();
  void onFinished(bool ok, const QString& text);

  std::shared_ptr<QuantModelImpl> m_model;
  QString m_projectPath;
  QComboBox* m_format = nullptr;
  QLineEdit* m_path = nullptr;
  QCheckBox* m_verify = nullptr;
  QCheckBox* m_foldBn = nullptr;  ///< fold BatchNorm into the conv / linear before it (core/graph/fold_batch_norm.h)
  QSpinBox* m_samples = nullptr;
  QListWidget* m_preflight = nullptr;
  QProgressBar* m_progress = nullptr;
  QLabel* m_stage = nullptr;
  QPlainTextEdit* m_result = nullptr;
  QPushButton* m_exportButton = nullptr;
  bool m_busy = false;
  bool m_hasErrors = false;
};

/// The "Export…" action for the File menu: opens ExportDialog on the controller's
/// last model (explains what to do when there is none or a run is in progress).
class ExportActions : public QObject {
  Q_OBJECT
 public:
  ExportActions(TrainingController* controller, ProjectDocument* document, QWidget* window);
  QAction* exportAction() const { return m_action; }

 private:
  void openDialog();
  TrainingController* m_controller;
  ProjectDocument* m_document;
  QWidget* m_window;
  QAction* m_action;
};

}  // namespace qnn
