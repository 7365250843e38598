// SPDX-License-Identifier: GPL-3.0-or-later
// load_weights: state dicts and checkpoints matched to a model by tensor name.
#include "core/train/weights.h"

#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "core/graph/validate.h"
#include "core/io/state_dict.h"
#include "core/quant/brevitas_log2.h"
#include "core/quant/quantizers.h"
#include "core/train/checkpoint.h"

namespace qnn {

namespace {

const std::string kBrevitasValue = ".fused_activation_quant_proxy.tensor_quant.scaling_impl.value";
const std::string kBrevitasWeightValue = ".tensor_quant.scaling_impl.value";  // after <id>.weight_quant

// A Brevitas learned value as our linear threshold: power-of-two quantizers store log2
// (core/quant/brevitas_log2.h), the others the threshold itself.
torch::Tensor linear_threshold(const torch::Tensor& value, const QuantSpec& spec, const std::string& key) {
  const torch::Tensor v = value.detach().to(torch::kFloat32);
  return spec.power_of_two ? threshold_from_brevitas_log2(v, spec.int_threshold(), key) : v;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Model tensors that must come from the file: weights, biases, BatchNorm statistics.
bool required(const std::string& name) {
  for (const char* tail : {".weight", ".bias", ".running_mean", ".running_var"})
    if (ends_with(name, tail)) return true;
  return false;
}

std::string join(const std::vector<std::string>& v, size_t limit = 8) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < limit; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > limit) s += ", … (" + std::to_string(v.size() - limit) + " more)";
  return s;
}

// The tensors of a QNN Studio checkpoint of `project` (read from it), by our names.
StateDict checkpoint_tensors(const std::string& path, const Project& project) {
  QuantModel m = build_model(project);
  load_checkpoint(m, path);
  StateDict out;
  for (const auto& [name, t] : named_tensors(*m)) out.emplace_back(name, t.detach());
  return out;
}

}  // namespace

std::string WeightsReport::text() const {
  std::ostringstream o;
  o << "loaded " << loaded.size() << " tensor(s) from the " << source;
  if (!thresholds.empty())
    o << "\n" << thresholds.size() << " activation quantizer(s) took their learned scale (statistics phase ended): "
      << join(thresholds);
  if (!statistics.empty())
    o << "\n" << statistics.size()
      << " activation quantizer(s) start from statistics (the file has no scale for them): " << join(statistics);
  if (!unexpected.empty()) o << "\n" << unexpected.size() << " key(s) in the file match nothing and were ignored: " << join(unexpected);
  return o.str();
}

