// SPDX-License-Identifier: GPL-3.0-or-later
// model.py of the Brevitas export and its pre-flight (brevitas_export.h). Class and
// keyword names are those of Brevitas 0.12.1: brevitas/nn/quant_conv.py, quant_linear.py,
// quant_activation.py, quant_eltwise.py, quant_avg_pool.py; brevitas/quant/scaled_int.py,
// shifted_scaled_int.py, fixed_point.py, binary.py; keyword prefixes weight_ (QuantWBIOL),
// input_ / output_ (QuantEltwiseAdd), none for activations and trunc_quant.
#include "core/export/brevitas_export.h"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "core/graph/layer_rules.h"
#include "core/graph/validate.h"
#include "core/layers/layer_descriptor.h"

namespace qnn {

namespace {

// Names a layer id cannot take: Python keywords, the names forward() uses, and members
// of torch.nn.Module an attribute would shadow.
const std::set<std::string>& reserved_names() {
  static const std::set<std::string> s{
      "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
      "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
      "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "match", "case",
      "self", "x", "torch", "nn", "qnn", "super",
      "training", "forward", "eval", "train", "to", "cuda", "cpu", "xpu", "ipu", "mtia", "half", "float", "double",
      "bfloat16", "type", "apply", "parameters", "buffers", "children", "modules", "named_parameters",
      "named_buffers", "named_children", "named_modules", "state_dict", "load_state_dict", "zero_grad",
      "register_buffer", "register_parameter", "register_module", "add_module", "get_submodule", "get_parameter",
      "get_buffer", "share_memory", "extra_repr", "requires_grad_", "to_empty", "dump_patches", "call_super_init",
      "get_extra_state", "set_extra_state", "register_forward_hook", "register_forward_pre_hook",
      "register_backward_hook", "register_full_backward_hook", "register_full_backward_pre_hook",
      "register_state_dict_pre_hook", "register_load_state_dict_post_hook", "compile"};
  return s;
}

/// Shortest decimal that reads back as `v` (Python float syntax: always a '.' or 'e').
/// std::to_chars: independent of the C locale (the GUI runs under the user's, where
/// printf would write "0,1").
std::string py_real(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string py_bool(bool b) { return b ? "True" : "False"; }

/// One number, or a tuple "(h, w)" when the entries differ.
std::string py_pair(const std::array<int64_t, 2>& p) {
  return p[0] == p[1] ? std::to_string(p[0]) : "(" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ")";
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

/// A quantizer's class and keyword overrides (prefixed as the layer wants them).
struct QuantText {
  std::string cls;                    ///< Brevitas class, e.g. "Int8WeightPerChannelFloat"
  std::vector<std::string> kwargs;    ///< e.g. "weight_bit_width=3"
  std::string refusal;                ///< non-empty: no Brevitas equivalent (the reason)
};

std::string swap_granularity(const std::string& name, bool per_channel) {
  const std::string from = per_channel ? "PerTensor" : "PerChannel", to = per_channel ? "PerChannel" : "PerTensor";
  const size_t at = name.find(from);
  return at == std::string::npos ? name : name.substr(0, at) + to + name.substr(at + from.size());
}

/// Weight classes `from brevitas.quant import` finds (in its modules' __all__;
/// Int8WeightPerChannelFixedPoint is not there in 0.12.1, brevitas/quant/fixed_point.py).
const std::set<std::string>& importable_weight_classes() {
  static const std::set<std::string> s{"Int8WeightPerTensorFloat", "Int8WeightPerChannelFloat",
                                       "ShiftedUint8WeightPerTensorFloat", "ShiftedUint8WeightPerChannelFloat",
                                       "Int8WeightPerTensorFixedPoint", "SignedBinaryWeightPerTensorConst"};
  return s;
}

QuantText quant_text(const QuantSpec& s, const std::string& prefix) {
  QuantText t;
  const std::string what = prefix.empty() ? "act_quant" : prefix + "quant";
  QuantSpec base;
  try {
    base = presets::by_name(s.preset);
  } catch (const Error&) {
    t.refusal = what + " " + s.preset + ": no Brevitas quantizer of that name";
    return t;
  }
  t.cls = s.preset;
  // Per-channel or per-tensor against the preset: the twin class when brevitas.quant has
  // it, else the keyword scaling_per_output_channel, which takes priority over the class's
  // scaling_per_output_type (brevitas/quant/solver/common.py SolveStatsReduceDimFromEnum).
  std::vector<std::string> granularity;
  if (s.role == QuantRole::Weight && s.per_channel != base.per_channel) {
    const std::string twin = swap_granularity(s.preset, s.per_channel);
    if (twin != s.preset && importable_weight_classes().count(twin))
      t.cls = twin;
    else
      granularity.push_back(prefix + "scaling_per_output_channel=" + py_bool(s.per_channel));
    base.per_channel = s.per_channel;
  }
  if (s.role == QuantRole::Bias) {
    if (s.bit_width != 8 && s.bit_width != 16 && s.bit_width != 32) {
      t.refusal = what + ": " + std::to_string(s.bit_width) + "-bit bias: Brevitas has Int8Bias, Int16Bias, Int32Bias";
      return t;
    }
    t.cls = "Int" + std::to_string(s.bit_width) + "Bias";
    return t;
  }
  // A learned weight scale on a statistics preset: weight_scaling_impl_type='parameter'
  // (ParameterScaling, its value in the state dict; brevitas/quant/solver/parameter.py).
  const bool learned_weight =
      s.role == QuantRole::Weight && s.scaling == ScalingKind::Parameter && base.scaling == ScalingKind::WeightStats;
  if (s.shifted != base.shifted || s.power_of_two != base.power_of_two || s.binary != base.binary ||
      (s.scaling != base.scaling && !learned_weight)) {
    t.refusal = what + " " + s.preset + " with " +
                (s.shifted != base.shifted ? std::string(s.shifted ? "a zero point" : "no zero point")
                 : s.power_of_two != base.power_of_two ? std::string(s.power_of_two ? "a power-of-two scale" : "a float scale")
                 : s.binary != base.binary             ? std::string(s.binary ? "binary codes" : "integer codes")
                                                       : "scaling " + to_string(s.scaling)) +
                ": no Brevitas quantizer class matches";
    return t;
  }
  if (s.role == QuantRole::Activation && s.shifted) {
    t.refusal = what + " " + s.preset + ": the learned zero point (zero_point_impl) is not exported to Brevitas yet";
    return t;
  }
  if (s.bit_width != base.bit_width) t.kwargs.push_back(prefix + "bit_width=" + std::to_string(s.bit_width));
  if (!s.binary && s.narrow_range != base.narrow_range)
    t.kwargs.push_back(prefix + "narrow_range=" + py_bool(s.narrow_range));
  if (s.is_signed != base.is_signed) t.kwargs.push_back(prefix + "signed=" + py_bool(s.is_signed));
  for (const std::string& k : granularity) t.kwargs.push_back(k);
  if (s.role == QuantRole::Activation && s.scaling == ScalingKind::RuntimeStats) {
    if (s.collect_stats_steps != base.collect_stats_steps)
      t.kwargs.push_back(prefix + "collect_stats_steps=" + std::to_string(s.collect_stats_steps));
    if (s.momentum != base.momentum) t.kwargs.push_back(prefix + "scaling_stats_momentum=" + py_real(s.momentum));
    if (s.high_percentile_q != base.high_percentile_q)
      t.kwargs.push_back(prefix + "high_percentile_q=" + py_real(s.high_percentile_q));
  }
  // The binary presets are CONST in Brevitas; 'parameter' makes their scale the learned
  // state-dict value (ClampedBinaryQuant over ParameterScaling). Weights initialise
  // ParameterScaling from scaling_const (ScalingConstInit), activations from
  // min_val/max_val (MinMaxScalingInit, written by LineBuilder).
  if (learned_weight || s.binary) t.kwargs.push_back(prefix + "scaling_impl_type='parameter'");
  // SignedBinaryWeightPerTensorConst brings its own scaling_const (0.1): written only
  // when the project starts elsewhere.
  const double init = std::max(std::fabs(s.min_val), std::fabs(s.max_val));
  if (s.role == QuantRole::Weight && s.scaling == ScalingKind::Parameter && !(s.binary && init == 0.1))
    t.kwargs.push_back(prefix + "scaling_const=" + py_real(init));
  return t;
}

/// Brevitas's default quantizer class of a layer type's slot (keyword left out when equal).
std::string brevitas_default(LayerType t, QuantSlot slot) {
  if (slot == QuantSlot::Weight) return "Int8WeightPerTensorFloat";
  if (slot == QuantSlot::Bias) return "";  // QuantWBIOL: bias_quant=None (float bias)
  if (t == LayerType::QuantReLU || t == LayerType::QuantSigmoid) return "Uint8ActPerTensorFloat";
  if (t == LayerType::QuantHardTanh) return "Int8ActPerTensorFloatMinMaxInit";
  return "Int8ActPerTensorFloat";  // QuantIdentity, QuantTanh, QuantEltwiseAdd input / output
}

/// Collects what a layer's module line needs.
class LineBuilder {
 public:
  LineBuilder(const LayerSpec& l, std::set<std::string>& imports) : m_l(l), m_imports(imports) {}
  void arg(const std::string& a) { m_args.push_back(a); }
  void quant(const std::optional<QuantSpec>& s, QuantSlot slot, const std::string& prefix) {
    if (!s) return;
    const QuantText t = quant_text(*s, prefix);
    if (!t.refusal.empty()) throw ExportError(m_l.id + ": " + t.refusal);
    const std::string key = slot == QuantSlot::Weight ? "weight_quant"
                            : slot == QuantSlot::Bias ? "bias_quant"
                            : prefix.empty()          ? "act_quant"
                                                      : prefix + "quant";
    if (t.cls != brevitas_default(m_l.type, slot)) {
      m_args.push_back(key + "=" + t.cls);
      m_imports.insert(t.cls);
    }
    for (const std::string& k : t.kwargs) m_args.push_back(k);
    const bool binary_default_range = s->binary && s->min_val == -1.0 && s->max_val == 1.0;  // the preset's
    if (s->scaling == ScalingKind::Parameter && s->role == QuantRole::Activation &&
        m_l.type != LayerType::QuantHardTanh && !binary_default_range) {  // MinMaxInit needs its range (HardTanh passes its own)
      m_args.push_back(prefix + "min_val=" + py_real(s->min_val));
      m_args.push_back(prefix + "max_val=" + py_real(s->max_val));
    }
  }
  std::string call(const std::string& fn) const { return fn + "(" + join(m_args, ", ") + ")"; }

 private:
  const LayerSpec& m_l;
  std::set<std::string>& m_imports;
  std::vector<std::string> m_args;
};

std::string pair_arg(const LayerSpec& l, const std::string& name) { return py_pair(pair_value(l, name)); }

/// "stride=2" when the parameter differs from `fallback` on either axis, else "".
void optional_pair(LineBuilder& b, const LayerSpec& l, const std::string& name, int64_t fallback) {
  const auto p = pair_value(l, name);
  if (p[0] != fallback || p[1] != fallback) b.arg(name + "=" + py_pair(p));
}

void optional_int(LineBuilder& b, const LayerSpec& l, const std::string& name, int64_t fallback) {
  const int64_t v = l.int_param(name, fallback);
  if (v != fallback) b.arg(name + "=" + std::to_string(v));
}

void conv_args(LineBuilder& b, const LayerSpec& l, bool pairs) {
  b.arg(std::to_string(l.int_param("in_channels", 1)));
  b.arg(std::to_string(l.int_param("out_channels", 1)));
  if (pairs) {
    b.arg(pair_arg(l, "kernel_size"));
    optional_pair(b, l, "stride", 1);
    optional_pair(b, l, "padding", 0);
    optional_pair(b, l, "dilation", 1);
  } else {
    b.arg(std::to_string(l.int_param("kernel_size", 1)));
    optional_int(b, l, "stride", 1);
    optional_int(b, l, "padding", 0);
    optional_int(b, l, "dilation", 1);
  }
  optional_int(b, l, "groups", 1);
  if (!layer_has_bias(l)) b.arg("bias=False");
}

void wbiol_quant(LineBuilder& b, const LayerSpec& l) {
  b.quant(effective_weight_quant(l), QuantSlot::Weight, "weight_");
  b.quant(effective_bias_quant(l), QuantSlot::Bias, "bias_");
  if (l.return_quant_tensor) b.arg("return_quant_tensor=True");
}

void act_quant(LineBuilder& b, const LayerSpec& l) {
  b.quant(effective_act_quant(l), QuantSlot::Act, "");
  if (l.return_quant_tensor) b.arg("return_quant_tensor=True");
}

void trunc_args(LineBuilder& b, const LayerSpec& l, std::set<std::string>& imports) {
  if (l.int_param("floor", 0) != 0) {
    b.arg("trunc_quant=TruncTo8bit");
    imports.insert("TruncTo8bit");
  }
  optional_int(b, l, "bit_width", 8);
  if (!l.return_quant_tensor) b.arg("return_quant_tensor=False");  // Brevitas's default is True
}

/// The module expression of a layer ("" for layers computed in forward(): Add, Concat).
/// Throws ExportError for a type this writer does not know.
std::string module_expr(const LayerSpec& l, std::set<std::string>& imports) {
  LineBuilder b(l, imports);
  switch (l.type) {
    case LayerType::QuantConv2d: conv_args(b, l, true); wbiol_quant(b, l); return b.call("qnn.QuantConv2d");
    case LayerType::QuantConv1d: conv_args(b, l, false); wbiol_quant(b, l); return b.call("qnn.QuantConv1d");
    case LayerType::QuantLinear:
      b.arg(std::to_string(l.int_param("in_features", 1)));
      b.arg(std::to_string(l.int_param("out_features", 1)));
      b.arg("bias=" + py_bool(layer_has_bias(l)));
      wbiol_quant(b, l);
      return b.call("qnn.QuantLinear");
    case LayerType::Conv2d: conv_args(b, l, true); return b.call("nn.Conv2d");
    case LayerType::Conv1d: conv_args(b, l, false); return b.call("nn.Conv1d");
    case LayerType::Linear:
      b.arg(std::to_string(l.int_param("in_features", 1)));
      b.arg(std::to_string(l.int_param("out_features", 1)));
      b.arg("bias=" + py_bool(layer_has_bias(l)));
      return b.call("nn.Linear");
    case LayerType::QuantIdentity: act_quant(b, l); return b.call("qnn.QuantIdentity");
    case LayerType::QuantReLU: act_quant(b, l); return b.call("qnn.QuantReLU");
    case LayerType::QuantTanh: act_quant(b, l); return b.call("qnn.QuantTanh");
    case LayerType::QuantSigmoid: act_quant(b, l); return b.call("qnn.QuantSigmoid");
    case LayerType::QuantHardTanh:
      b.arg("min_val=" + py_real(param_value(l, "min_val")));
      b.arg("max_val=" + py_real(param_value(l, "max_val")));
      act_quant(b, l);
      return b.call("qnn.QuantHardTanh");
    case LayerType::QuantEltwiseAdd:
      b.quant(effective_input_quant(l), QuantSlot::Input, "input_");
      b.quant(effective_act_quant(l), QuantSlot::Act, "output_");
      if (l.return_quant_tensor) b.arg("return_quant_tensor=True");
      return b.call("qnn.QuantEltwiseAdd");
    case LayerType::ReLU: return "nn.ReLU()";
    case LayerType::Tanh: return "nn.Tanh()";
    case LayerType::Sigmoid: return "nn.Sigmoid()";
    case LayerType::Identity: return "nn.Identity()";
    case LayerType::HardTanh:
      return "nn.Hardtanh(min_val=" + py_real(param_value(l, "min_val")) + ", max_val=" +
             py_real(param_value(l, "max_val")) + ")";
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d: {
      b.arg(pair_arg(l, "kernel_size"));
      if (pair_value(l, "stride") != pair_value(l, "kernel_size")) b.arg("stride=" + pair_arg(l, "stride"));
      return b.call(l.type == LayerType::MaxPool2d ? "nn.MaxPool2d" : "nn.AvgPool2d");
    }
    case LayerType::TruncAvgPool2d:
      b.arg("kernel_size=" + pair_arg(l, "kernel_size"));
      if (pair_value(l, "stride") != pair_value(l, "kernel_size")) b.arg("stride=" + pair_arg(l, "stride"));
      trunc_args(b, l, imports);
      return b.call("qnn.TruncAvgPool2d");
    case LayerType::TruncAdaptiveAvgPool2d:
      b.arg("output_size=" + pair_arg(l, "output_size"));
      trunc_args(b, l, imports);
      return b.call("qnn.TruncAdaptiveAvgPool2d");
    case LayerType::Flatten: return "nn.Flatten()";
    case LayerType::Dropout: return "nn.Dropout(p=" + py_real(param_value(l, "p")) + ")";
    case LayerType::BatchNorm2d:
    case LayerType::BatchNorm1d: {
      b.arg(std::to_string(l.int_param("num_features", 1)));
      if (param_value(l, "eps") != 1e-5) b.arg("eps=" + py_real(param_value(l, "eps")));
      if (param_value(l, "momentum") != 0.1) b.arg("momentum=" + py_real(param_value(l, "momentum")));
      // A frozen BatchNorm (an imported affine map): the small class model.py defines.
      if (param_value(l, "frozen") != 0.0)
        return b.call(l.type == LayerType::BatchNorm2d ? "FrozenBatchNorm2d" : "FrozenBatchNorm1d");
      return b.call(l.type == LayerType::BatchNorm2d ? "nn.BatchNorm2d" : "nn.BatchNorm1d");
    }
    case LayerType::Upsample:
      return "nn.Upsample(scale_factor=" + std::to_string(l.int_param("scale_factor", 2)) + ", mode='nearest')";
    case LayerType::DepthToSpace: return "nn.PixelShuffle(" + std::to_string(l.int_param("block_size", 2)) + ")";
    case LayerType::Add:
    case LayerType::Concat:
    case LayerType::Input:
    case LayerType::Output: return "";
  }
  throw ExportError(l.id + ": layer type " + to_string(l.type) + " has no Brevitas module in this exporter");
}

}  // namespace

std::string brevitas_class_name(const std::string& project_name) {
  std::string out;
  bool word_start = true;
  for (char c : project_name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) && u < 128) {
      out += word_start ? char(std::toupper(u)) : c;
      word_start = false;
    } else {
      word_start = true;
    }
  }
  if (out.empty()) return "QuantNet";
  if (std::isdigit(static_cast<unsigned char>(out[0]))) out = "Net" + out;
  return out;
}

std::vector<ExportIssue> brevitas_issues(const Project& project, const ValidationResult& v) {
  std::vector<ExportIssue> out;
  for (const std::string& id : v.order) {
    const LayerSpec& l = *project.find(id);
    if (l.type == LayerType::Input || l.type == LayerType::Output) continue;
    if (reserved_names().count(id) || id.rfind("__", 0) == 0)
      out.push_back({true, id, "'" + id + "' cannot name a Brevitas module attribute (a Python keyword or a member "
                               "of torch.nn.Module); rename the layer"});
    const std::vector<std::pair<const char*, std::optional<QuantSpec>>> slots{
        {"weight_", effective_weight_quant(l)}, {"bias_", effective_bias_quant(l)},
        {l.type == LayerType::QuantEltwiseAdd ? "output_" : "", effective_act_quant(l)},
        {"input_", effective_input_quant(l)}};
    for (const auto& [prefix, spec] : slots) {
      if (!spec) continue;
      const QuantText t = quant_text(*spec, prefix);
      if (!t.refusal.empty()) out.push_back({true, id, t.refusal});
    }
    if (l.type == LayerType::HardTanh && !l.inputs.empty() && v.nodes.count(l.inputs[0]) &&
        v.nodes.at(l.inputs[0]).quantized)
      out.push_back({true, id, "float HardTanh on a quantized input: Brevitas's F.hardtanh keeps the QuantTensor, "
                               "the app's float HardTanh drops it; use QuantHardTanh or put it after a float layer"});
    try {
      std::set<std::string> imports;
      module_expr(l, imports);
    } catch (const ExportError& e) {
      if (std::string(e.what()).find("has no Brevitas module") != std::string::npos)
        out.push_back({true, id, "layer type " + to_string(l.type) + " has no Brevitas module in this exporter"});
    }
  }
  return out;
}

std::string brevitas_python(const Project& project) {
  const ValidationResult v = validate(project);
  if (!v.ok()) throw ExportError("the project is not valid:\n" + v.error_text());
  const std::string cls = brevitas_class_name(project.name);
  std::set<std::string> imports;
  std::vector<std::string> init, fwd;
  std::map<std::string, std::string> var;  // layer id -> Python variable of its output
  std::string input_var = "x";
  for (const std::string& id : v.order) {
    const LayerSpec& l = *project.find(id);
    auto in = [&](size_t port) {
      const std::string& src = l.inputs.at(port);
      return var.count(src) ? var.at(src) : src;
    };
    if (l.type == LayerType::Input) {
      var[id] = input_var;
      continue;
    }
    if (l.type == LayerType::Output) {
      fwd.push_back("return " + in(0));
      continue;
    }
    var[id] = id;
    const std::string expr = module_expr(l, imports);
    if (!expr.empty()) init.push_back("self." + id + " = " + expr);
    if (l.type == LayerType::Add) {
      fwd.push_back(id + " = " + in(0) + " + " + in(1));
    } else if (l.type == LayerType::Concat) {
      std::vector<std::string> parts;
      for (int p = 0; p < input_port_count(l); ++p) parts.push_back(in(size_t(p)));
      fwd.push_back(id + " = torch.cat([" + join(parts, ", ") + "], dim=1)");
    } else if (l.type == LayerType::QuantEltwiseAdd) {
      fwd.push_back(id + " = self." + id + "(" + in(0) + ", " + in(1) + ")");
    } else {
      fwd.push_back(id + " = self." + id + "(" + in(0) + ")");
    }
  }

  std::ostringstream py;
  std::string shape;
  for (size_t i = 0; i < project.input_shape.size(); ++i) shape += ", " + std::to_string(project.input_shape[i]);
  // A project name is free text: no control character may end the comment line.
  std::string title = project.name.empty() ? "QNN Studio model" : project.name;
  for (char& c : title)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  py << "# " << title << "\n"
     << "# Written by QNN Studio for Brevitas 0.12.1: one attribute per layer (named by its layer id),\n"
     << "# forward() in the order of the graph. The trained weights and quantizer scales are in the\n"
     << "# state dict next to this file:\n"
     << "#   model = " << cls << "()\n"
     << "#   model.load_state_dict(torch.load('model.pt'))\n"
     << "#   model.eval()\n"
     << "#   logits = model(x)  # x: float [N" << shape << "], preprocessed as in QNN Studio\n"
     << "import torch\n"
     << "import torch.nn as nn\n"
     << "\n"
     << "import brevitas.nn as qnn\n";
  if (!imports.empty()) {
    std::vector<std::string> names(imports.begin(), imports.end());
    py << "from brevitas.quant import " << join(names, ", ") << "\n";
  }
  for (const char* dims : {"1d", "2d"}) {
    bool used = false;
    for (const LayerSpec& l : project.layers)
      used = used || ((dims[0] == '1' ? l.type == LayerType::BatchNorm1d : l.type == LayerType::BatchNorm2d) &&
                      param_value(l, "frozen") != 0.0);
    if (!used) continue;
    py << "\n\nclass FrozenBatchNorm" << dims << "(nn.BatchNorm" << dims << "):\n"
       << "    \"\"\"A BatchNorm that always uses its running statistics and learns nothing (QNN Studio's\n"
       << "    frozen BatchNorm, e.g. an imported input map x * 2 - 1); state-dict keys as BatchNorm" << dims
       << ".\"\"\"\n\n"
       << "    def __init__(self, *args, **kwargs):\n"
       << "        super().__init__(*args, **kwargs)\n"
       << "        self.requires_grad_(False)\n\n"
       << "    def train(self, mode=True):\n"
       << "        return super().train(False)\n";
  }
  py << "\n\nclass " << cls << "(nn.Module):\n"
     << "    def __init__(self):\n"
     << "        super().__init__()\n";
  for (const std::string& line : init) py << "        " << line << "\n";
  py << "\n    def forward(self, " << input_var << "):\n";
  for (const std::string& line : fwd) py << "        " << line << "\n";
  return py.str();
}

}  // namespace qnn
