// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/document/layer_edits.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <set>
#include <stdexcept>
#include <string>

#include "core/graph/layer_rules.h"
#include "core/layers/layer_descriptor.h"

namespace qnn {

// ------------------------------------------------------------------ LayerDelta

bool LayerDelta::positionsOnly() const {
  if (!removed.empty() || !added.empty()) return false;
  for (const Change& c : changed) {
    LayerSpec moved = c.before;
    moved.x = c.after.x;
    moved.y = c.after.y;
    if (!(moved == c.after)) return false;
  }
  return true;
}

bool LayerDelta::touchesConnections() const {
  if (!removed.empty() || !added.empty()) return true;
  for (const Change& c : changed)
    if (c.before.inputs != c.after.inputs || c.before.id != c.after.id) return true;
  return false;
}

namespace {
/// The document and the undo stack disagree: a programming error, in release builds too
/// (applying anyway would corrupt the project silently). The list is edited in place
/// (pointers to its layers stay valid), so it may be half applied when this throws.
void check(bool ok, const char* what) {
  if (!ok) throw std::logic_error(std::string("LayerDelta::apply: ") + what);
}
}  // namespace

void LayerDelta::apply(std::vector<LayerSpec>& layers, bool forward) const {
  if (forward) {
    for (auto it = removed.rbegin(); it != removed.rend(); ++it) {
      check(it->first < layers.size() && layers[it->first].id == it->second.id, "removed layer not found");
      layers.erase(layers.begin() + long(it->first));
    }
    for (const Change& c : changed) {
      check(c.index < layers.size() && layers[c.index] == c.before, "changed layer differs from its before state");
      layers[c.index] = c.after;
    }
    layers.insert(layers.end(), added.begin(), added.end());
  } else {
    check(layers.size() >= added.size(), "fewer layers than were added");
    layers.resize(layers.size() - added.size());
    for (const Change& c : changed) {
      check(c.index < layers.size() && layers[c.index] == c.after, "changed layer differs from its after state");
      layers[c.index] = c.before;
    }
    for (const auto& [index, layer] : removed) {
      check(index <= layers.size(), "removed layer index out of range");
      layers.insert(layers.begin() + long(index), layer);
    }
  }
}

// ------------------------------------------------------------------ LayerDraft

LayerDraft::LayerDraft(const std::vector<LayerSpec>& before) : m_before(before), m_layers(before) {
  for (size_t i = 0; i < before.size(); ++i) m_origin.push_back(long(i));
}

LayerSpec* LayerDraft::find(const std::string& id) {
  for (LayerSpec& l : m_layers)
    if (l.id == id) return &l;
  return nullptr;
}

bool LayerDraft::has(const std::string& id) const {
  return std::any_of(m_layers.begin(), m_layers.end(), [&](const LayerSpec& l) { return l.id == id; });
}

void LayerDraft::remove(const std::string& id) {
  for (size_t i = 0; i < m_layers.size(); ++i) {
    if (m_layers[i].id != id) continue;
    m_layers.erase(m_layers.begin() + long(i));
    m_origin.erase(m_origin.begin() + long(i));
    break;
  }
  for (LayerSpec& l : m_layers)
    for (std::string& in : l.inputs)
      if (in == id) in.clear();
}

void LayerDraft::append(const LayerSpec& layer) {
  m_layers.push_back(layer);
  m_origin.push_back(-1);
}

void LayerDraft::rename(const std::string& from, const std::string& to) {
  if (from == to) return;
  for (LayerSpec& l : m_layers) {
    if (l.id == from) l.id = to;
    for (std::string& in : l.inputs)
      if (in == from) in = to;
  }
}

LayerDelta LayerDraft::delta() const {
  LayerDelta d;
  std::vector<bool> kept(m_before.size(), false);
  for (long o : m_origin)
    if (o >= 0) kept[size_t(o)] = true;
  for (size_t i = 0; i < m_before.size(); ++i)
    if (!kept[i]) d.removed.emplace_back(i, m_before[i]);
  for (size_t i = 0; i < m_layers.size(); ++i) {
    const long o = m_origin[i];
    if (o < 0) {
      d.added.push_back(m_layers[i]);
      continue;
    }
    assert(d.added.empty());  // appended layers stay behind the kept ones
    if (!(m_layers[i] == m_before[size_t(o)])) d.changed.push_back({i, m_before[size_t(o)], m_layers[i]});
  }
  return d;
}

// ------------------------------------------------------------------ rules

int inputPortCount(LayerType type) { return input_port_count(type); }

bool hasOutputPort(LayerType type) { return descriptor(type).has_output; }

std::string layerIdBase(LayerType type) { return descriptor(type).id_base; }

namespace {
bool taken(const std::vector<LayerSpec>& layers, const std::vector<std::string>& also, const std::string& id) {
  return std::any_of(layers.begin(), layers.end(), [&](const LayerSpec& l) { return l.id == id; }) ||
         std::find(also.begin(), also.end(), id) != also.end();
}
}  // namespace

std::string newLayerId(const std::vector<LayerSpec>& layers, LayerType type) {
  const std::string base = layerIdBase(type);
  const bool single = descriptor(type).single_id;
  if (single && !taken(layers, {}, base)) return base;
  for (int n = single ? 2 : 1;; ++n) {
    const std::string id = base + std::to_string(n);
    if (!taken(layers, {}, id)) return id;
  }
}

std::string uniqueLayerId(const std::vector<LayerSpec>& layers, const std::string& wanted,
                          const std::vector<std::string>& alsoTaken) {
  if (!taken(layers, alsoTaken, wanted)) return wanted;
  // "conv1_2" continues as conv1_3 rather than conv1_2_2.
  std::string stem = wanted;
  const size_t us = wanted.rfind('_');
  if (us != std::string::npos && us + 1 < wanted.size() && us > 0 &&
      std::all_of(wanted.begin() + long(us) + 1, wanted.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    stem = wanted.substr(0, us);
  for (int n = 2;; ++n) {
    const std::string id = stem + "_" + std::to_string(n);
    if (!taken(layers, alsoTaken, id)) return id;
  }
}

LayerSpec defaultLayer(LayerType type, const std::string& id, double x, double y) {
  LayerSpec l;
  l.id = id;
  l.type = type;
  l.x = x;
  l.y = y;
  const LayerDescriptor& d = descriptor(type);
  for (const ParamSchema& p : d.params)
    if (p.initial) l.params[p.name] = *p.initial;
  l.inputs.assign(size_t(input_port_count(l)), std::string());
  l.weight_quant = effective_weight_quant(l);  // the type's Brevitas default, or none
  l.act_quant = effective_act_quant(l);  // the type's Brevitas default, or none
  return l;
}

std::vector<LayerSpec> pasteLayers(const std::vector<LayerSpec>& layers, const std::vector<LayerSpec>& clip,
                                   double dx, double dy, bool keepExternal) {
  std::map<std::string, std::string> renamed;
  std::vector<std::string> assigned;
  for (const LayerSpec& l : clip) {
    const std::string id = uniqueLayerId(layers, l.id, assigned);
    renamed[l.id] = id;
    assigned.push_back(id);
  }
  std::vector<LayerSpec> out;
  for (LayerSpec l : clip) {
    l.id = renamed[l.id];
    for (std::string& in : l.inputs) {
      if (in.empty()) continue;
      const auto it = renamed.find(in);
      if (it != renamed.end())
        in = it->second;
      else if (!(keepExternal && taken(layers, {}, in)))
        in.clear();
    }
    l.x += dx;
    l.y += dy;
    out.push_back(std::move(l));
  }
  return out;
}

std::optional<LayerType> typeTwin(LayerType type) {
  static const std::pair<LayerType, LayerType> twins[] = {
      {LayerType::Add, LayerType::QuantEltwiseAdd}, {LayerType::ReLU, LayerType::QuantReLU},
      {LayerType::Conv2d, LayerType::QuantConv2d},  {LayerType::Conv1d, LayerType::QuantConv1d},
      {LayerType::Linear, LayerType::QuantLinear},  {LayerType::Identity, LayerType::QuantIdentity},
      {LayerType::HardTanh, LayerType::QuantHardTanh}, {LayerType::Tanh, LayerType::QuantTanh},
      {LayerType::Sigmoid, LayerType::QuantSigmoid}};
  for (const auto& [a, b] : twins) {
    if (type == a) return b;
    if (type == b) return a;
  }
  return std::nullopt;
}

LayerSpec layerWithType(const LayerSpec& layer, LayerType type) {
  LayerSpec out = defaultLayer(type, layer.id, layer.x, layer.y);
  out.params.clear();
  out.pairs.clear();
  const std::vector<std::string>& known = known_params(type);
  auto knows = [&](const std::string& name) { return std::find(known.begin(), known.end(), name) != known.end(); };
  for (const auto& [name, value] : layer.params)
    if (knows(name)) out.params[name] = value;
  for (const auto& [name, value] : layer.pairs)
    if (knows(name)) out.pairs[name] = value;
  out.inputs = layer.inputs;
  if (out.inputs.size() < size_t(input_port_count(out))) out.inputs.resize(size_t(input_port_count(out)));
  out.return_quant_tensor = descriptor(type).returns_quant_tensor && layer.return_quant_tensor;
  return out;
}

}  // namespace qnn
