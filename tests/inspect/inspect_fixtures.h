// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers of tests/inspect: small projects, reference numbers computed with plain
// loops (independently of core/inspect), and a byte image of a model's state.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/nn/quant_act.h"
#include "core/quant/quant_spec.h"

namespace it {

inline std::string example(const std::string& name) {
  return std::string(QNN_SOURCE_DIR) + "/resources/examples/" + name + ".qnn.json";
}

inline std::vector<double> values(const torch::Tensor& t) {
  const torch::Tensor d = t.detach().to(torch::kFloat64).contiguous().reshape({-1});
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

/// CSV reading for the report tables (no quoted fields in them).
inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

/// The lines of CSV text (what table_csv returns), without the line breaks.
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream s(text);
  for (std::string l; std::getline(s, l);) lines.push_back(l);
  return lines;
}

inline std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream s(line);
  for (std::string x; std::getline(s, x, ',');) f.push_back(x);
  if (!line.empty() && line.back() == ',') f.emplace_back();
  return f;
}

// Column `name` of the row whose first field is `key`.
inline std::string cell(const std::vector<std::string>& lines, const std::string& key, const std::string& name) {
  const std::vector<std::string> header = split(lines.at(0));
  const auto col = std::find(header.begin(), header.end(), name) - header.begin();
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> f = split(lines[i]);
    if (!f.empty() && f[0] == key) return f.at(static_cast<size_t>(col));
  }
  return "(missing)";
}

/// 10 log10(sum ref^2 / sum (ref - test)^2) with plain loops.
inline double ref_sqnr(const torch::Tensor& ref, const torch::Tensor& test) {
  const std::vector<double> a = values(ref), b = values(test);
  double s = 0.0, n = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    s += a[i] * a[i];
    n += (a[i] - b[i]) * (a[i] - b[i]);
  }
  if (n == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(s / n);
}

/// Pre-clamp codes nearbyint(x / s + z) (round half to even), computed in float32 as
/// the quantizer does, one element at a time; s and z per tensor.
inline std::vector<double> ref_codes(const torch::Tensor& x, double s, double z) {
  std::vector<double> c;
  for (double v : values(x)) {
    const float t = static_cast<float>(v) / static_cast<float>(s) + static_cast<float>(z);
    c.push_back(std::nearbyint(static_cast<double>(t)));
  }
  return c;
}

/// Every parameter and buffer, serialised: equal strings = identical state.
inline std::string state_bytes(qnn::QuantModel& model) {
  std::ostringstream os;
  torch::save(model, os);
  return os.str();
}

inline qnn::LayerSpec layer(const std::string& id, qnn::LayerType type, const std::string& input) {
  qnn::LayerSpec l;
  l.id = id;
  l.type = type;
  if (!input.empty()) l.inputs = {input};
  return l;
}

/// A project named `name` on input [C, H, W] = `chw` holding its Input layer "input".
inline qnn::Project start_project(const std::string& name, std::vector<int64_t> chw) {
  qnn::Project p;
  p.name = name;
  p.input_shape = std::move(chw);
  p.layers.push_back(layer("input", qnn::LayerType::Input, ""));
  return p;
}

/// An activation layer (QuantIdentity / QuantReLU / QuantHardTanh / QuantEltwiseAdd) with
/// quantizer `spec` at `bits`; return_quant_tensor as given.
inline qnn::LayerSpec act_layer(const std::string& id, qnn::LayerType type, const std::string& input,
                                qnn::QuantSpec spec, int bits, bool return_quant_tensor = true) {
  auto l = layer(id, type, input);
  l.act_quant = std::move(spec);
  l.act_quant->bit_width = bits;
  l.return_quant_tensor = return_quant_tensor;
  return l;
}

/// Appends Flatten("flatten", from `from`) -> QuantLinear "fc" (in -> out features,
/// `bits`-bit Int8WeightPerTensorFloat weights, float bias or none) -> Output "output".
inline void add_classifier(qnn::Project& p, const std::string& from, double in, double out, bool bias, int bits) {
  p.layers.push_back(layer("flatten", qnn::LayerType::Flatten, from));
  auto fc = layer("fc", qnn::LayerType::QuantLinear, "flatten");
  fc.params = {{"in_features", in}, {"out_features", out}, {"bias", bias ? 1.0 : 0.0}};
  fc.weight_quant = qnn::presets::Int8WeightPerTensorFloat();
  fc.weight_quant->bit_width = bits;
  p.layers.push_back(fc);
  p.layers.push_back(layer("output", qnn::LayerType::Output, "fc"));
}

