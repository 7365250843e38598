// SPDX-License-Identifier: GPL-3.0-or-later
// File > Export…: the dialog's pre-flight list, an export with verification on a
// briefly trained model, and the menu entry. Torch and core headers come before Qt.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/inspect/inspect.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QUndoStack>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include "app/gui/export_dialog.h"
#include "app/gui/main_window.h"
#include "widgets/document/project_document.h"
#include "widgets/inspect/inspection_panel.h"
#include "widgets/node_editor/graph_view.h"
#include "widgets/training/training_controller.h"

using namespace qnn;

class TestGuiExport : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void exportsAndVerifiesFromTheDialog() {
    QTemporaryDir dir;
    MainWindow w;
    QVERIFY(w.openProject(QStringLiteral(QNN_SOURCE_DIR "/resources/examples/lenet_lowprec.qnn.json")));
    Project p = w.document()->project();
    p.training.threads = 1;
    w.document()->setProject(p, w.document()->filePath());
    w.show();
    QAction* action = w.findChild<QAction*>(QStringLiteral("exportAction"));
    QVERIFY(action);
    w.setRunLimits(2000, 300, 30);
    w.setEpochs(1);
    w.startTraining();
    QTRY_VERIFY_WITH_TIMEOUT(w.trainingController()->hasModel() && !w.trainingController()->isRunning(), 300000);

    ExportDialog dialog(w.trainingController()->model(), w.document()->filePath(), &w);
    dialog.show();
    auto* format = dialog.findChild<QComboBox*>(QStringLiteral("exportFormat"));
    auto* path = dialog.findChild<QLineEdit*>(QStringLiteral("exportPath"));
    auto* preflight = dialog.findChild<QListWidget*>(QStringLiteral("exportPreflight"));
    auto* button = dialog.findChild<QPushButton*>(QStringLiteral("exportButton"));
    QVERIFY(format && path && preflight && button);
    QVERIFY(path->text().endsWith(QStringLiteral("lenet_lowprec.onnx")));
    QCOMPARE(preflight->count(), 1);  // "Nothing to report"
    QVERIFY(button->isEnabled());

