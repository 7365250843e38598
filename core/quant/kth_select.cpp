// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/quant/kth_select.h"

#include "core/quant/cpu_kernel_util.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QNN_KTH_X86 1
#endif

namespace qnn::detail {
namespace {

/// The m best values seen so far ("best" = largest when `top`, smallest otherwise),
/// ordered from the worst kept (best[0], the boundary) to the best.
struct Keeper {
  float best[kMaxScanRank];
  int64_t m = 0, filled = 0;
  bool top = true;

  bool better(float a, float b) const { return top ? a > b : a < b; }
  bool full() const { return filled == m; }
  void offer(float v) {
    if (!full()) {
      int64_t j = filled++;
      for (; j > 0 && better(best[j - 1], v); --j) best[j] = best[j - 1];
      best[j] = v;
    } else if (better(v, best[0])) {
      int64_t j = 0;
      for (; j + 1 < m && better(v, best[j + 1]); ++j) best[j] = best[j + 1];
      best[j] = v;
    }
  }
};

inline float value_at(const float* p, int64_t i, bool abs) { return abs ? std::fabs(p[i]) : p[i]; }

/// Scalar scan of [begin, end): offers every element; returns false on a NaN.
bool scan_scalar(const float* p, int64_t begin, int64_t end, bool abs, Keeper& k) {
  bool nan = false;
  for (int64_t i = begin; i < end; ++i) {
    const float v = value_at(p, i, abs);
    nan |= std::isnan(v);
    k.offer(v);
  }
  return !nan;
}

void count_scalar(const float* p, int64_t begin, int64_t end, bool abs, float value, KthScan& r) {
  for (int64_t i = begin; i < end; ++i)
    if (value_at(p, i, abs) == value) {
      if (r.count++ == 0) r.index = i;
    }
}

#ifdef QNN_KTH_X86

// Eight lanes at a time; only lanes that beat the current boundary reach Keeper::offer,
// in index order, so the kept multiset is the same as the scalar scan's.
__attribute__((target("avx2"))) bool scan_avx2(const float* p, int64_t n, bool abs, Keeper& k) {
  const __m256 mask = abs ? _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))
                          : _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  __m256 nan = _mm256_setzero_ps();
  int64_t i = 0;
  bool nan_first = false;
  for (; i < n && !k.full(); ++i) {
    const float v = value_at(p, i, abs);
    nan_first |= std::isnan(v);
    k.offer(v);
  }
  if (nan_first) return false;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_and_ps(_mm256_loadu_ps(p + i), mask);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    const __m256 bound = _mm256_set1_ps(k.best[0]);
    int bits = _mm256_movemask_ps(k.top ? _mm256_cmp_ps(v, bound, _CMP_GT_OQ)
                                        : _mm256_cmp_ps(v, bound, _CMP_LT_OQ));
    while (bits) {
      const int lane = __builtin_ctz(static_cast<unsigned>(bits));
      bits &= bits - 1;
      k.offer(value_at(p, i + lane, abs));
    }
  }
  const bool tail_ok = scan_scalar(p, i, n, abs, k);
  return tail_ok && _mm256_movemask_ps(nan) == 0;
}

__attribute__((target("avx2"))) void count_avx2(const float* p, int64_t n, bool abs, float value,
                                                KthScan& r) {
  const __m256 mask = abs ? _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))
                          : _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  const __m256 target = _mm256_set1_ps(value);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_and_ps(_mm256_loadu_ps(p + i), mask);
    const int bits = _mm256_movemask_ps(_mm256_cmp_ps(v, target, _CMP_EQ_OQ));
    if (bits) {
      if (r.count == 0) r.index = i + __builtin_ctz(static_cast<unsigned>(bits));
      r.count += __builtin_popcount(static_cast<unsigned>(bits));
    }
  }
  count_scalar(p, i, n, abs, value, r);
}
#endif

}  // namespace

namespace {

bool scan_range(const float* p, int64_t n, bool abs, Keeper& k) {
#ifdef QNN_KTH_X86
  if (cpu_has_avx2()) return scan_avx2(p, n, abs, k);
#endif
  return scan_scalar(p, 0, n, abs, k);
}

/// Counts the elements of p[0, n) equal to `value`; `index` relative to p.
void count_range(const float* p, int64_t n, bool abs, float value, KthScan& r) {
#ifdef QNN_KTH_X86
  if (cpu_has_avx2()) {
    count_avx2(p, n, abs, value, r);
    return;
  }
#endif
  count_scalar(p, 0, n, abs, value, r);
}

/// Elements per chunk when a scan is split over LibTorch's threads (issue 11: the
/// statistics phase scanned each activation on one thread while the layers used two).
constexpr int64_t kScanGrain = 65536;

}  // namespace

