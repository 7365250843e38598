// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/quant/int_quant.h"

#include <ATen/ExpandUtils.h>

#include <cmath>

#include "core/errors.h"
#include "core/quant/quant_tensor.h"

namespace qnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Forward and backward of fake quantization in one autograd node, so that a layer
// costs one node instead of six (div, add, round, clamp, sub, mul).
struct FakeQuantFunction : public torch::autograd::Function<FakeQuantFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& scale, const torch::Tensor& zero_point,
                               int64_t min_int, int64_t max_int, bool clamp_ste) {
    torch::NoGradGuard no_grad;
    torch::Tensor t = x / scale;  // Brevitas order: divide, add the zero point, round
    t = t + zero_point;
    torch::Tensor r = torch::round(t);
    torch::Tensor q = torch::clamp(r, static_cast<double>(min_int), static_cast<double>(max_int));
    torch::Tensor y = (q - zero_point) * scale;
    ctx->save_for_backward({x, scale, zero_point, q});
    ctx->saved_data["min_int"] = min_int;
    ctx->saved_data["max_int"] = max_int;
    ctx->saved_data["clamp_ste"] = clamp_ste;
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& scale = saved[1];
    const torch::Tensor& zero_point = saved[2];
    const torch::Tensor& q = saved[3];
    const bool clamp_ste = ctx->saved_data["clamp_ste"].toBool();
    const double min_int = static_cast<double>(ctx->saved_data["min_int"].toInt());
    const double max_int = static_cast<double>(ctx->saved_data["max_int"].toInt());
    const torch::Tensor& g = grad_outputs[0];

    // Unclipped elements: the pre-clamp rounded value lies inside the range.
    torch::Tensor inside;
    if (!clamp_ste) {
      torch::Tensor r = torch::round(x / scale + zero_point);
      inside = (r >= min_int).logical_and_(r <= max_int);
    }

    torch::Tensor gx, gs, gz;
    if (ctx->needs_input_grad(0)) {
      gx = clamp_ste ? g.clone() : g * inside;
      gx = at::sum_to(gx, x.sizes());
    }
    if (ctx->needs_input_grad(1)) {
      // d y / d s = (q - z) + s * d q / d s, with d q / d s = -x / s^2 where q is not clipped.
      torch::Tensor d = q - zero_point;
      torch::Tensor ratio = x / scale;
      d = clamp_ste ? d - ratio : torch::where(inside, d - ratio, d);
      gs = at::sum_to(g * d, scale.sizes());
    }
    if (ctx->needs_input_grad(2)) {
      // d y / d z = s * (d q / d z - 1): 0 inside, -s where clipped.
      torch::Tensor d = clamp_ste ? torch::zeros_like(x)
                                  : torch::where(inside, torch::zeros_like(x), -scale.expand_as(x));
      gz = at::sum_to(g * d, zero_point.sizes());
    }
    return {gx, gs, gz, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

struct RoundSteFunction : public torch::autograd::Function<RoundSteFunction> {
  static torch::Tensor forward(AutogradContext*, const torch::Tensor& x) { return torch::round(x); }
  static tensor_list backward(AutogradContext*, tensor_list g) { return {g[0]}; }
};

torch::Tensor kth_smallest(const torch::Tensor& x, int64_t k) {
  const torch::Tensor flat = x.reshape({-1});
  const int64_t n = flat.numel();
  if (n == 0) throw ConfigError("cannot take a percentile of an empty tensor");
  k = std::min<int64_t>(std::max<int64_t>(k, 1), n);
  if (k == n) return std::get<0>(flat.max(0));  // same element and gradient as kthvalue(n)
  if (k == 1) return std::get<0>(flat.min(0));
  return std::get<0>(flat.kthvalue(k));
}

}  // namespace

torch::Tensor fake_quant(const torch::Tensor& x, const torch::Tensor& scale,
                         const torch::Tensor& zero_point, IntRange range, ClampGrad clamp_grad) {
  return FakeQuantFunction::apply(x, scale, zero_point, range.min_int, range.max_int,
                                  clamp_grad == ClampGrad::StraightThrough);
}

torch::Tensor int_codes(const torch::Tensor& x, const torch::Tensor& scale,
                        const torch::Tensor& zero_point, IntRange range) {
  torch::NoGradGuard no_grad;
  torch::Tensor t = x / scale;
  t = t + zero_point;
  return torch::clamp(torch::round(t), static_cast<double>(range.min_int),
                      static_cast<double>(range.max_int));
}

torch::Tensor round_ste(const torch::Tensor& x) { return RoundSteFunction::apply(x); }

torch::Tensor kth_percentile(const torch::Tensor& x, double q) {
  const double n = static_cast<double>(x.numel());
  return kth_smallest(x, static_cast<int64_t>(std::floor(0.01 * q * n + 0.5)));
}

torch::Tensor kth_low_percentile(const torch::Tensor& x, double q) {
  const double n = static_cast<double>(x.numel());
  return kth_smallest(x, static_cast<int64_t>(std::ceil(0.01 * q * n)));
}

torch::Tensor QuantTensor::int_codes() const {
  if (!is_quant()) throw ConfigError("int_codes() called on a tensor without quantization metadata");
  torch::NoGradGuard no_grad;
  return torch::round(value / scale + zero_point);
}

}  // namespace qnn
