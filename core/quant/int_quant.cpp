// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/quant/int_quant.h"

#include <ATen/ExpandUtils.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "core/quant/fake_quant_kernel.h"
#include "core/quant/kth_select.h"
#include "core/quant/quant_tensor.h"

namespace qnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Forward and backward of fake quantization in one autograd node, so that a layer
// costs one node instead of six (div, add, round, clamp, sub, mul). For CPU float32
// tensors with a per-tensor or per-row (dim 0) scale the element-wise work runs in the
// fused kernels of fake_quant_kernel.cpp (one pass each way, bit-identical to the
// op-by-op formula); anything else takes the op-by-op path below. Only x, scale and
// zero_point are saved: the backward recomputes q from them, which is cheaper than
// keeping q (a full tensor) alive between forward and backward.
// With `tanh_input` (issue 11, tanh_fake_quant) the node starts with torch::tanh of its
// input and its backward ends with tanh's gradient, inside the same pass on the fused
// path; it saves the tanh output instead of its input.
struct FakeQuantFunction : public torch::autograd::Function<FakeQuantFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& scale, const torch::Tensor& zero_point,
                               int64_t min_int, int64_t max_int, bool clamp_ste, bool tanh_input) {
    torch::NoGradGuard no_grad;
    const torch::Tensor x = tanh_input ? torch::tanh(input) : input;
    const double lo = static_cast<double>(min_int), hi = static_cast<double>(max_int);
    torch::Tensor y;
    if (detail::fused_fake_quant_supported(x, scale, zero_point)) {
      y = detail::fused_fake_quant_forward(x, scale, zero_point, lo, hi);
    } else {
      torch::Tensor t = x / scale;  // Brevitas order: divide, add the zero point, round
      t = t + zero_point;
      torch::Tensor q = torch::clamp(torch::round(t), lo, hi);
      y = (q - zero_point) * scale;
    }
    ctx->save_for_backward({x, scale, zero_point});
    ctx->saved_data["min_int"] = min_int;
    ctx->saved_data["max_int"] = max_int;
    ctx->saved_data["clamp_ste"] = clamp_ste;
    ctx->saved_data["tanh_input"] = tanh_input;
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& scale = saved[1];
    const torch::Tensor& zero_point = saved[2];
    const bool clamp_ste = ctx->saved_data["clamp_ste"].toBool();
    const bool tanh_input = ctx->saved_data["tanh_input"].toBool();
    const double min_int = static_cast<double>(ctx->saved_data["min_int"].toInt());
    const double max_int = static_cast<double>(ctx->saved_data["max_int"].toInt());
    const torch::Tensor& g = grad_outputs[0];
    const bool need_gx = ctx->needs_input_grad(0), need_gs = ctx->needs_input_grad(1),
               need_gz = ctx->needs_input_grad(2);

    torch::Tensor gx, gs, gz;
    if (detail::fused_fake_quant_supported(x, scale, zero_point) && g.defined() &&
        g.device() == x.device() && g.scalar_type() == x.scalar_type() && g.is_contiguous() &&
        g.sizes() == x.sizes()) {
      // tanh_input comes with the masked clamp only (tanh_fake_quant).
      detail::FakeQuantReducedGrads t = detail::fused_fake_quant_backward_reduced(
          x, g, scale, zero_point, min_int, max_int, !clamp_ste, need_gx, need_gs, need_gz, tanh_input);
      if (need_gx) gx = clamp_ste ? g : t.gx;
      if (need_gs) gs = t.gs.reshape(scale.sizes());
      if (need_gz) gz = t.gz.reshape(zero_point.sizes());
      return {gx, gs, gz, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }

    // Op-by-op path. Unclipped elements: the pre-clamp rounded value lies inside the range.
    const torch::Tensor r = torch::round(x / scale + zero_point);
    const torch::Tensor q = torch::clamp(r, min_int, max_int);
    torch::Tensor inside;
    if (!clamp_ste) inside = (r >= min_int).logical_and_(r <= max_int);
    if (need_gx) {
      gx = clamp_ste ? g.clone() : g * inside;
      gx = at::sum_to(gx, x.sizes());
      if (tanh_input) gx = at::tanh_backward(gx, x);
    }
    if (need_gs) {
      // d y / d s = (q - z) + s * d q / d s, with d q / d s = -x / s^2 where q is not clipped.
      torch::Tensor d = q - zero_point;
      torch::Tensor ratio = x / scale;
      d = clamp_ste ? d - ratio : torch::where(inside, d - ratio, d);
      gs = at::sum_to(g * d, scale.sizes());
    }
    if (need_gz) {
      // d y / d z = s * (d q / d z - 1): 0 inside, -s where clipped.
      torch::Tensor d = clamp_ste ? torch::zeros_like(x)
                                  : torch::where(inside, torch::zeros_like(x), -scale.expand_as(x));
      gz = at::sum_to(g * d, zero_point.sizes());
    }
    return {gx, gs, gz, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

struct RoundSteFunction : public torch::autograd::Function<RoundSteFunction> {
  static torch::Tensor forward(AutogradContext*, const torch::Tensor& x) { return torch::round(x); }
  static tensor_list backward(AutogradContext*, tensor_list g) { return {g[0]}; }
};

// The selected element of a k-th-smallest statistic as a 0-dim tensor, with the
// gradient of the op-by-op form (x.abs() when `abs`, then kthvalue / max / min) for
// that element: zeros with the incoming gradient at `index`, times sgn(x) when `abs`.
// With ties `index` is the first tied element, which may differ from kthvalue's pick
// (kth_smallest below).
struct SelectedElementFunction : public torch::autograd::Function<SelectedElementFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, int64_t index, bool abs) {
    ctx->save_for_backward({x});
    ctx->saved_data["index"] = index;
    ctx->saved_data["abs"] = abs;
    torch::NoGradGuard no_grad;
    const torch::Tensor e = x.reshape({-1}).select(0, index).clone();
    return abs ? e.abs() : e;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list g) {
    const torch::Tensor x = ctx->get_saved_variables()[0].contiguous();
    const int64_t index = ctx->saved_data["index"].toInt();
    const bool abs = ctx->saved_data["abs"].toBool();
    torch::Tensor gx = torch::empty_like(x, torch::MemoryFormat::Contiguous);
    const float* xp = x.data_ptr<float>();
    float* o = gx.data_ptr<float>();
    const int64_t n = x.numel();
    // sgn as LibTorch computes it for float: (0 < a) - (a < 0), so +0 for +-0.
    const auto sgn = [](float a) { return float(0.0f < a) - float(a < 0.0f); };
    // 0 * sgn(x) is -0 where x < 0 and +0 elsewhere (also for NaN, whose sgn is 0): the
    // same bits, written without a multiply and split over LibTorch's threads (this
    // full-size tensor is written once per quantizer and step in the statistics phase).
    at::parallel_for(0, n, 32768, [&](int64_t begin, int64_t end) {
      if (abs) {
        for (int64_t j = begin; j < end; ++j) o[j] = xp[j] < 0.0f ? -0.0f : 0.0f;
      } else {
        std::fill(o + begin, o + end, 0.0f);
      }
    });
    const float gv = g[0].item<float>();
    o[index] = abs ? gv * sgn(xp[index]) : gv;
    return {gx, torch::Tensor(), torch::Tensor()};
  }
};

// k-th smallest of x (of |x| when `abs`), flattened. A one-pass scan (kth_select.cpp)
// finds the value when k is near either end. Its element takes the gradient; when
// several elements hold that value (ties, frequent on quantized data) the first in
// memory order does (at::kthvalue picks one by its quickselect's path instead: the
// value is the same, the gradient lands on another of the equal elements; issue 13
// makes that choice free, and this one costs no second pass). A value of 0 without
// `abs` is left to the op-by-op path because +0 and -0 tie with different bits.
// Otherwise: max for k == n, min for k == 1, else kthvalue, on x or x.abs().
torch::Tensor kth_smallest(const torch::Tensor& x, int64_t k, bool abs) {
  const int64_t n = x.numel();
  if (n == 0) throw ConfigError("cannot take a percentile of an empty tensor");
  k = std::min<int64_t>(std::max<int64_t>(k, 1), n);
  const bool need_grad = x.requires_grad() && torch::GradMode::is_enabled();
  const detail::KthScan s = detail::kth_scan(x, k, abs);
  const bool unambiguous = s.ok && (s.count == 1 || abs || s.value != 0.0f);
  if (unambiguous && need_grad) return SelectedElementFunction::apply(x, s.index, abs);
  if (unambiguous) return torch::scalar_tensor(s.value, x.options().requires_grad(false));
  const torch::Tensor flat = (abs ? x.abs() : x).reshape({-1});
  if (k == n) return std::get<0>(flat.max(0));  // same element and gradient as kthvalue(n)
  if (k == 1) return std::get<0>(flat.min(0));
  return std::get<0>(flat.kthvalue(k));
}

}  // namespace

