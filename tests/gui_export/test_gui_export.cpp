// SPDX-License-Identifier: GPL-3.0-or-later
// File > Export…: the dialog's pre-flight list, an export with verification on a
// briefly trained model, and the menu entry. Torch and core headers come before Qt.
#include <torch/torch.h>

#include <filesystem>

#include "core/graph/project.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QLineEdit>
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
