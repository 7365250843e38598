// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/trunc_pool.h"

#include <map>
#include <mutex>
#include <sstream>
#include <utility>

#include "core/errors.h"
#include "core/nn/trunc_quant_kernel.h"
#include "core/quant/int_quant.h"
#include "core/quant/quant_spec.h"

namespace qnn {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Brevitas floor_ste: floor forward, identity backward.
struct FloorSteFunction : public torch::autograd::Function<FloorSteFunction> {
  static torch::Tensor forward(AutogradContext*, const torch::Tensor& x) { return torch::floor(x); }
  static tensor_list backward(AutogradContext*, tensor_list g) { return {g[0]}; }
};

void check_bit_width(const std::string& layer, int64_t bits) {
  if (bits < 2 || bits > 16)
    throw ConfigError(layer + ": output bit_width must be in 2..16, got " + std::to_string(bits));
}

void check_input(const std::string& layer, const QuantTensor& x, bool return_quant_tensor) {
  if (x.value.dim() != 4) {
    std::ostringstream s;
    s << layer << ": expects an input [N, C, H, W], got " << x.value.sizes();
    throw ConfigError(s.str());
  }
  if (!x.is_quant() && return_quant_tensor)
    throw ConfigError(layer +
                      ": a truncating average pool needs a quantized input (QuantTensor); put a quantized "
                      "activation before it or turn return_quant_tensor off to average float values "
                      "(Brevitas fails here with \"QuantLayer is not correctly configured\")");
}

// Brevitas max_acc_bit_width_avg_pool2d, evaluated in float32 as Brevitas does:
// ceil(log2((2^b - 1) * n)). Remembered per (b, n): the tensor form is eight small
// LibTorch ops, and a pool runs it at every forward (issue 11).
int64_t pool_acc_bit_width(int64_t in_bits, int64_t n) {
  static std::mutex mutex;
  static std::map<std::pair<int64_t, int64_t>, int64_t> known;
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = known.find({in_bits, n});
    if (it != known.end()) return it->second;
  }
  int64_t bits = 0;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor max_uint =
        torch::pow(torch::tensor(2.0f), torch::tensor(static_cast<float>(in_bits))) - 1.0f;
    bits = static_cast<int64_t>(torch::ceil(torch::log2(max_uint * static_cast<float>(n))).item<float>());
  }
  std::lock_guard<std::mutex> lock(mutex);
  known.emplace(std::make_pair(in_bits, n), bits);
  return bits;
}

// The pooled QuantTensor of Brevitas's avg_pool2d / adaptive_avg_pool2d handlers.
QuantTensor pooled(const QuantTensor& x, torch::Tensor mean, int64_t n) {
  return QuantTensor(std::move(mean), x.scale / static_cast<double>(n), x.zero_point,
                     pool_acc_bit_width(x.bit_width, n), x.is_signed, x.training);
}

}  // namespace

QuantTensor trunc_quant(const QuantTensor& acc, int64_t bit_width, TruncRounding rounding, bool training,
                        TruncPoolTrace* trace) {
  const double trunc_scale_f = std::ldexp(1.0, static_cast<int>(acc.bit_width - bit_width));
  if (!trace && detail::trunc_quant_fused_supported(acc.value, acc.scale, acc.zero_point)) {
    // The same numbers in one autograd node (core/nn/trunc_quant_kernel.h).
    const IntRange r = int_range(static_cast<int>(bit_width), acc.is_signed, false);
    const torch::Tensor y = detail::trunc_quant_fused(
        acc.value, acc.scale, acc.zero_point, trunc_scale_f, rounding == TruncRounding::Floor,
        static_cast<double>(r.min_int), static_cast<double>(r.max_int));
    return QuantTensor(y, acc.scale * trunc_scale_f, acc.zero_point / trunc_scale_f, bit_width, acc.is_signed,
                       training);
  }
  // Brevitas TruncIntQuant.forward, op by op.
  torch::Tensor y = acc.value / acc.scale;
  y = y + acc.zero_point;
  y = round_ste(y);  // removes float error: the window sums of the codes
  const double trunc_scale = std::ldexp(1.0, static_cast<int>(acc.bit_width - bit_width));
  if (trace) {
    trace->acc_codes = y.detach().clone();
    trace->acc_bit_width = acc.bit_width;
    trace->trunc_scale = trunc_scale;
  }
  y = y / trunc_scale;
  y = rounding == TruncRounding::Round ? round_ste(y) : FloorSteFunction::apply(y);
  const IntRange r = int_range(static_cast<int>(bit_width), acc.is_signed, false);
  y = torch::clamp(y, static_cast<double>(r.min_int), static_cast<double>(r.max_int));  // masked gradient
  const torch::Tensor out_scale = acc.scale * trunc_scale;
  const torch::Tensor out_zero_point = acc.zero_point / trunc_scale;
  y = y - out_zero_point;
  y = y * out_scale;
  return QuantTensor(y, out_scale, out_zero_point, bit_width, acc.is_signed, training);
}

