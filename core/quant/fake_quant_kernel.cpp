// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/quant/fake_quant_kernel.h"

#include "core/quant/cpu_kernel_util.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QNN_FQ_X86 1
#endif

namespace qnn::detail {
namespace {

/// Constants of one run of elements sharing a scale and zero point.
struct Params {
  float s, z, lo, hi;
  int64_t row;  ///< row of dim 0 the run lies in (0 when scale and zero point are per tensor)
};

/// Output pointers of the backward; null when not wanted. `acc_s` / `acc_z`, when set,
/// receive the sum of the scale / zero-point terms instead of the terms themselves.
struct GradOut {
  float* gx;
  float* gs;
  float* gz;
  double* acc_s = nullptr;
  double* acc_z = nullptr;
  /// x is a tanh output and gx continues through that tanh: gx * fma(-x, x, 1), op for
  /// op LibTorch's tanh_backward (its AVX2 kernel computes a * (1 - b * b) with one FMA).
  bool tanh_grad = false;
};

// ------------------------------------------------------------------ scalar reference
// The element formula, op for op as LibTorch evaluates the unfused expression:
// clamp keeps r when it equals a bound (so -0.0 stays -0.0) and propagates NaN, as
// at::clamp does; std::nearbyint rounds half to even like torch::round.

void forward_scalar(const float* x, float* y, int64_t n, const Params& p) {
  for (int64_t i = 0; i < n; ++i) {
    const float t = x[i] / p.s;
    const float r = std::nearbyint(t + p.z);
    const float q = clamp_like_torch(r, p.lo, p.hi);
    y[i] = (q - p.z) * p.s;
  }
}

void backward_scalar(const float* x, const float* g, const GradOut& o, int64_t n, const Params& p,
                     bool masked) {
  const float neg_s = -p.s;
  for (int64_t i = 0; i < n; ++i) {
    const float t = x[i] / p.s;
    const float r = std::nearbyint(t + p.z);
    const bool inside = r >= p.lo && r <= p.hi;
    const float qz = clamp_like_torch(r, p.lo, p.hi) - p.z;
    if (o.gx) {
      const float gi = g[i] * (inside ? 1.0f : 0.0f);
      o.gx[i] = o.tanh_grad ? gi * std::fma(-x[i], x[i], 1.0f) : gi;
    }
    const float ts = g[i] * (masked && !inside ? qz : qz - t);
    const float tz = g[i] * (masked && !inside ? neg_s : 0.0f);
    if (o.gs) o.gs[i] = ts;
    if (o.gz) o.gz[i] = tz;
    if (o.acc_s) *o.acc_s += ts;
    if (o.acc_z) *o.acc_z += tz;
  }
}

// ------------------------------------------------------------------ AVX2
// Same operations eight lanes at a time. _mm256_max_ps(lo, r) / _mm256_min_ps(hi, m)
// return their second operand on ties and NaN, matching clamp_like_torch.
#ifdef QNN_FQ_X86
__attribute__((target("avx2"))) void forward_avx2(const float* x, float* y, int64_t n,
                                                  const Params& p) {
  const __m256 s = _mm256_set1_ps(p.s), z = _mm256_set1_ps(p.z);
  const __m256 lo = _mm256_set1_ps(p.lo), hi = _mm256_set1_ps(p.hi);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 t = _mm256_div_ps(_mm256_loadu_ps(x + i), s);
    const __m256 r = _mm256_round_ps(_mm256_add_ps(t, z), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 q = _mm256_min_ps(hi, _mm256_max_ps(lo, r));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_sub_ps(q, z), s));
  }
  forward_scalar(x + i, y + i, n - i, p);
}

// Adds the eight lanes of each partial sum to the double accumulators and clears them.
__attribute__((target("avx2"))) void flush_sums(__m256& sum_s, __m256& sum_z, const GradOut& o) {
  alignas(32) float ls[8], lz[8];
  _mm256_store_ps(ls, sum_s);
  _mm256_store_ps(lz, sum_z);
  for (int l = 0; l < 8; ++l) {
    if (o.acc_s) *o.acc_s += ls[l];
    if (o.acc_z) *o.acc_z += lz[l];
  }
  sum_s = _mm256_setzero_ps();
  sum_z = _mm256_setzero_ps();
}

