// SPDX-License-Identifier: GPL-3.0-or-later
// Activations: Brevitas QuantIdentity, QuantReLU, QuantHardTanh, QuantTanh, QuantSigmoid
// (an optional function then the act_quant quantizer) and their float counterparts
// Identity, ReLU, HardTanh, Tanh, Sigmoid.
// All run as core/nn QuantAct modules (a float one has no quantizer).
#include "core/export/export_plan.h"
#include "core/export/packed_model.h"
#include "core/graph/layer_rules.h"
#include "core/layers/layer_kit.h"
#include "core/nn/quant_act.h"
#include "core/quant/fake_quant_kernel.h"

namespace qnn::layers {

using namespace layer_kit;

namespace {

/// Output facts of a quantizing activation: its own grid when return_quant_tensor.
bool infer_quant(const LayerSpec& l, const std::vector<InferInput>&, NodeInfo& out, InferContext&) {
  const QuantSpec q = *effective_act_quant(l);
  out.quantized = l.return_quant_tensor;
  out.bit_width = out.quantized ? q.bit_width : 0;
  out.is_signed = out.quantized && q.is_signed;
  out.scale_source = out.quantized ? l.id : "";
  out.per_channel = false;
  return true;
}

template <ActFunction F>
BuiltLayer build(const LayerSpec& l) {
  QuantActOptions o(F);
  o.act_quant(effective_act_quant(l))
      .return_quant_tensor(l.return_quant_tensor)
      .min_val(l.param("min_val", -1.0))
      .max_val(l.param("max_val", 1.0));
  return built(QuantAct(o));
}

void freeze(const FreezeContext& c, PlanNode& n) {
  auto& a = dynamic_cast<QuantActImpl&>(c.module);
  n.op = PlanOp::Act;
  n.act_function = a.options.function();
  // QuantHardTanh: the quantizer alone (Brevitas switches the nn.Hardtanh off when an
  // act_quant is present), so no Clip is exported in front of its Quant.
  if (n.act_function == ActFunction::HardTanh && a.act_quant) n.act_function = ActFunction::Identity;
  n.min_val = a.options.min_val();
  n.max_val = a.options.max_val();
  if (a.act_quant && a.act_quant->enabled()) {
    const QuantTensor q = a.act_quant->forward(torch::zeros({1}));
    n.act_q = quant_point(a.act_quant->spec(), q.scale, q.zero_point);
  }
}

/// The function, then the stored activation quantizer (when the packed file has one).
template <ActFunction F>
torch::Tensor packed_forward(const PackedRunContext& c) {
  torch::Tensor y = c.inputs.at(0);
  if (F == ActFunction::ReLU) y = torch::relu(y);
  if (F == ActFunction::HardTanh && !effective_act_quant(c.layer))  // QuantHardTanh: the quantizer alone
    y = torch::hardtanh(y, c.layer.param("min_val", -1.0), c.layer.param("max_val", 1.0));
  if (F == ActFunction::Tanh) y = torch::tanh(y);
  if (F == ActFunction::Sigmoid) y = torch::sigmoid(y);
  if (const PackedTensor* a = c.tensor(c.layer.id + ".act"))
    y = fake_quant(y, a->q.scale, a->q.zero_point, a->q.range, ClampGrad::Masked);
  return y;
}

std::vector<ParamSchema> hardtanh_params() {
  return {real_param("min_val", -1.0, std::nullopt, "lower clamp bound"),
          real_param("max_val", 1.0, std::nullopt, "upper clamp bound (above min_val)")};
}

void check_hardtanh(const LayerSpec& l, LayerReporter& r) {
  if (!(l.param("min_val", -1.0) < l.param("max_val", 1.0))) r.error(l.id + ": min_val must be below max_val", "");
}

template <ActFunction F>
LayerDescriptor activation(LayerType type, const char* name, const char* id_base, std::optional<QuantSpec> preset,
                           const char* tooltip) {
  LayerDescriptor d;
  d.type = type;
  d.name = name;
  d.id_base = id_base;
  const bool quant = preset.has_value();
  d.family = quant ? LayerFamily::QuantActivation : LayerFamily::FloatActivation;
  d.tooltip = tooltip;
  d.input_ports = one_port;
  if (quant) d.quant_slots = {{QuantSlot::Act, preset}};
  d.returns_quant_tensor = quant;
  if (F == ActFunction::HardTanh) {
    d.params = hardtanh_params();
    d.check = check_hardtanh;
  }
  if (quant) {
    d.infer = infer_quant;
  } else if (F == ActFunction::HardTanh || F == ActFunction::Tanh || F == ActFunction::Sigmoid) {
    // clamps or a curve: the values leave the input's grid
    d.infer = [](const LayerSpec&, const std::vector<InferInput>&, NodeInfo& out, InferContext&) {
      out = float_info(out.shape);
      return true;
    };
  } else {
    d.passes_quant_facts = true;  // ReLU and Identity keep the grid (nullptr infer: pass-through)
  }
  d.build = build<F>;
  d.export_rules.packed_forward = packed_forward<F>;
  if (quant || F != ActFunction::Identity) d.export_rules.freeze = freeze;  // float Identity vanishes
  d.export_rules.float_compute = !quant && (F == ActFunction::HardTanh || F == ActFunction::Tanh ||
                                            F == ActFunction::Sigmoid);
  d.export_rules.runtime_kernel = F == ActFunction::Tanh || F == ActFunction::Sigmoid;
  return d;
}

}  // namespace

LayerDescriptor quant_identity() {
  return activation<ActFunction::Identity>(LayerType::QuantIdentity, "QuantIdentity", "quant_id",
                                           presets::Int8ActPerTensorFloat(),
                                           "Brevitas QuantIdentity: quantizes its input (act_quant)");
}
LayerDescriptor quant_relu() {
  return activation<ActFunction::ReLU>(LayerType::QuantReLU, "QuantReLU", "relu", presets::Uint8ActPerTensorFloat(),
                                       "Brevitas QuantReLU: ReLU, then an unsigned activation quantizer");
}
LayerDescriptor quant_hardtanh() {
  return activation<ActFunction::HardTanh>(LayerType::QuantHardTanh, "QuantHardTanh", "hardtanh",
                                           presets::Int8ActPerTensorFloatMinMaxInit(),
                                           "Brevitas QuantHardTanh: a signed activation quantizer whose learned scale starts "
                                           "from [min_val, max_val] (the quantizer clamps; no separate hardtanh)");
}
LayerDescriptor quant_tanh() {
  return activation<ActFunction::Tanh>(LayerType::QuantTanh, "QuantTanh", "tanh", presets::Int8ActPerTensorFloat(),
                                       "Brevitas QuantTanh: tanh, then a signed activation quantizer "
                                       "(Int8ActPerTensorFloat)");
}
LayerDescriptor quant_sigmoid() {
  return activation<ActFunction::Sigmoid>(LayerType::QuantSigmoid, "QuantSigmoid", "sigmoid",
                                          presets::Uint8ActPerTensorFloat(),
                                          "Brevitas QuantSigmoid: sigmoid, then an unsigned activation quantizer "
                                          "(Uint8ActPerTensorFloat)");
}
LayerDescriptor tanh_layer() {
  return activation<ActFunction::Tanh>(LayerType::Tanh, "Tanh", "tanh", std::nullopt,
                                       "torch.nn.Tanh: tanh(x) in float (the output is not on a grid)");
}
LayerDescriptor sigmoid_layer() {
  return activation<ActFunction::Sigmoid>(LayerType::Sigmoid, "Sigmoid", "sigmoid", std::nullopt,
                                          "torch.nn.Sigmoid: 1 / (1 + exp(-x)) in float (the output is not on a "
                                          "grid)");
}
LayerDescriptor relu() {
  return activation<ActFunction::ReLU>(LayerType::ReLU, "ReLU", "relu", std::nullopt, "torch.nn.ReLU: max(x, 0)");
}
LayerDescriptor hardtanh() {
  return activation<ActFunction::HardTanh>(LayerType::HardTanh, "HardTanh", "hardtanh", std::nullopt,
                                           "torch.nn.Hardtanh: clamp to [min_val, max_val]");
}
LayerDescriptor identity() {
  return activation<ActFunction::Identity>(LayerType::Identity, "Identity", "identity", std::nullopt,
                                           "Identity: passes its input (and its grid) on");
}

}  // namespace qnn::layers
