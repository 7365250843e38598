// SPDX-License-Identifier: GPL-3.0-or-later
// The Brevitas state dict of a model (brevitas_export.h): our tensor names mapped onto
// Brevitas 0.12.1's (core/train/weights.cpp reads them back).
#include <algorithm>
#include <map>
#include <set>

#include "core/errors.h"
#include "core/export/brevitas_export.h"
#include "core/quant/quantizers.h"

namespace qnn {

namespace {

const char* const kActValue = ".fused_activation_quant_proxy.tensor_quant.scaling_impl.value";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

StateDict brevitas_state_dict(QuantModel& model) {
  torch::NoGradGuard no_grad;
  const std::map<std::string, torch::Tensor> tensors = named_tensors(*model);
  std::map<std::string, ActQuantizerImpl*> act_quantizers;
  for (const auto& m : model->named_modules())
    if (auto* a = dynamic_cast<ActQuantizerImpl*>(m.value().get())) act_quantizers[m.key()] = a;

  // Our tensors a Brevitas name covers: weights, biases, BatchNorm buffers as they are;
  // an activation quantizer's state becomes its one scaling_impl.value.
  std::map<std::string, torch::Tensor> out;
  std::set<std::string> covered;
  for (const auto& [name, q] : act_quantizers) {
    const bool stats_phase = q->spec().scaling == ScalingKind::RuntimeStats && !q->learned_phase();
    out[name + kActValue] = (stats_phase ? q->scaling_buffer : q->value).detach().to(torch::kFloat32).clone();
    for (const char* t : {".value", ".scaling_buffer", ".counter"}) covered.insert(name + t);
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
