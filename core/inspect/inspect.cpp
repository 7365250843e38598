// SPDX-License-Identifier: GPL-3.0-or-later
// inspect_model, collect_scales, misclassified, calibration_batch: the numbers of a
// built model. The model is only read: eval mode, no gradients, and every module's
// training flag and every quantizer's on/off switch are put back before returning
// (also on error).
#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include "core/errors.h"
#include "core/inspect/inspect.h"

#include <iomanip>
#include "core/inspect/inspect_detail.h"
#include "core/nn/eltwise_layers.h"
#include "core/nn/quant_act.h"
#include "core/nn/quant_wbiol.h"
#include "core/quant/quantizers.h"

namespace qnn::inspect {
namespace {

constexpr int64_t kFloatHistogramBins = 64;

std::vector<double> to_vector(const torch::Tensor& t) {
  const torch::Tensor d = t.detach().to(torch::kCPU, torch::kFloat64).contiguous().reshape({-1});
  const double* p = d.data_ptr<double>();
  return std::vector<double>(p, p + d.numel());
}

Grid grid_of(const QuantSpec& spec) {
  Grid g;
  g.bit_width = spec.bit_width;
  g.is_signed = spec.is_signed;
  g.narrow_range = spec.narrow_range;
  const IntRange r = spec.range();
  g.min_int = r.min_int;
  g.max_int = r.max_int;
  return g;
}

// A QuantConv1d / QuantConv2d / QuantLinear layer with quantized weights: its weight
// quantizer and float weight, and its float bias with the bias quantizer when it has
// both (else bias undefined / bias_spec null); null quantizer for any other layer or
// float weights.
struct WeightLayer {
  WeightQuantizerImpl* quantizer = nullptr;
  torch::Tensor weight;
  const char* type = "";
  std::function<QuantTensor()> quant_weight;
  torch::Tensor bias;
  const QuantSpec* bias_spec = nullptr;
};

// Fills `w` from `m` when it is an `Impl`; false when it is not.
template <typename Impl>
bool weight_layer_of(const std::shared_ptr<torch::nn::Module>& m, const char* type, WeightLayer& w) {
  auto* l = dynamic_cast<Impl*>(m.get());
  if (!l) return false;
  if (l->weight_quantizer) {
    w.quantizer = l->weight_quantizer.get();
    w.weight = l->weight;
    w.type = type;
    w.quant_weight = [l] { return l->quant_weight(); };
    if (l->bias.defined() && l->options.bias_quant()) {
      w.bias = l->bias;
      w.bias_spec = &*l->options.bias_quant();
    }
  }
  return true;
}

WeightLayer weight_layer(const std::shared_ptr<torch::nn::Module>& m) {
  WeightLayer w;
  if (!weight_layer_of<QuantConv2dImpl>(m, "QuantConv2d", w) && !weight_layer_of<QuantConv1dImpl>(m, "QuantConv1d", w))
    weight_layer_of<QuantLinearImpl>(m, "QuantLinear", w);
  return w;
}

ActQuantizerImpl* act_quantizer(const std::shared_ptr<torch::nn::Module>& m) {
  auto* a = dynamic_cast<QuantActImpl*>(m.get());
  return a && a->act_quant ? a->act_quant.get() : nullptr;
}

// The quantized weight with metadata, computed with the quantizer switched on (the
// switch is restored). No gradient.
QuantTensor quantized_weight(const WeightLayer& w) {
  torch::NoGradGuard no_grad;
  if (w.quantizer->enabled()) return w.quant_weight();  // the switch is not even written
  w.quantizer->set_enabled(true);
  QuantTensor q;
  try {
    q = w.quant_weight();
  } catch (...) {
    w.quantizer->set_enabled(false);
    throw;
  }
  w.quantizer->set_enabled(false);
  return q;
}

// Puts back every module's training flag and every quantizer's switch when it goes out
// of scope. The flags are recorded per module (a submodule may be in eval while the rest
// trains) and restored in pre-order: Module::train(flag) also sets the descendants,
// whose own flags are then written after it.
class ModelStateGuard {
 public:
  explicit ModelStateGuard(QuantModel& model) {
    for (const auto& m : model->modules(/*include_self=*/true)) {
      m_training.emplace_back(m, m->is_training());
      if (auto* w = dynamic_cast<WeightQuantizerImpl*>(m.get()))
        m_switches.emplace_back(m, w->enabled());
      else if (auto* a = dynamic_cast<ActQuantizerImpl*>(m.get()))
        m_switches.emplace_back(m, a->enabled());
    }
  }
  ~ModelStateGuard() {
    for (auto& [m, on] : m_switches) {
      if (auto* w = dynamic_cast<WeightQuantizerImpl*>(m.get()))
        w->set_enabled(on);
      else if (auto* a = dynamic_cast<ActQuantizerImpl*>(m.get()))
        a->set_enabled(on);
    }
    for (auto& [m, training] : m_training) m->train(training);
  }
  ModelStateGuard(const ModelStateGuard&) = delete;
  ModelStateGuard& operator=(const ModelStateGuard&) = delete;

