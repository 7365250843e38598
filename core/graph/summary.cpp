// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/graph/summary.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "core/graph/layer_rules.h"

namespace qnn {

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
  if (has_weights(l.type)) {
    const int64_t cout = is_conv(l.type) ? l.int_param("out_channels", 0) : l.int_param("out_features", 0);
    int64_t fan_in = 0;  // inputs per output element
    if (is_conv(l.type)) {
      const int64_t k = l.int_param("kernel_size", 0), g = std::max<int64_t>(1, l.int_param("groups", 1));
      fan_in = l.int_param("in_channels", 0) / g * k * k;
    } else {
      fan_in = l.int_param("in_features", 0);
    }
    s.weights = std::max<int64_t>(0, cout * fan_in);
    s.biases = layer_has_bias(l) ? std::max<int64_t>(0, cout) : 0;
    s.params = s.weights + s.biases;
    const auto wq = effective_weight_quant(l);
    const auto bq = effective_bias_quant(l);
    s.weight_bits = wq ? wq->bit_width : 32;
    s.bias_bits = s.biases ? (bq ? bq->bit_width : 32) : 0;
    s.storage_bits = s.weights * s.weight_bits + s.biases * s.bias_bits;
    s.float32_bits = 32 * s.params;
    if (out) {
      int64_t positions = 1;  // output elements per sample
      for (int64_t d : *out) positions *= d;
      s.macs = positions * fan_in;
    }
  } else if (l.type == LayerType::BatchNorm2d) {
    const int64_t c = std::max<int64_t>(0, l.int_param("num_features", 0));
    s.weights = c;
    s.biases = c;
    s.params = 2 * c;
    s.weight_bits = 32;
    s.bias_bits = 32;
    s.storage_bits = s.float32_bits = 32 * 4 * c;  // weight, bias, running mean, running variance
    if (out) {
      int64_t n = 1;
      for (int64_t d : *out) n *= d;
      s.macs = n;
    }
  }
  return s;
}

}  // namespace

ModelSummary summarize(const Project& project, const ValidationResult& validation) {
  ModelSummary m;
  std::vector<const LayerSpec*> layers;
  if (validation.order.size() == project.layers.size()) {
    for (const std::string& id : validation.order)
      if (const LayerSpec* l = project.find(id)) layers.push_back(l);
  }
  if (layers.size() != project.layers.size()) {
    layers.clear();
    for (const LayerSpec& l : project.layers) layers.push_back(&l);
  }
  int64_t storage_bits = 0, float_bits = 0;
  for (const LayerSpec* l : layers) {
    LayerSummary s = summarize_layer(*l, validation);
    m.params += s.params;
    m.macs += s.macs;
    storage_bits += s.storage_bits;
    float_bits += s.float32_bits;
    m.layers.push_back(std::move(s));
  }
  m.size_bytes = (storage_bits + 7) / 8;
  m.float32_bytes = float_bits / 8;
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
      << std::right << "  " << std::setw(9) << l.params << "  " << std::setw(11)
      << (l.shape_known || l.macs ? std::to_string(l.macs) : std::string("?")) << "  " << std::setw(6)
      << bits(l.weight_bits) << "  " << std::setw(6) << bits(l.bias_bits) << "  " << std::setw(10)
      << (l.storage_bits + 7) / 8 << "\n";
  }
  o << "total: " << s.params << " parameters, " << s.macs << " MACs per sample; " << s.size_bytes
    << " bytes at the chosen bit widths vs " << s.float32_bytes << " bytes float32 (1/" << std::fixed
    << std::setprecision(2) << s.compression << ")\n";
  return o.str();
}

}  // namespace qnn
