// SPDX-License-Identifier: GPL-3.0-or-later
// Flatten: [C, H, W] -> [C*H*W], QuantTensor facts unchanged.
#include "core/export/export_plan.h"
#include "core/export/packed_model.h"
#include "core/layers/layer_kit.h"
#include "core/nn/shape_layers.h"

namespace qnn::layers {

using namespace layer_kit;

LayerDescriptor flatten() {
  LayerDescriptor d;
  d.type = LayerType::Flatten;
  d.name = "Flatten";
  d.id_base = "flatten";
  d.single_id = true;
  d.family = LayerFamily::ShapeOp;
  d.tooltip = "Flatten: [C, H, W] -> [C*H*W] (keeps the QuantTensor metadata)";
  d.input_ports = one_port;
  d.passes_quant_facts = true;
  d.infer = [](const LayerSpec&, const std::vector<InferInput>& in, NodeInfo& out, InferContext&) {
    int64_t n = 1;
    for (int64_t x : in[0].info.shape) n *= x;
    out.shape = {n};
    return true;
  };
  d.build = [](const LayerSpec&) { return built(FlattenLayer()); };
  d.export_rules.freeze = [](const FreezeContext&, PlanNode& n) { n.op = PlanOp::Flatten; };
  d.export_rules.packed_forward = [](const PackedRunContext& c) {
    const torch::Tensor& x = c.inputs.at(0);
    return x.reshape({x.size(0), -1});
  };
  return d;
}

}  // namespace qnn::layers
