// SPDX-License-Identifier: GPL-3.0-or-later
// Brevitas TruncIntQuant (the truncation of a truncating average pool) in one autograd
// node: one pass forward, one pass backward, instead of nine element-wise ops and as
// many autograd nodes (issue 13). Internal to core/nn (trunc_pool.cpp).
//
// Forward, per element, in float32 exactly as the op-by-op form (trunc_pool.cpp):
//   r = round(v / s + z); t = round_or_floor(r / ts); c = clamp(t, lo, hi);
//   y = (c - z / ts) * (s * ts)
// with v the pooled mean, s its scale and z its zero point (one element each), ts the
// truncation scale 2^(acc_bits - bits). Bit-identical to the op-by-op form.
// Backward: straight-through rounds, masked clamp (gradient 0 where t was clipped):
//   dv = g * (s * ts) * inside / ts / s,
//   ds = sum(g * (c - z / ts)) * ts - sum(g * (s * ts) * inside / ts * v) / s^2,
//   dz = sum(g * (s * ts) * inside / ts) - sum(g * (s * ts)) / ts,
// the sums kept in eight float lanes per block of 512 elements, blocks added in double
// per chunk of the parallel split, chunks added in element order (the order differs
// from autograd's; reproducible on a thread count).
#pragma once

#include <torch/torch.h>

namespace qnn::detail {

/// True when trunc_quant_fused applies: CPU float32 contiguous `v` with at least one
/// element, `s` and `z` float32 with one element each.
bool trunc_quant_fused_supported(const torch::Tensor& v, const torch::Tensor& s, const torch::Tensor& z);

/// The fused TruncIntQuant described above; differentiable in v, s and z.
/// `floor`: FLOOR instead of round-half-to-even for t. `lo`, `hi`: the integer range of
/// the output bit width.
torch::Tensor trunc_quant_fused(const torch::Tensor& v, const torch::Tensor& s, const torch::Tensor& z,
                                double ts, bool floor, double lo, double hi);

}  // namespace qnn::detail
