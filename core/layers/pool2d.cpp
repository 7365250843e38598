// SPDX-License-Identifier: GPL-3.0-or-later
// MaxPool2d and AvgPool2d (torch.nn.MaxPool2d / AvgPool2d; stride defaults to the
// kernel size). Max pooling keeps the QuantTensor facts; average pooling puts a
// quantized input on the grid scale / (kh kw) with bit width + ceil(log2(kh kw)).
// kernel_size and stride are one number or a pair [h, w].
#include <cmath>

#include "core/export/export_plan.h"
#include "core/export/packed_model.h"
#include "core/layers/layer_kit.h"
#include "core/nn/shape_layers.h"

namespace qnn::layers {

using namespace layer_kit;

namespace {

std::vector<ParamSchema> pool_params() {
  ParamSchema stride = pair_param("stride", false, 1, 0, std::nullopt, "step of the window (default: kernel_size)");
  stride.default_from = "kernel_size";
  return {pair_param("kernel_size", true, 1, 0, 2, "window size k (k x k), or [kh, kw]"), stride};
}

template <bool Average>
bool infer(const LayerSpec& l, const std::vector<InferInput>& ins, NodeInfo& out, InferContext& c) {
  const InferInput& in = ins[0];
  const std::string& id = l.id;
  if (!expect_chw(l, in, c, "pooling needs image-shaped input; place " + id + " before the Flatten")) return false;
  const auto k = pair_value(l, "kernel_size"), s = pair_value(l, "stride");
  std::vector<int64_t> shape{in.info.shape[0], conv_out_len(in.info.shape[1], k[0], s[0], 0, 1),
                             conv_out_len(in.info.shape[2], k[1], s[1], 0, 1)};
  if (shape[1] <= 0 || shape[2] <= 0) {
    c.error(id + "'s output would be " + shape_text(shape) + ": its " + std::to_string(k[0]) + "x" +
                std::to_string(k[1]) + " window does not fit the " + std::to_string(in.info.shape[1]) + "x" +
                std::to_string(in.info.shape[2]) + " input from " + in.from,
            "use a smaller kernel_size or stride, or feed a larger input", "spatial");
    return false;
  }
  out.shape = shape;
  if (Average && in.info.quantized) {
    out.bit_width = in.info.bit_width + static_cast<int64_t>(std::ceil(std::log2(static_cast<double>(k[0] * k[1]))));
    out.scale_source = id;  // scale / k^2: a grid of its own
  }
  return true;
}

template <bool Average>
BuiltLayer build(const LayerSpec& l) {
  const auto k = pair_value(l, "kernel_size"), s = pair_value(l, "stride");
  if (Average) return built(AvgPool2dLayer(k, s));
  return built(MaxPool2dLayer(k, s));
}

template <bool Average>
void freeze(const FreezeContext& c, PlanNode& n) {
  n.op = Average ? PlanOp::AvgPool : PlanOp::MaxPool;
  if (Average) {
    const auto& m = dynamic_cast<const AvgPool2dLayerImpl&>(c.module);
    n.kernel = axes(m.kernel);
    n.stride = axes(m.stride);
  } else {
    const auto& m = dynamic_cast<const MaxPool2dLayerImpl&>(c.module);
    n.kernel = axes(m.kernel);
    n.stride = axes(m.stride);
  }
}

template <bool Average>
torch::Tensor packed_forward(const PackedRunContext& c) {
  const auto k = pair_value(c.layer, "kernel_size"), s = pair_value(c.layer, "stride");
  const std::vector<int64_t> kv{k[0], k[1]}, sv{s[0], s[1]};
  return Average ? torch::avg_pool2d(c.inputs.at(0), kv, sv) : torch::max_pool2d(c.inputs.at(0), kv, sv);
}

template <bool Average>
LayerDescriptor pool(LayerType type, const char* name, const char* tooltip) {
  LayerDescriptor d;
  d.type = type;
  d.name = name;
  d.id_base = "pool";
  d.family = LayerFamily::ShapeOp;
  d.tooltip = tooltip;
  d.input_ports = one_port;
  d.params = pool_params();
  d.passes_quant_facts = true;
  d.infer = infer<Average>;
  d.build = build<Average>;
  d.param_text = [](const LayerSpec& l) {
    const auto k = pair_value(l, "kernel_size"), s = pair_value(l, "stride");
    return "k" + pair_text(k) + (s != k ? " s" + pair_text(s) : std::string());
  };
  d.export_rules.freeze = freeze<Average>;
  d.export_rules.packed_forward = packed_forward<Average>;
  return d;
}

}  // namespace

LayerDescriptor max_pool2d() {
  return pool<false>(LayerType::MaxPool2d, "MaxPool2d", "torch.nn.MaxPool2d: maximum over each window (keeps the grid)");
}
LayerDescriptor avg_pool2d() {
  return pool<true>(LayerType::AvgPool2d, "AvgPool2d",
                    "torch.nn.AvgPool2d: mean over each window (a quantized input: scale / k^2)");
}

}  // namespace qnn::layers