    const QString file = dir.filePath(QStringLiteral("gui.onnx"));
    path->setText(file);
    dialog.findChild<QSpinBox*>()->setValue(200);
    QSignalSpy done(&dialog, &ExportDialog::exportFinished);
    QTest::mouseClick(button, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(done.count() == 1, 120000);
    // The verdict itself is tested in tests/export; here: the dialog ran ONNX Runtime
    // and shows agreement and the difference in output-scale steps. (A model this
    // briefly trained can have an activation within float rounding of a .5 boundary,
    // where LibTorch and ONNX Runtime round differently.)
    QVERIFY2(dialog.resultText().contains(QStringLiteral("onnxruntime-node")), qPrintable(dialog.resultText()));
    QVERIFY(dialog.resultText().contains(QStringLiteral("agreement")));
    QVERIFY(dialog.resultText().contains(QStringLiteral("output-scale steps")));
    QVERIFY(QFile::exists(file));
    if (qEnvironmentVariableIsSet("QNN_EXPORT_SCREENSHOT"))
      dialog.grab().save(qEnvironmentVariable("QNN_EXPORT_SCREENSHOT"));

    format->setCurrentIndex(2);  // packed: the suffix follows
    QVERIFY(path->text().endsWith(QStringLiteral("gui.qnnpk")));
    QTest::mouseClick(button, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(done.count() == 2, 120000);
    QVERIFY2(done.at(1).at(0).toBool(), qPrintable(dialog.resultText()));
    QVERIFY(dialog.resultText().contains(QStringLiteral("bytes = 1/")));
  }

  void foldBatchNormIsOneUndoStepKeepingTheModel() {
    MainWindow w;
    QVERIFY(w.openProject(QStringLiteral(QNN_SOURCE_DIR "/resources/examples/tfc_w2a2.qnn.json")));
    Project p = w.document()->project();
    p.training.threads = 1;
    w.document()->setProject(p, w.document()->filePath());
    w.show();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QAction* fold = w.findChild<QAction*>(QStringLiteral("foldBatchNormAction"));
    QVERIFY(fold && fold->isEnabled());

    // Without a trained model: an explanation, and the graph is untouched.
    QTest::keyClick(w.graphView(), Qt::Key_B, Qt::ControlModifier | Qt::ShiftModifier);
    QTRY_VERIFY(w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox")));
    QVERIFY2(w.lastError().contains(QStringLiteral("train it first")), qPrintable(w.lastError()));
    w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox"))->close();
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QCOMPARE(w.document()->undoStack()->count(), 0);

    w.setRunLimits(2000, 300, 20);
    w.setEpochs(1);
    w.startTraining();
    QTRY_VERIFY_WITH_TIMEOUT(w.trainingController()->hasModel() && !w.trainingController()->isRunning(), 300000);
    const std::shared_ptr<QuantModelImpl> trained = w.trainingController()->model();
    const size_t layers = w.document()->project().layers.size();
    torch::Tensor x = torch::rand({8, 1, 28, 28});
    QuantModel before(trained);
    before->eval();
    before->set_quant_enabled(false);
    const torch::Tensor y_before = before->forward(x).detach().clone();
    before->set_quant_enabled(true);

    const QString errorBefore = w.lastError();
    QTest::keyClick(w.graphView(), Qt::Key_B, Qt::ControlModifier | Qt::ShiftModifier);
    QVERIFY2(w.lastError() == errorBefore, qPrintable(w.lastError()));
    QCOMPARE(w.document()->undoStack()->count(), 1);
    QCOMPARE(w.document()->project().layers.size(), layers - 3);
    QVERIFY(!w.document()->layer(QStringLiteral("bn1")));
    QCOMPARE(w.document()->layer(QStringLiteral("act1"))->inputs.at(0), std::string("fc1"));
    // The model stays: the folded one, of the document's network, computing the same
    // float function (quantizers off).
    const std::shared_ptr<QuantModelImpl> folded = w.trainingController()->model();
    QVERIFY(folded && folded != trained);
    QVERIFY(network_difference(folded->project(), w.document()->project()).empty());
    QuantModel after(folded);
    after->set_quant_enabled(false);
    QVERIFY(torch::allclose(after->forward(x), y_before, 1e-4, 1e-4));
    after->set_quant_enabled(true);
    QVERIFY(w.findChild<QAction*>(QStringLiteral("saveCheckpointAction"))->isEnabled());
    // The inspection views show the folded layers: no BatchNorm, and fc1's new Int32Bias.
    // The old report is gone at once (cleared), the folded model's arrives.
    QTRY_VERIFY_WITH_TIMEOUT(w.inspectionPanel()->reportsReceived() > 0, 60000);
    auto has_layer = [](const InspectionReportPtr& r, const std::string& id) {
      return std::any_of(r->errors.begin(), r->errors.end(), [&](const inspect::LayerError& e) { return e.layer == id; });
    };
    QVERIFY(!has_layer(w.inspectionPanel()->report(), "bn1"));
    QVERIFY(has_layer(w.inspectionPanel()->report(), "fc1"));
    auto* status = w.findChild<QLabel*>(QStringLiteral("statusLabel"));
    QVERIFY2(status->text().contains(QStringLiteral("the folded model predicts as before on ")), qPrintable(status->text()));

    // Undo brings back the BatchNorm layers and the trained model; redo the folded one.
    QTest::keyClick(w.graphView(), Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(w.document()->project().layers.size(), layers);
    QVERIFY(w.document()->layer(QStringLiteral("bn1")));
    QCOMPARE(w.trainingController()->model(), trained);
    // ... and the views show the unfolded model again (its report, its test accuracy).
    QTRY_VERIFY_WITH_TIMEOUT(w.inspectionPanel()->report() && has_layer(w.inspectionPanel()->report(), "bn1"), 60000);
    QVERIFY2(w.findChild<QLabel*>(QStringLiteral("testAccuracyLabel"))->text().contains(QStringLiteral("(")),
             qPrintable(w.findChild<QLabel*>(QStringLiteral("testAccuracyLabel"))->text()));
    QVERIFY(!w.findChild<QLabel*>(QStringLiteral("testAccuracyLabel"))->text().contains(QStringLiteral("not evaluated")));
    QTest::keyClick(w.graphView(), Qt::Key_Y, Qt::ControlModifier);
    QCOMPARE(w.trainingController()->model(), folded);
    QVERIFY(!fold->isEnabled());  // nothing left to fold
  }

  void exportDialogFoldsBatchNorm() {
    MainWindow w;
    QVERIFY(w.openProject(QStringLiteral(QNN_SOURCE_DIR "/resources/examples/tfc_w2a2.qnn.json")));
    Project p = w.document()->project();
    p.training.threads = 1;
    w.document()->setProject(p, QString());
    w.setRunLimits(2000, 300, 20);
    w.setEpochs(1);
    w.startTraining();
    QTRY_VERIFY_WITH_TIMEOUT(w.trainingController()->hasModel() && !w.trainingController()->isRunning(), 300000);
    QTemporaryDir dir;
    ExportDialog dialog(w.trainingController()->model(), QString(), &w);
    dialog.show();
    auto* format = dialog.findChild<QComboBox*>(QStringLiteral("exportFormat"));
    auto* foldBox = dialog.findChild<QCheckBox*>(QStringLiteral("exportFoldBn"));
    auto* preflight = dialog.findChild<QListWidget*>(QStringLiteral("exportPreflight"));
    auto* button = dialog.findChild<QPushButton*>(QStringLiteral("exportButton"));
    QVERIFY(format && foldBox && preflight && button);
    QVERIFY(foldBox->isEnabled() && !foldBox->isChecked());
    format->setCurrentIndex(2);  // packed refuses BatchNorm...
    QVERIFY(!button->isEnabled());
    QVERIFY(preflight->item(0)->text().contains(QStringLiteral("bn1")));
    QTest::mouseClick(foldBox, Qt::LeftButton);  // ...unless it is folded
    QVERIFY(foldBox->isChecked());
    QVERIFY2(button->isEnabled(), qPrintable(preflight->item(0)->text()));
    dialog.findChild<QLineEdit*>(QStringLiteral("exportPath"))->setText(dir.filePath(QStringLiteral("tfc.qnnpk")));
    dialog.findChild<QSpinBox*>()->setValue(200);
    QSignalSpy done(&dialog, &ExportDialog::exportFinished);
    QTest::mouseClick(button, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(done.count() == 1, 120000);
    QVERIFY2(done.at(0).at(0).toBool(), qPrintable(dialog.resultText()));
    QVERIFY(dialog.resultText().contains(QStringLiteral("Folded 3 BatchNorm layer(s)")));
    QVERIFY2(dialog.resultText().contains(QStringLiteral("he folded model predicts as before on ")),
             qPrintable(dialog.resultText()));
    QVERIFY(QFile::exists(dir.filePath(QStringLiteral("tfc.qnnpk"))));
    // The trained model itself is not folded.
    QVERIFY(w.trainingController()->model()->project().find("bn1"));
  }

  void loadWeightsMakesABrevitasModelCurrent() {
    MainWindow w;
    QVERIFY(w.openProject(QStringLiteral(QNN_SOURCE_DIR "/resources/examples/lenet_lowprec.qnn.json")));
    w.show();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QAction* load = w.findChild<QAction*>(QStringLiteral("loadWeightsAction"));
    QVERIFY(load && load->isEnabled());
    QVERIFY(!w.trainingController()->hasModel());
    const int reports = w.inspectionPanel()->reportsReceived();
    w.loadWeights(QStringLiteral(QNN_SOURCE_DIR "/tests/data/golden/lowprec_lenet_brevitas_state_dict.pt"));
    QVERIFY2(w.lastError().isEmpty(), qPrintable(w.lastError()));
    QVERIFY(w.trainingController()->hasModel());
    QVERIFY(w.findChild<QAction*>(QStringLiteral("saveCheckpointAction"))->isEnabled());
    auto* status = w.findChild<QLabel*>(QStringLiteral("statusLabel"));
    QVERIFY2(status->text().contains(QStringLiteral("loaded 9 tensor(s)")), qPrintable(status->text()));
    QVERIFY(status->toolTip().contains(QStringLiteral("relu4.act_quant")));
    QTRY_VERIFY_WITH_TIMEOUT(w.inspectionPanel()->reportsReceived() > reports, 60000);
    // The model computes what Brevitas computed (the golden case of the same file).
    std::ifstream in(QNN_SOURCE_DIR "/tests/data/golden/model_eval_checkpoint_lowprec_lenet_in1.json");
    const auto c = nlohmann::json::parse(in);
    auto tensor = [&](const char* key) {
      std::vector<float> v;
      for (const auto& x : c.at("tensors").at(key).at("data")) v.push_back(x.get<float>());
      return torch::tensor(v).reshape(c.at("tensors").at(key).at("shape").get<std::vector<int64_t>>());
    };
    QuantModel m(w.trainingController()->model());
    m->eval();
    torch::NoGradGuard g;
    QVERIFY((m->forward(tensor("input")) - tensor("logits")).abs().max().item<double>() < 1e-4);

    // A file of another network: a specific message; the loaded model stays.
    Project other = w.document()->project();
    other.find("fc1")->set_param("out_features", 100);
    other.find("fc2")->set_param("in_features", 100);
    w.document()->setProject(other, QString());
    w.loadWeights(QStringLiteral(QNN_SOURCE_DIR "/tests/data/golden/lowprec_lenet_brevitas_state_dict.pt"));
    QVERIFY2(w.lastError().contains(QStringLiteral("fc1.weight has shape [120, 400] in the file, [100, 400] in the model")),
             qPrintable(w.lastError()));
  }

  // File > Import Model: a QONNX file becomes an untitled project whose model is
  // current and inspected; a file with an unsupported node opens for inspection only;
  // a file that is not ONNX leaves the open project as it was.
  void importModelOpensTheFileAsAProject() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QAction* import = w.findChild<QAction*>(QStringLiteral("importModelAction"));
    QVERIFY(import && import->isEnabled());
    QCOMPARE(import->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_I));
    const QString tfc = QStringLiteral(QNN_SOURCE_DIR "/tests/data/models/TFC_2W2A.onnx");
    int reports = w.inspectionPanel()->reportsReceived();
    w.importModel(tfc);
    QVERIFY2(w.lastError().isEmpty(), qPrintable(w.lastError()));
    QCOMPARE(w.document()->project().layers.size(), size_t(16));
    QVERIFY(w.document()->filePath().isEmpty());  // untitled: Save asks where
    QVERIFY(w.trainingController()->hasModel());
    auto* status = w.findChild<QLabel*>(QStringLiteral("statusLabel"));
    QVERIFY2(status->text().startsWith(QStringLiteral("Imported TFC_2W2A.onnx (QONNX): 16 layer(s)")),
             qPrintable(status->text()));
    QVERIFY(status->toolTip().contains(QStringLiteral("Mul_7, Sub_9")));
    QTRY_VERIFY_WITH_TIMEOUT(w.inspectionPanel()->reportsReceived() > reports, 60000);
    // The model evaluates what the file computes: the first layer's weight codes in
    // {-1, 0, 1} at scale 1 (2-bit signed narrow).
    {
      QuantModel m(w.trainingController()->model());
      const auto tensors = named_tensors(*m);
      QVERIFY(tensors.count("MatMul_20.weight_quant.value"));
      QCOMPARE(tensors.at("MatMul_20.weight_quant.value").item<float>(), 1.0f);
    }

    // An op no layer maps to: opened for inspection only, weights in the dock.
    QTemporaryDir dir;
    std::ifstream in(tfc.toStdString(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string op = std::string("\x22\x12") + "BatchNormalization";  // op_type field, 18 bytes
    const size_t at = bytes.find(op);
    QVERIFY(at != std::string::npos);
    bytes.replace(at + 2, 18, "MeanVarianceNormal");
    const QString odd = dir.filePath(QStringLiteral("odd.onnx"));
    std::ofstream(odd.toStdString(), std::ios::binary) << bytes;
    w.importModel(odd);
    QVERIFY2(w.lastError().contains(QStringLiteral("not supported: MeanVarianceNormal at node BatchNormalization_21")),
             qPrintable(w.lastError()));
    QVERIFY(w.lastError().contains(QStringLiteral("inspection")) || status->text().contains(QStringLiteral("inspection only")));
    QVERIFY(!w.trainingController()->hasModel());
    // The weights-only report, at once: four weight quantizers, no activations.
    QVERIFY(w.inspectionPanel()->report());
    QCOMPARE(w.inspectionPanel()->report()->weights.size(), size_t(4));
    QCOMPARE(w.inspectionPanel()->report()->weights[0].layer, std::string("MatMul_20"));
    QVERIFY(w.inspectionPanel()->report()->activations.empty());
    auto* combo = w.inspectionPanel()->findChild<QComboBox*>(QStringLiteral("layerCombo"));
    QCOMPARE(combo->count(), 4);
    QCOMPARE(combo->itemData(0).toString(), QStringLiteral("MatMul_20"));
    QVERIFY(w.inspectionPanel()->findChild<QLabel*>(QStringLiteral("inspectionSummary"))
                ->text()
                .startsWith(QStringLiteral("weights only: 4 weight quantizer(s)")));
    if (auto* box = w.findChild<QMessageBox*>(QStringLiteral("errorMessageBox"))) box->close();

    // Not ONNX: a specific message; the open project stays.
    const Project before = w.document()->project();
    w.importModel(QStringLiteral(QNN_SOURCE_DIR "/README.md"));
    QVERIFY2(w.lastError().contains(QStringLiteral("README.md: not an ONNX model")), qPrintable(w.lastError()));
    QVERIFY(w.document()->project() == before);
  }

  void preflightErrorDisablesExport() {
    // A 16-bit weight layer cannot go to QCDQ: listed as an error, Export disabled.
    // The model needs no training for the pre-flight (it reads only the project).
    MainWindow w;
    QVERIFY(w.openProject(QStringLiteral(QNN_SOURCE_DIR "/resources/examples/lenet_lowprec.qnn.json")));
    Project p = w.document()->project();
    p.find("fc1")->weight_quant->bit_width = 16;
    p.training.threads = 1;
    w.document()->setProject(p, QString());
    w.setRunLimits(200, 100, 2);
    w.setEpochs(1);
    w.startTraining();
    QTRY_VERIFY_WITH_TIMEOUT(w.trainingController()->hasModel() && !w.trainingController()->isRunning(), 300000);
    ExportDialog dialog(w.trainingController()->model(), QString(), &w);
    auto* preflight = dialog.findChild<QListWidget*>(QStringLiteral("exportPreflight"));
    auto* button = dialog.findChild<QPushButton*>(QStringLiteral("exportButton"));
    QVERIFY(preflight->item(0)->text().contains(QStringLiteral("fc1")));
    QVERIFY(preflight->item(0)->text().contains(QStringLiteral("16-bit")));
    QVERIFY(!button->isEnabled());
    dialog.findChild<QComboBox*>(QStringLiteral("exportFormat"))->setCurrentIndex(2);  // packed holds 16 bits
    QVERIFY(button->isEnabled());
  }
};

QTEST_MAIN(TestGuiExport)
#include "test_gui_export.moc"
