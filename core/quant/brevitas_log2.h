// SPDX-License-Identifier: GPL-3.0-or-later
// Brevitas's log2-domain storage of power-of-two scales, and its exact inverse.
//
// Brevitas 0.12.1 (core/restrict_val.py PowerOfTwoRestrictValue; core/scaling/
// standalone.py ParameterScaling and ParameterFromRuntimeStatsScaling; quant/base.py
// PerTensorPoTScaling8bit / PerChannelPoTScaling8bit with restrict_value_float_to_int_impl
// = CeilSte; core/scaling/int_scaling.py PowerOfTwoIntScaling) keeps the learned value of
// a fixed-point quantizer as v = log2(threshold): restrict_init_tensor takes torch.log2
// of the initial value, state_dict() saves log2(buffer) during the statistics phase, and
// the forward evaluates scale = 2^ceil(v) / int_threshold, int_threshold = 2^(b-1)
// (signed) or 2^b (unsigned). QNN Studio learns the threshold itself on a linear scale
// and snaps in the forward: scale = power_of_two_scale(threshold, int_threshold)
// (core/quant/quantizers.h). The two agree when ceil(v) = log2(scale * int_threshold);
// float rounding of log2 / exp2 can miss that by one near a power of two, so both
// directions correct for it and give the same scale bit for bit.
#pragma once

#include <torch/torch.h>

#include <string>

namespace qnn {

/// The Brevitas value of linear thresholds (any shape): float32 log2(threshold), moved
/// to the nearest value inside (c - 1, c] when rounding put it outside, c =
/// log2(power_of_two_scale(threshold) * int_threshold). int_threshold: a power of two.
/// Throws ConfigError naming `what` when a threshold is not finite or is below
/// 1e-10 * int_threshold (the app clamps the scale there, Brevitas clamps after the
/// power of two: no exact equivalent).
torch::Tensor brevitas_log2_value(const torch::Tensor& threshold, double int_threshold, const std::string& what);

/// The inverse: float32 thresholds (same shape as v) whose power_of_two_scale is
/// Brevitas's 2^ceil(v) / int_threshold, each 2^v unless rounding of exp2 changes the
/// scale (then moved by a few ulps). Throws ConfigError naming `what` when v is not
/// finite or Brevitas's scale is below 1e-10 or not a normal float.
torch::Tensor threshold_from_brevitas_log2(const torch::Tensor& v, double int_threshold, const std::string& what);

}  // namespace qnn
