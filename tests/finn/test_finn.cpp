// SPDX-License-Identifier: GPL-3.0-or-later
// The FINN deployment target (issue 15): the project setting, FINN's dataflow rules as
// diagnostics on the node at fault (core/graph/finn_rules.h), `qnn validate --target`
// and the QONNX export refused under FINN. Each rule: a network that breaks it gets the
// diagnostic on the right node, one that keeps it does not.
#include <torch/torch.h>

#include <string>
#include <vector>

#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "core/errors.h"
#include "core/export/export_plan.h"
#include "core/export/qcdq_export.h"
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

/// Only the findings of one rule `code`.
QStringList finnFindings(const Project& p, const QString& code) {
  QStringList out;
  for (const QString& f : finnFindings(p))
    if (f.endsWith(" " + code)) out << f;
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

/// graph.quantization_annotation as tensor -> finn_datatype (each tensor at most once).
std::map<std::string, std::string> finnDatatypes(const onnx::ModelProto& m) {
  std::map<std::string, std::string> out;
  for (const onnx::TensorAnnotation& a : m.graph().quantization_annotation())
    for (const onnx::StringStringEntryProto& e : a.quant_parameter_tensor_names())
      if (e.key() == "finn_datatype") {
        if (out.count(a.tensor_name())) out[a.tensor_name()] = "TWICE";
        else out[a.tensor_name()] = e.value();
      }
  return out;
}

onnx::ModelProto parseModel(const std::string& bytes) {
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes)) throw std::runtime_error("not an ONNX model");
  return m;
}

/// The QONNX model of `p` (untrained: scales from the eval forward of a fresh model).
onnx::ModelProto qonnxOf(const Project& p) {
  torch::manual_seed(0);
  QuantModel model = build_model(p);
  return parseModel(qonnx_model_bytes(make_export_plan(model)));
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
  void identitySignedRule();
  void actBitsRule();
  void inputQuantRule();
  void truncFloorRule();
  void joinScalesRule();
  void unsupportedOpRule();
  void examplesUnderFinn();
  void qonnxExportIsRefusedUnderFinn();
  void cliValidateTarget();
  void choosingFinnFloorsTruncatingPools();
  void qonnxUnderFinnAnnotatesDatatypes();
  void qonnxWithoutFinnIsUnchanged();
  void binaryIdentityNeedsUnitScaleUnderFinn();
  void truncOutputsAnnotatedUnderFinn();
  void cliExportTarget();
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
  // Written by hand into a version 2 file: the error says which version it needs.
  std::string v2 = v3;
  v2.replace(v2.find("\"version\": 3"), 12, "\"version\": 2");
  try {
    project_from_json(v2, "v2.qnn.json");
    QFAIL("a deployment_target in a version 2 file was accepted");
  } catch (const ConfigError& e) {
    const QString m = QString::fromUtf8(e.what());
    QVERIFY2(m.contains("v2.qnn.json") && m.contains("deployment_target") &&
                 m.contains("needs format version 4 (this file says \"version\": 2); set \"version\": 4") &&
                 !m.contains("unknown field"),
             qPrintable(m));
  }
}

void TestFinn::rulesAreOffWithoutTheFinnTarget() {
  Project p = finnExample("lenet5_classic");
  QCOMPARE(finnFindings(p).size(), 6);  // its two pools round half to even; four float Tanh
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
  // A max pool between them (relu1 -> pool1 -> qid -> conv2): in the export the Quant
  // follows the MaxPool, not the Relu, so FINN converts it as a quantized identity
  // (QuantIdentityHandler), which needs it SIGNED: the signed qid keeps the rules, an
  // unsigned one breaks finn-identity-signed.
  {
    Project r = q;
    r.find("qid")->inputs = {"pool1"};
    r.find("pool1")->inputs = {"relu1"};
    r.find("conv2")->inputs = {"qid"};
    // The Relu itself then stays a float op (only the QuantReluHandler removes a Relu).
    QVERIFY2(validate(r).ok(), validate(r).error_text().c_str());
    QCOMPARE(finnFindings(r), QStringList{"relu1 finn-unsupported-op"});
    r.find("qid")->act_quant = presets::Uint8ActPerTensorFloat();
    r.find("qid")->act_quant->bit_width = 4;
    QCOMPARE(finnFindings(r), (QStringList{"relu1 finn-unsupported-op", "qid finn-identity-signed"}));
  }
  // Dropout and Identity vanish in the export: the Quant still follows the Relu.
  {
    Project r = q;
    LayerSpec drop;
    drop.id = "drop";
    drop.type = LayerType::Dropout;
    drop.inputs = {"relu1"};
    r.layers.push_back(drop);
    r.find("qid")->inputs = {"drop"};
    QVERIFY2(validate(r).ok(), validate(r).error_text().c_str());
    QCOMPARE(finnFindings(r), QStringList{"qid finn-relu-quant"});
  }
  id.act_quant = presets::Uint8ActPerTensorFloat();
  id.act_quant->bit_width = 4;
  q.layers.back() = id;
  QCOMPARE(finnFindings(q), QStringList());
}

