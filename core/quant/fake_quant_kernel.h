// SPDX-License-Identifier: GPL-3.0-or-later
// Fused CPU kernels behind fake_quant(): one pass over the tensor for the forward and
// one for the backward, instead of six and about twelve LibTorch element-wise ops.
// Every element goes through exactly the float32 operations of the op-by-op formula
// (IEEE division, add, round half to even, clamp, subtract, multiply; no FMA, no
// reciprocal), so the element-wise results are bit-identical to it. The scale and
// zero-point sums are either left to the caller (fused_fake_quant_backward: terms) or
// taken inside the pass (fused_fake_quant_backward_reduced: another summation order).
// Internal to core/quant (int_quant.cpp); not part of the public API.
#pragma once

#include <torch/torch.h>

namespace qnn::detail {

/// True when the fused kernels apply: CPU float32 tensors, `x` contiguous with at least
/// one dimension, and `scale` / `zero_point` each either one element or one element per
/// row of dim 0 (shape [C, 1, ..., 1] of x's rank, or [C] for a 1-D x), so that the
/// broadcast result has x's shape.
bool fused_fake_quant_supported(const torch::Tensor& x, const torch::Tensor& scale,
                                const torch::Tensor& zero_point);

/// y = (clamp(round(x / scale + zero_point), min_int, max_int) - zero_point) * scale,
/// same shape as x (contiguous). Requires fused_fake_quant_supported().
torch::Tensor fused_fake_quant_forward(const torch::Tensor& x, const torch::Tensor& scale,
                                       const torch::Tensor& zero_point, double min_int,
                                       double max_int);

/// Element-wise parts of the fake-quant gradients for grad_output `g` (x's shape,
/// contiguous). With r = round(x / s + z), inside = min_int <= r <= max_int,
/// q = clamp(r), t = x / s:
///  - gx = g * inside (as float), only when `masked` and `need_gx` (else undefined;
///    a straight-through clamp passes g unchanged);
///  - gs_terms = g * d with d = (q - z) - t, or (q - z) where clipped when `masked`;
///  - gz_terms = g * (inside ? 0 : -s) when `masked`, g * 0 otherwise.
/// The caller sums gs_terms / gz_terms to the scale / zero-point shapes.
struct FakeQuantGradTerms {
  torch::Tensor gx, gs_terms, gz_terms;
};
FakeQuantGradTerms fused_fake_quant_backward(const torch::Tensor& x, const torch::Tensor& g,
                                             const torch::Tensor& scale,
                                             const torch::Tensor& zero_point, double min_int,
                                             double max_int, bool masked, bool need_gx,
                                             bool need_gs, bool need_gz);

/// The same gradients with the scale and zero-point terms summed inside the pass
/// (issue 13: no full-size term tensors and no separate reduction): gx as above; gs and
/// gz of the shapes of `scale` and `zero_point` (one sum, or one per row of dim 0):
/// eight float lanes per block of 512 elements (AVX2; one float per element in the
/// scalar tail), blocks added in double per chunk of the parallel split, chunks added
/// in element order, then rounded to float. The order of the sums differs from
/// at::sum_to's; it depends on the thread count but not on scheduling, so a run is
/// reproducible on the same thread count.
/// `tanh_grad` (issue 11, QuantTanh in one node): x is the output of a tanh and gx
/// continues through it, gx = g * inside * fma(-x, x, 1) (as LibTorch's tanh_backward
/// computes it on AVX2 CPUs: bit-identical to the two steps); only with `masked`.
/// Whether the tanh_grad path reproduces LibTorch's at::tanh_backward bit for bit on this
/// machine: the CPU runs AVX2 with FMA and at::tanh_backward, probed once on 4099 values
/// (a vector tail included), gives g * fma(-x, x, 1) exactly. Otherwise (e.g. LibTorch on
/// its default kernels, ATEN_CPU_CAPABILITY=default, computes a * (1 - b * b) with two
/// roundings) tanh_fake_quant keeps tanh and the quantizer as two nodes. Never throws.
bool tanh_backward_fusable();

struct FakeQuantReducedGrads {
  torch::Tensor gx, gs, gz;
};
FakeQuantReducedGrads fused_fake_quant_backward_reduced(const torch::Tensor& x, const torch::Tensor& g,
                                                        const torch::Tensor& scale,
                                                        const torch::Tensor& zero_point, double min_int,
                                                        double max_int, bool masked, bool need_gx,
                                                        bool need_gs, bool need_gz, bool tanh_grad = false);

}  // namespace qnn::detail
