// SPDX-License-Identifier: GPL-3.0-or-later
// The FINN deployment target (issue 15): the project setting, FINN's dataflow rules as
// diagnostics on the node at fault (core/graph/finn_rules.h), `qnn validate --target`
// and the QONNX export refused under FINN. Each rule: a network that breaks it gets the
// diagnostic on the right node, one that keeps it does not.
#include <torch/torch.h>

#include <string>
#include <vector>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "core/errors.h"
#include "core/export/export_plan.h"
#include "core/graph/finn_rules.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/graph/validate.h"
#include "core/quant/quant_spec.h"
#include "core/train/checkpoint.h"
#include "tests/cli_run.h"

using namespace qnn;

namespace {

std::string examplePath(const std::string& name) {
  return std::string(QNN_SOURCE_DIR) + "/resources/examples/" + name + ".qnn.json";
}

Project finnExample(const std::string& name) {
  Project p = load_project(examplePath(name));
  p.deployment_target = DeploymentTarget::Finn;
  return p;
}

/// The FINN diagnostics of `p` as "node code" strings, in order.
QStringList finnFindings(const Project& p) {
  QStringList out;
  for (const Diagnostic& d : validate(p).diagnostics)
    if (is_finn_diagnostic(d)) {
      if (d.severity != Diagnostic::Severity::Warning) out << "NOT A WARNING";
      out << QString::fromStdString(d.node + " " + d.code);
    }
  return out;
}

const Diagnostic* finding(const ValidationResult& v, const std::string& node, const std::string& code) {
  for (const Diagnostic& d : v.diagnostics)
    if (d.node == node && d.code == code) return &d;
  return nullptr;
}

/// A small residual network: two branches from quant_inp joined by `join` (Add).
Project residual(bool sameBranch) {
  const std::string b = sameBranch ? "r1" : "r2";
  const std::string text = R"({"format": "qnn-studio-project", "version": 2, "name": "residual",
  "input": {"shape": [1, 8, 8]},
  "layers": [
    {"id": "input", "type": "Input"},
    {"id": "quant_inp", "type": "QuantIdentity", "act_quant": {"preset": "Int8ActPerTensorFloat"}},
    {"id": "c1", "type": "QuantConv2d", "params": {"in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": 1, "bias": false}},
    {"id": "r1", "type": "QuantReLU", "act_quant": {"preset": "Uint8ActPerTensorFloat", "bit_width": 4}},
    {"id": "c2", "type": "QuantConv2d", "params": {"in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": 1, "bias": false}},
    {"id": "r2", "type": "QuantReLU", "act_quant": {"preset": "Uint8ActPerTensorFloat", "bit_width": 4}},
    {"id": "join", "type": "Add"},
    {"id": "flatten", "type": "Flatten"},
    {"id": "fc", "type": "QuantLinear", "params": {"in_features": 128, "out_features": 10, "bias": false}},
    {"id": "output", "type": "Output"}],
  "connections": [
    {"from": "input", "to": "quant_inp", "port": 0}, {"from": "quant_inp", "to": "c1", "port": 0},
    {"from": "c1", "to": "r1", "port": 0}, {"from": "quant_inp", "to": "c2", "port": 0},
    {"from": "c2", "to": "r2", "port": 0}, {"from": "r1", "to": "join", "port": 0},
    {"from": ")" + b + R"(", "to": "join", "port": 1}, {"from": "join", "to": "flatten", "port": 0},
    {"from": "flatten", "to": "fc", "port": 0}, {"from": "fc", "to": "output", "port": 0}]})";
  Project p = project_from_json(text, "residual.qnn.json");
  p.deployment_target = DeploymentTarget::Finn;
  return p;
}

}  // namespace

class TestFinn : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void targetRoundTripsAndOlderFilesKeepTheirBytes();
  void unknownTargetIsRefused();
  void rulesAreOffWithoutTheFinnTarget();
  void zeroPointRule();
  void reluQuantRule();
  void actBitsRule();
  void inputQuantRule();
  void truncFloorRule();
  void joinScalesRule();
  void examplesUnderFinn();
  void qonnxExportIsRefusedUnderFinn();
  void cliValidateTarget();
};

