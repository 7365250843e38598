// SPDX-License-Identifier: GPL-3.0-or-later
// The per-layer sensitivity sweep: every slot at every bit width, calibrated and
// evaluated on the held-out images; its slots, the configured projects and their cost.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>

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

namespace {

/// One point's outcome on the rank that evaluated it.
struct PointResult {
  enum Status { Ok, Cancelled, Failed, None } status = None;  ///< None: no point for this rank this round
  SweepPoint point;
  std::string note;  ///< Failed: "error: sweep point ..."
};

std::string double_bits(double v) {
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(b));
  return text;
}

double double_from_bits(const std::string& hex) {
  const uint64_t b = std::stoull(hex, nullptr, 16);
  double v = 0.0;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

/// A rank's result of one round as JSON text; doubles as their bit patterns, so the
/// gathered values are exactly the evaluated ones (NaN and infinities included).
std::string encode_point(int64_t index, const PointResult& r) {
  nlohmann::json j;
  j["index"] = index;
  j["status"] = r.status == PointResult::Ok          ? "ok"
                : r.status == PointResult::Cancelled ? "cancelled"
                : r.status == PointResult::Failed    ? "error"
                                                     : "none";
  if (r.status == PointResult::Ok) {
    j["accuracy"] = double_bits(r.point.accuracy);
    j["loss"] = double_bits(r.point.loss);
    j["size_bytes"] = r.point.size_bytes;
    j["bitops"] = double_bits(r.point.bitops);
  }
  if (r.status == PointResult::Failed) j["note"] = r.note;
  return j.dump();
}

PointResult decode_point(const std::string& bytes, int64_t index, int rank, const SweepSlot& slot, int bits) {
  PointResult r;
  try {
    const nlohmann::json j = nlohmann::json::parse(bytes);
    if (j.at("index").get<int64_t>() != index)
      throw ConfigError("rank " + std::to_string(rank) + " sent point " + std::to_string(j.at("index").get<int64_t>()) +
                        " for point " + std::to_string(index));
    const std::string status = j.at("status").get<std::string>();
    if (status == "ok") {
      r.status = PointResult::Ok;
      r.point.layer = slot.layer;
      r.point.kind = slot.kind;
      r.point.bits = bits;
      r.point.accuracy = double_from_bits(j.at("accuracy").get<std::string>());
      r.point.loss = double_from_bits(j.at("loss").get<std::string>());
      r.point.size_bytes = j.at("size_bytes").get<int64_t>();
      r.point.bitops = double_from_bits(j.at("bitops").get<std::string>());
    } else if (status == "cancelled") {
      r.status = PointResult::Cancelled;
    } else if (status == "error") {
      r.status = PointResult::Failed;
      r.note = j.at("note").get<std::string>();
    } else if (status != "none") {
      throw ConfigError("rank " + std::to_string(rank) + " sent the unknown status '" + status + "' for point " +
                        std::to_string(index));
    }
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError("sweep --dist: the result of point " + std::to_string(index) + " from rank " +
                      std::to_string(rank) + " is not readable: " + e.what());
  } catch (const std::logic_error& e) {  // stoull
    throw ConfigError("sweep --dist: the result of point " + std::to_string(index) + " from rank " +
                      std::to_string(rank) + " is not readable: " + e.what());
  }
  return r;
}

}  // namespace

