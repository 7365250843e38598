// SPDX-License-Identifier: GPL-3.0-or-later
// Issue 14, item 5 on the command line: `qnn inspect` reports the optimizer steps the
// checkpoint was trained for; `qnn summary` marks a partial MACs total on an invalid
// graph; `qnn validate` (and `qnn train`, before reading any data) refuses a dataset
// the Input layer cannot take. Run from test_cli.cpp's main.
#include <torch/torch.h>

#include <memory>

#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/graph/validate.h"
#include "core/train/checkpoint.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include "tests/cli_run.h"

namespace {

using qnn_test::CliRun;

CliRun runQnn(const QStringList& args, int timeoutMs = 180000) { return qnn_test::runQnn(args, timeoutMs); }

QString examplePath(const char* name) {
  return QStringLiteral(QNN_SOURCE_DIR) + "/resources/examples/" + name + ".qnn.json";
}

QJsonObject readJson(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}

bool writeJson(const QString& path, const QJsonObject& o) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly) && f.write(QJsonDocument(o).toJson()) > 0;
}

/// `project` with layer `id`'s params[key] = value.
QJsonObject withLayerParam(QJsonObject project, const QString& id, const QString& key, int value) {
  QJsonArray layers = project["layers"].toArray();
  for (int i = 0; i < layers.size(); ++i) {
    QJsonObject l = layers[i].toObject();
    if (l["id"].toString() != id) continue;
    QJsonObject params = l["params"].toObject();
    params[key] = value;
    l["params"] = params;
    layers[i] = l;
  }
  project["layers"] = layers;
  return project;
}

/// The rows of a CSV file (header included), split at commas.
QList<QStringList> csvRows(const QString& path) {
  QFile f(path);
  QList<QStringList> rows;
  if (!f.open(QIODevice::ReadOnly)) return rows;
  for (const QString& line : QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts)) rows << line.split(',');
  return rows;
}

}  // namespace

class TestCliHonest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { QVERIFY(m_dir.isValid()); }
  void inspectGivesTheOptimizerStepsOfTheCheckpoint();
  void summaryMarksThePartialMacsOfAnInvalidGraph();
  void validateRefusesAThreeChannelInputWithFashionMnist();
  void validateRefusesAPaddingOfTheWrongSize();

 private:
  QTemporaryDir m_dir;
};

void TestCliHonest::inspectGivesTheOptimizerStepsOfTheCheckpoint() {
  // 1000 training samples in batches of 64: 15 full batches and one of 40 (no
  // BatchNorm, nothing dropped) = 16 optimizer steps per epoch, 2 epochs.
  const int samples = 1000, batch = 64, epochs = 2;
  const int expected = epochs * ((samples + batch - 1) / batch);
  const QString ckpt = m_dir.filePath("steps.qnnckpt");
  const CliRun t = runQnn({"train", examplePath("lenet_lowprec"), "--epochs", QString::number(epochs), "--batch-size",
                           QString::number(batch), "--train-limit", QString::number(samples), "--test-limit", "100",
                           "--threads", "2", "--checkpoint", ckpt});
  QVERIFY2(t.code == 0, qPrintable(t.text()));
  QVERIFY2(t.out.contains(QStringLiteral("saved checkpoint %1 (%2 optimizer steps)").arg(ckpt).arg(expected)),
           qPrintable(t.text()));

  const QString out = m_dir.filePath("inspect_steps");
  const CliRun r = runQnn({"inspect", examplePath("lenet_lowprec"), "--checkpoint", ckpt, "--out", out, "--samples",
                           "32", "--test-limit", "64", "--threads", "2"});
  QVERIFY2(r.code == 0, qPrintable(r.text()));
  // The report header: the first line names the step count.
  QVERIFY2(r.out.startsWith(QStringLiteral("checkpoint %1: trained for %2 optimizer steps\n").arg(ckpt).arg(expected)),
           qPrintable(r.text()));
  // summary.csv: its step column.
  const QList<QStringList> summary = csvRows(QDir(out).filePath("summary.csv"));
  QCOMPARE(summary.size(), 2);
  const int stepColumn = int(summary[0].indexOf(QStringLiteral("step")));
  QVERIFY(stepColumn >= 0);
  QCOMPARE(summary[1].value(stepColumn), QString::number(expected));
  // scales.csv (the scale history): every row at that step.
  const QList<QStringList> scales = csvRows(QDir(out).filePath("scales.csv"));
  QVERIFY(scales.size() > 1);
  QCOMPARE(scales[0].value(0), QStringLiteral("step"));
  for (int i = 1; i < scales.size(); ++i) QCOMPARE(scales[i].value(0), QString::number(expected));

  // A checkpoint that records no step count (saved without one) says so instead of
  // claiming step 0.
  const QString old = m_dir.filePath("no_steps.qnnckpt");
  {
    qnn::QuantModel model = qnn::build_model(qnn::load_project(examplePath("lenet_lowprec").toStdString()));
    qnn::save_checkpoint(model, old.toStdString());
  }
  const QString out2 = m_dir.filePath("inspect_no_steps");
  const CliRun u = runQnn({"inspect", examplePath("lenet_lowprec"), "--checkpoint", old, "--out", out2, "--samples",
                           "16", "--test-limit", "32", "--threads", "2"});
  QVERIFY2(u.code == 0, qPrintable(u.text()));
  QVERIFY2(u.out.startsWith(QStringLiteral("checkpoint %1: optimizer steps not recorded").arg(old)), qPrintable(u.text()));
  const QList<QStringList> summary2 = csvRows(QDir(out2).filePath("summary.csv"));
  QCOMPARE(summary2.size(), 2);
  QCOMPARE(summary2[1].value(stepColumn), QStringLiteral("-1"));
}

