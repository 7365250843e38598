// SPDX-License-Identifier: GPL-3.0-or-later
// The one explicit list of layer descriptors (see layer_descriptor.h for how to add one).
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/layers/layer_descriptor.h"

namespace qnn {

// One line per descriptor factory; each is defined in core/layers/<file>.cpp.
#define QNN_LAYERS(X) \
  X(input)            \
  X(output)           \
  X(quant_identity)   \
  X(quant_relu)       \
  X(quant_hardtanh)   \
  X(quant_conv2d)     \
  X(quant_linear)     \
  X(conv2d)           \
  X(linear)           \
  X(relu)             \
  X(hardtanh)         \
  X(max_pool2d)       \
  X(avg_pool2d)       \
  X(flatten)          \
  X(dropout)          \
  X(batch_norm2d)     \
  X(identity)         \
  X(add)              \
  X(quant_eltwise_add) \
  X(quant_conv1d)     \
  X(conv1d)           \
  X(batch_norm1d)     \
  X(quant_tanh)       \
  X(quant_sigmoid)    \
  X(tanh_layer)       \
  X(sigmoid_layer)    \
  X(trunc_avg_pool2d) \
  X(trunc_adaptive_avg_pool2d) \
  X(concat)           \
  X(upsample)         \
  X(depth_to_space)

namespace layers {
#define QNN_DECLARE_LAYER(name) LayerDescriptor name();
QNN_LAYERS(QNN_DECLARE_LAYER)
#undef QNN_DECLARE_LAYER
}  // namespace layers

const std::vector<LayerDescriptor>& all_descriptors() {
  static const std::vector<LayerDescriptor> all = [] {
#define QNN_LIST_LAYER(name) layers::name(),
    std::vector<LayerDescriptor> v{QNN_LAYERS(QNN_LIST_LAYER)};
#undef QNN_LIST_LAYER
    std::stable_sort(v.begin(), v.end(),
                     [](const LayerDescriptor& a, const LayerDescriptor& b) { return int(a.type) < int(b.type); });
    for (size_t i = 0; i < v.size(); ++i)
      if (int(v[i].type) != int(i))
        throw std::logic_error("layer registry: LayerType " + std::to_string(i) +
                               " has no descriptor or two (core/layers/registry.cpp)");
    return v;
  }();
  return all;
}

const LayerDescriptor& descriptor(LayerType t) {
  const auto& all = all_descriptors();
  const auto i = static_cast<size_t>(t);
  if (i >= all.size()) throw std::logic_error("layer registry: no descriptor for LayerType " + std::to_string(i));
  return all[i];
}

const LayerDescriptor* find_descriptor(const std::string& name) {
  for (const LayerDescriptor& d : all_descriptors())
    if (d.name == name) return &d;
  return nullptr;
}

const std::vector<LayerFamily>& all_families() {
  static const std::vector<LayerFamily> f{LayerFamily::InputOutput,     LayerFamily::QuantLayer,
                                          LayerFamily::QuantActivation, LayerFamily::FloatLayer,
                                          LayerFamily::FloatActivation, LayerFamily::ShapeOp};
  return f;
}

std::string family_title(LayerFamily f) {
  switch (f) {
    case LayerFamily::InputOutput: return "Input / output";
    case LayerFamily::QuantLayer: return "Quantized layers";
    case LayerFamily::QuantActivation: return "Quantized activations";
    case LayerFamily::FloatLayer: return "Float layers";
    case LayerFamily::FloatActivation: return "Float activations";
    case LayerFamily::ShapeOp: return "Shape and other ops";
  }
  return "?";
}

std::string slot_key(QuantSlot s) {
  switch (s) {
    case QuantSlot::Weight: return "weight_quant";
    case QuantSlot::Bias: return "bias_quant";
    case QuantSlot::Act: return "act_quant";
    case QuantSlot::Input: return "input_quant";
  }
  return "?";
}

const ParamSchema* LayerDescriptor::param(const std::string& p) const {
  for (const ParamSchema& s : params)
    if (s.name == p) return &s;
  return nullptr;
}

bool LayerDescriptor::uses(QuantSlot slot) const {
  return std::any_of(quant_slots.begin(), quant_slots.end(), [slot](const QuantSlotUse& u) { return u.slot == slot; });
}

std::optional<QuantSpec> LayerDescriptor::slot_preset(QuantSlot slot) const {
  for (const QuantSlotUse& u : quant_slots)
    if (u.slot == slot) return u.preset;
  return std::nullopt;
}

double param_value(const LayerSpec& l, const std::string& name) {
  if (l.has_param(name)) return l.param(name, 0.0);
  const ParamSchema* s = descriptor(l.type).param(name);
  if (!s) return 0.0;
  if (!s->default_from.empty()) return param_value(l, s->default_from);
  return s->default_value;
}

std::array<int64_t, 2> pair_value(const LayerSpec& l, const std::string& name) {
  if (l.has_param(name)) return l.pair_param(name, 0);
  const ParamSchema* s = descriptor(l.type).param(name);
  if (!s) return {0, 0};
  if (!s->default_from.empty()) return pair_value(l, s->default_from);
  const auto v = static_cast<int64_t>(std::llround(s->default_value));
  return {v, v};
}

}  // namespace qnn
