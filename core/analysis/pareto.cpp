// SPDX-License-Identifier: GPL-3.0-or-later
// Mixed precision from a sweep: the Pareto front of cost against predicted accuracy,
// the best configuration within a budget, and the configured project.
#include <algorithm>
#include <iomanip>
#include <cmath>
#include <map>
#include <sstream>

#include "core/analysis/analysis_detail.h"
#include "core/errors.h"

namespace qnn::analysis {

namespace {

constexpr int64_t kExhaustiveLimit = 200000;

// Exact cost of any configuration from a few model_cost evaluations: each layer's
// storage bits and BitOps depend on the bits of a few slots (its weight slot, the
// activation slot upstream); a layer's share is tabulated over the slots it depends on
// (found by changing one slot at a time). When a layer depends on more than two slots
// every configuration is costed directly instead.
class CostModel {
 public:
  CostModel(const Project& project, const SweepRecord& record) : m_project(project), m_record(record) {
    m_bits = record.max_bits - record.min_bits + 1;
    const size_t S = record.slots.size();
    std::vector<int> base(S);
    for (size_t s = 0; s < S; ++s) base[s] = record.slots[s].base_bits;
    m_base = base;
    const std::vector<detail::LayerCost> ref = costs_at(base);
    m_layers.resize(ref.size());
    for (size_t l = 0; l < ref.size(); ++l) m_layers[l].constant = ref[l];
    // Which slots move which layer.
    for (size_t s = 0; s < S; ++s)
      for (int b = record.min_bits; b <= record.max_bits; ++b) {
        if (b == base[s]) continue;
        std::vector<int> c = base;
        c[s] = b;
        const std::vector<detail::LayerCost> v = costs_at(c);
        for (size_t l = 0; l < v.size(); ++l)
          if (v[l].storage_bits != ref[l].storage_bits || v[l].bitops != ref[l].bitops) {
            auto& d = m_layers[l].deps;
            if (std::find(d.begin(), d.end(), int(s)) == d.end()) d.push_back(int(s));
          }
      }
    for (size_t l = 0; l < m_layers.size(); ++l) {
      Layer& L = m_layers[l];
      std::sort(L.deps.begin(), L.deps.end());
      if (L.deps.size() > 2) {
        m_direct = true;
        return;
      }
      if (L.deps.empty()) continue;
      int64_t combos = 1;
      for (size_t i = 0; i < L.deps.size(); ++i) combos *= m_bits;
      L.table.resize(size_t(combos));
      for (int64_t k = 0; k < combos; ++k) {
        std::vector<int> c = base;
        int64_t rest = k;
        for (int d : L.deps) {
          c[size_t(d)] = record.min_bits + int(rest % m_bits);
          rest /= m_bits;
        }
        L.table[size_t(k)] = costs_at(c)[l];
      }
    }
  }

  /// Total storage bits and BitOps of a configuration (bits per slot).
  std::pair<int64_t, double> cost(const std::vector<int>& bits) const {
    int64_t storage = 0;
    double bitops = 0.0;
    if (m_direct) {
      for (const detail::LayerCost& c : costs_at(bits)) {
        storage += c.storage_bits;
        bitops += c.bitops;
      }
      return {storage, bitops};
    }
    for (const Layer& L : m_layers) {
      const detail::LayerCost* c = &L.constant;
      if (!L.deps.empty()) {
        int64_t k = 0, mul = 1;
        for (int d : L.deps) {
          k += int64_t(bits[size_t(d)] - m_record.min_bits) * mul;
          mul *= m_bits;
        }
        c = &L.table[size_t(k)];
      }
      storage += c->storage_bits;
      bitops += c->bitops;
    }
    return {storage, bitops};
  }

  std::vector<detail::LayerCost> costs_at(const std::vector<int>& bits) const {
    return detail::layer_costs(configured(bits));
  }

  Project configured(const std::vector<int>& bits) const {
    Project p = m_project;
    for (size_t s = 0; s < m_record.slots.size(); ++s)
      p = with_slot_bits(p, m_record.slots[s].layer, m_record.slots[s].kind, bits[s]);
    return p;
  }

