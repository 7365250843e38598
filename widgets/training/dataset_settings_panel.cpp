// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/training/dataset_settings_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QToolButton>

#include "widgets/input/wheel_guard.h"

namespace qnn {

DatasetSettingsPanel::DatasetSettingsPanel(QWidget* parent) : QWidget(parent) {
  WheelGuard::install();  // the wheel changes only the focused field
  m_name = new QComboBox(this);
  m_name->setObjectName(QStringLiteral("datasetNameComboBox"));
  m_name->addItem(tr("Fashion-MNIST"), QStringLiteral("fashion-mnist"));
  m_name->addItem(tr("MNIST"), QStringLiteral("mnist"));
  m_name->addItem(tr("CIFAR-10"), QStringLiteral("cifar10"));
  m_name->addItem(tr("Image folder (PNG/JPEG, one subfolder per class)"), QStringLiteral("image-folder"));
  m_name->setToolTip(tr("The data the network is trained and tested on"));

  m_folder = new QLineEdit(this);
  m_folder->setObjectName(QStringLiteral("datasetFolderEdit"));
  m_folder->setToolTip(tr("The folder holding the dataset files; for an image folder, one subfolder of "
                          "images per class (or train/ and test/ holding those)"));
  m_browse = new QToolButton(this);
  m_browse->setObjectName(QStringLiteral("datasetBrowseButton"));
  m_browse->setText(tr("Browse…"));
  m_browse->setToolTip(tr("Choose the dataset folder"));

  m_pad = new QSpinBox(this);
  m_pad->setObjectName(QStringLiteral("datasetPadSpinBox"));
  m_pad->setRange(0, 256);
  m_pad->setToolTip(tr("Zero padding added on each side of every image"));

  m_normalize = new QCheckBox(tr("Normalise"), this);
  m_normalize->setObjectName(QStringLiteral("datasetNormalizeCheckBox"));
  m_normalize->setToolTip(tr("Subtract the per-channel mean and divide by the standard deviation (an image "
                             "folder's are computed from its training images)"));

  m_fit = new QComboBox(this);
  m_fit->setObjectName(QStringLiteral("datasetFitComboBox"));
  m_fit->addItem(tr("Resize (stretch to the input)"), QStringLiteral("resize"));
  m_fit->addItem(tr("Pad (centre on black)"), QStringLiteral("pad"));
  m_fit->addItem(tr("None (sizes must match)"), QStringLiteral("none"));
  m_fit->setToolTip(tr("How an image meets the input's height and width"));

  m_testFraction = new QDoubleSpinBox(this);
  m_testFraction->setObjectName(QStringLiteral("datasetTestFractionSpinBox"));
  m_testFraction->setRange(0.01, 0.99);
  m_testFraction->setDecimals(2);
  m_testFraction->setSingleStep(0.05);
  m_testFraction->setToolTip(tr("Share of each class held out for testing when the folder has no train/ and "
                                "test/ subfolders (chosen by file name, the same on every run)"));

  auto* folderRow = new QHBoxLayout;
  folderRow->setContentsMargins(0, 0, 0, 0);
  folderRow->addWidget(m_folder, 1);
  folderRow->addWidget(m_browse);

  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(8, 4, 8, 4);
  grid->setHorizontalSpacing(8);
  grid->setVerticalSpacing(4);
  auto label = [this](const QString& text, QWidget* buddy) {
    auto* l = new QLabel(text, this);
    l->setBuddy(buddy);
    return l;
  };
  grid->addWidget(label(tr("&Dataset"), m_name), 0, 0, Qt::AlignRight);
  grid->addWidget(m_name, 0, 1, 1, 3);
  grid->addWidget(label(tr("&Folder"), m_folder), 1, 0, Qt::AlignRight);
  grid->addLayout(folderRow, 1, 1, 1, 3);
  grid->addWidget(label(tr("&Padding"), m_pad), 2, 0, Qt::AlignRight);
  grid->addWidget(m_pad, 2, 1);
  grid->addWidget(m_normalize, 2, 2, 1, 2);
  grid->addWidget(label(tr("F&it"), m_fit), 3, 0, Qt::AlignRight);
  grid->addWidget(m_fit, 3, 1);
  grid->addWidget(label(tr("Test &share"), m_testFraction), 3, 2, Qt::AlignRight);
  grid->addWidget(m_testFraction, 3, 3);
  grid->setColumnStretch(1, 1);
  grid->setRowStretch(4, 1);
  setSpec(DatasetSpec{});

  connect(m_name, qOverload<int>(&QComboBox::activated), this, [this] {
    DatasetSpec s = m_spec;
    s.name = m_name->currentData().toString().toStdString();
    if (is_image_folder_dataset(s.name) && !is_image_folder_dataset(m_spec.name)) s.pad = 0;
    emitEdit(s, tr("dataset"));
  });
  connect(m_folder, &QLineEdit::editingFinished, this, [this] {
    DatasetSpec s = m_spec;
    s.path = m_folder->text().trimmed().toStdString();
    emitEdit(s, tr("dataset folder"));
  });
  connect(m_browse, &QToolButton::clicked, this, &DatasetSettingsPanel::browse);
  connect(m_pad, qOverload<int>(&QSpinBox::valueChanged), this, [this](int v) {
    DatasetSpec s = m_spec;
    s.pad = v;
    emitEdit(s, tr("padding"));
  });
  connect(m_normalize, &QCheckBox::toggled, this, [this](bool on) {
    DatasetSpec s = m_spec;
    s.normalize = on;
    emitEdit(s, tr("normalisation"));
  });
  connect(m_fit, qOverload<int>(&QComboBox::activated), this, [this] {
    DatasetSpec s = m_spec;
    s.fit = m_fit->currentData().toString().toStdString();
    emitEdit(s, tr("fit"));
  });
  connect(m_testFraction, qOverload<double>(&QDoubleSpinBox::valueChanged), this, [this](double v) {
    DatasetSpec s = m_spec;
    s.test_fraction = v;
    emitEdit(s, tr("test share"));
  });
}

void DatasetSettingsPanel::setSpec(const DatasetSpec& spec) {
  m_spec = spec;
  const QSignalBlocker b1(m_name), b2(m_folder), b3(m_pad), b4(m_normalize), b5(m_fit), b6(m_testFraction);
  int i = m_name->findData(QString::fromStdString(is_image_folder_dataset(spec.name) ? "image-folder" : spec.name));
  if (i < 0) {  // a name this build does not know: shown as it is (validation reports it)
    m_name->addItem(QString::fromStdString(spec.name), QString::fromStdString(spec.name));
    i = m_name->count() - 1;
  }
  m_name->setCurrentIndex(i);
  m_folder->setText(QString::fromStdString(spec.path));
  m_pad->setValue(spec.pad);
  m_normalize->setChecked(spec.normalize);
  const int f = m_fit->findData(QString::fromStdString(spec.fit));
  m_fit->setCurrentIndex(f < 0 ? 0 : f);
  m_testFraction->setValue(spec.test_fraction);
  updateEnabled();
}

void DatasetSettingsPanel::emitEdit(DatasetSpec spec, const QString& field) {
  if (spec == m_spec) return;
  Q_EMIT specEdited(spec, field);
}

void DatasetSettingsPanel::browse() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Dataset Folder"), m_folder->text());
  if (dir.isEmpty()) return;
  m_folder->setText(dir);
  DatasetSpec s = m_spec;
  s.path = dir.toStdString();
  emitEdit(s, tr("dataset folder"));
}

void DatasetSettingsPanel::updateEnabled() {
  const bool images = is_image_folder_dataset(m_spec.name);
  m_fit->setEnabled(images);
  m_testFraction->setEnabled(images);
}

}  // namespace qnn
