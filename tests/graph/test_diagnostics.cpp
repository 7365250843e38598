// SPDX-License-Identifier: GPL-3.0-or-later
// Each kind of invalid graph gives its own diagnostic (code, message, hint) on the
// node at fault; NodeInfo carries the QuantTensor facts (signed, bit width, scale
// source); the model builder refuses with the same lines.
#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/graph/validate.h"
#include "tests/graph/graph_tests.h"

#include <QtTest>

using namespace qnn;

namespace {

Project lowprec() { return load_project(gt::example("lenet_lowprec")); }

/// input [1, 8, 8] -> q1 -> ... built by the caller, flatten -> fc(64 -> 3) -> output.
Project small(const std::vector<LayerSpec>& middle, const std::string& last) {
  Project p;
  p.input_shape = {1, 8, 8};
  p.dataset.path = QNN_SOURCE_DIR;  // an existing folder: no dataset warning
  p.layers.push_back(gt::layer("input", LayerType::Input, {}));
  for (const LayerSpec& l : middle) p.layers.push_back(l);
  p.layers.push_back(gt::layer("flatten", LayerType::Flatten, {last}));
  p.layers.push_back(gt::layer("fc", LayerType::Linear, {"flatten"}, {{"in_features", 64}, {"out_features", 3}}));
  p.layers.push_back(gt::layer("output", LayerType::Output, {"fc"}));
  return p;
}

LayerSpec qid(const std::string& id, const std::string& from, int bits = 8) {
  LayerSpec l = gt::layer(id, LayerType::QuantIdentity, {from});
  l.act_quant = presets::Int8ActPerTensorFloat();
  l.act_quant->bit_width = bits;
  l.return_quant_tensor = true;
  return l;
}

}  // namespace

class TestDiagnostics : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void quantTensorFactsAndScaleSources();
  void unconnectedPortsAndNoPath();
  void cycleNamesItsNodes();
  void idsAndExtraInputs();
  void shapeMismatches();
  void biasQuantizerNeedsAQuantizedPerTensorInput();
  void addOfDifferentScales();
  void bitWidthsOutOfRange();
  void builderAndLineFormatUseTheSameDiagnostics();
};

void TestDiagnostics::quantTensorFactsAndScaleSources() {
  const ValidationResult r = validate(lowprec());
  QVERIFY2(r.ok(), gt::dump(r).c_str());
  const std::vector<std::tuple<const char*, bool, int64_t, bool, const char*>> expected{
      // id, quantized, bits, signed, scale source
      {"input", false, 0, false, ""},
      {"quant_inp", true, 4, true, "quant_inp"},
      {"conv1", true, 13, true, "conv1"},  // accumulator: s_in * s_w
      {"relu1", true, 4, false, "relu1"},
      {"pool1", true, 4, false, "relu1"},  // max-pool keeps the grid
      {"flatten", true, 4, false, "relu2"},
      {"fc1", true, 17, true, "fc1"},
      {"fc3", false, 0, false, ""},
      {"output", false, 0, false, ""},
  };
  for (const auto& [id, q, bits, sgn, src] : expected) {
    const NodeInfo& n = r.nodes.at(id);
    QVERIFY2(n.quantized == q, id);
    QVERIFY2(n.bit_width == bits, id);
    QVERIFY2(n.is_signed == sgn, id);
    QVERIFY2(n.scale_source == src, (std::string(id) + ": " + n.scale_source).c_str());
    QVERIFY2(!n.per_channel, id);
  }
  // An average pool puts the values on a grid of its own (scale / k^2, 2 more bits).
  Project p = lowprec();
  p.find("pool1")->type = LayerType::AvgPool2d;
  const ValidationResult a = validate(p);
  QVERIFY(a.ok());
  QCOMPARE(a.nodes.at("pool1").scale_source, std::string("pool1"));
  QCOMPARE(a.nodes.at("pool1").bit_width, int64_t{6});
  // Per-channel weights make a per-channel accumulator.
  p = lowprec();
  p.find("fc3")->weight_quant->per_channel = true;
  p.find("fc3")->return_quant_tensor = true;
  const ValidationResult c = validate(p);
  QVERIFY(c.nodes.at("fc3").per_channel);
  QCOMPARE(c.nodes.at("fc3").scale_source, std::string("fc3"));
}