void TestFinn::targetRoundTripsAndOlderFilesKeepTheirBytes() {
  const Project plain = load_project(examplePath("lenet_lowprec"));
  QCOMPARE(plain.deployment_target, DeploymentTarget::None);
  const std::string text = project_to_json(plain);
  QVERIFY(text.find("deployment_target") == std::string::npos);
  QVERIFY(text.find("\"version\": 2") != std::string::npos);  // unchanged for older builds
  for (DeploymentTarget t : {DeploymentTarget::OnnxRuntime, DeploymentTarget::Finn}) {
    Project p = plain;
    p.deployment_target = t;
    QVERIFY(!(p == plain));  // operator== sees the target
    const std::string saved = project_to_json(p);
    QVERIFY(saved.find("\"version\": 4") != std::string::npos);
    QVERIFY(saved.find("\"deployment_target\": \"" + to_string(t) + "\"") != std::string::npos);
    const Project back = project_from_json(saved, "t.qnn.json");
    QCOMPARE(back.deployment_target, t);
    QVERIFY(back == p);
  }
  QCOMPARE(QString::fromStdString(to_string(DeploymentTarget::OnnxRuntime)), QStringLiteral("onnxruntime"));
  QVERIFY(!deployment_target_from_string("FINN"));  // the file's spelling only
}

void TestFinn::unknownTargetIsRefused() {
  std::string text = project_to_json(finnExample("lenet_lowprec"));
  const size_t at = text.find("\"finn\"");
  QVERIFY(at != std::string::npos);
  text.replace(at, 6, "\"fpga\"");
  try {
    project_from_json(text, "board.qnn.json");
    QFAIL("an unknown deployment target was accepted");
  } catch (const ConfigError& e) {
    const QString m = QString::fromUtf8(e.what());
    QVERIFY2(m.contains("board.qnn.json") && m.contains("deployment_target") && m.contains("fpga") &&
                 m.contains("\"finn\""),
             qPrintable(m));
  }
  // A version 3 file may not carry it (older builds would not know it).
  std::string v3 = project_to_json(finnExample("lenet_lowprec"));
  v3.replace(v3.find("\"version\": 4"), 12, "\"version\": 3");
  QVERIFY_THROWS_EXCEPTION(ConfigError, project_from_json(v3, "v3.qnn.json"));
}

void TestFinn::rulesAreOffWithoutTheFinnTarget() {
  Project p = finnExample("lenet5_classic");
  QCOMPARE(finnFindings(p).size(), 2);  // its two pools round half to even
  for (DeploymentTarget t : {DeploymentTarget::None, DeploymentTarget::OnnxRuntime}) {
    p.deployment_target = t;
    QCOMPARE(finnFindings(p), QStringList());
  }
}

void TestFinn::zeroPointRule() {
  Project p = finnExample("lenet_lowprec");
  QCOMPARE(finnFindings(p), QStringList());  // keeps every rule
  QuantSpec shifted = presets::ShiftedUint8WeightPerTensorFloat();
  shifted.bit_width = 3;
  p.find("conv2")->weight_quant = shifted;
  const ValidationResult v = validate(p);
  QVERIFY2(v.ok(), v.error_text().c_str());  // a warning: training is not blocked
  QCOMPARE(finnFindings(p), QStringList{"conv2 finn-zero-point"});
  const Diagnostic* d = finding(v, "conv2", "finn-zero-point");
  QVERIFY(d->message.find("weight_quant ShiftedUint8WeightPerTensorFloat") != std::string::npos);
  QCOMPARE(QString::fromStdString(d->hint), QStringLiteral("make weight_quant symmetric: set shifted off"));
}