// Leaves tanh_grad to backward_run (tanh_factor_avx2), also in the scalar tail: this
// function is compiled without FMA so that g++ cannot contract its multiply-adds.
__attribute__((target("avx2"))) void backward_avx2(const float* x, const float* g, const GradOut& o,
                                                   int64_t n, const Params& p, bool masked) {
  const __m256 s = _mm256_set1_ps(p.s), z = _mm256_set1_ps(p.z);
  const __m256 lo = _mm256_set1_ps(p.lo), hi = _mm256_set1_ps(p.hi);
  const __m256 one = _mm256_set1_ps(1.0f), neg_s = _mm256_set1_ps(-p.s);
  const __m256 zero = _mm256_setzero_ps();
  // Sums of the terms: eight float lanes per block of at most 512 elements, each block
  // then added to the double accumulator (deterministic for a given split of the work).
  __m256 sum_s = zero, sum_z = zero;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    if ((i & 511) == 0 && i > 0 && (o.acc_s || o.acc_z)) flush_sums(sum_s, sum_z, o);
    const __m256 t = _mm256_div_ps(_mm256_loadu_ps(x + i), s);
    const __m256 r = _mm256_round_ps(_mm256_add_ps(t, z), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 inside = _mm256_and_ps(_mm256_cmp_ps(r, lo, _CMP_GE_OQ), _mm256_cmp_ps(r, hi, _CMP_LE_OQ));
    const __m256 qz = _mm256_sub_ps(_mm256_min_ps(hi, _mm256_max_ps(lo, r)), z);
    const __m256 gv = _mm256_loadu_ps(g + i);
    if (o.gx) _mm256_storeu_ps(o.gx + i, _mm256_mul_ps(gv, _mm256_and_ps(inside, one)));
    if (o.gs || o.acc_s) {
      const __m256 in_d = _mm256_sub_ps(qz, t);
      const __m256 d = masked ? _mm256_blendv_ps(qz, in_d, inside) : in_d;
      const __m256 ts = _mm256_mul_ps(gv, d);
      if (o.gs) _mm256_storeu_ps(o.gs + i, ts);
      if (o.acc_s) sum_s = _mm256_add_ps(sum_s, ts);
    }
    if (o.gz || o.acc_z) {
      const __m256 tz = _mm256_mul_ps(gv, masked ? _mm256_andnot_ps(inside, neg_s) : zero);
      if (o.gz) _mm256_storeu_ps(o.gz + i, tz);
      if (o.acc_z) sum_z = _mm256_add_ps(sum_z, tz);
    }
  }
  if (o.acc_s || o.acc_z) flush_sums(sum_s, sum_z, o);
  backward_scalar(x + i, g + i, GradOut{o.gx ? o.gx + i : nullptr, o.gs ? o.gs + i : nullptr,
                                        o.gz ? o.gz + i : nullptr, o.acc_s, o.acc_z, false},
                  n - i, p, masked);
}

#endif

void forward_run(const float* x, float* y, int64_t n, const Params& p) {
#ifdef QNN_FQ_X86
  if (cpu_has_avx2()) return forward_avx2(x, y, n, p);
#endif
  forward_scalar(x, y, n, p);
}

#ifdef QNN_FQ_X86
// gx *= fma(-x, x, 1): tanh's gradient as LibTorch's AVX2 tanh_backward computes it
// (a * (1 - b * b) with one FMA; checked bitwise in tests/quant_kernels/tanh_checks.cpp).
__attribute__((target("avx2,fma"))) void tanh_factor_avx2(const float* x, float* gx, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i);
    _mm256_storeu_ps(gx + i, _mm256_mul_ps(_mm256_loadu_ps(gx + i), _mm256_fnmadd_ps(xv, xv, one)));
  }
  for (; i < n; ++i) gx[i] = gx[i] * std::fma(-x[i], x[i], 1.0f);
}
#endif

