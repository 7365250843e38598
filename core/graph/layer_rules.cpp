// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/graph/layer_rules.h"

namespace qnn {

bool is_quant_wbiol(LayerType t) { return t == LayerType::QuantConv2d || t == LayerType::QuantLinear; }

bool has_weights(LayerType t) {
  return is_quant_wbiol(t) || t == LayerType::Conv2d || t == LayerType::Linear;
}

bool is_conv(LayerType t) { return t == LayerType::QuantConv2d || t == LayerType::Conv2d; }

bool is_linear(LayerType t) { return t == LayerType::QuantLinear || t == LayerType::Linear; }

bool is_quant_act(LayerType t) {
  return t == LayerType::QuantIdentity || t == LayerType::QuantReLU || t == LayerType::QuantHardTanh;
}

bool is_add(LayerType t) { return t == LayerType::Add || t == LayerType::QuantEltwiseAdd; }

bool uses_act_quant(LayerType t) { return is_quant_act(t) || t == LayerType::QuantEltwiseAdd; }

bool layer_has_bias(const LayerSpec& l) { return has_weights(l.type) && l.param("bias", 1.0) != 0.0; }

std::optional<QuantSpec> effective_weight_quant(const LayerSpec& l) {
  if (!is_quant_wbiol(l.type)) return std::nullopt;
  return l.weight_quant ? *l.weight_quant : presets::Int8WeightPerTensorFloat();
}

std::optional<QuantSpec> effective_bias_quant(const LayerSpec& l) {
  if (!is_quant_wbiol(l.type) || !layer_has_bias(l)) return std::nullopt;
  return l.bias_quant;
}

std::optional<QuantSpec> effective_act_quant(const LayerSpec& l) {
  if (l.act_quant && uses_act_quant(l.type)) return l.act_quant;
  switch (l.type) {
    case LayerType::QuantIdentity:
    case LayerType::QuantEltwiseAdd: return presets::Int8ActPerTensorFloat();
    case LayerType::QuantReLU: return presets::Uint8ActPerTensorFloat();
    case LayerType::QuantHardTanh: return presets::Int8ActPerTensorFloatMinMaxInit();
    default: return std::nullopt;
  }
}

std::optional<QuantSpec> effective_input_quant(const LayerSpec& l) {
  if (l.type != LayerType::QuantEltwiseAdd) return std::nullopt;
  return l.input_quant ? *l.input_quant : presets::Int8ActPerTensorFloat();
}

const std::vector<std::string>& known_params(LayerType t) {
  static const std::vector<std::string> none;
  static const std::vector<std::string> conv{"in_channels", "out_channels", "kernel_size", "stride",
                                             "padding", "dilation", "groups", "bias"};
  static const std::vector<std::string> linear{"in_features", "out_features", "bias"};
  static const std::vector<std::string> pool{"kernel_size", "stride"};
  static const std::vector<std::string> dropout{"p"};
  static const std::vector<std::string> hardtanh{"min_val", "max_val"};
  static const std::vector<std::string> batch_norm{"num_features", "eps", "momentum"};
  if (is_conv(t)) return conv;
  if (is_linear(t)) return linear;
  switch (t) {
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d: return pool;
    case LayerType::Dropout: return dropout;
    case LayerType::QuantHardTanh:
    case LayerType::HardTanh: return hardtanh;
    case LayerType::BatchNorm2d: return batch_norm;
    default: return none;
  }
}

}  // namespace qnn
