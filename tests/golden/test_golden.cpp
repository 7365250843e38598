// SPDX-License-Identifier: GPL-3.0-or-later
// Brevitas conformance: every case in tests/data/golden, plus every case of the folder
// named by QNN_GOLDEN_DIR, is replayed through qnn_core; one line per case is printed.
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "golden_case.h"

#include <QtTest>

using namespace qnn::golden;

namespace {

std::string shipped_dir() { return std::string(QNN_SOURCE_DIR) + "/tests/data/golden"; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs every case of `dir`; prints one line per case; returns the failure report.
QString run_folder(const std::string& dir, int* count) {
  QString report;
  const auto cases = list_cases(dir);
  *count = static_cast<int>(cases.size());
  for (const std::string& path : cases) {
    Case c;
    try {
      c = load_case(path);
    } catch (const std::exception& e) {
      std::printf("FAIL  %s: %s\n", path.c_str(), e.what());
      report += QString::fromStdString(path + ": " + e.what() + "\n");
      continue;
    }
    const Checker k = run_case(c);
    if (k.ok()) {
      std::printf("PASS  %-45s %-18s %3d checks, max |err| %.3g\n", c.name.c_str(), c.kind.c_str(),
                  k.checks(), k.worst_abs());
      for (const auto& n : k.notes()) std::printf("      note: %s\n", n.c_str());
    } else {
      std::printf("FAIL  %-45s %-18s %s\n", c.name.c_str(), c.kind.c_str(), k.failures().front().c_str());
      for (const auto& f : k.failures()) report += QString::fromStdString(c.name + ": " + f + "\n");
    }
  }
  std::fflush(stdout);
  return report;
}

// Replaces the first element of `tensor` (or the scalar) in a case's JSON by `delta` more.
std::string perturb(const std::string& text, const std::string& tensor, double delta, bool scalar) {
  nlohmann::json j = nlohmann::json::parse(text);
  nlohmann::json& v = scalar ? j["scalars"][tensor] : j["tensors"][tensor]["data"][0];
  if (v.is_number_integer())
    v = v.get<int64_t>() + static_cast<int64_t>(delta);
  else
    v = v.get<double>() + delta;
  return j.dump();
}

}  // namespace

class TestGolden : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shippedCasesAllPass() {
    int n = 0;
    const QString report = run_folder(shipped_dir(), &n);
    QVERIFY2(n >= 67, qPrintable(QString("expected the 67 shipped cases, found %1").arg(n)));
    QVERIFY2(report.isEmpty(), qPrintable(report));
  }

  // QNN_GOLDEN_DIR names another folder of cases in the same format. When it is not
  // set, a folder holding copies of three shipped cases (one per family) goes through
  // the same path, so the mechanism is always exercised.
  void casesOfQnnGoldenDirPass() {
    const char* env = std::getenv("QNN_GOLDEN_DIR");
    QTemporaryDir copies;
    std::string dir;
    if (env && *env) {
      dir = env;
    } else {
      QVERIFY(copies.isValid());
      for (const char* name : {"int_quant_05_b4_s_perrow.json", "act_seq_relu_b4_collect3.json",
                               "model_eval_weights3_lenet_in1.json"})
        QVERIFY(QFile::copy(QString::fromStdString(shipped_dir() + "/" + name), copies.filePath(name)));
      dir = copies.path().toStdString();
    }
    QVERIFY2(QDir(QString::fromStdString(dir)).exists(),
             qPrintable(QString("QNN_GOLDEN_DIR=%1 does not exist").arg(QString::fromStdString(dir))));
    int n = 0;
    const QString report = run_folder(dir, &n);
    QVERIFY2(n > 0, qPrintable(QString("no *.json cases in %1").arg(QString::fromStdString(dir))));
    if (!(env && *env)) QCOMPARE(n, 3);
    QVERIFY2(report.isEmpty(), qPrintable(report));
  }

