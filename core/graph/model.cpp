// SPDX-License-Identifier: GPL-3.0-or-later
// Builds one quant-layer module per graph node and runs them in topological order.
#include "core/graph/model.h"

#include <unordered_map>

#include "core/errors.h"
#include "core/graph/validate.h"
#include "core/layers/layer_descriptor.h"
#include "core/quant/quantizers.h"

namespace qnn {

QuantModelImpl::QuantModelImpl(const Project& project) : m_project(project) {
  const ValidationResult v = validate(project);
  if (!v.ok()) throw ConfigError(v.error_text());

  std::unordered_map<std::string, const LayerSpec*> by_id;  // linear in the layers, not quadratic
  by_id.reserve(project.layers.size());
  for (const LayerSpec& l : project.layers) by_id.emplace(l.id, &l);
  for (const std::string& id : v.order) {
    const LayerSpec& l = *by_id.at(id);
    if (l.type == LayerType::Input) {
      m_input_id = id;
      continue;
    }
    if (l.type == LayerType::Output) {
      m_output_source = l.inputs.at(0);
      continue;
    }
    const LayerDescriptor& d = descriptor(l.type);
    if (!d.build) throw ConfigError(id + ": layer type " + to_string(l.type) + " builds no module");
    const BuiltLayer b = d.build(l);
    b.layer->layer_name = id;
    register_module(id, b.module);
    std::vector<std::string> ins(l.inputs.begin(), l.inputs.begin() + static_cast<std::ptrdiff_t>(input_port_count(l)));
    m_nodes.push_back(Node{id, ins, b.layer, b.module});
    m_order.push_back(id);
  }
}

QuantTensor QuantModelImpl::run(const torch::Tensor& x, std::map<std::string, QuantTensor>* trace) {
  std::map<std::string, QuantTensor> values;
  values[m_input_id] = QuantTensor(x);
  std::vector<QuantTensor> ins;
  for (Node& n : m_nodes) {
    ins.clear();
    for (const std::string& in : n.inputs) ins.push_back(values.at(in));
    values[n.id] = n.layer->apply_inputs(ins);
  }
  QuantTensor out = values.at(m_output_source);
  if (trace) {
    for (const LayerSpec& l : m_project.layers)
      if (l.type == LayerType::Output) values[l.id] = out;
    *trace = std::move(values);
  }
  return out;
}

torch::Tensor QuantModelImpl::forward(const torch::Tensor& x) { return run(x, nullptr).value; }

QuantTensor QuantModelImpl::forward_quant(const torch::Tensor& x) { return run(x, nullptr); }

std::map<std::string, QuantTensor> QuantModelImpl::forward_trace(const torch::Tensor& x) {
  std::map<std::string, QuantTensor> trace;
  run(x, &trace);
  return trace;
}

void QuantModelImpl::set_quant_enabled(bool on) {
  for (const auto& m : modules(/*include_self=*/false)) {
    if (auto* w = dynamic_cast<WeightQuantizerImpl*>(m.get()))
      w->set_enabled(on);
    else if (auto* a = dynamic_cast<ActQuantizerImpl*>(m.get()))
      a->set_enabled(on);
  }
}

std::shared_ptr<torch::nn::Module> QuantModelImpl::layer(const std::string& id) const {
  for (const Node& n : m_nodes)
    if (n.id == id) return n.module;
  return nullptr;
}

QuantModel build_model(const Project& project) { return QuantModel(project); }

std::map<std::string, torch::Tensor> named_tensors(QuantModelImpl& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : model.named_parameters(true))
    if (p.value().defined()) out[p.key()] = p.value();
  for (const auto& b : model.named_buffers(true))
    if (b.value().defined()) out[b.key()] = b.value();
  return out;
}

void copy_model_state(QuantModelImpl& from, QuantModelImpl& to) {
  const std::map<std::string, torch::Tensor> source = named_tensors(from);
  torch::NoGradGuard no_grad;
  for (auto& [name, dst] : named_tensors(to)) {
    auto it = source.find(name);
    if (it == source.end()) continue;
    if (it->second.sizes() != dst.sizes())
      throw ConfigError(name + " has shape " + shape_text(it->second.sizes().vec()) + " in the source model, " +
                        shape_text(dst.sizes().vec()) + " in the copy");
    dst.copy_(it->second);
  }
}

QuantModel clone_model(QuantModel& model) {
  QuantModel copy = build_model(model->project());
  copy_model_state(*model, *copy);
  copy->train(model->is_training());
  return copy;
}

}  // namespace qnn
