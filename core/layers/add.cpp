// SPDX-License-Identifier: GPL-3.0-or-later
// Add (the Brevitas QuantTensor `+` rules) and QuantEltwiseAdd (Brevitas
// QuantEltwiseAdd: input_quant on both inputs, the sum, act_quant on the output).
// Two input ports of equal shape. Not in packed models yet.
#include "core/export/export_plan.h"
#include "core/graph/layer_rules.h"
#include "core/layers/layer_kit.h"
#include "core/nn/eltwise_layers.h"

namespace qnn::layers {

using namespace layer_kit;

namespace {

bool same_shapes(const LayerSpec& l, const std::vector<InferInput>& in, InferContext& c) {
  if (in[0].info.shape == in[1].info.shape) return true;
  c.error(l.id + " adds " + shape_text(in[0].info.shape) + " from " + in[0].from + " (port 0) to " +
              shape_text(in[1].info.shape) + " from " + in[1].from + " (port 1); the shapes must be equal",
          "change the layers feeding " + l.id + " so both produce the same shape", "shape-mismatch");
  return false;
}

bool infer_add(const LayerSpec& l, const std::vector<InferInput>& in, NodeInfo& out, InferContext& c) {
  if (!same_shapes(l, in, c)) return false;
  out = float_info(in[0].info.shape);
  const NodeInfo& a = in[0].info;
  const NodeInfo& b = in[1].info;
  if (!a.quantized || !b.quantized) return true;  // a float operand: the sum is float
  if (a.scale_source != b.scale_source) {
    c.error(l.id + " adds quantized tensors with different scales: port 0 (from " + in[0].from + ") carries " +
                a.scale_source + "'s scale, port 1 (from " + in[1].from + ") carries " + b.scale_source +
                "'s (Brevitas: \"Scaling factors are different\" in eval)",
            "use a QuantEltwiseAdd (one input quantizer for both), or turn off return_quant_tensor on " +
                a.scale_source + " or " + b.scale_source + " to add in float",
            "add-scales");
    return false;
  }
  out.quantized = true;
  out.bit_width = add_bit_width(a.bit_width, a.is_signed, b.bit_width, b.is_signed);
  out.is_signed = a.is_signed || b.is_signed;
  out.scale_source = a.scale_source;
  out.per_channel = a.per_channel;
  return true;
}

bool infer_eltwise(const LayerSpec& l, const std::vector<InferInput>& in, NodeInfo& out, InferContext& c) {
  if (!same_shapes(l, in, c)) return false;
  out = float_info(in[0].info.shape);
  const QuantSpec q = *effective_act_quant(l);
  if (l.return_quant_tensor) out = NodeInfo{in[0].info.shape, true, q.bit_width, q.is_signed, l.id, false};
  return true;
}

void freeze_add(const FreezeContext& c, PlanNode& n) {
  n.op = PlanOp::Add;
  n.input2 = c.inputs.at(1);
}

void freeze_eltwise(const FreezeContext& c, PlanNode& n) {
  auto& ea = dynamic_cast<QuantEltwiseAddImpl&>(c.module);
  n.op = PlanOp::Add;
  n.input2 = c.inputs.at(1);
  if (ea.input_quant->enabled()) {
    const QuantTensor q = ea.input_quant->forward(torch::zeros({1}));
    n.input_q = quant_point(ea.input_quant->spec(), q.scale, q.zero_point);
  }
  if (ea.output_quant->enabled()) {
    const QuantTensor q = ea.output_quant->forward(torch::zeros({1}));
    n.act_q = quant_point(ea.output_quant->spec(), q.scale, q.zero_point);
  }
}

LayerDescriptor two_input(LayerType type, const char* name) {
  LayerDescriptor d;
  d.type = type;
  d.name = name;
  d.id_base = "add";
  d.input_ports = two_ports;
  d.export_rules.packed_refusal = std::string(name) +
                                  " (a two-input node) cannot be stored in a packed model yet; export QCDQ, QONNX "
                                  "or a checkpoint";
  return d;
}

}  // namespace

LayerDescriptor add() {
  LayerDescriptor d = two_input(LayerType::Add, "Add");
  d.family = LayerFamily::ShapeOp;
  d.tooltip = "Add: elementwise sum of ports 0 and 1 (quantized operands must share one scale)";
  d.infer = infer_add;
  d.build = [](const LayerSpec&) { return built(AddLayer()); };
  d.export_rules.freeze = freeze_add;
  return d;
}

LayerDescriptor quant_eltwise_add() {
  LayerDescriptor d = two_input(LayerType::QuantEltwiseAdd, "QuantEltwiseAdd");
  d.family = LayerFamily::QuantActivation;
  d.tooltip = "Brevitas QuantEltwiseAdd: input_quant on both inputs, their sum, then act_quant";
  d.quant_slots = {{QuantSlot::Input, presets::Int8ActPerTensorFloat()}, {QuantSlot::Act, presets::Int8ActPerTensorFloat()}};
  d.returns_quant_tensor = true;
  d.infer = infer_eltwise;
  d.build = [](const LayerSpec& l) {
    QuantEltwiseAddOptions o;
    o.input_quant(*effective_input_quant(l)).output_quant(*effective_act_quant(l)).return_quant_tensor(l.return_quant_tensor);
    return built(QuantEltwiseAdd(o));
  };
  d.export_rules.freeze = freeze_eltwise;
  return d;
}

}  // namespace qnn::layers
