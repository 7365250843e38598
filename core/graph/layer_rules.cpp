// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/graph/layer_rules.h"

#include <map>

#include "core/layers/layer_descriptor.h"

namespace qnn {

namespace {

std::optional<QuantSpec> effective(const LayerSpec& l, QuantSlot slot, const std::optional<QuantSpec>& own) {
  const LayerDescriptor& d = descriptor(l.type);
  if (!d.uses(slot)) return std::nullopt;
  return own ? own : d.slot_preset(slot);
}

}  // namespace

bool is_quant_wbiol(LayerType t) { return descriptor(t).uses(QuantSlot::Weight); }

bool has_weights(LayerType t) { return descriptor(t).has_weights; }

bool uses_act_quant(LayerType t) { return descriptor(t).uses(QuantSlot::Act); }

bool layer_has_bias(const LayerSpec& l) { return has_weights(l.type) && l.param("bias", 1.0) != 0.0; }

std::optional<QuantSpec> effective_weight_quant(const LayerSpec& l) {
  return effective(l, QuantSlot::Weight, l.weight_quant);
}

bool is_batch_norm(LayerType t) { return t == LayerType::BatchNorm2d || t == LayerType::BatchNorm1d; }

std::vector<std::string> batch_norm_layers(const Project& project) {
  std::vector<std::string> ids;
  for (const LayerSpec& l : project.layers)
    if (is_batch_norm(l.type)) ids.push_back(l.id);
  return ids;
}

std::optional<QuantSpec> effective_bias_quant(const LayerSpec& l) {
  if (!layer_has_bias(l)) return std::nullopt;
  return effective(l, QuantSlot::Bias, l.bias_quant);
}

std::optional<QuantSpec> effective_act_quant(const LayerSpec& l) { return effective(l, QuantSlot::Act, l.act_quant); }

std::optional<QuantSpec> effective_input_quant(const LayerSpec& l) {
  return effective(l, QuantSlot::Input, l.input_quant);
}

const std::vector<std::string>& known_params(LayerType t) {
  static const std::vector<std::vector<std::string>> names = [] {
    std::vector<std::vector<std::string>> v;
    for (const LayerDescriptor& d : all_descriptors()) {
      v.emplace_back();
      for (const ParamSchema& p : d.params) v.back().push_back(p.name);
    }
    return v;
  }();
  return names.at(static_cast<size_t>(t));
}

}  // namespace qnn