 private:
  struct Layer {
    detail::LayerCost constant;
    std::vector<int> deps;
    std::vector<detail::LayerCost> table;
  };
  const Project& m_project;
  const SweepRecord& m_record;
  int m_bits = 0;
  std::vector<int> m_base;
  std::vector<Layer> m_layers;
  bool m_direct = false;
};

std::string percent(double fraction) {
  std::ostringstream o;
  o.imbue(std::locale::classic());
  o.setf(std::ios::fixed);
  o.precision(1);
  o << fraction * 100.0 << " %";
  return o.str();
}

std::string bits_text(const std::vector<int>& bits) {
  std::string s;
  for (int b : bits) s += (s.empty() ? "" : "/") + std::to_string(b);
  return s;
}

}  // namespace

std::vector<MixedConfig> pareto_front(const SweepRecord& record, const Project& project, CostAxis axis) {
  if (record.network != sweep_fingerprint(project, record.slots))
    throw ConfigError("the sweep was run on another network, or with other bit widths outside its slots (fingerprint " +
                      record.network + ", the project's is " + sweep_fingerprint(project, record.slots) +
                      "); run the sweep again");
  if (record.slots.empty()) throw ConfigError("the sweep has no slots");
  if (record.min_bits < 1 || record.max_bits < record.min_bits)
    throw ConfigError("the sweep's bit range " + std::to_string(record.min_bits) + ".." +
                      std::to_string(record.max_bits) + " is invalid");
  const size_t S = record.slots.size();
  const int B = record.max_bits - record.min_bits + 1;
  // drop[s][b]: base - accuracy, negative drops counted as 0.
  std::vector<std::vector<double>> drop(S, std::vector<double>(size_t(B), 0.0));
  std::vector<std::vector<bool>> seen(S, std::vector<bool>(size_t(B), false));
  for (const SweepPoint& p : record.points) {
    if (p.bits < record.min_bits || p.bits > record.max_bits) continue;
    for (size_t s = 0; s < S; ++s)
      if (record.slots[s].layer == p.layer && record.slots[s].kind == p.kind) {
        drop[s][size_t(p.bits - record.min_bits)] = std::max(0.0, record.base_accuracy - p.accuracy);
        seen[s][size_t(p.bits - record.min_bits)] = true;
      }
  }
  for (size_t s = 0; s < S; ++s)
    for (int b = 0; b < B; ++b)
      if (!seen[s][size_t(b)])
        throw ConfigError("the sweep is incomplete: " + record.slots[s].layer + " " + record.slots[s].kind + " at " +
                          std::to_string(record.min_bits + b) + " bits is missing; run the sweep to the end");

  const CostModel costs(project, record);
  auto make = [&](const std::vector<int>& bits) {
    MixedConfig c;
    c.bits = bits;
    double sum = 0.0;
    for (size_t s = 0; s < S; ++s) sum += drop[s][size_t(bits[s] - record.min_bits)];
    c.predicted_accuracy = record.base_accuracy - sum;
    const auto [storage, bitops] = costs.cost(bits);
    c.size_bytes = detail::bytes_of(storage);
    c.bitops = bitops;
    return c;
  };
  auto cost_of = [&](const MixedConfig& c) { return axis == CostAxis::SizeBytes ? double(c.size_bytes) : c.bitops; };

  std::vector<MixedConfig> candidates;
  double configs = 1.0;
  for (size_t s = 0; s < S; ++s) configs *= B;
  if (configs <= double(kExhaustiveLimit)) {
    std::vector<int> bits(S, record.min_bits);
    for (;;) {
      candidates.push_back(make(bits));
      size_t s = 0;
      while (s < S && ++bits[s] > record.max_bits) bits[s++] = record.min_bits;
      if (s == S) break;
    }
  } else {
    // Greedy paths: from a start, lower the slot with the smallest predicted drop per
    // unit of cost saved, one bit at a time, down to every slot at min_bits. Three
    // starts, so the front holds the configurations a user compares against: every
    // slot at max_bits; the project's own bit widths (the base, clamped to the range);
    // and every slot at its cheapest bit width with no predicted drop.
    auto descend = [&](std::vector<int> bits) {
      MixedConfig cur = make(bits);
      candidates.push_back(cur);
      for (;;) {
        double best_ratio = std::numeric_limits<double>::infinity();
        int best = -1;
        MixedConfig best_cfg;
        for (size_t s = 0; s < S; ++s) {
          if (bits[s] <= record.min_bits) continue;
          std::vector<int> b = bits;
          --b[s];
          const MixedConfig c = make(b);
          const double saved = cost_of(cur) - cost_of(c);
          if (saved <= 0.0) continue;
          const double ratio = (cur.predicted_accuracy - c.predicted_accuracy) / saved;
          if (ratio < best_ratio) {
            best_ratio = ratio;
            best = int(s);
            best_cfg = c;
          }
        }
        if (best < 0) break;
        --bits[size_t(best)];
        cur = best_cfg;
        candidates.push_back(cur);
      }
    };
    descend(std::vector<int>(S, record.max_bits));
    std::vector<int> base(S), lossless(S);
    for (size_t s = 0; s < S; ++s) {
      base[s] = std::clamp(record.slots[s].base_bits, record.min_bits, record.max_bits);
      lossless[s] = record.max_bits;
      for (int b = record.min_bits; b <= record.max_bits; ++b)
        if (drop[s][size_t(b - record.min_bits)] <= 0.0) {
          lossless[s] = b;
          break;
        }
    }
    descend(base);
    descend(lossless);
  }

  // Non-dominated points: by cost ascending (then accuracy descending), each strictly
  // more accurate than every cheaper one.
  std::stable_sort(candidates.begin(), candidates.end(), [&](const MixedConfig& a, const MixedConfig& b) {
    if (cost_of(a) != cost_of(b)) return cost_of(a) < cost_of(b);
    return a.predicted_accuracy > b.predicted_accuracy;
  });
  std::vector<MixedConfig> front;
  for (const MixedConfig& c : candidates)
    if (front.empty() || c.predicted_accuracy > front.back().predicted_accuracy) {
      if (!front.empty() && cost_of(front.back()) == cost_of(c)) continue;  // sorted: never more accurate
      front.push_back(c);
    }
  return front;
}

MixedConfig suggest(const std::vector<MixedConfig>& front, const Budget& budget) {
  if (front.empty()) throw ConfigError("no configuration to choose from: the Pareto front is empty");
  // The drop limit is measured from the sweep's base accuracy when given, else from the
  // most accurate front point.
  const double best_accuracy =
      !std::isnan(budget.base_accuracy)
          ? budget.base_accuracy
          : std::max_element(front.begin(), front.end(), [](const MixedConfig& a, const MixedConfig& b) {
              return a.predicted_accuracy < b.predicted_accuracy;
            })->predicted_accuracy;
  const bool size_set = budget.max_size_bytes > 0;
  const bool ops_set = budget.max_bitops > 0.0;
  const bool drop_set = !std::isnan(budget.max_drop) && budget.max_drop >= 0.0;
  auto fits = [&](const MixedConfig& c) {
    return (!size_set || c.size_bytes <= budget.max_size_bytes) && (!ops_set || c.bitops <= budget.max_bitops) &&
           (!drop_set || best_accuracy - c.predicted_accuracy <= budget.max_drop + 1e-12);
  };
  const MixedConfig* best = nullptr;
  for (const MixedConfig& c : front) {
    if (!fits(c)) continue;
    // Only an accuracy limit: the cheapest point that keeps it (the front is sorted by
    // cost, so the first that fits). A cost limit: the most accurate point within it.
    if (!size_set && !ops_set) {
      best = &c;
      break;
    }
    if (!best || c.predicted_accuracy > best->predicted_accuracy ||
        (c.predicted_accuracy == best->predicted_accuracy &&
         (c.size_bytes < best->size_bytes || (c.size_bytes == best->size_bytes && c.bitops < best->bitops))))
      best = &c;
  }
  if (best) return *best;

  // The closest point: the smallest largest relative excess over the set limits.
  auto excess = [&](const MixedConfig& c) {
    double e = 0.0;
    if (size_set) e = std::max(e, double(c.size_bytes) / double(budget.max_size_bytes) - 1.0);
    if (ops_set) e = std::max(e, c.bitops / budget.max_bitops - 1.0);
    if (drop_set) e = std::max(e, (best_accuracy - c.predicted_accuracy) - budget.max_drop);
    return e;
  };
  const MixedConfig* closest = &front.front();
  for (const MixedConfig& c : front)
    if (excess(c) < excess(*closest)) closest = &c;
  std::string limits;
  auto add = [&](const std::string& s) { limits += (limits.empty() ? "" : ", ") + s; };
  if (size_set) add(std::to_string(budget.max_size_bytes) + " bytes");
  if (ops_set) add(detail::num(budget.max_bitops) + " BitOps");
  if (drop_set) {
    std::ostringstream o;
    o.imbue(std::locale::classic());
    o << std::setprecision(4) << budget.max_drop * 100.0;
    add("an accuracy drop of " + o.str() + " points");
  }
  if (limits.empty()) limits = "the budget";
  throw ConfigError("no configuration of the " + std::to_string(front.size()) + " on the Pareto front fits " + limits +
                    "; the closest is " + std::to_string(closest->size_bytes) + " bytes, " +
                    detail::num(closest->bitops) + " BitOps at " + percent(closest->predicted_accuracy) + " (bits " +
                    bits_text(closest->bits) + ")");
}

Project apply_config(const Project& project, const SweepRecord& record, const MixedConfig& config) {
  if (config.bits.size() != record.slots.size())
    throw ConfigError("the configuration has " + std::to_string(config.bits.size()) + " bit widths for " +
                      std::to_string(record.slots.size()) + " sweep slots");
  Project p = project;
  for (size_t s = 0; s < record.slots.size(); ++s)
    p = with_slot_bits(p, record.slots[s].layer, record.slots[s].kind, config.bits[s]);
  return p;
}

}  // namespace qnn::analysis
