// SPDX-License-Identifier: GPL-3.0-or-later
// Graph checks and shape inference. Every problem becomes a Diagnostic on the node
// at fault; shape inference stops quietly below a broken node so one mistake gives
// one message, not a cascade.
#include "core/graph/validate.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "core/graph/layer_rules.h"
#include "core/graph/validate_settings.h"
#include "core/nn/eltwise_layers.h"
#include "core/nn/quant_wbiol.h"

namespace qnn {

namespace {

std::string num_str(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

bool valid_id(const std::string& id) {
  if (id.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(id[0])) return false;
  return std::all_of(id.begin(), id.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

/// Types that hand their input's QuantTensor facts through unchanged (or, for average
/// pooling, on a finer grid): the culprit of a missing input scale sits above them.
bool passes_facts(LayerType t) {
  return t == LayerType::MaxPool2d || t == LayerType::AvgPool2d || t == LayerType::Flatten ||
         t == LayerType::Dropout || t == LayerType::ReLU || t == LayerType::Identity || t == LayerType::Output;
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
  explicit Checker(const Project& p) : m_p(p) {}

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
    const size_t ports = static_cast<size_t>(input_port_count(l.type));
    if (l.type == LayerType::Input) {
      if (!sources(l).empty())
        error(l.id, "the Input node takes no inputs", "remove the connections into " + l.id, "extra-input");
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
      const LayerSpec* src = m_p.find(in);
      if (!src)
        error(l.id, l.id + "'s input '" + in + "' does not exist", "connect " + l.id + " to an existing layer",
              "missing-source");
      else if (src->type == LayerType::Output)
        error(l.id, l.id + " is fed by the Output node '" + in + "'",
              "the Output node ends the graph; connect " + l.id + " to the layer before it", "missing-source");
    }
  }

  /// A parameter that must be a whole number >= min (or absent with a default).
  void int_param(const LayerSpec& l, const char* name, bool required, int64_t min) {
    const auto it = l.params.find(name);
    if (it == l.params.end()) {
      if (required)
        error(l.id, l.id + " is missing the required parameter " + name,
              std::string("set ") + name + " in " + l.id + "'s parameters");
      return;
    }
    const double v = it->second;
    if (v != std::floor(v))
      error(l.id, l.id + ": " + name + " must be a whole number, got " + num_str(v), "");
    else if (v < static_cast<double>(min))
      error(l.id,
            l.id + ": " + name + (min > 0 ? " must be positive" : " must not be negative") + ", got " + num_str(v),
            "");
  }

  void check_params(const LayerSpec& l) {
    const auto& known = known_params(l.type);
    for (const auto& [name, value] : l.params)
      if (std::find(known.begin(), known.end(), name) == known.end())
        warning(l.id, "unknown parameter '" + name + "' for a " + to_string(l.type) + " layer is ignored",
                known.empty() ? "remove it" : "known parameters: " + join(known));
    if (is_conv(l.type)) {
      int_param(l, "in_channels", true, 1);
      int_param(l, "out_channels", true, 1);
      int_param(l, "kernel_size", true, 1);
      int_param(l, "stride", false, 1);
      int_param(l, "padding", false, 0);
      int_param(l, "dilation", false, 1);
      int_param(l, "groups", false, 1);
      const int64_t g = l.int_param("groups", 1);
      if (g > 0 && (l.int_param("in_channels", 1) % g != 0 || l.int_param("out_channels", 1) % g != 0))
        error(l.id, l.id + ": in_channels and out_channels must be divisible by groups (" + std::to_string(g) + ")",
              "change groups or the channel counts");
    } else if (is_linear(l.type)) {
      int_param(l, "in_features", true, 1);
      int_param(l, "out_features", true, 1);
    } else if (l.type == LayerType::MaxPool2d || l.type == LayerType::AvgPool2d) {
      int_param(l, "kernel_size", true, 1);
      int_param(l, "stride", false, 1);
    } else if (l.type == LayerType::Dropout) {
      const double p = l.param("p", 0.5);
      if (!(p >= 0.0 && p < 1.0))
        error(l.id, l.id + ": dropout probability p must be in [0, 1), got " + num_str(p), "");
    } else if (l.type == LayerType::QuantHardTanh || l.type == LayerType::HardTanh) {
      if (!(l.param("min_val", -1.0) < l.param("max_val", 1.0)))
        error(l.id, l.id + ": min_val must be below max_val", "");
    } else if (l.type == LayerType::BatchNorm2d) {
      int_param(l, "num_features", true, 1);
      if (!(l.param("eps", 1e-5) > 0.0)) error(l.id, l.id + ": eps must be positive, got " + num_str(l.param("eps", 1e-5)), "e.g. 1e-5");
      const double m = l.param("momentum", 0.1);
      if (!(m >= 0.0 && m <= 1.0)) error(l.id, l.id + ": momentum must be in [0, 1], got " + num_str(m), "e.g. 0.1");
    }
    if (has_weights(l.type)) {
      const double b = l.param("bias", 1.0);
      if (b != 0.0 && b != 1.0) error(l.id, l.id + ": bias must be 0 or 1 (false/true), got " + num_str(b), "");
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
              is_quant_wbiol(l.type) || is_quant_act(l.type) ? "remove it"
                                                               : "use the Quant version of the layer, or remove it");
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
    const bool wbiol = is_quant_wbiol(l.type);
    check_slot(l, l.weight_quant, "weight_quant", QuantRole::Weight, wbiol);
    check_slot(l, l.bias_quant, "bias_quant", QuantRole::Bias, wbiol && layer_has_bias(l));
    check_slot(l, l.act_quant, "act_quant", QuantRole::Activation, uses_act_quant(l.type));
    check_slot(l, l.input_quant, "input_quant", QuantRole::Activation, l.type == LayerType::QuantEltwiseAdd);
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

  /// Topological order in file order where possible; reports cycles. False if cyclic.
  bool sort() {
    std::set<std::string> placed;
    std::vector<const LayerSpec*> left;
    for (const LayerSpec& l : m_p.layers) left.push_back(&l);
    bool progress = true;
    while (!left.empty() && progress) {
      progress = false;
      for (auto it = left.begin(); it != left.end(); ++it) {
        const LayerSpec* l = *it;
        const std::vector<std::string> ins = sources(*l);
        const bool ready = std::all_of(ins.begin(), ins.end(), [&](const std::string& in) {
          return placed.count(in) || !m_p.find(in);  // a missing input was reported already
        });
        if (ready) {
          placed.insert(l->id);
          m_r.order.push_back(l->id);
          left.erase(it);
          progress = true;
          break;
        }
      }
    }
    if (left.empty()) return true;
    // Every remaining node lies on a cycle or below one; walk inputs to find the cycles.
    std::set<std::string> reported;
    for (const LayerSpec* start : left) {
      std::vector<std::string> path;
      const LayerSpec* cur = start;
      while (cur && std::find(path.begin(), path.end(), cur->id) == path.end()) {
        path.push_back(cur->id);
        const LayerSpec* next = nullptr;
        for (const std::string& in : sources(*cur))
          if (!placed.count(in) && m_p.find(in)) next = m_p.find(in);
        cur = next;
      }
      if (!cur) continue;
      const auto first = std::find(path.begin(), path.end(), cur->id);
      std::vector<std::string> cycle(first, path.end());
      std::reverse(cycle.begin(), cycle.end());  // in data-flow order
      // Start the text at the member listed first in the project (stable messages).
      auto index = [&](const std::string& id) {
        for (size_t i = 0; i < m_p.layers.size(); ++i)
          if (m_p.layers[i].id == id) return i;
        return m_p.layers.size();
      };
      std::rotate(cycle.begin(),
                  std::min_element(cycle.begin(), cycle.end(),
                                   [&](const std::string& a, const std::string& b) { return index(a) < index(b); }),
                  cycle.end());
      std::string text;
      for (const auto& id : cycle) text += id + " -> ";
      text += cycle.front();
      for (const auto& id : cycle)
        if (reported.insert(id).second)
          error(id, id + " is part of a cycle: " + text, "remove one of the connections in the cycle", "cycle");
    }
    m_r.order.clear();
    return false;
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
      if (const LayerSpec* l = m_p.find(id))
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
      const LayerSpec& l = *m_p.find(id);
      if (m_broken.count(id)) continue;
      if (l.type == LayerType::Input) {
        const auto& s = m_p.input_shape;
        if (s.empty() || std::any_of(s.begin(), s.end(), [](int64_t d) { return d <= 0; })) {
          error(id, "the input shape " + shape_text(s) + " must have at least one dimension, all positive",
                "set the input shape, e.g. [1, 32, 32] for [C, H, W]", "input-shape");
          continue;
        }
        m_r.nodes[id] = NodeInfo{s, false, 0, false, "", false};
        continue;
      }
      const size_t ports = static_cast<size_t>(input_port_count(l.type));
      if (l.inputs.size() < ports) continue;
      std::vector<NodeInfo> ins;
      for (size_t port = 0; port < ports; ++port) {
        const auto src = m_r.nodes.find(l.inputs[port]);
        if (src == m_r.nodes.end()) break;  // the producer is broken: already reported
        ins.push_back(src->second);
      }
      if (ins.size() != ports) continue;
      NodeInfo out;
      const bool ok = is_add(l.type) ? infer_add(l, ins, out) : infer_node(l, l.inputs[0], ins[0], out);
      if (ok) m_r.nodes[id] = out;
    }
  }

  /// Add / QuantEltwiseAdd: equal shapes; the Brevitas QuantTensor `+` rule for Add.
  bool infer_add(const LayerSpec& l, const std::vector<NodeInfo>& in, NodeInfo& out) {
    const std::string& a = l.inputs[0];
    const std::string& b = l.inputs[1];
    if (in[0].shape != in[1].shape) {
      error(l.id, l.id + " adds " + shape_text(in[0].shape) + " from " + a + " (port 0) to " +
                      shape_text(in[1].shape) + " from " + b + " (port 1); the shapes must be equal",
            "change the layers feeding " + l.id + " so both produce the same shape", "shape-mismatch");
      return false;
    }
    out = NodeInfo{in[0].shape, false, 0, false, "", false};
    if (l.type == LayerType::QuantEltwiseAdd) {
      const QuantSpec q = *effective_act_quant(l);
      if (l.return_quant_tensor) out = NodeInfo{in[0].shape, true, q.bit_width, q.is_signed, l.id, false};
      return true;
    }
    if (!in[0].quantized || !in[1].quantized) return true;  // a float operand: the sum is float
    if (in[0].scale_source != in[1].scale_source) {
      error(l.id, l.id + " adds quantized tensors with different scales: port 0 (from " + a + ") carries " +
                      in[0].scale_source + "'s scale, port 1 (from " + b + ") carries " + in[1].scale_source +
                      "'s (Brevitas: \"Scaling factors are different\" in eval)",
            "use a QuantEltwiseAdd (one input quantizer for both), or turn off return_quant_tensor on " +
                in[0].scale_source + " or " + in[1].scale_source + " to add in float",
            "add-scales");
      return false;
    }
    out.quantized = true;
    out.bit_width = add_bit_width(in[0].bit_width, in[0].is_signed, in[1].bit_width, in[1].is_signed);
    out.is_signed = in[0].is_signed || in[1].is_signed;
    out.scale_source = in[0].scale_source;
    out.per_channel = in[0].per_channel;
    return true;
  }

  bool infer_node(const LayerSpec& l, const std::string& from, const NodeInfo& in, NodeInfo& out) {
    out = in;  // pass-through unless the type says otherwise
    const std::string& id = l.id;
    if (is_conv(l.type)) {
      if (in.shape.size() != 3) {
        error(id, id + " expects a [C, H, W] input, gets " + shape_text(in.shape) + " from " + from,
              "a convolution needs image-shaped input; place " + id + " before the Flatten", "shape-mismatch");
        return false;
      }
      const int64_t cin = l.int_param("in_channels", 0);
      if (cin != in.shape[0]) {
        error(id, id + " expects " + std::to_string(cin) + " input channels, gets " + std::to_string(in.shape[0]) +
                      " from " + from,
              "set " + id + "'s in_channels to " + std::to_string(in.shape[0]) + " or change " + from,
              "channel-mismatch");
        return false;
      }
      const int64_t k = l.int_param("kernel_size", 1), s = l.int_param("stride", 1);
      const int64_t pad = l.int_param("padding", 0), d = l.int_param("dilation", 1);
      std::vector<int64_t> shape{l.int_param("out_channels", 1), 0, 0};
      for (int i = 1; i <= 2; ++i) {
        const int64_t n = in.shape[i] + 2 * pad - d * (k - 1) - 1;
        shape[i] = n < 0 ? 0 : n / s + 1;
      }
      if (!spatial_ok(l, from, in, shape, k)) return false;
      out.shape = shape;
      return wbiol_facts(l, from, in, l.int_param("in_channels", 1) / l.int_param("groups", 1) * k * k, out);
    }
    if (is_linear(l.type)) {
      const int64_t fin = l.int_param("in_features", 0);
      if (in.shape.size() != 1) {
        error(id, id + " expects a flat input of " + std::to_string(fin) + " features, gets " +
                      shape_text(in.shape) + " from " + from,
              "insert a Flatten between " + from + " and " + id, "feature-mismatch");
        return false;
      }
      if (fin != in.shape[0]) {
        error(id, id + " expects " + std::to_string(fin) + " features, gets " + std::to_string(in.shape[0]) +
                      " from " + from,
              "set " + id + "'s in_features to " + std::to_string(in.shape[0]) + " or change " + from,
              "feature-mismatch");
        return false;
      }
      out.shape = {l.int_param("out_features", 1)};
      return wbiol_facts(l, from, in, fin, out);
    }
    switch (l.type) {
      case LayerType::MaxPool2d:
      case LayerType::AvgPool2d: {
        if (in.shape.size() != 3) {
          error(id, id + " expects a [C, H, W] input, gets " + shape_text(in.shape) + " from " + from,
                "pooling needs image-shaped input; place " + id + " before the Flatten", "shape-mismatch");
          return false;
        }
        const int64_t k = l.int_param("kernel_size", 1), s = l.int_param("stride", k);
        std::vector<int64_t> shape{in.shape[0], 0, 0};
        for (int i = 1; i <= 2; ++i) shape[i] = in.shape[i] < k ? 0 : (in.shape[i] - k) / s + 1;
        if (!spatial_ok(l, from, in, shape, k)) return false;
        out.shape = shape;
        if (l.type == LayerType::AvgPool2d && in.quantized) {
          out.bit_width = in.bit_width + static_cast<int64_t>(std::ceil(std::log2(static_cast<double>(k * k))));
          out.scale_source = id;  // scale / k^2: a grid of its own
        }
        return true;
      }
      case LayerType::BatchNorm2d: {
        const int64_t c = l.int_param("num_features", 0);
        if (in.shape.size() != 3) {
          error(id, id + " expects a [C, H, W] input, gets " + shape_text(in.shape) + " from " + from,
                "place " + id + " before the Flatten", "shape-mismatch");
          return false;
        }
        if (c != in.shape[0]) {
          error(id, id + " expects " + std::to_string(c) + " channels (num_features), gets " +
                        std::to_string(in.shape[0]) + " from " + from,
                "set " + id + "'s num_features to " + std::to_string(in.shape[0]), "channel-mismatch");
          return false;
        }
        out = NodeInfo{in.shape, false, 0, false, "", false};  // normalised floats: no grid
        return true;
      }
      case LayerType::Flatten: {
        int64_t n = 1;
        for (int64_t d : in.shape) n *= d;
        out.shape = {n};
        return true;
      }
      case LayerType::QuantIdentity:
      case LayerType::QuantReLU:
      case LayerType::QuantHardTanh: {
        const QuantSpec q = *effective_act_quant(l);
        out.quantized = l.return_quant_tensor;
        out.bit_width = out.quantized ? q.bit_width : 0;
        out.is_signed = out.quantized && q.is_signed;
        out.scale_source = out.quantized ? id : "";
        out.per_channel = false;
        return true;
      }
      case LayerType::HardTanh: out = NodeInfo{out.shape, false, 0, false, "", false}; return true;
      default: return true;  // Output, ReLU, Identity, Dropout: values and metadata pass through
    }
  }

  bool spatial_ok(const LayerSpec& l, const std::string& from, const NodeInfo& in,
                  const std::vector<int64_t>& shape, int64_t k) {
    if (shape[1] > 0 && shape[2] > 0) return true;
    error(l.id, l.id + "'s output would be " + shape_text(shape) + ": its " + std::to_string(k) + "x" +
                    std::to_string(k) + " window does not fit the " + std::to_string(in.shape[1]) + "x" +
                    std::to_string(in.shape[2]) + " input from " + from,
          "use a smaller kernel_size or stride, add padding, or feed a larger input", "spatial");
    return false;
  }

  /// Output QuantTensor facts of a layer with weights (quantization.md section 4).
  bool wbiol_facts(const LayerSpec& l, const std::string& from, const NodeInfo& in, int64_t fan_in,
                   NodeInfo& out) {
    const auto wq = effective_weight_quant(l);
    const auto bq = effective_bias_quant(l);
    out.quantized = false;
    out.bit_width = 0;
    out.is_signed = false;
    out.scale_source.clear();
    out.per_channel = false;
    if (bq && !in.quantized) {
      error(l.id, bq->preset + " needs the input scale, but its input from " + from +
                      " is not a QuantTensor (Brevitas: \"Input scale required\")",
            missing_scale_hint(l, from), "bias-needs-scale");
      return false;
    }
    if (bq && in.per_channel) {
      error(l.id, bq->preset + " needs a per-tensor input scale, but its input from " + from + " carries " +
                      in.scale_source + "'s per-channel scale (per-channel weights)",
            "requantize per tensor before " + l.id + " (a QuantReLU or QuantIdentity with return_quant_tensor), "
            "use per-tensor weights on " + in.scale_source + ", or remove " + l.id + "'s bias_quant",
            "bias-per-channel-input");
      return false;
    }
    if (!l.return_quant_tensor || !wq || !in.quantized || (layer_has_bias(l) && !bq)) return true;
    out.quantized = true;
    out.bit_width = accumulator_bit_width(in.bit_width, wq->bit_width, fan_in);
    if (bq) out.bit_width = std::max<int64_t>(out.bit_width, bq->bit_width) + 1;
    out.is_signed = in.is_signed || wq->is_signed;
    out.scale_source = l.id;  // the accumulator grid s_in * s_w
    out.per_channel = wq->per_channel || in.per_channel;
    return true;
  }

  /// Finds the layer that dropped the QuantTensor above `layer` and says what to change.
  std::string missing_scale_hint(const LayerSpec& layer, const std::string& from) {
    const LayerSpec* src = m_p.find(from);
    while (src && passes_facts(src->type) && !src->inputs.empty() && m_p.find(src->inputs[0]))
      src = m_p.find(src->inputs[0]);
    const std::string alt = ", or remove " + layer.id + "'s bias_quant to keep a float bias";
    if (src && (uses_act_quant(src->type) || is_quant_wbiol(src->type)) && !src->return_quant_tensor)
      return "turn on return_quant_tensor on " + src->id + ": without it " + src->id +
             " passes plain floats and " + layer.id + " has no input scale for its bias" + alt;
    if (src && is_quant_wbiol(src->type))
      return src->id + " cannot return a quantized tensor (its own input, weights or bias are not quantized)" + alt;
    return "insert a QuantIdentity with return_quant_tensor before " + layer.id + alt;
  }

  const Project& m_p;
  ValidationResult m_r;
  std::set<std::string> m_broken;  ///< nodes with an error: no shape inference below them
  std::string m_input, m_output;
};

}  // namespace

ValidationResult validate(const Project& project) { return Checker(project).run(); }

}  // namespace qnn