void TestDiagnostics::unconnectedPortsAndNoPath() {
  Project p = lowprec();
  p.find("relu3")->inputs = {""};
  const ValidationResult r = validate(p);
  const Diagnostic* d = gt::find(r, "relu3", "unconnected-port");
  QVERIFY2(d, gt::dump(r).c_str());
  QCOMPARE(d->message, std::string("input port 0 is not connected"));
  QCOMPARE(diagnostic_line(*d), std::string("error: relu3: input port 0 is not connected (hint: connect a layer's "
                                            "output to input port 0 of relu3)"));
  // The Output cannot be reached from the Input, and fc1 now leads nowhere.
  d = gt::find(r, "output", "no-path");
  QVERIFY2(d && d->severity == Diagnostic::Severity::Error, gt::dump(r).c_str());
  QCOMPARE(d->message, std::string("no path from input to output: the layers feeding output do not start at the "
                                   "Input node"));
  d = gt::find(r, "fc1", "dangling");
  QVERIFY2(d && d->severity == Diagnostic::Severity::Warning, gt::dump(r).c_str());
  QCOMPARE(gt::errors(r), 2);

  // Port 1 of an Add.
  Project a = small({qid("q", "input"), gt::layer("add", LayerType::Add, {"q", ""})}, "add");
  const ValidationResult ra = validate(a);
  d = gt::find(ra, "add", "unconnected-port");
  QVERIFY2(d, gt::dump(ra).c_str());
  QCOMPARE(d->message, std::string("input port 1 is not connected"));
  QVERIFY(d->hint.find("sums ports 0 and 1") != std::string::npos);
  QVERIFY(!gt::find(ra, "add", "no-path"));  // only the missing port, not a cascade
  // A missing Output / Input.
  a.layers.pop_back();
  const ValidationResult no_output = validate(a);
  QVERIFY(gt::find(no_output, "", "no-output-node"));
}

void TestDiagnostics::cycleNamesItsNodes() {
  Project p = lowprec();
  p.find("conv2")->inputs = {"relu2"};  // conv2 -> relu2 -> conv2
  const ValidationResult r = validate(p);
  for (const char* id : {"conv2", "relu2"}) {
    const Diagnostic* d = gt::find(r, id, "cycle");
    QVERIFY2(d, gt::dump(r).c_str());
    QCOMPARE(d->message, std::string(id) + " is part of a cycle: conv2 -> relu2 -> conv2");
  }
  QVERIFY(!gt::find(r, "pool1", "cycle"));
  QVERIFY(r.order.empty());
  // A self-loop on an Add port.
  Project s = small({qid("q", "input"), gt::layer("add", LayerType::Add, {"q", "add"})}, "add");
  const ValidationResult rs = validate(s);
  const Diagnostic* d = gt::find(rs, "add", "cycle");
  QVERIFY2(d, gt::dump(rs).c_str());
  QVERIFY2(d->message == "add is part of a cycle: add -> add", d->message.c_str());
}

void TestDiagnostics::idsAndExtraInputs() {
  Project p = lowprec();
  p.find("relu2")->id = "relu1";
  ValidationResult r = validate(p);
  QVERIFY2(gt::find(r, "relu1", "duplicate-id"), gt::dump(r).c_str());
  p = lowprec();
  p.find("pool2")->id = "2pool";
  r = validate(p);
  QVERIFY2(gt::find(r, "2pool", "invalid-id"), gt::dump(r).c_str());
  p = lowprec();
  p.find("fc2")->inputs = {"relu3", "relu1"};
  r = validate(p);
  const Diagnostic* d = gt::find(r, "fc2", "extra-input");
  QVERIFY2(d, gt::dump(r).c_str());
  QCOMPARE(d->message, std::string("fc2 has 2 inputs; a QuantLinear layer takes exactly one"));
  QCOMPARE(d->hint, std::string("remove the extra connection from relu1"));
  p = lowprec();
  p.find("relu1")->inputs = {"conv9"};
  r = validate(p);
  QVERIFY2(gt::find(r, "relu1", "missing-source"), gt::dump(r).c_str());
}

