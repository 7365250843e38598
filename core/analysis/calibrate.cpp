// SPDX-License-Identifier: GPL-3.0-or-later
// Post-training calibration (Brevitas 0.12.1 calibration_mode, brevitas/graph/calibrate.py)
// and bias correction (bias_correction_mode, applied layer by layer).
#include <algorithm>
#include <cmath>
#include <set>

#include "core/analysis/analysis_detail.h"
#include "core/errors.h"
#include "core/graph/layer_rules.h"
#include "core/graph/validate.h"
#include "core/nn/eltwise_layers.h"
#include "core/nn/quant_act.h"
#include "core/nn/quant_wbiol.h"
#include "core/quant/int_quant.h"

namespace qnn::analysis {

namespace {

using detail::act_quantizers;

constexpr double kScalingMinVal = 1e-10;  // Brevitas scaling_min_val of the act presets

// One activation quantizer being calibrated: the true averages of its statistics.
struct Target {
  std::string layer;
  std::string name;  // "relu1.act_quant"
  std::string member;  // "act_quant", "input_quant", "output_quant"
  ActQuantizerImpl* q = nullptr;
  torch::Tensor scale_avg, zp_avg;  // running true averages (float32, shape [])
  int64_t calls = 0;
};

// Brevitas inplace_momentum_update with momentum None (core/utils.py): on the first call
// the buffer takes the statistic (ones * stat, or zeros + stat), then
// buffer = buffer * (c / (c + 1)) + stat / (c + 1), in float32, op for op.
void average_in(torch::Tensor& avg, const torch::Tensor& stat, int64_t calls) {
  if (calls == 0) {
    avg = stat.detach().clone();
    return;
  }
  const int64_t next = calls + 1;
  avg.mul_(double(calls) / double(next));
  avg.add_(stat / next);
}

// The statistics ActQuantizerImpl collects in its statistics phase (quantizers.cpp):
// percentile of |x|, or of x's interval [min(low, 0), high] when shifted; clamped to
// scaling_min_val as ParameterFromRuntimeStatsScaling does before its buffer update.
void collect(Target& t, const torch::Tensor& x) {
  const QuantSpec& s = t.q->spec();
  const torch::Tensor xc = x.contiguous();
  torch::Tensor stat;
  torch::Tensor zp;
  if (s.shifted) {
    const torch::Tensor hi = kth_percentile(xc, s.high_percentile_q);
    const torch::Tensor lo = torch::clamp_max(kth_low_percentile(xc, s.low_percentile_q), 0.0);
    stat = (hi - lo).abs();
    zp = lo;
  } else {
    stat = kth_abs_percentile(xc, s.high_percentile_q);
  }
  stat = torch::clamp_min(stat.to(torch::kFloat32), kScalingMinVal);
  average_in(t.scale_avg, stat, t.calls);
  if (zp.defined()) average_in(t.zp_avg, zp.to(torch::kFloat32), t.calls);
  ++t.calls;
}

// Tensors the calibration may write, cloned, so a cancel or an error puts them back.
class Snapshot {
 public:
  void add(const torch::Tensor& t) {
    if (t.defined()) m_saved.emplace_back(t, t.detach().clone());
  }
  void restore() {
    torch::NoGradGuard no_grad;
    for (auto& [t, v] : m_saved) t.copy_(v);
  }

