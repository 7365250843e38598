// SPDX-License-Identifier: GPL-3.0-or-later
// Bitwise checks of the fast paths of core/quant (issue 6) against the op-by-op
// LibTorch formulas they replace. Each function prints one "FAIL ..." line per failing
// case and returns the number of failing cases; `cases` counts the cases run.
#pragma once

namespace qnn::test {

/// qnn::fake_quant (forward, and the gradients of x, scale and zero point) against the
/// op-by-op formula on random tensors salted with special values (+-0, NaN, +-inf,
/// exact half-way points, clipped values), per tensor and per row, masked and
/// straight-through clamp, ranges from 1 to 32 bits, with `threads` LibTorch threads.
int fake_quant_failures(int threads, int& cases);

/// kth_percentile, kth_abs_percentile and kth_low_percentile (value and gradient)
/// against the x.abs() + max / min / kthvalue form, on continuous and tie-heavy
/// tensors up to 301,056 elements; the per-tensor WeightQuantizer (max|W| statistic,
/// ties included) against weight.abs().max(); the one-node learned activation scale
/// against div + clamp_min + abs_binary_sign_grad (positive, negative, tiny, zero).
int statistics_failures(int threads, int& cases);

/// An activation quantizer on an input without gradient feeding QuantConv2d,
/// QuantConv1d (strided, padded, dilated, grouped) and QuantLinear, with and without an
/// Int32Bias: the adjoint path (core/nn/scale_adjoint.h) against plain autograd.
/// Forward output bit-identical; weight and bias gradients within 2e-5 of their L1 norm
/// (one stacked weight-gradient convolution may sum in another order); the learned scale's and zero
/// point's gradients within 2e-5 of the magnitude of their summed terms; in the
/// statistics phase `value` gets exactly 0 both ways; the adjoint node must be the one
/// that ran. Signed, shifted (learned zero point), fixed-point and 4-bit (clipping) quantizers.
int scale_adjoint_failures(int threads, int& cases);

/// An activation quantizer (signed or shifted, statistics or learned phase) into
/// TruncAvgPool2d (2..8 bits, round or floor, 2x2 and 3x1 windows): the fused
/// TruncIntQuant (core/nn/trunc_quant_kernel.h) against the op-by-op form. Output and
/// scale bit-identical; the input gradient within 1e-5 absolute, the learned scale's
/// and zero point's within 1e-5 of the magnitude of their sums; the fused node must be
/// the one that ran. Pooled tensors large enough to split over threads.
int trunc_quant_failures(int threads, int& cases);

/// ActQuantizer::forward_tanh (tanh and fake quantization in one node, issue 11)
/// against torch::tanh followed by ActQuantizer::forward, for 8 and 4 bits, in the
/// statistics phase (must fall back to the two nodes), the learned phase (must run as
/// one node) and eval, on the classic LeNet-5's tanh shapes and odd sizes, with
/// saturating (exactly +-1) and clipped values. Forward output and scale bit-identical;
/// x's gradient bit-identical on AVX2+FMA CPUs (else within 1e-6 of max|g|); the
/// learned value's gradient within 1e-5 of the sum of |g|.
int tanh_quant_failures(int threads, int& cases);

/// detail::linear_exact (core/nn/linear_kernel.h) against the reference BLAS's order
/// written out as scalar loops, and against torch::linear and its autograd backward
/// when LibTorch runs on the reference BLAS (Debian's libblas3), on the LeNet and TFC layer shapes, batch 1 and sizes off the
/// kernel's 4 x 16 tile, with and without bias, plain and salted with +-0 and values
/// far apart in magnitude: forward (also without autograd), input, weight and bias
/// gradients bit-identical, and the kernel's node must be the one that ran; only some
/// inputs requiring grad, and the upstream gradient as a transposed view; double
/// backward (create_graph) as torch::linear's; a transposed (non-contiguous) input or
/// weight, 3-d and double inputs fall back.
int linear_exact_failures(int threads, int& cases);

}  // namespace qnn::test
