// SPDX-License-Identifier: GPL-3.0-or-later
#include "tests/quant_kernels/kernel_checks.h"

#include <ATen/ExpandUtils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/quant/int_quant.h"
#include "core/quant/quantizers.h"

namespace qnn::test {
namespace {

struct Grads {
  torch::Tensor y, gx, gs, gz, gs_abs, gz_abs;  // *_abs: sums of |terms| (float64)
};

// The op-by-op formula (the implementation before the fused kernels), forward and
// straight-through backward written out with LibTorch ops.
Grads reference(const torch::Tensor& x, const torch::Tensor& s, const torch::Tensor& z,
                const torch::Tensor& g, double lo, double hi, bool ste) {
  torch::NoGradGuard no_grad;
  Grads r;
  torch::Tensor t = x / s;
  t = t + z;
  const torch::Tensor rounded = torch::round(t);
  const torch::Tensor q = torch::clamp(rounded, lo, hi);
  r.y = (q - z) * s;
  const torch::Tensor inside = (rounded >= lo).logical_and_(rounded <= hi);
  r.gx = at::sum_to(ste ? g.clone() : g * inside, x.sizes());
  torch::Tensor d = q - z;
  const torch::Tensor ratio = x / s;
  d = ste ? d - ratio : torch::where(inside, d - ratio, d);
  r.gs = at::sum_to(g * d, s.sizes());
  r.gs_abs = at::sum_to((g * d).abs().to(torch::kDouble), s.sizes());
  const torch::Tensor dz = ste ? torch::zeros_like(x) : torch::where(inside, torch::zeros_like(x), -s.expand_as(x));
  r.gz = at::sum_to(g * dz, z.sizes());
  r.gz_abs = at::sum_to((g * dz).abs().to(torch::kDouble), z.sizes());
  return r;
}

// a and b equal where b is NaN or infinite, else within 1e-5 * mag + 1e-30 (float32).
bool close_sums(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& mag) {
  if (!a.defined() || !b.defined() || a.sizes() != b.sizes()) return false;
  const torch::Tensor ad = a.detach().to(torch::kDouble).reshape({-1});
  const torch::Tensor bd = b.detach().to(torch::kDouble).reshape({-1});
  const torch::Tensor md = mag.detach().to(torch::kDouble).reshape({-1});
  for (int64_t i = 0; i < ad.numel(); ++i) {
    const double x = ad[i].item<double>(), y = bd[i].item<double>(), m = md[i].item<double>();
    if (std::isnan(y) || std::isinf(y)) {  // NaN for NaN, the same infinity for an infinity
      if (!(std::isnan(y) ? std::isnan(x) : x == y)) return false;
      continue;
    }
    if (std::isnan(m) || std::isinf(m)) {  // finite sum of overflowing terms: finite too
      if (!std::isfinite(x)) return false;
      continue;
    }
    if (!(std::fabs(x - y) <= 1e-5 * m + 1e-30)) return false;
  }
  return true;
}

bool same_bits(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.defined() || !b.defined()) return a.defined() == b.defined();
  if (a.sizes() != b.sizes()) return false;
  const torch::Tensor ac = a.detach().contiguous(), bc = b.detach().contiguous();
  const torch::Tensor both_nan = torch::isnan(ac) & torch::isnan(bc);
  const torch::Tensor eq = ac.view(torch::kInt32) == bc.view(torch::kInt32);
  return (eq | both_nan).all().item<bool>();
}

torch::Tensor salted(std::vector<int64_t> shape, const torch::Tensor& s, const torch::Tensor& z,
                     at::Generator& gen, double lo, double hi) {
  torch::Tensor x = torch::randn(shape, gen) * (s.max().item<double>() * (hi - lo) * 0.4);
  const int64_t n = x.numel();
  torch::Tensor flat = x.view({-1});
  auto acc = flat.accessor<float, 1>();
  const float sv = s.reshape({-1})[0].item<float>();
  const float zv = z.reshape({-1})[0].item<float>();
  const float specials[] = {0.0f, -0.0f, NAN, INFINITY, -INFINITY, 0.5f * sv, -0.5f * sv, 1.5f * sv,
                            -2.5f * sv, (float(hi) + 0.5f - zv) * sv, (float(lo) - 0.5f - zv) * sv,
                            (float(hi) + 3.0f) * sv, (float(lo) - 3.0f) * sv, 1e-30f, -1e-30f};
  const int64_t ns = int64_t(sizeof(specials) / sizeof(float));
  for (int64_t i = 0; i < n; i += 7) acc[i] = specials[(i / 7) % ns];
  return x;
}

// The statistic as computed before the one-pass scan: x.abs() (when `abs`), flattened,
// then max / min / kthvalue.
torch::Tensor reference_kth(const torch::Tensor& x, int64_t k, bool abs) {
  const torch::Tensor flat = (abs ? x.abs() : x).reshape({-1});
  const int64_t n = flat.numel();
  k = std::min<int64_t>(std::max<int64_t>(k, 1), n);
  if (k == n) return std::get<0>(flat.max(0));
  if (k == 1) return std::get<0>(flat.min(0));
  return std::get<0>(flat.kthvalue(k));
}

/// kth_percentile / kth_abs_percentile / kth_low_percentile against reference_kth:
/// value and gradient of x, on continuous, tie-heavy (few distinct values) and
/// sign-mixed tensors; returns the number of failing cases.
int percentile_failures(at::Generator& gen, int& cases) {
  int failures = 0;
  int tie_cases = 0;
  const std::vector<int64_t> sizes{1, 5, 100, 49999, 50001, 65536, 102400, 301056};
  for (const int64_t n : sizes)
    for (int kind = 0; kind < 4; ++kind)
      for (int which = 0; which < 3; ++which)
        for (const bool grad : {true, false}) {
          torch::Tensor x = torch::randn({n}, gen);
          if (kind == 1) x = torch::round(x * 3.0) / 3.0;           // many ties at every rank
          if (kind == 2) x = torch::relu(x);                         // zeros and ties at the bottom
          if (kind == 3) x = torch::round(torch::rand({n}, gen) * 4.0) * (n % 2 ? -1.0 : 1.0);
          if (n > 10 && kind == 0) x.index_put_({torch::arange(0, 3)}, x.abs().max());  // tie the max
          const double q = which == 2 ? 0.001 : 99.999;
          const double dn = static_cast<double>(n);
          const int64_t k = which == 2 ? static_cast<int64_t>(std::ceil(0.01 * q * dn))
                                       : static_cast<int64_t>(std::floor(0.01 * q * dn + 0.5));
          const bool abs = which == 0;
          const torch::Tensor xa = x.clone().requires_grad_(grad);
          const torch::Tensor xb = x.clone().requires_grad_(grad);
          const torch::Tensor got = which == 0   ? kth_abs_percentile(xa, q)
                                    : which == 1 ? kth_percentile(xa, q)
                                                 : kth_low_percentile(xa, q);
          const torch::Tensor want = reference_kth(xb, k, abs);
          ++cases;
          std::string bad;
          if (!same_bits(got, want)) bad += " value";
          if (grad) {
            const torch::Tensor g = torch::randn({}, gen);
            // Feed the statistic through a use like the quantizers' (scale = stat / 7).
            (got / 7.0).backward(g);
            (want / 7.0).backward(g);
            torch::Tensor expected = xb.grad().clone();
            // Ties (issue 13): the gradient goes to the first tied element in memory
            // order instead of kthvalue's pick; 0 without abs keeps kthvalue's.
            const torch::Tensor key = abs ? x.abs() : x;
            const torch::Tensor tied = torch::nonzero(key == want.detach()).reshape({-1});
            if (tied.numel() > 1 && (abs || want.item<float>() != 0.0f)) {
              const torch::Tensor sgn = torch::sign(x);
              for (int64_t j = 0; j < tied.numel(); ++j) {  // the zero pattern 0 * sgn(x)
                const int64_t i = tied[j].item<int64_t>();
                expected[i] = abs ? 0.0f * sgn[i].item<float>() : 0.0f;
              }
              const int64_t first = tied[0].item<int64_t>();
              const float gv = (g / 7.0).item<float>();
              expected[first] = abs ? gv * sgn[first].item<float>() : gv;
              ++tie_cases;
            }
            if (!same_bits(xa.grad(), expected)) bad += " grad_x";
          }
          if (!bad.empty()) {
            ++failures;
            std::printf("FAIL percentile n=%lld kind %d which %d grad %d:%s\n",
                        static_cast<long long>(n), kind, which, int(grad), bad.c_str());
          }
        }
  if (tie_cases < 20) {  // the tie-heavy inputs must exercise the tie rule
    ++failures;
    std::printf("FAIL percentile: only %d cases with tied gradients\n", tie_cases);
  }
  return failures;
}

/// WeightQuantizer (per tensor) against the op-by-op weight.abs().max() statistic:
/// output and weight gradient, with and without ties at the maximum (+-max, several).
int weight_quantizer_failures(at::Generator& gen, int& cases) {
  int failures = 0;
  for (const int bits : {3, 4, 8})
    for (const auto& shape : std::vector<std::vector<int64_t>>{{6, 1, 5, 5}, {120, 400}, {10, 84}})
      for (int ties = 0; ties < 3; ++ties) {
        torch::Tensor w = torch::randn(shape, gen) * 0.1;
        if (ties > 0) {
          const torch::Tensor flat = w.view({-1});
          const float m = flat.abs().max().item<float>();
          flat[1] = -m;
          if (ties == 2) flat[flat.numel() - 1] = m, flat[2] = -m;
        }
        QuantSpec spec = presets::Int8WeightPerTensorFloat();
        spec.bit_width = bits;
        WeightQuantizer q(spec);
        const torch::Tensor wa = w.clone().requires_grad_(true);
        const torch::Tensor wb = w.clone().requires_grad_(true);
        const QuantTensor got = q->forward(wa);
        const torch::Tensor stat = wb.abs().max();
        const torch::Tensor scale = torch::clamp_min(stat, 1e-10) / spec.int_threshold();
        const torch::Tensor want = fake_quant(wb, scale, torch::zeros({}), spec.range(),
                                              ClampGrad::StraightThrough);
        const torch::Tensor g = torch::randn(shape, gen);
        got.value.backward(g);
        want.backward(g);
        ++cases;
        std::string bad;
        if (!same_bits(got.value, want)) bad += " y";
        if (!same_bits(got.scale, scale)) bad += " scale";
        if (!same_bits(wa.grad(), wb.grad())) bad += " grad_w";
        if (!bad.empty()) {
          ++failures;
          std::printf("FAIL weight quantizer %d bit %s ties %d:%s\n", bits,
                      c10::str(shape).c_str(), ties, bad.c_str());
        }
      }
  return failures;
}

// Brevitas abs_binary_sign_grad as the activation quantizer used it before the fused
// scale node: |x| forward, g * (x < 0 ? -1 : 1) backward.
struct RefAbsBinarySignGrad : public torch::autograd::Function<RefAbsBinarySignGrad> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    ctx->save_for_backward({x});
    return x.abs();
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list g) {
    const torch::Tensor x = ctx->get_saved_variables()[0];
    return {g[0] * torch::where(x < 0, -torch::ones_like(x), torch::ones_like(x))};
  }
};