 private:
  std::vector<std::pair<torch::Tensor, torch::Tensor>> m_saved;
};

bool has_nonfinite_weights(QuantModelImpl& model, std::string* name) {
  for (const auto& p : model.named_parameters(true)) {
    if (!p.value().defined() || !p.value().is_floating_point()) continue;
    if (!torch::isfinite(p.value()).all().item<bool>()) {
      *name = p.key();
      return true;
    }
  }
  return false;
}

// The weight layer's bias and a switch for its weight quantizer (QuantConv1d/2d, QuantLinear).
struct BiasLayer {
  std::string id;
  torch::Tensor bias;
  WeightQuantizerImpl* wq = nullptr;
  torch::nn::Module* module = nullptr;
};

template <typename Impl>
bool bias_layer_of(const std::string& id, torch::nn::Module& m, BiasLayer& out) {
  auto* l = dynamic_cast<Impl*>(&m);
  if (!l) return false;
  out = BiasLayer{id, l->bias, l->weight_quantizer ? l->weight_quantizer.get() : nullptr, &m};
  return true;
}

// Per-channel mean over every dimension but 1 (Brevitas _BiasCorrection.compute_mean).
torch::Tensor channel_mean(const torch::Tensor& y) {
  const torch::Tensor t = y.transpose(0, 1);
  return t.reshape({t.size(0), -1}).mean(1);
}

}  // namespace

CalibrationResult calibrate(QuantModel& model, const Dataset& train, const CalibrationOptions& options,
                            const ProgressFn& progress, const std::atomic<bool>* cancel) {
  if (options.batches < 1)
    throw ConfigError("calibration: the number of batches must be at least 1 (got " +
                      std::to_string(options.batches) + ")");
  if (options.batch_size < 1)
    throw ConfigError("calibration: the batch size must be at least 1 (got " + std::to_string(options.batch_size) +
                      ")");
  QuantModelImpl& m = *model;
  detail::check_images(m, train, "calibration");

  // The quantizers to calibrate.
  std::vector<std::string> with_act;
  for (const std::string& id : m.order())
    if (!act_quantizers(*m.layer(id)).empty()) with_act.push_back(id);
  for (const std::string& id : options.only) {
    if (std::find(with_act.begin(), with_act.end(), id) == with_act.end()) {
      std::string known;
      for (const std::string& k : with_act) known += (known.empty() ? "" : ", ") + k;
      throw ConfigError("calibration: \"" + id + "\" is no layer with an activation quantizer (" +
                        (known.empty() ? std::string("the network has none") : "layers with one: " + known) + ")");
    }
  }
  CalibrationResult result;
  std::vector<Target> targets;
  for (const std::string& id : with_act) {
    if (!options.only.empty() && std::find(options.only.begin(), options.only.end(), id) == options.only.end())
      continue;
    for (auto& [member, q] : act_quantizers(*m.layer(id))) {
      if (q->spec().scaling != ScalingKind::RuntimeStats || q->spec().binary) {
        if (!options.only.empty())
          result.notes.push_back(id + "." + member + ": " + q->spec().preset +
                                 " learns its scale as a parameter; not calibrated");
        continue;
      }
      Target t;
      t.layer = id;
      t.member = member;
      t.name = id + "." + member;
      t.q = q;
      targets.push_back(std::move(t));
    }
  }

  // Weight layers for bias correction, execution order.
  std::vector<BiasLayer> bias_layers;
  if (options.bias_correction) {
    for (const std::string& id : m.order()) {
      BiasLayer b;
      torch::nn::Module& mod = *m.layer(id);
      if (!bias_layer_of<QuantConv2dImpl>(id, mod, b) && !bias_layer_of<QuantConv1dImpl>(id, mod, b) &&
          !bias_layer_of<QuantLinearImpl>(id, mod, b))
        continue;
      if (!b.wq) continue;  // float weights: nothing to correct
      if (!b.bias.defined()) {
        result.notes.push_back(id + ": no bias, bias correction skipped");
        continue;
      }
      bias_layers.push_back(b);
    }
  }

  const int64_t used = std::min(train.size(), options.batches * options.batch_size);
  const int64_t n_batches = (used + options.batch_size - 1) / options.batch_size;
  const int64_t total = (targets.empty() ? 0 : n_batches) + int64_t(bias_layers.size()) * n_batches;
  const auto start = std::chrono::steady_clock::now();
  int64_t done = 0;
  auto report = [&](const std::string& what) {
    if (!progress) return;
    Progress p;
    p.done = done;
    p.total = total;
    p.what = what;
    p.eta_seconds = detail::eta(detail::seconds_since(start), done, total);
    progress(p);
  };
  auto cancelled = [&] { return cancel && cancel->load(); };
  auto batch = [&](int64_t b) {
    const int64_t s = b * options.batch_size;
    return train.images.narrow(0, s, std::min(options.batch_size, used - s));
  };

  Snapshot snapshot;
  for (Target& t : targets)
    for (const torch::Tensor& x : {t.q->scaling_buffer, t.q->value, t.q->counter_buffer, t.q->zero_point_buffer,
                                   t.q->zero_point_value})
      snapshot.add(x);
  for (const BiasLayer& b : bias_layers) snapshot.add(b.bias);

  detail::ModelStateGuard guard(m);
  torch::NoGradGuard no_grad;
  m.eval();
  try {
    // 1. Statistics in float: every quantizer off; each target sees what it would quantize.
    if (!targets.empty()) {
      m.set_quant_enabled(false);
      std::map<ActQuantizerImpl*, Target*> by_q;
      for (Target& t : targets) by_q[t.q] = &t;
      for (int64_t b = 0; b < n_batches; ++b) {
        if (cancelled()) {
          result.cancelled = true;
          return result;  // nothing written yet
        }
        report("calibration batch " + std::to_string(b + 1) + " of " + std::to_string(n_batches));
        const torch::Tensor x = batch(b);
        try {
          detail::run_graph(m, x, [&](const std::string&, torch::nn::Module& mod, const std::vector<QuantTensor>& ins,
                                      const QuantTensor& out) {
            if (auto* a = dynamic_cast<QuantActImpl*>(&mod)) {
              if (a->act_quant) {
                auto it = by_q.find(a->act_quant.get());
                if (it != by_q.end()) collect(*it->second, out.value);
              }
            } else if (auto* e = dynamic_cast<QuantEltwiseAddImpl*>(&mod)) {
              auto in = by_q.find(e->input_quant.get());
              if (in != by_q.end()) {
                collect(*in->second, ins.at(0).value);  // one shared quantizer: two calls
                collect(*in->second, ins.at(1).value);
              }
              auto o = by_q.find(e->output_quant.get());
              if (o != by_q.end()) collect(*o->second, out.value);
            }
            return false;
          });
        } catch (const c10::Error& err) {
          throw ConfigError("calibration batch " + std::to_string(b + 1) + ": the forward pass failed: " +
                            detail::torch_message(err));
        }
        result.samples += x.size(0);
        ++result.batches;
        ++done;
      }
      for (Target& t : targets) {
        if (t.calls == 0) {
          result.notes.push_back(t.name + ": never called on the calibration images; left as it was");
          continue;
        }
        const double s = t.scale_avg.item<double>();
        const double z = t.zp_avg.defined() ? t.zp_avg.item<double>() : 0.0;
        if (!std::isfinite(s) || !std::isfinite(z)) {
          std::string bad;
          const std::string what = std::isnan(s) || std::isnan(z) ? "NaN" : "infinite";
          throw DataError(t.name + ": the calibration statistic is " + what + "; " +
                          (has_nonfinite_weights(m, &bad) ? "the model's weights hold NaN or Inf (" + bad + ")"
                                                          : std::string("the calibration images or activations hold "
                                                                        "NaN or Inf")));
        }
      }
      // finalize_collect_stats: value := the average, statistics phase over.
      for (Target& t : targets) {
        if (t.calls == 0) continue;
        t.q->value.copy_(t.scale_avg);
        t.q->scaling_buffer.copy_(t.scale_avg);
        t.q->counter_buffer.fill_(static_cast<int64_t>(t.q->spec().collect_stats_steps) + 1);
        if (t.q->spec().shifted) {
          t.q->zero_point_value.copy_(t.zp_avg);
          t.q->zero_point_buffer.copy_(t.zp_avg);
        }
        result.calibrated.push_back(t.name);
      }
    }

    // 2. Bias correction, layer by layer on the quantized network.
    for (const BiasLayer& bl : bias_layers) {
      m.set_quant_enabled(true);
      torch::Tensor sum;
      int64_t iters = 0;
      for (int64_t b = 0; b < n_batches; ++b) {
        if (cancelled()) {
          snapshot.restore();
          result.cancelled = true;
          result.calibrated.clear();
          result.bias_corrected.clear();
          return result;
        }
        report(bl.id + ": bias correction, batch " + std::to_string(b + 1) + " of " + std::to_string(n_batches));
        try {
          detail::run_graph(m, batch(b), [&](const std::string& id, torch::nn::Module& mod,
                                             const std::vector<QuantTensor>& ins, const QuantTensor& out) {
            if (id != bl.id) return false;
            auto* layer = dynamic_cast<LayerBase*>(&mod);
            bl.wq->set_enabled(false);  // float weights, so a float bias too
            QuantTensor f;
            try {
              f = layer->apply_inputs(ins);
            } catch (...) {
              bl.wq->set_enabled(true);
              throw;
            }
            bl.wq->set_enabled(true);
            const torch::Tensor err = channel_mean(f.value) - channel_mean(out.value);
            if (!sum.defined())
              sum = err.clone();
            else
              sum += err;
            ++iters;
            return true;
          });
        } catch (const c10::Error& err) {
          throw ConfigError(bl.id + ": bias correction batch " + std::to_string(b + 1) + " failed: " +
                            detail::torch_message(err));
        }
        ++done;
      }
      if (iters == 0) continue;
      const torch::Tensor correction = sum / iters;
      if (!torch::isfinite(correction).all().item<bool>())
        throw DataError(bl.id + ": the bias correction is not finite; the model's weights or the calibration "
                        "images hold NaN or Inf");
      if (correction.sizes() != bl.bias.sizes())
        throw ConfigError(bl.id + ": bias correction of shape " + shape_text(correction.sizes().vec()) +
                          " for a bias of shape " + shape_text(bl.bias.sizes().vec()));
      bl.bias.add_(correction);
      result.bias_corrected.push_back(bl.id);
    }
  } catch (...) {
    snapshot.restore();
    throw;
  }
  if (targets.empty() && options.only.empty())
    result.notes.push_back("no activation quantizer with runtime statistics: nothing to calibrate");
  if (!targets.empty() || !bias_layers.empty()) {
    done = total;
    report("calibration done");
  }
  return result;
}

CalibrationResult calibrate_uncalibrated(QuantModel& model, const Dataset& train, const CalibrationOptions& options,
                                         const ProgressFn& progress, const std::atomic<bool>* cancel) {
  std::vector<std::string> layers;
  for (const std::string& id : model->order())
    for (auto& [member, q] : detail::act_quantizers(*model->layer(id)))
      if (q->spec().scaling == ScalingKind::RuntimeStats && !q->learned_phase() &&
          std::find(layers.begin(), layers.end(), id) == layers.end())
        layers.push_back(id);
  if (layers.empty()) return CalibrationResult{};
  CalibrationOptions o = options;
  o.only = layers;
  return calibrate(model, train, o, progress, cancel);
}

Project with_per_channel_weights(const Project& project) {
  Project p = project;
  for (LayerSpec& l : p.layers) {
    std::optional<QuantSpec> s = effective_weight_quant(l);
    if (!s || s->preset != "Int8WeightPerTensorFloat" || s->per_channel || s->shifted || s->power_of_two ||
        s->binary || s->scaling != ScalingKind::WeightStats)
      continue;
    s->preset = presets::Int8WeightPerChannelFloat().preset;
    s->per_channel = true;  // bit width, narrow_range and the rest kept
    l.weight_quant = s;
  }
  return p;
}

}  // namespace qnn::analysis