 private:
  using Flags = std::vector<std::pair<std::shared_ptr<torch::nn::Module>, bool>>;
  Flags m_training;  ///< pre-order: the model first, then its descendants
  Flags m_switches;
};

std::string layer_type(const QuantModel& model, const std::string& id) {
  const LayerSpec* l = model->project().find(id);
  return l ? to_string(l->type) : std::string();
}

const std::string& input_of(const QuantModel& model, const std::string& id) {
  const LayerSpec* l = model->project().find(id);
  if (!l || l->inputs.empty()) throw ConfigError("inspect: layer " + id + " has no input");
  return l->inputs.front();
}

std::string output_id(const QuantModel& model) {
  for (const LayerSpec& l : model->project().layers)
    if (l.type == LayerType::Output) return l.id;
  throw ConfigError("inspect: the model has no Output layer");
}

WeightStats weight_stats(const std::string& id, const WeightLayer& w) {
  torch::NoGradGuard no_grad;
  const QuantSpec& spec = w.quantizer->spec();
  const QuantTensor q = quantized_weight(w);
  const torch::Tensor weight = w.weight.detach();
  WeightStats s;
  s.layer = id;
  s.type = w.type;
  s.shape = weight.sizes().vec();
  s.grid = grid_of(spec);
  s.per_channel = spec.per_channel;
  // Scale and zero point as the quantizer produced them ([] or [C, 1, ...]); one zero
  // point per scale entry.
  const torch::Tensor zp_full = q.zero_point.expand_as(q.scale);
  s.scales = to_vector(q.scale);
  s.zero_points = to_vector(zp_full);
  // Binary weights: the code is the sign (round(W / s) would put small weights on 0).
  const torch::Tensor coded = spec.binary ? q.value.detach() : weight;
  s.levels = level_histogram(coded, q.scale, q.zero_point, s.grid.min_int, s.grid.max_int);
  if (s.per_channel && q.scale.numel() == weight.size(0) && weight.dim() >= 1) {
    const torch::Tensor sc = q.scale.reshape({-1});
    const torch::Tensor zc = zp_full.reshape({-1});
    for (int64_t c = 0; c < weight.size(0); ++c)
      s.channel_levels.push_back(
          level_histogram(coded[c], sc[c], zc[c], s.grid.min_int, s.grid.max_int));
  }
  s.float_histogram = inspect::histogram(weight, kFloatHistogramBins);
  s.mse = mse(weight, q.value);
  s.sqnr_db = sqnr_db(weight, q.value);
  return s;
}

// What a QuantIdentity / QuantReLU / QuantHardTanh quantizes: its input (the value
// the layer received in the traced quantized pass) after the layer's function.
torch::Tensor act_function(const QuantActImpl& layer, const torch::Tensor& input) {
  switch (layer.options.function()) {
    case ActFunction::Identity: break;
    case ActFunction::ReLU: return torch::relu(input);
    case ActFunction::HardTanh:  // QuantHardTanh: the quantizer alone (Brevitas)
      if (!layer.act_quant) return torch::hardtanh(input, layer.options.min_val(), layer.options.max_val());
      break;
  }
  return input;
}

// Statistics of quantizer `aq` of layer `id` on its input `v`.
ActivationStats activation_stats(const std::string& id, const std::string& type,
                                 const std::string& quantizer, ActQuantizerImpl& aq,
                                 const torch::Tensor& input) {
  torch::NoGradGuard no_grad;
  const QuantSpec& spec = aq.spec();
  const torch::Tensor v = input.detach();
  // In eval mode the quantizer's forward changes no state; it yields exactly the scale
  // and zero point the model used (eval_scale(), and the zero point from the buffer or
  // the learned value). tests/inspect checks that this reproduces the traced output.
  const QuantTensor q = aq.forward(v);
  if (!q.is_quant())
    throw ConfigError("inspect: the activation quantizer of " + id + " is switched off");
  ActivationStats s;
  s.layer = id;
  s.type = type;
  s.quantizer = quantizer;
  s.grid = grid_of(spec);
  s.scale = q.scale.item<double>();
  s.zero_point = q.zero_point.item<double>();
  s.range_lo = (static_cast<double>(s.grid.min_int) - s.zero_point) * s.scale;
  s.range_hi = (static_cast<double>(s.grid.max_int) - s.zero_point) * s.scale;
  s.learned_phase = aq.learned_phase();
  const Histogram auto_range = inspect::histogram(v, 1);  // finite min / max of the input
  s.input_min = auto_range.lo;
  s.input_max = auto_range.hi;
  s.input_histogram = inspect::histogram(v, kFloatHistogramBins, std::min(s.input_min, s.range_lo),
                                std::max(s.input_max, s.range_hi));
  s.levels = level_histogram(v, q.scale, q.zero_point, s.grid.min_int, s.grid.max_int);
  const int64_t n = v.numel();
  s.clipped_share =
      n > 0 ? static_cast<double>(s.levels.saturated_low + s.levels.saturated_high) / n : 0.0;
  s.mse = mse(v, q.value);
  s.sqnr_db = sqnr_db(v, q.value);
  return s;
}

using detail::shape_text;

// The bias statistics of layer `id` with input `x` (its traced input); nullopt when the
// layer has no quantized bias or its weights are not quantized (the bias is then float).
std::optional<BiasStats> bias_stats_of(const std::string& id, const WeightLayer& b, const QuantTensor& x) {
  if (!b.bias_spec) return std::nullopt;
  torch::NoGradGuard no_grad;
  const QuantTensor wq = b.quant_weight();
  if (!wq.is_quant()) return std::nullopt;
  const QuantTensor bq = quantize_bias(b.bias.detach(), x.scale, wq.scale, *b.bias_spec, id);
  BiasStats s;
  s.layer = id;
  s.type = b.type;
  s.quantizer = b.bias_spec->preset;
  s.grid = grid_of(*b.bias_spec);
  s.scales = to_vector(bq.scale);
  s.per_channel = s.scales.size() > 1;
  const torch::Tensor bias = b.bias.detach().to(torch::kFloat64).reshape({-1});
  const torch::Tensor scale = bq.scale.detach().to(torch::kFloat64).reshape({-1});
  s.total = bias.numel();
  // Codes in double: round half to even, then clamp in int64 (float32 cannot hold 2^31 - 1).
  // A NaN bias (a diverged model) has no code: it counts as code 0 here, not as clipped.
  const torch::Tensor raw = torch::nan_to_num(torch::round(bias / scale), 0.0);
  s.levels.min_int = s.grid.min_int;
  s.levels.max_int = s.grid.max_int;
  s.levels.saturated_low = raw.lt(static_cast<double>(s.grid.min_int)).sum().item<int64_t>();
  s.levels.saturated_high = raw.gt(static_cast<double>(s.grid.max_int)).sum().item<int64_t>();
  const torch::Tensor codes =
      raw.clamp(static_cast<double>(s.grid.min_int), static_cast<double>(s.grid.max_int)).to(torch::kInt64);
  if (s.total > 0) {
    s.min_code = codes.min().item<int64_t>();
    s.max_code = codes.max().item<int64_t>();
  }
  if (s.grid.bit_width <= 16) {
    s.levels.counts.assign(static_cast<size_t>(s.grid.max_int - s.grid.min_int + 1), 0);
    const torch::Tensor c = codes.contiguous();
    const int64_t* p = c.data_ptr<int64_t>();
    for (int64_t i = 0; i < c.numel(); ++i) ++s.levels.counts[static_cast<size_t>(p[i] - s.grid.min_int)];
  }
  return s;
}

// Throws ConfigError unless `batch` is a float [N, C, H, W] with N >= 1 and [C, H, W] the
// model's input_shape; `what` names the tensor in the message.
void check_batch(const QuantModel& model, const torch::Tensor& batch,
                 const std::string& what = "inspect: the calibration batch") {
  const std::vector<int64_t>& chw = model->project().input_shape;
  bool ok = batch.defined() && batch.dim() == static_cast<int64_t>(chw.size()) + 1 &&
            batch.size(0) >= 1 && batch.is_floating_point();
  for (size_t i = 0; ok && i < chw.size(); ++i) ok = batch.size(static_cast<int64_t>(i) + 1) == chw[i];
  if (!ok) {
    std::ostringstream want;
    want << "[N";
    for (int64_t d : chw) want << ", " << d;
    want << "]";
    throw ConfigError(what + " has shape " +
                      (batch.defined() ? shape_text(batch) : std::string("(undefined)")) +
                      " but the model expects a float batch of shape " + want.str() +
                      " with N >= 1");
  }
}

}  // namespace

std::string BiasStats::warning() const {
  if (clipped() == 0) return std::string();
  return std::to_string(clipped()) + " of " + std::to_string(total) + " bias codes clipped (" + quantizer + ")";
}

std::string BiasStats::codes_text() const {
  return "codes " + std::to_string(min_code) + ".." + std::to_string(max_code) + " on [" +
         std::to_string(grid.min_int) + ", " + std::to_string(grid.max_int) + "]";
}

std::string BiasStats::summary() const {
  std::ostringstream o;
  o << std::setprecision(3);
  o << quantizer << " · " << grid.bit_width << " bit · scale ";
  if (scales.empty()) {
    o << "?";
  } else if (scales.size() == 1) {
    o << scales[0] << " (per tensor)";
  } else {
    const auto [lo, hi] = std::minmax_element(scales.begin(), scales.end());
    o << *lo << " … " << *hi << " (per channel)";
  }
  o << " · " << codes_text() << " · " << clipped() << " of " << total << " clipped (" << std::fixed
    << std::setprecision(1) << 100.0 * clipped_share() << " %)";
  return o.str();
}

std::vector<BiasStats> bias_stats(QuantModel& model) {
  ModelStateGuard guard(model);
  model->eval();
  torch::NoGradGuard no_grad;
  model->set_quant_enabled(true);
  std::vector<int64_t> shape{1};
  for (int64_t d : model->project().input_shape) shape.push_back(d);
  const std::map<std::string, QuantTensor> tq = model->forward_trace(torch::zeros(shape));
  std::vector<BiasStats> out;
  for (const std::string& id : model->order())
    if (auto b = bias_stats_of(id, weight_layer(model->layer(id)), tq.at(input_of(model, id))))
      out.push_back(std::move(*b));
  return out;
}

ScaleSnapshot collect_scales(QuantModel& model, int64_t step) {
  torch::NoGradGuard no_grad;
  ScaleSnapshot snap;
  snap.step = step;
  for (const std::string& id : model->order()) {
    const std::shared_ptr<torch::nn::Module> m = model->layer(id);
    const WeightLayer w = weight_layer(m);
    if (w.quantizer) snap.entries.push_back({id, "weight", to_vector(quantized_weight(w).scale)});
    if (ActQuantizerImpl* a = act_quantizer(m))
      snap.entries.push_back({id, "act", to_vector(a->eval_scale())});
    if (auto* e = dynamic_cast<QuantEltwiseAddImpl*>(m.get())) {
      snap.entries.push_back({id, "input", to_vector(e->input_quant->eval_scale())});
      snap.entries.push_back({id, "act", to_vector(e->output_quant->eval_scale())});
    }
  }
  return snap;
}

std::vector<Misclassified> misclassified(QuantModel& model, const Dataset& data, int64_t limit) {
  std::vector<Misclassified> out;
  if (limit <= 0 || data.size() == 0) return out;
  check_batch(model, data.images, "misclassified: the image tensor of the dataset");
  const int64_t n = data.size();
  if (data.labels.dim() != 1 || data.images.size(0) != n)
    throw ConfigError("misclassified: the dataset has " + std::to_string(data.images.size(0)) +
                      " images but labels of shape " + shape_text(data.labels) +
                      "; it needs one label per image");
  ModelStateGuard guard(model);
  model->eval();
  torch::NoGradGuard no_grad;
  constexpr int64_t kBatch = 256;
  for (int64_t start = 0; start < n && static_cast<int64_t>(out.size()) < limit; start += kBatch) {
    const int64_t len = std::min(kBatch, n - start);
    torch::Tensor labels, pc, cc;
    try {
      const torch::Tensor x = data.images.narrow(0, start, len);
      labels = data.labels.narrow(0, start, len).to(torch::kInt64).contiguous();
      const torch::Tensor logits = model->forward(x);
      if (logits.dim() != 2 || logits.size(0) != len)
        throw ConfigError("misclassified: the model's output has shape " + shape_text(logits) +
                          " for " + std::to_string(len) + " samples; it must be logits [N, classes]");
      const torch::Tensor probs = torch::softmax(logits.to(torch::kFloat64), 1);
      const auto [conf, pred] = probs.max(1);
      pc = pred.to(torch::kInt64).contiguous();
      cc = conf.contiguous();
    } catch (const c10::Error& e) {
      throw ConfigError("misclassified: the model cannot classify samples " + std::to_string(start) +
                        ".." + std::to_string(start + len - 1) + " of the dataset: " +
                        e.what_without_backtrace());
    }
    const int64_t* pp = pc.data_ptr<int64_t>();
    const int64_t* lp = labels.data_ptr<int64_t>();
    const double* cp = cc.data_ptr<double>();
    for (int64_t i = 0; i < len && static_cast<int64_t>(out.size()) < limit; ++i)
      if (pp[i] != lp[i]) out.push_back({start + i, lp[i], pp[i], cp[i]});
  }
  return out;
}

torch::Tensor calibration_batch(const Dataset& data, int64_t n) {
  if (data.size() == 0 || !data.images.defined())
    throw DataError("the dataset is empty: there is no sample to inspect the model on");
  if (n < 1)
    throw ConfigError("calibration batch: the number of samples must be at least 1 (got " +
                      std::to_string(n) + ")");
  return data.images.narrow(0, 0, std::min(n, data.size())).clone();
}

Report inspect_model(QuantModel& model, const torch::Tensor& batch, int64_t step) {
  check_batch(model, batch);
  ModelStateGuard guard(model);
  model->eval();
  torch::NoGradGuard no_grad;

  Report r;
  r.calibration_samples = batch.size(0);
  const torch::Tensor x = batch.to(torch::kFloat32);

  model->set_quant_enabled(true);
  const std::map<std::string, QuantTensor> tq = model->forward_trace(x);
  std::map<std::string, size_t> weight_index;
  std::map<std::string, std::vector<size_t>> act_index;
  for (const std::string& id : model->order()) {
    const std::shared_ptr<torch::nn::Module> m = model->layer(id);
    const WeightLayer w = weight_layer(m);
    if (w.quantizer) {
      weight_index[id] = r.weights.size();
      r.weights.push_back(weight_stats(id, w));
    }
    if (ActQuantizerImpl* aq = act_quantizer(m)) {
      const auto& layer = dynamic_cast<const QuantActImpl&>(*m);
      act_index[id].push_back(r.activations.size());
      r.activations.push_back(activation_stats(
          id, layer_type(model, id), "act", *aq,
          act_function(layer, tq.at(input_of(model, id)).value)));
    }
    if (auto b = bias_stats_of(id, w, tq.at(input_of(model, id)))) r.biases.push_back(std::move(*b));
    if (auto* e = dynamic_cast<QuantEltwiseAddImpl*>(m.get())) {
      // One input quantizer for both ports (apply_inputs), then the output quantizer
      // on the sum. In eval the quantizers are per-tensor and stateless, so the input
      // quantizer on both inputs side by side gives the same codes as on each.
      const LayerSpec* spec = model->project().find(id);
      const torch::Tensor& a = tq.at(spec->inputs.at(0)).value;
      const torch::Tensor& b = tq.at(spec->inputs.at(1)).value;
      const std::string type = layer_type(model, id);
      act_index[id].push_back(r.activations.size());
      r.activations.push_back(activation_stats(id, type, "input", *e->input_quant,
                                               torch::cat({a.reshape({-1}), b.reshape({-1})})));
      const QuantTensor sum = add_quant_tensors(e->input_quant->forward(a),
                                                e->input_quant->forward(b), id);
      act_index[id].push_back(r.activations.size());
      r.activations.push_back(activation_stats(id, type, "act", *e->output_quant, sum.value));
    }
  }
  r.scales = collect_scales(model, step);

  model->set_quant_enabled(false);
  const std::map<std::string, QuantTensor> tf = model->forward_trace(x);

  for (const std::string& id : model->order()) {
    LayerError e;
    e.layer = id;
    e.type = layer_type(model, id);
    if (auto it = weight_index.find(id); it != weight_index.end()) {
      e.weight_mse = r.weights[it->second].mse;
      e.weight_sqnr_db = r.weights[it->second].sqnr_db;
    }
    if (auto it = act_index.find(id); it != act_index.end()) {
      // The layer's activation quantizer with the lowest SQNR (QuantEltwiseAdd has two).
      for (size_t k : it->second) {
        const ActivationStats& a = r.activations[k];
        if (std::isnan(e.act_sqnr_db) || a.sqnr_db < e.act_sqnr_db) {
          e.act_mse = a.mse;
          e.act_sqnr_db = a.sqnr_db;
        }
      }
    }
    const torch::Tensor& ref = tf.at(id).value;
    const torch::Tensor& got = tq.at(id).value;
    e.output_mse = mse(ref, got);
    e.output_sqnr_db = sqnr_db(ref, got);
    r.errors.push_back(std::move(e));
  }

  const std::string out = output_id(model);
  const torch::Tensor& lf = tf.at(out).value;
  const torch::Tensor& lq = tq.at(out).value;
  r.logits_sqnr_db = sqnr_db(lf, lq);
  if (lf.dim() == 2 && lf.size(0) > 0) {
    const torch::Tensor agree = lf.argmax(1).eq(lq.argmax(1));
    r.top1_agreement = agree.to(torch::kFloat64).mean().item<double>();
  }

  double worst = std::numeric_limits<double>::infinity();
  for (const LayerError& e : r.errors) {
    const double l = e.local_sqnr_db();
    if (std::isnan(l)) continue;
    if (r.worst_layer.empty() || l < worst) {
      worst = l;
      r.worst_layer = e.layer;
    }
  }
  return r;
}

WeightStats weight_stats(const std::string& layer, const std::string& type, const torch::Tensor& weight,
                         WeightQuantizerImpl& quantizer) {
  const bool was_training = quantizer.is_training();
  quantizer.eval();
  WeightLayer w;
  w.quantizer = &quantizer;
  w.weight = weight;
  w.type = type.c_str();
  w.quant_weight = [&] { return quantizer.forward(weight); };
  WeightStats s = weight_stats(layer, w);
  quantizer.train(was_training);
  return s;
}

}  // namespace qnn::inspect