KthScan kth_scan(const torch::Tensor& x, int64_t k, bool abs) {
  KthScan r;
  const int64_t n = x.numel();
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat32 || !x.is_contiguous() || n == 0 ||
      k < 1 || k > n)
    return r;
  const int64_t from_top = n - k + 1;
  if (from_top > kMaxScanRank && k > kMaxScanRank) return r;
  Keeper keep;
  keep.top = from_top <= k;
  keep.m = keep.top ? from_top : k;
  const float* p = x.data_ptr<float>();
  if (n < 2 * kScanGrain || at::get_num_threads() < 2) {
    if (!scan_range(p, n, abs, keep)) return r;
    r.value = keep.best[0];
    count_range(p, n, abs, r.value, r);
    r.ok = r.count >= 1;
    return r;
  }
  // Split: each chunk keeps its own m best; the m best of their union are the m best of
  // x (the kept multiset does not depend on the order of the offers), so the value is
  // the one-thread scan's. The count is a sum and the index the first over the chunks.
  std::mutex mutex;
  bool ok = true;
  at::parallel_for(0, n, kScanGrain, [&](int64_t begin, int64_t end) {
    Keeper local;
    local.top = keep.top;
    local.m = std::min<int64_t>(keep.m, end - begin);
    const bool chunk_ok = scan_range(p + begin, end - begin, abs, local);
    std::lock_guard<std::mutex> lock(mutex);
    ok = ok && chunk_ok;
    for (int64_t j = 0; j < local.filled; ++j) keep.offer(local.best[j]);
  });
  if (!ok || !keep.full()) return r;
  r.value = keep.best[0];
  at::parallel_for(0, n, kScanGrain, [&](int64_t begin, int64_t end) {
    KthScan part;
    count_range(p + begin, end - begin, abs, r.value, part);
    if (part.count == 0) return;
    std::lock_guard<std::mutex> lock(mutex);
    if (r.count == 0 || begin + part.index < r.index) r.index = begin + part.index;
    r.count += part.count;
  });
  r.ok = r.count >= 1;
  return r;
}

namespace {

void abs_max_scalar(const float* p, int64_t begin, int64_t end, float& m, bool& nan) {
  for (int64_t i = begin; i < end; ++i) {
    const float v = std::fabs(p[i]);
    nan |= std::isnan(v);
    m = v > m ? v : m;
  }
}

int64_t count_abs_equal_scalar(const float* p, int64_t begin, int64_t end, float m) {
  int64_t c = 0;
  for (int64_t i = begin; i < end; ++i) c += std::fabs(p[i]) == m;
  return c;
}

#ifdef QNN_KTH_X86
__attribute__((target("avx2"))) void abs_max_avx2(const float* p, int64_t n, float& m, bool& nan,
                                                  int64_t& count) {
  const __m256 mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 vm = _mm256_setzero_ps(), vnan = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_and_ps(_mm256_loadu_ps(p + i), mask);
    vnan = _mm256_or_ps(vnan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    vm = _mm256_max_ps(vm, v);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vm);
  for (const float v : lanes) m = v > m ? v : m;
  nan = _mm256_movemask_ps(vnan) != 0;
  abs_max_scalar(p, i, n, m, nan);
  if (nan) return;
  const __m256 target = _mm256_set1_ps(m);
  int64_t c = 0;
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_and_ps(_mm256_loadu_ps(p + i), mask);
    c += __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, target, _CMP_EQ_OQ))));
  }
  count = c + count_abs_equal_scalar(p, i, n, m);
}
#endif

}  // namespace

AbsMaxScan abs_max_scan(const torch::Tensor& x) {
  AbsMaxScan r;
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat32 || !x.is_contiguous() ||
      x.numel() == 0)
    return r;
  const float* p = x.data_ptr<float>();
  const int64_t n = x.numel();
  float m = 0.0f;  // |x| >= 0, so 0 is a neutral start (max over +0 stays +0)
  bool nan = false;
  int64_t count = 0;
#ifdef QNN_KTH_X86
  if (cpu_has_avx2()) {
    abs_max_avx2(p, n, m, nan, count);
  } else
#endif
  {
    abs_max_scalar(p, 0, n, m, nan);
    if (!nan) count = count_abs_equal_scalar(p, 0, n, m);
  }
  if (nan) return r;
  r.ok = true;
  r.value = m;
  r.count = count;
  return r;
}

}  // namespace qnn::detail
