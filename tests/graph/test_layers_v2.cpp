// SPDX-License-Identifier: GPL-3.0-or-later
// The layer types of format v2 in a built model: BatchNorm2d (torch::nn::BatchNorm2d
// semantics), Identity, Add (Brevitas QuantTensor `+`) and QuantEltwiseAdd, a graph
// with two-input nodes end to end (forward, backward, checkpoint), their export to
// QCDQ (checked in ONNX Runtime) and QONNX, and the packed pre-flight that refuses them.
#include <torch/torch.h>

#include <filesystem>

#include "core/errors.h"
#include "core/export/export.h"
#include "core/export/export_plan.h"
#include "core/export/verify.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/graph/validate.h"
#include "core/nn/eltwise_layers.h"
#include "core/nn/quant_wbiol.h"
#include "core/quant/int_quant.h"
#include "core/train/checkpoint.h"
#include "tests/graph/graph_tests.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

using namespace qnn;

namespace {

/// input [1, 8, 8] -> quant_inp (s4) -> conv1 (1 -> 4, 3x3, pad 1, W4, no bias) -> bn1 -> relu1 (u4)
///   add1  = relu1 + same (Identity of relu1): one grid, u4 + u4 -> u5
///   eadd  = QuantEltwiseAdd(add1, conv1) -> s8 (its own quantizers)
///   -> flatten (256) -> fc (QuantLinear 256 -> 3, W4, no bias) -> output
Project residual() {
  Project p;
  p.input_shape = {1, 8, 8};
  p.dataset.path = QNN_SOURCE_DIR;
  auto q = [](LayerSpec l, std::optional<QuantSpec> act, int bits) {
    if (act) {
      l.act_quant = act;
      l.act_quant->bit_width = bits;
    }
    l.return_quant_tensor = true;
    return l;
  };
  p.layers.push_back(gt::layer("input", LayerType::Input, {}));
  p.layers.push_back(q(gt::layer("quant_inp", LayerType::QuantIdentity, {"input"}), presets::Int8ActPerTensorFloat(), 4));
  LayerSpec conv = gt::layer("conv1", LayerType::QuantConv2d, {"quant_inp"},
                             {{"in_channels", 1}, {"out_channels", 4}, {"kernel_size", 3}, {"padding", 1}, {"bias", 0}});
  conv.weight_quant = presets::Int8WeightPerTensorFloat();
  conv.weight_quant->bit_width = 4;
  conv.return_quant_tensor = true;
  p.layers.push_back(conv);
  p.layers.push_back(gt::layer("bn1", LayerType::BatchNorm2d, {"conv1"}, {{"num_features", 4}}));
  p.layers.push_back(q(gt::layer("relu1", LayerType::QuantReLU, {"bn1"}), presets::Uint8ActPerTensorFloat(), 4));
  p.layers.push_back(gt::layer("same", LayerType::Identity, {"relu1"}));
  p.layers.push_back(gt::layer("add1", LayerType::Add, {"relu1", "same"}));
  p.layers.push_back(q(gt::layer("eadd", LayerType::QuantEltwiseAdd, {"add1", "conv1"}), std::nullopt, 8));
  p.layers.push_back(gt::layer("flatten", LayerType::Flatten, {"eadd"}));
  LayerSpec fc = gt::layer("fc", LayerType::QuantLinear, {"flatten"}, {{"in_features", 256}, {"out_features", 3}, {"bias", 0}});
  fc.weight_quant = presets::Int8WeightPerTensorFloat();
  fc.weight_quant->bit_width = 4;
  p.layers.push_back(fc);
  p.layers.push_back(gt::layer("output", LayerType::Output, {"fc"}));
  return p;
}

}  // namespace

class TestLayersV2 : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void addRuleMatchesBrevitas();
  void residualGraphValidates();
  void residualGraphRunsTrainsAndReloads();
  void batchNormMatchesTorch();
  void quantEltwiseAddQuantizesInputsAndSum();
  void exportToOnnxAndPackedPreflight();
  void identityVanishesInExport();
};