void TestDiagnostics::shapeMismatches() {
  Project p = lowprec();
  p.find("conv1")->params["out_channels"] = 16;
  ValidationResult r = validate(p);
  const Diagnostic* d = gt::find(r, "conv2", "channel-mismatch");
  QVERIFY2(d, gt::dump(r).c_str());
  QCOMPARE(d->message, std::string("conv2 expects 6 input channels, gets 16 from pool1"));

  p = lowprec();
  p.find("conv2")->params["kernel_size"] = 7;  // 14 -> 8 -> pool 4: 16 * 4 * 4 = 256
  r = validate(p);
  d = gt::find(r, "fc1", "feature-mismatch");
  QVERIFY2(d, gt::dump(r).c_str());
  QCOMPARE(d->message, std::string("fc1 expects 400 features, gets 256 from flatten"));

  p = lowprec();
  p.find("pool2")->params["kernel_size"] = 12;
  r = validate(p);
  d = gt::find(r, "pool2", "spatial");
  QVERIFY2(d, gt::dump(r).c_str());
  QVERIFY(d->message.find("12x12 window does not fit the 10x10 input from relu2") != std::string::npos);

  // BatchNorm2d channel count, Add operand shapes.
  p = lowprec();
  LayerSpec bn = gt::layer("bn1", LayerType::BatchNorm2d, {"conv1"}, {{"num_features", 4}});
  p.layers.push_back(bn);
  p.find("relu1")->inputs = {"bn1"};
  r = validate(p);
  d = gt::find(r, "bn1", "channel-mismatch");
  QVERIFY2(d, gt::dump(r).c_str());
  QCOMPARE(d->message, std::string("bn1 expects 4 channels (num_features), gets 6 from conv1"));
  p.find("bn1")->params["num_features"] = 6;
  r = validate(p);
  QVERIFY2(r.ok(), gt::dump(r).c_str());
  QVERIFY(!r.nodes.at("bn1").quantized);  // normalised values: float
  // relu1 re-quantizes, so conv2's Int8Bias still has its input scale.
  QVERIFY(r.nodes.at("relu1").quantized);

  LayerSpec pool = gt::layer("pool", LayerType::MaxPool2d, {"q"}, {{"kernel_size", 2}});
  Project s = small({qid("q", "input"), pool, gt::layer("add", LayerType::Add, {"q", "pool"})}, "add");
  r = validate(s);
  d = gt::find(r, "add", "shape-mismatch");
  QVERIFY2(d, gt::dump(r).c_str());
  QCOMPARE(d->message, std::string("add adds [1, 8, 8] from q (port 0) to [1, 4, 4] from pool (port 1); the shapes "
                                   "must be equal"));
}

void TestDiagnostics::biasQuantizerNeedsAQuantizedPerTensorInput() {
  Project p = lowprec();
  p.find("quant_inp")->return_quant_tensor = false;
  ValidationResult r = validate(p);
  const Diagnostic* d = gt::find(r, "conv1", "bias-needs-scale");
  QVERIFY2(d, gt::dump(r).c_str());
  QCOMPARE(d->message, std::string("Int8Bias needs the input scale, but its input from quant_inp is not a QuantTensor "
                                   "(Brevitas: \"Input scale required\")"));
  QVERIFY(d->hint.find("turn on return_quant_tensor on quant_inp") != std::string::npos);

  // A per-channel accumulator (conv1 with per-channel weights, no requantizing
  // activation before conv2) cannot give conv2's bias a per-tensor input scale.
  p = lowprec();
  p.find("conv1")->weight_quant = presets::Int8WeightPerChannelFloat();
  p.find("conv1")->weight_quant->bit_width = 3;
  p.find("pool1")->inputs = {"conv1"};
  p.layers.erase(p.layers.begin() + 3);  // relu1
  r = validate(p);
  d = gt::find(r, "conv2", "bias-per-channel-input");
  QVERIFY2(d, gt::dump(r).c_str());
  QCOMPARE(d->message, std::string("Int8Bias needs a per-tensor input scale, but its input from pool1 carries conv1's "
                                   "per-channel scale (per-channel weights)"));
  QCOMPARE(gt::errors(r), 1);

  // A QuantEltwiseAdd without return_quant_tensor drops the QuantTensor too: the hint
  // names it (it has an output quantizer), not "insert a QuantIdentity".
  LayerSpec eadd = gt::layer("eadd", LayerType::QuantEltwiseAdd, {"q1", "q2"});
  eadd.return_quant_tensor = false;
  LayerSpec conv = gt::layer("conv", LayerType::QuantConv2d, {"eadd"},
                             {{"in_channels", 1}, {"out_channels", 1}, {"kernel_size", 1}, {"bias", 1}});
  conv.weight_quant = presets::Int8WeightPerTensorFloat();
  conv.bias_quant = presets::Int8Bias();
  p = small({qid("q1", "input"), qid("q2", "input"), eadd, conv}, "conv");
  r = validate(p);
  d = gt::find(r, "conv", "bias-needs-scale");
  QVERIFY2(d, gt::dump(r).c_str());
  QCOMPARE(d->hint, std::string("turn on return_quant_tensor on eadd: without it eadd passes plain floats and conv "
                                "has no input scale for its bias, or remove conv's bias_quant to keep a float bias"));
  QCOMPARE(gt::errors(r), 1);
  p.find("eadd")->return_quant_tensor = true;
  r = validate(p);
  QVERIFY2(r.ok(), gt::dump(r).c_str());
}

