// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/layers/layer_kit.h"

#include <algorithm>
#include <sstream>

#include "core/graph/layer_rules.h"
#include "core/graph/summary.h"
#include "core/nn/eltwise_layers.h"
#include "core/nn/quant_wbiol.h"

namespace qnn::layer_kit {

int no_ports(const LayerSpec&) { return 0; }
int one_port(const LayerSpec&) { return 1; }
int two_ports(const LayerSpec&) { return 2; }

ParamSchema int_param(std::string name, bool required, double minimum, double default_value,
                      std::optional<double> initial, std::string help) {
  ParamSchema p;
  p.name = std::move(name);
  p.kind = ParamKind::Int;
  p.required = required;
  p.minimum = minimum;
  p.default_value = default_value;
  p.initial = initial;
  p.help = std::move(help);
  return p;
}

ParamSchema pair_param(std::string name, bool required, double minimum, double default_value,
                       std::optional<double> initial, std::string help) {
  ParamSchema p = int_param(std::move(name), required, minimum, default_value, initial, std::move(help));
  p.kind = ParamKind::IntTuple;
  p.count = 2;
  return p;
}

std::string pair_text(const std::array<int64_t, 2>& v) {
  return v[0] == v[1] ? std::to_string(v[0]) : std::to_string(v[0]) + "x" + std::to_string(v[1]);
}

LayerDescriptor weighted_layer(LayerType type, const char* name, const char* id_base, bool quant,
                               std::string tooltip) {
  LayerDescriptor d;
  d.type = type;
  d.name = name;
  d.id_base = id_base;
  d.family = quant ? LayerFamily::QuantLayer : LayerFamily::FloatLayer;
  d.tooltip = std::move(tooltip);
  d.input_ports = one_port;
  if (quant) d.quant_slots = {{QuantSlot::Weight, presets::Int8WeightPerTensorFloat()}, {QuantSlot::Bias, std::nullopt}};
  d.returns_quant_tensor = quant;
  d.has_weights = true;
  d.export_rules.float_compute = !quant;
  d.export_rules.packed_float_weights = !quant;
  return d;
}

ParamSchema real_param(std::string name, double default_value, std::optional<double> initial, std::string help) {
  ParamSchema p;
  p.name = std::move(name);
  p.kind = ParamKind::Real;
  p.default_value = default_value;
  p.initial = initial;
  p.help = std::move(help);
  return p;
}

ParamSchema bias_param() {
  ParamSchema p;
  p.name = "bias";
  p.kind = ParamKind::Bool;
  p.default_value = 1.0;
  p.initial = 1.0;
  p.help = "add a learned bias per output channel / feature";
  return p;
}

std::vector<ParamSchema> conv_params(const std::string& kernel_help, bool pairs) {
  const auto geometry = pairs ? pair_param : int_param;
  return {int_param("in_channels", true, 1, 0, 1, "input channels C_in"),
          int_param("out_channels", true, 1, 0, 8, "output channels C_out (filters)"),
          geometry("kernel_size", true, 1, 0, 3, kernel_help),
          geometry("stride", false, 1, 1, std::nullopt, "step of the window"),
          geometry("padding", false, 0, 0, std::nullopt, "zeros added on each side"),
          geometry("dilation", false, 1, 1, std::nullopt, "spacing of the kernel taps"),
          int_param("groups", false, 1, 1, std::nullopt, "channel groups (C_in = groups: depthwise)"),
          bias_param()};
}

void conv_check(const LayerSpec& l, LayerReporter& r) {
  const int64_t g = l.int_param("groups", 1);
  if (g > 0 && (l.int_param("in_channels", 1) % g != 0 || l.int_param("out_channels", 1) % g != 0))
    r.error(l.id + ": in_channels and out_channels must be divisible by groups (" + std::to_string(g) + ")",
            "change groups or the channel counts");
}

int64_t conv_out_len(int64_t in, int64_t k, int64_t s, int64_t pad, int64_t dil) {
  const int64_t n = in + 2 * pad - dil * (k - 1) - 1;
  return n < 0 || s <= 0 ? 0 : n / s + 1;
}

std::string num_text(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

bool expect_chw(const LayerSpec& l, const InferInput& in, InferContext& c, const std::string& hint) {
  if (in.info.shape.size() == 3) return true;
  c.error(l.id + " expects a [C, H, W] input, gets " + shape_text(in.info.shape) + " from " + in.from, hint,
          "shape-mismatch");
  return false;
}

NodeInfo float_info(const std::vector<int64_t>& shape) { return NodeInfo{shape, false, 0, false, "", false}; }

namespace {

/// Finds the layer that dropped the QuantTensor above `layer` and says what to change.
std::string missing_scale_hint(const LayerSpec& layer, const std::string& from, const Project& p) {
  const LayerSpec* src = p.find(from);
  while (src && descriptor(src->type).passes_quant_facts && !src->inputs.empty() && p.find(src->inputs[0]))
    src = p.find(src->inputs[0]);
  const std::string alt = ", or remove " + layer.id + "'s bias_quant to keep a float bias";
  if (src) {
    const LayerDescriptor& d = descriptor(src->type);
    const bool can_return = d.returns_quant_tensor && (d.uses(QuantSlot::Act) || d.uses(QuantSlot::Weight));
    if (can_return && !src->return_quant_tensor)
      return "turn on return_quant_tensor on " + src->id + ": without it " + src->id +
             " passes plain floats and " + layer.id + " has no input scale for its bias" + alt;
    if (d.uses(QuantSlot::Weight))
      return src->id + " cannot return a quantized tensor (its own input, weights or bias are not quantized)" + alt;
  }
  return "insert a QuantIdentity with return_quant_tensor before " + layer.id + alt;
}

}  // namespace

bool wbiol_facts(const LayerSpec& l, const InferInput& in, int64_t fan_in, NodeInfo& out, InferContext& c) {
  const auto wq = effective_weight_quant(l);
  const auto bq = effective_bias_quant(l);
  out.quantized = false;
  out.bit_width = 0;
  out.is_signed = false;
  out.scale_source.clear();
  out.per_channel = false;
  if (bq && !in.info.quantized) {
    c.error(bq->preset + " needs the input scale, but its input from " + in.from +
                " is not a QuantTensor (Brevitas: \"Input scale required\")",
            missing_scale_hint(l, in.from, c.project()), "bias-needs-scale");
    return false;
  }
  if (bq && in.info.per_channel) {
    c.error(bq->preset + " needs a per-tensor input scale, but its input from " + in.from + " carries " +
                in.info.scale_source + "'s per-channel scale (per-channel weights)",
            "requantize per tensor before " + l.id + " (a QuantReLU or QuantIdentity with return_quant_tensor), "
            "use per-tensor weights on " + in.info.scale_source + ", or remove " + l.id + "'s bias_quant",
            "bias-per-channel-input");
    return false;
  }
  if (!l.return_quant_tensor || !wq || !in.info.quantized || (layer_has_bias(l) && !bq)) return true;
  out.quantized = true;
  out.bit_width = accumulator_bit_width(in.info.bit_width, wq->bit_width, fan_in);
  if (bq) out.bit_width = std::max<int64_t>(out.bit_width, bq->bit_width) + 1;
  out.is_signed = in.info.is_signed || wq->is_signed;
  out.scale_source = l.id;  // the accumulator grid s_in * s_w
  out.per_channel = wq->per_channel || in.info.per_channel;
  return true;
}

void wbiol_cost(const LayerSpec& l, int64_t outputs, int64_t fan_in, const std::vector<int64_t>* out_shape,
                LayerSummary& s) {
  // Counts saturate (summary.h, kCountSaturated): sizes up to 2^31-1 pass validation.
  s.weights = count_mul(std::max<int64_t>(0, outputs), std::max<int64_t>(0, fan_in));
  s.biases = layer_has_bias(l) ? std::max<int64_t>(0, outputs) : 0;
  s.params = count_add(s.weights, s.biases);
  const auto wq = effective_weight_quant(l);
  const auto bq = effective_bias_quant(l);
  s.weight_bits = wq ? wq->bit_width : 32;
  s.bias_bits = s.biases ? (bq ? bq->bit_width : 32) : 0;
  s.storage_bits = count_add(count_mul(s.weights, s.weight_bits), count_mul(s.biases, s.bias_bits));
  s.float32_bits = count_mul(32, s.params);
  if (out_shape) {
    int64_t positions = 1;  // output elements per sample
    for (int64_t d : *out_shape) positions = count_mul(positions, d);
    s.macs = count_mul(positions, std::max<int64_t>(0, fan_in));
  }
}

}  // namespace qnn::layer_kit
