// SPDX-License-Identifier: GPL-3.0-or-later
// Plain-data description of a quantizer (what a user picks in the inspector and
// what the project file stores), and the named Brevitas presets.
// No LibTorch here: the graph document and the widgets use it too.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qnn {

/// What a quantizer is attached to.
enum class QuantRole { Weight, Activation, Bias };

/// How the scale is obtained (Brevitas scaling_impl names in brackets).
enum class ScalingKind {
  /// Statistic of the float weight, recomputed every forward [StatsFromParameterScaling].
  WeightStats,
  /// Runtime statistics for collect_stats_steps training calls, then a learned
  /// parameter initialised from the running statistic [ParameterFromRuntimeStatsScaling].
  RuntimeStats,
  /// Learned parameter initialised from max(|min_val|, |max_val|) [ParameterScaling].
  Parameter,
  /// s_bias = s_input * s_weight [bias quantizers; no state].
  InputTimesWeight,
};

/// Integer range of a quantizer: codes lie in [min_int, max_int].
/// Source: Brevitas IntQuant (quantization.md section 1).
struct IntRange {
  int64_t min_int = 0;
  int64_t max_int = 0;
};

/// Returns the integer range for a bit width. Throws ConfigError if bit_width < 1.
IntRange int_range(int bit_width, bool is_signed, bool narrow_range);

/// Complete quantizer settings. Defaults are those of Int8WeightPerTensorFloat.
struct QuantSpec {
  std::string preset = "Int8WeightPerTensorFloat";  ///< Brevitas quantizer name
  QuantRole role = QuantRole::Weight;
  ScalingKind scaling = ScalingKind::WeightStats;
  int bit_width = 8;              ///< 2..16 for weights/activations; 8, 16 or 32 for biases
  bool is_signed = true;
  bool narrow_range = true;
  bool per_channel = false;      ///< weights only: one scale per output channel (dim 0)
  bool shifted = false;          ///< asymmetric: unsigned codes with a zero point
  bool power_of_two = false;     ///< restrict the scale to 2^k (fixed-point targets)
  /// Brevitas BinaryQuant (QONNX BipolarQuant): bit_width 1, signed, codes {-1, +1}:
  /// y = (x >= 0 ? +1 : -1) * scale. Weights: straight-through sign (BinaryQuant);
  /// activations: x clamped to [-scale, scale] first (ClampedBinaryQuant). Scaling is
  /// ParameterScaling (the value is the scale itself, int_threshold 1).
  bool binary = false;
  int collect_stats_steps = 300;     ///< RuntimeStats: training calls of the statistics phase
  double momentum = 0.1;             ///< RuntimeStats: running statistic update weight
  double high_percentile_q = 99.999; ///< RuntimeStats: percentile of |x| (or of x when shifted)
  double low_percentile_q = 0.001;   ///< RuntimeStats, shifted: low percentile of x
  double min_val = -1.0;             ///< Parameter scaling: initial range
  double max_val = 1.0;

  /// int_threshold of Brevitas: the integer the statistic maps to
  /// (signed: -min_int, unsigned: max_int; quantization.md section 2).
  double int_threshold() const;
  /// Integer range of the codes; binary quantizers give [-1, 1] (0 never occurs).
  IntRange range() const { return binary ? IntRange{-1, 1} : int_range(bit_width, is_signed, narrow_range); }

  /// Throws ConfigError naming `where` and the bad field (bit width out of
  /// range, per-channel activation, bias with a zero point, ...).
  void validate(const std::string& where) const;

  /// Short human summary, e.g. "W3 s narrow per-tensor" or "A4 u".
  std::string summary() const;

  bool operator==(const QuantSpec& o) const;
  bool operator!=(const QuantSpec& o) const { return !(*this == o); }
};

/// The named quantizers of quantization.md section 3 at their default 8 bits.
namespace presets {
QuantSpec Int8WeightPerTensorFloat();
QuantSpec Int8WeightPerChannelFloat();
QuantSpec ShiftedUint8WeightPerTensorFloat();
QuantSpec Int8WeightPerTensorFixedPoint();
QuantSpec Int8ActPerTensorFloat();
QuantSpec Uint8ActPerTensorFloat();
QuantSpec ShiftedUint8ActPerTensorFloat();
QuantSpec Int8ActPerTensorFloatMinMaxInit();
QuantSpec Int8ActPerTensorFixedPoint();
QuantSpec Uint8ActPerTensorFixedPoint();
QuantSpec Int8Bias();
QuantSpec Int16Bias();
QuantSpec Int32Bias();
/// Brevitas's 1-bit presets (bipolar +-scale; the scale starts at Brevitas's constant,
/// 0.1 for weights and 1 for activations, and is learned here, where Brevitas keeps it
/// constant): the QONNX BipolarQuant of FINN's BNNs.
QuantSpec SignedBinaryWeightPerTensorConst();
QuantSpec SignedBinaryActPerTensorConst();

/// Looks a preset up by its Brevitas name. Throws ConfigError listing the known names.
QuantSpec by_name(const std::string& name);
/// Preset names usable for a role, in menu order.
std::vector<std::string> names(QuantRole role);
}  // namespace presets

std::string to_string(QuantRole r);
std::string to_string(ScalingKind k);
/// Inverse of to_string. Throws ConfigError on an unknown name.
QuantRole quant_role_from_string(const std::string& s);
ScalingKind scaling_kind_from_string(const std::string& s);

}  // namespace qnn
