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
#include <QRegularExpression>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QToolButton>

#include <algorithm>

#include "core/data/dataset_shape.h"
#include "widgets/document/project_document.h"
#include "widgets/input/wheel_guard.h"
#include "widgets/training/training_settings_panel.h"

namespace qnn {
namespace {

/// "1×28×28" for [1, 28, 28] (any rank).
QString dimsText(const std::vector<int64_t>& shape) {
  QStringList parts;
  for (int64_t d : shape) parts << QString::number(d);
  return parts.join(QChar(0x00D7));
}

/// The dataset's name as the Dataset box shows it.
QString datasetTitle(const std::string& name) {
  const std::string n = canonical_dataset_name(name);
  if (n == "fashion-mnist") return QStringLiteral("Fashion-MNIST");
  if (n == "mnist") return QStringLiteral("MNIST");
  if (n == "cifar10") return QStringLiteral("CIFAR-10");
  return QString::fromStdString(name);
}

/// `text` with a capital first letter and a full stop at the end.
QString sentence(QString text) {
  text = text.trimmed();
  if (text.isEmpty()) return text;
  text[0] = text[0].toUpper();
  if (!text.endsWith(QLatin1Char('.'))) text += QLatin1Char('.');
  return text;
}

}  // namespace

QString datasetInputMismatchText(const Project& project) {
  const std::optional<Diagnostic> mismatch = dataset_input_mismatch(project);
  if (!mismatch) return QString();
  const std::vector<int64_t> sample = dataset_sample_shape(project.dataset);
  const QString input = mismatch->node == "dataset"
                            ? QObject::tr("the network's Input")
                            : QObject::tr("the Input layer '%1'").arg(QString::fromStdString(mismatch->node));
  const QString takes = project.input_shape.size() == 3
                            ? dimsText(project.input_shape)
                            : QObject::tr("%1 (not an image shape [C, H, W])")
                                  .arg(QString::fromStdString(shape_text(project.input_shape)));
  const QString padding = project.dataset.pad == 0 ? QObject::tr("no padding")
                          : project.dataset.pad == 1 ? QObject::tr("padded by 1 pixel on each side")
                                                     : QObject::tr("padded by %1 pixels on each side").arg(project.dataset.pad);
  return QObject::tr("The dataset %1 gives samples of %2 (channels × height × width, %3), but %4 takes %5. %6")
      .arg(datasetTitle(project.dataset.name), dimsText(sample), padding, input, takes,
           sentence(QString::fromStdString(mismatch->hint)));
}

QString datasetInputMismatchBrief(const Project& project) {
  const std::optional<Diagnostic> mismatch = dataset_input_mismatch(project);
  if (!mismatch) return QString();
  const QString input = mismatch->node == "dataset"
                            ? QObject::tr("the Input")
                            : QObject::tr("the Input layer '%1'").arg(QString::fromStdString(mismatch->node));
  const QString takes = project.input_shape.size() == 3 ? dimsText(project.input_shape)
                                                        : QString::fromStdString(shape_text(project.input_shape));
  // The hint without its worked sums ("(28 + 2 x 2 = 32)"): the full text has them.
  QString hint = QString::fromStdString(mismatch->hint);
  hint.remove(QRegularExpression(QStringLiteral("\\s*\\([^()]*\\)")));
  return QObject::tr("Train is unavailable: %1 gives %2 samples, %3 takes %4. %5")
      .arg(datasetTitle(project.dataset.name), dimsText(dataset_sample_shape(project.dataset)), input, takes,
           sentence(hint));
}

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
  m_mismatchLabel = new QLabel(this);
  m_mismatchLabel->setObjectName(QStringLiteral("datasetInputMismatchLabel"));
  m_mismatchLabel->setWordWrap(true);
  m_mismatchLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_mismatchLabel->setStyleSheet(QStringLiteral("QLabel { background: #fdecea; color: #8a1c14; border: 1px solid "
                                                "#e8a29b; border-radius: 3px; padding: 4px 6px; }"));
  m_mismatchLabel->hide();
  grid->addWidget(m_mismatchLabel, 4, 0, 1, 4);
  grid->setColumnStretch(1, 1);
  grid->setRowStretch(5, 1);
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

void DatasetSettingsPanel::setDocument(ProjectDocument* document, TrainingSettingsPanel* strip) {
  disconnect(m_documentConnection);
  if (m_strip && m_strip != strip) m_strip->setInputMismatch(QString());
  m_strip = strip;
  if (!document) {
    checkInput(Project{});
    return;
  }
  // changed(): after every edit (the dataset, the Input layer), undo, redo and new project.
  m_documentConnection = connect(document, &ProjectDocument::changed, this,
                                 [this, document] { checkInput(document->project()); });
  checkInput(document->project());
}

void DatasetSettingsPanel::checkInput(const Project& project) {
  const QString text = datasetInputMismatchText(project);
  m_mismatchLabel->setText(text);
  m_mismatchLabel->setVisible(!text.isEmpty());
  fitNote();
  if (m_strip) m_strip->setInputMismatch(text, datasetInputMismatchBrief(project));
  if (text == m_inputMismatch) return;
  m_inputMismatch = text;
  Q_EMIT inputMismatchChanged(text);
}

void DatasetSettingsPanel::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  fitNote();
}

void DatasetSettingsPanel::fitNote() {
  if (m_mismatchLabel->text().isEmpty()) {
    m_mismatchLabel->setMinimumHeight(0);
    return;
  }
  const int width = std::max(200, contentsRect().width() - 16);  // the grid's side margins
  const int height = m_mismatchLabel->heightForWidth(width);
  if (height > 0 && height != m_mismatchLabel->minimumHeight()) m_mismatchLabel->setMinimumHeight(height);
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
