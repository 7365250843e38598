// SPDX-License-Identifier: GPL-3.0-or-later
// The Dataset dock: picking "image-folder" and a folder are undoable project edits
// shown back by the panel; a short GUI run trains on a generated image folder, and a
// corrupt image fails the run with a message naming the file.
#include <torch/torch.h>

#include <stb/stb_image_write.h>

#include "core/data/dataset_shape.h"
#include "core/graph/project.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QUndoStack>
#include <QtTest>

#include "app/gui/main_window.h"
#include "widgets/document/project_document.h"
#include "widgets/training/dataset_settings_panel.h"
#include "widgets/training/training_settings_panel.h"
#include "widgets/training/training_controller.h"

using namespace qnn;

namespace {

QString examplePath(const char* name) {
  return QStringLiteral(QNN_SOURCE_DIR "/resources/examples/") + QLatin1String(name);
}

/// `count` 20 x 24 RGB PNGs per class in root/<class>/, class c brighter than the others.
void writeFolder(const QString& root, const QStringList& classes, int count) {
  for (int c = 0; c < classes.size(); ++c) {
    QDir().mkpath(root + "/" + classes[c]);
    for (int k = 0; k < count; ++k) {
      std::vector<uint8_t> px(size_t(20 * 24 * 3));
      for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((c * 120 + int(i % 7) * 5 + k) % 256);
      const QString file = root + "/" + classes[c] + "/img" + QString::number(k) + ".png";
      QVERIFY(stbi_write_png(file.toStdString().c_str(), 20, 24, 3, px.data(), 20 * 3) != 0);
    }
  }
}

}  // namespace

class TestGuiDataset : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void datasetEditsAreUndoableCommands();
  void trainsOnAnImageFolder();
  void inputMismatchShowsAsSoonAsTheDatasetChanges();
  void trainIsUnavailableWhileTheDatasetDoesNotFit();
  void settingsBeyondTheFieldsRangeAreNotClamped();
  void mismatchNoteNeverGrowsTheWindow();
  void datasetNamesAreFoldedInOnePlace();
};

void TestGuiDataset::datasetEditsAreUndoableCommands() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  ProjectDocument* doc = w.document();
  DatasetSettingsPanel* panel = w.datasetPanel();
  QVERIFY(panel);
  QVERIFY(w.findChild<QDockWidget*>(QStringLiteral("datasetSettingsDock")));
  QCOMPARE(panel->nameComboBox()->currentData().toString(), QStringLiteral("fashion-mnist"));
  QVERIFY(!panel->fitComboBox()->isEnabled());  // image-folder settings only
  QCOMPARE(panel->padSpinBox()->value(), 2);

  // Pick "image-folder": one undo step, the padding goes to 0 with it.
  QComboBox* name = panel->nameComboBox();
  const int images = name->findData(QStringLiteral("image-folder"));
  QVERIFY(images >= 0);
  name->setCurrentIndex(images);
  Q_EMIT name->activated(images);
  QCOMPARE(doc->project().dataset.name, std::string("image-folder"));
  QCOMPARE(doc->project().dataset.pad, 0);
  QVERIFY(doc->isModified());
  QCOMPARE(doc->undoStack()->undoText(), QStringLiteral("Change dataset"));
  QVERIFY(panel->fitComboBox()->isEnabled());
  QCOMPARE(panel->padSpinBox()->value(), 0);

  // The folder, the fit and the test share.
  panel->folderEdit()->setText(QStringLiteral("/data/my-photos"));
  Q_EMIT panel->folderEdit()->editingFinished();
  QCOMPARE(doc->project().dataset.path, std::string("/data/my-photos"));
  QComboBox* fit = panel->fitComboBox();
  fit->setCurrentIndex(fit->findData(QStringLiteral("pad")));
  Q_EMIT fit->activated(fit->currentIndex());
  QCOMPARE(doc->project().dataset.fit, std::string("pad"));
  panel->testFractionSpinBox()->setValue(0.3);
  QCOMPARE(doc->project().dataset.test_fraction, 0.3);
  // The missing folder is a warning on the settings, not an error.
  bool warned = false;
  for (const Diagnostic& d : doc->validation().diagnostics)
    if (d.node == "dataset" && d.message.find("/data/my-photos") != std::string::npos) warned = true;
  QVERIFY(warned);

  // Undo walks back through the panel too.
  doc->undoStack()->undo();  // test share
  QCOMPARE(doc->project().dataset.test_fraction, 0.2);
  QCOMPARE(panel->testFractionSpinBox()->value(), 0.2);
  doc->undoStack()->undo();  // fit
  doc->undoStack()->undo();  // folder
  QCOMPARE(panel->folderEdit()->text(), QStringLiteral("/usr/share/datasets/fashion-mnist"));
  doc->undoStack()->undo();  // dataset
  QCOMPARE(doc->project().dataset.name, std::string("fashion-mnist"));
  QCOMPARE(doc->project().dataset.pad, 2);
  QCOMPARE(name->currentData().toString(), QStringLiteral("fashion-mnist"));
  QVERIFY(!panel->fitComboBox()->isEnabled());
  doc->undoStack()->redo();
  QCOMPARE(doc->project().dataset.name, std::string("image-folder"));
  QCOMPARE(name->currentData().toString(), QStringLiteral("image-folder"));
}