torch::Tensor fake_quant(const torch::Tensor& x, const torch::Tensor& scale,
                         const torch::Tensor& zero_point, IntRange range, ClampGrad clamp_grad) {
  return FakeQuantFunction::apply(x, scale, zero_point, range.min_int, range.max_int,
                                  clamp_grad == ClampGrad::StraightThrough, false);
}

torch::Tensor tanh_fake_quant(const torch::Tensor& x, const torch::Tensor& scale,
                              const torch::Tensor& zero_point, IntRange range) {
  // One node only where its tanh gradient has LibTorch's bits; else the two nodes.
  if (!detail::tanh_backward_fusable())
    return FakeQuantFunction::apply(torch::tanh(x), scale, zero_point, range.min_int, range.max_int, false, false);
  return FakeQuantFunction::apply(x, scale, zero_point, range.min_int, range.max_int, false, true);
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
  return kth_smallest(x, static_cast<int64_t>(std::floor(0.01 * q * n + 0.5)), false);
}

torch::Tensor kth_abs_percentile(const torch::Tensor& x, double q) {
  const double n = static_cast<double>(x.numel());
  return kth_smallest(x, static_cast<int64_t>(std::floor(0.01 * q * n + 0.5)), true);
}

torch::Tensor kth_low_percentile(const torch::Tensor& x, double q) {
  const double n = static_cast<double>(x.numel());
  return kth_smallest(x, static_cast<int64_t>(std::ceil(0.01 * q * n)), false);
}

torch::Tensor QuantTensor::int_codes() const {
  if (!is_quant()) throw ConfigError("int_codes() called on a tensor without quantization metadata");
  torch::NoGradGuard no_grad;
  return torch::round(value / scale + zero_point);
}

}  // namespace qnn
