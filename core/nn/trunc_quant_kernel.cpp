// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/trunc_quant_kernel.h"

#include "core/quant/cpu_kernel_util.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QNN_TQ_X86 1
#endif

namespace qnn::detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

struct Consts {
  float s, z, ts, lo, hi, oz, os;  // oz = z / ts, os = s * ts (float, as the tensor ops)
  bool floor;
};

struct Sums {
  double os_term = 0.0;  // sum g * (c - oz)
  double div_term = 0.0; // sum g2 * v, g2 = g * os * inside / ts
  double g2 = 0.0;       // sum g2
  double g6 = 0.0;       // sum g * os
};


inline float t_of(float v, const Consts& k) {
  const float r = std::nearbyint(v / k.s + k.z);
  const float q = r / k.ts;
  return k.floor ? std::floor(q) : std::nearbyint(q);
}

void forward_scalar(const float* v, float* y, int64_t n, const Consts& k) {
  for (int64_t i = 0; i < n; ++i) y[i] = (clamp_like_torch(t_of(v[i], k), k.lo, k.hi) - k.oz) * k.os;
}

void backward_scalar(const float* v, const float* g, float* gv, int64_t n, const Consts& k, Sums& acc) {
  for (int64_t i = 0; i < n; ++i) {
    const float t = t_of(v[i], k);
    const bool inside = t >= k.lo && t <= k.hi;
    const float g6 = g[i] * k.os;
    const float g2 = (inside ? g6 : 0.0f) / k.ts;
    if (gv) gv[i] = g2 / k.s;
    acc.os_term += g[i] * (clamp_like_torch(t, k.lo, k.hi) - k.oz);
    acc.div_term += g2 * v[i];
    acc.g2 += g2;
    acc.g6 += g6;
  }
}

#ifdef QNN_TQ_X86
__attribute__((target("avx2"))) inline __m256 t_of8(__m256 v, __m256 s, __m256 z, __m256 ts, bool floor) {
  const __m256 r = _mm256_round_ps(_mm256_add_ps(_mm256_div_ps(v, s), z), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 q = _mm256_div_ps(r, ts);
  return floor ? _mm256_round_ps(q, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
               : _mm256_round_ps(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

__attribute__((target("avx2"))) void forward_avx2(const float* v, float* y, int64_t n, const Consts& k) {
  const __m256 s = _mm256_set1_ps(k.s), z = _mm256_set1_ps(k.z), ts = _mm256_set1_ps(k.ts);
  const __m256 lo = _mm256_set1_ps(k.lo), hi = _mm256_set1_ps(k.hi), oz = _mm256_set1_ps(k.oz),
               os = _mm256_set1_ps(k.os);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 c = _mm256_min_ps(hi, _mm256_max_ps(lo, t_of8(_mm256_loadu_ps(v + i), s, z, ts, k.floor)));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_sub_ps(c, oz), os));
  }
  forward_scalar(v + i, y + i, n - i, k);
}

__attribute__((target("avx2"))) double hsum(__m256 a) {
  alignas(32) float l[8];
  _mm256_store_ps(l, a);
  double r = 0.0;
  for (float x : l) r += x;
  return r;
}

__attribute__((target("avx2"))) void backward_avx2(const float* v, const float* g, float* gv, int64_t n,
                                                   const Consts& k, Sums& acc) {
  const __m256 s = _mm256_set1_ps(k.s), z = _mm256_set1_ps(k.z), ts = _mm256_set1_ps(k.ts);
  const __m256 lo = _mm256_set1_ps(k.lo), hi = _mm256_set1_ps(k.hi), oz = _mm256_set1_ps(k.oz),
               os = _mm256_set1_ps(k.os);
  __m256 a_os = _mm256_setzero_ps(), a_div = a_os, a_g2 = a_os, a_g6 = a_os;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    if ((i & 511) == 0 && i > 0) {  // blocks of 512 elements in float, then double
      acc.os_term += hsum(a_os);
      acc.div_term += hsum(a_div);
      acc.g2 += hsum(a_g2);
      acc.g6 += hsum(a_g6);
      a_os = a_div = a_g2 = a_g6 = _mm256_setzero_ps();
    }
    const __m256 vv = _mm256_loadu_ps(v + i), gg = _mm256_loadu_ps(g + i);
    const __m256 t = t_of8(vv, s, z, ts, k.floor);
    const __m256 inside = _mm256_and_ps(_mm256_cmp_ps(t, lo, _CMP_GE_OQ), _mm256_cmp_ps(t, hi, _CMP_LE_OQ));
    const __m256 g6 = _mm256_mul_ps(gg, os);
    const __m256 g2 = _mm256_div_ps(_mm256_and_ps(inside, g6), ts);
    if (gv) _mm256_storeu_ps(gv + i, _mm256_div_ps(g2, s));
    const __m256 c = _mm256_min_ps(hi, _mm256_max_ps(lo, t));
    a_os = _mm256_add_ps(a_os, _mm256_mul_ps(gg, _mm256_sub_ps(c, oz)));
    a_div = _mm256_add_ps(a_div, _mm256_mul_ps(g2, vv));
    a_g2 = _mm256_add_ps(a_g2, g2);
    a_g6 = _mm256_add_ps(a_g6, g6);
  }
  acc.os_term += hsum(a_os);
  acc.div_term += hsum(a_div);
  acc.g2 += hsum(a_g2);
  acc.g6 += hsum(a_g6);
  backward_scalar(v + i, g + i, gv ? gv + i : nullptr, n - i, k, acc);
}

