// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/quant/quantizers.h"

#include <cmath>

#include "core/dist/data_parallel.h"
#include "core/errors.h"
#include "core/quant/kth_select.h"

namespace qnn {
namespace {

constexpr double kScalingMinVal = 1e-10;

// Brevitas abs_binary_sign_grad: |x| whose gradient is sign(x) with sign(0) = +1.
struct AbsBinarySignGrad : public torch::autograd::Function<AbsBinarySignGrad> {
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

// finish_scale without the power-of-two restriction as one autograd node on a
// one-element `raw`: s = |clamp_min(raw / threshold, 1e-10)| in float32, op for op as
// the three-node form (div, clamp_min, abs_binary_sign_grad). Backward, as those
// nodes compute it: g * (b < 0 ? -1 : 1), then 0 where a < 1e-10 (clamp_min), then
// divided by the threshold, with a = raw / threshold and b = clamp_min(a).
struct ScaleFromRawFunction : public torch::autograd::Function<ScaleFromRawFunction> {
  static float a_of(const torch::Tensor& raw, double threshold) {
    return raw.item<float>() / static_cast<float>(threshold);
  }
  static float clamp_of(float a) {
    const float lo = static_cast<float>(kScalingMinVal);
    return a < lo ? lo : a;  // std::max(a, lo): keeps a NaN, like at::clamp_min
  }
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& raw,
                               double threshold) {
    ctx->save_for_backward({raw});
    ctx->saved_data["threshold"] = threshold;
    return torch::full(raw.sizes(), std::fabs(clamp_of(a_of(raw, threshold))),
                       raw.options().requires_grad(false));
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list g) {
    const torch::Tensor raw = ctx->get_saved_variables()[0];
    const double threshold = ctx->saved_data["threshold"].toDouble();
    const float a = a_of(raw, threshold);
    const float b = clamp_of(a);
    const float gb = g[0].item<float>() * (b < 0.0f ? -1.0f : 1.0f);
    const float ga = a >= static_cast<float>(kScalingMinVal) ? gb : 0.0f;
    return {torch::full(raw.sizes(), ga / static_cast<float>(threshold), g[0].options()),
            torch::Tensor()};
  }
};

// 2^ceil(log2(s)) with a straight-through ceil: the power-of-two restriction of the
// fixed-point presets.
torch::Tensor restrict_power_of_two(const torch::Tensor& s) {
  torch::Tensor l = torch::log2(s);
  torch::Tensor c = l + (torch::ceil(l) - l).detach();
  return torch::pow(2.0, c);
}

// The per-tensor weight scale clamp_min(max|W|, 1e-10) / threshold in one autograd
// node (issue 11: the abs-max, clamp_min and division nodes, with their scalar
// conversions, were about 25 small LibTorch ops per weight quantizer and step).
// Forward and gradient op for op as those three nodes compute them in float32:
// forward m' = max(m, 1e-10f), s = m' / threshold; backward ga = g / threshold
// (DivBackward1), gm = m >= 1e-10f ? ga : 0 (ClampMinBackward0), then the gradient of
// weight.abs().max(): LibTorch's evenly_distribute_backward puts gm / (number of
// elements attaining the max) on those elements and 0 elsewhere, AbsBackward
// multiplies by sgn(W). `max_abs` and `count` come from abs_max_scan.
struct AbsMaxScaleFunction : public torch::autograd::Function<AbsMaxScaleFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& w,
                               double max_abs, int64_t count, double threshold) {
    ctx->save_for_backward({w});
    ctx->saved_data["max_abs"] = max_abs;
    ctx->saved_data["count"] = count;
    ctx->saved_data["threshold"] = threshold;
    const float m = static_cast<float>(max_abs);
    const float lo = static_cast<float>(kScalingMinVal);
    const float clamped = m < lo ? lo : m;
    return torch::scalar_tensor(clamped / static_cast<float>(threshold), w.options().requires_grad(false));
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list g) {
    const torch::Tensor w = ctx->get_saved_variables()[0].contiguous();
    const float m = static_cast<float>(ctx->saved_data["max_abs"].toDouble());
    const float count = static_cast<float>(ctx->saved_data["count"].toInt());
    const float threshold = static_cast<float>(ctx->saved_data["threshold"].toDouble());
    const float ga = g[0].item<float>() / threshold;
    const float gm = m >= static_cast<float>(kScalingMinVal) ? ga : 0.0f;
    const float share = gm / count;  // grad / mask.sum(), in float
    torch::Tensor gw = torch::empty_like(w, torch::MemoryFormat::Contiguous);
    const float* wp = w.data_ptr<float>();
    float* o = gw.data_ptr<float>();
    for (int64_t i = 0, n = w.numel(); i < n; ++i) {
      const float sgn = float(0.0f < wp[i]) - float(wp[i] < 0.0f);  // LibTorch sgn: +0 for +-0
      o[i] = (std::fabs(wp[i]) == m ? share : 0.0f) * sgn;
    }
    return {gw, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// clamp_min(weight.abs().max(), 1e-10) / threshold, as one pass and one autograd node
// when the weight allows it.
torch::Tensor abs_max_scale(const torch::Tensor& weight, double threshold) {
  const detail::AbsMaxScan s = detail::abs_max_scan(weight);
  if (!s.ok) return torch::clamp_min(weight.abs().max(), kScalingMinVal) / threshold;
  return AbsMaxScaleFunction::apply(weight, static_cast<double>(s.value), s.count, threshold);
}

torch::Tensor scalar_like(const torch::Tensor& ref, double v) {
  return torch::full({}, v, ref.options().dtype(torch::kFloat32).requires_grad(false));
}

}  // namespace

torch::Tensor power_of_two_scale(const torch::Tensor& threshold, double int_threshold) {
  torch::NoGradGuard no_grad;
  // The ops of WeightQuantizerImpl::forward and ActQuantizerImpl::finish_scale; their
  // abs is the identity on these positive values.
  return restrict_power_of_two(torch::clamp_min(threshold / int_threshold, kScalingMinVal));
}

// ---------------------------------------------------------------- weights

WeightQuantizerImpl::WeightQuantizerImpl(QuantSpec spec, int64_t out_channels)
    : m_spec(std::move(spec)), m_out_channels(std::max<int64_t>(out_channels, 1)) {
  if (m_spec.role != QuantRole::Weight)
    throw ConfigError(m_spec.preset + " is not a weight quantizer");
  m_spec.validate("weight quantizer");
  reset();
}

void WeightQuantizerImpl::reset() {
  if (m_spec.scaling != ScalingKind::Parameter) return;
  const double init = std::max(std::fabs(m_spec.min_val), std::fabs(m_spec.max_val));
  value = register_parameter("value", m_spec.per_channel ? torch::full({m_out_channels}, init)
                                                         : torch::full({}, init));
}

QuantTensor WeightQuantizerImpl::forward(const torch::Tensor& weight) {
  if (!m_enabled) return QuantTensor(weight);
  const IntRange range = m_spec.range();
  const double threshold = m_spec.int_threshold();
  torch::Tensor scale, zero_point;
  if (m_spec.scaling == ScalingKind::Parameter) {
    torch::Tensor raw = value;
    if (m_spec.per_channel) {
      if (value.size(0) != weight.size(0))
        throw ConfigError(m_spec.preset + ": " + std::to_string(value.size(0)) +
                          " learned channel scales for a weight of " + std::to_string(weight.size(0)) +
                          " output channels");
      std::vector<int64_t> shape(weight.dim(), 1);
      shape[0] = weight.size(0);
      raw = value.view(shape);
    }
    scale = AbsBinarySignGrad::apply(torch::clamp_min(raw / threshold, kScalingMinVal));
    if (m_spec.power_of_two) scale = restrict_power_of_two(scale);
    zero_point = scalar_like(weight, 0.0);
    if (m_spec.binary) {
      const torch::Tensor sign = torch::where(weight >= 0, torch::ones_like(weight), -torch::ones_like(weight));
      const torch::Tensor ste = weight + (sign - weight).detach();
      return QuantTensor(ste * scale, scale, zero_point, 1, true, is_training());
    }
  } else if (m_spec.shifted) {
    // Range of [min(min W, 0), max W] over the tensor; zero point from the negative part.
    torch::Tensor mn = torch::clamp_max(weight.min(), 0.0);
    torch::Tensor mx = weight.max();
    scale = torch::clamp_min((mx - mn) / threshold, kScalingMinVal);
    if (m_spec.power_of_two) scale = restrict_power_of_two(scale);
    torch::Tensor z = round_ste((-mn) / scale + static_cast<double>(range.min_int));
    zero_point = torch::clamp(z, static_cast<double>(range.min_int), static_cast<double>(range.max_int));
  } else {
    if (m_spec.per_channel) {
      torch::Tensor stat = std::get<0>(weight.abs().reshape({weight.size(0), -1}).max(1));
      std::vector<int64_t> shape(weight.dim(), 1);
      shape[0] = weight.size(0);
      stat = stat.view(shape);
      scale = torch::clamp_min(stat, kScalingMinVal) / threshold;
    } else {
      scale = abs_max_scale(weight, threshold);
    }
    if (m_spec.power_of_two) scale = restrict_power_of_two(scale);
    zero_point = scalar_like(weight, 0.0);
  }
  torch::Tensor y = fake_quant(weight, scale, zero_point, range,
                               m_spec.scaling == ScalingKind::Parameter ? ClampGrad::Masked
                                                                        : ClampGrad::StraightThrough);
  return QuantTensor(y, scale, zero_point, m_spec.bit_width, m_spec.is_signed, is_training());
}

// ---------------------------------------------------------------- activations

ActQuantizerImpl::ActQuantizerImpl(QuantSpec spec) : m_spec(std::move(spec)) {
  if (m_spec.role != QuantRole::Activation)
    throw ConfigError(m_spec.preset + " is not an activation quantizer");
  m_spec.validate("activation quantizer");
  reset();
}

void ActQuantizerImpl::reset() {
  const double init = m_spec.scaling == ScalingKind::Parameter
                          ? std::max(std::fabs(m_spec.min_val), std::fabs(m_spec.max_val))
                          : 1.0;
  scaling_buffer = register_buffer("scaling_buffer", torch::ones({}));
  value = register_parameter("value", torch::full({}, init));
  counter_buffer = register_buffer("counter", torch::zeros({}, torch::kInt64));
  if (m_spec.shifted) {
    zero_point_buffer = register_buffer("zero_point_buffer", torch::zeros({}));
    // A learned scale (MinMaxInit) starts its learned zero point from min(min_val, 0),
    // as the scale starts from the range; statistics-scaled quantizers overwrite it.
    const double z0 = m_spec.scaling == ScalingKind::Parameter ? std::min(m_spec.min_val, 0.0) : 0.0;
    zero_point_value = register_parameter("zero_point_value", torch::full({}, z0));
  }
}

int64_t ActQuantizerImpl::counter() const { return counter_buffer.item<int64_t>(); }

bool ActQuantizerImpl::learned_phase() const {
  return m_spec.scaling == ScalingKind::Parameter || counter() > m_spec.collect_stats_steps;
}

void ActQuantizerImpl::load_threshold(double threshold) {
  torch::NoGradGuard no_grad;
  value.fill_(threshold);
  scaling_buffer.fill_(threshold);
  counter_buffer.fill_(static_cast<int64_t>(m_spec.collect_stats_steps) + 1);
}

torch::Tensor ActQuantizerImpl::finish_scale(const torch::Tensor& raw) const {
  if (!m_spec.power_of_two && raw.numel() == 1 && raw.device().is_cpu() &&
      raw.scalar_type() == torch::kFloat32)
    return ScaleFromRawFunction::apply(raw, m_spec.int_threshold());
  torch::Tensor s = torch::clamp_min(raw / m_spec.int_threshold(), kScalingMinVal);
  if (m_spec.power_of_two) s = restrict_power_of_two(s);
  return AbsBinarySignGrad::apply(s);
}

torch::Tensor ActQuantizerImpl::eval_scale() const {
  torch::NoGradGuard no_grad;
  const bool use_buffer =
      m_spec.scaling == ScalingKind::RuntimeStats && counter() <= m_spec.collect_stats_steps;
  return finish_scale(use_buffer ? scaling_buffer : value);
}

torch::Tensor ActQuantizerImpl::scale_for_call(const torch::Tensor& x) {
  if (m_spec.scaling == ScalingKind::Parameter) return finish_scale(value);
  const int64_t c = counter();
  const int64_t steps = m_spec.collect_stats_steps;
  if (!is_training()) return finish_scale(c <= steps ? scaling_buffer : value);
  if (c < steps) {
    torch::Tensor stat;
    if (m_spec.shifted) {
      // Global-batch percentiles in data-parallel training (core/dist/data_parallel.h).
      torch::Tensor hi = percentile_statistic(x, m_spec.high_percentile_q, PercentileKind::High);
      torch::Tensor lo =
          torch::clamp_max(percentile_statistic(x, m_spec.low_percentile_q, PercentileKind::Low), 0.0);
      stat = (hi - lo).abs();
    } else {
      stat = percentile_statistic(x, m_spec.high_percentile_q, PercentileKind::AbsHigh);
    }
    stat = stat + 0.0 * value;  // `value` takes part with an exact zero gradient, as in Brevitas
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor s = stat.detach();
      if (c == 0)
        scaling_buffer.mul_(s);
      else
        scaling_buffer.mul_(1.0 - m_spec.momentum).add_(m_spec.momentum * s);
    }
    return finish_scale(stat);
  }
  if (c == steps) {
    torch::NoGradGuard no_grad;
    value.copy_(scaling_buffer);
  }
  return finish_scale(value);
}

torch::Tensor ActQuantizerImpl::zero_point_for_call(const torch::Tensor& x,
                                                    const torch::Tensor& scale, bool advance) {
  // ParameterFromRuntimeZeroPoint: stat = min(low percentile of x, 0), same phases as the scale.
  const IntRange range = m_spec.range();
  const int64_t c = counter();
  const int64_t steps = m_spec.collect_stats_steps;
  torch::Tensor stat;
  if (m_spec.scaling == ScalingKind::Parameter) {
    // A learned scale has a learned zero point (its state from the start: an imported
    // file's zero point stays until training moves it).
    stat = zero_point_value;
  } else if (!is_training()) {
    stat = c <= steps ? zero_point_buffer : zero_point_value;
  } else if (c < steps) {
    stat = torch::clamp_max(percentile_statistic(x, m_spec.low_percentile_q, PercentileKind::Low), 0.0);
    if (advance) {
      torch::NoGradGuard no_grad;
      const torch::Tensor s = stat.detach();
      if (c == 0)
        zero_point_buffer.copy_(s);
      else
        zero_point_buffer.mul_(1.0 - m_spec.momentum).add_(m_spec.momentum * s);
    }
  } else {
    if (c == steps && advance) {
      torch::NoGradGuard no_grad;
      zero_point_value.copy_(zero_point_buffer);
    }
    stat = zero_point_value;
  }
  torch::Tensor z = round_ste((-stat) / scale + static_cast<double>(range.min_int));
  return torch::clamp(z, static_cast<double>(range.min_int), static_cast<double>(range.max_int));
}

QuantTensor ActQuantizerImpl::forward(const torch::Tensor& x) {
  if (!m_enabled) return QuantTensor(x);
  const int64_t c_before = m_spec.scaling == ScalingKind::RuntimeStats ? counter() : 0;
  torch::Tensor scale = scale_for_call(x);
  torch::Tensor zero_point =
      m_spec.shifted ? zero_point_for_call(x, scale, true) : torch::zeros({}, x.options());
  if (m_spec.scaling == ScalingKind::RuntimeStats && is_training() &&
      c_before <= m_spec.collect_stats_steps) {
    torch::NoGradGuard no_grad;
    counter_buffer.add_(1);
  }
  if (m_spec.binary) {
    // ClampedBinaryQuant: clamp to [-s, s] (gradient to x inside, to s outside), then a
    // straight-through sign.
    // Brevitas TensorClamp: torch.where, so x keeps its whole gradient at |x| == s.
    const torch::Tensor xc = torch::where(x > scale, scale, torch::where(x < -scale, -scale, x));
    const torch::Tensor sign = torch::where(xc >= 0, torch::ones_like(xc), -torch::ones_like(xc));
    const torch::Tensor ste = xc + (sign - xc).detach();
    return QuantTensor(ste * scale, scale, zero_point, 1, true, is_training());
  }
  const IntRange range = m_spec.range();
  torch::Tensor y = fake_quant(x, scale, zero_point, range, ClampGrad::Masked);
  QuantTensor out(y, scale, zero_point, m_spec.bit_width, m_spec.is_signed, is_training());
  if (torch::GradMode::is_enabled() && !x.requires_grad() &&
      (scale.requires_grad() || zero_point.requires_grad()) && scale.numel() == 1 &&
      zero_point.numel() == 1) {
    auto src = std::make_shared<ScaleGradSource>();
    src->of = y;
    src->input = x;
    src->scale = scale;
    src->zero_point = zero_point;
    src->min_int = static_cast<double>(range.min_int);
    src->max_int = static_cast<double>(range.max_int);
    src->of_version = y._version();
    src->input_version = x._version();
    out.scale_grad_source = std::move(src);
  }
  return out;
}

QuantTensor ActQuantizerImpl::forward_tanh(const torch::Tensor& x) {
  const bool runtime_stats = m_spec.scaling == ScalingKind::RuntimeStats;
  const bool stats_call = runtime_stats && is_training() && counter() < m_spec.collect_stats_steps;
  // forward() attaches a ScaleGradSource when x needs no gradient; keep that path.
  const bool grad_follows = !torch::GradMode::is_enabled() || x.requires_grad();
  if (!m_enabled || m_spec.binary || m_spec.shifted || stats_call || !grad_follows)
    return forward(torch::tanh(x));
  // forward() step for step; scale_for_call reads its input only in the statistics phase.
  const int64_t c_before = runtime_stats ? counter() : 0;
  torch::Tensor scale = scale_for_call(x);
  torch::Tensor zero_point = torch::zeros({}, x.options());
  if (runtime_stats && is_training() && c_before <= m_spec.collect_stats_steps) {
    torch::NoGradGuard no_grad;
    counter_buffer.add_(1);
  }
  torch::Tensor y = tanh_fake_quant(x, scale, zero_point, m_spec.range());
  return QuantTensor(y, scale, zero_point, m_spec.bit_width, m_spec.is_signed, is_training());
}

// ---------------------------------------------------------------- biases

QuantTensor quantize_bias(const torch::Tensor& bias, const torch::Tensor& input_scale,
                          const torch::Tensor& weight_scale, const QuantSpec& spec,
                          const std::string& layer) {
  if (!input_scale.defined())
    throw ConfigError(layer + ": " + spec.preset +
                      " needs the input scale, but the input of this layer is not quantized; "
                      "put a QuantIdentity before it or set return_quant_tensor on the layer "
                      "that feeds it (Brevitas: \"Input scale required\")");
  torch::Tensor scale = (input_scale * weight_scale).reshape({-1});
  torch::Tensor zero_point = torch::zeros({}, bias.options());
  torch::Tensor y = fake_quant(bias, scale, zero_point, spec.range(), ClampGrad::Masked);
  return QuantTensor(y, scale, zero_point, spec.bit_width, true, false);
}

}  // namespace qnn
