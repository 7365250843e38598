// SPDX-License-Identifier: GPL-3.0-or-later
// The `qnn` command line, run as a separate process: exit codes, messages, and a
// short real training run followed by an evaluation of its checkpoint.
#include <torch/torch.h>

#include <signal.h>

#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>
#include <stb/stb_image_write.h>

#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

#include "tests/multi_test_main.h"

// clipped_bias_fixture.cpp: the low-precision example, built from its seed, with
// fc1.bias = 0 except channel 5 (+1000) and 9 (-1000), saved as a checkpoint.
void write_clipped_bias_checkpoint(const std::string& project, const std::string& out);
// analysis_checks.cpp: what the files of `qnn calibrate | sweep | suggest` hold.
int learned_act_quantizers(const std::string& checkpoint, int* total, bool* counters_at_end);
bool per_channel_checkpoint(const std::string& checkpoint, const std::string& layer, const std::string& project);
int saved_sweep_points(const std::string& project, int64_t* base_size_bytes, bool* complete);
int weight_bit_width(const std::string& project, const std::string& layer);
int64_t model_size_bytes(const std::string& project);

namespace {

struct Run {
  int code = -1;
  QString out, err;
  QStringList lines() const { return out.split('\n', Qt::SkipEmptyParts); }
  QString last_line() const { return lines().isEmpty() ? QString() : lines().last(); }
  QString text() const { return "exit " + QString::number(code) + "\nstdout:\n" + out + "\nstderr:\n" + err; }
};

Run qnn(const QStringList& args, int timeout_ms = 120000) {
  QProcess p;
  p.start(QStringLiteral(QNN_CLI_PATH), args);
  Run r;
  if (!p.waitForFinished(timeout_ms)) {
    p.kill();
    p.waitForFinished();
    r.err = "timed out";
    return r;
  }
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

QString example(const char* name) {
  return QStringLiteral(QNN_SOURCE_DIR) + "/resources/examples/" + name + ".qnn.json";
}

/// The low-precision example with `change` applied, written to `path`.
template <typename F>
void write_variant(const QString& path, F change) {
  std::ifstream in(example("lenet_lowprec").toStdString());
  auto doc = nlohmann::json::parse(in);
  change(doc);
  std::ofstream(path.toStdString()) << doc.dump(2);
}

/// A PNG file of some size (the views rendered offscreen, 1000 x 600).
bool isPng(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) && f.size() > 5000 && f.read(8) == QByteArray("\x89PNG\r\n\x1a\n", 8);
}

const QRegularExpression kAccuracyLine(QStringLiteral("^test_accuracy=(0\\.\\d{4}|1\\.0000)$"));

}  // namespace

class TestCli : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void helpAndVersion();
  void validateExamples();
  void validateInvalidProject();
  void validateReportsEachKindOnItsNode();
  void summaryPrintsSizes();
  void missingOrMalformedFile();
  void badUsage();
  void trainThenEvalCheckpoint();
  void trainsOnAnImageFolder();
  void corruptCheckpoint();
  void unwritableCheckpointFailsBeforeTraining();
  void missingDatasetIsAnUnreadableFile();
  void interruptStopsCleanly();
  void validateWarnsOfClippedBiasCodes();
  void calibrateAnalyzeSweepSuggest();
  void analysisBadUsage();
  void sweepInterruptKeepsPartialResults();
  void analysisNotesAndWarnings();

 private:
  QTemporaryDir m_dir;
};

void TestCli::helpAndVersion() {
  Run r = qnn({"--help"});
  QCOMPARE(r.code, 0);
  QVERIFY(r.out.startsWith("Usage: qnn COMMAND"));
  for (const char* cmd : {"train", "eval", "validate"}) QVERIFY(r.out.contains(QString("  ") + cmd + " PROJECT"));
  r = qnn({"train", "--help"});
  QCOMPARE(r.code, 0);
  QVERIFY(r.out.startsWith("Usage: qnn train PROJECT"));
  for (const char* opt : {"--epochs", "--threads", "--seed", "--batch-size", "--lr", "--checkpoint",
                          "--train-limit", "--test-limit", "--max-batches"})
    QVERIFY2(r.out.contains(opt), opt);
  r = qnn({"eval", "--help"});
  QCOMPARE(r.code, 0);
  QVERIFY(r.out.contains("--checkpoint CKPT"));
  r = qnn({"--version"});
  QCOMPARE(r.code, 0);
  QVERIFY2(QRegularExpression("^qnn \\(QNN Studio\\) \\d+\\.\\d+\\.\\d+\\n$").match(r.out).hasMatch(),
           qPrintable(r.out));
}

