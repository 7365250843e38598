// SPDX-License-Identifier: GPL-3.0-or-later
// Integer fake quantization with the straight-through estimator.
// Source: Brevitas IntQuant (brevitas.core.quant.int_base), quantization.md section 1.
#pragma once

#include <torch/torch.h>

#include "core/quant/quant_spec.h"

namespace qnn {

/// How the clamp to [min_int, max_int] treats the gradient.
enum class ClampGrad {
  /// Gradient 1 inside the range, 0 where the value was clipped (TensorClamp):
  /// activations, biases, learned-scale weights.
  Masked,
  /// Gradient passes unchanged everywhere (TensorClampSte): statistics-scaled weights.
  StraightThrough,
};

/// Fake-quantizes `x`:
///   q = clamp(round(x / scale + zero_point), min_int, max_int)   (round half to even)
///   y = (q - zero_point) * scale
/// evaluated in float32 in exactly that order, as Brevitas does.
/// Shapes: `x` any shape; `scale` and `zero_point` broadcastable to `x` (e.g. [] or [C, 1, 1, 1]).
/// Gradients (one fused autograd node): round is straight-through; the clamp as
/// `clamp_grad` says; `scale` receives (q - z) - x/s inside the range and (q - z) where
/// clipped; `zero_point` receives 0 inside and -s where clipped. Gradients are summed
/// to the shapes of `scale` and `zero_point`.
torch::Tensor fake_quant(const torch::Tensor& x, const torch::Tensor& scale,
                         const torch::Tensor& zero_point, IntRange range, ClampGrad clamp_grad);

/// fake_quant(torch::tanh(x), scale, zero_point, range, ClampGrad::Masked) in one autograd
/// node (QuantTanh after its statistics phase; issue 11): the same forward values, bit
/// for bit, and on the fused CPU path one backward pass that also applies tanh's
/// gradient (x's gradient bit-identical to the two nodes' on AVX2+FMA CPUs; the scale
/// and zero-point sums as fake_quant's). Only the tanh output is kept for the backward.
torch::Tensor tanh_fake_quant(const torch::Tensor& x, const torch::Tensor& scale,
                              const torch::Tensor& zero_point, IntRange range);

/// The integer codes q of the same formula, as float, without gradient.
torch::Tensor int_codes(const torch::Tensor& x, const torch::Tensor& scale,
                        const torch::Tensor& zero_point, IntRange range);

/// Straight-through round (round half to even; gradient 1). Used for zero points.
torch::Tensor round_ste(const torch::Tensor& x);

/// Brevitas AbsPercentile / KthValue statistic: the k-th smallest element of `x`
/// (flattened), k = floor(0.01 * q * numel + 0.5), clamped to [1, numel].
/// Differentiable (the gradient reaches the selected element). For k == numel this is
/// the maximum.
torch::Tensor kth_percentile(const torch::Tensor& x, double q);

/// kth_percentile(x.abs(), q) with the same value and gradient, without materialising
/// |x| when the selected element is unambiguous (Brevitas AbsPercentile on |x|).
torch::Tensor kth_abs_percentile(const torch::Tensor& x, double q);

/// Low-percentile statistic of PercentileInterval: k = ceil(0.01 * q * numel), at least 1.
torch::Tensor kth_low_percentile(const torch::Tensor& x, double q);

}  // namespace qnn