WeightsReport load_weights(QuantModel& model, const std::string& path) {
  WeightsReport r;
  std::optional<Project> ours;
  try {
    ours = read_checkpoint_project(path);
  } catch (const DamagedCheckpointError&) {
    throw;  // ours, but damaged: never read again as something else
  } catch (const Error&) {
    // not ours (or not a checkpoint at all): read it as a PyTorch state dict
  }
  const StateDict file = ours ? checkpoint_tensors(path, *ours) : read_state_dict(path);
  r.source = ours ? "QNN Studio checkpoint " + path : "PyTorch state dict " + path;

  const std::map<std::string, torch::Tensor> tensors = named_tensors(*model);
  std::map<std::string, ActQuantizerImpl*> act_quantizers;
  std::map<std::string, WeightQuantizerImpl*> weight_quantizers;  // with a learned scale
  for (const auto& m : model->named_modules()) {
    if (auto* a = dynamic_cast<ActQuantizerImpl*>(m.value().get())) act_quantizers[m.key()] = a;
    if (auto* w = dynamic_cast<WeightQuantizerImpl*>(m.value().get()))
      if (w->spec().scaling == ScalingKind::Parameter && w->value.defined()) weight_quantizers[m.key()] = w;
  }

  // Plan first, change nothing until every check passed.
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  std::vector<std::pair<ActQuantizerImpl*, double>> thresholds;
  std::vector<std::string> problems;
  std::set<std::string> set;  // model tensors the file provides (or reported as mismatched)
  for (const auto& [key, value] : file) {
    if (ends_with(key, kBrevitasValue)) {
      const std::string q = key.substr(0, key.size() - kBrevitasValue.size());
      auto it = act_quantizers.find(q);
      if (it == act_quantizers.end() || value.numel() != 1) {
        r.unexpected.push_back(key);
        continue;
      }
      try {
        thresholds.emplace_back(it->second, linear_threshold(value, it->second->spec(), key).item<double>());
      } catch (const ConfigError& e) {
        problems.push_back(e.what());
      }
      r.thresholds.push_back(q);
      for (const char* t : {".value", ".scaling_buffer", ".counter"}) set.insert(q + t);
      continue;
    }
    if (ends_with(key, kBrevitasWeightValue) && !tensors.count(key)) {
      // <id>.weight_quant.tensor_quant.scaling_impl.value: [] or [C_out, 1, ...] -> value [] / [C_out]
      const std::string q = key.substr(0, key.size() - kBrevitasWeightValue.size());
      auto it = weight_quantizers.find(q);
      if (it == weight_quantizers.end()) {
        r.unexpected.push_back(key);
        continue;
      }
      const torch::Tensor& dst = it->second->value;
      set.insert(q + ".value");
      const bool fits = value.numel() == dst.numel() &&
                        (value.numel() == 1 || (value.dim() > 0 && value.size(0) == value.numel()));
      if (!fits) {
        problems.push_back(key + " has shape " + shape_text(value.sizes().vec()) + " in the file; the learned scale "
                           "of the model has shape " + shape_text(dst.sizes().vec()));
        continue;
      }
      try {
        copies.emplace_back(dst, linear_threshold(value, it->second->spec(), key).reshape(dst.sizes()));
        r.loaded.push_back(q + ".value");
      } catch (const ConfigError& e) {
        problems.push_back(e.what());
      }
      continue;
    }
    auto it = tensors.find(key);
    if (it == tensors.end()) {
      r.unexpected.push_back(key);
      continue;
    }
    if (it->second.sizes() != value.sizes()) {
      set.insert(key);  // reported here, not again as missing
      problems.push_back(key + " has shape " + shape_text(value.sizes().vec()) + " in the file, " +
                         shape_text(it->second.sizes().vec()) + " in the model");
      continue;
    }
    copies.emplace_back(it->second, value);
    r.loaded.push_back(key);
    set.insert(key);
  }
  if (r.loaded.empty() && r.thresholds.empty()) {
    std::vector<std::string> keys;
    for (size_t i = 0; i < file.size() && i < 6; ++i) keys.push_back(file[i].first);
    throw ConfigError(path + " shares no tensor name with the project (its keys: " + join(keys) +
                      "; layer ids must match the module names, e.g. a layer conv1 for conv1.weight)");
  }
  for (const auto& [name, t] : tensors)
    if (required(name) && !set.count(name)) problems.push_back(name + " is missing from the file");
  if (!problems.empty()) {
    if (!r.unexpected.empty()) problems.push_back("keys that match no layer of the project: " + join(r.unexpected));
    std::string lines;
    for (size_t i = 0; i < problems.size() && i < 20; ++i) lines += "\n  " + problems[i];
    if (problems.size() > 20) lines += "\n  … (" + std::to_string(problems.size() - 20) + " more)";
    throw ConfigError(path + " does not fit the project; nothing was loaded:" + lines);
  }

  torch::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_(src.to(dst.scalar_type()));
  // Running statistics from a file without num_batches_tracked are still trained ones.
  for (const auto& [name, t] : tensors)
    if (ends_with(name, ".num_batches_tracked") && !set.count(name)) {
      const std::string bn = name.substr(0, name.size() - std::string(".num_batches_tracked").size());
      if (set.count(bn + ".running_mean")) t.fill_(1);
    }
  for (auto& [q, v] : thresholds) q->load_threshold(v);
  for (const auto& [name, q] : act_quantizers) {
    (void)q;
    if (!set.count(name + ".value") && !set.count(name + ".scaling_buffer")) r.statistics.push_back(name);
  }
  return r;
}

}  // namespace qnn
