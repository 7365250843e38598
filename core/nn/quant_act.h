// SPDX-License-Identifier: GPL-3.0-or-later
// Quantized activations: QuantIdentity, QuantReLU, QuantHardTanh (Brevitas names).
#pragma once

#include <optional>

#include <torch/torch.h>

#include "core/nn/layer.h"
#include "core/quant/quantizers.h"

namespace qnn {

/// Which function the activation applies before quantizing.
enum class ActFunction { Identity, ReLU, HardTanh };

struct QuantActOptions {
  explicit QuantActOptions(ActFunction f = ActFunction::Identity) : function_(f) {}
  TORCH_ARG(ActFunction, function);
  /// nullopt: a float activation (plain ReLU / identity / hardtanh).
  TORCH_ARG(std::optional<QuantSpec>, act_quant) = presets::Int8ActPerTensorFloat();
  TORCH_ARG(bool, return_quant_tensor) = false;
  TORCH_ARG(double, min_val) = -1.0;  ///< HardTanh bounds
  TORCH_ARG(double, max_val) = 1.0;
};

/// An activation followed by its quantizer; x any shape -> same shape. QuantReLU
/// takes statistics of and quantizes relu(x) (Uint8ActPerTensorFloat by default);
/// QuantIdentity quantizes x (Int8ActPerTensorFloat); QuantHardTanh clamps to
/// [min_val, max_val] (Int8ActPerTensorFloatMinMaxInit).
/// The quantizer's state lives in the submodule "act_quant".
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

}  // namespace qnn
