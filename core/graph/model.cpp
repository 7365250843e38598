// SPDX-License-Identifier: GPL-3.0-or-later
// Builds one quant-layer module per graph node and runs them in topological order.
#include "core/graph/model.h"

#include "core/errors.h"
#include "core/graph/layer_rules.h"
#include "core/graph/validate.h"
#include "core/nn/eltwise_layers.h"
#include "core/nn/quant_act.h"
#include "core/nn/quant_wbiol.h"
#include "core/nn/shape_layers.h"
#include "core/quant/quantizers.h"

namespace qnn {

namespace {

QuantConv2d make_conv(const LayerSpec& l) {
  QuantConv2dOptions o(l.int_param("in_channels", 1), l.int_param("out_channels", 1),
                       l.int_param("kernel_size", 1));
  o.stride(l.int_param("stride", 1))
      .padding(l.int_param("padding", 0))
      .dilation(l.int_param("dilation", 1))
      .groups(l.int_param("groups", 1))
      .bias(layer_has_bias(l))
      .weight_quant(effective_weight_quant(l))
      .bias_quant(effective_bias_quant(l))
      .return_quant_tensor(l.return_quant_tensor);
  return QuantConv2d(o);
}

QuantLinear make_linear(const LayerSpec& l) {
  QuantLinearOptions o(l.int_param("in_features", 1), l.int_param("out_features", 1));
  o.bias(layer_has_bias(l))
      .weight_quant(effective_weight_quant(l))
      .bias_quant(effective_bias_quant(l))
      .return_quant_tensor(l.return_quant_tensor);
  return QuantLinear(o);
}

QuantAct make_act(const LayerSpec& l, ActFunction f) {
  QuantActOptions o(f);
  o.act_quant(effective_act_quant(l))
      .return_quant_tensor(l.return_quant_tensor)
      .min_val(l.param("min_val", -1.0))
      .max_val(l.param("max_val", 1.0));
  return QuantAct(o);
}

}  // namespace

QuantModelImpl::QuantModelImpl(const Project& project) : m_project(project) {
  const ValidationResult v = validate(project);
  if (!v.ok()) throw ConfigError(v.error_text());

  for (const std::string& id : v.order) {
    const LayerSpec& l = *project.find(id);
    if (l.type == LayerType::Input) {
      m_input_id = id;
      continue;
    }
    if (l.type == LayerType::Output) {
      m_output_source = l.inputs.at(0);
      continue;
    }
    auto add = [&](auto holder) {
      holder->layer_name = id;
      register_module(id, holder);
      std::vector<std::string> ins(l.inputs.begin(),
                                   l.inputs.begin() + static_cast<std::ptrdiff_t>(input_port_count(l.type)));
      m_nodes.push_back(Node{id, ins, holder.get(), holder.ptr()});
      m_order.push_back(id);
    };
    switch (l.type) {
      case LayerType::QuantConv2d:
      case LayerType::Conv2d: add(make_conv(l)); break;
      case LayerType::QuantLinear:
      case LayerType::Linear: add(make_linear(l)); break;
      case LayerType::QuantIdentity: add(make_act(l, ActFunction::Identity)); break;
      case LayerType::QuantReLU:
      case LayerType::ReLU: add(make_act(l, ActFunction::ReLU)); break;
      case LayerType::QuantHardTanh:
      case LayerType::HardTanh: add(make_act(l, ActFunction::HardTanh)); break;
      case LayerType::MaxPool2d: {
        const int64_t k = l.int_param("kernel_size", 2);
        add(MaxPool2dLayer(k, l.int_param("stride", k)));
        break;
      }
      case LayerType::AvgPool2d: {
        const int64_t k = l.int_param("kernel_size", 2);
        add(AvgPool2dLayer(k, l.int_param("stride", k)));
        break;
      }
      case LayerType::Flatten: add(FlattenLayer()); break;
      case LayerType::Dropout: add(DropoutLayer(l.param("p", 0.5))); break;
      case LayerType::Identity: add(make_act(l, ActFunction::Identity)); break;
      case LayerType::BatchNorm2d:
        add(BatchNorm2dLayer(l.int_param("num_features", 1), l.param("eps", 1e-5), l.param("momentum", 0.1)));
        break;
      case LayerType::Add: add(AddLayer()); break;
      case LayerType::QuantEltwiseAdd: {
        QuantEltwiseAddOptions o;
        o.input_quant(*effective_input_quant(l))
            .output_quant(*effective_act_quant(l))
            .return_quant_tensor(l.return_quant_tensor);
        add(QuantEltwiseAdd(o));
        break;
      }
      case LayerType::Input:
      case LayerType::Output: break;
    }
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

}  // namespace qnn
