// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers of tests/brevitas_export: example and hand-built projects (a concat/residual
// net, a binary net, a conv-ReLU-linear chain with chosen quantizers), a model moved off
// its initial state, the export -> load_weights round trip with bit-exact logits, and
// small accessors for quantizers and state dicts.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/export/export.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/io/state_dict.h"
#include "core/quant/quantizers.h"
#include "core/train/weights.h"
#include "tests/layer_spec.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace bx {

using namespace qnn;

inline const std::string kGoldenPt = QNN_SOURCE_DIR "/tests/data/golden/lowprec_lenet_brevitas_state_dict.pt";

inline Project example(const std::string& name) {
  return load_project(QNN_SOURCE_DIR "/resources/examples/" + name + ".qnn.json");
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

#define VERIFY_LINE(text, line) QVERIFY2(has_line(text, line), ("missing line: " + std::string(line) + "\nin:\n" + text).c_str())

// Moves the model off its initial state: training-mode forwards (BatchNorm running
// statistics, activation statistics buffers), then one activation quantizer into its
// learned phase with a value different from its buffer.
inline void exercise(QuantModel& m, int64_t batch = 4) {
  torch::manual_seed(11);
  std::vector<int64_t> shape{batch};
  for (int64_t d : m->project().input_shape) shape.push_back(d);
  m->train();
  {
    torch::NoGradGuard g;
    for (int i = 0; i < 3; ++i) m->forward(torch::randn(shape));
  }
  for (const auto& mod : m->named_modules())
    if (auto* a = dynamic_cast<ActQuantizerImpl*>(mod.value().get())) {
      a->load_threshold(2.5);
      torch::NoGradGuard g;
      a->value.fill_(2.75);
      break;
    }
  m->eval();
}

inline torch::Tensor eval_logits(QuantModel& m) {
  torch::manual_seed(12);
  std::vector<int64_t> shape{8};
  for (int64_t d : m->project().input_shape) shape.push_back(d);
  m->eval();
  torch::NoGradGuard g;
  return m->forward(torch::randn(shape));
}

// A small network with a residual QuantEltwiseAdd, a float Add, a Concat, a tuple
// kernel, per-channel weights, BatchNorm, QuantHardTanh and an Int32Bias.
inline Project concat_net() {
  Project p;
  p.name = "concat residual demo";
  p.input_shape = {1, 8, 8};
  p.layers.push_back(layer("input", LayerType::Input, {}));
  LayerSpec qi = layer("qi", LayerType::QuantIdentity, {"input"});
  qi.return_quant_tensor = true;
  p.layers.push_back(qi);
  LayerSpec c1 = layer("c1", LayerType::QuantConv2d, {"qi"},
                       {{"in_channels", 1}, {"out_channels", 4}, {"kernel_size", 3}, {"padding", 1}, {"bias", 1}});
  c1.bias_quant = presets::Int8Bias();
  p.layers.push_back(c1);
  p.layers.push_back(layer("bn1", LayerType::BatchNorm2d, {"c1"}, {{"num_features", 4}}));
  LayerSpec r1 = layer("r1", LayerType::QuantReLU, {"bn1"});
  r1.act_quant = presets::Uint8ActPerTensorFloat();
  r1.act_quant->bit_width = 4;
  p.layers.push_back(r1);
  LayerSpec c2 = layer("c2", LayerType::QuantConv2d, {"qi"}, {{"in_channels", 1}, {"out_channels", 4}, {"bias", 0}});
  c2.set_pair("kernel_size", 3, 1);
  c2.set_pair("padding", 1, 0);
  c2.weight_quant = presets::Int8WeightPerChannelFloat();
  c2.weight_quant->bit_width = 4;
  p.layers.push_back(c2);
  p.layers.push_back(layer("r2", LayerType::QuantHardTanh, {"c2"}, {{"min_val", -2.0}, {"max_val", 2.0}}));
  p.layers.push_back(layer("add1", LayerType::QuantEltwiseAdd, {"r1", "r2"}));
  p.layers.push_back(layer("sum", LayerType::Add, {"r1", "r2"}));
  p.layers.push_back(layer("cat", LayerType::Concat, {"add1", "sum"}));
  p.layers.push_back(layer("mp", LayerType::MaxPool2d, {"cat"}, {{"kernel_size", 2}}));
  p.layers.push_back(layer("fl", LayerType::Flatten, {"mp"}));
  LayerSpec qf = layer("qf", LayerType::QuantIdentity, {"fl"});
  qf.return_quant_tensor = true;
  p.layers.push_back(qf);
  LayerSpec fc = layer("fc", LayerType::QuantLinear, {"qf"}, {{"in_features", 128}, {"out_features", 10}, {"bias", 1}});
  fc.bias_quant = presets::Int32Bias();
  p.layers.push_back(fc);
  p.layers.push_back(layer("output", LayerType::Output, {"fc"}));
  return p;
}

// Binary presets everywhere: SignedBinaryActPerTensorConst on two QuantIdentity layers,
// SignedBinaryWeightPerTensorConst per tensor (conv) and per channel (linear).
inline Project binary_net() {
  Project p;
  p.name = "binary net";
  p.input_shape = {1, 8, 8};
  p.layers.push_back(layer("input", LayerType::Input, {}));
  LayerSpec qi = layer("qi", LayerType::QuantIdentity, {"input"});
  qi.act_quant = presets::SignedBinaryActPerTensorConst();
  qi.return_quant_tensor = true;
  p.layers.push_back(qi);
  LayerSpec c1 = layer("c1", LayerType::QuantConv2d, {"qi"},
                       {{"in_channels", 1}, {"out_channels", 4}, {"kernel_size", 3}, {"padding", 1}, {"bias", 0}});
  c1.weight_quant = presets::SignedBinaryWeightPerTensorConst();
  p.layers.push_back(c1);
  p.layers.push_back(layer("bn1", LayerType::BatchNorm2d, {"c1"}, {{"num_features", 4}}));
  LayerSpec a1 = layer("a1", LayerType::QuantIdentity, {"bn1"});
  a1.act_quant = presets::SignedBinaryActPerTensorConst();
  a1.return_quant_tensor = true;
  p.layers.push_back(a1);
  p.layers.push_back(layer("fl", LayerType::Flatten, {"a1"}));
  LayerSpec fc = layer("fc", LayerType::QuantLinear, {"fl"}, {{"in_features", 256}, {"out_features", 10}, {"bias", 1}});
  fc.weight_quant = presets::SignedBinaryWeightPerTensorConst();
  fc.weight_quant->per_channel = true;
  p.layers.push_back(fc);
  p.layers.push_back(layer("output", LayerType::Output, {"fc"}));
  return p;
}

// conv (weight_quant preset `conv_w`) -> QuantReLU (`relu_a`) -> linear (`fc_w`), after a
// QuantIdentity (`in_a`).
inline Project chain_net(const std::string& name, QuantSpec in_a, QuantSpec conv_w, QuantSpec relu_a, QuantSpec fc_w) {
  Project p;
  p.name = name;
  p.input_shape = {1, 8, 8};
  p.layers.push_back(layer("input", LayerType::Input, {}));
  LayerSpec qi = layer("qi", LayerType::QuantIdentity, {"input"});
  qi.act_quant = std::move(in_a);
  qi.return_quant_tensor = true;
  p.layers.push_back(qi);
  LayerSpec c1 = layer("c1", LayerType::QuantConv2d, {"qi"},
                       {{"in_channels", 1}, {"out_channels", 4}, {"kernel_size", 3}, {"padding", 1}, {"bias", 0}});
  c1.weight_quant = std::move(conv_w);
  p.layers.push_back(c1);
  LayerSpec r1 = layer("r1", LayerType::QuantReLU, {"c1"});
  r1.act_quant = std::move(relu_a);
  r1.return_quant_tensor = true;
  p.layers.push_back(r1);
  p.layers.push_back(layer("fl", LayerType::Flatten, {"r1"}));
  LayerSpec fc = layer("fc", LayerType::QuantLinear, {"fl"}, {{"in_features", 256}, {"out_features", 10}, {"bias", 1}});
  fc.weight_quant = std::move(fc_w);
  p.layers.push_back(fc);
  p.layers.push_back(layer("output", LayerType::Output, {"fc"}));
  return p;
}

template <class Impl>
inline Impl* quantizer(QuantModel& m, const std::string& name) {
  for (const auto& mod : m->named_modules())
    if (mod.key() == name) return dynamic_cast<Impl*>(mod.value().get());
  return nullptr;
}

inline void set_value(torch::Tensor& t, const std::vector<float>& v) {
  torch::NoGradGuard g;
  t.copy_(torch::tensor(v).reshape(t.sizes()));
}

inline torch::Tensor state_value(const StateDict& sd, const std::string& key) {
  for (const auto& [k, t] : sd)
    if (k == key) return t;
  throw std::runtime_error("no key " + key);
}

inline std::vector<std::string> state_keys(const StateDict& sd) {
  std::vector<std::string> keys;
  for (const auto& kv : sd) keys.push_back(kv.first);
  return keys;
}

inline const std::string kAct = ".fused_activation_quant_proxy.tensor_quant.scaling_impl.value";
inline const std::string kW = ".weight_quant.tensor_quant.scaling_impl.value";

// Exports `m` (exercised) to a folder, loads model.pt into a fresh model of the same
// project and checks the report and the logits (bit for bit). Returns model.py.
inline std::string round_trip(QuantModel& m, const QTemporaryDir& dir) {
  const std::string out = dir.filePath("brevitas").toStdString();
  const ExportResult r = export_model(m, ExportFormat::Brevitas, out);
  if (r.files.size() != 2 || !std::filesystem::exists(out + "/model.py") || !std::filesystem::exists(out + "/model.pt"))
    throw std::runtime_error("export did not write model.py and model.pt: " + r.summary);
  torch::manual_seed(99);  // other initial weights
  QuantModel fresh = build_model(m->project());
  const WeightsReport w = load_weights(fresh, out + "/model.pt");
  if (!w.unexpected.empty() || !w.statistics.empty()) throw std::runtime_error("load_weights: " + w.text());
  size_t quantizers = 0;
  for (const auto& mod : m->named_modules())
    if (dynamic_cast<ActQuantizerImpl*>(mod.value().get())) ++quantizers;
  if (w.thresholds.size() != quantizers) throw std::runtime_error("not every quantizer got its value: " + w.text());
  if (!torch::equal(eval_logits(m), eval_logits(fresh))) throw std::runtime_error("logits differ after the round trip");
  return read_text(out + "/model.py");
}

inline QString python3(const QStringList& args, int* exit_code) {
  QProcess p;
  p.start(QStringLiteral("python3"), args);
  if (!p.waitForFinished(60000)) {
    *exit_code = -1;
    return QStringLiteral("python3 did not run (scripts/install-deps installs it): ") + p.errorString();
  }
  *exit_code = p.exitCode();
  return QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
}

}  // namespace bx
