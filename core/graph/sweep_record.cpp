// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/graph/sweep_record.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "core/graph/fnv1a.h"
#include "core/graph/layer_rules.h"
#include "core/graph/project.h"
#include "core/graph/sweep_record_json.h"

namespace qnn {

bool SweepPoint::operator==(const SweepPoint& o) const {
  const bool same_loss = loss == o.loss || (std::isnan(loss) && std::isnan(o.loss));
  return layer == o.layer && kind == o.kind && bits == o.bits && accuracy == o.accuracy && same_loss &&
         size_bytes == o.size_bytes && bitops == o.bitops;
}

bool SweepRecord::operator==(const SweepRecord& o) const {
  return what == o.what && min_bits == o.min_bits && max_bits == o.max_bits && holdout == o.holdout &&
         calibration_batches == o.calibration_batches && weights_file == o.weights_file && network == o.network &&
         base_accuracy == o.base_accuracy && base_loss == o.base_loss && base_size_bytes == o.base_size_bytes &&
         base_bitops == o.base_bitops && slots == o.slots && points == o.points && complete == o.complete &&
         seconds == o.seconds && notes == o.notes;
}

std::string network_fingerprint(const Project& p) {
  Project n;
  n.input_shape = p.input_shape;
  n.layers = p.layers;
  for (LayerSpec& l : n.layers) {
    l.x = l.y = 0.0;
    // The quantizers in use: a slot left to its type's default counts as that default
    // written out, so writing it out (Apply) changes nothing.
    l.weight_quant = effective_weight_quant(l);
    l.act_quant = effective_act_quant(l);
    l.input_quant = effective_input_quant(l);
    for (std::optional<QuantSpec>* q : {&l.weight_quant, &l.act_quant, &l.input_quant})
      if (*q) (*q)->bit_width = 0;
  }
  return detail::fnv1a64_hex(project_to_json(n));
}

namespace detail {

namespace {

using json = nlohmann::ordered_json;

json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

double number_or_nan(const Field& f) {
  return f.value().is_null() ? std::numeric_limits<double>::quiet_NaN() : f.number();
}

double accuracy_of(const Field& f) {
  const double a = f.number();
  if (a < 0.0 || a > 1.0) f.fail("accuracy must lie in [0, 1], got " + f.shown());
  return a;
}

int bits_of(const Field& f) {
  const int b = f.int32();
  if (b < 2 || b > 16) f.fail("bit width must lie in 2..16, got " + f.shown());
  return b;
}

std::string kind_of(const Field& f) {
  const std::string k = f.str();
  if (k != "weight" && k != "act") f.fail("expected \"weight\" or \"act\", got " + f.shown());
  return k;
}

}  // namespace

json sweep_to_json(const SweepRecord& r) {
  json j;
  j["what"] = r.what;
  j["min_bits"] = r.min_bits;
  j["max_bits"] = r.max_bits;
  j["holdout"] = r.holdout;
  j["calibration_batches"] = r.calibration_batches;
  j["weights_file"] = r.weights_file;
  j["network"] = r.network;
  j["base_accuracy"] = r.base_accuracy;
  j["base_loss"] = finite_or_null(r.base_loss);
  j["base_size_bytes"] = r.base_size_bytes;
  j["base_bitops"] = r.base_bitops;
  j["complete"] = r.complete;
  j["seconds"] = r.seconds;
  j["notes"] = r.notes;
  json slots = json::array();
  for (const SweepSlot& s : r.slots) slots.push_back(json{{"layer", s.layer}, {"kind", s.kind}, {"base_bits", s.base_bits}});
  j["slots"] = slots;
  json points = json::array();
  for (const SweepPoint& p : r.points)
    points.push_back(json{{"layer", p.layer},
                          {"kind", p.kind},
                          {"bits", p.bits},
                          {"accuracy", p.accuracy},
                          {"loss", finite_or_null(p.loss)},
                          {"size_bytes", p.size_bytes},
                          {"bitops", p.bitops}});
  j["points"] = points;
  return j;
}

SweepRecord sweep_from_json(const Field& f) {
  f.expect_object();
  f.allow_keys({"what", "min_bits", "max_bits", "holdout", "calibration_batches", "weights_file", "network",
                "base_accuracy", "base_loss", "base_size_bytes", "base_bitops", "complete", "seconds", "notes",
                "slots", "points"});
  SweepRecord r;
  r.what = f.at("what").str();
  if (r.what != "weights" && r.what != "activations" && r.what != "both")
    f.at("what").fail("expected \"weights\", \"activations\" or \"both\", got " + f.at("what").shown());
  r.min_bits = bits_of(f.at("min_bits"));
  r.max_bits = bits_of(f.at("max_bits"));
  if (r.min_bits > r.max_bits) f.at("max_bits").fail("max_bits is below min_bits");
  r.holdout = f.at("holdout").integer();
  r.calibration_batches = f.at("calibration_batches").integer();
  r.weights_file = f.at("weights_file").str();
  r.network = f.at("network").str();
  r.base_accuracy = accuracy_of(f.at("base_accuracy"));
  r.base_loss = number_or_nan(f.at("base_loss"));
  r.base_size_bytes = f.at("base_size_bytes").integer();
  r.base_bitops = f.at("base_bitops").number();
  r.complete = f.at("complete").boolean();
  r.seconds = f.at("seconds").number();
  const Field notes = f.at("notes");
  notes.expect_array();
  for (size_t i = 0; i < notes.value().size(); ++i) r.notes.push_back(notes.at(i).str());
  const Field slots = f.at("slots");
  slots.expect_array();
  for (size_t i = 0; i < slots.value().size(); ++i) {
    const Field s = slots.at(i);
    s.expect_object();
    s.allow_keys({"layer", "kind", "base_bits"});
    r.slots.push_back(SweepSlot{s.at("layer").str(), kind_of(s.at("kind")), bits_of(s.at("base_bits"))});
  }
  const Field points = f.at("points");
  points.expect_array();
  for (size_t i = 0; i < points.value().size(); ++i) {
    const Field q = points.at(i);
    q.expect_object();
    q.allow_keys({"layer", "kind", "bits", "accuracy", "loss", "size_bytes", "bitops"});
    SweepPoint p;
    p.layer = q.at("layer").str();
    p.kind = kind_of(q.at("kind"));
    p.bits = bits_of(q.at("bits"));
    p.accuracy = accuracy_of(q.at("accuracy"));
    p.loss = number_or_nan(q.at("loss"));
    p.size_bytes = q.at("size_bytes").integer();
    p.bitops = q.at("bitops").number();
    bool known = false;
    for (const SweepSlot& s : r.slots) known = known || (s.layer == p.layer && s.kind == p.kind);
    if (!known) q.at("layer").fail("point of \"" + p.layer + "\" (" + p.kind + ") names no slot of the sweep");
    if (p.bits < r.min_bits || p.bits > r.max_bits)
      q.at("bits").fail(std::to_string(p.bits) + " bits lies outside the sweep's range " + std::to_string(r.min_bits) +
                        ".." + std::to_string(r.max_bits));
    for (const SweepPoint& o : r.points)
      if (o.layer == p.layer && o.kind == p.kind && o.bits == p.bits)
        q.fail("a second point of \"" + p.layer + "\" (" + p.kind + ") at " + std::to_string(p.bits) + " bits");
    r.points.push_back(std::move(p));
  }
  return r;
}

}  // namespace detail
}  // namespace qnn
