// SPDX-License-Identifier: GPL-3.0-or-later
// BatchNorm folding (see fold_batch_norm.h for the formula and its source).
#include "core/graph/fold_batch_norm.h"

#include <iomanip>
#include <map>
#include <sstream>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/export/verify.h"
#include "core/graph/layer_rules.h"
#include "core/graph/validate.h"
#include "core/layers/layer_descriptor.h"

namespace qnn {

namespace {

// Layer ids reading `id` (one entry per reading port).
std::vector<std::string> consumers(const Project& p, const std::string& id) {
  std::vector<std::string> out;
  for (const LayerSpec& l : p.layers)
    for (const std::string& in : l.inputs)
      if (in == id) out.push_back(l.id);
  return out;
}

std::string list_text(const std::vector<std::string>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + ids[i];
  return s;
}

}  // namespace

std::vector<BatchNormFold> batch_norm_folds(const Project& project) {
  const ValidationResult v = validate(project);
  if (!v.ok()) throw ConfigError(v.error_text());
  std::vector<BatchNormFold> folds;
  for (const LayerSpec& bn : project.layers) {
    if (!is_batch_norm(bn.type)) continue;
    const std::string head = bn.id + " cannot be folded: ";
    const std::string& from = bn.inputs.at(0);
    const LayerSpec* src = project.find(from);
    if (!src || !descriptor(src->type).has_weights)
      throw ConfigError(head + "its input " + from + " is a" +
                        (src ? std::string(" ") + to_string(src->type) : std::string("n unknown layer")) +
                        ", not a conv or linear layer (BatchNorm folds into the Conv2d, Conv1d or Linear "
                        "layer right before it)");
    std::vector<std::string> others;
    for (const std::string& c : consumers(project, from))
      if (c != bn.id) others.push_back(c);
    if (!others.empty())
      throw ConfigError(head + from + " also feeds " + list_text(others) +
                        ", which would then read the folded (normalised) output; fold only a BatchNorm that is "
                        "its layer's single consumer");
    folds.push_back({bn.id, from});
  }
  return folds;
}

namespace {

// The network with `folds` (of `project`) applied; see fold_batch_norm_project.
Project apply_folds(const Project& project, const std::vector<BatchNormFold>& folds) {
  std::map<std::string, std::string> into;  // BatchNorm id -> conv / linear id
  for (const BatchNormFold& f : folds) into[f.batch_norm] = f.into;
  Project out = project;
  out.layers.clear();
  for (const LayerSpec& l : project.layers) {
    if (into.count(l.id)) continue;
    LayerSpec c = l;
    for (std::string& in : c.inputs)
      if (auto it = into.find(in); it != into.end()) in = it->second;
    out.layers.push_back(std::move(c));
  }
  for (const BatchNormFold& f : folds) out.find(f.into)->set_param("bias", 1.0);
  const ValidationResult v = validate(out);
  if (!v.ok()) throw ConfigError("the network after folding BatchNorm is not valid: " + v.error_text());
  return out;
}

// check_batch_norm_statistics for the folds of `model`'s project.
void check_statistics(QuantModel& model, const std::vector<BatchNormFold>& folds) {
  std::vector<std::string> untrained;
  std::string into;
  for (const BatchNormFold& f : folds) {
    const auto module = model->layer(f.batch_norm);
    const auto buffers = module ? module->named_buffers(false) : torch::OrderedDict<std::string, torch::Tensor>();
    const torch::Tensor* tracked = buffers.find("num_batches_tracked");
    if (!tracked || !tracked->defined())
      throw ConfigError("cannot fold " + f.batch_norm + ": the model has no running statistics for it");
    if (tracked->item<int64_t>() == 0) {
      untrained.push_back(f.batch_norm);
      if (into.empty()) into = f.into;
    }
  }
  if (untrained.empty()) return;
  throw ConfigError(list_text(untrained) + (untrained.size() == 1 ? " has" : " have") +
                    " no running statistics yet (no training batch went through, so running_mean is 0 and "
                    "running_var 1): train the network before folding (" + untrained.front() + " folds into " + into +
                    ")");
}

}  // namespace

Project fold_batch_norm_project(const Project& project) { return apply_folds(project, batch_norm_folds(project)); }

void check_batch_norm_statistics(QuantModel& model) { check_statistics(model, batch_norm_folds(model->project())); }

QuantModel fold_batch_norm(QuantModel& model) {
  const Project& project = model->project();
  const std::vector<BatchNormFold> folds = batch_norm_folds(project);
  check_statistics(model, folds);

  const std::map<std::string, torch::Tensor> old_state = named_tensors(*model);
  auto old = [&](const std::string& name) -> const torch::Tensor& {
    auto it = old_state.find(name);
    if (it == old_state.end()) throw ConfigError("cannot fold BatchNorm: the model has no tensor " + name);
    return it->second;
  };
  QuantModel folded = build_model(apply_folds(project, folds));
  copy_model_state(*model, *folded);  // the folded layers' bias (new) and weight are set below
  torch::NoGradGuard no_grad;
  const std::map<std::string, torch::Tensor> new_state = named_tensors(*folded);
  for (const BatchNormFold& f : folds) {
    const LayerSpec& bn = *project.find(f.batch_norm);
    const double eps = bn.param("eps", 1e-5);
    const torch::Tensor gamma = old(f.batch_norm + ".weight").to(torch::kDouble);
    const torch::Tensor beta = old(f.batch_norm + ".bias").to(torch::kDouble);
    const torch::Tensor mean = old(f.batch_norm + ".running_mean").to(torch::kDouble);
    const torch::Tensor var = old(f.batch_norm + ".running_var").to(torch::kDouble);
    const torch::Tensor k = gamma / torch::sqrt(var + eps);  // [C_out]
    const torch::Tensor w = old(f.into + ".weight").to(torch::kDouble);
    std::vector<int64_t> view(static_cast<size_t>(w.dim()), 1);
    view[0] = -1;
    auto bias_it = old_state.find(f.into + ".bias");
    const torch::Tensor b = bias_it != old_state.end() ? bias_it->second.to(torch::kDouble) : torch::zeros_like(mean);
    auto wi = new_state.find(f.into + ".weight"), bi = new_state.find(f.into + ".bias");
    if (wi == new_state.end() || bi == new_state.end())
      throw ConfigError("cannot fold " + f.batch_norm + ": the folded " + f.into + " has no weight or bias tensor");
    torch::Tensor w_new = wi->second, b_new = bi->second;  // the folded model's own tensors
    w_new.copy_((w * k.view(view)).to(w_new.scalar_type()));
    b_new.copy_(((b - mean) * k + beta).to(b_new.scalar_type()));
  }
  folded->train(model->is_training());
  return folded;
}

std::string FoldComparison::text() const {
  std::ostringstream o;
  o << "the folded model predicts as before on " << std::fixed << std::setprecision(1) << 100.0 * agreement
    << " % of " << samples << " test images (accuracy " << std::setprecision(4) << accuracy_before << " -> "
    << accuracy_after << ")";
  if (changed() && !per_tensor.empty()) {
    o << "; the per-tensor weight scales of " << list_text(per_tensor)
      << " now span channels that BatchNorm scaled differently: per-channel weight quantizers fold without "
         "changing any code";
  }
  return o.str();
}

FoldComparison compare_folded(QuantModel& unfolded, QuantModel& folded, const torch::Tensor& images,
                              const torch::Tensor& labels) {
  FoldComparison c;
  for (const BatchNormFold& f : batch_norm_folds(unfolded->project()))
    if (const LayerSpec* l = unfolded->project().find(f.into); l && l->weight_quant && !l->weight_quant->per_channel)
      c.per_tensor.push_back(f.into);
  const torch::Tensor a = app_logits(unfolded, images).argmax(1);
  const torch::Tensor b = app_logits(folded, images).argmax(1);
  c.samples = images.size(0);
  if (c.samples == 0) return c;
  const torch::Tensor y = labels.to(torch::kLong).view({-1});
  c.agreement = a.eq(b).to(torch::kDouble).mean().item<double>();
  c.accuracy_before = a.eq(y).to(torch::kDouble).mean().item<double>();
  c.accuracy_after = b.eq(y).to(torch::kDouble).mean().item<double>();
  return c;
}

FoldComparison compare_folded(QuantModel& unfolded, QuantModel& folded, int64_t samples) {
  const Dataset test = load_dataset(unfolded->project(), false, samples);
  return compare_folded(unfolded, folded, test.images, test.labels);
}

}  // namespace qnn