void TestCli::validateExamples() {
  for (const char* name : {"lenet_float", "lenet_weights3", "lenet_lowprec", "lenet_w4a4_int32bias"}) {
    const Run r = qnn({"validate", example(name)});
    QVERIFY2(r.code == 0, qPrintable(r.text()));
    QVERIFY2(r.last_line().startsWith("valid: "), qPrintable(r.text()));
    QVERIFY2(r.out.contains(QRegularExpression("\\n  conv1 +\\w+ +\\[6, 28, 28\\]")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QRegularExpression("\\n  flatten +Flatten +\\[400\\]")), qPrintable(r.out));
    QVERIFY(!r.out.contains("error:"));
  }
  const Run r = qnn({"validate", example("lenet_lowprec")});
  // layer, type, output shape, value format, scale source.
  QVERIFY2(r.out.contains(QRegularExpression("\\n  layer +type +output +values +scale from\\n")), qPrintable(r.out));
  QVERIFY2(r.out.contains(QRegularExpression("\\n  conv1 +QuantConv2d +\\[6, 28, 28\\] +int13 +conv1\\n")),
           qPrintable(r.out));
  QVERIFY(r.out.contains(QRegularExpression("\\n  relu1 +QuantReLU +\\[6, 28, 28\\] +uint4 +relu1\\n")));
  QVERIFY(r.out.contains(QRegularExpression("\\n  pool1 +MaxPool2d +\\[6, 14, 14\\] +uint4 +relu1\\n")));
  QVERIFY(r.out.contains(QRegularExpression("\\n  fc3 +QuantLinear +\\[10\\] +float\\n")));
}

void TestCli::validateInvalidProject() {
  const QString path = m_dir.filePath("bad_channels.qnn.json");
  write_variant(path, [](auto& d) { d["layers"][2]["params"]["out_channels"] = 16; });
  Run r = qnn({"validate", path});
  QCOMPARE(r.code, 1);
  QVERIFY2(r.out.contains("error: conv2: conv2 expects 6 input channels, gets 16 from pool1 (hint: "),
           qPrintable(r.text()));
  QVERIFY(r.last_line().startsWith("invalid: 15 layers, 1 error(s)"));

  const QString bias = m_dir.filePath("bias_without_scale.qnn.json");
  write_variant(bias, [](auto& d) { d["layers"][1]["return_quant_tensor"] = false; });
  r = qnn({"validate", bias});
  QCOMPARE(r.code, 1);
  QVERIFY2(r.out.contains("error: conv1: Int8Bias needs the input scale, but its input from quant_inp is not a "
                           "QuantTensor (Brevitas: \"Input scale required\") (hint: turn on return_quant_tensor on "
                           "quant_inp"),
           qPrintable(r.text()));

  // train refuses the same graph before loading any data, naming the node.
  r = qnn({"train", path, "--epochs", "1"});
  QCOMPARE(r.code, 1);
  QVERIFY2(r.err.contains(path) && r.err.contains("conv2 expects 6 input channels"), qPrintable(r.text()));
}

void TestCli::validateReportsEachKindOnItsNode() {
  struct Case {
    const char* name;
    std::function<void(nlohmann::ordered_json&)> change;
    QString line;  // the diagnostic line `qnn validate` prints
  };
  // Connections of the low-precision example: [0] input->quant_inp, [2] conv1->relu1,
  // [4] pool1->conv2, [8] flatten->fc1, [10] relu3->fc2.
  const std::vector<Case> cases{
      {"unconnected", [](auto& d) { d["connections"].erase(2); },
       "error: relu1: input port 0 is not connected (hint: connect a layer's output to input port 0 of relu1)"},
      {"cycle", [](auto& d) { d["connections"][4]["from"] = "conv2"; },
       "error: conv2: conv2 is part of a cycle: conv2 -> conv2 (hint: remove one of the connections in the cycle)"},
      {"features", [](auto& d) { d["layers"][5]["params"]["kernel_size"] = 7; },
       "error: fc1: fc1 expects 400 features, gets 256 from flatten (hint: "},
      {"bits", [](auto& d) { d["layers"][9]["weight_quant"]["bit_width"] = 0; },
       "error: fc1: weight_quant: Int8WeightPerTensorFloat: bit_width must be in 2..16, got 0 (hint: "},
      {"bias", [](auto& d) { d["layers"][1]["return_quant_tensor"] = false; },
       "error: conv1: Int8Bias needs the input scale, but its input from quant_inp is not a QuantTensor"},
  };
  for (const Case& c : cases) {
    const QString path = m_dir.filePath(QString(c.name) + ".qnn.json");
    {
      std::ifstream in(example("lenet_lowprec").toStdString());
      auto doc = nlohmann::ordered_json::parse(in);
      c.change(doc);
      std::ofstream(path.toStdString()) << doc.dump(2);
    }
    const Run r = qnn({"validate", path});
    QVERIFY2(r.code == 1, qPrintable(r.text()));
    QVERIFY2(r.out.contains("\n" + c.line) || r.out.startsWith(c.line), qPrintable(c.line + "\n" + r.text()));
    QVERIFY2(r.last_line().startsWith("invalid: 15 layers, "), qPrintable(r.text()));
  }
}

