// SPDX-License-Identifier: GPL-3.0-or-later
// The fully connected kernels (core/nn/linear_kernel.h) against the reference BLAS's
// summation order written out as scalar loops below, and against torch::linear and its
// autograd backward where LibTorch runs on the reference BLAS (Debian's default
// libblas3): forward, input, weight and bias gradients bit-identical.
#include <cstdio>
#include <array>
#include <cstring>
#include <string>

#include <torch/torch.h>

#include "core/nn/linear_kernel.h"
#include "tests/quant_kernels/kernel_checks.h"
#include "tests/quant_kernels/same_bits.h"

namespace qnn::test {
namespace {

struct Grads {
  torch::Tensor y, gx, gw, gb;
  std::string node;
};

// Which inputs require grad, and whether the upstream gradient reaches the layer as a
// transposed (non-contiguous) view.
struct Setup {
  bool x = true, w = true, b = true, transposed_grad = false;
};

Grads run(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, const torch::Tensor& seed,
          bool exact, Setup su = {}) {
  const torch::Tensor xv = x.clone().requires_grad_(su.x), wv = w.clone().requires_grad_(su.w);
  const torch::Tensor bv = b.defined() ? b.clone().requires_grad_(su.b) : torch::Tensor();
  const torch::Tensor y = exact ? detail::linear_exact(xv, wv, bv) : torch::linear(xv, wv, bv);
  if (su.transposed_grad)  // d/dy sum(y^T * S) = S^T, a transposed view holding `seed`
    (y.t() * seed.t().contiguous()).sum().backward();
  else
    y.backward(seed);
  Grads r{y.detach(), xv.grad(), wv.grad(), bv.defined() ? bv.grad() : torch::Tensor(), ""};
  if (y.grad_fn()) r.node = y.grad_fn()->name();
  return r;
}

// The reference BLAS's order (sgemm, see core/nn/linear_kernel.h): each element a chain
// from +0 over the inner index, product rounded before the add; the bias added last.
// Plain float arithmetic: x86-64 without -mfma has no FMA to contract into.
Grads scalar_reference(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                       const torch::Tensor& seed) {
  const int64_t n = x.size(0), in = x.size(1), out = w.size(0);
  const torch::Tensor xc = x.contiguous(), wc = w.contiguous(), gc = seed.contiguous();
  const float *X = xc.data_ptr<float>(), *W = wc.data_ptr<float>(), *G = gc.data_ptr<float>();
  Grads r;
  r.y = torch::empty({n, out});
  r.gx = torch::empty({n, in});
  r.gw = torch::empty({out, in});
  float *Y = r.y.data_ptr<float>(), *GX = r.gx.data_ptr<float>(), *GW = r.gw.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < out; ++o) {
      volatile float acc = 0.0f;
      for (int64_t l = 0; l < in; ++l) {
        const volatile float p = X[i * in + l] * W[o * in + l];
        acc = acc + p;
      }
      Y[i * out + o] = b.defined() ? acc + b[o].item<float>() : acc;
    }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t l = 0; l < in; ++l) {
      volatile float acc = 0.0f;
      for (int64_t o = 0; o < out; ++o) {
        const volatile float p = G[i * out + o] * W[o * in + l];
        acc = acc + p;
      }
      GX[i * in + l] = acc;
    }
  for (int64_t o = 0; o < out; ++o)
    for (int64_t l = 0; l < in; ++l) {
      volatile float acc = 0.0f;
      for (int64_t i = 0; i < n; ++i) {
        const volatile float p = G[i * out + o] * X[i * in + l];
        acc = acc + p;
      }
      GW[o * in + l] = acc;
    }
  return r;  // gb: LibTorch's own sum, checked against torch::linear's autograd
}

// Whether torch::linear sums in the reference BLAS's order here (it does on Debian's
// default libblas3; OpenBLAS or another libblas.so.3 sums otherwise).
bool torch_linear_is_reference_order() {
  torch::manual_seed(77);
  const torch::Tensor x = torch::randn({16, 300}), w = torch::randn({24, 300}), b = torch::randn({24});
  const torch::Tensor g = torch::randn({16, 24});
  return same_values(torch::linear(x, w, b), scalar_reference(x, w, b, g).y);
}

