// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/layout_layers.h"

#include <sstream>

#include "core/errors.h"

namespace qnn {

namespace {

bool per_tensor(const QuantTensor& t) { return t.scale.numel() == 1 && t.zero_point.numel() == 1; }

std::string sizes_text(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

}  // namespace

// ---------------------------------------------------------------- Concat

QuantTensor ConcatLayerImpl::apply_inputs(const std::vector<QuantTensor>& inputs) {
  if (inputs.empty()) throw ConfigError(layer_name + ": a Concat needs at least one input");
  const torch::Tensor& first = inputs[0].value;
  if (first.dim() < 2) throw ConfigError(layer_name + ": concatenates along channels; input 0 is " + sizes_text(first));
  for (size_t i = 1; i < inputs.size(); ++i) {
    const torch::Tensor& v = inputs[i].value;
    bool ok = v.dim() == first.dim();
    for (int64_t d = 0; ok && d < v.dim(); ++d) ok = d == 1 || v.size(d) == first.size(d);
    if (!ok)
      throw ConfigError(layer_name + ": input " + std::to_string(i) + " " + sizes_text(v) + " does not match input 0 " +
                        sizes_text(first) + " outside the channel dimension");
  }
  if (inputs.size() == 1) return inputs[0];

  std::vector<torch::Tensor> values;
  bool all_quant = true, all_per_tensor = true;
  for (const QuantTensor& t : inputs) {
    values.push_back(t.value);
    all_quant = all_quant && t.is_quant();
    all_per_tensor = all_per_tensor && (!t.is_quant() || per_tensor(t));
  }
  torch::Tensor value = torch::cat(values, 1);
  if (!all_quant) return QuantTensor(value);

  // Brevitas IntQuantTensor.cat: checks of the first input against every other one.
  const QuantTensor& q0 = inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) {
    const QuantTensor& qi = inputs[i];
    const std::string which = " (input 0 vs input " + std::to_string(i) + ")";
    if (!q0.training) {
      const bool same_shape = q0.scale.numel() == qi.scale.numel() && q0.zero_point.numel() == qi.zero_point.numel();
      if (!same_shape || !torch::allclose(q0.scale.detach(), qi.scale.detach()))
        throw ConfigError(layer_name + ": concatenates quantized tensors with different scales" + which +
                          "; Brevitas: \"Scaling factors are different\"");
      if (!torch::allclose(q0.zero_point.detach().to(torch::kFloat), qi.zero_point.detach().to(torch::kFloat)))
        throw ConfigError(layer_name + ": concatenates quantized tensors with different zero points" + which +
                          "; Brevitas: \"Zero points are different\"");
    }
    if (q0.bit_width != qi.bit_width)
      throw ConfigError(layer_name + ": concatenates quantized tensors with different bit widths (" +
                        std::to_string(q0.bit_width) + " vs " + std::to_string(qi.bit_width) + ")" + which +
                        "; Brevitas: \"Bit widths are different\"");
    if (q0.is_signed != qi.is_signed)
      throw ConfigError(layer_name + ": concatenates signed and unsigned quantized tensors" + which +
                        "; Brevitas: \"Signs are different\"");
  }
  if (!all_per_tensor) return QuantTensor(value);  // deviation: see the header
  bool training = false;
  for (const QuantTensor& t : inputs) training = training || t.training;
  if (!training) return QuantTensor(value, q0.scale, q0.zero_point, q0.bit_width, q0.is_signed, false);
  torch::Tensor scale = q0.scale, zero_point = q0.zero_point;
  for (size_t i = 1; i < inputs.size(); ++i) {
    scale = scale + inputs[i].scale;
    zero_point = zero_point + inputs[i].zero_point;
  }
  const double n = static_cast<double>(inputs.size());
  return QuantTensor(value, scale / n, zero_point / n, q0.bit_width, q0.is_signed, true);
}

// ---------------------------------------------------------------- UpsampleNearest

void UpsampleNearestLayerImpl::reset() {
  if (scale_factor < 1)
    throw ConfigError(layer_name + ": scale_factor must be at least 1, got " + std::to_string(scale_factor));
}

QuantTensor UpsampleNearestLayerImpl::apply(const QuantTensor& x) {
  const torch::Tensor& v = x.value;
  if (v.dim() != 3 && v.dim() != 4)
    throw ConfigError(layer_name + ": expects an input [N, C, L] or [N, C, H, W], got " + sizes_text(v));
  namespace F = torch::nn::functional;
  const std::vector<double> factors(static_cast<size_t>(v.dim() - 2), static_cast<double>(scale_factor));
  torch::Tensor y = F::interpolate(v, F::InterpolateFuncOptions().scale_factor(factors).mode(torch::kNearest));
  return x.is_quant() ? x.with_value(y) : QuantTensor(y);
}

// ---------------------------------------------------------------- DepthToSpace

void DepthToSpaceLayerImpl::reset() {
  if (block_size < 1)
    throw ConfigError(layer_name + ": block_size must be at least 1, got " + std::to_string(block_size));
}

QuantTensor DepthToSpaceLayerImpl::apply(const QuantTensor& x) {
  const torch::Tensor& v = x.value;
  const int64_t r2 = block_size * block_size;
  if (v.dim() != 4 || v.size(1) % r2 != 0)
    throw ConfigError(layer_name + ": expects an input [N, C*" + std::to_string(r2) + ", H, W] (block_size " +
                      std::to_string(block_size) + "), got " + sizes_text(v));
  torch::Tensor y = torch::pixel_shuffle(v, block_size);
  return x.is_quant() && per_tensor(x) ? x.with_value(y) : QuantTensor(y);
}

}  // namespace qnn