void TestLayersV2::addRuleMatchesBrevitas() {
  // ceil(log2(max_a + max_b - min_a - min_b)), full-range bounds.
  QCOMPARE(add_bit_width(4, false, 4, false), int64_t{5});  // 15 + 15 - 0 = 30
  QCOMPARE(add_bit_width(8, true, 8, true), int64_t{9});    // 127 + 127 + 256 = 510
  QCOMPARE(add_bit_width(4, true, 4, false), int64_t{5});   // 7 + 15 + 8 = 30
  QCOMPARE(add_bit_width(2, false, 2, false), int64_t{3});  // 3 + 3 = 6
  const torch::Tensor va = torch::tensor({0.1f, 0.2f, 0.3f}), vb = torch::tensor({0.4f, 0.0f, -0.1f});
  const QuantTensor a(va, torch::tensor(0.1f), torch::tensor(0.0f), 4, true, false);
  QuantTensor b(vb, torch::tensor(0.1f), torch::tensor(0.0f), 4, false, false);
  QuantTensor s = add_quant_tensors(a, b, "add1");
  QVERIFY(torch::equal(s.value, va + vb));
  QVERIFY(s.is_quant());
  QCOMPARE(s.scale.item<float>(), 0.1f);
  QCOMPARE(s.bit_width, int64_t{5});
  QVERIFY(s.is_signed);
  // Different scales: an error in eval, the average in training (Brevitas).
  b.scale = torch::tensor(0.2f);
  try {
    add_quant_tensors(a, b, "add1");
    QFAIL("no ConfigError");
  } catch (const ConfigError& e) {
    QVERIFY2(std::string(e.what()).rfind("add1: adds quantized tensors with different scales", 0) == 0, e.what());
  }
  b.training = true;
  s = add_quant_tensors(a, b, "add1");
  QVERIFY(std::abs(s.scale.item<float>() - 0.15f) < 1e-7f);
  QVERIFY(s.training);
  // A float operand: a float sum.
  QVERIFY(!add_quant_tensors(a, QuantTensor(vb), "add1").is_quant());
}

void TestLayersV2::residualGraphValidates() {
  const ValidationResult r = validate(residual());
  QVERIFY2(r.ok() && r.diagnostics.empty(), gt::dump(r).c_str());
  QVERIFY(!r.nodes.at("bn1").quantized);
  QCOMPARE(r.nodes.at("add1").bit_width, int64_t{5});
  QVERIFY(!r.nodes.at("add1").is_signed);
  QCOMPARE(r.nodes.at("add1").scale_source, std::string("relu1"));
  QCOMPARE(r.nodes.at("eadd").bit_width, int64_t{8});
  QVERIFY(r.nodes.at("eadd").is_signed);
  QCOMPARE(r.nodes.at("flatten").shape, (std::vector<int64_t>{256}));
  // The document round-trips through JSON with its two-input nodes.
  const Project p = residual();
  QVERIFY(project_from_json(project_to_json(p)) == p);
}

