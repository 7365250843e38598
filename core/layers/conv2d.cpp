// SPDX-License-Identifier: GPL-3.0-or-later
// QuantConv2d (Brevitas QuantConv2d) and its float counterpart Conv2d.
// Output size per spatial axis: floor((in + 2p - d(k-1) - 1) / s) + 1 (torch.nn.Conv2d).
// kernel_size, stride, padding and dilation are one number for both axes or a pair
// [h, w], as torch.nn.Conv2d / Brevitas QuantConv2d take them.
#include "core/export/export_plan.h"
#include "core/export/packed_model.h"
#include "core/graph/layer_rules.h"
#include "core/graph/summary.h"
#include "core/layers/layer_kit.h"
#include "core/nn/quant_wbiol.h"

namespace qnn::layers {

using namespace layer_kit;

namespace {

/// kernel_size, stride, padding, dilation as [h, w] (a number stands for both axes).
struct Geometry {
  std::array<int64_t, 2> k, s, p, d;
};
Geometry geometry(const LayerSpec& l) {
  return {pair_value(l, "kernel_size"), pair_value(l, "stride"), pair_value(l, "padding"), pair_value(l, "dilation")};
}
std::vector<int64_t> vec(const std::array<int64_t, 2>& a) { return {a[0], a[1]}; }

bool infer(const LayerSpec& l, const std::vector<InferInput>& ins, NodeInfo& out, InferContext& c) {
  const InferInput& in = ins[0];
  const std::string& id = l.id;
  if (!expect_chw(l, in, c, "a convolution needs image-shaped input; place " + id + " before the Flatten"))
    return false;
  const int64_t cin = l.int_param("in_channels", 0);
  if (cin != in.info.shape[0]) {
    c.error(id + " expects " + std::to_string(cin) + " input channels, gets " + std::to_string(in.info.shape[0]) +
                " from " + in.from,
            "set " + id + "'s in_channels to " + std::to_string(in.info.shape[0]) + " or change " + in.from,
            "channel-mismatch");
    return false;
  }
  const Geometry g = geometry(l);
  std::vector<int64_t> shape{l.int_param("out_channels", 1), 0, 0};
  for (int i = 0; i < 2; ++i)
    shape[i + 1] = conv_out_len(in.info.shape[i + 1], g.k[i], g.s[i], g.p[i], g.d[i]);
  if (shape[1] <= 0 || shape[2] <= 0) {
    const std::string padded = std::to_string(in.info.shape[1] + 2 * g.p[0]) + "x" +
                               std::to_string(in.info.shape[2] + 2 * g.p[1]);
    c.error(id + "'s output would be " + shape_text(shape) + ": its " + std::to_string(g.k[0]) + "x" +
                std::to_string(g.k[1]) + " window" +
                (g.d[0] != 1 || g.d[1] != 1 ? " (dilation " + pair_text(g.d) + ")" : std::string()) +
                " does not fit the " + std::to_string(in.info.shape[1]) + "x" + std::to_string(in.info.shape[2]) +
                " input from " + in.from + (g.p[0] || g.p[1] ? " (" + padded + " padded)" : std::string()),
            "use a smaller kernel_size or stride, add padding, or feed a larger input", "spatial");
    return false;
  }
  out.shape = shape;
  return wbiol_facts(l, in, l.int_param("in_channels", 1) / l.int_param("groups", 1) * g.k[0] * g.k[1], out, c);
}

BuiltLayer build(const LayerSpec& l) {
  const Geometry g = geometry(l);
  QuantConv2dOptions o(l.int_param("in_channels", 1), l.int_param("out_channels", 1), vec(g.k));
  o.stride(vec(g.s))
      .padding(vec(g.p))
      .dilation(vec(g.d))
      .groups(l.int_param("groups", 1))
      .bias(layer_has_bias(l))
      .weight_quant(effective_weight_quant(l))
      .bias_quant(effective_bias_quant(l))
      .return_quant_tensor(l.return_quant_tensor);
  return built(QuantConv2d(o));
}

void cost(const LayerSpec& l, const std::vector<int64_t>* out, LayerSummary& s) {
  const auto k = pair_value(l, "kernel_size");
  const int64_t g = std::max<int64_t>(1, l.int_param("groups", 1));
  wbiol_cost(l, l.int_param("out_channels", 0), count_mul(count_mul(l.int_param("in_channels", 0) / g, k[0]), k[1]),
             out, s);
}

std::string param_text(const LayerSpec& l) {
  const Geometry g = geometry(l);
  std::string t = "k" + pair_text(g.k);
  if (g.s != std::array<int64_t, 2>{1, 1}) t += " s" + pair_text(g.s);
  if (g.p != std::array<int64_t, 2>{0, 0}) t += " p" + pair_text(g.p);
  if (g.d != std::array<int64_t, 2>{1, 1}) t += " d" + pair_text(g.d);
  const int64_t groups = l.int_param("groups", 1);
  if (groups != 1) t += " g" + std::to_string(groups);
  return t;
}

void freeze(const FreezeContext& c, PlanNode& n) {
  auto& m = dynamic_cast<QuantConv2dImpl&>(c.module);
  n.op = PlanOp::Conv;
  freeze_wbiol(c, m, n);
  n.kernel = axes(m.options.kernel_size());
  n.stride = axes(m.options.stride());
  n.padding = axes(m.options.padding());
  n.dilation = axes(m.options.dilation());
  n.groups = m.options.groups();
}

torch::Tensor packed_forward(const PackedRunContext& c) {
  const LayerSpec& l = c.layer;
  const torch::Tensor w = c.param(l.id + ".weight", 4), b = c.param(l.id + ".bias", 1);
  if (!w.defined()) throw ExportError(l.id + ": weight missing from the packed model");
  const Geometry g = geometry(l);
  return torch::conv2d(c.inputs.at(0), w, b, vec(g.s), vec(g.p), vec(g.d), l.int_param("groups", 1));
}

LayerDescriptor conv(LayerType type, const char* name, bool quant) {
  LayerDescriptor d = weighted_layer(
      type, name, "conv", quant,
      quant ? "Brevitas QuantConv2d: 2-D convolution with quantized weights (and optionally a quantized bias)"
            : "torch.nn.Conv2d: 2-D convolution in float");
  d.params = conv_params("kernel size k, or [kh, kw] for a kh x kw window", true);
  d.check = conv_check;
  d.infer = infer;
  d.build = build;
  d.cost = cost;
  d.param_text = param_text;
  d.export_rules.freeze = freeze;
  d.export_rules.packed_forward = packed_forward;
  return d;
}

}  // namespace

LayerDescriptor quant_conv2d() { return conv(LayerType::QuantConv2d, "QuantConv2d", true); }
LayerDescriptor conv2d() { return conv(LayerType::Conv2d, "Conv2d", false); }

}  // namespace qnn::layers