void TestFinn::reluQuantRule() {
  Project p = finnExample("lenet_lowprec");
  p.find("relu2")->act_quant->is_signed = true;
  p.find("relu3")->act_quant->narrow_range = true;
  QCOMPARE(finnFindings(p), (QStringList{"relu2 finn-relu-quant", "relu3 finn-relu-quant"}));
  const ValidationResult v = validate(p);
  QCOMPARE(QString::fromStdString(finding(v, "relu2", "finn-relu-quant")->hint), QStringLiteral("set signed off"));
  QCOMPARE(QString::fromStdString(finding(v, "relu3", "finn-relu-quant")->hint), QStringLiteral("set narrow_range off"));
  QVERIFY(finding(v, "relu2", "finn-relu-quant")->message.find("after a ReLU") != std::string::npos);

  // A QuantIdentity fed by a float ReLU is the quantizer after that ReLU.
  Project q = finnExample("lenet_lowprec");
  LayerSpec* relu1 = q.find("relu1");
  relu1->type = LayerType::ReLU;
  relu1->act_quant.reset();
  relu1->return_quant_tensor = false;
  LayerSpec id;
  id.id = "qid";
  id.type = LayerType::QuantIdentity;
  id.inputs = {"relu1"};
  id.act_quant = presets::Int8ActPerTensorFloat();  // signed: wrong after a ReLU
  id.act_quant->bit_width = 4;
  id.return_quant_tensor = true;
  q.find("pool1")->inputs = {"qid"};
  q.layers.push_back(id);
  QVERIFY2(validate(q).ok(), validate(q).error_text().c_str());
  QCOMPARE(finnFindings(q), QStringList{"qid finn-relu-quant"});
  // Also through a max pool between them: relu1 -> pool1 -> qid -> conv2.
  {
    Project r = q;
    r.find("qid")->inputs = {"pool1"};
    r.find("pool1")->inputs = {"relu1"};
    r.find("conv2")->inputs = {"qid"};
    QVERIFY2(validate(r).ok(), validate(r).error_text().c_str());
    QCOMPARE(finnFindings(r), QStringList{"qid finn-relu-quant"});
  }
  id.act_quant = presets::Uint8ActPerTensorFloat();
  id.act_quant->bit_width = 4;
  q.layers.back() = id;
  QCOMPARE(finnFindings(q), QStringList());
}

void TestFinn::actBitsRule() {
  Project p = finnExample("lenet_lowprec");
  p.find("relu4")->act_quant->bit_width = 8;  // the limit: kept
  QCOMPARE(finnFindings(p), QStringList());
  p.find("relu4")->act_quant->bit_width = 10;
  QVERIFY(validate(p).ok());
  QCOMPARE(finnFindings(p), QStringList{"relu4 finn-act-bits"});
  QVERIFY(finding(validate(p), "relu4", "finn-act-bits")->message.find("has 10 bits") != std::string::npos);
}

void TestFinn::inputQuantRule() {
  // The weights-only LeNet feeds the float input straight into conv1.
  const Project w = finnExample("lenet_weights3");
  QCOMPARE(finnFindings(w), QStringList{"conv1 finn-input-quant"});
  const ValidationResult v = validate(w);
  const Diagnostic* d = finding(v, "conv1", "finn-input-quant");
  QCOMPARE(QString::fromStdString(d->hint),
           QStringLiteral("insert a QuantIdentity (e.g. Int8ActPerTensorFloat) between input and conv1"));
  // A Flatten before the input quantizer (FINN's TFC) is a reshape: kept.
  QCOMPARE(finnFindings(finnExample("tfc_w2a2")), QStringList());
}

void TestFinn::truncFloorRule() {
  Project p = finnExample("lenet5_classic");
  QCOMPARE(finnFindings(p), (QStringList{"pool1 finn-trunc-floor", "pool2 finn-trunc-floor"}));
  p.find("pool1")->set_param("floor", 1);
  QCOMPARE(finnFindings(p), QStringList{"pool2 finn-trunc-floor"});
  QCOMPARE(QString::fromStdString(finding(validate(p), "pool2", "finn-trunc-floor")->hint),
           QStringLiteral("set floor to 1 (Brevitas TruncTo8bit)"));
}

void TestFinn::joinScalesRule() {
  const Project two = residual(false);
  QVERIFY2(validate(two).ok(), validate(two).error_text().c_str());  // a float Add: validation lets it pass
  QCOMPARE(finnFindings(two), QStringList{"join finn-join-scales"});
  const std::string m = finding(validate(two), "join", "finn-join-scales")->message;
  QVERIFY2(m.find("r1 (r1's scale)") != std::string::npos && m.find("r2 (r2's scale)") != std::string::npos, m.c_str());
  QCOMPARE(finnFindings(residual(true)), QStringList());  // both ports from r1: one grid
  // A float operand (the convolution's accumulator) is not on a grid either.
  Project f = residual(false);
  f.find("join")->inputs[1] = "c2";
  QCOMPARE(finnFindings(f), QStringList{"join finn-join-scales"});
  QVERIFY(finding(validate(f), "join", "finn-join-scales")->message.find("c2 (float") != std::string::npos);
}

