// SPDX-License-Identifier: GPL-3.0-or-later
// The fused TruncIntQuant of the truncating pools (core/nn/trunc_quant_kernel.h) against
// the op-by-op form (the path a TruncPoolTrace takes).
#include <cmath>
#include <cstring>
#include <cstdio>
#include <string>

#include <torch/torch.h>

#include "core/nn/trunc_pool.h"
#include "core/quant/quantizers.h"
#include "tests/quant_kernels/kernel_checks.h"
#include "tests/quant_kernels/same_bits.h"

namespace qnn::test {
namespace {

// |a - b| <= 1e-5 * mag elementwise (mag: a bound on the sum of |terms|).
bool near(const torch::Tensor& a, const torch::Tensor& b, double mag) {
  if (!a.defined() || !b.defined()) return a.defined() == b.defined();
  const double d = (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
  return std::isfinite(d) && d <= 1e-5 * mag + 1e-12;
}

struct Out {
  torch::Tensor y, scale, gx, gvalue, gzero;
  bool fused = false;
};

Out run(const QuantSpec& spec, int phase, int bits, TruncRounding rounding, std::array<int64_t, 2> k,
        const torch::Tensor& x, const torch::Tensor& seed, bool op_by_op) {
  ActQuantizer act(spec);
  if (phase == 1) {
    act->load_threshold(0.9);
    if (spec.shifted) {  // a nonzero learned zero point, so its gradient matters
      torch::NoGradGuard ng;
      act->zero_point_value.fill_(-0.3);
    }
  }
  TruncAvgPool2d pool(TruncAvgPool2dOptions({k[0], k[1]}).bit_width(bits).rounding(rounding));
  const torch::Tensor xv = x.clone().requires_grad_(true);
  const QuantTensor q = act->forward(torch::tanh(xv));
  TruncPoolTrace trace;
  const QuantTensor y = pool->forward(q, op_by_op ? &trace : nullptr);
  (y.value * seed).sum().backward();
  Out o;
  o.y = y.value.detach();
  o.scale = y.scale.detach();
  o.gx = xv.grad();
  o.gvalue = act->value.grad();
  if (spec.shifted) o.gzero = act->zero_point_value.grad();
  o.fused = y.value.grad_fn() && y.value.grad_fn()->name().find("TruncQuant") != std::string::npos;
  return o;
}

}  // namespace

int trunc_quant_failures(int threads, int& cases) {
  torch::set_num_threads(threads);
  int failures = 0;
  for (const int phase : {0, 1})
    for (const int bits : {2, 4, 8})
      for (const TruncRounding rounding : {TruncRounding::Round, TruncRounding::Floor})
        for (const auto k : {std::array<int64_t, 2>{2, 2}, std::array<int64_t, 2>{3, 1}})
          for (const bool shifted : {false, true}) {
            const QuantSpec spec = shifted ? presets::ShiftedUint8ActPerTensorFloat() : presets::Int8ActPerTensorFloat();
            torch::manual_seed(5 + bits);
            // 64 x 16 x 28 x 28: the pooled tensor (~200,000 elements) splits over threads.
            const torch::Tensor x = torch::randn({64, 16, 28, 28}) * 1.7;
            const int64_t oh = 28 / k[0], ow = 28 / k[1];
            const torch::Tensor seed = torch::randn({64, 16, oh, ow});
            ++cases;
            std::string bad;
            const Out a = run(spec, phase, bits, rounding, k, x, seed, false);
            const Out b = run(spec, phase, bits, rounding, k, x, seed, true);
            if (!a.fused || b.fused) bad += " path";
            if (!same_values(a.y, b.y)) bad += " y";
            if (!same_values(a.scale, b.scale)) bad += " scale";
            const double mag = seed.abs().sum().item<double>() * 4.0;
            if (!near(a.gx, b.gx, 1.0)) bad += " grad_x";
            if (!near(a.gvalue, b.gvalue, mag)) bad += " grad_value";
            if (!near(a.gzero, b.gzero, mag)) bad += " grad_zero_point";
            if (phase == 1 && shifted && (!b.gzero.defined() || b.gzero.item<double>() == 0.0))
              bad += " grad_zero_point 0 (cannot tell)";
            if (phase == 1 && b.gvalue.defined() && b.gvalue.item<double>() == 0.0) bad += " grad_value 0 (cannot tell)";
            if (!bad.empty()) {
              ++failures;
              std::printf("FAIL trunc quant phase %d %d bit %s k %lldx%lld %s:%s\n", phase, bits,
                          rounding == TruncRounding::Round ? "round" : "floor", static_cast<long long>(k[0]),
                          static_cast<long long>(k[1]), shifted ? "shifted" : "signed", bad.c_str());
            }
          }
  return failures;
}

}  // namespace qnn::test
