// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/linear_kernel.h"

#include "core/quant/cpu_kernel_util.h"

#include <ATen/Parallel.h>

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QNN_LK_X86 1
#endif

// Never fuse a multiply and an add into an FMA in this file, whatever -march/-mfma the
// build uses: the reference BLAS rounds the product before the add.
#pragma GCC optimize("fp-contract=off")

namespace qnn::detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// C[i, j] = (sum_k A(i, k) * B[k * ldb + j]) (+ bias[j]) for i < rows, j < cols, k < depth,
// with A(i, k) = a[i * sa_i + k * sa_k] and C row-major with leading dimension ldc.
struct Gemm {
  const float* a;
  int64_t sa_i, sa_k;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  int64_t rows, cols, depth;
  const float* bias;  // nullptr: none
};

constexpr int kRows = 4;   // rows of one register tile
constexpr int kCols = 16;  // columns of one register tile (two AVX2 vectors)

#ifdef QNN_LK_X86
// Multiply, then add: with fp-contract off (above) the compiler cannot contract them into
// an FMA, which would round once instead of twice, even where the build enables FMA.
__attribute__((target("avx2"))) inline __m256i lane_mask(int64_t valid) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::clamp<int64_t>(valid, 0, 8))), idx);
}

// One tile of R rows and up to 16 columns starting at (i0, j0). Full: all 16 columns valid.
template <int R, bool Full>
__attribute__((target("avx2"))) void tile(const Gemm& g, int64_t i0, int64_t j0) {
  const int64_t valid = std::min<int64_t>(kCols, g.cols - j0);
  const __m256i m0 = lane_mask(valid), m1 = lane_mask(valid - 8);
  __m256 acc0[R], acc1[R];
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  const float* a = g.a + i0 * g.sa_i;
  const float* b = g.b + j0;
  for (int64_t k = 0; k < g.depth; ++k) {
    const float* bk = b + k * g.ldb;
    const __m256 b0 = Full ? _mm256_loadu_ps(bk) : _mm256_maskload_ps(bk, m0);
    const __m256 b1 = Full ? _mm256_loadu_ps(bk + 8) : _mm256_maskload_ps(bk + 8, m1);
    const float* ak = a + k * g.sa_k;
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(ak + r * g.sa_i);
      acc0[r] = _mm256_add_ps(acc0[r], _mm256_mul_ps(av, b0));
      acc1[r] = _mm256_add_ps(acc1[r], _mm256_mul_ps(av, b1));
    }
  }
  __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
  if (g.bias) {
    bias0 = Full ? _mm256_loadu_ps(g.bias + j0) : _mm256_maskload_ps(g.bias + j0, m0);
    bias1 = Full ? _mm256_loadu_ps(g.bias + j0 + 8) : _mm256_maskload_ps(g.bias + j0 + 8, m1);
  }
  for (int r = 0; r < R; ++r) {
    float* c = g.c + (i0 + r) * g.ldc + j0;
    __m256 v0 = acc0[r], v1 = acc1[r];
    if (g.bias) {
      v0 = _mm256_add_ps(v0, bias0);
      v1 = _mm256_add_ps(v1, bias1);
    }
    if (Full) {
      _mm256_storeu_ps(c, v0);
      _mm256_storeu_ps(c + 8, v1);
    } else {
      _mm256_maskstore_ps(c, m0, v0);
      _mm256_maskstore_ps(c + 8, m1, v1);
    }
  }
}

template <bool Full>
void tile_rows(const Gemm& g, int64_t i0, int64_t j0) {
  switch (std::min<int64_t>(kRows, g.rows - i0)) {
    case 4: tile<4, Full>(g, i0, j0); break;
    case 3: tile<3, Full>(g, i0, j0); break;
    case 2: tile<2, Full>(g, i0, j0); break;
    default: tile<1, Full>(g, i0, j0); break;
  }
}

void run(const Gemm& g) {
  const int64_t row_blocks = (g.rows + kRows - 1) / kRows, col_blocks = (g.cols + kCols - 1) / kCols;
  // Tiles column block by column block, so a thread walks down one panel of B. A task
  // gets at least 4M multiply-adds (about 0.15 ms on one core): LeNet's layers at batch
  // 64 (fc1 3.1M) stay on the calling thread. A parallel region costs little on an idle
  // machine, but each one waits for a descheduled thread when another process holds a
  // core, and the products are too short to gain much from a second thread anyway.
  constexpr int64_t kMinTaskMacs = int64_t(1) << 22;
  const int64_t per_tile = kRows * kCols * std::max<int64_t>(g.depth, 1);
  const int64_t grain = std::max<int64_t>(1, (kMinTaskMacs + per_tile - 1) / per_tile);
  at::parallel_for(0, row_blocks * col_blocks, grain, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t i0 = (t % row_blocks) * kRows, j0 = (t / row_blocks) * kCols;
      if (j0 + kCols <= g.cols)
        tile_rows<true>(g, i0, j0);
      else
        tile_rows<false>(g, i0, j0);
    }
  });
}
#endif

bool float_cpu(const torch::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat && t.layout() == torch::kStrided;
}

