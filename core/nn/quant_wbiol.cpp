// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/quant_wbiol.h"

#include <cmath>

#include "core/errors.h"

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
                          const std::string& name, bool training, Op op) {
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
  torch::Tensor y = op(x.value, wq.value, b);
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

}  // namespace

// ---------------------------------------------------------------- QuantConv2d

QuantConv2dImpl::QuantConv2dImpl(QuantConv2dOptions o) : options(std::move(o)) { reset(); }

void QuantConv2dImpl::reset() {
  if (options.in_channels() <= 0 || options.out_channels() <= 0)
    throw ConfigError(layer_name + ": in_channels and out_channels must be positive");
  if (options.groups() <= 0 || options.in_channels() % options.groups() != 0 ||
      options.out_channels() % options.groups() != 0)
    throw ConfigError(layer_name + ": channels must be divisible by groups");
  const auto k = *options.kernel_size();
  weight = register_parameter(
      "weight", torch::empty({options.out_channels(), options.in_channels() / options.groups(), k[0], k[1]}));
  // PyTorch's default Conv2d initialisation (kaiming_uniform with a = sqrt(5)).
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (options.bias()) {
    const double fan_in = static_cast<double>(weight.size(1) * k[0] * k[1]);
    const double bound = 1.0 / std::sqrt(fan_in);
    bias = register_parameter("bias", torch::empty({options.out_channels()}).uniform_(-bound, bound));
  } else {
    bias = torch::Tensor();
  }
  if (options.weight_quant()) {
    if (options.bias_quant()) options.bias_quant()->validate(layer_name + " bias_quant");
    weight_quantizer = register_module("weight_quant", WeightQuantizer(*options.weight_quant()));
  } else {
    weight_quantizer = nullptr;
  }
}

QuantTensor QuantConv2dImpl::quant_weight() {
  return weight_quantizer ? weight_quantizer->forward(weight) : QuantTensor(weight);
}

QuantTensor QuantConv2dImpl::quant_bias(const torch::Tensor& input_scale,
                                        const torch::Tensor& weight_scale) {
  if (!bias.defined()) return QuantTensor();
  if (!options.bias_quant()) return QuantTensor(bias);
  return quantize_bias(bias, input_scale, weight_scale, *options.bias_quant(), layer_name);
}

QuantTensor QuantConv2dImpl::forward(const QuantTensor& x) {
  const QuantTensor wq = quant_weight();
  const auto k = *options.kernel_size();
  const int64_t fan_in = options.in_channels() / options.groups() * k[0] * k[1];
  auto op = [&](const torch::Tensor& in, const torch::Tensor& w, const torch::Tensor& b) {
    return torch::conv2d(in, w, b, *options.stride(), *options.padding(), *options.dilation(),
                         options.groups());
  };
  return wbiol_forward(x, wq, bias, options.bias_quant(), options.return_quant_tensor(), fan_in,
                       {1, -1, 1, 1}, layer_name, is_training(), op);
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
    weight_quantizer = register_module("weight_quant", WeightQuantizer(*options.weight_quant()));
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
    return torch::linear(in, w, b);
  };
  return wbiol_forward(x, wq, bias, options.bias_quant(), options.return_quant_tensor(),
                       options.in_features(), {1, -1}, layer_name, is_training(), op);
}

}  // namespace qnn
