// SPDX-License-Identifier: GPL-3.0-or-later
// Graph checks and shape inference. Every problem becomes a Diagnostic on the node
// at fault; shape inference stops quietly below a broken node so one mistake gives
// one message, not a cascade.
#include "core/graph/validate.h"

#include "core/graph/finn_rules.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <sstream>

#include "core/errors.h"
#include "core/graph/layer_rules.h"
#include "core/graph/validate_settings.h"
#include "core/layers/layer_descriptor.h"

namespace qnn {

namespace {

std::string num_str(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

/// The largest dimension and the most elements per sample a shape may have: beyond
/// them sizes overflow (int64 products in shape inference, MAC counts) or cannot be
/// allocated anyway.
constexpr int64_t kMaxDim = 2147483647;            // 2^31 - 1
constexpr int64_t kMaxElements = int64_t(1) << 40;

/// A whole number written out in full ("4000000000000000000", not "4e+18").
std::string whole_str(double v) {
  return v == std::floor(v) && std::fabs(v) < 9.0e18 ? std::to_string(static_cast<int64_t>(v)) : num_str(v);
}

class Checker;

/// Routes a descriptor's diagnostics to the checker, on one node.
class NodeReporter final : public InferContext {
 public:
  NodeReporter(Checker& c, std::string node) : m_c(c), m_node(std::move(node)) {}
  void error(std::string message, std::string hint, std::string code) override;
  void warning(std::string message, std::string hint, std::string code) override;
  const Project& project() const override;

 private:
  Checker& m_c;
  std::string m_node;
};

bool valid_id(const std::string& id) {
  if (id.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(id[0])) return false;
  return std::all_of(id.begin(), id.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

/// The connected ports of a layer (non-empty entries of LayerSpec::inputs).
std::vector<std::string> sources(const LayerSpec& l) {
  std::vector<std::string> out;
  for (const std::string& in : l.inputs)
    if (!in.empty()) out.push_back(in);
  return out;
}

class Checker {
 public:
  explicit Checker(const Project& p) : m_p(p) {
    m_index.reserve(p.layers.size());
    for (size_t i = 0; i < p.layers.size(); ++i) m_index.emplace(p.layers[i].id, i);  // the first of a duplicate
  }
  friend class NodeReporter;

  ValidationResult run() {
    check_settings();
    check_nodes();
    check_ends();
    if (sort()) {
      infer();
      check_unused();
    }
    return std::move(m_r);
  }

 private:
  void error(const std::string& node, std::string msg, std::string hint, std::string code = "param") {
    m_r.diagnostics.push_back(
        {Diagnostic::Severity::Error, node, std::move(msg), std::move(hint), std::move(code)});
    m_broken.insert(node);
  }
  void warning(const std::string& node, std::string msg, std::string hint, std::string code = "param") {
    m_r.diagnostics.push_back(
        {Diagnostic::Severity::Warning, node, std::move(msg), std::move(hint), std::move(code)});
  }

  // Training and dataset settings (validate_settings.cpp), on the pseudo-nodes
  // "training" and "dataset".
  void check_settings() {
    for (Diagnostic& d : settings_diagnostics(m_p)) m_r.diagnostics.push_back(std::move(d));
  }

  // ------------------------------------------------------------ per node

  void check_nodes() {
    std::set<std::string> ids;
    for (const LayerSpec& l : m_p.layers) {
      if (!valid_id(l.id))
        error(l.id, "layer id '" + l.id + "' is not a valid name",
              "use letters, digits and '_', starting with a letter or '_'", "invalid-id");
      if (!ids.insert(l.id).second)
        error(l.id, "layer id '" + l.id + "' is used by more than one layer", "give every layer its own id",
              "duplicate-id");
    }
    for (const LayerSpec& l : m_p.layers) {
      check_inputs(l);
      check_params(l);
      check_quantizers(l);
    }
  }

  void check_inputs(const LayerSpec& l) {
    const size_t ports = static_cast<size_t>(input_port_count(l));
    if (ports == 0) {
      if (!sources(l).empty())
        error(l.id, "the " + to_string(l.type) + " node takes no inputs", "remove the connections into " + l.id,
              "extra-input");
      return;
    }
    for (size_t port = 0; port < ports; ++port)
      if (port >= l.inputs.size() || l.inputs[port].empty())
        error(l.id, "input port " + std::to_string(port) + " is not connected",
              "connect a layer's output to input port " + std::to_string(port) + " of " + l.id +
                  (ports == 2 ? " (a " + to_string(l.type) + " sums ports 0 and 1)" : ""),
              "unconnected-port");
    std::vector<std::string> extra;
    for (size_t port = ports; port < l.inputs.size(); ++port)
      if (!l.inputs[port].empty()) extra.push_back(l.inputs[port]);
    if (!extra.empty())
      error(l.id,
            l.id + " has " + std::to_string(sources(l).size()) + " inputs; a " + to_string(l.type) +
                " layer takes " + (ports == 1 ? std::string("exactly one") : std::to_string(ports)),
            "remove the extra connection from " + join(extra), "extra-input");
    for (const std::string& in : sources(l)) {
      const LayerSpec* src = find(in);
      if (!src)
        error(l.id, l.id + "'s input '" + in + "' does not exist", "connect " + l.id + " to an existing layer",
              "missing-source");
      else if (src->type == LayerType::Output)
        error(l.id, l.id + " is fed by the Output node '" + in + "'",
              "the Output node ends the graph; connect " + l.id + " to the layer before it", "missing-source");
    }
  }

  /// A parameter that must be a whole number >= minimum (or absent with a default); an
  /// IntTuple parameter may be a pair [h, w] whose entries must each be so.
  void int_param(const LayerSpec& l, const ParamSchema& p) {
    const std::string& name = p.name;
    const auto pair = l.pairs.find(name);
    if (pair != l.pairs.end() && p.kind != ParamKind::IntTuple) {
      error(l.id, l.id + ": " + name + " takes one number, not a pair [h, w]",
            "a " + to_string(l.type) + " layer has one value of " + name + "; write it as a single number");
      return;
    }
    if (!l.has_param(name)) {
      if (p.required)
        error(l.id, l.id + " is missing the required parameter " + name, "set " + name + " in " + l.id + "'s parameters");
      return;
    }
    std::vector<double> v;
    if (pair != l.pairs.end())
      v = {pair->second[0], pair->second[1]};
    else
      v = {l.param(name, 0.0)};
    const std::string got = v.size() == 2 ? "[" + num_str(v[0]) + ", " + num_str(v[1]) + "]" : num_str(v[0]);
    const bool whole = std::all_of(v.begin(), v.end(), [](double x) { return x == std::floor(x); });
    const bool small = std::any_of(v.begin(), v.end(), [&](double x) { return x < p.minimum; });
    const bool huge = std::any_of(v.begin(), v.end(), [](double x) { return x > double(kMaxDim); });
    const std::string each = v.size() == 2 ? " (each entry)" : "";
    if (!whole)
      error(l.id, l.id + ": " + name + each + " must be a whole number, got " + got, "");
    else if (huge)
      error(l.id,
            l.id + ": " + name + each + " must be at most " + std::to_string(kMaxDim) + " (2^31-1), got " +
                (v.size() == 2 ? "[" + whole_str(v[0]) + ", " + whole_str(v[1]) + "]" : whole_str(v[0])),
            "", "size-overflow");
    else if (small)
      error(l.id, l.id + ": " + name + each + (p.minimum > 0 ? " must be positive" : " must not be negative") + ", got " + got,
            "");
  }

  /// The descriptor's parameter schema (whole numbers, switches), then its own checks.
  void check_params(const LayerSpec& l) {
    const LayerDescriptor& d = descriptor(l.type);
    const auto& known = known_params(l.type);
    std::vector<std::string> given;
    for (const auto& entry : l.params) given.push_back(entry.first);
    for (const auto& entry : l.pairs) given.push_back(entry.first);
    for (const std::string& name : given)
      if (std::find(known.begin(), known.end(), name) == known.end())
        warning(l.id, "unknown parameter '" + name + "' for a " + to_string(l.type) + " layer is ignored",
                known.empty() ? "remove it" : "known parameters: " + join(known));
    for (const ParamSchema& p : d.params) {
      if (p.kind == ParamKind::Int || p.kind == ParamKind::IntTuple) {
        int_param(l, p);
      } else if (l.pairs.count(p.name)) {
        error(l.id, l.id + ": " + p.name + " takes one number, not a pair [h, w]", "write it as a single number");
      }
    }
    if (d.check) {
      NodeReporter r(*this, l.id);
      d.check(l, r);
    }
    for (const ParamSchema& p : d.params) {
      if (p.kind != ParamKind::Bool) continue;
      const double b = l.param(p.name, p.default_value);
      if (b != 0.0 && b != 1.0)
        error(l.id, l.id + ": " + p.name + " must be 0 or 1 (false/true), got " + num_str(b), "");
    }
  }

  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ", ") + e;
    return s;
  }

  void check_slot(const LayerSpec& l, const std::optional<QuantSpec>& q, const char* slot, QuantRole role,
                  bool used) {
    if (!q) return;
    if (!used) {
      warning(l.id, std::string(slot) + " is ignored on a " + to_string(l.type) + " layer" +
                        (has_weights(l.type) && role == QuantRole::Bias && !layer_has_bias(l) ? " without a bias" : ""),
              descriptor(l.type).quant_slots.empty() ? "use the Quant version of the layer, or remove it"
                                                     : "remove it");
      return;
    }
    if (q->role != role) {
      error(l.id, std::string(slot) + ": " + q->preset + " is a " + to_string(q->role) + " quantizer, not a " +
                      to_string(role) + " quantizer",
            "pick one of: " + join(presets::names(role)), "quantizer");
      return;
    }
    try {
      q->validate(slot);  // bit width ranges: QuantSpec::validate (weights/activations 2..16, bias 8/16/32)
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      error(l.id, what, std::string("change the ") + slot + " settings of " + l.id,
            what.find("bit_width") != std::string::npos ? "bit-width" : "quantizer");
    }
  }

  void check_quantizers(const LayerSpec& l) {
    const LayerDescriptor& d = descriptor(l.type);
    check_slot(l, l.weight_quant, "weight_quant", QuantRole::Weight, d.uses(QuantSlot::Weight));
    check_slot(l, l.bias_quant, "bias_quant", QuantRole::Bias, d.uses(QuantSlot::Bias) && layer_has_bias(l));
    check_slot(l, l.act_quant, "act_quant", QuantRole::Activation, d.uses(QuantSlot::Act));
    check_slot(l, l.input_quant, "input_quant", QuantRole::Activation, d.uses(QuantSlot::Input));
  }

  // ------------------------------------------------------------ graph level

  void check_ends() {
    for (LayerType t : {LayerType::Input, LayerType::Output}) {
      std::vector<const LayerSpec*> found;
      for (const LayerSpec& l : m_p.layers)
        if (l.type == t) found.push_back(&l);
      const std::string name = to_string(t);
      if (found.empty())
        error("", "the graph has no " + name + " node", "add one " + name + " node",
              t == LayerType::Input ? "no-input-node" : "no-output-node");
      for (size_t i = 1; i < found.size(); ++i)
        error(found[i]->id, "a second " + name + " node ('" + found[0]->id + "' is the first)",
              "a graph has exactly one " + name + " node; remove " + found[i]->id, "second-end-node");
      if (found.size() == 1) (t == LayerType::Input ? m_input : m_output) = found[0]->id;
    }
  }

  /// Topological order in file order where possible (of the layers ready, the one
  /// listed first: Kahn's algorithm with a min-heap, O(n log n)); reports cycles.
  /// False if cyclic.
  bool sort() {
    const size_t n = m_p.layers.size();
    std::vector<size_t> waiting(n, 0);                               // unplaced distinct sources
    std::unordered_map<std::string, std::vector<size_t>> readers;   // source id -> layers reading it
    for (size_t i = 0; i < n; ++i) {
      std::vector<std::string> ins = sources(m_p.layers[i]);
      std::sort(ins.begin(), ins.end());
      ins.erase(std::unique(ins.begin(), ins.end()), ins.end());
      for (const std::string& in : ins)
        if (find(in)) {  // a missing input was reported already
          ++waiting[i];
          readers[in].push_back(i);
        }
    }
    std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
    for (size_t i = 0; i < n; ++i)
      if (waiting[i] == 0) ready.push(i);
    std::unordered_set<std::string> placed;
    std::vector<char> done(n, 0);
    while (!ready.empty()) {
      const size_t i = ready.top();
      ready.pop();
      done[i] = 1;
      const std::string& id = m_p.layers[i].id;
      m_r.order.push_back(id);
      if (!placed.insert(id).second) continue;
      const auto r = readers.find(id);
      if (r != readers.end())
        for (size_t reader : r->second)
          if (--waiting[reader] == 0) ready.push(reader);
    }
    if (m_r.order.size() == n) return true;
    // Every remaining node lies on a cycle or below one. Each follows one unplaced input
    // (the last port's), so the walks end on the cycles; every node is walked once.
    auto next = [&](size_t i) -> std::optional<size_t> {
      std::optional<size_t> out;
      for (const std::string& in : sources(m_p.layers[i]))
        if (!placed.count(in))
          if (const auto it = m_index.find(in); it != m_index.end()) out = it->second;
      return out;
    };
    enum : char { kUnseen, kOnPath, kWalked };
    std::vector<char> state(n, kUnseen);
    std::vector<size_t> at(n, 0);  // position on the current walk
    for (size_t start = 0; start < n; ++start) {
      if (done[start] || state[start] != kUnseen) continue;
      std::vector<size_t> path;
      std::optional<size_t> cur = start;
      while (cur && state[*cur] == kUnseen) {
        state[*cur] = kOnPath;
        at[*cur] = path.size();
        path.push_back(*cur);
        cur = next(*cur);
      }
      if (cur && state[*cur] == kOnPath) {
        std::vector<size_t> cycle(path.begin() + static_cast<std::ptrdiff_t>(at[*cur]), path.end());
        std::reverse(cycle.begin(), cycle.end());  // in data-flow order
        // Start the text at the member listed first in the project (stable messages).
        std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
        report_cycle(cycle);
      }
      for (size_t i : path) state[i] = kWalked;
    }
    m_r.order.clear();
    return false;
  }

  /// A cycle of up to kCycleNamed layers: the whole cycle on every member (e.g.
  /// "conv2 is part of a cycle: conv2 -> relu2 -> conv2"). A longer one: one message on
  /// the member listed first naming its first kCycleNamed members ("c0 is part of a
  /// cycle of 2000 layers: c0 -> ... -> c9 -> … and 1990 more -> c0"), so a huge cycle
  /// gives a short report; the other members are marked broken without a message.
  void report_cycle(const std::vector<size_t>& cycle) {
    constexpr size_t kCycleNamed = 10;
    auto id = [&](size_t i) -> const std::string& { return m_p.layers[i].id; };
    std::string text;
    for (size_t k = 0; k < std::min(cycle.size(), kCycleNamed); ++k) text += id(cycle[k]) + " -> ";
    if (cycle.size() > kCycleNamed) text += "… and " + std::to_string(cycle.size() - kCycleNamed) + " more -> ";
    text += id(cycle.front());
    const std::string hint = "remove one of the connections in the cycle";
    if (cycle.size() <= kCycleNamed) {
      for (size_t i : cycle) error(id(i), id(i) + " is part of a cycle: " + text, hint, "cycle");
      return;
    }
    error(id(cycle.front()),
          id(cycle.front()) + " is part of a cycle of " + std::to_string(cycle.size()) + " layers: " + text,
          hint + " (its other " + std::to_string(cycle.size() - 1) + " layers are not reported one by one)", "cycle");
    for (size_t i : cycle) m_broken.insert(id(i));
  }

  /// No path from Input to Output (an error on the Output node) and layers whose
  /// value never reaches the Output (a warning on each).
  void check_unused() {
    if (m_output.empty() || m_broken.count(m_output)) return;
    std::set<std::string> used;
    std::vector<std::string> stack{m_output};
    while (!stack.empty()) {
      const std::string id = stack.back();
      stack.pop_back();
      if (!used.insert(id).second) continue;
      if (const LayerSpec* l = find(id))
        for (const auto& in : sources(*l)) stack.push_back(in);
    }
    if (!m_input.empty() && !used.count(m_input))
      error(m_output, "no path from " + m_input + " to " + m_output + ": the layers feeding " + m_output +
                          " do not start at the Input node",
            "connect the chain above " + m_output + " to " + m_input + " (look for unconnected input ports)",
            "no-path");
    // One warning per dangling chain: on its last layer (no layer reads its output).
    std::set<std::string> consumed;
    for (const LayerSpec& l : m_p.layers)
      for (const auto& in : sources(l)) consumed.insert(in);
    for (const LayerSpec& l : m_p.layers)
      if (!used.count(l.id) && !consumed.count(l.id) && !m_broken.count(l.id))
        warning(l.id, l.id + " does not lead to the Output node; it is computed but unused",
                "connect it towards the output or delete it", "dangling");
  }

  // ------------------------------------------------------------ shapes and facts

  void infer() {
    for (const std::string& id : m_r.order) {
      const LayerSpec& l = *find(id);
      if (m_broken.count(id)) continue;
      if (l.type == LayerType::Input) {
        const auto& s = m_p.input_shape;
        if (s.empty() || std::any_of(s.begin(), s.end(), [](int64_t d) { return d <= 0; })) {
          error(id, "the input shape " + shape_text(s) + " must have at least one dimension, all positive",
                "set the input shape, e.g. [1, 32, 32] for [C, H, W]", "input-shape");
          continue;
        }
        if (const std::string why = too_large(s); !why.empty()) {
          error(id, "the input shape " + shape_text(s) + " is too large: " + why,
                "set the input shape, e.g. [1, 32, 32] for [C, H, W]", "input-shape");
          continue;
        }
        m_r.nodes[id] = NodeInfo{s, false, 0, false, "", false};
        continue;
      }
      const size_t ports = static_cast<size_t>(input_port_count(l));
      if (l.inputs.size() < ports) continue;
      std::vector<InferInput> ins;
      for (size_t port = 0; port < ports; ++port) {
        const auto src = m_r.nodes.find(l.inputs[port]);
        if (src == m_r.nodes.end()) break;  // the producer is broken: already reported
        ins.push_back({l.inputs[port], src->second});
      }
      if (ins.size() != ports) continue;
      NodeInfo out = ins.empty() ? NodeInfo{} : ins[0].info;  // pass-through unless the type says otherwise
      const LayerDescriptor& d = descriptor(l.type);
      NodeReporter r(*this, id);
      if (d.infer && !d.infer(l, ins, out, r)) continue;
      if (const std::string why = too_large(out.shape); !why.empty()) {
        error(id, id + ": the output shape " + shape_text(out.shape) + " overflows: " + why + large_params(l),
              "make the layer's sizes smaller", "size-overflow");
        continue;
      }
      m_r.nodes[id] = out;
    }
  }

  /// Why a shape is beyond what a tensor can hold ("" when it is not): a dimension
  /// below 1 (an overflow upstream) or above kMaxDim, or more than kMaxElements elements.
  static std::string too_large(const std::vector<int64_t>& shape) {
    int64_t elements = 1;
    for (int64_t d : shape) {
      if (d < 0) return "a dimension is negative (an integer overflow)";
      if (d > kMaxDim)
        return "dimension " + std::to_string(d) + " is above " + std::to_string(kMaxDim) + " (2^31-1)";
      if (d > 0 && elements > kMaxElements / d)
        return "more than 2^40 (" + std::to_string(kMaxElements) + ") elements per sample";
      elements *= d;
    }
    return "";
  }

  /// " (padding 1000000000, ...)": the layer's whole-number parameters of 2^16 or more.
  static std::string large_params(const LayerSpec& l) {
    std::string list;
    auto add = [&](const std::string& name, double v) {
      if (std::fabs(v) >= 65536.0) list += (list.empty() ? "" : ", ") + name + " " + whole_str(v);
    };
    for (const auto& [name, v] : l.params) add(name, v);
    for (const auto& [name, v] : l.pairs) {
      add(name, v[0]);
      add(name, v[1]);
    }
    return list.empty() ? "" : " (" + list + ")";
  }

  /// The layer with this id (the first one listed, like Project::find), in O(1).
  const LayerSpec* find(const std::string& id) const {
    const auto it = m_index.find(id);
    return it == m_index.end() ? nullptr : &m_p.layers[it->second];
  }

  const Project& m_p;
  std::unordered_map<std::string, size_t> m_index;  ///< layer id -> index in m_p.layers
  ValidationResult m_r;
  std::set<std::string> m_broken;  ///< nodes with an error: no shape inference below them
  std::string m_input, m_output;
};

void NodeReporter::error(std::string message, std::string hint, std::string code) {
  m_c.error(m_node, std::move(message), std::move(hint), std::move(code));
}

void NodeReporter::warning(std::string message, std::string hint, std::string code) {
  m_c.warning(m_node, std::move(message), std::move(hint), std::move(code));
}

const Project& NodeReporter::project() const { return m_c.m_p; }

}  // namespace

ValidationResult validate(const Project& project) {
  ValidationResult r = Checker(project).run();
  if (project.deployment_target == DeploymentTarget::Finn) {
    std::vector<Diagnostic> finn = finn_diagnostics(project, r);
    r.diagnostics.insert(r.diagnostics.end(), finn.begin(), finn.end());
  }
  return r;
}

}  // namespace qnn