// x [N, in] @ w [out, in]^T (+ b): A = x, B = w^T packed row-major.
torch::Tensor forward_kernel(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  const torch::Tensor xc = x.contiguous(), wt = w.t().contiguous();  // wt: [in, out]
  const torch::Tensor bc = b.defined() ? b.contiguous() : torch::Tensor();
  const int64_t n = x.size(0), in = x.size(1), out = w.size(0);
  torch::Tensor y = torch::empty({n, out}, x.options());
#ifdef QNN_LK_X86
  run({xc.data_ptr<float>(), in, 1, wt.data_ptr<float>(), out, y.data_ptr<float>(), out, n, out, in,
       bc.defined() ? bc.data_ptr<float>() : nullptr});
#endif
  return y;
}

// g [N, out] @ w [out, in]: A = g, B = w.
torch::Tensor input_grad_kernel(const torch::Tensor& g, const torch::Tensor& w) {
  const torch::Tensor wc = w.contiguous();
  const int64_t n = g.size(0), out = g.size(1), in = w.size(1);
  torch::Tensor gx = torch::empty({n, in}, g.options());
#ifdef QNN_LK_X86
  run({g.data_ptr<float>(), out, 1, wc.data_ptr<float>(), in, gx.data_ptr<float>(), in, n, in, out, nullptr});
#endif
  return gx;
}

// g [N, out]^T @ x [N, in]: A(o, n) = g[n, o], B = x.
torch::Tensor weight_grad_kernel(const torch::Tensor& g, const torch::Tensor& x) {
  const torch::Tensor xc = x.contiguous();
  const int64_t n = g.size(0), out = g.size(1), in = x.size(1);
  torch::Tensor gw = torch::empty({out, in}, g.options());
#ifdef QNN_LK_X86
  run({g.data_ptr<float>(), 1, out, xc.data_ptr<float>(), in, gw.data_ptr<float>(), in, out, in, n, nullptr});
#endif
  return gw;
}

// Inputs x, w, b (b an empty placeholder when there is none: an undefined tensor input
// breaks the autograd engine's input metadata).
struct LinearExactFunction : public torch::autograd::Function<LinearExactFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b) {
    const bool has_bias = b.numel() > 0;
    ctx->saved_data["bias"] = has_bias;
    // x is needed only for w's gradient and w only for x's (the first layer's input
    // needs none).
    ctx->save_for_backward({w.requires_grad() ? x : torch::Tensor(), x.requires_grad() ? w : torch::Tensor()});
    return forward_kernel(x, w, has_bias ? b : torch::Tensor());
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& w = saved[1];
    const torch::Tensor& g_in = grad_outputs[0];
    const bool need_x = ctx->needs_input_grad(0), need_w = ctx->needs_input_grad(1),
               need_b = ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2);
    torch::Tensor gx, gw, gb;
    // The bias gradient from the gradient as it came: LibTorch's sum rounds by its memory layout.
    if (need_b) gb = g_in.sum(0);
    if (torch::GradMode::is_enabled()) {
      // create_graph (double backward): differentiable products, the same values on the
      // reference BLAS (beta = 0: every sgemm loop form sums from +0 in the inner order).
      if (need_x) gx = g_in.mm(w);
      if (need_w) gw = g_in.t().mm(x);
      return {gx, gw, gb};
    }
    const torch::Tensor g = g_in.contiguous();
    if (need_x) gx = input_grad_kernel(g, w);
    if (need_w) gw = weight_grad_kernel(g, x);
    return {gx, gw, gb};
  }
};

}  // namespace

bool linear_exact_supported(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
#ifdef QNN_LK_X86
  if (!cpu_has_avx2()) return false;
  // LibTorch hands transposed views to sgemm with other transpose flags, and then the
  // reference BLAS adds the bias first: not supported, so torch::linear keeps its order.
  if (!float_cpu(x) || !float_cpu(w) || x.dim() != 2 || w.dim() != 2 || !x.is_contiguous() || !w.is_contiguous())
    return false;
  if (x.size(0) == 0 || x.size(1) == 0 || w.size(0) == 0 || x.size(1) != w.size(1)) return false;
  if (b.defined() && (!float_cpu(b) || b.dim() != 1 || b.size(0) != w.size(0))) return false;
  return true;
#else
  return false;
#endif
}

torch::Tensor linear_exact(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  if (!linear_exact_supported(x, w, b)) return torch::linear(x, w, b);
  const bool grad = torch::GradMode::is_enabled() &&
                    (x.requires_grad() || w.requires_grad() || (b.defined() && b.requires_grad()));
  if (!grad) return forward_kernel(x, w, b);
  return LinearExactFunction::apply(x, w, b.defined() ? b : torch::empty({0}, w.options()));
}

torch::Tensor linear_weight_grad_exact(const torch::Tensor& a, const torch::Tensor& c) {
#ifdef QNN_LK_X86
  if (cpu_has_avx2() && float_cpu(a) && float_cpu(c) && a.dim() == 2 && c.dim() == 2 && a.size(0) == c.size(0) &&
      a.size(0) > 0 && a.size(1) > 0 && c.size(1) > 0) {
    torch::NoGradGuard no_grad;
    return weight_grad_kernel(a.contiguous(), c);
  }
#endif
  return a.t().mm(c);
}

}  // namespace qnn::detail
