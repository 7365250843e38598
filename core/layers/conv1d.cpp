// SPDX-License-Identifier: GPL-3.0-or-later
// QuantConv1d (Brevitas QuantConv1d) and its float counterpart Conv1d: [C_in, L] ->
// [C_out, L_out], L_out = floor((L + 2p - d(k-1) - 1) / s) + 1 (torch.nn.Conv1d).
// MACs per sample: C_out * L_out * C_in/groups * k.
#include "core/export/export_plan.h"
#include "core/export/packed_model.h"
#include "core/graph/layer_rules.h"
#include "core/graph/summary.h"
#include "core/layers/layer_kit.h"
#include "core/nn/quant_wbiol.h"

namespace qnn::layers {

using namespace layer_kit;

namespace {

bool infer(const LayerSpec& l, const std::vector<InferInput>& ins, NodeInfo& out, InferContext& c) {
  const InferInput& in = ins[0];
  const std::string& id = l.id;
  if (in.info.shape.size() != 2) {
    c.error(id + " expects a [C, L] input, gets " + shape_text(in.info.shape) + " from " + in.from,
            "a 1-D convolution needs a [channels, length] input (e.g. input shape [1, 64])", "shape-mismatch");
    return false;
  }
  const int64_t cin = l.int_param("in_channels", 0);
  if (cin != in.info.shape[0]) {
    c.error(id + " expects " + std::to_string(cin) + " input channels, gets " + std::to_string(in.info.shape[0]) +
                " from " + in.from,
            "set " + id + "'s in_channels to " + std::to_string(in.info.shape[0]) + " or change " + in.from,
            "channel-mismatch");
    return false;
  }
  const int64_t k = l.int_param("kernel_size", 1), pad = l.int_param("padding", 0), dil = l.int_param("dilation", 1);
  const int64_t len = conv_out_len(in.info.shape[1], k, l.int_param("stride", 1), pad, dil);
  if (len <= 0) {
    c.error(id + "'s output would be " + shape_text({l.int_param("out_channels", 1), len}) + ": its kernel of " +
                std::to_string(k) + " taps (dilation " + std::to_string(dil) + ") does not fit the length " +
                std::to_string(in.info.shape[1]) + " + 2 x padding " + std::to_string(pad) + " of the input from " +
                in.from,
            "use a smaller kernel_size or dilation, add padding, or feed a longer input", "spatial");
    return false;
  }
  out.shape = {l.int_param("out_channels", 1), len};
  return wbiol_facts(l, in, cin / std::max<int64_t>(1, l.int_param("groups", 1)) * k, out, c);
}

BuiltLayer build(const LayerSpec& l) {
  QuantConv1dOptions o(l.int_param("in_channels", 1), l.int_param("out_channels", 1), l.int_param("kernel_size", 1));
  o.stride(l.int_param("stride", 1))
      .padding(l.int_param("padding", 0))
      .dilation(l.int_param("dilation", 1))
      .groups(l.int_param("groups", 1))
      .bias(layer_has_bias(l))
      .weight_quant(effective_weight_quant(l))
      .bias_quant(effective_bias_quant(l))
      .return_quant_tensor(l.return_quant_tensor);
  return built(QuantConv1d(o));
}

void cost(const LayerSpec& l, const std::vector<int64_t>* out, LayerSummary& s) {
  const int64_t g = std::max<int64_t>(1, l.int_param("groups", 1));
  wbiol_cost(l, l.int_param("out_channels", 0),
             count_mul(l.int_param("in_channels", 0) / g, l.int_param("kernel_size", 0)), out, s);
}

std::string param_text(const LayerSpec& l) {
  std::string t = "k" + num_text(l.param("kernel_size", 1));
  if (l.param("stride", 1) != 1) t += " s" + num_text(l.param("stride", 1));
  if (l.param("padding", 0) != 0) t += " p" + num_text(l.param("padding", 0));
  return t;
}

void freeze(const FreezeContext& c, PlanNode& n) {
  auto& m = dynamic_cast<QuantConv1dImpl&>(c.module);
  n.op = PlanOp::Conv;
  n.conv_dims = 1;
  freeze_wbiol(c, m, n);
  n.kernel = axes(m.options.kernel_size());
  n.stride = axes(m.options.stride());
  n.padding = axes(m.options.padding());
  n.dilation = axes(m.options.dilation());
  n.groups = m.options.groups();
}

torch::Tensor packed_forward(const PackedRunContext& c) {
  const LayerSpec& l = c.layer;
  const torch::Tensor w = c.param(l.id + ".weight", 3), b = c.param(l.id + ".bias", 1);
  if (!w.defined()) throw ExportError(l.id + ": weight missing from the packed model");
  return torch::conv1d(c.inputs.at(0), w, b, l.int_param("stride", 1), l.int_param("padding", 0),
                       l.int_param("dilation", 1), l.int_param("groups", 1));
}

LayerDescriptor conv(LayerType type, const char* name, bool quant) {
  LayerDescriptor d = weighted_layer(type, name, "conv", quant,
                                     quant ? "Brevitas QuantConv1d: 1-D convolution over [C, L] with quantized "
                                             "weights (and optionally a quantized bias)"
                                           : "torch.nn.Conv1d: 1-D convolution over [C, L] in float");
  d.params = conv_params("kernel size k (taps along L)", false);
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

LayerDescriptor quant_conv1d() { return conv(LayerType::QuantConv1d, "QuantConv1d", true); }
LayerDescriptor conv1d() { return conv(LayerType::Conv1d, "Conv1d", false); }

}  // namespace qnn::layers