SweepRecord run_sweep(const Project& project, QuantModel& trained, const Dataset& train, const Dataset& test,
                      const SweepOptions& options, const ProgressFn& progress, const std::atomic<bool>* cancel,
                      const std::function<void(const SweepPoint&)>& on_point, const SweepShard* shard) {
  const auto start = std::chrono::steady_clock::now();
  check_bits(options.min_bits, options.max_bits);
  const bool sharded = shard && shard->world_size > 1;
  if (sharded && (shard->rank < 0 || shard->rank >= shard->world_size || !shard->all_gather))
    throw ConfigError("sweep: rank " + std::to_string(shard->rank) + " is outside the world of " +
                      std::to_string(shard->world_size) + " ranks");
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
  const int64_t points = int64_t(slots.size()) * bits_count;
  const int64_t total = 1 + points;
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
  // Sharded, a rank cancelled here still takes part in the first round (it reports the
  // cancel there, and every rank stops).
  bool base_cancelled = false;
  report("base model");
  QuantModel base = clone_model(trained);
  base->eval();
  {
    const CalibrationResult cr = calibrate_uncalibrated(base, train, calib, {}, cancel);
    if (cr.cancelled && !sharded) return finish(false);
    base_cancelled = cr.cancelled;
    if (!cr.calibrated.empty()) {
      std::string ids;
      for (const std::string& id : cr.calibrated) ids += (ids.empty() ? "" : ", ") + id;
      r.notes.push_back(ids + ": still in the statistics phase (never calibrated nor trained past it); calibrated "
                        "first on " + std::to_string(cr.samples) + " training images");
    }
  }
  if (!base_cancelled && cancelled()) {
    if (!sharded) return finish(false);
    base_cancelled = true;
  }
  if (!base_cancelled) {
    const detail::Eval be =
        detail::evaluate_images(*base, images, labels, options.eval_batch_size, cancel, "sweep, base model");
    if (be.cancelled && !sharded) return finish(false);
    base_cancelled = be.cancelled;
    r.base_accuracy = be.accuracy;
    r.base_loss = be.loss;
    const Cost bc = model_cost(project);
    r.base_size_bytes = bc.size_bytes;
    r.base_bitops = bc.bitops;
    ++done;
  }

  auto name_of = [&](int64_t index) {
    const SweepSlot& slot = slots[size_t(index / bits_count)];
    return slot_name(slot.layer, slot.kind, options.min_bits + int(index % bits_count));
  };
  // Point `index` (slot-major, bits ascending) evaluated on this process.
  auto evaluate_point = [&](int64_t index) {
    const SweepSlot& slot = slots[size_t(index / bits_count)];
    const int bits = options.min_bits + int(index % bits_count);
    const std::string name = name_of(index);
    PointResult out;
    SweepPoint& p = out.point;
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
      if (e.cancelled) {
        out.status = PointResult::Cancelled;
        return out;
      }
      p.accuracy = e.accuracy;
      p.loss = e.loss;
      const Cost c = model_cost(pp);
      p.size_bytes = c.size_bytes;
      p.bitops = c.bitops;
      out.status = PointResult::Ok;
    } catch (const Error& e) {
      // The points so far are kept: the record ends here with the error as its last note.
      const std::string what = e.what();
      out.status = PointResult::Failed;
      out.note = "error: " + (what.rfind("sweep point", 0) == 0 ? what : "sweep point " + name + ": " + what);
    } catch (const c10::Error& e) {
      out.status = PointResult::Failed;
      out.note = "error: sweep point " + name + ": " + detail::torch_message(e);
    }
    return out;
  };
  // Appends a point's outcome to the record; false when the sweep ends there.
  auto take = [&](const PointResult& pr) {
    if (pr.status == PointResult::Cancelled) return false;
    if (pr.status == PointResult::Failed) {
      r.notes.push_back(pr.note);
      return false;
    }
    r.points.push_back(pr.point);
    ++done;
    if (on_point) on_point(pr.point);
    return true;
  };

  if (!sharded) {
    for (int64_t index = 0; index < points; ++index) {
      if (cancelled()) return finish(false);
      report(name_of(index));
      if (!take(evaluate_point(index))) return finish(false);
    }
  } else {
    const int world = shard->world_size;
    for (int64_t first = 0; first < points; first += world) {
      const int64_t mine = first + shard->rank;
      PointResult pr;  // None: no point for this rank in the last round
      if (base_cancelled || cancelled()) pr.status = PointResult::Cancelled;
      else if (mine < points) pr = evaluate_point(mine);
      const std::vector<std::string> all = shard->all_gather(encode_point(mine, pr));
      if (int(all.size()) != world)
        throw ConfigError("sweep --dist: gathered " + std::to_string(all.size()) + " results from " +
                          std::to_string(world) + " ranks");
      // In point order; a cancel of a rank without a point this round (more ranks than
      // points left) ends the sweep after the round's points.
      bool stop = false;
      for (int k = 0; k < world; ++k) {
        const int64_t index = first + k;
        const SweepSlot& slot = slots[size_t(std::min(index, points - 1) / bits_count)];
        const PointResult got = decode_point(all[size_t(k)], index, k, slot, options.min_bits + int(index % bits_count));
        if (index >= points) {
          stop = stop || got.status == PointResult::Cancelled;
          continue;
        }
        if (got.status == PointResult::None)
          throw ConfigError("sweep --dist: rank " + std::to_string(k) + " sent no result for point " +
                            std::to_string(index));
        if (got.status == PointResult::Ok) report(name_of(index));
        if (!take(got)) return finish(false);
      }
      if (stop) return finish(false);
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