// Activation quantizers FINN converts as a quantized identity (no Relu right before their
// Quant: the input quantizer, QuantHardTanh, QuantTanh, QuantSigmoid, QuantEltwiseAdd)
// must be signed (FINN's QuantIdentityHandler: "FINN only supports signed Quant nodes for
// identity activations").
void TestFinn::identitySignedRule() {
  Project p = finnExample("lenet_lowprec");
  QCOMPARE(finnFindings(p), QStringList());
  p.find("quant_inp")->act_quant->is_signed = false;
  QCOMPARE(finnFindings(p), QStringList{"quant_inp finn-identity-signed"});
  const ValidationResult v = validate(p);
  const Diagnostic* d = finding(v, "quant_inp", "finn-identity-signed");
  QVERIFY(d);
  QVERIFY2(d->message.find("must be signed; act_quant is unsigned") != std::string::npos, d->message.c_str());
  QVERIFY2(d->hint.find("set act_quant signed on") == 0, d->hint.c_str());
  // CNV's QuantHardTanh and ResNet-8's QuantEltwiseAdd: signed as shipped; unsigned breaks the rule.
  Project c = finnExample("cnv_w2a2");
  c.find("act3")->act_quant->is_signed = false;
  c.find("act3")->act_quant->narrow_range = false;
  QCOMPARE(finnFindings(c, "finn-identity-signed"), QStringList{"act3 finn-identity-signed"});
  Project r = finnExample("resnet8_w4a4");
  r.find("pool")->set_param("floor", 1);
  QCOMPARE(finnFindings(r), QStringList());
  r.find("s2_add")->act_quant->is_signed = false;
  QCOMPARE(finnFindings(r), QStringList{"s2_add finn-identity-signed"});
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
  QCOMPARE(finnFindings(w, "finn-input-quant"), QStringList{"conv1 finn-input-quant"});
  const ValidationResult v = validate(w);
  const Diagnostic* d = finding(v, "conv1", "finn-input-quant");
  QCOMPARE(QString::fromStdString(d->hint),
           QStringLiteral("quantize the network input: insert a QuantIdentity with a signed quantizer (e.g. "
                          "Int8ActPerTensorFloat) between input and conv1"));
  // A QuantReLU at the input quantizes it (FINN: Relu -> Quant becomes one MultiThreshold on
  // the input), as does a float ReLU read only by an (unsigned) QuantIdentity.
  {
    Project r = finnExample("lenet_lowprec");
    LayerSpec* q = r.find("quant_inp");
    q->type = LayerType::QuantReLU;
    q->act_quant = presets::Uint8ActPerTensorFloat();
    q->act_quant->bit_width = 4;
    QVERIFY2(validate(r).ok(), validate(r).error_text().c_str());
    QCOMPARE(finnFindings(r), QStringList());
    LayerSpec relu;
    relu.id = "relu0";
    relu.type = LayerType::ReLU;
    relu.inputs = {"input"};
    r.layers.push_back(relu);
    q->type = LayerType::QuantIdentity;
    q->inputs = {"relu0"};
    QVERIFY2(validate(r).ok(), validate(r).error_text().c_str());
    QCOMPARE(finnFindings(r), QStringList());
    // Without quant_inp the float ReLU is read by conv1: the ReLU stays a float op.
    r.layers.erase(std::find_if(r.layers.begin(), r.layers.end(),
                                [](const LayerSpec& l) { return l.id == "quant_inp"; }));
    r.find("conv1")->inputs = {"relu0"};
    r.find("conv1")->bias_quant.reset();
    QVERIFY2(validate(r).ok(), validate(r).error_text().c_str());
    QCOMPARE(finnFindings(r), (QStringList{"relu0 finn-unsupported-op"}));
  }
  // A Flatten before the input quantizer (FINN's TFC) is a reshape: kept.
  QCOMPARE(finnFindings(finnExample("tfc_w2a2"), "finn-input-quant"), QStringList());
}

