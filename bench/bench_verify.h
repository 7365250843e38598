// SPDX-License-Identifier: GPL-3.0-or-later
// qnn_bench --verify: checks that the fused fake-quant kernels and the one-pass
// percentile scan give bit-identical results to the op-by-op LibTorch formulas they replace.
#pragma once

namespace qnn::bench {

/// Compares qnn::fake_quant (forward, and the gradients of x, scale and zero point)
/// with the op-by-op formula on random tensors salted with special values (+-0, NaN,
/// +-inf, exact half-way points, clipped values), per tensor and per row, masked and
/// straight-through clamp, on 1 and 2 threads; and kth_percentile, kth_abs_percentile
/// and kth_low_percentile (value and gradient) with the x.abs() + max / min / kthvalue
/// form they replace, on continuous and tie-heavy tensors; and the per-tensor
/// WeightQuantizer (max|W| statistic, ties included) with weight.abs().max(); and the
/// one-node learned activation scale with div + clamp_min + abs_binary_sign_grad. Prints one line per failure
/// and a summary; returns the number of failing cases (0 = all bit-identical, NaN == NaN).
int run_verify();

}  // namespace qnn::bench