void backward_run(const float* x, const float* g, const GradOut& o, int64_t n, const Params& p,
                  bool masked) {
#ifdef QNN_FQ_X86
  if (o.gx && o.tanh_grad && cpu_has_avx2_fma()) {
    // Blocks of 4096 elements (a multiple of backward_avx2's 512-element sums, so the
    // sums come out as from one call), each finished by the tanh factor while in cache.
    constexpr int64_t kBlock = 4096;
    for (int64_t b = 0; b < n; b += kBlock) {
      const int64_t m = std::min(kBlock, n - b);
      backward_avx2(x + b, g + b, GradOut{o.gx + b, o.gs ? o.gs + b : nullptr, o.gz ? o.gz + b : nullptr,
                                          o.acc_s, o.acc_z, false},
                    m, p, masked);
      tanh_factor_avx2(x + b, o.gx + b, m);
    }
    return;
  }
  if (cpu_has_avx2() && !o.tanh_grad) return backward_avx2(x, g, o, n, p, masked);
#endif
  backward_scalar(x, g, o, n, p, masked);
}

/// True for one element, or one per row of x's dim 0 laid out as [C, 1, ..., 1].
bool per_tensor_or_row(const torch::Tensor& t, const torch::Tensor& x) {
  if (t.device() != x.device() || t.scalar_type() != torch::kFloat32 || t.dim() > x.dim()) return false;
  if (t.numel() == 1) return true;
  if (t.dim() != x.dim() || t.size(0) != x.size(0)) return false;
  for (int64_t d = 1; d < t.dim(); ++d)
    if (t.size(d) != 1) return false;
  return true;
}

/// Runs `fn(begin, end, params)` over x's elements in parallel, split where the
/// per-row scale or zero point changes.
template <typename Fn>
void for_each_run(const torch::Tensor& x, const torch::Tensor& scale, const torch::Tensor& zero_point,
                  double min_int, double max_int, const Fn& fn) {
  const torch::Tensor s = scale.contiguous(), z = zero_point.contiguous();
  const float* sp = s.data_ptr<float>();
  const float* zp = z.data_ptr<float>();
  const bool s_rows = s.numel() > 1, z_rows = z.numel() > 1;
  const int64_t n = x.numel();
  const int64_t inner = (s_rows || z_rows) ? n / x.size(0) : n;
  const float lo = static_cast<float>(min_int), hi = static_cast<float>(max_int);
  at::parallel_for(0, n, at::internal::GRAIN_SIZE, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end;) {
      const int64_t row = inner > 0 ? i / inner : 0;
      const int64_t stop = std::min(end, (row + 1) * inner);
      fn(i, stop, Params{sp[s_rows ? row : 0], zp[z_rows ? row : 0], lo, hi, row});
      i = stop;
    }
  });
}

}  // namespace

bool tanh_backward_fusable() {
  static const bool yes = [] {
    if (!cpu_has_avx2_fma()) return false;
    torch::NoGradGuard no_grad;
    constexpr int64_t n = 4099;
    const torch::Tensor x = torch::linspace(-0.9993, 0.9991, n, torch::kFloat32);
    const torch::Tensor g = torch::linspace(-3.1, 2.7, n, torch::kFloat32);
    const torch::Tensor ref = at::tanh_backward(g, x).contiguous();
    const float* xp = x.data_ptr<float>();
    const float* gp = g.data_ptr<float>();
    const float* rp = ref.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      const float mine = gp[i] * std::fma(-xp[i], xp[i], 1.0f);
      if (std::memcmp(&mine, rp + i, sizeof(float)) != 0) return false;
    }
    return true;
  }();
  return yes;
}

bool fused_fake_quant_supported(const torch::Tensor& x, const torch::Tensor& scale,
                                const torch::Tensor& zero_point) {
  return x.defined() && scale.defined() && zero_point.defined() && x.device().is_cpu() &&
         x.scalar_type() == torch::kFloat32 && x.dim() >= 1 && x.numel() > 0 && x.is_contiguous() &&
         per_tensor_or_row(scale, x) && per_tensor_or_row(zero_point, x);
}