  // A case with one number changed must fail: one per kind and per kind of check.
  void oneChangedNumberFails_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("key");
    QTest::addColumn<double>("delta");
    QTest::addColumn<bool>("scalar");
    QTest::newRow("int_quant code") << "int_quant_00_b3_s.json" << "q" << 1.0 << false;
    QTest::newRow("int_quant value") << "int_quant_03_b8_s.json" << "y" << 1e-4 << false;
    QTest::newRow("weight code") << "weight_quant_conv2d_pertensor_w3.json" << "weight_codes" << 1.0 << false;
    QTest::newRow("weight scale") << "weight_quant_linear_perchannel_w4.json" << "scale" << 1e-5 << false;
    QTest::newRow("act sequence code") << "act_seq_relu_b4.json" << "q_train2" << 1.0 << false;
    QTest::newRow("act counter") << "act_seq_identity_b4_collect3.json" << "counter_after_train4" << 1.0 << true;
    QTest::newRow("act zero point") << "act_seq_identity_shifted_b8.json" << "zero_point_eval" << 1.0 << true;
    QTest::newRow("bias code") << "bias_quant_conv2d_int8bias.json" << "bias_codes" << 1.0 << false;
    QTest::newRow("output bit width") << "layer_conv2d_pertensor_w3_in4.json" << "y_bit_width" << 1.0 << true;
    QTest::newRow("gradient") << "gradient_relu_b4_during_collect.json" << "dL_dx" << 1e-3 << false;
    QTest::newRow("weight gradient") << "gradient_linear_w3_perchannel.json" << "dL_dweight" << 1e-3 << false;
    QTest::newRow("tanh sequence code") << "act_seq_tanh_b8_default.json" << "q_train3" << 1.0 << false;
    QTest::newRow("sigmoid sequence scale") << "act_seq_sigmoid_b4_collect3.json" << "scale_eval" << 1e-4 << true;
    QTest::newRow("conv1d output") << "layer_conv1d_perchannel_w3_in4.json" << "y" << 1e-3 << false;
    QTest::newRow("conv1d bit width") << "layer_conv1d_pertensor_uint_in_w3_in4.json" << "acc_bit_width" << 1.0 << true;
    QTest::newRow("depthwise fan_in") << "layer_conv2d_depthwise_k3_p1_perchannel_w3_in4.json" << "fan_in" << 1.0 << true;
    QTest::newRow("trunc pool code") << "layer_trunc_avgpool2d_k3_s8.json" << "y_codes" << 1.0 << false;
    QTest::newRow("trunc pool accumulator") << "layer_trunc_avgpool2d_k2_u4.json" << "acc_codes" << 1.0 << false;
    QTest::newRow("trunc pool scale") << "layer_trunc_adaptive_avgpool2d_out1_u8.json" << "y_scale" << 1e-6 << false;
    QTest::newRow("trunc pool shift") << "layer_trunc_avgpool2d_k2_s8.json" << "trunc_scale" << 1.0 << true;
    QTest::newRow("model logits") << "model_eval_lowprec_lenet_in1.json" << "logits" << 1e-3 << false;
    // weights3 has no activation quantizer, so its training replay has no rounding
    // hazard and is compared strictly (the hazard rule is no loophole).
    QTest::newRow("replayed training logits") << "model_eval_weights3_lenet_in1.json" << "train_logits_step2" << 1e-3
                                              << false;
    // lowprec's replay has rounding hazards from pass 0: a training scale 2x off still fails.
    QTest::newRow("hazard-bounded training scale") << "model_eval_lowprec_lenet_in1.json" << "train_step1.relu2.scale"
                                                   << 0.1 << true;
    QTest::newRow("replayed counter") << "model_eval_lowprec_lenet_in1.json" << "relu2.counter" << 1.0 << true;
    QTest::newRow("classic LeNet logits") << "model_eval_classic_lenet_in1.json" << "logits" << 1e-3 << false;
    QTest::newRow("resnet meta") << "model_eval_resnet_tiny_a8w4_in1.json" << "meta.pool.scale" << 1e-5 << false;
    QTest::newRow("checkpoint logits") << "model_eval_checkpoint_lowprec_lenet_in1.json" << "logits" << 1e-3 << false;
  }
  void oneChangedNumberFails() {
    QFETCH(QString, file);
    QFETCH(QString, key);
    QFETCH(double, delta);
    QFETCH(bool, scalar);
    const std::string path = shipped_dir() + "/" + file.toStdString();
    const std::string text = read_text(path);
    QVERIFY2(run_case(parse_case(text, path)).ok(), "the unchanged case must pass");
    const Checker k = run_case(parse_case(perturb(text, key.toStdString(), delta, scalar), path));
    QVERIFY(!k.ok());
    // The failure names the changed quantity.
    bool named = false;
    for (const auto& f : k.failures()) named |= f.find(key.toStdString()) != std::string::npos;
    QVERIFY2(named, k.failures().front().c_str());
    std::printf("changed %s in %s -> %s\n", qPrintable(key), qPrintable(file), k.failures().front().c_str());
  }

  void malformedCaseIsReportedWithItsPath() {
    try {
      parse_case("{\"name\": \"x\", \"kind\": \"int_quant\"", "broken.json");
      QFAIL("no exception");
    } catch (const std::runtime_error& e) {
      QVERIFY(std::string(e.what()).find("broken.json") != std::string::npos);
    }
    try {
      parse_case(R"({"name":"x","kind":"int_quant","config":{},"scalars":{},"tolerance":{"abs":1},
                    "tensors":{"x":{"shape":[3],"data":[1,2]}}})", "short.json");
      QFAIL("no exception");
    } catch (const std::runtime_error& e) {
      QVERIFY(std::string(e.what()).find("has 2 values") != std::string::npos);
    }
  }

  void unknownKindFails() {
    Case c;
    c.name = "x";
    c.kind = "something_new";
    QVERIFY(!run_case(c).ok());
  }
};

QTEST_MAIN(TestGolden)
#include "test_golden.moc"