void TestCli::summaryPrintsSizes() {
  Run r = qnn({"summary", example("lenet_lowprec")});
  QVERIFY2(r.code == 0, qPrintable(r.text()));
  // conv1: 6*1*5*5 + 6 = 156 parameters, 6*28*28*25 = 117600 MACs, 3-bit weights, 8-bit
  // bias: 150*3 + 6*8 = 498 bits = 63 bytes.
  QVERIFY2(r.out.contains(QRegularExpression("\\n  conv1 +QuantConv2d +156 +117600 +3 +8 +63\\n")), qPrintable(r.out));
  // 61696 parameters; 186218 bits -> 23278 bytes vs 61696*4 = 246784 bytes.
  // (the hardware cost table follows it: tests/hw_cost)
  QVERIFY2(r.out.contains("\ntotal: 61696 parameters, 416520 MACs per sample; 23278 bytes at the chosen bit "
                          "widths vs 246784 bytes float32 (1/10.60)\n"),
           qPrintable(r.out));
  // Training and dataset settings do not make the summary fail (qnn validate does);
  // a graph error does, and the table is still printed.
  const QString bad_lr = m_dir.filePath("summary_bad_lr.qnn.json");
  write_variant(bad_lr, [](auto& d) { d["training"]["learning_rate"] = -1; });
  QCOMPARE(qnn({"validate", bad_lr}).code, 1);
  r = qnn({"summary", bad_lr});
  QVERIFY2(r.code == 0 && r.err.isEmpty(), qPrintable(r.text()));
  QVERIFY2(r.out.contains("\ntotal: 61696 parameters"), qPrintable(r.text()));
  const QString bad_graph = m_dir.filePath("summary_bad_graph.qnn.json");
  write_variant(bad_graph, [](auto& d) { d["layers"][2]["params"]["out_channels"] = 16; });
  r = qnn({"summary", bad_graph});
  QVERIFY2(r.code == 1 && r.err.contains("conv2 expects 6 input channels"), qPrintable(r.text()));
  QVERIFY2(r.out.contains("total: "), qPrintable(r.text()));
  r = qnn({"summary", "--help"});
  QCOMPARE(r.code, 0);
  QVERIFY(r.out.startsWith("Usage: qnn summary PROJECT"));
  QVERIFY(qnn({"--help"}).out.contains("  summary PROJECT"));
}

void TestCli::missingOrMalformedFile() {
  const QString missing = m_dir.filePath("does_not_exist.qnn.json");
  for (const QStringList& args : {QStringList{"validate", missing}, QStringList{"train", missing}}) {
    const Run r = qnn(args);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(missing) && r.err.contains("No such file"), qPrintable(r.text()));
  }
  const QString malformed = m_dir.filePath("truncated.qnn.json");
  {
    std::ifstream in(example("lenet_lowprec").toStdString());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(malformed.toStdString()) << text.substr(0, text.size() / 3);
  }
  const Run r = qnn({"validate", malformed});
  QCOMPARE(r.code, 1);
  QVERIFY2(r.err.contains(malformed + ": not valid JSON at line "), qPrintable(r.text()));

  const QString future = m_dir.filePath("future.qnn.json");
  write_variant(future, [](auto& d) { d["version"] = 7; });
  const Run f = qnn({"validate", future});
  QCOMPARE(f.code, 1);
  QVERIFY2(f.err.contains("written by a newer QNN Studio (version 7): this file needs a newer QNN Studio"),
           qPrintable(f.text()));
}

void TestCli::badUsage() {
  const QString project = example("lenet_lowprec");
  const QList<QStringList> cases{
      {},
      {"fly", project},
      {"train"},
      {"train", project, "extra.json"},
      {"train", project, "--epochs", "abc"},
      {"train", project, "--epochs", "0"},
      {"train", project, "--lr", "-1"},
      {"train", project, "--bogus", "1"},
      {"train", project, "--epochs"},
      {"eval", project},
  };
  for (const QStringList& args : cases) {
    const Run r = qnn(args);
    QVERIFY2(r.code == 2, qPrintable(args.join(' ') + "\n" + r.text()));
    QVERIFY2(!r.err.isEmpty(), qPrintable(args.join(' ')));
    QVERIFY(r.out.isEmpty());
  }
  QVERIFY(qnn({"train", project, "--epochs", "abc"}).err.contains("--epochs expects a whole number"));
  QVERIFY(qnn({"eval", project}).err.contains("needs --checkpoint"));
  QVERIFY(qnn({"fly"}).err.contains("unknown command 'fly'"));
}

void TestCli::trainThenEvalCheckpoint() {
  QElapsedTimer timer;
  timer.start();
  const QString ckpt = m_dir.filePath("lowprec.pt");
  const Run t = qnn({"train", example("lenet_lowprec"), "--epochs", "1", "--train-limit", "2000", "--test-limit",
                     "500", "--max-batches", "30", "--checkpoint", ckpt});
  QVERIFY2(t.code == 0, qPrintable(t.text()));
  const QRegularExpression epoch_line(
      "^epoch 1/1  train_loss=\\d+\\.\\d{4} train_acc=0\\.\\d{4}  test_loss=\\d+\\.\\d{4} test_acc=0\\.\\d{4}  "
      "\\d+\\.\\ds$");
  QVERIFY2(t.lines().filter(epoch_line).size() == 1, qPrintable(t.text()));
  const auto m = kAccuracyLine.match(t.last_line());
  QVERIFY2(m.hasMatch(), qPrintable(t.text()));
  const double accuracy = m.captured(1).toDouble();
  QVERIFY2(accuracy > 0.3 && accuracy <= 1.0, qPrintable(t.last_line()));
  QVERIFY(t.err.isEmpty());  // no progress bar when stdout is not a terminal
  QVERIFY(QFileInfo(ckpt).size() > 10000);

  const Run e = qnn({"eval", example("lenet_lowprec"), "--checkpoint", ckpt, "--test-limit", "500"});
  QVERIFY2(e.code == 0, qPrintable(e.text()));
  QCOMPARE(e.last_line(), t.last_line());
  QVERIFY(e.out.contains("samples=500 loss="));
  const QStringList classes = e.lines().filter(QRegularExpression("^class \\d .+ accuracy=\\d\\.\\d{4} \\(\\d+/\\d+\\)$"));
  QCOMPARE(classes.size(), 10);
  QVERIFY(classes[1].startsWith("class 1 Trouser"));
  qInfo("train + eval took %.1f s; test_accuracy %.4f", timer.elapsed() / 1000.0, accuracy);

  // The same tensor shapes with other quantizers: refused, naming the first difference.
  const Run other = qnn({"eval", example("lenet_weights3"), "--checkpoint", ckpt, "--test-limit", "100"});
  QCOMPARE(other.code, 1);
  QVERIFY2(other.err.contains("different network") && other.err.contains("quant_inp"), qPrintable(other.text()));
  QVERIFY(!other.out.contains("test_accuracy="));
}