void TestGuiDataset::inputMismatchShowsAsSoonAsTheDatasetChanges() {
  ProjectDocument doc;
  doc.load(examplePath("lenet_lowprec.qnn.json"));  // Input [1, 32, 32]; Fashion-MNIST padded by 2
  QString inputId;
  for (const LayerSpec& l : doc.project().layers)
    if (l.type == LayerType::Input) inputId = QString::fromStdString(l.id);
  QVERIFY(!inputId.isEmpty());
  // Wired as the main window wires the panel to the document.
  DatasetSettingsPanel panel;
  connect(&panel, &DatasetSettingsPanel::specEdited, &doc,
          [&doc](const DatasetSpec& spec, const QString& field) { doc.changeDataset(spec, field); });
  connect(&doc, &ProjectDocument::datasetChanged, &panel, [&] { panel.setSpec(doc.project().dataset); });
  panel.setSpec(doc.project().dataset);
  TrainingSettingsPanel strip;  // the Training Settings tab, shown in the Train layout
  panel.setDocument(&doc, &strip);
  panel.show();
  strip.show();
  QVERIFY(QTest::qWaitForWindowExposed(&panel));
  QSignalSpy changes(&panel, &DatasetSettingsPanel::inputMismatchChanged);
  QVERIFY(panel.inputMismatch().isEmpty());
  QVERIFY(!panel.inputMismatchLabel()->isVisible());

  // Padding 0: 28 x 28 samples for the 32 x 32 Input, said at once (not at F5), in full sentences.
  panel.padSpinBox()->setValue(0);
  QCOMPARE(doc.project().dataset.pad, 0);
  const QString padText = QStringLiteral(
                              "The dataset Fashion-MNIST gives samples of 1×28×28 (channels × height × width, no "
                              "padding), but the Input layer '%1' takes 1×32×32. Set the dataset padding to 2 (28 + 2 "
                              "x 2 = 32), or set the Input shape to [1, 28, 28].")
                              .arg(inputId);
  QCOMPARE(panel.inputMismatch(), padText);
  QCOMPARE(panel.inputMismatchLabel()->text(), padText);
  QVERIFY(panel.inputMismatchLabel()->isVisible());
  QCOMPARE(changes.count(), 1);
  QCOMPARE(changes.last().at(0).toString(), padText);
  QCOMPARE(datasetInputMismatchText(doc.project()), padText);
  QCOMPARE(strip.inputMismatch(), padText);
  QVERIFY(strip.inputMismatchLabel()->isVisible());

  // CIFAR-10: three channels for a one-channel Input.
  QComboBox* name = panel.nameComboBox();
  name->setCurrentIndex(name->findData(QStringLiteral("cifar10")));
  Q_EMIT name->activated(name->currentIndex());
  QCOMPARE(doc.project().dataset.name, std::string("cifar10"));
  const QString cifar = panel.inputMismatch();
  QVERIFY2(cifar.startsWith(QStringLiteral("The dataset CIFAR-10 gives samples of 3×32×32 (channels × height × width, "
                                           "no padding), but the Input layer '%1' takes 1×32×32. Set the Input "
                                           "shape to [3, 32, 32]")
                                .arg(inputId)),
           qPrintable(cifar));
  QVERIFY(cifar.endsWith(QLatin1Char('.')));
  QVERIFY(panel.inputMismatchLabel()->isVisible());

  // Undo twice: Fashion-MNIST padded by 2 fits again, the note goes.
  doc.undoStack()->undo();
  QCOMPARE(panel.inputMismatch(), padText);
  doc.undoStack()->undo();
  QCOMPARE(doc.project().dataset.pad, 2);
  QVERIFY(panel.inputMismatch().isEmpty());
  QVERIFY(!panel.inputMismatchLabel()->isVisible());
  QVERIFY(!strip.inputMismatchLabel()->isVisible());
  QCOMPARE(changes.last().at(0).toString(), QString());

  // Another project whose Input takes three channels: said as soon as it is open.
  Project rgb = doc.project();
  rgb.input_shape = {3, 32, 32};
  doc.setProject(rgb);
  QVERIFY2(panel.inputMismatch().startsWith(
               QStringLiteral("The dataset Fashion-MNIST gives samples of 1×32×32 (channels × height × width, padded "
                              "by 2 pixels on each side), but the Input layer '%1' takes 3×32×32.")
                   .arg(inputId)),
           qPrintable(panel.inputMismatch()));
  // An image folder is fitted to the Input: nothing to say.
  DatasetSpec folder = doc.project().dataset;
  folder.name = "image-folder";
  folder.pad = 0;
  QVERIFY(doc.changeDataset(folder, QStringLiteral("dataset")));
  QVERIFY(panel.inputMismatch().isEmpty());
  QVERIFY(!panel.inputMismatchLabel()->isVisible());
}