void TestLayersV2::residualGraphRunsTrainsAndReloads() {
  torch::manual_seed(3);
  const Project p = residual();
  QuantModel model = build_model(p);
  const auto params = model->named_parameters();
  for (const char* name : {"bn1.weight", "bn1.bias", "eadd.input_quant.value", "eadd.output_quant.value"})
    QVERIFY2(params.contains(name), name);
  QVERIFY(model->named_buffers().contains("bn1.running_var"));
  QVERIFY(model->named_buffers().contains("bn1.num_batches_tracked"));

  const torch::Tensor x = torch::randn({4, 1, 8, 8});
  model->train();
  torch::optim::SGD opt(model->parameters(), 0.01);
  for (int i = 0; i < 3; ++i) {
    opt.zero_grad();
    const torch::Tensor loss = model->forward(x).pow(2).mean();
    loss.backward();
    opt.step();
  }
  auto* conv = dynamic_cast<QuantConv2dImpl*>(model->layer("conv1").get());
  QVERIFY(conv && conv->weight.grad().defined());
  QVERIFY(conv->weight.grad().abs().sum().item<float>() > 0.0f);  // gradients reach through both Add ports

  model->eval();
  torch::NoGradGuard no_grad;
  const auto trace = model->forward_trace(x);
  const QuantTensor& relu1 = trace.at("relu1");
  const QuantTensor& add1 = trace.at("add1");
  QVERIFY(torch::equal(trace.at("same").value, relu1.value));
  QVERIFY(torch::equal(add1.value, relu1.value + relu1.value));
  QVERIFY(torch::allclose(add1.scale, relu1.scale));
  QCOMPARE(add1.bit_width, int64_t{5});
  // Codes of the sum are integers in [0, 30].
  const torch::Tensor codes = add1.value / add1.scale;
  QVERIFY((codes - codes.round()).abs().max().item<float>() < 1e-3f);
  QVERIFY(codes.min().item<float>() >= 0.0f && codes.max().item<float>() <= 30.0f);
  QCOMPARE(trace.at("fc").value.sizes().vec(), (std::vector<int64_t>{4, 3}));
  QCOMPARE(trace.at("eadd").bit_width, int64_t{8});
  // The validator's facts are what the model computes, node by node.
  const ValidationResult v = validate(p);
  QCOMPARE(trace.size(), v.nodes.size());
  for (const auto& [id, info] : v.nodes) {
    const QuantTensor& t = trace.at(id);
    std::vector<int64_t> shape = t.value.sizes().vec();
    shape.erase(shape.begin());
    QVERIFY2(shape == info.shape, id.c_str());
    QVERIFY2(t.is_quant() == info.quantized, id.c_str());
    if (info.quantized) {
      QVERIFY2(t.bit_width == info.bit_width, id.c_str());
      QVERIFY2(t.is_signed == info.is_signed, id.c_str());
    }
  }

  // A checkpoint carries BatchNorm statistics and both QuantEltwiseAdd quantizers.
  QTemporaryDir dir;
  const std::string ckpt = QDir(dir.path()).filePath("res.pt").toStdString();
  save_checkpoint(model, ckpt);
  QuantModel again = build_model(p);
  load_checkpoint(again, ckpt);
  again->eval();
  QVERIFY(torch::equal(again->forward(x), model->forward(x)));
}

void TestLayersV2::batchNormMatchesTorch() {
  torch::manual_seed(5);
  BatchNorm2dLayer ours(3, 1e-3, 0.2);
  torch::nn::BatchNorm2d ref(torch::nn::BatchNorm2dOptions(3).eps(1e-3).momentum(0.2));
  {
    torch::NoGradGuard no_grad;
    ours->weight.copy_(torch::tensor({0.5f, 1.5f, -1.0f}));
    ours->bias.copy_(torch::tensor({0.1f, 0.0f, 2.0f}));
    ref->weight.copy_(ours->weight);
    ref->bias.copy_(ours->bias);
  }
  ours->train();
  ref->train();
  for (int i = 0; i < 3; ++i) {
    const torch::Tensor x = torch::randn({5, 3, 4, 4}) * 2 + 1;
    QVERIFY(torch::allclose(ours->apply(QuantTensor(x)).value, ref->forward(x), 1e-5, 1e-6));
  }
  QVERIFY(torch::allclose(ours->running_mean, ref->running_mean));
  QVERIFY(torch::allclose(ours->running_var, ref->running_var));
  QCOMPARE(ours->num_batches_tracked.item<int64_t>(), int64_t{3});
  ours->eval();
  ref->eval();
  const torch::Tensor x = torch::randn({2, 3, 4, 4});
  QVERIFY(torch::allclose(ours->apply(QuantTensor(x)).value, ref->forward(x), 1e-5, 1e-6));
  // A quantized input gives a float output (the normalisation leaves the grid).
  QVERIFY(!ours->apply(QuantTensor(x, torch::tensor(0.1f), torch::tensor(0.0f), 8, true, false)).is_quant());
}

