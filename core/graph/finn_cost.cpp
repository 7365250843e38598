// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/graph/finn_cost.h"

#include "core/graph/finn_rules.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <unordered_map>

namespace qnn {

namespace {

int ceil_log2(int64_t n) {  // smallest k with 2^k >= n (n >= 1)
  int k = 0;
  while (k < 63 && (int64_t(1) << k) < n) ++k;
  return k;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

bool is_dot_product(LayerType t) {
  switch (t) {
    case LayerType::Conv2d:
    case LayerType::QuantConv2d:
    case LayerType::Conv1d:
    case LayerType::QuantConv1d:
    case LayerType::Linear:
    case LayerType::QuantLinear:
      return true;
    default:
      return false;
  }
}

bool is_quant_mvau(LayerType t) {
  return t == LayerType::QuantConv2d || t == LayerType::QuantConv1d || t == LayerType::QuantLinear;
}

bool is_linear(LayerType t) { return t == LayerType::Linear || t == LayerType::QuantLinear; }

}  // namespace

int64_t clamp_to_divisor(int64_t request, int64_t n) {
  if (n < 1) return 1;
  for (int64_t d = std::min(std::max<int64_t>(request, 1), n); d > 1; --d)
    if (n % d == 0) return d;
  return 1;
}

int classic_accumulator_bits(int input_bits, int weight_bits, int64_t mw) {
  return input_bits + weight_bits + ceil_log2(std::max<int64_t>(mw, 1));
}

int finn_accumulator_bits(int input_bits, bool input_signed, int weight_bits, int64_t mw) {
  const double alpha =
      std::log2(double(std::max<int64_t>(mw, 1))) + weight_bits + input_bits - 1 - (input_signed ? 1 : 0);
  const double phi = std::log2(1.0 + std::pow(2.0, -alpha));
  // FINN: acc_bits = min(accDataType.bitwidth(), bound), accDataType INT32 by default.
  return int(std::min(32.0, std::ceil(alpha + phi + 1.0)));
}

int64_t finn_mvau_luts(int64_t pe, int64_t simd, int weight_bits, int input_bits, int acc_bits) {
  const int64_t wa = int64_t(weight_bits) + input_bits;
  const int64_t mult = count_mul(count_mul(simd, 2 * ceil_div(wa, 6) - 1), wa);
  const int64_t adder = count_mul(wa, 2 * simd - 1);
  const int64_t per_pe = count_add(count_add(mult, adder), acc_bits);
  const double luts = 300.0 + 1.1 * double(pe) * double(per_pe);
  return luts >= double(kCountSaturated) ? kCountSaturated : int64_t(luts);
}

namespace {

/// BRAM18 blocks for `omega` words of `mem_width` bits: the ladder FINN's MVAU and VVAU
/// bram_estimation() share (it branches on the memory width, SIMD x W x PE bits per
/// word, not on W alone); they differ only in the widths of the last three rungs: the
/// MVAU's 9, 18, 36 and the VVAU's 8, 16, 32 (`wide` = 9 or 8).
int64_t bram18_ladder(int64_t omega, int64_t mem_width, int64_t wide) {
  if (mem_width == 1) return ceil_div(omega, 16384);
  if (mem_width == 2) return ceil_div(omega, 8192);
  if (mem_width <= 4) return count_mul(ceil_div(omega, 4096), ceil_div(mem_width, 4));
  if (mem_width <= 9) return count_mul(ceil_div(omega, 2048), ceil_div(mem_width, wide));
  if (mem_width <= 18 || omega > 512) return count_mul(ceil_div(omega, 1024), ceil_div(mem_width, 2 * wide));
  return count_mul(ceil_div(omega, 512), ceil_div(mem_width, 4 * wide));
}

}  // namespace

int64_t finn_mvau_bram18(int64_t pe, int64_t simd, int weight_bits, int64_t mw, int64_t mh) {
  const int64_t omega = count_mul(mw, mh) / std::max<int64_t>(count_mul(simd, pe), 1);
  return bram18_ladder(omega, count_mul(count_mul(simd, weight_bits), pe), 9);
}

int64_t finn_vvau_bram18(int64_t pe, int64_t simd, int weight_bits, int64_t kernel_area, int64_t channels) {
  const int64_t omega = count_mul(kernel_area, channels) / std::max<int64_t>(pe, 1) / std::max<int64_t>(simd, 1);
  if (omega <= 128) return 0;  // ram_style "auto": memories up to 128 deep go to LUTs
  return bram18_ladder(omega, count_mul(count_mul(simd, weight_bits), pe), 8);
}

ModelHwCost hardware_cost(const Project& project, const ValidationResult& validation, const ModelSummary& summary,
                          const Folding& folding) {
  ModelHwCost m;
  m.folding = folding;
  std::unordered_map<std::string, const LayerSpec*> by_id;
  for (const LayerSpec& l : project.layers) by_id.emplace(l.id, &l);
  for (const LayerSummary& s : summary.layers) {
    if (!is_dot_product(s.type) || s.weights <= 0) continue;
    const auto it = by_id.find(s.id);
    if (it == by_id.end()) continue;
    const LayerSpec& l = *it->second;
    LayerHwCost c;
    c.id = s.id;
    c.type = s.type;
    c.macs = s.macs;
    c.weight_bits = s.weight_bits;
    c.mh = std::max<int64_t>(is_linear(s.type) ? l.int_param("out_features", 1) : l.int_param("out_channels", 1), 1);
    c.mw = std::max<int64_t>(s.weights / c.mh, 1);
    c.pixels = s.shape_known ? (is_linear(s.type) ? 1 : s.macs / std::max<int64_t>(s.weights, 1)) : 0;
    c.shape_known = s.shape_known;
    c.input_bits = 32;
    c.input_float = true;
    if (!l.inputs.empty()) {
      const auto src = validation.nodes.find(l.inputs[0]);
      c.input_known = src != validation.nodes.end();
      if (c.input_known && src->second.quantized && src->second.bit_width > 0) {
        c.input_bits = int(std::min<int64_t>(src->second.bit_width, 1 << 20));
        c.input_float = false;
        c.input_signed = src->second.is_signed;
      }
    }
    c.bitops = count_mul(count_mul(c.macs, c.weight_bits), c.input_bits);
    c.weight_memory_bits = count_mul(s.weights, c.weight_bits);
    c.acc_bits = classic_accumulator_bits(c.input_bits, c.weight_bits, c.mw);
    c.acc_bits_finn = finn_accumulator_bits(c.input_bits, c.input_signed, c.weight_bits, c.mw);
    const int64_t groups = l.int_param("groups", 1);
    // Depthwise (one filter per channel): FINN's VVAU; MH = C, MW = k_h * k_w already.
    c.vvau = s.type == LayerType::QuantConv2d && groups > 1 && groups == l.int_param("in_channels", 0) &&
             groups == c.mh && s.shape_known;
    const bool unit = (is_quant_mvau(s.type) && groups == 1) || c.vvau;
    c.no_finn_reason = !is_quant_mvau(s.type)   ? "float weights"
                       : !unit                  ? "grouped, not depthwise"
                       : !s.shape_known         ? "no inferred shape"
                       : !c.input_known         ? "input not inferred"
                       : c.input_float          ? "float input"
                                                : "";
    c.finn = c.no_finn_reason.empty();
    if (!c.finn) m.excluded.push_back(c.id + " (" + c.no_finn_reason + ")");
    if (c.finn) {
      c.pe = clamp_to_divisor(folding.pe, c.mh);
      c.simd = clamp_to_divisor(folding.simd, c.mw);
      c.cycles = count_mul(count_mul(c.mh / c.pe, c.mw / c.simd), c.pixels);
      c.luts = finn_mvau_luts(c.pe, c.simd, c.weight_bits, c.input_bits, c.acc_bits_finn);
      c.bram18 = c.vvau ? finn_vvau_bram18(c.pe, c.simd, c.weight_bits, c.mw, c.mh)
                        : finn_mvau_bram18(c.pe, c.simd, c.weight_bits, c.mw, c.mh);
      m.luts = count_add(m.luts, c.luts);
      m.bram18 = count_add(m.bram18, c.bram18);
      if (c.cycles > m.max_cycles) {
        m.max_cycles = c.cycles;
        m.slowest = c.id;
      }
    }
    m.bitops = count_add(m.bitops, c.bitops);
    m.weight_memory_bits = count_add(m.weight_memory_bits, c.weight_memory_bits);
    m.any_float_input = m.any_float_input || (c.input_float && c.input_known);
    if (!c.shape_known) ++m.layers_without_shape;
    m.layers.push_back(std::move(c));
  }
  if (m.max_cycles > 0) m.samples_per_second = folding.clock_mhz * 1e6 / double(m.max_cycles);
  // validate() adds the FINN rules only for the FINN target, so these are empty otherwise.
  for (const Diagnostic& d : validation.diagnostics)
    if (is_finn_diagnostic(d)) m.finn_findings.push_back(d.node + " (" + d.code + ")");
  return m;
}

std::string hardware_cost_table(const ModelHwCost& c, bool finn) {
  std::ostringstream o;
  size_t w_id = 5;
  for (const LayerHwCost& l : c.layers) w_id = std::max(w_id, l.id.size());
  o << "  " << std::left << std::setw(int(w_id)) << "layer" << std::right << "  " << std::setw(6) << "A bits"
    << "  " << std::setw(6) << "W bits" << "  " << std::setw(14) << "BitOps" << "  " << std::setw(12)
    << "W mem bits" << "  " << std::setw(8) << "acc bits";
  if (finn)
    o << "  " << std::setw(4) << "PE" << "  " << std::setw(4) << "SIMD" << "  " << std::setw(11) << "cycles"
      << "  " << std::setw(7) << "LUT" << "  " << std::setw(6) << "BRAM18";
  o << "\n";
  for (const LayerHwCost& l : c.layers) {
    o << "  " << std::left << std::setw(int(w_id)) << l.id << std::right << "  " << std::setw(6)
      << (l.input_known ? std::to_string(l.input_bits) + (l.input_float ? "f" : "") : std::string("?")) << "  "
      << std::setw(6) << l.weight_bits << "  " << std::setw(14) << (l.shape_known ? count_text(l.bitops) : "?") << "  " << std::setw(12) << count_text(l.weight_memory_bits) << "  "
      << std::setw(8) << (l.input_known ? std::to_string(l.acc_bits) : std::string("?"));
    if (finn) {
      if (l.finn)
        o << "  " << std::setw(4) << l.pe << "  " << std::setw(4) << l.simd << "  " << std::setw(11)
          << count_text(l.cycles) << "  " << std::setw(7) << count_text(l.luts) << "  " << std::setw(6)
          << count_text(l.bram18) << (l.vvau ? "  VVAU" : "");
      else
        o << "  " << std::setw(4) << "-" << "  " << std::setw(4) << "-" << "  " << std::setw(11) << "-" << "  "
          << std::setw(7) << "-" << "  " << std::setw(6) << "-" << "  no FINN estimate: " << l.no_finn_reason
          << (l.no_finn_reason == "float input" ? " (FINN builds no MVAU for it)" : "");
    }
    o << "\n";
  }
  o << "hardware: " << (c.layers_without_shape ? ">= " : "") << count_text(c.bitops)
    << " BitOps per sample (MACs x weight bits x input bits";
  if (c.layers_without_shape)
    o << "; partial: " << c.layers_without_shape << (c.layers_without_shape == 1 ? " layer" : " layers")
      << " without shapes";
  if (c.any_float_input) o << "; f: float input counted as 32 bits";
  o << "), " << count_text(c.weight_memory_bits) << " weight memory bits (without biases); "
    << "acc bits = input bits + weight bits + ceil(log2 fan-in)\n";
  const Folding plain;
  if (!finn && (c.folding.pe != plain.pe || c.folding.simd != plain.simd || c.folding.clock_mhz != plain.clock_mhz))
    o << "note: the FINN folding (PE " << c.folding.pe << ", SIMD " << c.folding.simd << ", " << c.folding.clock_mhz
      << " MHz) is not used: the deployment target is not FINN (--target finn, or Edit > Deployment Target > "
         "FINN)\n";
  if (finn) {
    o << "FINN estimate (PE " << c.folding.pe << ", SIMD " << c.folding.simd << " requested, clamped to divisors; "
      << std::fixed << std::setprecision(0) << c.folding.clock_mhz << " MHz): " << count_text(c.luts) << " LUTs, "
      << count_text(c.bram18) << " BRAM18, ";
    if (c.max_cycles > 0)
      o << std::setprecision(1) << c.samples_per_second << " samples/s (slowest: " << c.slowest << ", "
        << count_text(c.max_cycles) << " cycles per sample)\n";
    else
      o << "no MVAU layers\n";
    if (!c.excluded.empty()) {
      o << "  not in the FINN totals (no estimate): ";
      for (size_t i = 0; i < c.excluded.size(); ++i) o << (i ? ", " : "") << c.excluded[i];
      o << "\n";
    }
    if (!c.finn_findings.empty()) {
      o << "not a FINN build yet: " << c.finn_findings.size() << " FINN rule warning"
        << (c.finn_findings.size() == 1 ? "" : "s") << ": ";
      for (size_t i = 0; i < c.finn_findings.size(); ++i) o << (i ? ", " : "") << c.finn_findings[i];
      o << " (qnn validate names the fixes; the QONNX export for FINN is refused until they are fixed)\n";
    }
  }
  return o.str();
}

}  // namespace qnn