void TestCliHonest::summaryMarksThePartialMacsOfAnInvalidGraph() {
  // conv2 told it gets 7 channels (it gets 6): conv2 and everything after it lose
  // their shapes.
  const QString path = m_dir.filePath("broken.qnn.json");
  QVERIFY(writeJson(path, withLayerParam(readJson(examplePath("lenet_lowprec")), "conv2", "in_channels", 7)));
  const qnn::Project p = qnn::load_project(path.toStdString());
  const qnn::ValidationResult v = qnn::validate(p);
  QVERIFY(!v.ok());
  int withoutShape = 0;
  for (const qnn::LayerSpec& l : p.layers) {
    const bool weighted = l.type == qnn::LayerType::QuantConv2d || l.type == qnn::LayerType::QuantLinear ||
                          l.type == qnn::LayerType::Conv2d || l.type == qnn::LayerType::Linear ||
                          l.type == qnn::LayerType::BatchNorm2d;
    if (weighted && !v.nodes.count(l.id)) ++withoutShape;
  }
  QCOMPARE(withoutShape, 4);  // conv2, fc1, fc2, fc3
  const int64_t conv1Macs = 6 * 28 * 28 * 1 * 5 * 5;  // the only layer with weights and a shape

  const CliRun r = runQnn({"summary", path});
  QVERIFY2(r.code == 1, qPrintable(r.text()));
  QVERIFY2(r.out.contains(QStringLiteral(", >= %1 MACs per sample (partial: %2 layers without shapes);")
                              .arg(conv1Macs)
                              .arg(withoutShape)),
           qPrintable(r.text()));
  // A valid graph: the plain total.
  const CliRun ok = runQnn({"summary", examplePath("lenet_lowprec")});
  QVERIFY2(ok.code == 0, qPrintable(ok.text()));
  QVERIFY2(!ok.out.contains(QStringLiteral("partial")) && !ok.out.contains(QStringLiteral(">=")), qPrintable(ok.text()));
}

void TestCliHonest::validateRefusesAThreeChannelInputWithFashionMnist() {
  // Input [3, 32, 32] (conv1 takes 3 channels: the graph itself is valid) with
  // Fashion-MNIST, whose folder does not exist: the mismatch must be found without
  // reading it.
  QJsonObject o = withLayerParam(readJson(examplePath("lenet_lowprec")), "conv1", "in_channels", 3);
  o["input"] = QJsonObject{{"shape", QJsonArray{3, 32, 32}}};
  QJsonObject dataset = o["dataset"].toObject();
  const QString missing = m_dir.filePath("no-such-dataset-folder");
  dataset["path"] = missing;
  o["dataset"] = dataset;
  const QString path = m_dir.filePath("rgb_input.qnn.json");
  QVERIFY(writeJson(path, o));

  const CliRun r = runQnn({"validate", path});
  QCOMPARE(r.code, 1);
  const QString first = r.out.section('\n', 0, 0);
  QVERIFY2(first.startsWith(QStringLiteral("error: input: the Input layer 'input' takes samples of shape [3, 32, 32] "
                                           "but the dataset fashion-mnist gives [1, 32, 32] (1-channel 28x28 images "
                                           "padded by 2 on each side): 3 channel(s) in the Input, 1 in the dataset")),
           qPrintable(r.text()));
  QVERIFY2(first.contains(QStringLiteral("(hint: set the Input shape to [1, 32, 32] (and the first layer's in_channels "
                                         "to 1), or choose a 3-channel dataset (cifar10))")),
           qPrintable(r.text()));
  QVERIFY2(r.out.contains(QStringLiteral("invalid: ")), qPrintable(r.text()));

  // `qnn train` stops at the same message before opening any data file (the folder
  // does not exist: reading would fail with "file not found" first).
  const CliRun t = runQnn({"train", path, "--epochs", "1", "--train-limit", "64", "--threads", "1"});
  QVERIFY2(t.code != 0, qPrintable(t.text()));
  QVERIFY2(t.err.contains(QStringLiteral("the Input layer 'input' takes samples of shape [3, 32, 32] but the dataset "
                                         "fashion-mnist gives [1, 32, 32]")),
           qPrintable(t.text()));
  QVERIFY2(!t.err.contains(missing), qPrintable(t.text()));
}

void TestCliHonest::validateRefusesAPaddingOfTheWrongSize() {
  // Input [1, 32, 32] with Fashion-MNIST padded by 0: 28x28 samples.
  QJsonObject o = readJson(examplePath("lenet_lowprec"));
  QJsonObject dataset = o["dataset"].toObject();
  dataset["pad"] = 0;
  o["dataset"] = dataset;
  const QString path = m_dir.filePath("pad0.qnn.json");
  QVERIFY(writeJson(path, o));
  const CliRun r = runQnn({"validate", path});
  QCOMPARE(r.code, 1);
  QVERIFY2(r.out.startsWith(QStringLiteral("error: input: the Input layer 'input' takes samples of shape [1, 32, 32] "
                                           "but the dataset fashion-mnist gives [1, 28, 28] (1-channel 28x28 images "
                                           "padded by 0 on each side): 32x32 in the Input, 28x28 after padding (hint: "
                                           "set the dataset padding to 2 (28 + 2 x 2 = 32), or set the Input shape to "
                                           "[1, 28, 28])\n")),
           qPrintable(r.text()));
  // The example itself (pad 2) passes.
  const CliRun ok = runQnn({"validate", examplePath("lenet_lowprec")});
  QVERIFY2(ok.code == 0 && !ok.out.contains(QStringLiteral("Input layer")), qPrintable(ok.text()));
}

std::unique_ptr<QObject> makeCliHonestTests() { return std::make_unique<TestCliHonest>(); }

#include "test_cli_honest.moc"
