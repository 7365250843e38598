// SPDX-License-Identifier: GPL-3.0-or-later
// QuantConv2d (Brevitas QuantConv2d) and its float counterpart Conv2d.
// Output size per spatial axis: floor((in + 2p - d(k-1) - 1) / s) + 1 (torch.nn.Conv2d).
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
  const int64_t k = l.int_param("kernel_size", 1), s = l.int_param("stride", 1);
  const int64_t pad = l.int_param("padding", 0), dil = l.int_param("dilation", 1);
  std::vector<int64_t> shape{l.int_param("out_channels", 1), 0, 0};
  for (int i = 1; i <= 2; ++i) {
    const int64_t n = in.info.shape[i] + 2 * pad - dil * (k - 1) - 1;
    shape[i] = n < 0 ? 0 : n / s + 1;
  }
  if (shape[1] <= 0 || shape[2] <= 0) {
    c.error(id + "'s output would be " + shape_text(shape) + ": its " + std::to_string(k) + "x" + std::to_string(k) +
                " window does not fit the " + std::to_string(in.info.shape[1]) + "x" +
                std::to_string(in.info.shape[2]) + " input from " + in.from,
            "use a smaller kernel_size or stride, add padding, or feed a larger input", "spatial");
    return false;
  }
  out.shape = shape;
  return wbiol_facts(l, in, l.int_param("in_channels", 1) / l.int_param("groups", 1) * k * k, out, c);
}

BuiltLayer build(const LayerSpec& l) {
  QuantConv2dOptions o(l.int_param("in_channels", 1), l.int_param("out_channels", 1), l.int_param("kernel_size", 1));
  o.stride(l.int_param("stride", 1))
      .padding(l.int_param("padding", 0))
      .dilation(l.int_param("dilation", 1))
      .groups(l.int_param("groups", 1))
      .bias(layer_has_bias(l))
      .weight_quant(effective_weight_quant(l))
      .bias_quant(effective_bias_quant(l))
      .return_quant_tensor(l.return_quant_tensor);
  return built(QuantConv2d(o));
}

void cost(const LayerSpec& l, const std::vector<int64_t>* out, LayerSummary& s) {
  const int64_t k = l.int_param("kernel_size", 0), g = std::max<int64_t>(1, l.int_param("groups", 1));
  wbiol_cost(l, l.int_param("out_channels", 0), l.int_param("in_channels", 0) / g * k * k, out, s);
}

std::string param_text(const LayerSpec& l) {
  std::string t = "k" + num_text(l.param("kernel_size", 1));
  if (l.param("stride", 1) != 1) t += " s" + num_text(l.param("stride", 1));
  if (l.param("padding", 0) != 0) t += " p" + num_text(l.param("padding", 0));
  return t;
}

void freeze(const FreezeContext& c, PlanNode& n) {
  auto& m = dynamic_cast<QuantConv2dImpl&>(c.module);
  n.op = PlanOp::Conv;
  freeze_wbiol(c, m, n);
  n.kernel = (*m.options.kernel_size())[0];
  n.stride = (*m.options.stride())[0];
  n.padding = (*m.options.padding())[0];
  n.dilation = (*m.options.dilation())[0];
  n.groups = m.options.groups();
}

torch::Tensor packed_forward(const PackedRunContext& c) {
  const LayerSpec& l = c.layer;
  const torch::Tensor w = c.param(l.id + ".weight", 4), b = c.param(l.id + ".bias", 1);
  if (!w.defined()) throw ExportError(l.id + ": weight missing from the packed model");
  return torch::conv2d(c.inputs.at(0), w, b, l.int_param("stride", 1), l.int_param("padding", 0),
                       l.int_param("dilation", 1), l.int_param("groups", 1));
}

LayerDescriptor conv(LayerType type, const char* name, bool quant) {
  LayerDescriptor d = weighted_layer(
      type, name, "conv", quant,
      quant ? "Brevitas QuantConv2d: 2-D convolution with quantized weights (and optionally a quantized bias)"
            : "torch.nn.Conv2d: 2-D convolution in float");
  d.params = conv_params("kernel size k (k x k window)");
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
