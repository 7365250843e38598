// SPDX-License-Identifier: GPL-3.0-or-later
// run_case: replays each kind of golden case through qnn_core.
#include <cmath>
#include <filesystem>
#include <regex>
#include <tuple>
#include <sstream>

#include "core/graph/model.h"
#include "core/graph/summary.h"
#include "core/graph/validate.h"
#include "core/layers/layer_descriptor.h"
#include "core/nn/quant_act.h"
#include "core/nn/quant_wbiol.h"
#include "core/nn/trunc_pool.h"
#include "core/quant/int_quant.h"
#include "core/quant/quantizers.h"
#include "core/train/weights.h"
#include "golden_case.h"

namespace qnn::golden {
namespace {

QuantSpec weight_spec(const nlohmann::json& cfg) {
  QuantSpec s = presets::by_name(cfg.value("weight_quant", std::string("Int8WeightPerTensorFloat")));
  s.bit_width = cfg.value("weight_bit_width", s.bit_width);
  return s;
}

std::optional<QuantSpec> bias_spec(const nlohmann::json& cfg) {
  if (!cfg.contains("bias_quant") || cfg["bias_quant"].is_null()) return std::nullopt;
  return presets::by_name(cfg["bias_quant"].get<std::string>());
}

// A feature of a case the runner (or qnn_core) does not support: the case fails with
// one line naming it.
struct Unsupported : std::runtime_error {
  explicit Unsupported(const std::string& what) : std::runtime_error("unsupported: " + what) {}
};

// A geometry entry of config (kernel_size, stride, padding, dilation, output_size) as
// Brevitas got it: an int for every spatial axis, or a list with one entry per axis.
std::vector<int64_t> geometry(const nlohmann::json& cfg, const std::string& key, size_t dims, int64_t fallback) {
  if (!cfg.contains(key) || cfg[key].is_null()) return std::vector<int64_t>(dims, fallback);
  const auto& v = cfg[key];
  if (v.is_number_integer()) return std::vector<int64_t>(dims, v.get<int64_t>());
  if (v.is_array() && v.size() == dims) return v.get<std::vector<int64_t>>();
  throw Unsupported(key + " = " + v.dump() + " (expected an int or " + std::to_string(dims) + " ints)");
}

// A QuantConv1d, QuantConv2d or QuantLinear built from a case config, with weight (and bias) set.
struct Layer {
  QuantConv1d conv1d{nullptr};
  QuantConv2d conv{nullptr};
  QuantLinear linear{nullptr};
  torch::nn::Module& module() {
    if (conv1d) return *conv1d;
    return conv ? static_cast<torch::nn::Module&>(*conv) : *linear;
  }
  QuantTensor forward(const QuantTensor& x) {
    if (conv1d) return conv1d->forward(x);
    return conv ? conv->forward(x) : linear->forward(x);
  }
  QuantTensor quant_weight() {
    if (conv1d) return conv1d->quant_weight();
    return conv ? conv->quant_weight() : linear->quant_weight();
  }
  torch::Tensor& weight() { return conv1d ? conv1d->weight : conv ? conv->weight : linear->weight; }
  torch::Tensor& bias() { return conv1d ? conv1d->bias : conv ? conv->bias : linear->bias; }
};

// The case's layer as a project node, geometry entries as Brevitas got them (an int, or
// a list: a pair [h, w] for QuantConv2d), so the case runs through the project's
// parameter forms, the registry's builder and shape inference.
LayerSpec layer_spec(const Case& c) {
  const auto& cfg = c.config;
  const std::string layer = cfg.at("layer");
  LayerSpec l;
  l.id = "layer";
  if (layer == "QuantLinear") {
    l.type = LayerType::QuantLinear;
    l.set_param("in_features", cfg.at("in_features").get<double>());
    l.set_param("out_features", cfg.at("out_features").get<double>());
  } else if (layer == "QuantConv2d" || layer == "QuantConv1d") {
    l.type = layer == "QuantConv2d" ? LayerType::QuantConv2d : LayerType::QuantConv1d;
    l.set_param("in_channels", cfg.at("in_channels").get<double>());
    l.set_param("out_channels", cfg.at("out_channels").get<double>());
    l.set_param("groups", cfg.value("groups", 1.0));
    const size_t dims = l.type == LayerType::QuantConv2d ? 2 : 1;
    for (const char* key : {"kernel_size", "stride", "padding", "dilation"}) {
      if (!cfg.contains(key) || cfg[key].is_null()) continue;
      const std::vector<int64_t> v = geometry(cfg, key, dims, 0);
      if (cfg[key].is_array() && v.size() == 2)
        l.set_pair(key, double(v[0]), double(v[1]));
      else
        l.set_param(key, double(v[0]));
    }
    if (cfg.contains("padding_mode") && cfg["padding_mode"] != "zeros")
      throw Unsupported("padding_mode " + cfg["padding_mode"].dump());
  } else {
    throw Unsupported("layer '" + layer + "' (weighted layers: QuantConv1d, QuantConv2d, QuantLinear)");
  }
  l.set_param("bias", c.has_t("bias") && cfg.value("bias", true) ? 1.0 : 0.0);
  l.weight_quant = weight_spec(cfg);
  l.bias_quant = bias_spec(cfg);
  l.return_quant_tensor = cfg.value("return_quant_tensor", false);
  return l;
}

Layer make_layer(const Case& c) {
  const LayerSpec spec = layer_spec(c);
  const BuiltLayer b = descriptor(spec.type).build(spec);
  Layer l;
  if (spec.type == LayerType::QuantConv2d)
    l.conv = QuantConv2d(std::dynamic_pointer_cast<QuantConv2dImpl>(b.module));
  else if (spec.type == LayerType::QuantConv1d)
    l.conv1d = QuantConv1d(std::dynamic_pointer_cast<QuantConv1dImpl>(b.module));
  else
    l.linear = QuantLinear(std::dynamic_pointer_cast<QuantLinearImpl>(b.module));
  const bool has_bias = spec.param("bias", 0) != 0;
  torch::NoGradGuard no_grad;
  if (l.weight().sizes() != c.t("weight").sizes()) {
    std::ostringstream s;
    s << "weight shape " << c.t("weight").sizes() << " (the layer built from config has " << l.weight().sizes()
      << ")";
    throw Unsupported(s.str());
  }
  l.weight().copy_(c.f("weight"));
  if (has_bias) l.bias().copy_(c.f("bias"));
  return l;
}

QuantAct make_act(const nlohmann::json& cfg) {
  const std::string layer = cfg.at("layer");
  ActFunction f;
  std::string default_quant = "Int8ActPerTensorFloat";
  if (layer == "QuantReLU") {
    f = ActFunction::ReLU;
    default_quant = "Uint8ActPerTensorFloat";
  } else if (layer == "QuantIdentity") {
    f = ActFunction::Identity;
  } else if (layer == "QuantTanh") {
    f = ActFunction::Tanh;
  } else if (layer == "QuantSigmoid") {
    f = ActFunction::Sigmoid;
    default_quant = "Uint8ActPerTensorFloat";
  } else {
    throw Unsupported("activation layer '" + layer + "' (QuantIdentity, QuantReLU, QuantTanh, QuantSigmoid)");
  }
  QuantActOptions o(f);
  QuantSpec s = presets::by_name(cfg.value("act_quant", default_quant));
  s.bit_width = cfg.at("bit_width").get<int>();
  s.collect_stats_steps = cfg.value("collect_stats_steps", s.collect_stats_steps);
  if (cfg.contains("layer_kwargs")) {
    const auto& kw = cfg["layer_kwargs"];
    s.high_percentile_q = kw.value("high_percentile_q", s.high_percentile_q);
    s.low_percentile_q = kw.value("low_percentile_q", s.low_percentile_q);
  }
  o.act_quant(s).return_quant_tensor(true);
  return QuantAct(o);
}

// ---------------------------------------------------------------- kinds

void check_int_quant(const Case& c, Checker& k) {
  const auto& cfg = c.config;
  const IntRange r = int_range(cfg.at("bit_width").get<int>(), cfg.at("signed").get<bool>(),
                               cfg.at("narrow_range").get<bool>());
  k.exact("min_int", static_cast<double>(r.min_int), c.s("min_int"));
  k.exact("max_int", static_cast<double>(r.max_int), c.s("max_int"));
  const torch::Tensor x = c.f("x"), s = c.f("scale"), z = c.f("zero_point");
  k.close("y", fake_quant(x, s, z, r, ClampGrad::Masked), c.f("y"));
  k.exact("q", int_codes(x, s, z, r), c.t("q"));
}

void check_weight_quant(const Case& c, Checker& k) {
  Layer l = make_layer(c);
  l.module().eval();
  const QuantTensor w = l.quant_weight();
  k.close("weight_quant", w.value, c.f("weight_quant"));
  k.exact("weight_codes", w.int_codes(), c.t("weight_codes"));
  k.scale("scale", w.scale, c.f("scale"));
  k.exact("zero_point", w.zero_point, c.t("zero_point"));
  k.exact("bit_width", static_cast<double>(w.bit_width), c.s("bit_width"));
  k.exact("signed", w.is_signed ? 1 : 0, c.s("signed"));
  torch::NoGradGuard no_grad;
  k.close("y", l.forward(QuantTensor(c.f("x"))).value, c.f("y"));
}

void check_act_sequence(const Case& c, Checker& k) {
  QuantAct act = make_act(c.config);
  for (const auto& call_json : c.config.at("call_order")) {
    const std::string call = call_json.get<std::string>();
    act->train(call.rfind("train", 0) == 0);
    torch::NoGradGuard no_grad;
    const QuantTensor y = act->forward(QuantTensor(c.f("x_" + call)));
    k.close("y_" + call, y.value, c.f("y_" + call));
    k.exact("q_" + call, y.int_codes(), c.t("q_" + call));
    k.scale("scale_" + call, y.scale, torch::tensor(c.s("scale_" + call)));
    k.exact("zero_point_" + call, y.zero_point.item<double>(), c.s("zero_point_" + call));
    const ActQuantizer& q = act->act_quant;
    k.exact("counter_after_" + call, static_cast<double>(q->counter()), c.s("counter_after_" + call));
    k.scale("scaling_buffer_after_" + call, q->scaling_buffer.item<double>(),
            c.s("scaling_buffer_after_" + call));
    k.scale("scaling_value_after_" + call, q->value.item<double>(), c.s("scaling_value_after_" + call));
    if (c.has_s("zero_point_buffer_after_" + call)) {
      k.scale("zero_point_buffer_after_" + call, q->zero_point_buffer.item<double>(),
              c.s("zero_point_buffer_after_" + call));
      k.scale("zero_point_value_after_" + call, q->zero_point_value.item<double>(),
              c.s("zero_point_value_after_" + call));
    }
  }
}

// The case's layer in a project (Input -> QuantIdentity -> layer -> Output, the input of
// the case's shape): validation passes and infers the output shape the case recorded,
// and the summary counts out_positions * fan_in MACs.
void check_project_node(const Case& c, Checker& k, const QuantTensor& x, const torch::Tensor& y) {
  Project p;
  p.input_shape.assign(x.value.sizes().begin() + 1, x.value.sizes().end());
  LayerSpec in, q, out;
  in.id = "input";
  in.type = LayerType::Input;
  q.id = "quant_input";
  q.type = LayerType::QuantIdentity;
  q.inputs = {"input"};
  QuantSpec a = presets::Int8ActPerTensorFloat();
  a.bit_width = static_cast<int>(x.bit_width);
  a.is_signed = x.is_signed;
  q.act_quant = a;
  q.return_quant_tensor = true;
  LayerSpec layer = layer_spec(c);
  layer.inputs = {"quant_input"};
  out.id = "output";
  out.type = LayerType::Output;
  out.inputs = {"layer"};
  p.layers = {in, q, layer, out};
  const ValidationResult r = validate(p);
  if (!r.ok()) {
    k.fail("project node: " + r.error_text());
    return;
  }
  const std::vector<int64_t> want(y.sizes().begin() + 1, y.sizes().end());
  const std::vector<int64_t>& got = r.nodes.at("layer").shape;
  if (got != want) k.fail("project node: inferred shape " + shape_text(got) + " vs " + shape_text(want));
  for (const LayerSummary& s : summarize(p, r).layers)
    if (s.id == "layer") {
      int64_t positions = 1;
      for (int64_t d : want) positions *= d;
      k.exact("project MACs", double(s.macs), double(positions * c.t("weight")[0].numel()));
    }
}

// Shared by `bias_quant` and `layer`: the layer fed a quantized input, all outputs checked.
void check_quant_layer(const Case& c, Checker& k, const QuantTensor& x) {
  Layer l = make_layer(c);
  l.module().eval();
  torch::NoGradGuard no_grad;
  const QuantTensor w = l.quant_weight();
  k.close("weight_quant", w.value, c.f("weight_quant"));
  k.exact("weight_codes", w.int_codes(), c.t("weight_codes"));
  if (c.has_t("weight_scale")) k.scale("weight_scale", w.scale, c.f("weight_scale"));
  if (!bias_spec(c.config) || !l.bias().defined()) throw Unsupported("layer case without a quantized bias");
  const QuantTensor b = quantize_bias(l.bias(), x.scale, w.scale, *bias_spec(c.config), "golden");
  k.scale("bias_scale", b.scale, c.f("bias_scale"));
  k.exact("bias_codes", b.int_codes(), c.t("bias_codes"));
  k.close("bias_quant", b.value, c.f("bias_quant"));
  const QuantTensor y = l.forward(x);
  k.close("y", y.value, c.f("y"));
  if (!y.is_quant()) {
    k.fail("y: the output carries no QuantTensor metadata");
    return;
  }
  k.scale("y_scale", y.scale, c.f("y_scale"));
  if (y.scale.sizes() != c.t("y_scale").sizes()) {
    std::ostringstream s;
    s << "y_scale: shape " << y.scale.sizes() << " vs expected " << c.t("y_scale").sizes();
    k.fail(s.str());
  }
  // Brevitas 0.12 records -bias_codes for per-channel conv (a broadcasting slip); the
  // correct value, which we must report, is in y_zero_point_correct.
  if (c.has_s("y_zero_point_correct"))
    k.exact("y_zero_point", y.zero_point.abs().max().item<double>(), c.s("y_zero_point_correct"));
  else
    k.exact("y_zero_point", y.zero_point, c.t("y_zero_point"));
  k.exact("y_bit_width", static_cast<double>(y.bit_width), c.s("y_bit_width"));
  k.exact("y_signed", y.is_signed ? 1 : 0, c.s("y_signed"));
  check_project_node(c, k, x, y.value);
  // Brevitas: fan_in = weight[0].numel() = C_in/groups * prod(kernel), or in_features.
  const int64_t fan_in = l.weight()[0].numel();
  if (c.has_s("fan_in")) k.exact("fan_in", static_cast<double>(fan_in), c.s("fan_in"));
  if (c.has_s("acc_bit_width"))
    k.exact("acc_bit_width", static_cast<double>(accumulator_bit_width(x.bit_width, w.bit_width, fan_in)),
            c.s("acc_bit_width"));
}

void check_bias_quant(const Case& c, Checker& k) {
  // The input is the eval output of a QuantIdentity(bit_width=4) that first saw training calls.
  nlohmann::json qid_cfg = {{"layer", "QuantIdentity"}, {"bit_width", c.s("x_bit_width")}};
  QuantAct qid = make_act(qid_cfg);
  torch::NoGradGuard no_grad;
  qid->train(true);
  for (int i = 0; c.has_t("qid_x_train" + std::to_string(i)); ++i)
    qid->forward(QuantTensor(c.f("qid_x_train" + std::to_string(i))));
  k.exact("qid_counter", static_cast<double>(qid->act_quant->counter()), c.s("qid_counter"));
  k.scale("qid_threshold", qid->act_quant->scaling_buffer.item<double>(), c.s("qid_threshold"));
  qid->eval();
  const QuantTensor x = qid->forward(QuantTensor(c.f("x")));
  k.close("x_quant", x.value, c.f("x_quant"));
  k.exact("x_codes", x.int_codes(), c.t("x_codes"));
  k.scale("x_scale", x.scale, torch::tensor(c.s("x_scale")));
  check_quant_layer(c, k, x);
}

// TruncAvgPool2d / TruncAdaptiveAvgPool2d fed a hand-made QuantTensor.
void check_trunc_pool(const Case& c, Checker& k, const QuantTensor& x) {
  const auto& cfg = c.config;
  const std::string layer = cfg.at("layer");
  for (const char* key : {"padding"})
    for (int64_t p : geometry(cfg, key, 2, 0))
      if (p != 0) throw Unsupported(std::string(key) + " in " + layer);
  if (cfg.value("ceil_mode", false)) throw Unsupported("ceil_mode in " + layer);
  if (cfg.contains("divisor_override") && !cfg["divisor_override"].is_null())
    throw Unsupported("divisor_override in " + layer);
  const std::string trunc = cfg.value("trunc_quant", std::string("RoundTo8bit"));
  TruncRounding rounding;
  if (trunc == "RoundTo8bit") rounding = TruncRounding::Round;
  else if (trunc == "TruncTo8bit") rounding = TruncRounding::Floor;
  else throw Unsupported("trunc_quant " + trunc + " (RoundTo8bit, TruncTo8bit)");
  const int64_t bits = cfg.value("trunc_output_bit_width", int64_t{8});
  const bool rqt = cfg.value("return_quant_tensor", true);

  TruncPoolTrace trace;
  QuantTensor y;
  torch::NoGradGuard no_grad;
  if (layer == "TruncAvgPool2d") {
    const auto kernel = geometry(cfg, "kernel_size", 2, 1);
    TruncAvgPool2dOptions o(kernel);
    o.stride(geometry(cfg, "stride", 2, 0)[0] == 0 ? kernel : geometry(cfg, "stride", 2, 0));
    o.bit_width(bits).rounding(rounding).return_quant_tensor(rqt);
    TruncAvgPool2d pool(o);
    pool->eval();
    y = pool->forward(x, &trace);
  } else {
    TruncAdaptiveAvgPool2dOptions o(geometry(cfg, "output_size", 2, 1));
    o.bit_width(bits).rounding(rounding).return_quant_tensor(rqt);
    TruncAdaptiveAvgPool2d pool(o);
    pool->eval();
    y = pool->forward(x, &trace);
    if (cfg.contains("derived_kernel_size")) {
      const auto in = x.value.sizes();
      const auto out = *o.output_size();
      const auto kh = TruncAdaptiveAvgPool2dImpl::derived_window(in[2], out[0]);
      const auto kw = TruncAdaptiveAvgPool2dImpl::derived_window(in[3], out[1]);
      k.exact("derived_kernel_size", torch::tensor({kh.first, kw.first}),
              torch::tensor(cfg["derived_kernel_size"].get<std::vector<int64_t>>()));
      k.exact("derived_stride", torch::tensor({kh.second, kw.second}),
              torch::tensor(cfg["derived_stride"].get<std::vector<int64_t>>()));
    }
  }
  k.exact("avg_scaling", static_cast<double>(trace.avg_scaling), c.s("avg_scaling"));
  k.exact("acc_codes", trace.acc_codes, c.t("acc_codes"));
  k.exact("acc_bit_width", static_cast<double>(trace.acc_bit_width), c.s("acc_bit_width"));
  k.exact("trunc_scale", trace.trunc_scale, c.s("trunc_scale"));
  if (c.has_s("n_round_ties")) {
    const torch::Tensor r = trace.acc_codes / trace.trunc_scale;
    const double ties = ((r - r.floor()) == 0.5).sum().item<double>();
    k.exact("n_round_ties", ties, c.s("n_round_ties"));
  }
  k.close("y", y.value, c.f("y"));
  if (!y.is_quant()) {
    k.fail("y: the output carries no QuantTensor metadata");
    return;
  }
  k.exact("y_codes", y.int_codes(), c.t("y_codes"));
  k.scale("y_scale", y.scale, c.f("y_scale"));
  k.exact("y_zero_point", y.zero_point, c.t("y_zero_point"));
  k.exact("y_bit_width", static_cast<double>(y.bit_width), c.s("y_bit_width"));
  k.exact("y_signed", y.is_signed ? 1 : 0, c.s("y_signed"));
}

void check_layer(const Case& c, Checker& k) {
  const torch::Tensor scale = torch::tensor(static_cast<float>(c.s("x_scale")));
  const torch::Tensor codes = c.f("x_codes");
  const QuantTensor x(codes * scale, scale, torch::zeros({}), static_cast<int64_t>(c.s("x_bit_width")),
                      c.s("x_signed") != 0, false);
  k.close("x", x.value, c.f("x"));
  const std::string layer = c.config.at("layer");
  if (layer == "TruncAvgPool2d" || layer == "TruncAdaptiveAvgPool2d")
    check_trunc_pool(c, k, x);
  else
    check_quant_layer(c, k, x);
}

void check_gradient(const Case& c, Checker& k) {
  const std::string layer = c.config.at("layer");
  torch::Tensor x = c.f("x").requires_grad_(true);
  const torch::Tensor g = c.f("g");
  if (layer == "QuantConv2d" || layer == "QuantLinear") {
    Layer l = make_layer(c);
    l.module().train();
    const QuantTensor y = l.forward(QuantTensor(x));
    k.close("y", y.value, c.f("y"));
    if (c.has_t("weight_quant")) k.close("weight_quant", l.quant_weight().value, c.f("weight_quant"));
    torch::Tensor loss = (y.value * g).sum();
    loss.backward();
    k.close("dL_dx", x.grad(), c.f("dL_dx"));
    k.close("dL_dweight", l.weight().grad(), c.f("dL_dweight"));
    k.close("dL_dbias", l.bias().grad(), c.f("dL_dbias"));
    return;
  }
  QuantAct act = make_act(c.config);
  act->train();
  {
    torch::NoGradGuard no_grad;
    for (int i = 0; c.has_t("x_pre" + std::to_string(i)); ++i)
      act->forward(QuantTensor(c.f("x_pre" + std::to_string(i))));
  }
  k.exact("counter_before", static_cast<double>(act->act_quant->counter()), c.s("counter_before"));
  k.scale("scale_param_value", act->act_quant->value.item<double>(), c.s("scale_param_value"));
  const QuantTensor y = act->forward(QuantTensor(x));
  k.close("y", y.value, c.f("y"));
  k.scale("scale", y.scale, torch::tensor(c.s("scale")));
  torch::Tensor loss = (y.value * g).sum();
  loss.backward();
  k.close("dL_dx", x.grad(), c.f("dL_dx"));
  const torch::Tensor gv = act->act_quant->value.grad();
  k.close("dL_dscale_param", gv.defined() ? gv : torch::zeros({}), c.f("dL_dscale_param"));
}

// ---------------------------------------------------------------- model_eval

// Builds the project described by config.architecture, e.g.
// "conv1: QuantConv2d(in_ch, 6, 5, weight_bit_width=3, bias_quant=Int8Bias, return_quant_tensor=True)".
Project architecture_project(const Case& c) {
  Project p;
  p.name = c.name;
  const auto shape = c.config.at("input_shape").get<std::vector<int64_t>>();
  p.input_shape = {shape[1], shape[2], shape[3]};
  const int64_t in_ch = c.config.at("in_ch").get<int64_t>();
  LayerSpec input;
  input.id = "input";
  input.type = LayerType::Input;
  p.layers.push_back(input);
  std::string prev = "input";
  std::map<std::string, std::string> alias;  // "h" -> "relu1" from "... -> h"
  int anon = 0;
  // "<id>: <Type>(<args>)[(<call args>)][ [<Preset>]] <rest>", e.g.
  // "add: QuantEltwiseAdd(input_bit_width=8, ...)(r, h): ..." or "bn2: BatchNorm2d(8) -> r".
  const std::regex named(R"(^(\w+): (\w+)\(([^()]*)\)(?:\(([^()]*)\))?(?: \[(\w+)\])?(.*)$)");
  const std::regex unnamed(R"(^(\w+)(?: \(float\))?(?:\((.*)\))?.*$)");
  const std::regex alias_tail(R"(->\s*(\w+)\s*$)");
  auto split = [](const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    for (std::string a; std::getline(ss, a, ',');) {
      a.erase(0, a.find_first_not_of(' '));
      a.erase(a.find_last_not_of(' ') + 1);
      if (!a.empty()) out.push_back(a);
    }
    return out;
  };
  auto act_spec = [](const std::string& preset, const std::map<std::string, std::string>& kw, const char* key) {
    QuantSpec s = presets::by_name(preset);
    if (kw.count(key)) s.bit_width = std::stoi(kw.at(key));
    return s;
  };
  for (const auto& line_json : c.config.at("architecture")) {
    const std::string line = line_json.get<std::string>();
    std::smatch m;
    LayerSpec l;
    std::vector<std::string> inputs{prev};
    if (std::regex_match(line, m, named)) {
      l.id = m[1];
      const std::string type = m[2];
      std::vector<std::string> pos;
      std::map<std::string, std::string> kw;
      for (const std::string& a : split(m[3].str())) {
        const auto eq = a.find('=');
        if (eq == std::string::npos) pos.push_back(a);
        else kw[a.substr(0, eq)] = a.substr(eq + 1);
      }
      auto num = [&](const std::string& s) { return s == "in_ch" ? double(in_ch) : std::stod(s); };
      l.return_quant_tensor = kw.count("return_quant_tensor") && kw["return_quant_tensor"] == "True";
      const std::string preset = m[5].matched ? m[5].str() : "";
      if (type == "QuantIdentity" || type == "QuantReLU" || type == "QuantTanh" || type == "QuantSigmoid") {
        // Brevitas defaults: QuantReLU and QuantSigmoid unsigned, QuantIdentity and QuantTanh signed.
        const bool unsigned_default = type == "QuantReLU" || type == "QuantSigmoid";
        l.type = layer_type_from_string(type);
        l.act_quant = act_spec(!preset.empty() ? preset
                               : unsigned_default ? "Uint8ActPerTensorFloat" : "Int8ActPerTensorFloat",
                               kw, "bit_width");
      } else if (type == "QuantConv2d" || type == "QuantLinear") {
        const bool conv = type == "QuantConv2d";
        l.type = conv ? LayerType::QuantConv2d : LayerType::QuantLinear;
        l.params[conv ? "in_channels" : "in_features"] = num(pos.at(0));
        l.params[conv ? "out_channels" : "out_features"] = num(pos.at(1));
        if (conv) {
          l.params["kernel_size"] = num(pos.at(2));
          for (const char* g : {"stride", "padding"})
            if (kw.count(g)) l.params[g] = num(kw[g]);
        }
        l.params["bias"] = !(kw.count("bias") && kw["bias"] == "False");
        QuantSpec w = presets::by_name(kw.count("weight_quant") ? kw["weight_quant"] : "Int8WeightPerTensorFloat");
        if (kw.count("weight_bit_width")) w.bit_width = std::stoi(kw["weight_bit_width"]);
        l.weight_quant = w;
        if (kw.count("bias_quant")) l.bias_quant = presets::by_name(kw["bias_quant"]);
      } else if (type == "TruncAvgPool2d") {
        l.type = layer_type_from_string(type);
        l.params["kernel_size"] = num(pos.at(0));
        l.return_quant_tensor = true;  // Brevitas's truncating pools hand the QuantTensor on
      } else if (type == "TruncAdaptiveAvgPool2d") {
        l.type = layer_type_from_string(type);
        l.params["output_size"] = num(pos.at(0));
        l.return_quant_tensor = true;
      } else if (type == "BatchNorm2d") {
        l.type = LayerType::BatchNorm2d;
        l.params["num_features"] = num(pos.at(0));
      } else if (type == "QuantEltwiseAdd") {
        l.type = LayerType::QuantEltwiseAdd;
        l.input_quant = act_spec("Int8ActPerTensorFloat", kw, "input_bit_width");
        l.act_quant = act_spec("Int8ActPerTensorFloat", kw, "output_bit_width");
        const std::vector<std::string> call = split(m[4].str());
        if (call.size() != 2) throw Unsupported("QuantEltwiseAdd line without its two operands: " + line);
        inputs.clear();
        for (const std::string& a : call) inputs.push_back(alias.count(a) ? alias[a] : a);
      } else {
        throw Unsupported("architecture line: " + line);
      }
      std::smatch t;
      const std::string rest = m[6].str();
      if (std::regex_search(rest, t, alias_tail) && t[1] != "float") alias[t[1]] = l.id;
    } else if (std::regex_match(line, m, unnamed)) {
      const std::string op = m[1];
      l.id = op + "_" + std::to_string(anon++);
      if (op == "max_pool2d") {
        l.type = LayerType::MaxPool2d;
        l.params["kernel_size"] = std::stod(m[2]);
      } else if (op == "reshape") {
        l.type = LayerType::Flatten;
      } else if (op == "relu") {
        l.type = LayerType::ReLU;
      } else {
        throw Unsupported("architecture line: " + line);
      }
    } else {
      throw Unsupported("architecture line: " + line);
    }
    l.inputs = inputs;
    prev = l.id;
    p.layers.push_back(l);
  }
  LayerSpec output;
  output.id = "output";
  output.type = LayerType::Output;
  output.inputs = {prev};
  p.layers.push_back(output);
  return p;
}

/// Suffix of an activation quantizer's threshold in a Brevitas state dict; the prefix
/// names the quantizer ("relu1.act_quant", "add.input_quant", "add.output_quant").
const std::string kBrevitasThreshold = ".fused_activation_quant_proxy.tensor_quant.scaling_impl.value";

/// One runtime-statistics quantizer of a case: its state-dict prefix and the name its
/// scalars use ("relu1" for "relu1.act_quant", "add.input_quant" otherwise).
struct ActKey {
  std::string prefix, name;
  std::string threshold_key() const { return prefix + kBrevitasThreshold; }
};

// Copies the float weights and biases (and BatchNorm buffers) of a Brevitas state dict into the model.
void load_parameters(QuantModel& model, const Case& c) {
  torch::NoGradGuard no_grad;
  auto params = model->named_parameters();
  auto buffers = model->named_buffers();
  for (const auto& key_json : c.config.at("state_dict_keys")) {
    const std::string key = key_json.get<std::string>();
    if (key.find(kBrevitasThreshold) != std::string::npos) continue;
    torch::Tensor* t = params.find(key);
    if (!t) t = buffers.find(key);
    if (!t) throw Unsupported("a model tensor for state-dict key " + key);
    t->copy_(c.t(key).to(t->scalar_type()));
  }
}

std::vector<ActKey> act_layers(const Case& c) {
  std::vector<ActKey> out;
  for (const auto& key_json : c.config.at("state_dict_keys")) {
    const std::string key = key_json.get<std::string>();
    const auto pos = key.find(kBrevitasThreshold);
    if (pos == std::string::npos) continue;
    ActKey a;
    a.prefix = key.substr(0, pos);
    const std::string act = ".act_quant";
    a.name = a.prefix.size() > act.size() && a.prefix.compare(a.prefix.size() - act.size(), act.size(), act) == 0
                 ? a.prefix.substr(0, a.prefix.size() - act.size())
                 : a.prefix;
    out.push_back(a);
  }
  return out;
}

ActQuantizerImpl& act_quantizer(QuantModel& model, const ActKey& a) {
  for (const auto& item : model->named_modules())
    if (item.key() == a.prefix)
      if (auto* q = dynamic_cast<ActQuantizerImpl*>(item.value().get())) return *q;
  throw Unsupported("an activation quantizer at " + a.prefix);
}

/// Brevitas keeps BatchNorm in eval during the training passes of these cases
/// (config.batchnorm): running statistics, never batch statistics.
void batch_norm_eval(QuantModel& model, const Project& project) {
  for (const LayerSpec& l : project.layers)
    if (l.type == LayerType::BatchNorm2d) model->layer(l.id)->eval();
}

void check_meta(const Case& c, Checker& k, const std::map<std::string, QuantTensor>& trace) {
  for (const auto& id_json : c.config.at("meta_layers")) {
    const std::string id = id_json.get<std::string>();
    const std::string p = "meta." + id + ".";
    auto it = trace.find(id);
    if (it == trace.end() || !it->second.is_quant()) {
      k.fail(p + "*: layer output carries no QuantTensor metadata");
      continue;
    }
    const QuantTensor& t = it->second;
    k.scale(p + "scale", t.scale, c.f(p + "scale"));
    k.exact(p + "zero_point", t.zero_point.abs().max().item<double>(), c.t(p + "zero_point").abs().max().item<double>());
    k.exact(p + "bit_width", static_cast<double>(t.bit_width), c.s(p + "bit_width"));
    k.exact(p + "signed", t.is_signed ? 1 : 0, c.s(p + "signed"));
    if (c.has_t(p + "value")) k.close(p + "value", t.value, c.f(p + "value"));
  }
}

torch::Tensor logits_of(const QuantModel& model, const std::map<std::string, QuantTensor>& trace) {
  auto it = trace.find("output");
  if (it == trace.end()) it = trace.find(model->order().back());
  return it->second.value;
}

/// Rounding hazards of one replayed training pass: per activation quantizer, how many
/// of its inputs u = x / scale + zero_point (in code units) lie within float32
/// summation error of a rounding boundary (a half-integer). x comes from convolutions
/// and matmuls whose float32 summation order differs between CPUs (oneDNN / BLAS pick
/// kernels per instruction set), so on another machine such an element may round the
/// other way: Brevitas's machine decided it one way, ours may decide it the other. In
/// the training passes the scales are batch statistics, so one flipped code changes
/// later statistics and logits: from such a pass on, the replay cannot be compared
/// exactly on every CPU. delta: a float32 sum of fan_in products carries a relative
/// error up to about fan_in * 2^-24 (~1e-5 for the LeNets' fan_in of 400); 2^-12
/// relative (2.4e-4) keeps a wide margin, and is still far below one code step.
std::map<std::string, int64_t> rounding_hazards(const Project& project, const std::map<std::string, QuantTensor>& trace) {
  std::map<std::string, int64_t> out;
  constexpr double kDelta = 1.0 / 4096.0;
  for (const LayerSpec& l : project.layers) {
    if (l.inputs.empty() || l.inputs[0].empty()) continue;
    const LayerSpec* src = project.find(l.inputs[0]);
    // The network input is exact (a 1/32 grid): no summation, no hazard.
    if (!src || src->type == LayerType::Input) continue;
    const auto y = trace.find(l.id), in = trace.find(l.inputs[0]);
    if (y == trace.end() || in == trace.end() || !y->second.is_quant()) continue;
    torch::Tensor x = in->second.value;
    switch (l.type) {
      case LayerType::QuantIdentity: break;
      case LayerType::QuantReLU: x = torch::relu(x); break;
      case LayerType::QuantTanh: x = torch::tanh(x); break;
      case LayerType::QuantSigmoid: x = torch::sigmoid(x); break;
      default: continue;  // no runtime-statistics quantizer of its own input
    }
    const torch::Tensor u = (x / y->second.scale + y->second.zero_point).to(torch::kFloat64);
    const torch::Tensor off = (u - torch::floor(u) - 0.5).abs();
    const int64_t n = (off <= kDelta * torch::clamp_min(u.abs(), 1.0)).sum().item<int64_t>();
    if (n > 0) out[l.id] = n;
  }
  return out;
}

std::string hazard_text(const std::map<std::string, int64_t>& h) {
  std::string s;
  for (const auto& [id, n] : h) s += (s.empty() ? "" : ", ") + id + ": " + std::to_string(n);
  return s;
}

/// Bounds on a replay that rounding hazards made inexact (see check_training_replay):
/// per-pass training scales and thresholds within 10 % relative of Brevitas's, eval logits within 10 % of their
/// largest magnitude, and every replayed layer's bit width and signedness exact.
void bounded_replay_checks(const Case& c, Checker& k, const std::vector<ActKey>& acts, QuantModel& replay,
                           const std::map<std::string, QuantTensor>& eval_trace,
                           const std::vector<std::tuple<std::string, double, double>>& step_scales) {
  constexpr double kRel = 0.10;
  for (const auto& [key, got, want] : step_scales)
    if (!(std::fabs(got - want) <= kRel * std::fabs(want)))
      k.fail(key + " (hazard-bounded): got " + std::to_string(got) + ", expected " + std::to_string(want) +
             " (more than 10 % apart)");
  for (const ActKey& a : acts) {
    const double got = act_quantizer(replay, a).scaling_buffer.item<double>();
    const double want = c.f(a.threshold_key()).item<double>();
    if (!(std::fabs(got - want) <= kRel * std::fabs(want)))
      k.fail(a.name + " threshold (hazard-bounded): got " + std::to_string(got) + ", expected " + std::to_string(want) +
             " (more than 10 % apart)");
  }
  const torch::Tensor want = c.f("logits");
  const double limit = kRel * std::max(1e-6, want.abs().max().item<double>());
  const double diff = (logits_of(replay, eval_trace) - want).abs().max().item<double>();
  if (!(diff <= limit))
    k.fail("logits (replayed, hazard-bounded): max |error| " + std::to_string(diff) + " > " + std::to_string(limit));
  for (const auto& id_json : c.config.at("meta_layers")) {
    const std::string id = id_json.get<std::string>();
    const auto it = eval_trace.find(id);
    if (it == eval_trace.end() || !it->second.is_quant()) {
      k.fail("meta." + id + ".*: replayed layer output carries no QuantTensor metadata");
      continue;
    }
    k.exact("meta." + id + ".bit_width", static_cast<double>(it->second.bit_width), c.s("meta." + id + ".bit_width"));
    k.exact("meta." + id + ".signed", it->second.is_signed ? 1 : 0, c.s("meta." + id + ".signed"));
  }
}

/// The training-mode replay of a model_eval case: 5 forward passes from a fresh model,
/// then eval. Items up to the first pass with rounding hazards are compared strictly;
/// from that pass on, a value that differs is reported as a note naming the hazards
/// (see rounding_hazards), never silently. Counters are always exact.
void check_training_replay(const Case& c, Checker& k, const Project& project, const std::vector<ActKey>& acts) {
  const torch::Tensor input = c.f("input");
  QuantModel replay = build_model(project);
  load_parameters(replay, c);
  replay->train();
  batch_norm_eval(replay, project);
  std::string hazard;  // "" until the first hazardous pass
  Checker soft(c);     // checks from the first hazardous pass on
  std::vector<std::tuple<std::string, double, double>> step_scales;  // key, got, expected
  auto checker = [&]() -> Checker& { return hazard.empty() ? k : soft; };
  const double f[] = {1.0, 1.5, 0.75, 1.25, 2.0};
  for (int64_t t = 0; t < 5 && c.has_t("train_logits_step" + std::to_string(t)); ++t) {
    const std::string step = std::to_string(t);
    const auto trace = replay->forward_trace(torch::roll(input, {t}, {0}) * f[t]);
    const auto h = rounding_hazards(project, trace);
    if (hazard.empty() && !h.empty()) hazard = "pass " + step + " (" + hazard_text(h) + ")";
    checker().close("train_logits_step" + step, logits_of(replay, trace), c.f("train_logits_step" + step));
    for (const ActKey& a : acts) {
      const std::string key = "train_step" + step + "." + a.name + ".scale";
      if (!c.has_s(key)) continue;
      const auto it = trace.find(a.name);
      if (it == trace.end() || !it->second.is_quant()) checker().fail(key + ": no quantized output of " + a.name + " in the replay");
      else {
        checker().scale(key, it->second.scale, torch::tensor(c.s(key)));
        step_scales.push_back({key, it->second.scale.max().item<double>(), c.s(key)});
      }
    }
  }
  for (const ActKey& a : acts) {
    k.exact(a.name + ".counter", static_cast<double>(act_quantizer(replay, a).counter()), c.s(a.name + ".counter"));
    checker().scale(a.name + " threshold", act_quantizer(replay, a).scaling_buffer.item<double>(),
                    c.f(a.threshold_key()).item<double>());
  }
  replay->eval();
  const auto trace = replay->forward_trace(input);
  checker().close("logits (replayed)", logits_of(replay, trace), c.f("logits"));
  check_meta(c, checker(), trace);
  if (soft.ok()) {
    k.absorb(soft);
    return;
  }
  k.note("training replay from " + hazard + " not comparable exactly on this CPU: " +
         std::to_string(soft.failures().size()) +
         " value(s) differ after activation inputs within float32 summation error of a rounding boundary (first: " +
         soft.failures().front() + ")");
  // Still bounded: a few flipped codes move a batch statistic by a few percent at most,
  // never an order of magnitude, and never a bit width or signedness.
  bounded_replay_checks(c, k, acts, replay, trace, step_scales);
}

void check_model_eval(const Case& c, Checker& k) {
  const Project project = architecture_project(c);
  const std::vector<ActKey> acts = act_layers(c);
  torch::NoGradGuard no_grad;

  // (1) The training-mode replay; skipped for checkpoint cases, whose optimizer steps
  // changed the weights: only their recorded state can be checked, in (2).
  if (c.config.value("optimizer_steps", 0) == 0) check_training_replay(c, k, project, acts);

  // (2) Load the Brevitas state dict into a fresh model: the thresholds end the
  // statistics phase, which gives the same eval output. Always strict.
  QuantModel loaded = build_model(project);
  load_parameters(loaded, c);
  for (const ActKey& a : acts)
    act_quantizer(loaded, a).load_threshold(c.f(a.threshold_key()).item<double>());
  loaded->eval();
  const auto trace = loaded->forward_trace(c.f("input"));
  k.close("logits (state dict)", logits_of(loaded, trace), c.f("logits"));
  check_meta(c, k, trace);

  // (3) The Brevitas checkpoint file itself (torch.save(model.state_dict())), when the
  // case names one next to it: read by the app's own state-dict reader and name mapping
  // (core/train/weights.h), it must give the same logits.
  const std::string file = c.config.value("checkpoint_file", std::string());
  if (file.empty()) return;
  const std::filesystem::path pt = std::filesystem::path(c.path).parent_path() / file;
  if (!std::filesystem::exists(pt)) {
    k.fail("checkpoint_file " + pt.string() + " is missing next to the case");
    return;
  }
  QuantModel from_file = build_model(project);
  const WeightsReport w = load_weights(from_file, pt.string());
  if (!w.unexpected.empty()) k.fail(file + ": keys that match nothing: " + w.unexpected.front());
  if (!w.statistics.empty()) k.fail(file + ": no learned scale for " + w.statistics.front());
  from_file->eval();
  k.close("logits (" + file + ")", logits_of(from_file, from_file->forward_trace(c.f("input"))), c.f("logits"));
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

Checker run_case(const Case& c) {
  Checker k(c);
  try {
    if (c.kind == "int_quant") check_int_quant(c, k);
    else if (c.kind == "weight_quant") check_weight_quant(c, k);
    else if (c.kind == "act_quant_sequence") check_act_sequence(c, k);
    else if (c.kind == "bias_quant") check_bias_quant(c, k);
    else if (c.kind == "layer") check_layer(c, k);
    else if (c.kind == "gradient") check_gradient(c, k);
    else if (c.kind == "model_eval") check_model_eval(c, k);
    else k.fail("unknown kind '" + c.kind + "'");
  } catch (const Unsupported& e) {
    k.fail(e.what());
  } catch (const c10::Error& e) {
    k.fail("library error: " + first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    k.fail(std::string("exception: ") + first_line(e.what()));
  }
  return k;
}

}  // namespace qnn::golden