void TestFinn::examplesUnderFinn() {
  // What README.md says of the examples: which pass and why the others do not.
  QCOMPARE(finnFindings(finnExample("lenet_lowprec")), QStringList());
  QCOMPARE(finnFindings(finnExample("lenet_w4a4_int32bias")), QStringList());
  QCOMPARE(finnFindings(finnExample("lenet_w8a8")), QStringList());
  QCOMPARE(finnFindings(finnExample("tfc_w2a2")), QStringList());
  QCOMPARE(finnFindings(finnExample("cnv_w2a2")), QStringList());
  QCOMPARE(finnFindings(finnExample("resnet8_w4a4")), QStringList{"pool finn-trunc-floor"});
  QCOMPARE(finnFindings(finnExample("lenet5_classic")), (QStringList{"pool1 finn-trunc-floor", "pool2 finn-trunc-floor"}));
  QCOMPARE(finnFindings(finnExample("lenet_weights3")), QStringList{"conv1 finn-input-quant"});
  QCOMPARE(finnFindings(finnExample("lenet_float")), QStringList{"conv1 finn-input-quant"});
}

void TestFinn::qonnxExportIsRefusedUnderFinn() {
  Project p = finnExample("lenet5_classic");
  std::vector<ExportIssue> issues = preflight(p, ExportFormat::Qonnx);
  QCOMPARE(int(issues.size()), 2);
  QVERIFY(issues[0].error && issues[0].layer == "pool1");
  QVERIFY2(issues[0].text().find("FLOOR") != std::string::npos &&
               issues[0].text().find("deployment target is FINN") != std::string::npos,
           issues[0].text().c_str());
  // QCDQ (ONNX Runtime) is not FINN's: no refusal from the rules.
  for (const ExportIssue& i : preflight(p, ExportFormat::Qcdq)) QVERIFY2(!i.error, i.text().c_str());
  // The rules kept: nothing refused.
  p.find("pool1")->set_param("floor", 1);
  p.find("pool2")->set_param("floor", 1);
  for (const ExportIssue& i : preflight(p, ExportFormat::Qonnx)) QVERIFY2(!i.error, i.text().c_str());
}

void TestFinn::cliValidateTarget() {
  const QString example = QString::fromStdString(examplePath("lenet5_classic"));
  const qnn_test::CliRun plain = qnn_test::runQnn({"validate", example}, 60000);
  QCOMPARE(plain.code, 0);
  QVERIFY2(!plain.out.contains("finn-") && !plain.out.contains("FLOOR"), qPrintable(plain.text()));
  const qnn_test::CliRun finn = qnn_test::runQnn({"validate", example, "--target", "finn"}, 60000);
  QCOMPARE(finn.code, 0);  // warnings do not fail
  QVERIFY2(finn.out.contains("warning: pool1: FINN truncates average pools with FLOOR") &&
               finn.out.contains("warning: pool2:") && finn.out.contains("deployment target finn"),
           qPrintable(finn.text()));
  const qnn_test::CliRun bad = qnn_test::runQnn({"validate", example, "--target", "fpga"}, 60000);
  QCOMPARE(bad.code, 2);
  QVERIFY2(bad.err.contains("--target expects none, onnxruntime or finn, got 'fpga'"), qPrintable(bad.text()));

  // A FINN project file: qnn export --format qonnx refuses it and writes nothing.
  QTemporaryDir dir;
  const QString project = dir.filePath("classic_finn.qnn.json");
  save_project(finnExample("lenet5_classic"), project.toStdString());
  const QString checkpoint = dir.filePath("classic.pt");  // untrained: the refusal comes before the weights matter
  QuantModel model = build_model(finnExample("lenet5_classic"));
  save_checkpoint(model, checkpoint.toStdString());
  const QString out = dir.filePath("classic.onnx");
  const qnn_test::CliRun ex =
      qnn_test::runQnn({"export", project, "--checkpoint", checkpoint, "--format", "qonnx", "--out", out}, 120000);
  QVERIFY2(ex.code != 0 && (ex.out + ex.err).contains("pool1") && (ex.out + ex.err).contains("FLOOR"), qPrintable(ex.text()));
  QVERIFY(!QFile::exists(out));
}

QTEST_MAIN(TestFinn)
#include "test_finn.moc"