void TestLayersV2::quantEltwiseAddQuantizesInputsAndSum() {
  torch::manual_seed(7);
  QuantEltwiseAddOptions o;
  QuantSpec in = presets::Int8ActPerTensorFloat();
  in.bit_width = 4;
  o.input_quant(in).return_quant_tensor(true);
  QuantEltwiseAdd layer(o);
  layer->layer_name = "eadd";
  const torch::Tensor a = torch::randn({2, 3, 4, 4}), b = torch::randn({2, 3, 4, 4}) * 3;
  layer->train();
  layer->apply_inputs({QuantTensor(a), QuantTensor(b)});
  // Brevitas calls the one input quantizer for both operands: two calls per forward.
  QCOMPARE(layer->input_quant->counter(), int64_t{2});
  QCOMPARE(layer->output_quant->counter(), int64_t{1});
  layer->eval();
  torch::NoGradGuard no_grad;
  const QuantTensor y = layer->apply_inputs({QuantTensor(a), QuantTensor(b)});
  // Independent reference: clamp(round(x / s), min, max) * s at each quantizer.
  const float si = layer->input_quant->eval_scale().item<float>();
  const float so = layer->output_quant->eval_scale().item<float>();
  auto q = [](const torch::Tensor& x, float s, double lo, double hi) {
    return torch::clamp(torch::round(x / s), lo, hi) * s;
  };
  const torch::Tensor sum = q(a, si, -8, 7) + q(b, si, -8, 7);
  const torch::Tensor expected = q(sum, so, -128, 127);
  QVERIFY(torch::allclose(y.value, expected, 0.0, 1e-6));
  QVERIFY(y.is_quant());
  QCOMPARE(y.bit_width, int64_t{8});
  QVERIFY(std::abs(y.scale.item<float>() - so) < 1e-9f);
  QVERIFY_THROWS_EXCEPTION(ConfigError, layer->apply(QuantTensor(a)));
}