torch::Tensor fused_fake_quant_forward(const torch::Tensor& x, const torch::Tensor& scale,
                                       const torch::Tensor& zero_point, double min_int,
                                       double max_int) {
  torch::Tensor y = torch::empty_like(x, torch::MemoryFormat::Contiguous);
  const float* xp = x.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  for_each_run(x, scale, zero_point, min_int, max_int, [&](int64_t b, int64_t e, const Params& p) {
    forward_run(xp + b, yp + b, e - b, p);
  });
  return y;
}

FakeQuantGradTerms fused_fake_quant_backward(const torch::Tensor& x, const torch::Tensor& g,
                                             const torch::Tensor& scale,
                                             const torch::Tensor& zero_point, double min_int,
                                             double max_int, bool masked, bool need_gx,
                                             bool need_gs, bool need_gz) {
  FakeQuantGradTerms r;
  const auto alloc = [&](bool want) {
    return want ? torch::empty_like(x, torch::MemoryFormat::Contiguous) : torch::Tensor();
  };
  r.gx = alloc(masked && need_gx);
  r.gs_terms = alloc(need_gs);
  r.gz_terms = alloc(need_gz);
  const auto ptr = [](torch::Tensor& t) { return t.defined() ? t.data_ptr<float>() : nullptr; };
  const GradOut out{ptr(r.gx), ptr(r.gs_terms), ptr(r.gz_terms)};
  if (!out.gx && !out.gs && !out.gz) return r;
  const float* xp = x.data_ptr<float>();
  const float* gp = g.data_ptr<float>();
  for_each_run(x, scale, zero_point, min_int, max_int, [&](int64_t b, int64_t e, const Params& p) {
    const GradOut o{out.gx ? out.gx + b : nullptr, out.gs ? out.gs + b : nullptr,
                    out.gz ? out.gz + b : nullptr};
    backward_run(xp + b, gp + b, o, e - b, p, masked);
  });
  return r;
}

FakeQuantReducedGrads fused_fake_quant_backward_reduced(const torch::Tensor& x, const torch::Tensor& g,
                                                        const torch::Tensor& scale,
                                                        const torch::Tensor& zero_point, double min_int,
                                                        double max_int, bool masked, bool need_gx,
                                                        bool need_gs, bool need_gz, bool tanh_grad) {
  FakeQuantReducedGrads r;
  if (masked && need_gx) r.gx = torch::empty_like(x, torch::MemoryFormat::Contiguous);
  float* gx = r.gx.defined() ? r.gx.data_ptr<float>() : nullptr;
  if (!gx && !need_gs && !need_gz) return r;
  // One partial sum per run (a chunk of the parallel split, cut at row boundaries),
  // added in element order whatever thread ran it, into its row's total.
  struct Partial {
    int64_t row;
    double s, z;
  };
  OrderedPartials<Partial> partials;
  const float* xp = x.data_ptr<float>();
  const float* gp = g.data_ptr<float>();
  for_each_run(x, scale, zero_point, min_int, max_int, [&](int64_t b, int64_t e, const Params& p) {
    double acc_s = 0.0, acc_z = 0.0;
    const GradOut o{gx ? gx + b : nullptr, nullptr, nullptr, need_gs ? &acc_s : nullptr,
                    need_gz ? &acc_z : nullptr, tanh_grad};
    backward_run(xp + b, gp + b, o, e - b, p, masked);
    if (need_gs || need_gz) partials.add(b, Partial{p.row, acc_s, acc_z});
  });
  const auto& ordered = partials.in_order();
  const auto reduce = [&](const torch::Tensor& like, bool want_s) {
    const int64_t n_out = like.numel();
    std::vector<double> acc(static_cast<size_t>(n_out), 0.0);
    for (const auto& [begin, q] : ordered) acc[static_cast<size_t>(n_out > 1 ? q.row : 0)] += want_s ? q.s : q.z;
    torch::Tensor out = torch::empty(like.sizes(), like.options());
    float* op = out.data_ptr<float>();
    for (int64_t i = 0; i < n_out; ++i) op[i] = static_cast<float>(acc[static_cast<size_t>(i)]);
    return out;
  };
  if (need_gs) r.gs = reduce(scale, true);
  if (need_gz) r.gz = reduce(zero_point, false);
  return r;
}

}  // namespace qnn::detail