#endif

Consts consts_of(const torch::Tensor& s, const torch::Tensor& z, double ts, bool floor, double lo, double hi) {
  Consts k;
  k.s = s.item<float>();
  k.z = z.item<float>();
  k.ts = static_cast<float>(ts);
  k.lo = static_cast<float>(lo);
  k.hi = static_cast<float>(hi);
  k.oz = k.z / k.ts;
  k.os = k.s * k.ts;
  k.floor = floor;
  return k;
}

struct TruncQuantFunction : public torch::autograd::Function<TruncQuantFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& v, const torch::Tensor& s,
                               const torch::Tensor& z, double ts, bool floor, double lo, double hi) {
    ctx->save_for_backward({v, s, z});
    ctx->saved_data["ts"] = ts;
    ctx->saved_data["floor"] = floor;
    ctx->saved_data["lo"] = lo;
    ctx->saved_data["hi"] = hi;
    const Consts k = consts_of(s, z, ts, floor, lo, hi);
    torch::Tensor y = torch::empty_like(v, torch::MemoryFormat::Contiguous);
    const float* vp = v.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    at::parallel_for(0, v.numel(), at::internal::GRAIN_SIZE, [&](int64_t b, int64_t e) {
#ifdef QNN_TQ_X86
      if (cpu_has_avx2()) return forward_avx2(vp + b, yp + b, e - b, k);
#endif
      forward_scalar(vp + b, yp + b, e - b, k);
    });
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &v = saved[0], &s = saved[1], &z = saved[2];
    const Consts k = consts_of(s, z, ctx->saved_data["ts"].toDouble(), ctx->saved_data["floor"].toBool(),
                               ctx->saved_data["lo"].toDouble(), ctx->saved_data["hi"].toDouble());
    const torch::Tensor g = grad_outputs[0].contiguous();
    const bool need_v = ctx->needs_input_grad(0), need_s = ctx->needs_input_grad(1),
               need_z = ctx->needs_input_grad(2);
    torch::Tensor gv = need_v ? torch::empty_like(v, torch::MemoryFormat::Contiguous) : torch::Tensor();
    const float* vp = v.data_ptr<float>();
    const float* gp = g.data_ptr<float>();
    float* gvp = need_v ? gv.data_ptr<float>() : nullptr;
    OrderedPartials<Sums> partials;  // per chunk, added in element order
    at::parallel_for(0, v.numel(), at::internal::GRAIN_SIZE, [&](int64_t b, int64_t e) {
      Sums acc;
#ifdef QNN_TQ_X86
      if (cpu_has_avx2())
        backward_avx2(vp + b, gp + b, gvp ? gvp + b : nullptr, e - b, k, acc);
      else
#endif
        backward_scalar(vp + b, gp + b, gvp ? gvp + b : nullptr, e - b, k, acc);
      partials.add(b, acc);
    });
    Sums t;
    for (const auto& [begin, p] : partials.in_order()) {
      t.os_term += p.os_term;
      t.div_term += p.div_term;
      t.g2 += p.g2;
      t.g6 += p.g6;
    }
    torch::Tensor gs, gz;
    const double sd = static_cast<double>(k.s);
    if (need_s) gs = torch::full(s.sizes(), t.os_term * k.ts - t.div_term / (sd * sd), s.options());
    if (need_z) gz = torch::full(z.sizes(), t.g2 - t.g6 / k.ts, z.options());
    return {gv, gs, gz, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool trunc_quant_fused_supported(const torch::Tensor& v, const torch::Tensor& s, const torch::Tensor& z) {
  const auto ok = [](const torch::Tensor& t) { return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat32; };
  return ok(v) && ok(s) && ok(z) && v.numel() > 0 && v.is_contiguous() && s.numel() == 1 && z.numel() == 1;
}

torch::Tensor trunc_quant_fused(const torch::Tensor& v, const torch::Tensor& s, const torch::Tensor& z,
                                double ts, bool floor, double lo, double hi) {
  return TruncQuantFunction::apply(v, s, z, ts, floor, lo, hi);
}

}  // namespace qnn::detail
