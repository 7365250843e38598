// SPDX-License-Identifier: GPL-3.0-or-later
// Two-input layers: Add (the Brevitas QuantTensor `+`) and QuantEltwiseAdd (Brevitas
// brevitas.nn.QuantEltwiseAdd), plus the float BatchNorm2d of the graph.
//
// Source of the Add rule: Brevitas 0.12 IntQuantTensor.__add__
// (src/brevitas/quant_tensor/int_quant_tensor.py): when both operands are quantized,
// eval mode requires equal scales ("Scaling factors are different" otherwise; training
// mode skips the check), and the sum is a QuantTensor with
//   scale      = (s_a + s_b) / 2,
//   zero_point = z_a + z_b,
//   bit_width  = ceil(log2(max_a + max_b - min_a - min_b)) (full-range bounds, no narrow),
//   signed     = signed_a or signed_b.
// Deliberate deviation: a quantized plus a float tensor gives a float tensor here
// (Brevitas keeps the grid by moving the zero point by -float/scale, a fractional,
// per-element zero point no integer runtime can use).
#pragma once

#include <cstdint>
#include <optional>

#include <torch/torch.h>

#include "core/nn/layer.h"
#include "core/quant/quantizers.h"

namespace qnn {

/// Output bit width of a quantized sum (Brevitas rule above), e.g. u4 + u4 -> 5,
/// s8 + s8 -> 9.
int64_t add_bit_width(int64_t bits_a, bool signed_a, int64_t bits_b, bool signed_b);

/// The QuantTensor sum a + b with the rule above (values [N, ...], equal shapes).
/// Throws ConfigError naming `layer` when both are quantized, `a.training` and
/// `b.training` are false and the scales differ (relative tolerance 1e-5).
QuantTensor add_quant_tensors(const QuantTensor& a, const QuantTensor& b, const std::string& layer);

/// Elementwise sum of ports 0 and 1, both [N, ...] of the same shape.
class AddLayerImpl : public torch::nn::Cloneable<AddLayerImpl>, public LayerBase {
 public:
  void reset() override {}
  QuantTensor apply_inputs(const std::vector<QuantTensor>& inputs) override;
  /// Throws ConfigError: an Add needs two inputs.
  QuantTensor apply(const QuantTensor& x) override;
};
TORCH_MODULE(AddLayer);

struct QuantEltwiseAddOptions {
  /// Applied to both inputs (one shared quantizer, so its call counter advances twice
  /// per forward, as in Brevitas). Default Int8ActPerTensorFloat.
  TORCH_ARG(QuantSpec, input_quant) = presets::Int8ActPerTensorFloat();
  /// Applied to the sum. Default Int8ActPerTensorFloat.
  TORCH_ARG(QuantSpec, output_quant) = presets::Int8ActPerTensorFloat();
  TORCH_ARG(bool, return_quant_tensor) = false;
};

/// Brevitas QuantEltwiseAdd: y = output_quant(input_quant(a) + input_quant(b)) with the
/// Add rule for the middle sum. State: submodules "input_quant" and "output_quant".
class QuantEltwiseAddImpl : public torch::nn::Cloneable<QuantEltwiseAddImpl>, public LayerBase {
 public:
  explicit QuantEltwiseAddImpl(QuantEltwiseAddOptions o = {});
  void reset() override;
  QuantTensor apply_inputs(const std::vector<QuantTensor>& inputs) override;
  QuantTensor apply(const QuantTensor& x) override;

  QuantEltwiseAddOptions options;
  ActQuantizer input_quant{nullptr};
  ActQuantizer output_quant{nullptr};
};
TORCH_MODULE(QuantEltwiseAdd);

/// torch::nn::BatchNorm2d semantics on x [N, C, H, W]: training normalises with the
/// batch statistics and updates running_mean / running_var with `momentum`
/// (running = (1 - momentum) * running + momentum * batch, unbiased variance);
/// eval uses the running statistics. Parameters "weight" (ones) and "bias" (zeros),
/// buffers "running_mean", "running_var", "num_batches_tracked" (the names of
/// torch.nn.BatchNorm2d). The output is a float tensor (no grid).
class BatchNorm2dLayerImpl : public torch::nn::Cloneable<BatchNorm2dLayerImpl>, public LayerBase {
 public:
  BatchNorm2dLayerImpl(int64_t num_features, double eps, double momentum)
      : num_features(num_features), eps(eps), momentum(momentum) {
    reset();
  }
  void reset() override;
  QuantTensor apply(const QuantTensor& x) override;

  int64_t num_features;
  double eps, momentum;
  /// Eval formula in training too, no statistics update, and no gradient reaches
  /// weight and bias (they are detached; clones keep the flag).
  bool frozen = false;
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
TORCH_MODULE(BatchNorm2dLayer);

}  // namespace qnn