void TestFinn::truncFloorRule() {
  Project p = finnExample("lenet5_classic");
  QCOMPARE(finnFindings(p, "finn-trunc-floor"), (QStringList{"pool1 finn-trunc-floor", "pool2 finn-trunc-floor"}));
  p.find("pool1")->set_param("floor", 1);
  QCOMPARE(finnFindings(p, "finn-trunc-floor"), QStringList{"pool2 finn-trunc-floor"});
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

// Float ops FINN has no hardware layer for. FINN's ConvertQuantActToMultiThreshold
// removes the node before an activation Quant only when it is a Relu (QuantReluHandler);
// its QuantIdentityHandler, the fallback for every other predecessor, removes none
// (qonnx_activation_handlers.py), and no later transformation takes Tanh, Sigmoid or Clip.
void TestFinn::unsupportedOpRule() {
  // The classic LeNet-5: QuantTanh exports Tanh -> Quant; the Tanh stays.
  Project p = finnExample("lenet5_classic");
  apply_deployment_target(p, DeploymentTarget::Finn);  // FLOOR pools: only this rule is left
  QCOMPARE(finnFindings(p), (QStringList{"tanh1 finn-unsupported-op", "tanh2 finn-unsupported-op",
                                         "tanh3 finn-unsupported-op", "tanh4 finn-unsupported-op"}));
  const ValidationResult v = validate(p);
  QVERIFY2(v.ok(), v.error_text().c_str());  // a warning, as every FINN rule
  const Diagnostic* d = finding(v, "tanh1", "finn-unsupported-op");
  QVERIFY(d);
  QVERIFY2(d->message.find("FINN has no hardware layer for a float Tanh") == 0, d->message.c_str());
  QVERIFY2(d->hint.find("replace tanh1 by a QuantReLU, or by a signed QuantIdentity") == 0, d->hint.c_str());
  // The same network with signed QuantIdentity activations: nothing to flag.
  Project q = p;
  for (const char* id : {"tanh1", "tanh2", "tanh3", "tanh4"}) q.find(id)->type = LayerType::QuantIdentity;
  QVERIFY2(validate(q).ok(), validate(q).error_text().c_str());
  QCOMPARE(finnFindings(q), QStringList());
  // A float Tanh / Sigmoid / HardTanh: the node itself.
  for (const auto& [type, op] : {std::pair{LayerType::Tanh, "Tanh"}, std::pair{LayerType::Sigmoid, "Sigmoid"},
                                 std::pair{LayerType::HardTanh, "Clip (HardTanh)"}}) {
    Project f = q;
    LayerSpec* t = f.find("tanh3");
    t->type = type;
    t->act_quant.reset();
    t->return_quant_tensor = false;
    f.find("fc2")->bias_quant.reset();  // Int32Bias needs a QuantTensor input
    QVERIFY2(validate(f).ok(), validate(f).error_text().c_str());
    QCOMPARE(finnFindings(f, "finn-unsupported-op"), QStringList{"tanh3 finn-unsupported-op"});
    const ValidationResult vf = validate(f);
    const Diagnostic* fd = finding(vf, "tanh3", "finn-unsupported-op");
    QVERIFY(fd);
    QCOMPARE(QString::fromStdString(fd->message), QStringLiteral("FINN has no hardware layer for a float ") + op);
  }
  // A float AvgPool2d exports a bare AveragePool (no Trunc), which FINN builds no pool
  // from; the TruncAvgPool2d it replaces was clean (q above).
  {
    Project a = q;
    LayerSpec* pool = a.find("pool2");
    const LayerSpec before = *pool;
    LayerSpec avg;
    avg.id = before.id;
    avg.type = LayerType::AvgPool2d;
    avg.inputs = before.inputs;
    avg.params = before.params;  // kernel_size 2
    *pool = avg;
    QVERIFY2(validate(a).ok(), validate(a).error_text().c_str());
    QCOMPARE(finnFindings(a), QStringList{"pool2 finn-unsupported-op"});
    const ValidationResult va = validate(a);
    const Diagnostic* ad = finding(va, "pool2", "finn-unsupported-op");
    QVERIFY(ad);
    QVERIFY2(ad->message.find("FINN has no hardware layer for a float AveragePool") == 0, ad->message.c_str());
    QVERIFY2(ad->hint.find("replace pool2 by a TruncAvgPool2d") == 0, ad->hint.c_str());
  }
  // FINN's TFC with QuantHardTanh: as in Brevitas the layer is its quantizer alone and
  // exports one Quant, no Clip (FINN's QuantIdentityHandler converts it): nothing flagged.
  Project t = finnExample("tfc_w2a2");
  QVERIFY2(validate(t).ok(), validate(t).error_text().c_str());
  QCOMPARE(finnFindings(t), QStringList());
  // A float ReLU stays unless only activation quantizers read it: relu1 -> pool1 here.
  const Project w = finnExample("lenet_weights3");
  QCOMPARE(finnFindings(w, "finn-unsupported-op"), (QStringList{"relu1 finn-unsupported-op", "relu2 finn-unsupported-op",
                                                                "relu3 finn-unsupported-op", "relu4 finn-unsupported-op"}));
  const ValidationResult vw = validate(w);
  const Diagnostic* r = finding(vw, "relu1", "finn-unsupported-op");
  QVERIFY(r);
  QVERIFY2(r->message.find("pool1 follows relu1") != std::string::npos, r->message.c_str());
  QVERIFY2(r->hint.find("make relu1 a QuantReLU") == 0, r->hint.c_str());
  // The QONNX export names each such op: the float nodes the rule is about.
  QStringList ops;
  const onnx::ModelProto tfc = qonnxOf(finnExample("tfc_w2a2"));
  for (const onnx::NodeProto& n : tfc.graph().node())
    if (n.op_type() == "Clip" || n.op_type() == "Tanh") ops << QString::fromStdString(n.op_type());
  QCOMPARE(ops, QStringList());  // tfc_w2a2's QuantHardTanh: a Quant each, no Clip
  int quants = 0;
  for (const onnx::NodeProto& n : tfc.graph().node())
    if (n.op_type() == "Quant" && n.input(0).find("weight") == std::string::npos) ++quants;
  QVERIFY(quants >= 4);  // the input quantizer and act1..act3 at least
}

void TestFinn::examplesUnderFinn() {
  // What README.md says of the examples: which pass and why the others do not.
  QCOMPARE(finnFindings(finnExample("lenet_lowprec")), QStringList());
  QCOMPARE(finnFindings(finnExample("lenet_w4a4_int32bias")), QStringList());
  QCOMPARE(finnFindings(finnExample("lenet_w8a8")), QStringList());
  // QuantHardTanh exports its Quant alone (no Clip), which FINN converts.
  QCOMPARE(finnFindings(finnExample("tfc_w2a2")), QStringList());
  QCOMPARE(finnFindings(finnExample("cnv_w2a2")), QStringList());
  QCOMPARE(finnFindings(finnExample("resnet8_w4a4")), QStringList{"pool finn-trunc-floor"});
  QCOMPARE(finnFindings(finnExample("lenet5_classic")),
           (QStringList{"tanh1 finn-unsupported-op", "pool1 finn-trunc-floor", "tanh2 finn-unsupported-op",
                        "pool2 finn-trunc-floor", "tanh3 finn-unsupported-op", "tanh4 finn-unsupported-op"}));
  const QStringList floatRelus{"relu1 finn-unsupported-op", "relu2 finn-unsupported-op", "relu3 finn-unsupported-op",
                               "relu4 finn-unsupported-op"};
  QCOMPARE(finnFindings(finnExample("lenet_weights3")), QStringList{"conv1 finn-input-quant"} + floatRelus);
  QCOMPARE(finnFindings(finnExample("lenet_float")), QStringList{"conv1 finn-input-quant"} + floatRelus);
}

void TestFinn::qonnxExportIsRefusedUnderFinn() {
  Project p = finnExample("resnet8_w4a4");
  std::vector<ExportIssue> issues = preflight(p, ExportFormat::Qonnx);
  QCOMPARE(int(issues.size()), 1);
  QVERIFY(issues[0].error && issues[0].layer == "pool");
  QVERIFY2(issues[0].text().find("FLOOR") != std::string::npos &&
               issues[0].text().find("deployment target: FINN)") != std::string::npos,
           issues[0].text().c_str());
  // QCDQ (ONNX Runtime) is not FINN's: no refusal from the rules.
  for (const ExportIssue& i : preflight(p, ExportFormat::Qcdq)) QVERIFY2(!i.error, i.text().c_str());
  // The rules kept: nothing refused.
  p.find("pool")->set_param("floor", 1);
  for (const ExportIssue& i : preflight(p, ExportFormat::Qonnx)) QVERIFY2(!i.error, i.text().c_str());
  // A float op FINN has no layer for refuses it too, naming the layer.
  Project c = finnExample("lenet5_classic");
  apply_deployment_target(c, DeploymentTarget::Finn);
  issues = preflight(c, ExportFormat::Qonnx);
  QCOMPARE(int(issues.size()), 4);
  QVERIFY2(issues[0].error && issues[0].layer == "tanh1" &&
               issues[0].text().find("no hardware layer for a float Tanh") != std::string::npos,
           issues[0].text().c_str());
}

void TestFinn::cliValidateTarget() {
  const QString example = QString::fromStdString(examplePath("lenet5_classic"));
  const qnn_test::CliRun plain = qnn_test::runQnn({"validate", example}, 60000);
  QCOMPARE(plain.code, 0);
  QVERIFY2(!plain.out.contains("finn-") && !plain.out.contains("FLOOR"), qPrintable(plain.text()));
  // --target finn chooses FINN as Edit > Deployment Target does: the pools get FLOOR
  // (said in a note; the file is not changed), so no finn-trunc-floor warning.
  const qnn_test::CliRun finn = qnn_test::runQnn({"validate", example, "--target", "finn"}, 60000);
  QCOMPARE(finn.code, 0);
  QVERIFY2(finn.err.contains("note: --target finn: pool1, pool2 truncate with FLOOR (floor 1), as choosing FINN in "
                             "Edit > Deployment Target sets it;") &&
               !finn.out.contains("finn-trunc-floor") && !finn.out.contains("FINN truncates") &&
               finn.out.contains("deployment target finn"),
           qPrintable(finn.text()));
  QVERIFY(!load_project(example.toStdString()).find("pool1")->param("floor", 0.0));  // the file is not changed
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

// The one rule of choosing a target (core apply_deployment_target(), used by the GUI's
// Edit > Deployment Target and the CLI's --target): FINN floors the truncating pools
// that round half to even, and only those; the other targets change no layer.
void TestFinn::choosingFinnFloorsTruncatingPools() {
  Project p = load_project(examplePath("lenet5_classic"));
  QCOMPARE(p.find("pool1")->param("floor", 0.0), 0.0);
  Project other = p;
  QVERIFY(apply_deployment_target(other, DeploymentTarget::OnnxRuntime).empty());
  QCOMPARE(other.deployment_target, DeploymentTarget::OnnxRuntime);
  QCOMPARE(other.find("pool1")->param("floor", 0.0), 0.0);
  const std::vector<std::string> floored = apply_deployment_target(p, DeploymentTarget::Finn);
  QCOMPARE(floored, (std::vector<std::string>{"pool1", "pool2"}));
  QCOMPARE(p.deployment_target, DeploymentTarget::Finn);
  QCOMPARE(p.find("pool1")->param("floor", 0.0), 1.0);
  QCOMPARE(p.find("pool2")->param("floor", 0.0), 1.0);
  // No FLOOR rule is broken then; its float Tanh stay (FINN has no hardware layer for them).
  QCOMPARE(finnFindings(p), (QStringList{"tanh1 finn-unsupported-op", "tanh2 finn-unsupported-op",
                                         "tanh3 finn-unsupported-op", "tanh4 finn-unsupported-op"}));
  // Again: nothing left to change. Back to None: FLOOR stays (as undo-less GUI choice would).
  QVERIFY(apply_deployment_target(p, DeploymentTarget::Finn).empty());
  QVERIFY(apply_deployment_target(p, DeploymentTarget::None).empty());
  QCOMPARE(p.find("pool2")->param("floor", 0.0), 1.0);
  // A network without truncating pools: nothing changes but the target.
  Project lenet = load_project(examplePath("lenet_lowprec"));
  const std::vector<LayerSpec> before = lenet.layers;
  QVERIFY(apply_deployment_target(lenet, DeploymentTarget::Finn).empty());
  QVERIFY(lenet.layers == before);
}

// QONNX under FINN: every Quant / BipolarQuant output carries the FINN DataType QONNX's
// InferDataTypes gives it (quant.py get_output_dtype(): zero point 0 and scale 1 ->
// INT<b>/UINT<b>, other scales SCALEDINT<b>), in graph.quantization_annotation as
// ModelWrapper.set_tensor_datatype() writes it; the network input is FLOAT32 (the
// normalised image; its first Quant makes it integer).
void TestFinn::qonnxUnderFinnAnnotatesDatatypes() {
  // lenet_lowprec: quant_inp is a 4-bit signed QuantIdentity with a runtime-statistics scale.
  Project p = finnExample("lenet_lowprec");
  {
    torch::manual_seed(0);
    QuantModel model = build_model(p);
    const ExportPlan plan = make_export_plan(model);
    QVERIFY(plan.find("quant_inp")->act_q && plan.find("quant_inp")->act_q->scale.item<float>() != 1.0f);
    const onnx::ModelProto m = parseModel(qonnx_model_bytes(plan));
    const std::map<std::string, std::string> dt = finnDatatypes(m);
    QCOMPARE(QString::fromStdString(dt.at("input")), QStringLiteral("FLOAT32"));
    QCOMPARE(QString::fromStdString(dt.at("quant_inp")), QStringLiteral("SCALEDINT<4>"));  // the quantized input
    QCOMPARE(QString::fromStdString(dt.at("conv1/weight")), QStringLiteral("SCALEDINT<3>"));
    QCOMPARE(QString::fromStdString(dt.at("relu1")), QStringLiteral("SCALEDINT<4>"));
    // One annotation per Quant / BipolarQuant output, nothing else but the input; each
    // Quant symmetric (zero point 0) with a scalar scale, or [C, 1, 1, 1] / [C] (weights, biases).
    size_t quants = 0;
    for (const onnx::NodeProto& n : m.graph().node()) {
      if (n.op_type() != "Quant" && n.op_type() != "BipolarQuant") continue;
      ++quants;
      QVERIFY2(dt.count(n.output(0)), n.output(0).c_str());
      QVERIFY2(dt.at(n.output(0)) != "TWICE", n.output(0).c_str());
      for (const onnx::TensorProto& t : m.graph().initializer()) {
        if (n.op_type() == "Quant" && t.name() == n.input(2)) {  // float32 raw_data
          QCOMPARE(t.data_type(), int32_t(onnx::TensorProto_DataType_FLOAT));
          const std::string& raw = t.raw_data();
          QVERIFY(!raw.empty());
          for (size_t i = 0; i + 4 <= raw.size(); i += 4) {
            float z;
            std::memcpy(&z, raw.data() + i, 4);
            QCOMPARE(z, 0.0f);
          }
        }
        if (t.name() == n.input(1) && t.dims_size() > 0) {
          const bool weight = n.output(0).find("/weight") != std::string::npos;
          const bool bias = n.output(0).find("/bias") != std::string::npos;
          QVERIFY2(weight || bias, ("a per-channel activation scale at " + n.output(0)).c_str());
          for (int d = 1; d < t.dims_size(); ++d) QCOMPARE(t.dims(d), int64_t(1));
        }
      }
    }
    QVERIFY(quants > 5);
    QCOMPARE(dt.size(), quants + 1);
  }
  // A signed 8-bit input quantizer on the integer grid (ParameterScaling, range 128:
  // scale 128 / 128 = 1): INT8; unsigned with 255: UINT8.
  for (const bool is_signed : {true, false}) {
    Project q = p;
    QuantSpec& a = *q.find("quant_inp")->act_quant;
    a.bit_width = 8;
    a.is_signed = is_signed;
    a.narrow_range = false;
    a.scaling = ScalingKind::Parameter;
    a.min_val = is_signed ? -128.0 : 0.0;
    a.max_val = is_signed ? 128.0 : 255.0;
    const onnx::ModelProto m = qonnxOf(q);
    const std::map<std::string, std::string> dt = finnDatatypes(m);
    QCOMPARE(QString::fromStdString(dt.at("quant_inp")), is_signed ? QStringLiteral("INT8") : QStringLiteral("UINT8"));
    QCOMPARE(QString::fromStdString(dt.at("input")), QStringLiteral("FLOAT32"));
    for (const onnx::NodeProto& n : m.graph().node())
      if (n.output(0) == "quant_inp")
        for (const onnx::AttributeProto& at : n.attribute())
          if (at.name() == "signed") QCOMPARE(at.i(), int64_t(is_signed ? 1 : 0));
  }
}

// Another target (or none): not one byte changes; the FINN model is the same model plus
// its annotations.
void TestFinn::qonnxWithoutFinnIsUnchanged() {
  torch::manual_seed(0);
  Project p = load_project(examplePath("lenet_lowprec"));
  QuantModel model = build_model(p);
  ExportPlan plan = make_export_plan(model);
  const std::string none = qonnx_model_bytes(plan);
  QCOMPARE(parseModel(none).graph().quantization_annotation_size(), 0);
  plan.project.deployment_target = DeploymentTarget::OnnxRuntime;
  QVERIFY(qonnx_model_bytes(plan) == none);
  plan.project.deployment_target = DeploymentTarget::Finn;
  onnx::ModelProto finn = parseModel(qonnx_model_bytes(plan));
  QVERIFY(finn.graph().quantization_annotation_size() > 0);
  finn.mutable_graph()->clear_quantization_annotation();
  std::string stripped;
  QVERIFY(finn.SerializeToString(&stripped));
  QVERIFY(stripped == none);
}

// A binary activation quantizer whose Quant does not follow a Relu is a BipolarQuant
// identity for FINN, which its QuantIdentityHandler takes only at a per-tensor scale of 1
// ("FINN only supports Bipolar identity activations with out per channel scaling and the
// scaling must be 1"); here the scale is learned, so the FINN export checks the trained value.
void TestFinn::binaryIdentityNeedsUnitScaleUnderFinn() {
  Project p = finnExample("lenet_lowprec");
  p.find("quant_inp")->act_quant = presets::SignedBinaryActPerTensorConst();
  QVERIFY2(validate(p).ok(), validate(p).error_text().c_str());
  torch::manual_seed(0);
  QuantModel model = build_model(p);
  {
    const ExportPlan plan = make_export_plan(model);  // the initial scale: 1
    QCOMPARE(plan.find("quant_inp")->act_q->bit_width, 1);
    const std::map<std::string, std::string> dt = finnDatatypes(parseModel(qonnx_model_bytes(plan)));
    QCOMPARE(QString::fromStdString(dt.at("quant_inp")), QStringLiteral("BIPOLAR"));
  }
  std::map<std::string, torch::Tensor> tensors = named_tensors(*model);
  QVERIFY(tensors.count("quant_inp.act_quant.value"));
  {
    torch::NoGradGuard no_grad;
    tensors.at("quant_inp.act_quant.value").fill_(0.5);  // as after training
  }
  ExportPlan plan = make_export_plan(model);
  QCOMPARE(plan.find("quant_inp")->act_q->scale.item<float>(), 0.5f);
  try {
    qonnx_model_bytes(plan);
    QFAIL("a BipolarQuant identity at scale 0.5 was exported for FINN");
  } catch (const ExportError& e) {
    const std::string m = e.what();
    QVERIFY2(m.find("quant_inp: FINN converts a binary activation quantizer that does not follow a ReLU only at "
                    "scale 1") != std::string::npos &&
                 m.find("scale is 0.5") != std::string::npos,
             m.c_str());
  }
  plan.project.deployment_target = DeploymentTarget::None;  // not FINN's: exported
  QCOMPARE(finnDatatypes(parseModel(qonnx_model_bytes(plan))).size(), size_t(0));
}

// A Trunc output (ResNet-8's TruncAdaptiveAvgPool2d `pool`: 8 bits after an unsigned
// QuantReLU) carries the FINN DataType QONNX's InferDataTypes gives it (trunc.py
// get_trunc_dt()): UINT8 on a grid of scale 1, FLOAT32 on any other scale.
void TestFinn::truncOutputsAnnotatedUnderFinn() {
  Project p = finnExample("resnet8_w4a4");
  apply_deployment_target(p, DeploymentTarget::Finn);
  torch::manual_seed(0);
  QuantModel model = build_model(p);
  ExportPlan plan = make_export_plan(model);
  PlanNode* pool = const_cast<PlanNode*>(plan.find("pool"));
  QVERIFY(pool && pool->act_q);
  QCOMPARE(pool->act_q->bit_width, 8);
  QVERIFY(!pool->act_q->is_signed);
  QVERIFY(pool->act_q->scale.item<float>() != 1.0f);  // a learned activation scale
  const auto poolType = [&plan] {
    const std::map<std::string, std::string> dt = finnDatatypes(parseModel(qonnx_model_bytes(plan)));
    return dt.count("pool") ? QString::fromStdString(dt.at("pool")) : QStringLiteral("none");
  };
  QCOMPARE(poolType(), QStringLiteral("FLOAT32"));
  pool->act_q->scale = torch::ones_like(pool->act_q->scale);
  QCOMPARE(poolType(), QStringLiteral("UINT8"));
  plan.project.deployment_target = DeploymentTarget::None;  // not FINN: no annotation at all
  QCOMPARE(poolType(), QStringLiteral("none"));
}

// qnn export --target finn: FINN-flavoured QONNX from a project without the setting
// (pools floored as the GUI does, named in a note; the file is not changed); without
// --target, the plain QONNX.
void TestFinn::cliExportTarget() {
  QTemporaryDir dir;
  // ResNet-8 keeps every FINN rule once its pool truncates with FLOOR.
  const QString project = QString::fromStdString(examplePath("resnet8_w4a4"));
  const QString checkpoint = dir.filePath("classic.pt");
  QuantModel model = build_model(load_project(project.toStdString()));
  save_checkpoint(model, checkpoint.toStdString());
  const auto readModel = [](const QString& file) {
    std::ifstream in(file.toStdString(), std::ios::binary);
    return parseModel(std::string(std::istreambuf_iterator<char>(in), {}));
  };
  const auto truncRounding = [](const onnx::ModelProto& m) {
    QStringList modes;
    for (const onnx::NodeProto& n : m.graph().node())
      if (n.op_type() == "Trunc")
        for (const onnx::AttributeProto& a : n.attribute())
          if (a.name() == "rounding_mode") modes << QString::fromStdString(a.s());
    return modes;
  };
  const QString plain = dir.filePath("plain.onnx");
  const qnn_test::CliRun a =
      qnn_test::runQnn({"export", project, "--checkpoint", checkpoint, "--format", "qonnx", "--out", plain}, 120000);
  QVERIFY2(a.code == 0, qPrintable(a.text()));
  QCOMPARE(readModel(plain).graph().quantization_annotation_size(), 0);
  QCOMPARE(truncRounding(readModel(plain)), QStringList{"ROUND"});
  const QString finn = dir.filePath("finn.onnx");
  const qnn_test::CliRun b = qnn_test::runQnn(
      {"export", project, "--checkpoint", checkpoint, "--format", "qonnx", "--out", finn, "--target", "finn"}, 120000);
  QVERIFY2(b.code == 0 && b.err.contains("note: --target finn: pool truncates with FLOOR"), qPrintable(b.text()));
  const onnx::ModelProto m = readModel(finn);
  QCOMPARE(truncRounding(m), QStringList{"FLOOR"});
  const std::map<std::string, std::string> dt = finnDatatypes(m);
  QCOMPARE(QString::fromStdString(dt.at("input")), QStringLiteral("FLOAT32"));
  QVERIFY(dt.size() > 1);
  QVERIFY(!load_project(project.toStdString()).find("pool")->param("floor", 0.0));
  const qnn_test::CliRun bad = qnn_test::runQnn(
      {"export", project, "--checkpoint", checkpoint, "--format", "qonnx", "--out", finn, "--target", "vitis"}, 60000);
  QVERIFY2(bad.code == 2 && bad.err.contains("--target expects none, onnxruntime or finn, got 'vitis'"),
           qPrintable(bad.text()));
}

QTEST_MAIN(TestFinn)
#include "test_finn.moc"