void TestGuiDataset::datasetNamesAreFoldedInOnePlace() {
  // canonical_dataset_name: the one spelling rule for load_dataset and the shape check.
  QCOMPARE(canonical_dataset_name("Fashion_MNIST"), std::string("fashion-mnist"));
  QCOMPARE(canonical_dataset_name("fashion mnist"), std::string("fashion-mnist"));
  QCOMPARE(canonical_dataset_name("MNIST"), std::string("mnist"));
  QCOMPARE(canonical_dataset_name("CIFAR-10"), std::string("cifar10"));
  QCOMPARE(canonical_dataset_name("Image_Folder"), std::string("image-folder"));
  QCOMPARE(canonical_dataset_name("svhn"), std::string());
  QCOMPARE(dataset_image_shape("Fashion_MNIST"), (std::vector<int64_t>{1, 28, 28}));
  QCOMPARE(dataset_image_shape("CIFAR 10"), (std::vector<int64_t>{3, 32, 32}));
  QVERIFY(dataset_image_shape("image-folder").empty());
  QVERIFY(dataset_image_shape("svhn").empty());
}

void TestGuiDataset::trainsOnAnImageFolder() {
  QTemporaryDir tmp;
  QVERIFY(tmp.isValid());
  const QString root = tmp.filePath(QStringLiteral("photos"));
  writeFolder(root, {QStringLiteral("cats"), QStringLiteral("dogs")}, 10);

  MainWindow w;
  w.show();
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));  // input [1, 32, 32], 10 outputs
  Project p = w.document()->project();
  p.training.threads = 1;
  p.training.epochs = 1;
  p.training.batch_size = 8;
  w.document()->setProject(p, w.document()->filePath());
  DatasetSettingsPanel* panel = w.datasetPanel();
  QComboBox* name = panel->nameComboBox();
  name->setCurrentIndex(name->findData(QStringLiteral("image-folder")));
  Q_EMIT name->activated(name->currentIndex());
  panel->folderEdit()->setText(root);
  Q_EMIT panel->folderEdit()->editingFinished();

  TrainingController* controller = w.trainingController();
  QSignalSpy finished(controller, &TrainingController::finished);
  QSignalSpy failed(controller, &TrainingController::failed);
  w.findChild<QAction*>(QStringLiteral("trainAction"))->trigger();
  QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 120000);
  QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));
  QCOMPARE(finished.count(), 1);
  const auto summary = finished.first().first().value<TrainingSummary>();
  QCOMPARE(summary.classNames, (QStringList{QStringLiteral("cats"), QStringLiteral("dogs")}));

  // A corrupt image: the run fails and the message names the file.
  QFile bad(root + "/dogs/broken.png");
  QVERIFY(bad.open(QIODevice::WriteOnly));
  bad.write("\x89PNG\r\n\x1a\n-truncated");
  bad.close();
  panel->testFractionSpinBox()->setValue(0.25);  // a new setting: the run loads the folder again
  w.findChild<QAction*>(QStringLiteral("trainAction"))->trigger();
  QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 60000);
  QCOMPARE(failed.count(), 1);
  const QString message = failed.first().first().toString();
  QVERIFY2(message.contains(QStringLiteral("dogs/broken.png")) && message.contains(QStringLiteral("PNG")),
           qPrintable(message));
  QMessageBox* box = nullptr;
  QTRY_VERIFY((box = w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox"))) && box->isVisible());
  box->close();
}

void TestGuiDataset::trainIsUnavailableWhileTheDatasetDoesNotFit() {
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));  // Input [1, 32, 32], padding 2
  auto* train = w.findChild<QAction*>(QStringLiteral("trainAction"));
  auto* panel = w.findChild<DatasetSettingsPanel*>(QStringLiteral("datasetSettings"));
  QVERIFY(train && panel);
  QVERIFY(train->isEnabled());
  panel->padSpinBox()->setValue(0);  // 28 x 28 samples for the 32 x 32 Input
  QVERIFY(!train->isEnabled());
  QVERIFY2(train->toolTip().startsWith(QStringLiteral("The dataset Fashion-MNIST gives samples of 1×28×28")),
           qPrintable(train->toolTip()));
  // F5's slot itself (the shortcut is off with the action) refuses before reading data.
  w.startTraining();
  QVERIFY(!w.trainingController()->isRunning());
  QVERIFY2(w.lastError().startsWith(QStringLiteral("The dataset Fashion-MNIST gives samples of 1×28×28")),
           qPrintable(w.lastError()));
  if (auto* box = w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox"))) box->close();
  w.document()->undoStack()->undo();  // padding 2 again: the samples fit
  QCOMPARE(w.document()->project().dataset.pad, 2);
  QVERIFY(train->isEnabled());
  QVERIFY(!train->toolTip().contains(QStringLiteral("dataset")));
}