void TestCli::trainsOnAnImageFolder() {
  // Two classes of 20 x 24 RGB PNGs, fitted to the LeNet's [1, 32, 32] input (gray, resized).
  const QString root = m_dir.filePath("photos");
  for (int c = 0; c < 2; ++c) {
    const QString cls = root + (c ? "/dogs" : "/cats");
    QDir().mkpath(cls);
    for (int k = 0; k < 10; ++k) {
      std::vector<uint8_t> px(20 * 24 * 3);
      for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((c * 120 + int(i % 5) * 7 + k) % 256);
      QVERIFY(stbi_write_png((cls + "/img" + QString::number(k) + ".png").toStdString().c_str(), 20, 24, 3,
                             px.data(), 20 * 3) != 0);
    }
  }
  const QString project = m_dir.filePath("photos.qnn.json");
  write_variant(project, [&](nlohmann::json& doc) {
    doc["dataset"] = {{"name", "image-folder"}, {"path", root.toStdString()}, {"fit", "resize"}};
  });
  const QString ckpt = m_dir.filePath("photos.pt");
  const Run t = qnn({"train", project, "--epochs", "1", "--batch-size", "4", "--checkpoint", ckpt});
  QVERIFY2(t.code == 0, qPrintable(t.text()));
  QVERIFY2(t.out.contains("data image-folder: 16 training / 4 test samples"), qPrintable(t.text()));
  QVERIFY2(kAccuracyLine.match(t.last_line()).hasMatch(), qPrintable(t.text()));
  const Run e = qnn({"eval", project, "--checkpoint", ckpt});
  QVERIFY2(e.code == 0, qPrintable(e.text()));
  QCOMPARE(e.last_line(), t.last_line());
  QVERIFY2(e.out.contains(QRegularExpression("class 0 cats +accuracy=")) &&
               e.out.contains(QRegularExpression("class 1 dogs +accuracy=")),
           qPrintable(e.text()));

  // A corrupt image stops the run (exit 1) naming the file.
  QFile bad(root + "/dogs/img3.png");
  QVERIFY(bad.open(QIODevice::WriteOnly | QIODevice::Truncate));
  bad.write("GIF89a not really");
  bad.close();
  const Run b = qnn({"train", project, "--epochs", "1"});
  QCOMPARE(b.code, 1);
  QVERIFY2(b.err.contains("dogs/img3.png") && b.err.contains("not a PNG or JPEG image") && b.err.contains("GIF"),
           qPrintable(b.text()));
}

void TestCli::unwritableCheckpointFailsBeforeTraining() {
  const QString target = m_dir.filePath("no-such-folder/model.qnnckpt");
  QElapsedTimer timer;
  timer.start();
  const Run r = qnn({"train", example("lenet_lowprec"), "--epochs", "1", "--checkpoint", target});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains(target), qPrintable(r.text()));
  QVERIFY2(!r.out.contains("data "), qPrintable(r.text()));  // refused before loading any data
  QVERIFY(!QFileInfo::exists(target));
}

void TestCli::missingDatasetIsAnUnreadableFile() {
  const QString project = m_dir.filePath("nodata.qnn.json");
  const std::string folder = m_dir.filePath("empty-dataset-folder").toStdString();
  QDir().mkpath(QString::fromStdString(folder));
  write_variant(project, [&](nlohmann::json& doc) { doc["dataset"]["path"] = folder; });
  const Run r = qnn({"train", project, "--epochs", "1"});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("train-images-idx3-ubyte") && r.err.contains("not found"), qPrintable(r.text()));
}

void TestCli::corruptCheckpoint() {
  const QString corrupt = m_dir.filePath("corrupt.pt");
  std::ofstream(corrupt.toStdString()) << "PK\x03\x04 this is not a checkpoint at all";
  Run r = qnn({"eval", example("lenet_lowprec"), "--checkpoint", corrupt, "--test-limit", "100"});
  QCOMPARE(r.code, 2);  // not a readable archive: an unreadable file
  QVERIFY2(r.err.contains(corrupt), qPrintable(r.text()));
  QVERIFY(!r.out.contains("test_accuracy="));

  const QString missing = m_dir.filePath("missing.pt");
  r = qnn({"eval", example("lenet_lowprec"), "--checkpoint", missing});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains(missing), qPrintable(r.text()));
}

