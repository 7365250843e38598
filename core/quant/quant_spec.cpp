// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/quant/quant_spec.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/errors.h"

namespace qnn {

IntRange int_range(int bit_width, bool is_signed, bool narrow_range) {
  if (bit_width < 1 || bit_width > 32)
    throw ConfigError("bit_width " + std::to_string(bit_width) + " is outside 1..32");
  IntRange r;
  if (is_signed) {
    r.max_int = (int64_t{1} << (bit_width - 1)) - 1;
    r.min_int = -(int64_t{1} << (bit_width - 1)) + (narrow_range ? 1 : 0);
  } else {
    r.min_int = 0;
    r.max_int = (int64_t{1} << bit_width) - 1 - (narrow_range ? 1 : 0);
  }
  return r;
}

double QuantSpec::int_threshold() const {
  if (binary) return 1.0;
  const IntRange r = range();
  if (power_of_two)  // fixed-point presets divide by 2^(b-1) / 2^b regardless of narrow
    return is_signed ? std::ldexp(1.0, bit_width - 1) : std::ldexp(1.0, bit_width);
  return is_signed ? static_cast<double>(-r.min_int) : static_cast<double>(r.max_int);
}

void QuantSpec::validate(const std::string& where) const {
  auto fail = [&](const std::string& what) {
    throw ConfigError(where + ": " + preset + ": " + what);
  };
  if (role == QuantRole::Bias) {
    if (bit_width != 8 && bit_width != 16 && bit_width != 32)
      fail("bias bit_width must be 8, 16 or 32 (Int8Bias/Int16Bias/Int32Bias), got " +
           std::to_string(bit_width));
    if (!is_signed) fail("a bias quantizer must be signed");
    if (shifted) fail("a bias quantizer has no zero point");
    if (scaling != ScalingKind::InputTimesWeight) fail("a bias scale is input scale x weight scale");
    return;
  }
  if (binary) {
    if (bit_width != 1) fail("a binary quantizer has bit_width 1, got " + std::to_string(bit_width));
    if (!is_signed || narrow_range || shifted || power_of_two)
      fail("a binary quantizer is signed, not narrow, without zero point or power-of-two scale");
    if (per_channel && role == QuantRole::Activation) fail("per-channel scaling is only available for weights");
    if (scaling != ScalingKind::Parameter) fail("a binary quantizer uses ParameterScaling");
    if (!(std::max(std::fabs(min_val), std::fabs(max_val)) > 0.0)) fail("min_val/max_val must not both be 0");
    return;
  }
  if (bit_width < 2 || bit_width > 16)
    fail("bit_width must be in 2..16, got " + std::to_string(bit_width));
  if (role == QuantRole::Activation && per_channel)
    fail("per-channel scaling is only available for weights");
  if (shifted && is_signed) fail("a shifted (zero-point) quantizer must be unsigned");
  if (scaling == ScalingKind::RuntimeStats) {
    if (collect_stats_steps < 1) fail("collect_stats_steps must be at least 1");
    if (!(momentum > 0.0 && momentum <= 1.0)) fail("momentum must be in (0, 1]");
    if (!(high_percentile_q > 0.0 && high_percentile_q <= 100.0))
      fail("high_percentile_q must be in (0, 100]");
    if (!(low_percentile_q >= 0.0 && low_percentile_q < high_percentile_q))
      fail("low_percentile_q must be in [0, high_percentile_q)");
  }
  if (scaling == ScalingKind::Parameter && !(std::max(std::fabs(min_val), std::fabs(max_val)) > 0.0))
    fail("min_val/max_val must not both be 0");
  if (scaling == ScalingKind::InputTimesWeight) fail("only bias quantizers take their scale from the input");
  if (role == QuantRole::Weight && scaling != ScalingKind::WeightStats && scaling != ScalingKind::Parameter)
    fail("weights use statistics or parameter scaling");
  if (role == QuantRole::Weight && scaling == ScalingKind::Parameter && shifted)
    fail("a shifted weight quantizer takes its scale and zero point from statistics");
}

std::string QuantSpec::summary() const {
  std::ostringstream s;
  s << (role == QuantRole::Weight ? "W" : role == QuantRole::Bias ? "B" : "A") << bit_width
    << (is_signed ? " s" : " u");
  if (narrow_range) s << " narrow";
  if (per_channel) s << " per-ch";
  if (shifted) s << " zp";
  if (power_of_two) s << " po2";
  if (binary) s << " binary";
  if (role == QuantRole::Weight && scaling == ScalingKind::Parameter) s << " learned";
  return s.str();
}

bool QuantSpec::operator==(const QuantSpec& o) const {
  return preset == o.preset && role == o.role && scaling == o.scaling && bit_width == o.bit_width &&
         is_signed == o.is_signed && narrow_range == o.narrow_range && per_channel == o.per_channel &&
         shifted == o.shifted && power_of_two == o.power_of_two && binary == o.binary &&
         collect_stats_steps == o.collect_stats_steps && momentum == o.momentum &&
         high_percentile_q == o.high_percentile_q && low_percentile_q == o.low_percentile_q &&
         min_val == o.min_val && max_val == o.max_val;
}

namespace presets {

QuantSpec Int8WeightPerTensorFloat() { return QuantSpec{}; }

QuantSpec Int8WeightPerChannelFloat() {
  QuantSpec s;
  s.preset = "Int8WeightPerChannelFloat";
  s.per_channel = true;
  return s;
}

QuantSpec ShiftedUint8WeightPerTensorFloat() {
  QuantSpec s;
  s.preset = "ShiftedUint8WeightPerTensorFloat";
  s.is_signed = false;
  s.narrow_range = false;
  s.shifted = true;
  return s;
}

QuantSpec Int8WeightPerTensorFixedPoint() {
  QuantSpec s;
  s.preset = "Int8WeightPerTensorFixedPoint";
  s.power_of_two = true;
  return s;
}

QuantSpec Int8ActPerTensorFloat() {
  QuantSpec s;
  s.preset = "Int8ActPerTensorFloat";
  s.role = QuantRole::Activation;
  s.scaling = ScalingKind::RuntimeStats;
  s.narrow_range = false;
  return s;
}

QuantSpec Uint8ActPerTensorFloat() {
  QuantSpec s = Int8ActPerTensorFloat();
  s.preset = "Uint8ActPerTensorFloat";
  s.is_signed = false;
  return s;
}

QuantSpec ShiftedUint8ActPerTensorFloat() {
  QuantSpec s = Uint8ActPerTensorFloat();
  s.preset = "ShiftedUint8ActPerTensorFloat";
  s.shifted = true;
  return s;
}

QuantSpec Int8ActPerTensorFloatMinMaxInit() {
  QuantSpec s = Int8ActPerTensorFloat();
  s.preset = "Int8ActPerTensorFloatMinMaxInit";
  s.scaling = ScalingKind::Parameter;
  return s;
}

QuantSpec Int8ActPerTensorFixedPoint() {
  QuantSpec s = Int8ActPerTensorFloat();
  s.preset = "Int8ActPerTensorFixedPoint";
  s.power_of_two = true;
  return s;
}

QuantSpec Uint8ActPerTensorFixedPoint() {
  QuantSpec s = Uint8ActPerTensorFloat();
  s.preset = "Uint8ActPerTensorFixedPoint";
  s.power_of_two = true;
  return s;
}

static QuantSpec bias(int bits, const char* name) {
  QuantSpec s;
  s.preset = name;
  s.role = QuantRole::Bias;
  s.scaling = ScalingKind::InputTimesWeight;
  s.bit_width = bits;
  s.narrow_range = false;
  return s;
}
QuantSpec Int8Bias() { return bias(8, "Int8Bias"); }
QuantSpec Int16Bias() { return bias(16, "Int16Bias"); }
QuantSpec Int32Bias() { return bias(32, "Int32Bias"); }

static QuantSpec binary(QuantRole role, const char* name) {
  QuantSpec s;
  s.preset = name;
  s.role = role;
  s.scaling = ScalingKind::Parameter;
  s.bit_width = 1;
  s.narrow_range = false;
  s.binary = true;
  return s;
}
QuantSpec SignedBinaryWeightPerTensorConst() {
  QuantSpec s = binary(QuantRole::Weight, "SignedBinaryWeightPerTensorConst");
  s.min_val = -0.1;  // Brevitas: scaling_const = 0.1
  s.max_val = 0.1;
  return s;
}
QuantSpec SignedBinaryActPerTensorConst() { return binary(QuantRole::Activation, "SignedBinaryActPerTensorConst"); }

struct Entry {
  const char* name;
  QuantSpec (*make)();
};
static const Entry kPresets[] = {
    {"Int8WeightPerTensorFloat", Int8WeightPerTensorFloat},
    {"Int8WeightPerChannelFloat", Int8WeightPerChannelFloat},
    {"ShiftedUint8WeightPerTensorFloat", ShiftedUint8WeightPerTensorFloat},
    {"Int8WeightPerTensorFixedPoint", Int8WeightPerTensorFixedPoint},
    {"Int8ActPerTensorFloat", Int8ActPerTensorFloat},
    {"Uint8ActPerTensorFloat", Uint8ActPerTensorFloat},
    {"ShiftedUint8ActPerTensorFloat", ShiftedUint8ActPerTensorFloat},
    {"Int8ActPerTensorFloatMinMaxInit", Int8ActPerTensorFloatMinMaxInit},
    {"Int8ActPerTensorFixedPoint", Int8ActPerTensorFixedPoint},
    {"Uint8ActPerTensorFixedPoint", Uint8ActPerTensorFixedPoint},
    {"Int8Bias", Int8Bias},
    {"Int16Bias", Int16Bias},
    {"Int32Bias", Int32Bias},
    {"SignedBinaryWeightPerTensorConst", SignedBinaryWeightPerTensorConst},
    {"SignedBinaryActPerTensorConst", SignedBinaryActPerTensorConst},
};

QuantSpec by_name(const std::string& name) {
  std::string known;
  for (const Entry& e : kPresets) {
    if (name == e.name) return e.make();
    known += (known.empty() ? "" : ", ") + std::string(e.name);
  }
  throw ConfigError("unknown quantizer preset '" + name + "'; known presets: " + known);
}

std::vector<std::string> names(QuantRole role) {
  std::vector<std::string> out;
  for (const Entry& e : kPresets)
    if (e.make().role == role) out.emplace_back(e.name);
  return out;
}

}  // namespace presets

std::string to_string(QuantRole r) {
  switch (r) {
    case QuantRole::Weight: return "weight";
    case QuantRole::Activation: return "activation";
    case QuantRole::Bias: return "bias";
  }
  return "?";
}

std::string to_string(ScalingKind k) {
  switch (k) {
    case ScalingKind::WeightStats: return "StatsFromParameterScaling";
    case ScalingKind::RuntimeStats: return "ParameterFromRuntimeStatsScaling";
    case ScalingKind::Parameter: return "ParameterScaling";
    case ScalingKind::InputTimesWeight: return "InputTimesWeight";
  }
  return "?";
}

QuantRole quant_role_from_string(const std::string& s) {
  for (QuantRole r : {QuantRole::Weight, QuantRole::Activation, QuantRole::Bias})
    if (to_string(r) == s) return r;
  throw ConfigError("unknown quantizer role '" + s + "' (weight, activation or bias)");
}

ScalingKind scaling_kind_from_string(const std::string& s) {
  for (ScalingKind k : {ScalingKind::WeightStats, ScalingKind::RuntimeStats, ScalingKind::Parameter,
                        ScalingKind::InputTimesWeight})
    if (to_string(k) == s) return k;
  throw ConfigError("unknown scaling '" + s +
                    "' (StatsFromParameterScaling, ParameterFromRuntimeStatsScaling, "
                    "ParameterScaling or InputTimesWeight)");
}

}  // namespace qnn