void TestGuiDataset::settingsBeyondTheFieldsRangeAreNotClamped() {
  // A project file may say lr 1e6 (a divergence experiment) or 1e-8: the panel shows and
  // runs exactly that (the CLI does), instead of the spin boxes' usual 1e-6 .. 10.
  TrainingSettingsPanel panel;
  TrainingSpec spec;
  spec.learning_rate = 1e6;
  spec.batch_size = 100000;
  spec.epochs = 5;
  panel.setSpec(spec, DatasetSpec());
  QCOMPARE(panel.options().spec.learning_rate, 1e6);
  QCOMPARE(panel.options().spec.batch_size, int64_t(100000));
  spec.learning_rate = 2.5e-8;
  panel.setSpec(spec, DatasetSpec());
  QVERIFY2(std::abs(panel.options().spec.learning_rate / 2.5e-8 - 1.0) < 1e-9,
           qPrintable(QString::number(panel.options().spec.learning_rate)));
}

void TestGuiDataset::mismatchNoteNeverGrowsTheWindow() {
  // On a 1366 x 768 screen the window is 1229 x 703 (90 %); the red note of a dataset
  // that does not fit the Input must find room inside it, not push the window taller
  // than the screen (its status bar off the bottom).
  MainWindow w;
  w.resize(1229, 703);
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  QTest::qWait(50);
  const QSize before = w.size();
  auto* panel = w.findChild<DatasetSettingsPanel*>(QStringLiteral("datasetSettings"));
  QVERIFY(panel);
  panel->padSpinBox()->setValue(0);
  QVERIFY(!panel->inputMismatch().isEmpty());
  QTest::qWait(50);
  QCOMPARE(w.size(), before);
  QVERIFY2(w.minimumSizeHint().height() <= 703, qPrintable(QString::number(w.minimumSizeHint().height())));
  // ...and it shows in full in the Training Settings tab (the strip took the room from the
  // curves below it), not scrolled out of sight.
  auto* strip = w.findChild<TrainingSettingsPanel*>(QStringLiteral("trainingSettings"));
  QVERIFY(strip);
  QLabel* note = strip->inputMismatchLabel();
  QVERIFY(note->isVisible());
  const QRect seen = note->visibleRegion().boundingRect();
  QCOMPARE(seen.height(), note->height());  // every line of it
  QVERIFY2(seen.width() >= note->width() * 95 / 100, qPrintable(QString::number(seen.width())));
  w.document()->undoStack()->undo();
  QTest::qWait(50);
  QCOMPARE(w.size(), before);
}

QTEST_MAIN(TestGuiDataset)
#include "test_gui_dataset.moc"