/// Learned-scale activation quantizer (Parameter scaling) against the op-by-op scale
/// s = abs_binary_sign_grad(clamp_min(value / threshold, 1e-10)): output, scale and the
/// gradient of `value`, for values that are positive, negative, tiny and zero.
int learned_scale_failures(at::Generator& gen, int& cases) {
  int failures = 0;
  const std::vector<double> values{1.0, 0.37, 2.5e-3, 3.3, -0.8, 1e-12, 0.0, -1e-11, 255.0, 7.77e-8};
  for (const int bits : {2, 4, 8})
    for (const double v : values)
      for (int rep = 0; rep < 3; ++rep) {
        QuantSpec spec = presets::Int8ActPerTensorFloatMinMaxInit();
        spec.bit_width = bits;
        ActQuantizer q(spec);
        q->train();
        const double val = v * (1.0 + 0.1 * rep) + (rep == 2 ? 1e-3 : 0.0);
        {
          torch::NoGradGuard no_grad;
          q->value.fill_(val);
        }
        const torch::Tensor ref_value = torch::full({}, val).requires_grad_(true);
        const torch::Tensor x = torch::randn({64, 6, 7}, gen) * 2.0;
        const QuantTensor got = q->forward(x);
        const torch::Tensor s_ref = RefAbsBinarySignGrad::apply(
            torch::clamp_min(ref_value / spec.int_threshold(), 1e-10));
        const torch::Tensor want = fake_quant(x, s_ref, torch::zeros({}), spec.range(), ClampGrad::Masked);
        const torch::Tensor g = torch::randn(x.sizes(), gen);
        got.value.backward(g);
        want.backward(g);
        ++cases;
        std::string bad;
        if (!same_bits(got.value, want)) bad += " y";
        if (!same_bits(got.scale, s_ref)) bad += " scale";
        if (!same_bits(q->value.grad(), ref_value.grad())) bad += " grad_value";
        if (!bad.empty()) {
          ++failures;
          std::printf("FAIL learned scale %d bit value %g:%s\n", bits, val, bad.c_str());
        }
      }
  return failures;
}

}  // namespace