void TestLayersV2::exportToOnnxAndPackedPreflight() {
  const Project p = residual();
  // ONNX expresses Add and BatchNormalization; the packed model refuses them per layer.
  for (ExportFormat f : {ExportFormat::Qcdq, ExportFormat::Qonnx, ExportFormat::Checkpoint})
    for (const ExportIssue& i : preflight(p, f)) QVERIFY2(!i.error, i.text().c_str());
  std::map<std::string, std::string> errors;
  for (const ExportIssue& i : preflight(p, ExportFormat::Packed))
    if (i.error) errors[i.layer] = i.message;
  QCOMPARE(errors.size(), size_t{3});
  QCOMPARE(errors.at("bn1"), std::string("BatchNorm2d cannot be stored in a packed model: fold it into the layer "
                                         "before it (qnn export --fold-bn, the export dialog's Fold BatchNorm box, "
                                         "or Edit > Fold BatchNorm), or export QCDQ, QONNX or a checkpoint"));
  QCOMPARE(errors.at("add1"), std::string("Add (a two-input node) cannot be stored in a packed model yet; export "
                                          "QCDQ, QONNX or a checkpoint"));
  QVERIFY(errors.at("eadd").rfind("QuantEltwiseAdd (a two-input node)", 0) == 0);
  // A 9-bit input quantizer cannot be a QuantizeLinear.
  Project wide = p;
  wide.find("eadd")->input_quant = presets::Int8ActPerTensorFloat();
  wide.find("eadd")->input_quant->bit_width = 9;
  bool refused = false;
  for (const ExportIssue& i : preflight(wide, ExportFormat::Qcdq))
    refused |= i.error && i.layer == "eadd" && i.message.rfind("9-bit input_quant", 0) == 0;
  QVERIFY(refused);
  // A shifted input quantizer gets the same round-half warning as a shifted act_quant.
  Project shifted = p;
  shifted.find("eadd")->input_quant = presets::ShiftedUint8ActPerTensorFloat();
  std::vector<std::string> warned;
  for (const ExportIssue& i : preflight(shifted, ExportFormat::Qcdq))
    if (!i.error && i.layer == "eadd") warned.push_back(i.message);
  QCOMPARE(warned, std::vector<std::string>{"shifted input_quant: QuantizeLinear rounds x/s before adding the zero "
                                            "point (Brevitas adds it first); codes can differ at exact .5 ties"});
  for (const ExportIssue& i : preflight(p, ExportFormat::Qcdq)) QVERIFY2(i.layer != "eadd", i.text().c_str());

  // Train a little so every quantizer has its own scale, then export.
  torch::manual_seed(11);
  QuantModel model = build_model(p);
  const torch::Tensor x = torch::randn({64, 1, 8, 8});
  model->train();
  torch::optim::Adam opt(model->parameters(), 1e-2);
  for (int i = 0; i < 5; ++i) {
    opt.zero_grad();
    model->forward(x).pow(2).mean().backward();
    opt.step();
  }
  QTemporaryDir dir;
  const std::string packed = QDir(dir.path()).filePath("res.qnnpk").toStdString();
  try {
    export_model(model, ExportFormat::Packed, packed, ExportOptions{});
    QFAIL("no ExportError");
  } catch (const ExportError& e) {
    const std::string msg = e.what();
    QVERIFY2(msg.find("cannot export to packed:") == 0 && msg.find("\nbn1: BatchNorm2d") != std::string::npos &&
                 msg.find("\nadd1: Add") != std::string::npos && msg.find("\neadd: QuantEltwiseAdd") != std::string::npos,
             msg.c_str());
  }
  QVERIFY(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).isEmpty());  // refused before writing

  const std::string qonnx = QDir(dir.path()).filePath("res_qonnx.onnx").toStdString();
  export_model(model, ExportFormat::Qonnx, qonnx, ExportOptions{});
  const std::string qonnx_bytes = gt::read(qonnx);
  for (const char* part : {"BatchNormalization", "eadd.input0_scale", "eadd.input1_scale", "eadd.act_scale", "Add"})
    QVERIFY2(qonnx_bytes.find(part) != std::string::npos, part);

  // QCDQ in ONNX Runtime computes what the app computes.
  const std::string qcdq = QDir(dir.path()).filePath("res_qcdq.onnx").toStdString();
  export_model(model, ExportFormat::Qcdq, qcdq, ExportOptions{});
  const std::string qcdq_bytes = gt::read(qcdq);
  for (const char* part : {"BatchNormalization", "eadd.input0/codes", "eadd.input1/codes", "eadd/codes", "add1/add"})
    QVERIFY2(qcdq_bytes.find(part) != std::string::npos, part);
  const torch::Tensor test = torch::randn({200, 1, 8, 8});
  VerifyResult v;
  try {
    v = verify_export(model, ExportFormat::Qcdq, qcdq, test);
  } catch (const ExportError& e) {
    QFAIL(qPrintable(QString("ONNX Runtime is required for this test (scripts/install-deps installs "
                             "onnxruntime-node): ") + e.what()));
  }
  qInfo("residual graph, %s: %s", v.runtime.c_str(), v.text().c_str());
  QCOMPARE(v.samples, int64_t{200});
  QVERIFY2(v.passed, v.text().c_str());
  QVERIFY2(v.max_steps >= 0.0 && v.max_steps <= 1.0 + 1e-4, v.text().c_str());
}

void TestLayersV2::identityVanishesInExport() {
  Project p = load_project(gt::example("lenet_lowprec"));
  p.layers.push_back(gt::layer("skip", LayerType::Identity, {"pool1"}));
  p.find("conv2")->inputs = {"skip"};
  const ValidationResult r = validate(p);
  QVERIFY2(r.ok(), gt::dump(r).c_str());
  QCOMPARE(r.nodes.at("skip").scale_source, std::string("relu1"));  // passes the grid on
  for (ExportFormat f : {ExportFormat::Qcdq, ExportFormat::Qonnx, ExportFormat::Packed})
    for (const ExportIssue& i : preflight(p, f)) QVERIFY2(!i.error, i.text().c_str());
  torch::manual_seed(0);
  QuantModel model = build_model(p);
  const ExportPlan plan = make_export_plan(model);
  QVERIFY(plan.find("skip") == nullptr);
  QCOMPARE(plan.find("conv2")->input, std::string("pool1"));
}

QNN_REGISTER_GRAPH_TEST(TestLayersV2);
#include "test_layers_v2.moc"
