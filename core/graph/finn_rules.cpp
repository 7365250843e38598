// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/graph/finn_rules.h"

#include <array>
#include <map>
#include <set>
#include <string>

namespace qnn {

namespace {

Diagnostic warning(const std::string& node, std::string message, std::string hint, const char* code) {
  Diagnostic d;
  d.severity = Diagnostic::Severity::Warning;
  d.node = node;
  d.message = std::move(message);
  d.hint = std::move(hint);
  d.code = code;
  return d;
}

bool is_activation_type(LayerType t) {
  switch (t) {
    case LayerType::QuantIdentity:
    case LayerType::QuantReLU:
    case LayerType::QuantHardTanh:
    case LayerType::QuantEltwiseAdd:
    case LayerType::QuantTanh:
    case LayerType::QuantSigmoid: return true;
    default: return false;
  }
}

/// A layer's activation quantizers by their project-file names (act_quant, input_quant).
std::array<std::pair<const char*, const std::optional<QuantSpec>*>, 2> activation_quantizers(const LayerSpec& l) {
  return {{{"act_quant", &l.act_quant}, {"input_quant", &l.input_quant}}};
}

bool is_trunc_pool(LayerType t) { return t == LayerType::TruncAvgPool2d || t == LayerType::TruncAdaptiveAvgPool2d; }

/// Whether the Quant of a quantizer fed by `id` directly follows a Relu node in the QONNX
/// export: `id` is a float ReLU (or a QuantReLU without act_quant), reached only through
/// Dropout and Identity layers, which the export drops. FINN's
/// ConvertQuantActToMultiThreshold picks the handler by that direct predecessor
/// (src/finn/transformation/qonnx/quant_act_to_multithreshold.py): Relu/Selu ->
/// QuantReluHandler; anything else (MaxPool, Flatten, Conv, the graph input, ...) ->
/// QuantIdentityHandler (qonnx_activation_handlers.py).
bool relu_directly_before(const Project& project, std::string id) {
  for (size_t hops = 0; hops <= project.layers.size(); ++hops) {
    const LayerSpec* l = project.find(id);
    if (!l) return false;
    if (l->type == LayerType::ReLU || (l->type == LayerType::QuantReLU && !l->act_quant)) return true;
    const bool dropped = l->type == LayerType::Dropout || l->type == LayerType::Identity;
    if (!dropped || l->inputs.empty() || l->inputs[0].empty()) return false;
    id = l->inputs[0];
  }
  return false;  // a cycle (validation reports it)
}

/// The activation quantizer whose grid the output of `id` lies on: `id` itself when it
/// has an act_quant, else, through layers that keep their input's values on its grid
/// (max pools, shape ops, ReLU), the quantizer before them; "" for a float tensor or an
/// accumulator (Conv/Linear output, an average, a BatchNorm).
std::string grid_source(const Project& project, std::string id) {
  for (size_t hops = 0; hops <= project.layers.size(); ++hops) {
    const LayerSpec* l = project.find(id);
    if (!l) return {};
    if (is_activation_type(l->type)) return l->id;
    switch (l->type) {
      case LayerType::MaxPool2d:
      case LayerType::Flatten:
      case LayerType::Dropout:
      case LayerType::Identity:
      case LayerType::ReLU:
      case LayerType::Upsample:
      case LayerType::DepthToSpace:
        if (l->inputs.empty() || l->inputs[0].empty()) return {};
        id = l->inputs[0];
        break;
      default: return {};
    }
  }
  return {};  // a cycle (validation reports it)
}

/// The layers that read `id`'s output, looking through Dropout and Identity (dropped by
/// the export). `consumers` maps a layer id to the ids that read it.
std::vector<std::string> export_consumers(const Project& project,
                                          const std::map<std::string, std::vector<std::string>>& consumers,
                                          const std::string& id) {
  std::vector<std::string> out, todo{id};
  std::set<std::string> seen{id};
  while (!todo.empty()) {
    const std::string cur = todo.back();
    todo.pop_back();
    auto it = consumers.find(cur);
    if (it == consumers.end()) continue;
    for (const std::string& c : it->second) {
      if (!seen.insert(c).second) continue;
      const LayerSpec* l = project.find(c);
      if (l && (l->type == LayerType::Dropout || l->type == LayerType::Identity)) todo.push_back(c);
      else out.push_back(c);
    }
  }
  return out;
}

/// The float op the QONNX export writes for `l`'s activation function, before its Quant
/// if it has an act_quant: "Tanh", "Sigmoid", "Clip" (a float HardTanh); "" for every
/// other type. A QuantHardTanh exports no Clip: as in Brevitas (_is_act_enabled) it is
/// its quantizer alone, one Quant, which FINN's QuantIdentityHandler converts.
const char* float_activation_op(const LayerSpec& l) {
  switch (l.type) {
    case LayerType::Tanh:
    case LayerType::QuantTanh: return "Tanh";
    case LayerType::Sigmoid:
    case LayerType::QuantSigmoid: return "Sigmoid";
    case LayerType::HardTanh: return "Clip";
    default: return "";
  }
}

}  // namespace

bool finn_quant_follows_relu(const Project& project, const std::string& layer_id) {
  const LayerSpec* l = project.find(layer_id);
  if (!l) return false;
  return l->type == LayerType::QuantReLU ||
         (l->type == LayerType::QuantIdentity && !l->inputs.empty() && relu_directly_before(project, l->inputs[0]));
}

bool is_finn_diagnostic(const Diagnostic& d) { return d.code.rfind("finn-", 0) == 0; }

std::vector<Diagnostic> finn_diagnostics(const Project& project, const ValidationResult& v) {
  std::vector<Diagnostic> out;
  // The float network input: the Input nodes and the shape-only layers (Flatten,
  // Dropout, Identity) fed by it, which FINN turns into reshapes.
  std::set<std::string> inputs;
  for (const LayerSpec& l : project.layers)
    if (l.type == LayerType::Input) inputs.insert(l.id);
  for (const std::string& id : v.order) {  // topological: a carrier's sources come first
    const LayerSpec* l = project.find(id);
    if (l && (l->type == LayerType::Flatten || l->type == LayerType::Dropout || l->type == LayerType::Identity) &&
        !l->inputs.empty() && inputs.count(l->inputs[0]))
      inputs.insert(id);
  }
  // Nodes validation already faults for mixed scales: no second message.
  std::set<std::string> scale_faults;
  for (const Diagnostic& d : v.diagnostics)
    if (d.code == "add-scales" || d.code == "concat-quant") scale_faults.insert(d.node);

  std::map<std::string, std::vector<std::string>> consumers;
  for (const LayerSpec& l : project.layers)
    for (const std::string& src : l.inputs)
      if (!src.empty()) consumers[src].push_back(l.id);

  for (const LayerSpec& l : project.layers) {
    // Float ops FINN builds no hardware layer for (finn-unsupported-op). FINN's
    // ConvertQuantActToMultiThreshold turns an activation Quant into a MultiThreshold
    // and removes the node before it only when that node is a Relu or Selu
    // (QuantReluHandler._remove_activation_node); for any other predecessor it falls
    // back to the QuantIdentityHandler, whose _remove_activation_node removes nothing
    // (FINN src/finn/transformation/qonnx/quant_act_to_multithreshold.py,
    // qonnx_activation_handlers.py). No streamlining or convert_to_hw_layers
    // transformation (src/finn/transformation/streamline/, fpgadataflow/
    // convert_to_hw_layers.py) takes a Tanh, Sigmoid, Clip or a remaining Relu, so such a
    // node stays a float op outside every hardware layer.
    if (const std::string op = float_activation_op(l); !op.empty()) {
      const std::string what = op == "Clip" ? "Clip (HardTanh)" : op;
      if (l.act_quant) {
        out.push_back(warning(
            l.id,
            "FINN has no hardware layer for a float " + what + ": it turns the Quant after it into thresholds "
                "but keeps the " + op + " node before it (FINN removes only a Relu there)",
            "replace " + l.id + " by a QuantReLU, or by a signed QuantIdentity or QuantHardTanh (FINN's "
                "quantized HardTanh), and retrain",
            "finn-unsupported-op"));
      } else {
        out.push_back(warning(l.id, "FINN has no hardware layer for a float " + what,
                              "use a QuantReLU or a signed QuantIdentity in place of " + l.id +
                                  " (FINN converts those into thresholds), and retrain",
                              "finn-unsupported-op"));
      }
    }
    // A float AvgPool2d exports an AveragePool with no Trunc after it. FINN builds pools
    // from MaxPool and from Brevitas's truncating average pool only (an AveragePool
    // followed by Mul and Trunc, which InferQuantAvgPool2d makes a QuantAvgPool2d; then
    // InferPool in convert_to_hw_layers.py): a bare AveragePool stays a float op.
    if (l.type == LayerType::AvgPool2d)
      out.push_back(warning(l.id,
                            "FINN has no hardware layer for a float AveragePool: it builds average pools only "
                            "from Brevitas's truncating pool (AveragePool followed by Trunc)",
                            "replace " + l.id + " by a TruncAvgPool2d on a quantized input (FLOOR truncation), "
                                "or by a MaxPool2d",
                            "finn-unsupported-op"));
    if (l.type == LayerType::ReLU || (l.type == LayerType::QuantReLU && !l.act_quant)) {
      // FINN removes a Relu only as part of the Quant right after it: every reader must
      // be a QuantIdentity (or a QuantEltwiseAdd's input quantizer).
      std::string other;
      const std::vector<std::string> readers = export_consumers(project, consumers, l.id);
      for (const std::string& c : readers) {
        const LayerSpec* r = project.find(c);
        const bool quant = r && ((r->type == LayerType::QuantIdentity && r->act_quant) ||
                                 (r->type == LayerType::QuantEltwiseAdd && r->input_quant));
        if (!quant) {
          other = c;
          break;
        }
      }
      if (!other.empty())
        out.push_back(warning(l.id,
                              "FINN has no hardware layer for a float Relu: it removes a Relu only with the "
                              "activation quantizer directly after it, and " + other + " follows " + l.id,
                              "make " + l.id + " a QuantReLU (an unsigned, non-narrow act_quant, e.g. "
                              "Uint8ActPerTensorFloat at 4 bits) or put an unsigned QuantIdentity directly after it",
                              "finn-unsupported-op"));
    }
    // Zero points must be 0.
    for (const auto& [name, q] : {std::pair<const char*, const std::optional<QuantSpec>*>{"weight_quant", &l.weight_quant},
                                  {"bias_quant", &l.bias_quant},
                                  {"act_quant", &l.act_quant},
                                  {"input_quant", &l.input_quant}}) {
      if (!*q || !(*q)->shifted) continue;
      out.push_back(warning(l.id,
                            std::string("FINN needs quantizer zero points of 0, but ") + name + " " + (*q)->preset +
                                " is asymmetric (shifted, with a zero point)",
                            std::string("make ") + name + " symmetric: set shifted off", "finn-zero-point"));
    }
    // The quantizer after a ReLU: unsigned, not narrow.
    const bool after_relu = finn_quant_follows_relu(project, l.id);
    if (after_relu && l.act_quant && (l.act_quant->is_signed || l.act_quant->narrow_range)) {
      std::string off = l.act_quant->is_signed && l.act_quant->narrow_range ? "signed and narrow_range"
                        : l.act_quant->is_signed                             ? "signed"
                                                                             : "narrow_range";
      out.push_back(warning(l.id,
                            "FINN needs an unsigned, non-narrow activation quantizer after a ReLU; act_quant is " +
                                std::string(l.act_quant->is_signed ? "signed" : "unsigned") +
                                (l.act_quant->narrow_range ? ", narrow" : ", not narrow"),
                            "set " + off + " off", "finn-relu-quant"));
    }
    // Any other activation quantizer is converted by FINN's QuantIdentityHandler, which
    // refuses an unsigned Quant ("FINN only supports signed Quant nodes for identity
    // activations"). A binary (BipolarQuant) one has no signedness to check here.
    const bool identity_handled = (l.type == LayerType::QuantIdentity && !after_relu) ||
                                  l.type == LayerType::QuantHardTanh || l.type == LayerType::QuantTanh ||
                                  l.type == LayerType::QuantSigmoid || l.type == LayerType::QuantEltwiseAdd;
    bool input_after_relu = false;
    for (const std::string& src : l.inputs) input_after_relu = input_after_relu || relu_directly_before(project, src);
    for (const auto& [name, q] : activation_quantizers(l)) {
      const bool checked = identity_handled && (std::string(name) == "act_quant" || !input_after_relu);
      if (!checked || !*q || (*q)->binary || (*q)->is_signed) continue;
      out.push_back(warning(l.id,
                            std::string("FINN converts a quantizer that does not directly follow a ReLU as a "
                                        "quantized identity, which must be signed; ") +
                                name + " is unsigned",
                            std::string("set ") + name + " signed on" +
                                (l.type == LayerType::QuantIdentity
                                     ? " (or feed this QuantIdentity straight from the ReLU: only Dropout or "
                                       "Identity may come between)"
                                     : ""),
                            "finn-identity-signed"));
    }
    // Activations above 8 bits stay unconverted.
    if (is_activation_type(l.type))
      for (const auto& [name, q] : activation_quantizers(l))
        if (*q && (*q)->bit_width > 8)
          out.push_back(warning(l.id,
                                std::string("FINN converts activations of up to 8 bits; ") + name + " has " +
                                    std::to_string((*q)->bit_width) + " bits and would stay unconverted",
                                std::string("set ") + name + " bit_width to 8 or less", "finn-act-bits"));
    // The network input must be quantized: a QuantIdentity takes it, or a ReLU whose
    // quantizer directly follows (FINN's QuantReluHandler turns Relu -> Quant into one
    // MultiThreshold on the input). A float ReLU there is finn-unsupported-op's case
    // unless only activation quantizers read it.
    const bool relu = l.type == LayerType::ReLU || l.type == LayerType::QuantReLU;
    if (!inputs.count(l.id) && l.type != LayerType::QuantIdentity && !relu)
      for (const std::string& src : l.inputs)
        if (inputs.count(src)) {
          out.push_back(warning(l.id,
                                "FINN needs a quantized network input, but this " + to_string(l.type) +
                                    " takes the float input of " + src,
                                "quantize the network input: insert a QuantIdentity with a signed quantizer (e.g. "
                                "Int8ActPerTensorFloat) between " + src + " and " + l.id,
                                "finn-input-quant"));
          break;
        }
    // Truncating pools: FLOOR.
    if (is_trunc_pool(l.type) && l.param("floor", 0.0) == 0.0)
      out.push_back(warning(l.id, "FINN truncates average pools with FLOOR; this pool rounds half to even",
                            "set floor to 1 (Brevitas TruncTo8bit)", "finn-trunc-floor"));
    // The inputs of a join: one quantizer's grid.
    if ((l.type == LayerType::Add || l.type == LayerType::Concat) && !scale_faults.count(l.id)) {
      std::string first, first_src, other, other_src;
      bool mixed = false;
      for (const std::string& src : l.inputs) {
        if (src.empty()) continue;
        const std::string grid = grid_source(project, src);
        if (first_src.empty()) {
          first = grid;
          first_src = src;
        } else if (grid != first || grid.empty()) {
          other = grid;
          other_src = src;
          mixed = true;
          break;
        }
      }
      if (mixed) {
        const auto grid_text = [](const std::string& grid, const std::string& src) {
          return grid.empty() ? src + " (float: no activation quantizer)" : src + " (" + grid + "'s scale)";
        };
        out.push_back(warning(l.id,
                              "FINN needs the inputs of a " + to_string(l.type) + " on one scale; they come from " +
                                  grid_text(first, first_src) + " and " + grid_text(other, other_src),
                              "quantize both inputs with one quantizer (a QuantEltwiseAdd for an Add, or one "
                              "QuantIdentity/QuantReLU before the branches)",
                              "finn-join-scales"));
      }
    }
  }
  return out;
}

std::vector<std::string> apply_deployment_target(Project& project, DeploymentTarget target) {
  project.deployment_target = target;
  std::vector<std::string> floored;
  if (target != DeploymentTarget::Finn) return floored;
  for (LayerSpec& l : project.layers)
    if (is_trunc_pool(l.type) && l.param("floor", 0.0) == 0.0) {
      l.set_param("floor", 1);
      floored.push_back(l.id);
    }
  return floored;
}

}  // namespace qnn
