// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/export/export_plan.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/export/brevitas_export.h"
#include "core/graph/finn_rules.h"
#include "core/graph/layer_rules.h"
#include "core/graph/validate.h"
#include "core/layers/layer_descriptor.h"

namespace qnn {

namespace {

/// Restores the model's training flag when the plan is done.
class EvalScope {
 public:
  explicit EvalScope(QuantModel& m) : m_model(m), m_was_training(m->is_training()) { m_model->eval(); }
  ~EvalScope() { m_model->train(m_was_training); }
  EvalScope(const EvalScope&) = delete;
  EvalScope& operator=(const EvalScope&) = delete;

 private:
  QuantModel& m_model;
  bool m_was_training;
};

/// "NaN in 3 of 2400 values" / "Inf in ..." / "NaN and Inf in ...", or "" when `t` is finite.
std::string non_finite_text(const torch::Tensor& t) {
  if (!t.defined() || !t.is_floating_point()) return "";
  const torch::Tensor d = t.detach();
  const int64_t nan = torch::isnan(d).sum().item<int64_t>();
  const int64_t inf = torch::isinf(d).sum().item<int64_t>();
  if (nan + inf == 0) return "";
  const std::string kind = nan && inf ? "NaN and Inf" : nan ? "NaN" : "Inf";
  return kind + " (" + std::to_string(nan + inf) + " of " + std::to_string(d.numel()) + " values)";
}

/// Integer codes of a NaN are undefined (int64 min after the cast) and an Inf scale
/// makes every code 0: refuse before computing any, naming the first tensor (in layer
/// execution order) and how many others are affected.
void require_finite_state(QuantModelImpl& model) {
  std::map<std::string, size_t> rank;
  for (size_t i = 0; i < model.order().size(); ++i) rank[model.order()[i]] = i;
  std::vector<std::pair<size_t, std::string>> bad;
  std::string first_text;
  size_t first_rank = 0;
  for (const auto& [name, t] : named_tensors(model)) {
    const std::string text = non_finite_text(t);
    if (text.empty()) continue;
    const auto it = rank.find(name.substr(0, name.find('.')));
    const size_t r = it == rank.end() ? rank.size() : it->second;
    if (bad.empty() || r < first_rank) {
      first_rank = r;
      first_text = name + " contains " + text;
    }
    bad.emplace_back(r, name);
  }
  if (bad.empty()) return;
  std::string others;
  if (bad.size() > 1) others = " (and " + std::to_string(bad.size() - 1) + " more tensor" + (bad.size() > 2 ? "s" : "") + ")";
  throw ExportError("Cannot export: " + first_text + others +
                    "; the model diverged in training (learning rate too high) or its checkpoint is damaged: "
                    "retrain with a lower learning rate");
}

}  // namespace

QuantPoint quant_point(const QuantSpec& spec, const torch::Tensor& scale, const torch::Tensor& zero_point) {
  QuantPoint p;
  torch::Tensor s = scale.detach().to(torch::kFloat32).reshape({-1}).clone();
  torch::Tensor z = zero_point.detach().to(torch::kFloat32).reshape({-1}).clone();
  if (z.numel() == 1 && s.numel() > 1) z = z.expand({s.numel()}).clone();
  if (s.numel() == 1) {
    s = s.reshape({});
    z = z.reshape({});
  }
  p.scale = s;
  p.zero_point = z;
  p.bit_width = spec.bit_width;
  p.is_signed = spec.is_signed;
  p.narrow_range = spec.narrow_range;
  p.range = spec.range();
  return p;
}

torch::Tensor quant_codes(const torch::Tensor& x, const torch::Tensor& scale, const torch::Tensor& zero_point,
                          IntRange range) {
  // int_codes clamps in float32, where the int32 limit 2^31 - 1 rounds up to 2^31: clamp
  // again in int64 so a saturated Int32Bias code is exactly max_int.
  return int_codes(x.detach(), scale.detach(), zero_point.detach(), range)
      .to(torch::kInt64)
      .clamp(range.min_int, range.max_int);
}

const PlanNode* ExportPlan::find(const std::string& id) const {
  for (const PlanNode& n : nodes)
    if (n.id == id) return &n;
  return nullptr;
}

ExportPlan make_export_plan(QuantModel& model) {
  require_finite_state(*model);
  EvalScope eval(model);
  torch::NoGradGuard no_grad;
  ExportPlan plan;
  plan.project = model->project();
  const Project& p = plan.project;
  plan.input_shape = p.input_shape;
  std::vector<int64_t> in_shape{1};
  in_shape.insert(in_shape.end(), p.input_shape.begin(), p.input_shape.end());
  std::map<std::string, QuantTensor> trace;
  try {
    trace = model->forward_trace(torch::zeros(in_shape));
  } catch (const c10::Error& e) {
    throw ConfigError(std::string("the model cannot run in eval mode: ") + e.what_without_backtrace());
  }

  std::map<std::string, std::string> alias;  // vanished layers (Dropout) -> their input
  auto resolve = [&](std::string id) {
    while (alias.count(id)) id = alias.at(id);
    return id;
  };
  for (const LayerSpec& l : p.layers) {
    if (l.type == LayerType::Input) plan.input_id = l.id;
  }
  for (const std::string& id : model->order()) {
    const LayerSpec& l = *p.find(id);
    const LayerDescriptor& d = descriptor(l.type);
    const std::string in_id = l.inputs.at(0);
    const QuantTensor& in = trace.at(in_id);
    const QuantTensor& out = trace.at(id);
    if (!d.export_rules.freeze) {  // a no-op in eval (Dropout, Identity)
      alias[id] = in_id;
      continue;
    }
    PlanNode n;
    n.id = id;
    n.type = l.type;
    n.input = resolve(in_id);
    n.in_quant = in.is_quant();
    n.in_bit_width = in.bit_width;
    n.in_dims = in.value.dim();
    n.out_quant = out.is_quant();
    if (out.is_quant()) {
      n.out_scale = out.scale.detach().clone();
      n.out_bit_width = out.bit_width;
      n.out_signed = out.is_signed;
    }
    std::vector<std::string> inputs;
    for (int port = 0; port < d.input_ports(l); ++port) inputs.push_back(resolve(l.inputs.at(size_t(port))));
    const auto module = model->layer(id);
    if (!module) throw ExportError(id + ": layer type " + to_string(l.type) + " has no module to export");
    d.export_rules.freeze(FreezeContext{l, *module, in, inputs}, n);
    // Finite weights can still give a non-finite scale (an overflowing statistic).
    const std::pair<const char*, const std::optional<QuantPoint>*> points[] = {
        {"weight", &n.weight_q}, {"bias", &n.bias_q}, {"activation", &n.act_q}, {"input", &n.input_q}};
    for (const auto& [role, q] : points) {
      if (!*q) continue;
      const std::string text = non_finite_text((*q)->scale) + non_finite_text((*q)->zero_point);
      if (!text.empty())
        throw ExportError("Cannot export: the " + std::string(role) + " scale of " + id + " is not finite: " + text +
                          "; the model diverged in training (learning rate too high): retrain with a lower "
                          "learning rate");
    }
    plan.nodes.push_back(std::move(n));
  }
  for (const LayerSpec& l : p.layers)
    if (l.type == LayerType::Output) plan.output_source = resolve(l.inputs.at(0));
  const QuantTensor& logits = trace.at(plan.output_source);
  plan.classes = logits.value.size(-1);

  // Grid of the logits.
  if (const PlanNode* last = plan.find(plan.output_source)) {
    torch::Tensor step;
    if (last->out_quant) {
      step = last->out_scale;
    } else if ((last->op == PlanOp::Conv || last->op == PlanOp::Linear) && last->weight_q && last->in_quant &&
               (!last->bias.defined() || last->bias_q)) {
      step = trace.at(p.find(last->id)->inputs.at(0)).scale * last->weight_q->scale;
    }
    if (step.defined()) plan.logit_step = step.detach().to(torch::kFloat32).reshape({-1}).expand({plan.classes}).clone();
  }
  return plan;
}

// ---------------------------------------------------------------- formats and pre-flight

std::string to_string(ExportFormat f) {
  switch (f) {
    case ExportFormat::Qcdq: return "qcdq";
    case ExportFormat::Qonnx: return "qonnx";
    case ExportFormat::Packed: return "packed";
    case ExportFormat::Checkpoint: return "checkpoint";
    case ExportFormat::Brevitas: return "brevitas";
  }
  return "?";
}

ExportFormat export_format_from_string(const std::string& s) {
  for (ExportFormat f : {ExportFormat::Qcdq, ExportFormat::Qonnx, ExportFormat::Packed, ExportFormat::Checkpoint,
                         ExportFormat::Brevitas})
    if (to_string(f) == s) return f;
  throw ConfigError("unknown export format '" + s + "' (known: qcdq, qonnx, packed, checkpoint, brevitas)");
}

std::string ExportIssue::text() const {
  return std::string(error ? "error: " : "warning: ") + (layer.empty() ? "" : layer + ": ") + message;
}

std::vector<ExportIssue> preflight(const Project& project, ExportFormat format) {
  std::vector<ExportIssue> out;
  const ValidationResult v = validate(project);
  if (!v.ok()) {
    for (const Diagnostic& d : v.diagnostics)
      if (d.severity == Diagnostic::Severity::Error) out.push_back({true, d.node, d.message});
    return out;
  }
  if (format == ExportFormat::Checkpoint) return out;
  // The FINN target: a QONNX model for FINN must keep FINN's rules (finn_rules.h).
  if (format == ExportFormat::Qonnx && project.deployment_target == DeploymentTarget::Finn) {
    for (const Diagnostic& d : v.diagnostics)
      if (is_finn_diagnostic(d))
        out.push_back({true, d.node, d.message + " (" + d.hint + "; deployment target: FINN)"});
    if (!out.empty()) return out;
  }
  // Brevitas runs the same modules as the app: what it cannot take is its own list.
  if (format == ExportFormat::Brevitas) return brevitas_issues(project, v);
  // Layer types a format cannot hold: the reason is the descriptor's, refused per
  // layer before anything is written.
  for (const std::string& id : v.order) {
    const ExportRules& rules = descriptor(project.find(id)->type).export_rules;
    const std::string& reason = format == ExportFormat::Packed ? rules.packed_refusal
                                : format == ExportFormat::Qcdq ? rules.qcdq_refusal
                                                               : rules.qonnx_refusal;
    if (!reason.empty()) out.push_back({true, id, reason});
  }
  // Refusals that depend on the inferred inputs (per-channel grids, uneven windows).
  for (const std::string& id : v.order) {
    const LayerSpec& l = *project.find(id);
    const auto refusal = descriptor(l.type).export_rules.refusal;
    if (!refusal) continue;
    std::vector<InferInput> ins;
    for (const std::string& src : l.inputs)
      if (v.nodes.count(src)) ins.push_back({src, v.nodes.at(src)});
    if (ins.size() != static_cast<size_t>(input_port_count(l))) continue;
    const std::string reason = refusal(l, ins);
    if (!reason.empty()) out.push_back({true, id, reason});
  }
  const bool onnx = format == ExportFormat::Qcdq || format == ExportFormat::Qonnx;
  bool any_quant = false;
  bool seen_quant = false;  // a quantized value was produced upstream (in execution order)
  for (const std::string& id : v.order) {
    const LayerSpec& l = *project.find(id);
    const LayerDescriptor& d = descriptor(l.type);
    const std::optional<QuantSpec> w = effective_weight_quant(l);
    const std::optional<QuantSpec> a = effective_act_quant(l);
    const std::optional<QuantSpec> b = effective_bias_quant(l);
    if (w || a) any_quant = true;
    if (format == ExportFormat::Qcdq) {
      if (w && w->bit_width > 8)
        out.push_back({true, id, std::to_string(w->bit_width) + "-bit weights: QCDQ stores weight codes as INT8/UINT8 "
                                 "(at most 8 bits); set weight bit_width <= 8 or export QONNX or packed"});
      if (a && a->bit_width > 8)
        out.push_back({true, id, std::to_string(a->bit_width) + "-bit activations: QuantizeLinear (opset 13) produces "
                                 "INT8/UINT8 only; set bit_width <= 8 or export QONNX or packed"});
      const auto iq = effective_input_quant(l);  // QuantEltwiseAdd only
      if (iq && iq->bit_width > 8)
        out.push_back({true, id, std::to_string(iq->bit_width) + "-bit input_quant: QuantizeLinear (opset 13) produces "
                                 "INT8/UINT8 only; set bit_width <= 8 or export QONNX"});
      if (a && a->shifted)
        out.push_back({false, id, "shifted activation: QuantizeLinear rounds x/s before adding the zero point "
                                  "(Brevitas adds it first); codes can differ at exact .5 ties"});
      if (iq && iq->shifted)
        out.push_back({false, id, "shifted input_quant: QuantizeLinear rounds x/s before adding the zero point "
                                  "(Brevitas adds it first); codes can differ at exact .5 ties"});
    }
    if (b && b->bit_width > 32)
      out.push_back({true, id, "bias wider than 32 bits cannot be stored"});
    if ((format == ExportFormat::Qcdq || format == ExportFormat::Packed) && ((w && w->binary) || (a && a->binary)))
      out.push_back({true, id, std::string("binary (bipolar +-1) quantizer: ") +
                                   (format == ExportFormat::Qcdq ? "QuantizeLinear rounds to an integer grid that includes 0"
                                                                 : "the packed format stores integer-grid codes") +
                                   "; export QONNX (BipolarQuant)"});
    const auto it = v.nodes.find(l.inputs.empty() ? id : l.inputs[0]);
    const bool in_quant = it != v.nodes.end() && it->second.quantized;
    if (onnx && seen_quant && d.export_rules.float_compute)
      out.push_back({false, id, is_batch_norm(l.type)
                                    ? "float " + to_string(l.type) + " between quantized layers: exported as a float "
                                      "BatchNormalization; FINN's streamlining absorbs it into thresholds, other "
                                      "integer-only runtimes need it folded (--fold-bn)"
                                    : "float " + to_string(l.type) + " between quantized layers: exported as a float op; "
                                      "integer-only runtimes (and FINN) cannot execute it"});
    if (onnx && w && !in_quant)
      out.push_back({false, id, "quantized weights on a float input: the product runs in float, not on an "
                                "integer grid"});
    if (format == ExportFormat::Packed && d.export_rules.packed_float_weights)
      out.push_back({false, id, "float weights are stored as float32 (no integer codes)"});
    if (format == ExportFormat::Packed && layer_has_bias(l) && !b)
      out.push_back({false, id, "float bias is stored as float32"});
    if (w || a) seen_quant = true;
  }
  if (!any_quant)
    out.push_back({false, "", "the model has no quantizer: the export holds float weights and float ops only"});
  return out;
}

std::vector<ExportIssue> require_exportable(const Project& project, ExportFormat format) {
  std::vector<ExportIssue> issues = preflight(project, format), warnings;
  std::string errors;
  for (const ExportIssue& i : issues) {
    if (i.error)
      errors += (errors.empty() ? "" : "\n") + (i.layer.empty() ? "" : i.layer + ": ") + i.message;
    else
      warnings.push_back(i);
  }
  if (!errors.empty())
    throw ExportError("cannot export to " + to_string(format) + ":\n" + errors);
  return warnings;
}

std::string preprocessing_json(const Project& project) {
  nlohmann::ordered_json j;
  const int64_t channels = project.input_shape.empty() ? 1 : project.input_shape[0];
  std::vector<float> mean(size_t(channels), 0.0f), stdev(size_t(channels), 1.0f);
  std::vector<std::string> classes;
  const bool images = is_image_folder_dataset(project.dataset.name);
  if (images) {  // classes and statistics come from the folder: a problem there is the user's to fix
    DatasetInfo info = dataset_info(project);
    if (project.dataset.normalize) {
      mean = std::move(info.mean);
      stdev = std::move(info.std);
    }
    classes = std::move(info.class_names);
  } else {
    try {
      if (project.dataset.normalize) {
        mean = dataset_mean(project.dataset.name);
        stdev = dataset_std(project.dataset.name);
      }
      classes = dataset_classes(project.dataset.name);
    } catch (const Error&) {
      // unknown dataset name: identity normalisation, no class names
    }
  }
  // float32 statistics printed as the short decimals they were written as (0.286, not 0.28600001335).
  auto tidy = [](const std::vector<float>& v) {
    std::vector<double> out;
    for (float x : v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.7g", double(x));
      out.push_back(std::strtod(buf, nullptr));
    }
    return out;
  };
  j["layout"] = "NCHW";
  j["pixel_scale"] = 1.0 / 255.0;
  j["pad"] = project.dataset.pad;
  if (images) j["fit"] = project.dataset.fit;  // how an image meets the input H x W minus 2 * pad
  j["mean"] = tidy(mean);
  j["std"] = tidy(stdev);
  j["classes"] = classes;
  return j.dump();
}

}  // namespace qnn