// Zeros of both signs and values far apart in magnitude, so rounding and the order of
// the additions matter.
void salt(torch::Tensor& t, int64_t seed) {
  torch::manual_seed(seed);
  auto flat = t.view({-1});
  const int64_t n = flat.numel();
  flat.index_put_({torch::randint(n, {n / 7 + 1})}, 0.0);
  flat.index_put_({torch::randint(n, {n / 11 + 1})}, -0.0);
  flat.index_put_({torch::randint(n, {n / 13 + 1})}, 3.0e4);
  flat.index_put_({torch::randint(n, {n / 17 + 1})}, -1.0e-6);
}

}  // namespace

int linear_exact_failures(int threads, int& cases) {
  torch::set_num_threads(threads);
  int failures = 0;
  const bool torch_is_reference = torch_linear_is_reference_order();
  if (!torch_is_reference)
    std::printf("note: torch::linear does not sum in the reference BLAS's order here (libblas.so.3 is not "
                "Debian's libblas3), so the kernels are checked against the scalar reference only\n");
  // [N, in, out]: the LeNet and TFC layers, batch 1, and sizes off the 4 x 16 tile.
  const int64_t shapes[][3] = {{64, 400, 120}, {64, 120, 84}, {64, 84, 10}, {256, 784, 64}, {1, 1, 1},
                               {1, 400, 120},  {7, 33, 5},    {3, 5, 17},   {9, 17, 33},    {5, 16, 16},
                               {2, 3, 40},     {130, 64, 9}};
  for (const auto& s : shapes)
    for (const bool bias : {false, true})
      for (const bool salted : {false, true}) {
        torch::manual_seed(s[0] * 131 + s[1] * 7 + s[2]);
        torch::Tensor x = torch::randn({s[0], s[1]}), w = torch::randn({s[2], s[1]}) * 0.1;
        const torch::Tensor b = bias ? torch::randn({s[2]}) : torch::Tensor();
        torch::Tensor seed = torch::randn({s[0], s[2]});
        if (salted) {
          salt(x, 1);
          salt(w, 2);
          salt(seed, 3);
        }
        ++cases;
        std::string bad;
        if (!detail::linear_exact_supported(x, w, b)) bad += " not supported";
        const Grads ref = scalar_reference(x, w, b, seed), got = run(x, w, b, seed, true);
        if (got.node.find("LinearExact") == std::string::npos) bad += " path(" + got.node + ")";
        if (!same_values(ref.y, got.y)) bad += " y";
        if (!same_values(ref.gx, got.gx)) bad += " grad_x";
        if (!same_values(ref.gw, got.gw)) bad += " grad_w";
        const Grads t = run(x, w, b, seed, false);
        if (!same_values(t.gb, got.gb)) bad += " grad_b";  // a sum over N: no BLAS involved
        // and torch::linear's autograd, on the reference BLAS
        if (torch_is_reference &&
            (!same_values(t.y, got.y) || !same_values(t.gx, got.gx) || !same_values(t.gw, got.gw)))
          bad += " torch::linear";
        {  // Without autograd (eval): the same forward.
          torch::NoGradGuard no_grad;
          if (!same_values(ref.y, detail::linear_exact(x, w, b))) bad += " y(no_grad)";
        }
        if (!same_values(ref.gw, detail::linear_weight_grad_exact(seed, x))) bad += " weight_grad_exact";
        if (!bad.empty()) {
          ++failures;
          std::printf("FAIL linear N%lld in%lld out%lld%s%s:%s\n", static_cast<long long>(s[0]),
                      static_cast<long long>(s[1]), static_cast<long long>(s[2]), bias ? " bias" : "",
                      salted ? " salted" : "", bad.c_str());
        }
      }
  // Only some inputs require grad, and the upstream gradient as a transposed view: the
  // gradients that exist as above, the others undefined.
  const Setup setups[] = {{true, false, false, false}, {false, true, false, false}, {false, false, true, false},
                          {false, true, true, false},  {true, true, true, true},    {false, true, true, true}};
  for (const auto& s : {std::array<int64_t, 3>{64, 120, 84}, std::array<int64_t, 3>{5, 17, 33}})
    for (const Setup& su : setups) {
      torch::manual_seed(s[0] + s[2]);
      const torch::Tensor x = torch::randn({s[0], s[1]}), w = torch::randn({s[2], s[1]}), b = torch::randn({s[2]});
      const torch::Tensor seed = torch::randn({s[0], s[2]});
      ++cases;
      std::string bad;
      const Grads ref = scalar_reference(x, w, b, seed), got = run(x, w, b, seed, true, su);
      const Grads t = run(x, w, b, seed, false, su);
      if (got.node.find("LinearExact") == std::string::npos) bad += " path(" + got.node + ")";
      if (!same_values(ref.y, got.y)) bad += " y";
      if (!same_values(su.x ? ref.gx : torch::Tensor(), got.gx)) bad += " grad_x";
      if (!same_values(su.w ? ref.gw : torch::Tensor(), got.gw)) bad += " grad_w";
      if (!same_values(t.gb, got.gb) || got.gb.defined() != su.b) bad += " grad_b";
      if (!bad.empty()) {
        ++failures;
        std::printf("FAIL linear N%lld in%lld out%lld requires grad x%d w%d b%d%s:%s\n", static_cast<long long>(s[0]),
                    static_cast<long long>(s[1]), static_cast<long long>(s[2]), su.x, su.w, su.b,
                    su.transposed_grad ? " transposed gradient" : "", bad.c_str());
      }
    }
  // create_graph (double backward): the input gradient keeps its graph, and the second
  // backward gives torch::linear's weight gradient.
  {
    ++cases;
    torch::manual_seed(21);
    const torch::Tensor x = torch::randn({8, 20}), w = torch::randn({6, 20}), b = torch::randn({6});
    const torch::Tensor seed = torch::randn({8, 6});
    torch::Tensor second[2];
    bool graph[2] = {false, false};
    for (const int exact : {0, 1}) {
      const torch::Tensor xv = x.clone().requires_grad_(true), wv = w.clone().requires_grad_(true);
      const torch::Tensor bv = b.clone().requires_grad_(true);
      const torch::Tensor y = exact ? detail::linear_exact(xv, wv, bv) : torch::linear(xv, wv, bv);
      const torch::Tensor gx = torch::autograd::grad({y}, {xv}, {seed}, /*retain_graph=*/true, /*create_graph=*/true)[0];
      graph[exact] = gx.requires_grad();
      if (graph[exact]) {
        (gx * gx).sum().backward();
        second[exact] = wv.grad();
      }
    }
    const bool close = second[0].defined() && second[1].defined() &&
                       (torch_is_reference ? same_values(second[0], second[1])
                                           : torch::allclose(second[0], second[1], 1e-5, 1e-5));
    if (!graph[1] || !close) {
      ++failures;
      std::printf("FAIL linear create_graph:%s%s\n", graph[1] ? "" : " no graph", close ? "" : " second backward");
    }
  }
  // Non-contiguous input or weight (a transposed view): LibTorch's sgemm call adds the
  // bias first there, so linear_exact must leave it to torch::linear (same values).
  {
    ++cases;
    torch::manual_seed(9);
    const torch::Tensor xt = torch::randn({40, 64}).t(), wt = torch::randn({40, 12}).t(), b = torch::randn({12});
    if (detail::linear_exact_supported(xt, wt.contiguous(), b) ||
        detail::linear_exact_supported(xt.contiguous(), wt, b) ||
        !same_values(torch::linear(xt, wt, b), detail::linear_exact(xt, wt, b)) ||
        !same_values(torch::linear(xt, wt.contiguous(), b), detail::linear_exact(xt, wt.contiguous(), b))) {
      ++failures;
      std::printf("FAIL linear non-contiguous\n");
    }
  }
  // Not supported: falls back to torch::linear (3-d input, double).
  {
    ++cases;
    const torch::Tensor x3 = torch::randn({2, 3, 8}), w = torch::randn({4, 8});
    const torch::Tensor xd = torch::randn({3, 8}, torch::kDouble), wd = torch::randn({4, 8}, torch::kDouble);
    if (detail::linear_exact_supported(x3, w, {}) || detail::linear_exact_supported(xd, wd, {}) ||
        !same_values(torch::linear(x3, w), detail::linear_exact(x3, w, {})) ||
        !same_values(torch::linear(xd, wd), detail::linear_exact(xd, wd, {}))) {
      ++failures;
      std::printf("FAIL linear fallback\n");
    }
  }
  return failures;
}

}  // namespace qnn::test
