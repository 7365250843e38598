// SPDX-License-Identifier: GPL-3.0-or-later
// The Brevitas state dict of a model (brevitas_export.h): our tensor names mapped onto
// Brevitas 0.12.1's (core/train/weights.cpp reads them back).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/errors.h"
#include "core/export/brevitas_export.h"
#include "core/quant/brevitas_log2.h"
#include "core/quant/quantizers.h"

namespace qnn {

namespace {

const char* const kActValue = ".fused_activation_quant_proxy.tensor_quant.scaling_impl.value";
const char* const kWeightValue = ".tensor_quant.scaling_impl.value";  // after <id>.weight_quant
constexpr double kScalingMinVal = 1e-10;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A learned threshold as Brevitas stores it: log2 for power-of-two scales, else as it is.
// Throws ExportError naming `what` for a threshold without an exact Brevitas equivalent.
torch::Tensor brevitas_value(const torch::Tensor& threshold, const QuantSpec& spec, const std::string& what) {
  const torch::Tensor t = threshold.detach().to(torch::kFloat32).contiguous().clone();
  if (spec.power_of_two) {
    try {
      return brevitas_log2_value(t, spec.int_threshold(), what);
    } catch (const ConfigError& e) {
      throw ExportError(e.what());
    }
  }
  // ParameterScaling: the app computes max(value / T, 1e-10), Brevitas max(value, 1e-10) / T
  // (binary presets: |value| / 1); equal only above 1e-10 * T.
  const float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!(p[i] / spec.int_threshold() >= kScalingMinVal) || !std::isfinite(p[i]))
      throw ExportError(what + ": the learned scale value " + std::to_string(p[i]) +
                        (t.numel() > 1 ? " (channel " + std::to_string(i) + ")" : std::string()) +
                        " is below 1e-10 x int_threshold; the app clamps the scale there, Brevitas clamps the "
                        "value before dividing, so no Brevitas model computes the same");
  return t;
}

}  // namespace

StateDict brevitas_state_dict(QuantModel& model) {
  torch::NoGradGuard no_grad;
  const std::map<std::string, torch::Tensor> tensors = named_tensors(*model);
  std::map<std::string, ActQuantizerImpl*> act_quantizers;
  std::map<std::string, WeightQuantizerImpl*> weight_quantizers;
  for (const auto& m : model->named_modules()) {
    if (auto* a = dynamic_cast<ActQuantizerImpl*>(m.value().get())) act_quantizers[m.key()] = a;
    if (auto* w = dynamic_cast<WeightQuantizerImpl*>(m.value().get())) weight_quantizers[m.key()] = w;
  }

  // Our tensors a Brevitas name covers: weights, biases, BatchNorm buffers as they are;
  // an activation quantizer's state becomes its one scaling_impl.value.
  std::map<std::string, torch::Tensor> out;
  std::set<std::string> covered;
  for (const auto& [name, q] : act_quantizers) {
    const bool stats_phase = q->spec().scaling == ScalingKind::RuntimeStats && !q->learned_phase();
    out[name + kActValue] = brevitas_value(stats_phase ? q->scaling_buffer : q->value, q->spec(), name);
    for (const char* t : {".value", ".scaling_buffer", ".counter"}) covered.insert(name + t);
  }
  // A weight quantizer's learned scale (ParameterScaling, incl. the binary presets):
  // Brevitas's shape is [] per tensor, [C_out, 1, ...] (the weight's rank) per channel.
  for (const auto& [name, q] : weight_quantizers) {
    if (q->spec().scaling != ScalingKind::Parameter || !q->value.defined()) continue;
    const std::string layer = name.substr(0, name.rfind('.'));
    torch::Tensor v = q->value;
    if (q->spec().per_channel) {
      const auto w = tensors.find(layer + ".weight");
      if (w == tensors.end()) throw ExportError(name + ": no weight next to the per-channel learned scale");
      std::vector<int64_t> shape(w->second.dim(), 1);
      shape[0] = v.numel();
      v = v.reshape(shape);
    }
    out[name + kWeightValue] = brevitas_value(v, q->spec(), name);
    covered.insert(name + ".value");
  }
  std::vector<std::string> unnamed;
  for (const auto& [name, t] : tensors) {
    if (covered.count(name)) continue;
    bool plain = false;
    for (const char* tail : {".weight", ".bias", ".running_mean", ".running_var", ".num_batches_tracked"})
      plain = plain || ends_with(name, tail);
    // A quantizer's own tensors (e.g. a learned weight scale conv1.weight_quant.value)
    // are never plain weights even when their name ends like one.
    if (!plain || name.find("_quant.") != std::string::npos) {
      unnamed.push_back(name);
      continue;
    }
    out[name] = t.detach().clone();
  }
  if (!unnamed.empty()) {
    std::string list;
    for (const std::string& n : unnamed) list += (list.empty() ? "" : ", ") + n;
    throw ExportError("no Brevitas state-dict name for " + list);
  }

  // Layer order, and within a layer the order of Brevitas's own state_dict(): weight,
  // bias, BatchNorm buffers, then the quantizers' values (act_quant / input_quant /
  // output_quant by name).
  auto rank = [](const std::string& name) {
    int r = 0;
    for (const char* tail : {".weight", ".bias", ".running_mean", ".running_var", ".num_batches_tracked"}) {
      if (ends_with(name, tail) && name.find("_quant.") == std::string::npos) return r;
      ++r;
    }
    return r;
  };
  StateDict ordered;
  for (const std::string& id : model->order()) {
    const std::string prefix = id + ".";
    std::vector<std::string> names;
    for (auto it = out.lower_bound(prefix); it != out.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
      names.push_back(it->first);
    std::stable_sort(names.begin(), names.end(),
                     [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
    for (const std::string& n : names) {
      ordered.emplace_back(n, out.at(n));
      out.erase(n);
    }
  }
  for (auto& [name, t] : out) ordered.emplace_back(name, t);  // none expected: every module is a layer
  return ordered;
}

}  // namespace qnn
