// SPDX-License-Identifier: GPL-3.0-or-later
// QuantLinear (Brevitas QuantLinear) and its float counterpart Linear.
#include "core/export/export_plan.h"
#include "core/export/packed_model.h"
#include "core/graph/layer_rules.h"
#include "core/graph/summary.h"
#include "core/layers/layer_kit.h"
#include "core/nn/linear_kernel.h"
#include "core/nn/quant_wbiol.h"

namespace qnn::layers {

using namespace layer_kit;

namespace {

bool infer(const LayerSpec& l, const std::vector<InferInput>& ins, NodeInfo& out, InferContext& c) {
  const InferInput& in = ins[0];
  const std::string& id = l.id;
  const int64_t fin = l.int_param("in_features", 0);
  if (in.info.shape.size() != 1) {
    c.error(id + " expects a flat input of " + std::to_string(fin) + " features, gets " + shape_text(in.info.shape) +
                " from " + in.from,
            "insert a Flatten between " + in.from + " and " + id, "feature-mismatch");
    return false;
  }
  if (fin != in.info.shape[0]) {
    c.error(id + " expects " + std::to_string(fin) + " features, gets " + std::to_string(in.info.shape[0]) + " from " +
                in.from,
            "set " + id + "'s in_features to " + std::to_string(in.info.shape[0]) + " or change " + in.from,
            "feature-mismatch");
    return false;
  }
  out.shape = {l.int_param("out_features", 1)};
  return wbiol_facts(l, in, fin, out, c);
}

BuiltLayer build(const LayerSpec& l) {
  QuantLinearOptions o(l.int_param("in_features", 1), l.int_param("out_features", 1));
  o.bias(layer_has_bias(l))
      .weight_quant(effective_weight_quant(l))
      .bias_quant(effective_bias_quant(l))
      .return_quant_tensor(l.return_quant_tensor);
  return built(QuantLinear(o));
}

void freeze(const FreezeContext& c, PlanNode& n) {
  n.op = PlanOp::Linear;
  freeze_wbiol(c, dynamic_cast<QuantLinearImpl&>(c.module), n);
}

torch::Tensor packed_forward(const PackedRunContext& c) {
  const std::string& id = c.layer.id;
  const torch::Tensor w = c.param(id + ".weight", 2), b = c.param(id + ".bias", 1);
  if (!w.defined()) throw ExportError(id + ": weight missing from the packed model");
  return detail::linear_exact(c.inputs.at(0), w, b);  // as QuantLinear's forward
}

LayerDescriptor linear_layer(LayerType type, const char* name, bool quant) {
  LayerDescriptor d = weighted_layer(type, name, "fc", quant,
                                     quant ? "Brevitas QuantLinear: fully connected layer with quantized weights "
                                             "(and optionally a quantized bias)"
                                           : "torch.nn.Linear: fully connected layer in float");
  d.params = {int_param("in_features", true, 1, 0, 16, "input features (a flat input)"),
              int_param("out_features", true, 1, 0, 10, "output features"), bias_param()};
  d.infer = infer;
  d.build = build;
  d.cost = [](const LayerSpec& l, const std::vector<int64_t>* out, LayerSummary& s) {
    wbiol_cost(l, l.int_param("out_features", 0), l.int_param("in_features", 0), out, s);
  };
  d.param_text = [](const LayerSpec& l) { return "\u2192" + num_text(l.param("out_features", 0)); };
  d.export_rules.freeze = freeze;
  d.export_rules.packed_forward = packed_forward;
  return d;
}

}  // namespace

LayerDescriptor quant_linear() { return linear_layer(LayerType::QuantLinear, "QuantLinear", true); }
LayerDescriptor linear() { return linear_layer(LayerType::Linear, "Linear", false); }

}  // namespace qnn::layers
