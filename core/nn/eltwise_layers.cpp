// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/eltwise_layers.h"

#include <cmath>

#include "core/errors.h"

namespace qnn {

namespace {

/// Full-range integer bounds (narrow_range = false), as Brevitas's max_int/min_int.
double full_max(int64_t bits, bool sgn) { return sgn ? std::ldexp(1.0, int(bits) - 1) - 1.0 : std::ldexp(1.0, int(bits)) - 1.0; }
double full_min(int64_t bits, bool sgn) { return sgn ? -std::ldexp(1.0, int(bits) - 1) : 0.0; }

}  // namespace

int64_t add_bit_width(int64_t bits_a, bool signed_a, int64_t bits_b, bool signed_b) {
  const double span = full_max(bits_a, signed_a) + full_max(bits_b, signed_b) - full_min(bits_a, signed_a) -
                      full_min(bits_b, signed_b);
  return static_cast<int64_t>(std::ceil(std::log2(span)));
}

QuantTensor add_quant_tensors(const QuantTensor& a, const QuantTensor& b, const std::string& layer) {
  if (a.value.sizes() != b.value.sizes())
    throw ConfigError(layer + ": cannot add tensors of shapes " + c10::str(a.value.sizes()) + " and " +
                      c10::str(b.value.sizes()));
  torch::Tensor v = a.value + b.value;
  if (!a.is_quant() || !b.is_quant()) return QuantTensor(v);
  const bool training = a.training || b.training;
  if (!training && !torch::allclose(a.scale.detach(), b.scale.detach(), 1e-5, 0.0))
    throw ConfigError(layer + ": adds quantized tensors with different scales (" +
                      std::to_string(a.scale.detach().max().item<double>()) + " vs " +
                      std::to_string(b.scale.detach().max().item<double>()) +
                      "; Brevitas: \"Scaling factors are different\")");
  return QuantTensor(v, (a.scale + b.scale) / 2.0, a.zero_point + b.zero_point,
                     add_bit_width(a.bit_width, a.is_signed, b.bit_width, b.is_signed), a.is_signed || b.is_signed,
                     training);
}

// ---------------------------------------------------------------- Add

QuantTensor AddLayerImpl::apply_inputs(const std::vector<QuantTensor>& inputs) {
  if (inputs.size() != 2) throw ConfigError(layer_name + ": an Add takes exactly two inputs");
  return add_quant_tensors(inputs[0], inputs[1], layer_name);
}

QuantTensor AddLayerImpl::apply(const QuantTensor&) {
  throw ConfigError(layer_name + ": an Add takes two inputs (ports 0 and 1)");
}

// ---------------------------------------------------------------- QuantEltwiseAdd

QuantEltwiseAddImpl::QuantEltwiseAddImpl(QuantEltwiseAddOptions o) : options(std::move(o)) { reset(); }

void QuantEltwiseAddImpl::reset() {
  input_quant = register_module("input_quant", ActQuantizer(options.input_quant()));
  output_quant = register_module("output_quant", ActQuantizer(options.output_quant()));
}

QuantTensor QuantEltwiseAddImpl::apply_inputs(const std::vector<QuantTensor>& inputs) {
  if (inputs.size() != 2) throw ConfigError(layer_name + ": a QuantEltwiseAdd takes exactly two inputs");
  // Brevitas re-quantizes a QuantTensor input from its value.
  const QuantTensor a = input_quant->forward(inputs[0].value);
  const QuantTensor b = input_quant->forward(inputs[1].value);
  const QuantTensor sum = add_quant_tensors(a, b, layer_name);
  QuantTensor y = output_quant->forward(sum.value);
  return options.return_quant_tensor() ? y : y.dequantized();
}

QuantTensor QuantEltwiseAddImpl::apply(const QuantTensor&) {
  throw ConfigError(layer_name + ": a QuantEltwiseAdd takes two inputs (ports 0 and 1)");
}

// ---------------------------------------------------------------- BatchNorm2d

void BatchNorm2dLayerImpl::reset() {
  if (num_features <= 0) throw ConfigError(layer_name + ": num_features must be positive");
  weight = register_parameter("weight", torch::ones({num_features}));
  bias = register_parameter("bias", torch::zeros({num_features}));
  running_mean = register_buffer("running_mean", torch::zeros({num_features}));
  running_var = register_buffer("running_var", torch::ones({num_features}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
}

QuantTensor BatchNorm2dLayerImpl::apply(const QuantTensor& x) {
  const bool training = is_training() && !frozen;
  if (training) {
    torch::NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  return QuantTensor(torch::batch_norm(x.value, frozen ? weight.detach() : weight, frozen ? bias.detach() : bias, running_mean, running_var, training, momentum,
                                       eps, /*cudnn_enabled=*/false));
}

}  // namespace qnn