void TestCli::interruptStopsCleanly() {
  // Ctrl-C (SIGINT) and SIGTERM (what `qnn launch` sends the other ranks after one
  // failed) both stop after the batch; only Ctrl-C's message speaks of Ctrl-C.
  for (const int sig : {SIGINT, SIGTERM}) {
    QProcess p;
    p.start(QStringLiteral(QNN_CLI_PATH), {"train", example("lenet_lowprec"), "--epochs", "3", "--train-limit",
                                           "20000", "--test-limit", "200"});
    QVERIFY(p.waitForStarted());
    QString out;
    QElapsedTimer timer;
    timer.start();
    while (!out.contains("\ndata ") && timer.elapsed() < 60000) {  // the data is loaded, training runs
      p.waitForReadyRead(1000);
      out += QString::fromUtf8(p.readAllStandardOutput());
    }
    QVERIFY2(out.contains("\ndata "), qPrintable(out));
    QTest::qWait(1500);
    ::kill(static_cast<pid_t>(p.processId()), sig);
    QVERIFY(p.waitForFinished(60000));
    out += QString::fromUtf8(p.readAllStandardOutput());
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 130);
    QVERIFY2(err.contains("interrupted after 0 complete epoch(s)"), qPrintable(err));
    if (sig == SIGINT)
      QVERIFY2(err.contains("qnn: stopping after the current batch (press Ctrl-C again to abort)"), qPrintable(err));
    else
      QVERIFY2(err.contains("qnn: stopping after the current batch (SIGTERM received, e.g. from qnn launch after "
                            "another rank ended)") &&
                   !err.contains("Ctrl-C again"),
               qPrintable(err));
    const QStringList lines = out.split('\n', Qt::SkipEmptyParts);
    QVERIFY2(kAccuracyLine.match(lines.last()).hasMatch(), qPrintable(out));
    QVERIFY(timer.elapsed() < 60000);
  }
}

/// A checkpoint whose fc1 bias has two channels far beyond Int8Bias's grid (1000 real
/// units; the bias scale s_in * s_w is below 1) and zeros elsewhere: validate warns on fc1
/// with "2 of 120", counts one warning and still exits 0.
void TestCli::validateWarnsOfClippedBiasCodes() {
  const QString ckpt = m_dir.filePath("clipped_bias.pt");
  write_clipped_bias_checkpoint(example("lenet_lowprec").toStdString(), ckpt.toStdString());
  const Run r = qnn({"validate", example("lenet_lowprec"), "--checkpoint", ckpt});
  QVERIFY2(r.code == 0, qPrintable(r.text()));
  QVERIFY2(r.out.contains("warning: fc1: 2 of 120 bias codes clipped (Int8Bias); codes -128..127 on [-128, 127]"),
           qPrintable(r.text()));
  QVERIFY2(r.out.contains("1 layer(s) with clipped bias codes"), qPrintable(r.text()));
  QVERIFY2(r.last_line().endsWith("0 error(s), 1 warning(s)"), qPrintable(r.text()));
  // Without --checkpoint the graph alone has no warning.
  const Run plain = qnn({"validate", example("lenet_lowprec")});
  QVERIFY2(plain.last_line().endsWith("0 error(s), 0 warning(s)"), qPrintable(plain.text()));
}

