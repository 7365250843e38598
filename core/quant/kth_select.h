// SPDX-License-Identifier: GPL-3.0-or-later
// Fast exact order statistics for the quantizers: the k-th smallest of x (or of |x|)
// when k lies within a few ranks of either end, found by one filtered scan instead of
// at::kthvalue's copy + quickselect (kth_percentile and friends in int_quant.cpp), and
// max|W| with its multiplicity (weight scale, quantizers.cpp). Internal to core/quant.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace qnn::detail {

/// Ranks from either end the scan handles (k <= kMaxScanRank or n - k + 1 <= kMaxScanRank).
constexpr int64_t kMaxScanRank = 64;

struct KthScan {
  bool ok = false;      ///< false: not handled (rank too central, NaN present, not CPU float...)
  float value = 0.0f;   ///< the k-th smallest of x (|x| when `abs`)
  int64_t count = 0;    ///< how many elements equal `value` (ties)
  int64_t index = -1;   ///< flat index of the first element equal to `value`
};

/// k-th smallest (1-based, 1 <= k <= numel) of the flattened x, or of |x| when `abs`.
/// x: contiguous CPU float32, any shape. Returns ok = false (and nothing else) when x
/// holds a NaN or k is more than kMaxScanRank ranks from both ends. When `count` is 1
/// the element at `index` is the one at::kthvalue would select (it is the only
/// candidate); with ties `index` is the first of them in memory order, which may
/// differ from at::kthvalue's choice (same value, another element).
KthScan kth_scan(const torch::Tensor& x, int64_t k, bool abs);

/// max|x| over the whole tensor and how many elements attain it, in one pass.
/// ok = false for a non-contiguous, non-CPU-float32 or empty x, or when x holds a NaN.
struct AbsMaxScan {
  bool ok = false;
  float value = 0.0f;
  int64_t count = 0;
};
AbsMaxScan abs_max_scan(const torch::Tensor& x);

}  // namespace qnn::detail
