// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/quant_act.h"

namespace qnn {

QuantActImpl::QuantActImpl(QuantActOptions o) : options(std::move(o)) { reset(); }

void QuantActImpl::reset() {
  if (options.act_quant()) {
    QuantSpec spec = *options.act_quant();
    if (options.function() == ActFunction::HardTanh) {
      spec.min_val = options.min_val();
      spec.max_val = options.max_val();
    }
    act_quant = register_module("act_quant", ActQuantizer(spec));
  } else {
    act_quant = nullptr;
  }
}

QuantTensor QuantActImpl::forward(const QuantTensor& x) {
  torch::Tensor v = x.value;
  switch (options.function()) {
    case ActFunction::Identity: break;
    case ActFunction::ReLU: v = torch::relu(v); break;
    case ActFunction::HardTanh:
      // Brevitas (proxy/runtime_quant.py _is_act_enabled): with an activation quantizer
      // the nn.Hardtanh is switched off, its clamp is the quantizer's; min_val/max_val
      // only initialise the quantizer's scale (Int8ActPerTensorFloatMinMaxInit).
      if (!act_quant) v = torch::hardtanh(v, options.min_val(), options.max_val());
      break;
    case ActFunction::Tanh:
      if (act_quant) {
        // tanh and its quantizer as one node once the scale is learned (issue 11).
        QuantTensor y = act_quant->forward_tanh(v);
        return options.return_quant_tensor() ? y : y.dequantized();
      }
      v = torch::tanh(v);
      break;
    case ActFunction::Sigmoid: v = torch::sigmoid(v); break;
  }
  if (!act_quant) {
    // A float activation keeps the grid of its input only for functions that map the
    // grid onto itself (identity, ReLU with a zero point of 0).
    const bool keeps_grid =
        options.function() == ActFunction::Identity || options.function() == ActFunction::ReLU;
    return keeps_grid && x.is_quant() ? x.with_value(v) : QuantTensor(v);
  }
  QuantTensor y = act_quant->forward(v);
  return options.return_quant_tensor() ? y : y.dequantized();
}

QuantActOptions quant_identity_options(int bit_width, bool return_quant_tensor) {
  QuantActOptions o(ActFunction::Identity);
  QuantSpec s = presets::Int8ActPerTensorFloat();
  s.bit_width = bit_width;
  o.act_quant(s).return_quant_tensor(return_quant_tensor);
  return o;
}

QuantActOptions quant_relu_options(int bit_width, bool return_quant_tensor) {
  QuantActOptions o(ActFunction::ReLU);
  QuantSpec s = presets::Uint8ActPerTensorFloat();
  s.bit_width = bit_width;
  o.act_quant(s).return_quant_tensor(return_quant_tensor);
  return o;
}

QuantActOptions quant_hardtanh_options(int bit_width, double min_val, double max_val,
                                       bool return_quant_tensor) {
  QuantActOptions o(ActFunction::HardTanh);
  QuantSpec s = presets::Int8ActPerTensorFloatMinMaxInit();
  s.bit_width = bit_width;
  o.act_quant(s).min_val(min_val).max_val(max_val).return_quant_tensor(return_quant_tensor);
  return o;
}

QuantActOptions quant_tanh_options(int bit_width, bool return_quant_tensor) {
  QuantActOptions o(ActFunction::Tanh);
  QuantSpec s = presets::Int8ActPerTensorFloat();
  s.bit_width = bit_width;
  o.act_quant(s).return_quant_tensor(return_quant_tensor);
  return o;
}

QuantActOptions quant_sigmoid_options(int bit_width, bool return_quant_tensor) {
  QuantActOptions o(ActFunction::Sigmoid);
  QuantSpec s = presets::Uint8ActPerTensorFloat();
  s.bit_width = bit_width;
  o.act_quant(s).return_quant_tensor(return_quant_tensor);
  return o;
}

}  // namespace qnn