// ---------------------------------------------------------------- TruncAvgPool2d

TruncAvgPool2dImpl::TruncAvgPool2dImpl(TruncAvgPool2dOptions o) : options(std::move(o)) { reset(); }

void TruncAvgPool2dImpl::reset() {
  for (int64_t v : *options.kernel_size())
    if (v <= 0) throw ConfigError(layer_name + ": kernel_size must be positive");
  for (int64_t v : *options.stride())
    if (v <= 0) throw ConfigError(layer_name + ": stride must be positive");
  check_bit_width(layer_name, options.bit_width());
}

QuantTensor TruncAvgPool2dImpl::forward(const QuantTensor& x, TruncPoolTrace* trace) {
  check_input(layer_name, x, options.return_quant_tensor());
  const auto k = *options.kernel_size();
  if (x.value.size(2) < k[0] || x.value.size(3) < k[1]) {
    std::ostringstream s;
    s << layer_name << ": input " << x.value.sizes() << " is smaller than the kernel [" << k[0] << ", " << k[1]
      << "]";
    throw ConfigError(s.str());
  }
  torch::Tensor mean = torch::avg_pool2d(x.value, k, *options.stride());
  if (!x.is_quant()) return QuantTensor(mean);
  const int64_t n = k[0] * k[1];
  if (trace) trace->avg_scaling = n;
  QuantTensor y = trunc_quant(pooled(x, mean, n), options.bit_width(), options.rounding(), is_training(), trace);
  return options.return_quant_tensor() ? y : y.dequantized();
}

// ---------------------------------------------------------------- TruncAdaptiveAvgPool2d

TruncAdaptiveAvgPool2dImpl::TruncAdaptiveAvgPool2dImpl(TruncAdaptiveAvgPool2dOptions o) : options(std::move(o)) {
  reset();
}

void TruncAdaptiveAvgPool2dImpl::reset() {
  for (int64_t v : *options.output_size())
    if (v <= 0) throw ConfigError(layer_name + ": output_size must be positive");
  check_bit_width(layer_name, options.bit_width());
}

std::pair<int64_t, int64_t> TruncAdaptiveAvgPool2dImpl::derived_window(int64_t in, int64_t out) {
  const int64_t stride = in / out;
  return {in - (out - 1) * stride, stride};
}

QuantTensor TruncAdaptiveAvgPool2dImpl::forward(const QuantTensor& x, TruncPoolTrace* trace) {
  check_input(layer_name, x, options.return_quant_tensor());
  const auto out = *options.output_size();
  if (x.value.size(2) < out[0] || x.value.size(3) < out[1]) {
    std::ostringstream s;
    s << layer_name << ": input " << x.value.sizes() << " is smaller than the output size [" << out[0] << ", "
      << out[1] << "]";
    throw ConfigError(s.str());
  }
  torch::Tensor mean = torch::adaptive_avg_pool2d(x.value, out);
  if (!x.is_quant()) return QuantTensor(mean);
  const int64_t n = derived_window(x.value.size(2), out[0]).first * derived_window(x.value.size(3), out[1]).first;
  if (trace) trace->avg_scaling = n;
  QuantTensor y = trunc_quant(pooled(x, mean, n), options.bit_width(), options.rounding(), is_training(), trace);
  return options.return_quant_tensor() ? y : y.dequantized();
}

}  // namespace qnn
