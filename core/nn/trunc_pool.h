// SPDX-License-Identifier: GPL-3.0-or-later
// Truncating average pools: TruncAvgPool2d and TruncAdaptiveAvgPool2d (Brevitas 0.12.1
// brevitas.nn.quant_avg_pool with trunc_quant = RoundTo8bit / TruncTo8bit).
//
// They do not divide by the window size. With n the number of elements of a window
// (avg_scaling = kh * kw) and a quantized input of scale s, zero point z, bit width b:
//   acc_codes     = round(avg_pool(x) / (s / n) + z)   (the window sum of the codes; the
//                   round only removes float error; Brevitas avg_pool2d QuantTensor handler)
//   acc_bit_width = ceil(log2((2^b - 1) * n))         (unsigned maximum even for signed input)
//   trunc_scale   = 2^(acc_bit_width - bit_width)     (TruncMsbScaling; < 1 is a left shift)
//   y_codes       = clamp(R(acc_codes / trunc_scale), min_int, max_int)
//                   R = round half to even (ROUND, RoundTo8bit) or floor (FLOOR, TruncTo8bit);
//                   range of `bit_width` bits with the input's signedness, not narrow
//   y_scale       = (s / n) * trunc_scale             (float32, in that order)
//   y_zero_point  = z / trunc_scale                   (0 for the usual z = 0)
//   y             = (y_codes - y_zero_point) * y_scale
// Output QuantTensor: bit width `bit_width`, signedness of the input, training flag of
// the module. Source: Brevitas 0.12.1 TruncIntQuant (brevitas/core/quant/int.py) and
// TruncQuantProxyFromInjector (brevitas/proxy/runtime_quant.py).
//
// Gradients (as Brevitas): both roundings (and floor) are straight-through (round_ste /
// floor_ste); the clamp passes no gradient to clipped elements (TensorClamp). So in range
// dL/dx = dL/dy / n for every element of the window, like a float average pool. The
// input scale receives the gradient of the formula above through autograd.
//
// A plain float input (no QuantTensor metadata): Brevitas runs the plain float average
// pool (a true mean) and then, with return_quant_tensor = true (its default), fails in
// pack_output with an AssertionError. Here: return_quant_tensor = true throws ConfigError
// naming the layer; return_quant_tensor = false returns torch::avg_pool2d /
// torch::adaptive_avg_pool2d of the value.
#pragma once

#include <torch/torch.h>

#include "core/nn/layer.h"

namespace qnn {

/// How the truncation turns acc_codes / trunc_scale into an integer.
enum class TruncRounding {
  Round,  ///< round half to even (Brevitas RoundTo8bit, the default of both pools)
  Floor,  ///< floor (Brevitas TruncTo8bit, float_to_int_impl_type = 'floor')
};

/// Intermediate values of one truncating pool forward, for inspection and conformance tests.
struct TruncPoolTrace {
  torch::Tensor acc_codes;    ///< [N, C, H', W'] window sums of the input codes (float, no grad)
  int64_t avg_scaling = 0;    ///< n, elements per window
  int64_t acc_bit_width = 0;  ///< ceil(log2((2^b - 1) * n))
  double trunc_scale = 0.0;   ///< 2^(acc_bit_width - bit_width)
};

struct TruncAvgPool2dOptions {
  /// stride defaults to kernel_size (torch AvgPool2d stride=None).
  TruncAvgPool2dOptions(torch::ExpandingArray<2> kernel) : kernel_size_(kernel), stride_(kernel) {}
  TORCH_ARG(torch::ExpandingArray<2>, kernel_size);
  TORCH_ARG(torch::ExpandingArray<2>, stride);
  /// Output bit width (8 in RoundTo8bit / TruncTo8bit).
  TORCH_ARG(int64_t, bit_width) = 8;
  TORCH_ARG(TruncRounding, rounding) = TruncRounding::Round;
  /// Brevitas default true; false returns the value only (and accepts a float input).
  TORCH_ARG(bool, return_quant_tensor) = true;
};

/// TruncAvgPool2d: x [N, C, H, W] -> [N, C, (H - kh) / sh + 1, (W - kw) / sw + 1] (floor;
/// no padding, ceil_mode false), n = kh * kw. Throws ConfigError (naming the layer) for a
/// non-positive kernel/stride, bit_width outside 2..16 (constructor), an input that is
/// not 4-D or smaller than the kernel, and a float input with return_quant_tensor = true.
class TruncAvgPool2dImpl : public torch::nn::Cloneable<TruncAvgPool2dImpl>, public LayerBase {
 public:
  explicit TruncAvgPool2dImpl(TruncAvgPool2dOptions o);
  void reset() override;
  /// `trace` (optional) receives the intermediate values of a quantized forward.
  QuantTensor forward(const QuantTensor& x, TruncPoolTrace* trace = nullptr);
  QuantTensor apply(const QuantTensor& x) override { return forward(x); }

  TruncAvgPool2dOptions options;
};
TORCH_MODULE(TruncAvgPool2d);

struct TruncAdaptiveAvgPool2dOptions {
  TruncAdaptiveAvgPool2dOptions(torch::ExpandingArray<2> output_size) : output_size_(output_size) {}
  /// [h, w] of the output; 1 is global average pooling.
  TORCH_ARG(torch::ExpandingArray<2>, output_size);
  TORCH_ARG(int64_t, bit_width) = 8;
  TORCH_ARG(TruncRounding, rounding) = TruncRounding::Round;
  TORCH_ARG(bool, return_quant_tensor) = true;
};

/// TruncAdaptiveAvgPool2d: x [N, C, H, W] -> [N, C, out_h, out_w]. The value is
/// torch::adaptive_avg_pool2d; n comes from Brevitas's derived window per axis,
/// stride = in // out and kernel = in - (out - 1) * stride (compute_kernel_size_stride).
/// When in % out == 0 these are exactly torch's windows. Otherwise torch's windows differ
/// in size and, as in Brevitas, acc_codes is round(mean * n / s), not a window sum.
/// Errors as for TruncAvgPool2d (and an output size larger than the input).
class TruncAdaptiveAvgPool2dImpl : public torch::nn::Cloneable<TruncAdaptiveAvgPool2dImpl>,
                                   public LayerBase {
 public:
  explicit TruncAdaptiveAvgPool2dImpl(TruncAdaptiveAvgPool2dOptions o);
  void reset() override;
  QuantTensor forward(const QuantTensor& x, TruncPoolTrace* trace = nullptr);
  QuantTensor apply(const QuantTensor& x) override { return forward(x); }

  /// Brevitas compute_kernel_size_stride for one axis: {kernel, stride}.
  static std::pair<int64_t, int64_t> derived_window(int64_t in, int64_t out);

  TruncAdaptiveAvgPool2dOptions options;
};
TORCH_MODULE(TruncAdaptiveAvgPool2d);

/// The truncation step shared by both pools (Brevitas TruncIntQuant with TruncMsbScaling).
/// `acc`: the pooled QuantTensor as Brevitas's avg_pool2d handler makes it (value = the
/// float window mean, scale = s / n, zero point z, bit width = acc_bit_width).
QuantTensor trunc_quant(const QuantTensor& acc, int64_t bit_width, TruncRounding rounding, bool training,
                        TruncPoolTrace* trace = nullptr);

}  // namespace qnn