int fake_quant_failures(int threads, int& cases) {
  torch::set_num_threads(threads);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2024 + threads);
  const std::vector<std::vector<int64_t>> shapes{{1}, {7}, {9}, {33}, {6, 1, 5, 5}, {120, 400},
                                                 {64, 6, 28, 28}, {3, 70001}, {16, 6, 5, 5}};
  struct Range { double lo, hi; };
  const std::vector<Range> ranges{{-8, 7}, {0, 15}, {-3, 3}, {0, 255}, {-128, 127},
                                  {-2147483648.0, 2147483647.0}, {0, 0}};
  int failures = 0;
  for (const auto& shape : shapes)
    for (const Range& rg : ranges)
      for (const bool ste : {false, true})
        for (const int layout : {0, 1, 2}) {  // per tensor [], per tensor [1], per row
          std::vector<int64_t> sshape;
          if (layout == 1) sshape = {1};
          if (layout == 2) {
            sshape.assign(shape.size(), 1);
            sshape[0] = shape[0];
          }
          const torch::Tensor s = (torch::rand(sshape, gen) * 0.5 + 0.01);
          const torch::Tensor z = rg.lo == 0 && layout != 1
                                      ? torch::round(torch::rand(sshape, gen) * rg.hi * 0.2)
                                      : torch::zeros(sshape);
          torch::Tensor g = torch::randn(shape, gen);
          g.view({-1}).index_put_({torch::arange(0, g.numel(), 11)}, -0.0f);
          ++cases;
          std::string bad;
          // Salted with specials (NaN, inf, ...) and clean (finite sums that can tell).
          for (const bool salt : {true, false}) {
            const torch::Tensor x = salt ? salted(shape, s, z, gen, rg.lo, rg.hi)
                                         : torch::randn(shape, gen) * (s.max().item<double>() * (rg.hi - rg.lo) * 0.4);
            const Grads want = reference(x, s, z, g, rg.lo, rg.hi, ste);
            const torch::Tensor xv = x.clone().requires_grad_(true);
            const torch::Tensor sv = s.clone().requires_grad_(true);
            const torch::Tensor zv = z.clone().requires_grad_(true);
            const IntRange range{static_cast<int64_t>(rg.lo), static_cast<int64_t>(rg.hi)};
            const torch::Tensor y = fake_quant(xv, sv, zv, range, ste ? ClampGrad::StraightThrough
                                                                      : ClampGrad::Masked);
            y.backward(g);
            const std::string tag = salt ? "" : " (clean)";
            if (!same_bits(y, want.y)) bad += " y" + tag;
            if (!same_bits(xv.grad(), want.gx)) bad += " grad_x" + tag;
            // Scale and zero-point sums are reduced inside the kernel (issue 13): equal
            // up to the summation order, 1e-5 of the sum of |terms| (NaN/inf alike).
            if (!close_sums(sv.grad(), want.gs, want.gs_abs)) bad += " grad_scale" + tag;
            if (!close_sums(zv.grad(), want.gz, want.gz_abs)) bad += " grad_zero_point" + tag;
          }
          if (!bad.empty()) {
            ++failures;
            std::printf("FAIL t%d shape %s range [%.0f, %.0f] %s layout %d:%s\n", threads,
                        c10::str(shape).c_str(), rg.lo, rg.hi, ste ? "ste" : "masked", layout,
                        bad.c_str());
          }
        }
  return failures;
}

int statistics_failures(int threads, int& cases) {
  torch::set_num_threads(threads);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(4048 + threads);
  return percentile_failures(gen, cases) + weight_quantizer_failures(gen, cases) +
         learned_scale_failures(gen, cases);
}

}  // namespace qnn::test
