// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/quant_wbiol.h"

#include "core/nn/linear_kernel.h"

#include <cmath>
#include <sstream>

#include "core/errors.h"
#include "core/nn/scale_adjoint.h"

namespace qnn {

int64_t accumulator_bit_width(int64_t in_bits, int64_t w_bits, int64_t fan_in) {
  const double max_in = std::ldexp(1.0, static_cast<int>(in_bits)) - 1.0;
  const double max_w = std::ldexp(1.0, static_cast<int>(w_bits)) - 1.0;
  return static_cast<int64_t>(std::ceil(std::log2(max_in * max_w * static_cast<double>(fan_in))));
}

namespace {

// Shared forward of conv and linear: quantize weight and bias, run `op`, attach metadata.
template <typename Op>
QuantTensor wbiol_forward(const QuantTensor& x, const QuantTensor& wq, const torch::Tensor& bias,
                          const std::optional<QuantSpec>& bias_quant, bool return_quant_tensor,
                          int64_t fan_in, std::vector<int64_t> scale_view,
                          const std::string& name, bool training,
                          const std::optional<ConvGeometry>& geometry, Op op) {
  torch::Tensor b;
  int64_t bias_bits = 0;
  bool quant_bias = false;
  if (bias.defined()) {
    if (bias_quant && wq.is_quant()) {
      const QuantTensor bq = quantize_bias(bias, x.scale, wq.scale, *bias_quant, name);
      b = bq.value;
      bias_bits = bq.bit_width;
      quant_bias = true;
    } else {
      b = bias;
    }
  }
  // After the network input's quantizer: its scale's gradient by the adjoint form, no
  // input gradient (core/nn/scale_adjoint.h).
  torch::Tensor y = scale_adjoint_applies(x) ? apply_with_scale_adjoint(x, wq.value, b, geometry)
                                             : op(x.value, wq.value, b);
  if (!return_quant_tensor) return QuantTensor(y);
  // The output lies on an integer grid only when input and weight do and the bias
  // (if any) is on the accumulator grid.
  if (!x.is_quant() || !wq.is_quant() || (bias.defined() && !quant_bias)) return QuantTensor(y);
  torch::Tensor scale = (x.scale * wq.scale).view(scale_view);
  int64_t bits = accumulator_bit_width(x.bit_width, wq.bit_width, fan_in);
  if (quant_bias) bits = std::max(bits, bias_bits) + 1;
  torch::Tensor zero_point = torch::zeros({1}, y.options());
  return QuantTensor(y, scale, zero_point, bits, x.is_signed || wq.is_signed, training);
}

// Shared by QuantConv1d and QuantConv2d: checks channels and groups, registers the
// weight [C_out, C_in/groups, k...] and bias with PyTorch's default Conv initialisation
// (kaiming_uniform with a = sqrt(5); bias uniform in +-1/sqrt(fan_in)) and the weight quantizer.
template <typename Impl>
void reset_conv(Impl& m, at::IntArrayRef kernel) {
  const auto& o = m.options;
  if (o.in_channels() <= 0 || o.out_channels() <= 0)
    throw ConfigError(m.layer_name + ": in_channels and out_channels must be positive");
  if (o.groups() <= 0 || o.in_channels() % o.groups() != 0 || o.out_channels() % o.groups() != 0)
    throw ConfigError(m.layer_name + ": in_channels (" + std::to_string(o.in_channels()) + ") and out_channels (" +
                      std::to_string(o.out_channels()) + ") must be divisible by groups (" +
                      std::to_string(o.groups()) + ")");
  for (int64_t k : kernel)
    if (k <= 0) throw ConfigError(m.layer_name + ": kernel_size must be positive");
  std::vector<int64_t> shape{o.out_channels(), o.in_channels() / o.groups()};
  shape.insert(shape.end(), kernel.begin(), kernel.end());
  m.weight = m.register_parameter("weight", torch::empty(shape));
  torch::nn::init::kaiming_uniform_(m.weight, std::sqrt(5.0));
  if (o.bias()) {
    const double fan_in = static_cast<double>(m.weight[0].numel());
    const double bound = 1.0 / std::sqrt(fan_in);
    m.bias = m.register_parameter("bias", torch::empty({o.out_channels()}).uniform_(-bound, bound));
  } else {
    m.bias = torch::Tensor();
  }
  if (o.weight_quant()) {
    if (o.bias_quant()) o.bias_quant()->validate(m.layer_name + " bias_quant");
    m.weight_quantizer = m.register_module("weight_quant", WeightQuantizer(*o.weight_quant(), o.out_channels()));
  } else {
    m.weight_quantizer = nullptr;
  }
}

// Shared forward of the convolutions: input shape check, then wbiol_forward with
// fan_in = weight[0].numel() = C_in/groups * prod(kernel) (Brevitas max_acc_bit_width_convNd).
template <typename Impl, typename ConvFn>
QuantTensor conv_forward(Impl& m, const QuantTensor& x, const char* layout, ConvFn conv) {
  const int64_t spatial = m.weight.dim() - 2;
  if (x.value.dim() != spatial + 2 || x.value.size(1) != m.options.in_channels()) {
    std::ostringstream s;
    s << m.layer_name << ": expects an input " << layout << " with C = " << m.options.in_channels()
      << ", got " << x.value.sizes();
    throw ConfigError(s.str());
  }
  const QuantTensor wq = m.quant_weight();
  std::vector<int64_t> scale_view(static_cast<size_t>(spatial + 2), 1);
  scale_view[1] = -1;
  const auto& o = m.options;
  ConvGeometry geometry;
  geometry.stride.assign(o.stride()->begin(), o.stride()->end());
  geometry.padding.assign(o.padding()->begin(), o.padding()->end());
  geometry.dilation.assign(o.dilation()->begin(), o.dilation()->end());
  geometry.groups = o.groups();
  return wbiol_forward(x, wq, m.bias, o.bias_quant(), o.return_quant_tensor(), m.weight[0].numel(),
                       scale_view, m.layer_name, m.is_training(), geometry, conv);
}

template <typename Impl>
QuantTensor conv_quant_bias(Impl& m, const torch::Tensor& input_scale, const torch::Tensor& weight_scale) {
  if (!m.bias.defined()) return QuantTensor();
  if (!m.options.bias_quant()) return QuantTensor(m.bias);
  return quantize_bias(m.bias, input_scale, weight_scale, *m.options.bias_quant(), m.layer_name);
}

}  // namespace

// ---------------------------------------------------------------- QuantConv2d

QuantConv2dImpl::QuantConv2dImpl(QuantConv2dOptions o) : options(std::move(o)) { reset(); }

void QuantConv2dImpl::reset() { reset_conv(*this, *options.kernel_size()); }

QuantTensor QuantConv2dImpl::quant_weight() {
  return weight_quantizer ? weight_quantizer->forward(weight) : QuantTensor(weight);
}

QuantTensor QuantConv2dImpl::quant_bias(const torch::Tensor& input_scale,
                                        const torch::Tensor& weight_scale) {
  return conv_quant_bias(*this, input_scale, weight_scale);
}

QuantTensor QuantConv2dImpl::forward(const QuantTensor& x) {
  auto op = [&](const torch::Tensor& in, const torch::Tensor& w, const torch::Tensor& b) {
    return torch::conv2d(in, w, b, *options.stride(), *options.padding(), *options.dilation(),
                         options.groups());
  };
  return conv_forward(*this, x, "[N, C, H, W]", op);
}

// ---------------------------------------------------------------- QuantConv1d

QuantConv1dImpl::QuantConv1dImpl(QuantConv1dOptions o) : options(std::move(o)) { reset(); }

void QuantConv1dImpl::reset() { reset_conv(*this, *options.kernel_size()); }

QuantTensor QuantConv1dImpl::quant_weight() {
  return weight_quantizer ? weight_quantizer->forward(weight) : QuantTensor(weight);
}

QuantTensor QuantConv1dImpl::quant_bias(const torch::Tensor& input_scale,
                                        const torch::Tensor& weight_scale) {
  return conv_quant_bias(*this, input_scale, weight_scale);
}

QuantTensor QuantConv1dImpl::forward(const QuantTensor& x) {
  auto op = [&](const torch::Tensor& in, const torch::Tensor& w, const torch::Tensor& b) {
    return torch::conv1d(in, w, b, *options.stride(), *options.padding(), *options.dilation(),
                         options.groups());
  };
  return conv_forward(*this, x, "[N, C, L]", op);
}

// ---------------------------------------------------------------- QuantLinear

QuantLinearImpl::QuantLinearImpl(QuantLinearOptions o) : options(std::move(o)) { reset(); }

void QuantLinearImpl::reset() {
  if (options.in_features() <= 0 || options.out_features() <= 0)
    throw ConfigError(layer_name + ": in_features and out_features must be positive");
  weight = register_parameter("weight", torch::empty({options.out_features(), options.in_features()}));
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (options.bias()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(options.in_features()));
    bias = register_parameter("bias", torch::empty({options.out_features()}).uniform_(-bound, bound));
  } else {
    bias = torch::Tensor();
  }
  if (options.weight_quant()) {
    if (options.bias_quant()) options.bias_quant()->validate(layer_name + " bias_quant");
    weight_quantizer = register_module("weight_quant", WeightQuantizer(*options.weight_quant(), options.out_features()));
  } else {
    weight_quantizer = nullptr;
  }
}

QuantTensor QuantLinearImpl::quant_weight() {
  return weight_quantizer ? weight_quantizer->forward(weight) : QuantTensor(weight);
}

QuantTensor QuantLinearImpl::quant_bias(const torch::Tensor& input_scale,
                                        const torch::Tensor& weight_scale) {
  if (!bias.defined()) return QuantTensor();
  if (!options.bias_quant()) return QuantTensor(bias);
  return quantize_bias(bias, input_scale, weight_scale, *options.bias_quant(), layer_name);
}

QuantTensor QuantLinearImpl::forward(const QuantTensor& x) {
  const QuantTensor wq = quant_weight();
  auto op = [](const torch::Tensor& in, const torch::Tensor& w, const torch::Tensor& b) {
    return detail::linear_exact(in, w, b);
  };
  return wbiol_forward(x, wq, bias, options.bias_quant(), options.return_quant_tensor(),
                       options.in_features(), {1, -1}, layer_name, is_training(), std::nullopt, op);
}

}  // namespace qnn
