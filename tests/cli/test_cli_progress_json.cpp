// SPDX-License-Identifier: GPL-3.0-or-later
// `qnn train --progress-json` (issue 17, item 3: QNN Studio's Train on N Processes reads
// these lines): one JSON object per progress report on stdout, consistent with the
// human-readable epoch lines, the final test accuracy and the checkpoint's step count.
// Run from test_cli.cpp's main.
#include <torch/torch.h>

#include <memory>

#include "core/train/checkpoint_steps.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>
#include "tests/cli_run.h"

namespace {

QString example(const char* name) { return QStringLiteral(QNN_SOURCE_DIR "/resources/examples/") + name; }

/// The JSON lines of `out`, each checked to be one valid JSON object.
QList<QJsonObject> jsonLines(const QString& out) {
  QList<QJsonObject> lines;
  for (const QString& line : out.split(QLatin1Char('\n'))) {
    if (!line.startsWith(QLatin1Char('{'))) continue;
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(line.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) qFatal("not a JSON object: %s", qPrintable(line));
    lines << doc.object();
  }
  return lines;
}

class TestCliProgressJson : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void linesMatchTheRun() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString ckpt = dir.filePath(QStringLiteral("lp.pt"));
    const qnn_test::CliRun r = qnn_test::runQnn(
        {"train", example("lenet_lowprec.qnn.json"), "--epochs", "2", "--train-limit", "512", "--test-limit", "200",
         "--threads", "1", "--no-autosave", "--checkpoint", ckpt, "--progress-json"},
        180000);
    QVERIFY2(r.code == 0, qPrintable(r.text()));
    const QList<QJsonObject> lines = jsonLines(r.out);
    QVERIFY2(lines.size() >= 5, qPrintable(r.text()));
    int epochs = 0, finished = 0, training = 0;
    qint64 lastStep = 0;
    for (const QJsonObject& o : lines) {
      const QString phase = o.value("progress").toString();
      QVERIFY2(QStringList({"training", "evaluating", "epoch", "finished"}).contains(phase), qPrintable(phase));
      for (const char* key : {"epoch", "epochs", "batch", "batches", "step", "train_loss", "train_acc", "test_loss",
                              "test_acc", "seconds"})
        QVERIFY2(o.value(key).isDouble(), key);
      QCOMPARE(o.value("epochs").toInt(), 2);
      QCOMPARE(o.value("batches").toInt(), 512 / 64);
      QVERIFY(o.value("step").toInt() >= lastStep);  // steps never go back
      lastStep = o.value("step").toInt();
      if (phase == "training") ++training;
      if (phase == "epoch") {
        ++epochs;
        QCOMPARE(o.value("epoch").toInt(), epochs);
        QCOMPARE(o.value("step").toInt(), epochs * 512 / 64);
        // The same numbers as the human-readable line of that epoch (4 decimals there).
        const QRegularExpression human(QStringLiteral("epoch %1/2  train_loss=(\\S+) train_acc=(\\S+)  test_loss=(\\S+) "
                                                      "test_acc=(\\S+)")
                                           .arg(epochs));
        const QRegularExpressionMatch m = human.match(r.out);
        QVERIFY2(m.hasMatch(), qPrintable(r.out));
        QCOMPARE(QString::number(o.value("train_loss").toDouble(), 'f', 4), m.captured(1));
        QCOMPARE(QString::number(o.value("train_acc").toDouble(), 'f', 4), m.captured(2));
        QCOMPARE(QString::number(o.value("test_loss").toDouble(), 'f', 4), m.captured(3));
        QCOMPARE(QString::number(o.value("test_acc").toDouble(), 'f', 4), m.captured(4));
      }
      if (phase == "finished") ++finished;
    }
    // The first batch of each epoch reports at once (later ones at most every 50 ms).
    QVERIFY(training >= 2);
    QCOMPARE(epochs, 2);
    QCOMPARE(finished, 1);
    const QJsonObject last = lines.back();
    QCOMPARE(last.value("progress").toString(), QStringLiteral("finished"));
    QCOMPARE(last.value("step").toInt(), 2 * 512 / 64);
    const QRegularExpressionMatch accuracy = QRegularExpression("test_accuracy=(\\S+)\\s*$").match(r.out);
    QVERIFY(accuracy.hasMatch());
    QCOMPARE(QString::number(last.value("test_acc").toDouble(), 'f', 4), accuracy.captured(1));
    QCOMPARE(qnn::read_checkpoint_optimizer_steps(ckpt.toStdString()), int64_t(last.value("step").toInt()));

    // Without the option: no JSON, the option is in the help.
    const qnn_test::CliRun plain = qnn_test::runQnn(
        {"train", example("lenet_lowprec.qnn.json"), "--epochs", "1", "--train-limit", "128", "--test-limit", "100",
         "--threads", "1", "--no-autosave"},
        180000);
    QVERIFY2(plain.code == 0, qPrintable(plain.text()));
    QVERIFY(jsonLines(plain.out).isEmpty());
    const qnn_test::CliRun help = qnn_test::runQnn({"train", "--help"}, 30000);
    QVERIFY(help.out.contains("--progress-json"));
  }
};

}  // namespace

std::unique_ptr<QObject> makeCliProgressJsonTests() { return std::make_unique<TestCliProgressJson>(); }

#include "test_cli_progress_json.moc"