/// Input [1, 2, 4] -> QuantIdentity (4-bit Int8ActPerTensorFloat) -> Flatten ->
/// QuantLinear 8 -> 3 (3-bit weights) -> Output. Fresh, in eval, the identity's scale
/// is 1 / 8 (statistics buffer 1, threshold 8): its range is [-1, 0.875].
inline qnn::Project tiny_project() {
  qnn::Project p = start_project("tiny", {1, 2, 4});
  p.layers.push_back(act_layer("quant_inp", qnn::LayerType::QuantIdentity, "input",
                               qnn::presets::Int8ActPerTensorFloat(), 4));
  add_classifier(p, "quant_inp", 8, 3, false, 3);
  return p;
}

/// Input [1, 4, 4] -> QuantIdentity (4-bit ShiftedUint8ActPerTensorFloat, statistics for
/// 2 calls) -> QuantConv2d 1 -> 3, k 3, 4-bit per-channel weights, float bias ->
/// QuantHardTanh [-0.5, 0.5] (3 bit) -> Flatten -> QuantLinear 12 -> 4 -> Output.
inline qnn::Project mixed_project() {
  qnn::Project p = start_project("mixed", {1, 4, 4});
  auto q = act_layer("quant_inp", qnn::LayerType::QuantIdentity, "input",
                     qnn::presets::ShiftedUint8ActPerTensorFloat(), 4);
  q.act_quant->collect_stats_steps = 2;
  p.layers.push_back(q);
  auto conv = layer("conv", qnn::LayerType::QuantConv2d, "quant_inp");
  conv.params = {{"in_channels", 1}, {"out_channels", 3}, {"kernel_size", 3}, {"bias", 1}};
  conv.weight_quant = qnn::presets::Int8WeightPerChannelFloat();
  conv.weight_quant->bit_width = 4;
  p.layers.push_back(conv);
  auto ht = act_layer("htanh", qnn::LayerType::QuantHardTanh, "conv",
                      qnn::presets::Int8ActPerTensorFloatMinMaxInit(), 3, false);
  ht.params = {{"min_val", -0.5}, {"max_val", 0.5}};
  p.layers.push_back(ht);
  add_classifier(p, "htanh", 12, 4, true, 3);
  return p;
}

/// Input [1, 2, 4] -> q1 QuantIdentity (8 bit) -> relu QuantReLU (4 bit);
/// eadd = QuantEltwiseAdd(q1, relu) (default input_quant, 6-bit output quantizer) ->
/// Flatten -> QuantLinear 8 -> 3 (8-bit weights) -> Output.
inline qnn::Project eltwise_project() {
  qnn::Project p = start_project("eltwise", {1, 2, 4});
  p.layers.push_back(act_layer("q1", qnn::LayerType::QuantIdentity, "input", qnn::presets::Int8ActPerTensorFloat(), 8));
  p.layers.push_back(act_layer("relu", qnn::LayerType::QuantReLU, "q1", qnn::presets::Uint8ActPerTensorFloat(), 4));
  auto add = act_layer("eadd", qnn::LayerType::QuantEltwiseAdd, "q1", qnn::presets::Int8ActPerTensorFloat(), 6, false);
  add.inputs = {"q1", "relu"};
  p.layers.push_back(add);
  add_classifier(p, "eadd", 8, 3, true, 8);
  return p;
}

/// `calls` training-mode forward passes on N(0, 1) data (moves the statistics phase).
inline void train_forward(qnn::QuantModel& model, int calls, const std::vector<int64_t>& chw,
                          int64_t n = 16) {
  torch::NoGradGuard no_grad;
  model->train();
  std::vector<int64_t> shape{n};
  shape.insert(shape.end(), chw.begin(), chw.end());
  for (int i = 0; i < calls; ++i) model->forward(torch::randn(shape));
}

inline qnn::ActQuantizerImpl& act_quant(qnn::QuantModel& model, const std::string& id) {
  return *dynamic_cast<qnn::QuantActImpl&>(*model->layer(id)).act_quant;
}

}  // namespace it
