// SPDX-License-Identifier: GPL-3.0-or-later
// The per-layer sensitivity sweep: every slot at every bit width, calibrated and
// evaluated on the held-out images; its slots, the configured projects and their cost.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/analysis/analysis_detail.h"
#include "core/errors.h"
#include "core/graph/fnv1a.h"
#include "core/graph/layer_rules.h"
#include "core/graph/summary.h"
#include "core/graph/validate.h"

namespace qnn::analysis {

namespace detail {

std::vector<LayerCost> layer_costs(const Project& project) {
  const ValidationResult v = validate(project);
  if (!v.ok()) throw ConfigError(v.error_text());
  const ModelSummary s = summarize(project, v);
  std::vector<LayerCost> out;
  out.reserve(s.layers.size());
  for (const LayerSummary& l : s.layers) {
    LayerCost c;
    c.id = l.id;
    c.storage_bits = l.storage_bits;
    if (l.macs > 0) {
      const double w = l.weight_bits > 0 ? double(l.weight_bits) : 32.0;
      double in = 32.0;
      const LayerSpec* spec = project.find(l.id);
      if (spec && !spec->inputs.empty()) {
        auto it = v.nodes.find(spec->inputs[0]);
        if (it != v.nodes.end() && it->second.quantized && it->second.bit_width > 0)
          in = double(it->second.bit_width);
      }
      c.bitops = double(l.macs) * w * in;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace detail

namespace {

void check_bits(int min_bits, int max_bits) {
  for (int b : {min_bits, max_bits})
    if (b < 2 || b > 16)
      throw ConfigError("sweep: bit widths must lie in 2..16 (got " + std::to_string(b) + ")");
  if (min_bits > max_bits)
    throw ConfigError("sweep: the smallest bit width (" + std::to_string(min_bits) + ") is above the largest (" +
                      std::to_string(max_bits) + ")");
}

// Sets `bits` on the quantizer in `own` (the layer's field), materialising the type's
// default when the field is empty and the bit width changes.
void set_bits(std::optional<QuantSpec>& own, const std::optional<QuantSpec>& effective, int bits,
              const std::string& where) {
  QuantSpec s = *effective;
  if (s.binary) throw ConfigError(where + " is binary (" + s.preset + "); its bit width cannot change");
  const bool changes = s.bit_width != bits;
  s.bit_width = bits;
  s.validate(where);
  if (own || changes) own = s;
}

std::string slot_name(const std::string& layer, const std::string& kind, int bits) {
  return layer + (kind == "weight" ? " weights" : " activations") + " at " + std::to_string(bits) + " bits";
}

}  // namespace

std::vector<SweepSlot> sweep_slots(const Project& project, QuantKind what) {
  const ValidationResult v = validate(project);
  if (!v.ok()) throw ConfigError(v.error_text());
  std::vector<SweepSlot> slots;
  for (const std::string& id : v.order) {
    const LayerSpec* l = project.find(id);
    if (!l) continue;
    if (what != QuantKind::Activations) {
      const std::optional<QuantSpec> w = effective_weight_quant(*l);
      if (w && !w->binary) slots.push_back(SweepSlot{id, "weight", w->bit_width});
    }
    if (what != QuantKind::Weights) {
      const std::optional<QuantSpec> a = effective_act_quant(*l);
      if (a && !a->binary) slots.push_back(SweepSlot{id, "act", a->bit_width});
    }
  }
  return slots;
}

Project with_slot_bits(const Project& project, const std::string& layer, const std::string& kind, int bits) {
  Project p = project;
  LayerSpec* l = p.find(layer);
  if (!l) throw ConfigError("the project has no layer \"" + layer + "\"");
  if (kind == "weight") {
    const std::optional<QuantSpec> w = effective_weight_quant(*l);
    if (!w) throw ConfigError(layer + " (" + to_string(l->type) + ") has no weight quantizer");
    set_bits(l->weight_quant, w, bits, layer + " weight_quant");
  } else if (kind == "act") {
    const std::optional<QuantSpec> a = effective_act_quant(*l);
    if (!a) throw ConfigError(layer + " (" + to_string(l->type) + ") has no activation quantizer");
    set_bits(l->act_quant, a, bits, layer + " act_quant");
    const std::optional<QuantSpec> in = effective_input_quant(*l);
    if (in) set_bits(l->input_quant, in, bits, layer + " input_quant");
  } else {
    throw ConfigError("unknown sweep slot kind \"" + kind + "\": expected weight or act");
  }
  return p;
}

Cost model_cost(const Project& project) {
  Cost c;
  int64_t bits = 0;
  for (const detail::LayerCost& l : detail::layer_costs(project)) {
    bits = count_add(bits, l.storage_bits);
    c.bitops += l.bitops;
  }
  c.size_bytes = detail::bytes_of(bits);
  return c;
}

SweepRecord run_sweep(const Project& project, QuantModel& trained, const Dataset& train, const Dataset& test,
                      const SweepOptions& options, const ProgressFn& progress, const std::atomic<bool>* cancel,
                      const std::function<void(const SweepPoint&)>& on_point) {
  const auto start = std::chrono::steady_clock::now();
  check_bits(options.min_bits, options.max_bits);
  const std::vector<SweepSlot> slots = sweep_slots(project, options.what);
  if (slots.empty()) {
    const std::string kind = options.what == QuantKind::Weights       ? "weight quantizer"
                             : options.what == QuantKind::Activations ? "activation quantizer"
                                                                      : "weight or activation quantizer";
    throw ConfigError("nothing to sweep: \"" + project.name + "\" has no " + kind +
                      " whose bit width can change (binary quantizers keep 1 bit)");
  }
  const std::string diff = network_difference(project, trained->project());
  if (!diff.empty())
    throw ConfigError("sweep: the project differs from the one the model was built from (" + diff +
                      "); rebuild or reload the model first");
  if (options.eval_batch_size < 1)
    throw ConfigError("sweep: the evaluation batch size must be at least 1 (got " +
                      std::to_string(options.eval_batch_size) + ")");
  if (options.holdout < 0) throw ConfigError("sweep: the number of held-out images must not be negative");
  detail::check_images(*trained, test, "sweep (test images)");

  SweepRecord r;
  r.what = to_string(options.what);
  r.min_bits = options.min_bits;
  r.max_bits = options.max_bits;
  r.calibration_batches = options.calibration_batches;
  r.weights_file = options.weights_file;
  r.network = sweep_fingerprint(project, slots);
  r.slots = slots;
  const int64_t n = options.holdout == 0 ? test.size() : std::min(options.holdout, test.size());
  r.holdout = n;
  const torch::Tensor images = test.images.narrow(0, 0, n);
  const torch::Tensor labels = test.labels.narrow(0, 0, n);

  const int bits_count = options.max_bits - options.min_bits + 1;
  const int64_t total = 1 + int64_t(slots.size()) * bits_count;
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
  auto finish = [&](bool complete) {
    r.complete = complete;
    r.seconds = detail::seconds_since(start);
    return r;
  };
  auto cancelled = [&] { return cancel && cancel->load(); };
  CalibrationOptions calib;
  calib.batches = options.calibration_batches;
  calib.batch_size = options.calibration_batch_size;

  // The base model: a copy of `trained`, its uncalibrated statistics quantizers calibrated.
  report("base model");
  QuantModel base = clone_model(trained);
  base->eval();
  {
    const CalibrationResult cr = calibrate_uncalibrated(base, train, calib, {}, cancel);
    if (cr.cancelled) return finish(false);
    if (!cr.calibrated.empty()) {
      std::string ids;
      for (const std::string& id : cr.calibrated) ids += (ids.empty() ? "" : ", ") + id;
      r.notes.push_back(ids + ": still in the statistics phase (never calibrated nor trained past it); calibrated "
                        "first on " + std::to_string(cr.samples) + " training images");
    }
  }
  if (cancelled()) return finish(false);
  const detail::Eval be =
      detail::evaluate_images(*base, images, labels, options.eval_batch_size, cancel, "sweep, base model");
  if (be.cancelled) return finish(false);
  r.base_accuracy = be.accuracy;
  r.base_loss = be.loss;
  const Cost bc = model_cost(project);
  r.base_size_bytes = bc.size_bytes;
  r.base_bitops = bc.bitops;
  ++done;

  for (const SweepSlot& slot : slots) {
    for (int bits = options.min_bits; bits <= options.max_bits; ++bits) {
      if (cancelled()) return finish(false);
      const std::string name = slot_name(slot.layer, slot.kind, bits);
      report(name);
      SweepPoint p;
      p.layer = slot.layer;
      p.kind = slot.kind;
      p.bits = bits;
      try {
        const Project pp = with_slot_bits(project, slot.layer, slot.kind, bits);
        QuantModel m = build_model(pp);
        copy_model_state(*base, *m);
        m->eval();
        // A varied activation quantizer keeps its threshold (the learned or calibrated
        // range, `value`): its scale is threshold / int_threshold at the new bit width,
        // as a Brevitas model of that bit width given this state dict computes it, and
        // the point at the project's own bit width is the base itself.
        const detail::Eval e = detail::evaluate_images(*m, images, labels, options.eval_batch_size, cancel,
                                                       "sweep point " + name);
        if (e.cancelled) return finish(false);
        p.accuracy = e.accuracy;
        p.loss = e.loss;
        const Cost c = model_cost(pp);
        p.size_bytes = c.size_bytes;
        p.bitops = c.bitops;
      } catch (const Error& e) {
        // The points so far are kept: the record ends here with the error as its last note.
        const std::string what = e.what();
        r.notes.push_back("error: " + (what.rfind("sweep point", 0) == 0 ? what : "sweep point " + name + ": " + what));
        return finish(false);
      } catch (const c10::Error& e) {
        r.notes.push_back("error: sweep point " + name + ": " + detail::torch_message(e));
        return finish(false);
      }
      r.points.push_back(p);
      ++done;
      if (on_point) on_point(p);
    }
  }
  report("sweep done");
  return finish(true);
}

std::string sweep_fingerprint(const Project& project, const std::vector<SweepSlot>& slots) {
  auto swept = [&](const std::string& layer, const char* kind) {
    return std::any_of(slots.begin(), slots.end(),
                       [&](const SweepSlot& s) { return s.layer == layer && s.kind == kind; });
  };
  std::string text = network_fingerprint(project);
  for (const LayerSpec& l : project.layers) {
    if (const auto w = effective_weight_quant(l); w && !swept(l.id, "weight"))
      text += ";" + l.id + ".weight=" + std::to_string(w->bit_width);
    if (swept(l.id, "act")) continue;
    if (const auto a = effective_act_quant(l)) text += ";" + l.id + ".act=" + std::to_string(a->bit_width);
    if (const auto i = effective_input_quant(l)) text += ";" + l.id + ".input=" + std::to_string(i->bit_width);
  }
  return qnn::detail::fnv1a64_hex(text);  // as network_fingerprint
}

std::string sweep_csv(const SweepRecord& record) {
  using detail::num;
  std::ostringstream o;
  o << "layer,kind,bits,accuracy,accuracy_drop,loss,size_bytes,bitops\n";
  o << "(base),,," << num(record.base_accuracy) << ",0," << num(record.base_loss) << ',' << record.base_size_bytes
    << ',' << num(record.base_bitops) << '\n';
  for (const SweepPoint& p : record.points)
    o << p.layer << ',' << p.kind << ',' << p.bits << ',' << num(p.accuracy) << ','
      << num(record.base_accuracy - p.accuracy) << ',' << num(p.loss) << ',' << p.size_bytes << ',' << num(p.bitops)
      << '\n';
  return o.str();
}

}  // namespace qnn::analysis