void TestDiagnostics::addOfDifferentScales() {
  // Two quantizers: two scales.
  Project p = small({qid("q1", "input"), qid("q2", "input"), gt::layer("add", LayerType::Add, {"q1", "q2"})}, "add");
  ValidationResult r = validate(p);
  const Diagnostic* d = gt::find(r, "add", "add-scales");
  QVERIFY2(d, gt::dump(r).c_str());
  QCOMPARE(d->message, std::string("add adds quantized tensors with different scales: port 0 (from q1) carries q1's "
                                   "scale, port 1 (from q2) carries q2's (Brevitas: \"Scaling factors are different\" "
                                   "in eval)"));
  QVERIFY(d->hint.find("QuantEltwiseAdd") != std::string::npos);
  QCOMPARE(gt::errors(r), 1);
  // The same source through a pass-through layer: the sum keeps the grid,
  // s4 + s4: ceil(log2(7 + 7 + 8 + 8)) = 5 bits.
  p = small({qid("q1", "input", 4), gt::layer("same", LayerType::Identity, {"q1"}),
             gt::layer("add", LayerType::Add, {"q1", "same"})},
            "add");
  r = validate(p);
  QVERIFY2(r.ok(), gt::dump(r).c_str());
  QVERIFY(r.nodes.at("add").quantized);
  QCOMPARE(r.nodes.at("add").bit_width, int64_t{5});
  QVERIFY(r.nodes.at("add").is_signed);
  QCOMPARE(r.nodes.at("add").scale_source, std::string("q1"));
  // A float operand: the sum is float, no error.
  p.find("q1")->return_quant_tensor = true;
  p.find("same")->type = LayerType::HardTanh;
  r = validate(p);
  QVERIFY2(r.ok(), gt::dump(r).c_str());
  QVERIFY(!r.nodes.at("add").quantized);
  // QuantEltwiseAdd requantizes both inputs: different sources are fine.
  p = small({qid("q1", "input"), qid("q2", "input"), gt::layer("add", LayerType::QuantEltwiseAdd, {"q1", "q2"})},
            "add");
  p.find("add")->return_quant_tensor = true;
  r = validate(p);
  QVERIFY2(r.ok(), gt::dump(r).c_str());
  QCOMPARE(r.nodes.at("add").bit_width, int64_t{8});  // Int8ActPerTensorFloat output quantizer
  QCOMPARE(r.nodes.at("add").scale_source, std::string("add"));
}

void TestDiagnostics::bitWidthsOutOfRange() {
  struct Case {
    const char* node;
    std::function<void(Project&)> edit;
    const char* message_part;
  };
  const std::vector<Case> cases{
      {"conv1", [](Project& p) { p.find("conv1")->weight_quant->bit_width = 0; }, "bit_width must be in 2..16, got 0"},
      {"fc1", [](Project& p) { p.find("fc1")->weight_quant->bit_width = 17; }, "bit_width must be in 2..16, got 17"},
      {"conv2", [](Project& p) { p.find("conv2")->bias_quant->bit_width = 12; },
       "bias bit_width must be 8, 16 or 32 (Int8Bias/Int16Bias/Int32Bias), got 12"},
      {"relu2", [](Project& p) { p.find("relu2")->act_quant->bit_width = 1; }, "bit_width must be in 2..16, got 1"},
      {"eadd",
       [](Project& p) {
         LayerSpec e = gt::layer("eadd", LayerType::QuantEltwiseAdd, {"relu4", "relu4"});
         e.input_quant = presets::Int8ActPerTensorFloat();
         e.input_quant->bit_width = 20;
         p.layers.push_back(e);
         p.find("fc3")->inputs = {"eadd"};
       },
       "input_quant: Int8ActPerTensorFloat: bit_width must be in 2..16, got 20"},
  };
  for (const Case& c : cases) {
    Project p = lowprec();
    c.edit(p);
    const ValidationResult r = validate(p);
    const Diagnostic* d = gt::find(r, c.node, "bit-width");
    QVERIFY2(d, (std::string(c.node) + "\n" + gt::dump(r)).c_str());
    QVERIFY2(d->message.find(c.message_part) != std::string::npos, d->message.c_str());
    QCOMPARE(gt::errors(r), 1);
  }
}

void TestDiagnostics::builderAndLineFormatUseTheSameDiagnostics() {
  Project p = lowprec();
  p.find("relu1")->inputs = {""};
  const ValidationResult r = validate(p);
  try {
    build_model(p);
    QFAIL("no ConfigError");
  } catch (const ConfigError& e) {
    QCOMPARE(std::string(e.what()), r.error_text());
    QVERIFY(std::string(e.what()).find("relu1: input port 0 is not connected (hint: ") != std::string::npos);
  }
}

QNN_REGISTER_GRAPH_TEST(TestDiagnostics);
#include "test_diagnostics.moc"