/// Issue 12 on a briefly trained low-precision LeNet (its activation quantizers still in
/// their statistics phase): calibrate ends it; analyze, sweep (+ --save) and suggest
/// write what they say, with values that agree between their files.
void TestCli::calibrateAnalyzeSweepSuggest() {
  const QString project = m_dir.filePath("analysis.qnn.json");
  QFile::copy(example("lenet_lowprec"), project);
  const QString trained = m_dir.filePath("analysis_trained.pt");
  const Run t = qnn({"train", project, "--epochs", "1", "--train-limit", "2000", "--test-limit", "200",
                     "--max-batches", "30", "--checkpoint", trained});
  QVERIFY2(t.code == 0, qPrintable(t.text()));

  // calibrate: every RuntimeStats activation quantizer past its statistics phase.
  const QString calibrated = m_dir.filePath("analysis_calibrated.pt");
  Run c = qnn({"calibrate", project, "--weights", trained, "--batches", "4", "--batch-size", "32",
               "--test-limit", "300", "--out", calibrated});
  QVERIFY2(c.code == 0, qPrintable(c.text()));
  QVERIFY2(c.out.contains("calibrated 5 activation quantizer(s) on 128 training images (4 batches)"), qPrintable(c.text()));
  QVERIFY2(c.out.contains("before: accuracy="), qPrintable(c.text()));  // trained 30 steps: a scale already
  QVERIFY2(kAccuracyLine.match(c.last_line()).hasMatch(), qPrintable(c.text()));
  int total = 0;
  bool at_end = false;
  QCOMPARE(learned_act_quantizers(trained.toStdString(), &total, &at_end), 0);
  QCOMPARE(learned_act_quantizers(calibrated.toStdString(), &total, &at_end), 5);
  QCOMPARE(total, 5);
  QVERIFY(at_end);
  // --per-channel: the checkpoint's project has per-channel weights; --save-project writes it.
  const QString pc = m_dir.filePath("analysis_pc.pt"), pcProject = m_dir.filePath("analysis_pc.qnn.json");
  c = qnn({"calibrate", project, "--weights", trained, "--batches", "2", "--batch-size", "32", "--test-limit", "100",
           "--per-channel", "--out", pc, "--save-project", pcProject});
  QVERIFY2(c.code == 0, qPrintable(c.text()));
  QVERIFY2(c.out.contains("conv1, conv2, fc1, fc2, fc3 now per output channel"), qPrintable(c.text()));
  QVERIFY(per_channel_checkpoint(pc.toStdString(), "conv1", pcProject.toStdString()));

  // analyze: the table, analyzer.csv (header + 10 layers + 4 headline rows) and the PNG.
  const QString anaDir = m_dir.filePath("analyze");
  const Run a = qnn({"analyze", project, "--weights", calibrated, "--holdout", "200", "--out", anaDir});
  QVERIFY2(a.code == 0, qPrintable(a.text()));
  QVERIFY2(a.last_line().startsWith("keep_higher="), qPrintable(a.text()));
  QVERIFY2(!a.err.contains("plugin"), qPrintable(a.err));  // no offscreen-platform notes
  QVERIFY2(a.out.contains(QRegularExpression("\\nfc1 +QuantLinear +\\d+\\.\\d\\d +\\d+\\.\\d\\d +-?\\d+\\.\\d\\d")),
           qPrintable(a.text()));
  QFile csv(anaDir + "/analyzer.csv");
  QVERIFY(csv.open(QIODevice::ReadOnly));
  const QStringList anaLines = QString::fromUtf8(csv.readAll()).split('\n', Qt::SkipEmptyParts);
  QCOMPARE(anaLines.size(), 1 + 10 + 4);
  QVERIFY(anaLines[0].startsWith("layer,type,only_this_accuracy,all_but_this_accuracy,gain,output_sqnr_db"));
  QVERIFY(isPng(anaDir + "/analyzer.png"));

  // sweep with --save: 5 weight slots x bits 2..4.
  const QString sweepDir = m_dir.filePath("sweep");
  const Run sw = qnn({"sweep", project, "--weights", calibrated, "--bits", "2-4", "--holdout", "200",
                      "--calibration-batches", "1", "--out", sweepDir, "--save"});
  QVERIFY2(sw.code == 0, qPrintable(sw.text()));
  QVERIFY2(QRegularExpression("^base_accuracy=0\\.\\d{4} points=15/15 \\(\\+ base\\)$").match(sw.last_line()).hasMatch(),
           qPrintable(sw.text()));
  QVERIFY2(sw.err.contains("sweep base model"), qPrintable(sw.err));
  QVERIFY2(sw.err.contains(QRegularExpression("sweep point \\d+/15 .* ETA ")), qPrintable(sw.err));
  QVERIFY2(sw.err.contains("sweep 15/15 points done (+ base)"), qPrintable(sw.err));
  for (const char* f : {"heatmap.png", "curves.png", "front.png"})
    QVERIFY2(isPng(sweepDir + "/" + f), f);
  std::ifstream jin((sweepDir + "/sweep.json").toStdString());
  const auto doc = nlohmann::json::parse(jin);
  QCOMPARE(doc["format"].get<std::string>(), std::string("qnn-sweep"));
  QCOMPARE(doc["version"].get<int>(), 1);
  const auto& points = doc["sweep"]["points"];
  QCOMPARE(int(doc["sweep"]["slots"].size()), 5);
  QCOMPARE(int(points.size()), 15);
  QFile scsv(sweepDir + "/sweep.csv");
  QVERIFY(scsv.open(QIODevice::ReadOnly));
  const QStringList rows = QString::fromUtf8(scsv.readAll()).split('\n', Qt::SkipEmptyParts);
  QCOMPARE(rows.size(), 5 * 3 + 2);  // header, (base), one row per point
  QVERIFY(rows[1].startsWith("(base),"));
  for (int i = 0; i < 15; ++i) {
    const QStringList f = rows[i + 2].split(',');
    QCOMPARE(f[0].toStdString(), points[i]["layer"].get<std::string>());
    QCOMPARE(f[2].toInt(), points[i]["bits"].get<int>());
    QVERIFY2(std::abs(f[3].toDouble() - points[i]["accuracy"].get<double>()) < 1e-12, qPrintable(rows[i + 2]));
    QCOMPARE(f[6].toLongLong(), points[i]["size_bytes"].get<long long>());
  }
  int64_t budget = 0;
  bool complete = false;
  QCOMPARE(saved_sweep_points(project.toStdString(), &budget, &complete), 15);
  QVERIFY(complete);

  // suggest from the saved sweep within the base size: the written project has the
  // chosen bit widths and meets the budget.
  const QString suggested = m_dir.filePath("suggested.qnn.json");
  const Run sg = qnn({"suggest", project, "--max-bytes", QString::number(budget), "--out", suggested});
  QVERIFY2(sg.code == 0, qPrintable(sg.text()));
  const auto chosen = QRegularExpression("^suggested=(.+)$").match(sg.last_line());
  QVERIFY2(chosen.hasMatch(), qPrintable(sg.text()));
  for (const QString& item : chosen.captured(1).split(' ')) {  // conv1.weight=3
    const QString layer = item.section('.', 0, 0);
    const int bits = item.section('=', 1).toInt();
    QVERIFY2(weight_bit_width(suggested.toStdString(), layer.toStdString()) == bits, qPrintable(item));
  }
  QVERIFY(model_size_bytes(suggested.toStdString()) <= budget);
  QVERIFY2(sg.out.contains("predicted_accuracy=0."), qPrintable(sg.text()));
  // --sweep FILE and --verify: measured next to predicted.
  const Run sv = qnn({"suggest", project, "--sweep", sweepDir + "/sweep.json", "--max-drop", "100", "--out",
                      m_dir.filePath("suggested2.qnn.json"), "--verify", "--weights", calibrated});
  QVERIFY2(sv.code == 0, qPrintable(sv.text()));
  QVERIFY2(sv.out.contains(QRegularExpression("verify: .* measured \\d+\\.\\d\\d % vs predicted \\d+\\.\\d\\d %")),
           qPrintable(sv.text()));
  // A budget nothing meets: core's message, exit 1, nothing written.
  const QString none = m_dir.filePath("none.qnn.json");
  const Run nb = qnn({"suggest", project, "--max-bytes", "10", "--out", none});
  QCOMPARE(nb.code, 1);
  QVERIFY2(nb.err.contains("no configuration") && nb.err.contains("10 bytes"), qPrintable(nb.text()));
  QVERIFY(!QFileInfo::exists(none));
}

