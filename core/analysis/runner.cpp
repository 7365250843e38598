// SPDX-License-Identifier: GPL-3.0-or-later
// The shared machinery of core/analysis: graph walk, evaluation, switches, guard.
#include <charconv>
#include <cmath>
#include <map>

#include "core/analysis/analysis_detail.h"
#include "core/errors.h"
#include "core/graph/validate.h"
#include "core/nn/eltwise_layers.h"
#include "core/nn/quant_act.h"
#include "core/nn/quant_wbiol.h"
#include "core/nn/trunc_pool.h"

namespace qnn::analysis {
namespace detail {

namespace {

// Switches a layer's bias quantizer off for one call (float bias) and back on.
template <typename Impl>
bool float_bias_call(torch::nn::Module& m, const std::vector<QuantTensor>& ins, QuantTensor& out) {
  auto* l = dynamic_cast<Impl*>(&m);
  if (!l) return false;
  const bool unquantized_input = !ins.empty() && !ins[0].is_quant();
  if (!l->options.bias_quant() || !l->bias.defined() || !l->weight_quantizer ||
      !l->weight_quantizer->enabled() || !unquantized_input) {
    out = l->apply_inputs(ins);
    return true;
  }
  const std::optional<QuantSpec> saved = l->options.bias_quant();
  l->options.bias_quant(std::nullopt);
  try {
    out = l->apply_inputs(ins);
  } catch (...) {
    l->options.bias_quant(saved);
    throw;
  }
  l->options.bias_quant(saved);
  return true;
}

// A truncating pool whose input arrives unquantized averages float values (Brevitas's
// calibration_mode disables the truncation quantizers the same way) instead of throwing.
template <typename Impl>
bool float_pool_call(torch::nn::Module& m, const std::vector<QuantTensor>& ins, QuantTensor& out) {
  auto* l = dynamic_cast<Impl*>(&m);
  if (!l) return false;
  if (ins.empty() || ins[0].is_quant() || !l->options.return_quant_tensor()) {
    out = l->apply_inputs(ins);
    return true;
  }
  l->options.return_quant_tensor(false);
  try {
    out = l->apply_inputs(ins);
  } catch (...) {
    l->options.return_quant_tensor(true);
    throw;
  }
  l->options.return_quant_tensor(true);
  return true;
}

}  // namespace

QuantTensor run_graph(QuantModelImpl& model, const torch::Tensor& x, const NodeHook& hook) {
  const Project& p = model.project();
  std::string input_id, output_source;
  for (const LayerSpec& l : p.layers) {
    if (l.type == LayerType::Input) input_id = l.id;
    if (l.type == LayerType::Output && !l.inputs.empty()) output_source = l.inputs[0];
  }
  std::map<std::string, QuantTensor> values;
  values[input_id] = QuantTensor(x);
  std::vector<QuantTensor> ins;
  for (const std::string& id : model.order()) {
    const LayerSpec* spec = p.find(id);
    const std::shared_ptr<torch::nn::Module> module = model.layer(id);
    auto* layer = dynamic_cast<LayerBase*>(module.get());
    if (!spec || !layer) throw ConfigError(id + ": no module in the built model");
    ins.clear();
    const int ports = input_port_count(*spec);
    for (int i = 0; i < ports; ++i) ins.push_back(values.at(spec->inputs.at(static_cast<size_t>(i))));
    QuantTensor out;
    if (!float_bias_call<QuantConv2dImpl>(*module, ins, out) && !float_bias_call<QuantConv1dImpl>(*module, ins, out) &&
        !float_bias_call<QuantLinearImpl>(*module, ins, out) && !float_pool_call<TruncAvgPool2dImpl>(*module, ins, out) &&
        !float_pool_call<TruncAdaptiveAvgPool2dImpl>(*module, ins, out))
      out = layer->apply_inputs(ins);
    if (hook && hook(id, *module, ins, out)) return out;
    values[id] = std::move(out);
  }
  return values.at(output_source);
}

Eval evaluate_images(QuantModelImpl& model, const torch::Tensor& images, const torch::Tensor& labels,
                     int64_t batch_size, const std::atomic<bool>* cancel, const std::string& what) {
  if (batch_size < 1)
    throw ConfigError("evaluation batch size must be at least 1 (got " + std::to_string(batch_size) + ")");
  torch::NoGradGuard no_grad;
  Eval r;
  const int64_t n = images.size(0);
  torch::Tensor loss_sum = torch::zeros({}, torch::kFloat64);
  int64_t correct = 0;
  try {
    for (int64_t start = 0; start < n; start += batch_size) {
      if (cancel && cancel->load()) {
        r.cancelled = true;
        break;
      }
      const int64_t len = std::min(batch_size, n - start);
      const torch::Tensor x = images.narrow(0, start, len);
      const torch::Tensor y = labels.narrow(0, start, len);
      const torch::Tensor logits = run_graph(model, x).value;
      if (logits.dim() != 2 || logits.size(0) != len)
        throw ConfigError(what + ": the model output must be logits [N, classes]; got shape " +
                          shape_text(logits.sizes().vec()));
      loss_sum += torch::nn::functional::cross_entropy(
          logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
      correct += logits.argmax(1).eq(y).sum().item<int64_t>();
      r.samples += len;
    }
  } catch (const c10::Error& e) {
    throw ConfigError(what + ": evaluation failed: " + torch_message(e));
  }
  if (r.samples > 0) {
    r.loss = loss_sum.item<double>() / double(r.samples);
    r.accuracy = double(correct) / double(r.samples);
  }
  return r;
}

std::vector<WeightQuantizerImpl*> weight_quantizers(torch::nn::Module& layer) {
  std::vector<WeightQuantizerImpl*> out;
  if (auto* w = dynamic_cast<WeightQuantizerImpl*>(&layer)) out.push_back(w);
  for (const auto& m : layer.modules(/*include_self=*/false))
    if (auto* w = dynamic_cast<WeightQuantizerImpl*>(m.get())) out.push_back(w);
  return out;
}

std::vector<std::pair<std::string, ActQuantizerImpl*>> act_quantizers(torch::nn::Module& layer) {
  std::vector<std::pair<std::string, ActQuantizerImpl*>> out;
  for (const auto& item : layer.named_modules("", /*include_self=*/false))
    if (auto* a = dynamic_cast<ActQuantizerImpl*>(item.value().get())) out.emplace_back(item.key(), a);
  return out;
}

ModelStateGuard::ModelStateGuard(QuantModelImpl& model) {
  for (const auto& m : model.modules(/*include_self=*/true)) {
    m_training.emplace_back(m, m->is_training());
    if (auto* w = dynamic_cast<WeightQuantizerImpl*>(m.get()))
      m_switches.emplace_back(m, w->enabled());
    else if (auto* a = dynamic_cast<ActQuantizerImpl*>(m.get()))
      m_switches.emplace_back(m, a->enabled());
  }
}

ModelStateGuard::~ModelStateGuard() {
  for (auto& [m, on] : m_switches) {
    if (auto* w = dynamic_cast<WeightQuantizerImpl*>(m.get()))
      w->set_enabled(on);
    else if (auto* a = dynamic_cast<ActQuantizerImpl*>(m.get()))
      a->set_enabled(on);
  }
  // Module::train(flag) sets the descendants too: pre-order (the model first), so every
  // module ends with its own flag.
  for (auto& [m, training] : m_training) m->train(training);
}

void check_images(const QuantModelImpl& model, const Dataset& data, const std::string& what) {
  if (data.size() == 0 || !data.images.defined())
    throw ConfigError(what + ": the dataset is empty");
  const std::vector<int64_t> shape = data.images.sizes().slice(1).vec();
  if (shape != model.project().input_shape)
    throw ConfigError(what + ": the images are " + shape_text(shape) + " but the network takes " +
                      shape_text(model.project().input_shape) +
                      " (check the dataset's padding and the Input node's shape)");
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double eta(double elapsed, int64_t done, int64_t total) {
  if (done <= 0) return std::numeric_limits<double>::quiet_NaN();
  return elapsed / double(done) * double(std::max<int64_t>(total - done, 0));
}

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::to_chars_result r;
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 0);
  else
    r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string torch_message(const c10::Error& e) {
  std::string m = e.what_without_backtrace();
  const auto nl = m.find('\n');
  if (nl != std::string::npos) m.resize(nl);
  return m;
}

}  // namespace detail

// ------------------------------------------------------------- switches

std::string to_string(QuantKind k) {
  switch (k) {
    case QuantKind::Weights: return "weights";
    case QuantKind::Activations: return "activations";
    case QuantKind::Both: return "both";
  }
  return "weights";
}

QuantKind quant_kind_from_string(const std::string& s) {
  if (s == "weights") return QuantKind::Weights;
  if (s == "activations") return QuantKind::Activations;
  if (s == "both") return QuantKind::Both;
  throw ConfigError("unknown quantizer kind \"" + s + "\": expected weights, activations or both");
}

void set_layer_quant_enabled(QuantModelImpl& model, const std::string& id, QuantKind kind, bool on) {
  const std::shared_ptr<torch::nn::Module> m = model.layer(id);
  if (!m) throw ConfigError("the model has no layer \"" + id + "\"");
  if (kind != QuantKind::Activations)
    for (WeightQuantizerImpl* w : detail::weight_quantizers(*m)) w->set_enabled(on);
  if (kind != QuantKind::Weights)
    for (auto& [name, a] : detail::act_quantizers(*m)) a->set_enabled(on);
}

std::vector<std::string> quantized_layers(QuantModelImpl& model, QuantKind kind) {
  std::vector<std::string> out;
  for (const std::string& id : model.order()) {
    const std::shared_ptr<torch::nn::Module> m = model.layer(id);
    if (!m) continue;
    const bool w = kind != QuantKind::Activations && !detail::weight_quantizers(*m).empty();
    const bool a = kind != QuantKind::Weights && !detail::act_quantizers(*m).empty();
    if (w || a) out.push_back(id);
  }
  return out;
}

}  // namespace qnn::analysis
