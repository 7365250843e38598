// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/graph/summary.h"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <unordered_map>

#include "core/layers/layer_descriptor.h"

namespace qnn {

int64_t count_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  return a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r) ? (a < 0 || b < 0 ? 0 : kCountSaturated) : r;
}

int64_t count_add(int64_t a, int64_t b) {
  int64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? kCountSaturated : r;
}

std::string count_text(int64_t v) {
  return v == kCountSaturated ? "more than " + std::to_string(kCountSaturated - 1) : std::to_string(v);
}

namespace {

const std::vector<int64_t>* output_shape(const ValidationResult& v, const std::string& id) {
  const auto it = v.nodes.find(id);
  return it == v.nodes.end() ? nullptr : &it->second.shape;
}

LayerSummary summarize_layer(const LayerSpec& l, const ValidationResult& v) {
  LayerSummary s;
  s.id = l.id;
  s.type = l.type;
  const std::vector<int64_t>* out = output_shape(v, l.id);
  s.shape_known = out != nullptr;
  if (const auto cost = descriptor(l.type).cost) cost(l, out, s);
  return s;
}

}  // namespace

ModelSummary summarize(const Project& project, const ValidationResult& validation) {
  ModelSummary m;
  std::vector<const LayerSpec*> layers;
  if (validation.order.size() == project.layers.size()) {
    std::unordered_map<std::string, const LayerSpec*> by_id;  // linear in the layers, not quadratic
    by_id.reserve(project.layers.size());
    for (const LayerSpec& l : project.layers) by_id.emplace(l.id, &l);
    for (const std::string& id : validation.order)
      if (const auto it = by_id.find(id); it != by_id.end()) layers.push_back(it->second);
  }
  if (layers.size() != project.layers.size()) {
    layers.clear();
    for (const LayerSpec& l : project.layers) layers.push_back(&l);
  }
  int64_t storage_bits = 0, float_bits = 0;
  for (const LayerSpec* l : layers) {
    LayerSummary s = summarize_layer(*l, validation);
    m.params = count_add(m.params, s.params);
    m.macs = count_add(m.macs, s.macs);
    if (!s.shape_known && s.weights > 0) ++m.layers_without_shape;  // its MACs need the shape
    storage_bits = count_add(storage_bits, s.storage_bits);
    float_bits = count_add(float_bits, s.float32_bits);
    m.layers.push_back(std::move(s));
  }
  m.size_bytes = storage_bits == kCountSaturated ? kCountSaturated : (storage_bits + 7) / 8;
  m.float32_bytes = float_bits == kCountSaturated ? kCountSaturated : float_bits / 8;
  m.compression = m.size_bytes > 0 ? double(m.float32_bytes) / double(m.size_bytes) : 1.0;
  return m;
}

std::string summary_table(const ModelSummary& s) {
  std::ostringstream o;
  size_t w_id = 5, w_type = 4;
  for (const LayerSummary& l : s.layers) {
    w_id = std::max(w_id, l.id.size());
    w_type = std::max(w_type, to_string(l.type).size());
  }
  auto bits = [](int b) { return b ? std::to_string(b) : std::string("-"); };
  o << "  " << std::left << std::setw(int(w_id)) << "layer" << "  " << std::setw(int(w_type)) << "type" << std::right
    << "  " << std::setw(9) << "params" << "  " << std::setw(11) << "MACs" << "  " << std::setw(6) << "W bits"
    << "  " << std::setw(6) << "B bits" << "  " << std::setw(10) << "bytes" << "\n";
  for (const LayerSummary& l : s.layers) {
    o << "  " << std::left << std::setw(int(w_id)) << l.id << "  " << std::setw(int(w_type)) << to_string(l.type)
      << std::right << "  " << std::setw(9) << count_text(l.params) << "  " << std::setw(11)
      << (l.shape_known || l.macs ? count_text(l.macs) : std::string("?")) << "  " << std::setw(6)
      << bits(l.weight_bits) << "  " << std::setw(6) << bits(l.bias_bits) << "  " << std::setw(10)
      << (l.storage_bits == kCountSaturated ? count_text(l.storage_bits) : std::to_string((l.storage_bits + 7) / 8))
      << "\n";
  }
  o << "total: " << count_text(s.params) << " parameters, " << (s.macs_partial() ? ">= " : "") << count_text(s.macs)
    << " MACs per sample";
  if (s.macs_partial())
    o << " (partial: " << s.layers_without_shape << (s.layers_without_shape == 1 ? " layer" : " layers")
      << " without shapes)";
  o << "; " << count_text(s.size_bytes) << " bytes at the chosen bit widths vs " << count_text(s.float32_bytes)
    << " bytes float32";
  if (s.size_bytes != kCountSaturated && s.float32_bytes != kCountSaturated)
    o << " (1/" << std::fixed << std::setprecision(2) << s.compression << ")";
  o << "\n";
  return o.str();
}

}  // namespace qnn