void TestCli::analysisBadUsage() {
  const QString project = example("lenet_lowprec");
  const QString out = m_dir.filePath("never");
  const struct {
    QStringList args;
    const char* message;
  } cases[] = {
      {{"sweep", project, "--weights", "w.pt", "--bits", "8-2", "--out", out}, "the range is reversed"},
      {{"sweep", project, "--weights", "w.pt", "--bits", "1-4", "--out", out}, "within 2..16"},
      {{"sweep", project, "--weights", "w.pt", "--bits", "2-17", "--out", out}, "within 2..16"},
      {{"sweep", project, "--weights", "w.pt", "--bits", "two", "--out", out}, "--bits expects a range"},
      {{"sweep", project, "--bits", "2-8", "--out", out}, "a sweep needs a trained model"},
      {{"sweep", project, "--weights", "w.pt", "--bits", "2-8", "--what", "bias", "--out", out}, "--what"},
      {{"sweep", project, "--weights", "w.pt", "--bits", "2-8"}, "needs --out"},
      {{"calibrate", project, "--out", out}, "needs --weights"},
      {{"calibrate", project, "--weights", "w.pt", "--out", out, "--batches", "0"}, "--batches expects"},
      {{"analyze", project}, "needs --weights"},
      {{"suggest", project, "--out", out}, "needs a budget"},
      {{"suggest", project, "--max-bytes", "1000", "--out", out}, "holds no saved sweep"},
      {{"suggest", project, "--max-drop", "-1", "--out", out}, "--max-drop expects"},
      {{"suggest", project, "--max-bytes", "1000", "--axis", "area", "--out", out}, "--axis expects"},
      {{"suggest", project, "--max-bytes", "1000", "--verify", "--out", out}, "--verify needs --weights"},
      {{"suggest", project, "--max-bytes", "1000", "--weights", "w.pt", "--out", out}, "only used by --verify"},
      {{"suggest", project, "--max-bytes", "1000", "--out", QStringLiteral(QNN_SOURCE_DIR) +
                                                                 "/resources/../resources/examples/lenet_lowprec.qnn.json"},
       "--out would overwrite"},
  };
  for (const auto& k : cases) {
    const Run r = qnn(k.args);
    QVERIFY2(r.code == 2, qPrintable(k.args.join(' ') + "\n" + r.text()));
    QVERIFY2(r.err.contains(k.message), qPrintable(k.args.join(' ') + "\n" + r.text()));
    QVERIFY(!QFileInfo::exists(out));
  }
  for (const char* cmd : {"calibrate", "analyze", "sweep", "suggest"}) {
    const Run h = qnn({cmd, "--help"});
    QCOMPARE(h.code, 0);
    QVERIFY(h.out.startsWith(QString("Usage: qnn ") + cmd + " PROJECT"));
    QVERIFY2(qnn({"--help"}).out.contains(QString("  ") + cmd + " PROJECT"), cmd);
  }
}

/// Ctrl-C during a sweep: exit 130, the points done so far written (complete: false).
void TestCli::sweepInterruptKeepsPartialResults() {
  const QString ckpt = m_dir.filePath("interrupt_sweep.pt");
  const Run t = qnn({"train", example("lenet_lowprec"), "--epochs", "1", "--train-limit", "1000", "--test-limit",
                     "100", "--max-batches", "10", "--checkpoint", ckpt});
  QVERIFY2(t.code == 0, qPrintable(t.text()));
  const QString dir = m_dir.filePath("sweep_interrupted");
  QProcess p;
  p.start(QStringLiteral(QNN_CLI_PATH), {"sweep", example("lenet_lowprec"), "--weights", ckpt, "--bits", "2-16",
                                         "--what", "both", "--holdout", "0", "--out", dir});
  QVERIFY(p.waitForStarted());
  QString err;
  QElapsedTimer timer;
  timer.start();
  while (!err.contains("sweep point 3/") && timer.elapsed() < 60000) {  // the base and two points done
    p.waitForReadyRead(500);
    err += QString::fromUtf8(p.readAllStandardError());
  }
  QVERIFY2(err.contains("sweep point 3/"), qPrintable(err));
  ::kill(static_cast<pid_t>(p.processId()), SIGINT);
  QVERIFY(p.waitForFinished(60000));
  const QString out = QString::fromUtf8(p.readAllStandardOutput());
  err += QString::fromUtf8(p.readAllStandardError());
  QCOMPARE(p.exitStatus(), QProcess::NormalExit);
  QCOMPARE(p.exitCode(), 130);
  const auto last = QRegularExpression("base_accuracy=0\\.\\d{4} points=(\\d+)/150 \\(\\+ base\\)\\n$").match(out);
  QVERIFY2(last.hasMatch(), qPrintable(out + err));
  const int done = last.captured(1).toInt();
  QVERIFY2(done >= 2 && done < 150, qPrintable(out));
  QVERIFY2(err.contains("interrupted: " + QString::number(done) + " of 150 points"), qPrintable(err));
  QVERIFY2(err.contains("qnn: stopping after the current point"), qPrintable(err));
  std::ifstream in((dir + "/sweep.json").toStdString());
  const auto doc = nlohmann::json::parse(in);
  QCOMPARE(doc["sweep"]["complete"].get<bool>(), false);
  QCOMPARE(int(doc["sweep"]["points"].size()), done);
  QFile csv(dir + "/sweep.csv");
  QVERIFY(csv.open(QIODevice::ReadOnly));
  QCOMPARE(QString::fromUtf8(csv.readAll()).split('\n', Qt::SkipEmptyParts).size(), done + 2);
  QVERIFY(isPng(dir + "/heatmap.png"));
  QVERIFY(!QFileInfo::exists(dir + "/front.png"));  // a front needs a complete sweep
}

