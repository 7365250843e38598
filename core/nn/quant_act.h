// SPDX-License-Identifier: GPL-3.0-or-later
// Quantized activations: QuantIdentity, QuantReLU, QuantHardTanh, QuantTanh, QuantSigmoid
// (Brevitas 0.12.1 names).
#pragma once

#include <optional>

#include <torch/torch.h>

#include "core/nn/layer.h"
#include "core/quant/quantizers.h"

namespace qnn {

/// Which function the activation applies before quantizing.
enum class ActFunction { Identity, ReLU, HardTanh, Tanh, Sigmoid };

struct QuantActOptions {
  explicit QuantActOptions(ActFunction f = ActFunction::Identity) : function_(f) {}
  TORCH_ARG(ActFunction, function);
  /// nullopt: a float activation (plain ReLU / identity / hardtanh / tanh / sigmoid).
  TORCH_ARG(std::optional<QuantSpec>, act_quant) = presets::Int8ActPerTensorFloat();
  TORCH_ARG(bool, return_quant_tensor) = false;
  TORCH_ARG(double, min_val) = -1.0;  ///< HardTanh bounds
  TORCH_ARG(double, max_val) = 1.0;
};

/// An activation followed by its quantizer; x any shape -> same shape. QuantReLU
/// takes statistics of and quantizes relu(x) (Uint8ActPerTensorFloat by default);
/// QuantIdentity quantizes x (Int8ActPerTensorFloat); QuantHardTanh is its quantizer
/// alone (Int8ActPerTensorFloatMinMaxInit, whose learned scale starts from
/// [min_val, max_val]): as in Brevitas, the hardtanh clamp is applied only without an
/// act_quant (a float HardTanh), since the quantizer already clamps. QuantTanh / QuantSigmoid apply
/// torch::tanh / torch::sigmoid (float32) and take statistics of and quantize that output:
/// QuantTanh defaults to Int8ActPerTensorFloat (signed, int_threshold 2^(b-1), so the
/// 8-bit scale is max|tanh(x)| / 128 and tanh(x) near +1 clamps at code 127),
/// QuantSigmoid to Uint8ActPerTensorFloat (unsigned, int_threshold 2^b - 1).
/// Source: Brevitas 0.12.1 brevitas.nn.QuantTanh / QuantSigmoid (golden README).
/// The quantizer's state lives in the submodule "act_quant".
/// Float activations (act_quant nullopt) keep the input's QuantTensor metadata for
/// Identity and ReLU only; HardTanh, Tanh and Sigmoid return a plain float tensor.
class QuantActImpl : public torch::nn::Cloneable<QuantActImpl>, public LayerBase {
 public:
  explicit QuantActImpl(QuantActOptions o);
  void reset() override;
  QuantTensor forward(const QuantTensor& x);
  QuantTensor apply(const QuantTensor& x) override { return forward(x); }

  QuantActOptions options;
  ActQuantizer act_quant{nullptr};
};
TORCH_MODULE(QuantAct);

/// Convenience options matching Brevitas constructors.
QuantActOptions quant_identity_options(int bit_width, bool return_quant_tensor);
QuantActOptions quant_relu_options(int bit_width, bool return_quant_tensor);
QuantActOptions quant_hardtanh_options(int bit_width, double min_val, double max_val,
                                       bool return_quant_tensor);
/// Brevitas QuantTanh(bit_width=b): tanh, then Int8ActPerTensorFloat at b bits.
QuantActOptions quant_tanh_options(int bit_width = 8, bool return_quant_tensor = false);
/// Brevitas QuantSigmoid(bit_width=b): sigmoid, then Uint8ActPerTensorFloat at b bits.
QuantActOptions quant_sigmoid_options(int bit_width = 8, bool return_quant_tensor = false);

}  // namespace qnn
