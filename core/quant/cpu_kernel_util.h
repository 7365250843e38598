// SPDX-License-Identifier: GPL-3.0-or-later
// Small pieces shared by the hand-written CPU kernels (fake_quant_kernel.cpp,
// kth_select.cpp, core/nn/trunc_quant_kernel.cpp). Internal; not part of the public API.
#pragma once

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

namespace qnn::detail {

/// True when the CPU runs AVX2 code (checked once).
inline bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
#else
  return false;
#endif
}

/// True when the CPU runs AVX2 code with FMA (checked once).
inline bool cpu_has_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
#else
  return false;
#endif
}

/// at::clamp's element rule: keeps r when it equals a bound (so -0.0 stays -0.0) and
/// propagates NaN.
inline float clamp_like_torch(float r, float lo, float hi) { return std::min(std::max(r, lo), hi); }

/// Partial results of the chunks of an at::parallel_for, collected from any thread and
/// read back in element order (by each chunk's first element), so a reduction over
/// them is the same whatever thread ran which chunk: reproducible for a given split,
/// that is, for a given thread count.
template <typename T>
class OrderedPartials {
 public:
  void add(int64_t begin, T value) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_items.emplace_back(begin, std::move(value));
  }
  /// The partials sorted by their chunk's first element.
  const std::vector<std::pair<int64_t, T>>& in_order() {
    std::sort(m_items.begin(), m_items.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return m_items;
  }

 private:
  std::mutex m_mutex;
  std::vector<std::pair<int64_t, T>> m_items;
};

}  // namespace qnn::detail
