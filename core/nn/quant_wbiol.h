// SPDX-License-Identifier: GPL-3.0-or-later
// Quantized weight/bias layers: QuantConv1d, QuantConv2d and QuantLinear (Brevitas QuantWBIOL).
// The float weight and bias are the trained master copies; they are fake-quantized
// at every forward.
#pragma once

#include <optional>

#include <torch/torch.h>

#include "core/nn/layer.h"
#include "core/quant/quantizers.h"

namespace qnn {

struct QuantConv2dOptions {
  QuantConv2dOptions(int64_t in, int64_t out, torch::ExpandingArray<2> k)
      : in_channels_(in), out_channels_(out), kernel_size_(k) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(torch::ExpandingArray<2>, kernel_size);
  TORCH_ARG(torch::ExpandingArray<2>, stride) = 1;
  TORCH_ARG(torch::ExpandingArray<2>, padding) = 0;
  TORCH_ARG(torch::ExpandingArray<2>, dilation) = 1;
  TORCH_ARG(int64_t, groups) = 1;
  TORCH_ARG(bool, bias) = true;
  /// nullopt: float weights (plain torch::nn::Conv2d behaviour).
  TORCH_ARG(std::optional<QuantSpec>, weight_quant) = presets::Int8WeightPerTensorFloat();
  /// nullopt: float bias added as is.
  TORCH_ARG(std::optional<QuantSpec>, bias_quant) = std::nullopt;
  TORCH_ARG(bool, return_quant_tensor) = false;
};

/// QuantConv2d. forward: x [N, C_in, H, W] -> [N, C_out, H', W'], torch::conv2d geometry
/// with [h, w] pairs for kernel_size, stride, padding, dilation, and `groups`
/// (groups == in_channels is a depthwise convolution).
/// Output metadata (when the input is quantized and the weights are): scale
/// s_in * s_w viewed [1, C_out, 1, 1]; zero point 0; bit width
/// ceil(log2((2^b_in - 1)(2^b_w - 1) * fan_in)) with fan_in = weight[0].numel() =
/// C_in/groups * kh * kw (stride, padding and dilation do not enter), then
/// max(that, b_bias) + 1 with a quantized bias; signed = signed_in or signed_w.
/// Source: Brevitas QuantWBIOL output rules (quantization.md section 4); the output
/// zero point is 0 also for per-channel weights (Brevitas 0.12 reports -bias codes
/// there because of a broadcasting slip; see golden README).
/// Throws ConfigError when a bias quantizer gets an unquantized input, and from the
/// constructor when channels are not positive or not divisible by groups.
class QuantConv2dImpl : public torch::nn::Cloneable<QuantConv2dImpl>, public LayerBase {
 public:
  explicit QuantConv2dImpl(QuantConv2dOptions o);
  void reset() override;  // registers weight, bias and the weight quantizer
  QuantTensor forward(const QuantTensor& x);
  QuantTensor apply(const QuantTensor& x) override { return forward(x); }
  /// The fake-quantized weight with metadata (plain when weights are float).
  QuantTensor quant_weight();
  /// The bias as used for an input of scale `input_scale` (undefined tensor if no bias).
  QuantTensor quant_bias(const torch::Tensor& input_scale, const torch::Tensor& weight_scale);

  QuantConv2dOptions options;
  torch::Tensor weight, bias;  ///< [C_out, C_in/groups, kh, kw], [C_out]
  WeightQuantizer weight_quantizer{nullptr};
};
TORCH_MODULE(QuantConv2d);

struct QuantConv1dOptions {
  QuantConv1dOptions(int64_t in, int64_t out, torch::ExpandingArray<1> k)
      : in_channels_(in), out_channels_(out), kernel_size_(k) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(torch::ExpandingArray<1>, kernel_size);
  TORCH_ARG(torch::ExpandingArray<1>, stride) = 1;
  TORCH_ARG(torch::ExpandingArray<1>, padding) = 0;
  TORCH_ARG(torch::ExpandingArray<1>, dilation) = 1;
  TORCH_ARG(int64_t, groups) = 1;
  TORCH_ARG(bool, bias) = true;
  /// nullopt: float weights (plain torch::nn::Conv1d behaviour).
  TORCH_ARG(std::optional<QuantSpec>, weight_quant) = presets::Int8WeightPerTensorFloat();
  /// nullopt: float bias added as is.
  TORCH_ARG(std::optional<QuantSpec>, bias_quant) = std::nullopt;
  TORCH_ARG(bool, return_quant_tensor) = false;
};

/// QuantConv1d (Brevitas 0.12.1 QuantConv1d). forward: x [N, C_in, L] -> [N, C_out, L'],
/// torch::conv1d geometry. Weight [C_out, C_in/groups, k]. Output metadata as for
/// QuantConv2d with fan_in = C_in/groups * k and the scale viewed [1, C_out, 1]; the
/// output zero point is 0 (Brevitas's per-channel -bias-codes zero point is not copied).
/// Errors as for QuantConv2d.
class QuantConv1dImpl : public torch::nn::Cloneable<QuantConv1dImpl>, public LayerBase {
 public:
  explicit QuantConv1dImpl(QuantConv1dOptions o);
  void reset() override;  // registers weight, bias and the weight quantizer
  QuantTensor forward(const QuantTensor& x);
  QuantTensor apply(const QuantTensor& x) override { return forward(x); }
  QuantTensor quant_weight();
  QuantTensor quant_bias(const torch::Tensor& input_scale, const torch::Tensor& weight_scale);

  QuantConv1dOptions options;
  torch::Tensor weight, bias;  ///< [C_out, C_in/groups, k], [C_out]
  WeightQuantizer weight_quantizer{nullptr};
};
TORCH_MODULE(QuantConv1d);

struct QuantLinearOptions {
  QuantLinearOptions(int64_t in, int64_t out) : in_features_(in), out_features_(out) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(std::optional<QuantSpec>, weight_quant) = presets::Int8WeightPerTensorFloat();
  TORCH_ARG(std::optional<QuantSpec>, bias_quant) = std::nullopt;
  TORCH_ARG(bool, return_quant_tensor) = false;
};

/// QuantLinear. forward: x [N, in_features] -> [N, out_features]. Output metadata as
/// for QuantConv2d with fan_in = in_features and the scale viewed [1, out_features].
class QuantLinearImpl : public torch::nn::Cloneable<QuantLinearImpl>, public LayerBase {
 public:
  explicit QuantLinearImpl(QuantLinearOptions o);
  void reset() override;
  QuantTensor forward(const QuantTensor& x);
  QuantTensor apply(const QuantTensor& x) override { return forward(x); }
  QuantTensor quant_weight();
  QuantTensor quant_bias(const torch::Tensor& input_scale, const torch::Tensor& weight_scale);

  QuantLinearOptions options;
  torch::Tensor weight, bias;  ///< [out, in], [out]
  WeightQuantizer weight_quantizer{nullptr};
};
TORCH_MODULE(QuantLinear);

/// Accumulator bit width of a quantized dot product (Brevitas rule):
/// ceil(log2((2^in_bits - 1) * (2^w_bits - 1) * fan_in)).
int64_t accumulator_bit_width(int64_t in_bits, int64_t w_bits, int64_t fan_in);

}  // namespace qnn