/// New-user findings: a barely trained model is near chance (sweep, analyze and suggest
/// warn); an activations-only sweep's front is of BitOps (suggest says so); a checkpoint
/// of another network is noted; a float project has nothing to calibrate; a damaged
/// sweep.json names line and column without nlohmann's prefix.
void TestCli::analysisNotesAndWarnings() {
  const QString project = m_dir.filePath("notes.qnn.json");
  QFile::copy(example("lenet_lowprec"), project);
  const QString ckpt = m_dir.filePath("notes.pt");
  const Run t = qnn({"train", project, "--epochs", "1", "--train-limit", "200", "--test-limit", "100",
                     "--max-batches", "1", "--checkpoint", ckpt});
  QVERIFY2(t.code == 0, qPrintable(t.text()));
  const QRegularExpression nearChance(
      "warning: the model's accuracy \\(\\d+\\.\\d %\\) is near chance \\(10 %\\): is it trained\\? its drops are noise");

  const QString dir = m_dir.filePath("notes_sweep");
  const Run sw = qnn({"sweep", project, "--weights", ckpt, "--bits", "2-3", "--what", "activations", "--holdout", "100",
                      "--calibration-batches", "1", "--out", dir, "--save"});
  QVERIFY2(sw.code == 0, qPrintable(sw.text()));
  const bool chance = sw.last_line().contains(QRegularExpression("base_accuracy=0\\.(0|1[0-4])"));
  if (chance) QVERIFY2(sw.out.contains(nearChance), qPrintable(sw.text()));

  // auto axis: BitOps for an activations-only sweep, with a note; --axis size warns.
  const Run sg = qnn({"suggest", project, "--max-drop", "100", "--out", m_dir.filePath("notes_s.qnn.json")});
  QVERIFY2(sg.code == 0, qPrintable(sg.text()));
  QVERIFY2(sg.out.contains("note: the sweep varies activations only, which do not change the model size: the front "
                           "is of BitOps"),
           qPrintable(sg.text()));
  if (chance) QVERIFY2(sg.out.contains(nearChance), qPrintable(sg.text()));
  const Run ss = qnn({"suggest", project, "--max-drop", "100", "--axis", "size", "--out",
                      m_dir.filePath("notes_s2.qnn.json")});
  QVERIFY2(ss.code == 0 && ss.out.contains("the size front has one point"), qPrintable(ss.text()));
  QVERIFY2(ss.out.contains("Pareto front (1 configurations"), qPrintable(ss.text()));

  // A checkpoint of another network (A4 activations into the A8 project) is noted.
  const Run a = qnn({"analyze", example("lenet_w8a8"), "--weights", ckpt, "--holdout", "100"});
  QVERIFY2(a.code == 0, qPrintable(a.text()));
  QVERIFY2(a.out.contains("note: " + ckpt + " was trained on a different network (layer ") &&
               a.out.contains("); its tensors are loaded by name and shape"),
           qPrintable(a.text()));

  // A float project: nothing to calibrate, nothing written.
  const QString none = m_dir.filePath("notes_float.pt");
  const Run c = qnn({"calibrate", example("lenet_float"), "--weights", ckpt, "--out", none});
  QCOMPARE(c.code, 1);
  QVERIFY2(c.err.contains("nothing to calibrate: ") &&
               c.err.contains("has no activation quantizer with runtime statistics"),
           qPrintable(c.text()));
  QVERIFY(!QFileInfo::exists(none));

  // A truncated sweep.json: file, line and column, no "[json.exception...".
  const QString bad = m_dir.filePath("bad_sweep.json");
  {
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("{\"format\": \"qnn-sweep\",\n  \"version\": 1,\n");
  }
  const Run b = qnn({"suggest", project, "--sweep", bad, "--max-drop", "1", "--out", m_dir.filePath("never.qnn.json")});
  QCOMPARE(b.code, 1);
  QVERIFY2(b.err.contains(bad + ": not valid JSON at line 3, column 1"), qPrintable(b.text()));
  QVERIFY2(!b.err.contains("json.exception"), qPrintable(b.text()));
}

std::unique_ptr<QObject> makeCliHonestTests();  // test_cli_honest.cpp
std::unique_ptr<QObject> makeCliProgressJsonTests();  // test_cli_progress_json.cpp

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  return qnn_test::run_test_classes(
      argc, argv, {[] { return std::unique_ptr<QObject>(new TestCli); }, [] { return makeCliHonestTests(); },
                         [] { return makeCliProgressJsonTests(); }});
}
#include "test_cli.moc"
