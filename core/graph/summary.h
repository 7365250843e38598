// SPDX-License-Identifier: GPL-3.0-or-later
// Model summary: per-layer parameter count, multiply-accumulates per sample, bit
// widths and storage at the chosen bit widths, and the model size against float32.
// Pure core (no LibTorch tensors, no Qt); reads the project and the shapes inferred by
// validate().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/graph/project.h"
#include "core/graph/validate.h"

namespace qnn {

/// Counts (parameters, MACs, bits, bytes) stop at kCountSaturated (INT64_MAX) instead
/// of wrapping around: validate() accepts sizes up to 2^31-1, so a Linear of
/// 2^31-1 x 2^31-1 weights at 8 bits has more storage bits than an int64 holds (the
/// summary printed a negative byte count). A saturated count reads "more than
/// 9223372036854775806" in summary_table().
inline constexpr int64_t kCountSaturated = INT64_MAX;
/// a * b and a + b for counts (a, b >= 0), saturating at kCountSaturated.
int64_t count_mul(int64_t a, int64_t b);
int64_t count_add(int64_t a, int64_t b);
/// A count as text: the number, or "more than 9223372036854775806" when saturated.
std::string count_text(int64_t v);

/// One layer's row. Counting rules:
///  - Conv2d / QuantConv2d: weights C_out * C_in/groups * k * k, bias C_out;
///    MACs C_out * H_out * W_out * C_in/groups * k * k (e.g. LeNet conv1:
///    6 * 28 * 28 * 1 * 25 = 117600).
///  - Linear / QuantLinear: weights in * out, bias out; MACs in * out.
///  - BatchNorm2d: 2 * C parameters (weight, bias); storage also counts the running
///    mean and variance it needs in eval (4 * C floats); MACs C * H * W (one
///    multiply-add per element).
///  - every other layer: no parameters, no MACs (pooling and Add only add/compare).
/// Storage: weight codes at weight_bits (32 for float weights), bias at bias_bits
/// (the bias quantizer's 8/16/32, 32 for a float bias). Scales and zero points (one
/// float per tensor or channel) are not counted.
struct LayerSummary {
  std::string id;
  LayerType type = LayerType::Input;
  int64_t weights = 0;        ///< weight elements
  int64_t biases = 0;         ///< bias elements (0 without a bias)
  int64_t params = 0;         ///< trainable parameters (weights + biases, or BatchNorm's 2 * C)
  int64_t macs = 0;           ///< multiply-accumulates per sample; 0 when the shape is unknown
  bool shape_known = false;   ///< validate() inferred the output shape (MACs are exact)
  int weight_bits = 0;        ///< 0: no weights; 32: float weights
  int bias_bits = 0;          ///< 0: no bias; 32: float bias
  int64_t storage_bits = 0;   ///< bits to store the layer at the chosen bit widths
  int64_t float32_bits = 0;   ///< bits to store the same tensors as float32
};

struct ModelSummary {
  std::vector<LayerSummary> layers;  ///< every layer, in execution order when known, else file order
  int64_t params = 0;
  int64_t macs = 0;             ///< sum of the layers' MACs: a lower bound when layers_without_shape > 0
  /// Layers with weights (convolutions, Linear, BatchNorm) whose output shape validate()
  /// could not infer (an invalid graph): their MACs are missing from `macs`, which is
  /// then only partial. 0 for a valid graph.
  int64_t layers_without_shape = 0;
  bool macs_partial() const { return layers_without_shape > 0; }
  int64_t size_bytes = 0;       ///< ceil(sum of storage_bits / 8)
  int64_t float32_bytes = 0;    ///< sum of float32_bits / 8
  double compression = 1.0;     ///< float32_bytes / size_bytes (1 when there is nothing to store)
};

/// Summarises `project` with the shapes of `validation` (= validate(project)).
/// Never throws; layers whose shape is unknown get macs = 0 and shape_known = false.
ModelSummary summarize(const Project& project, const ValidationResult& validation);

/// The summary as a fixed-width text table (layer, type, params, MACs, W bits, B bits,
/// bytes) with a totals line: "total: 61696 parameters, 416520 MACs per sample;
/// 23278 bytes at the chosen bit widths vs 246784 bytes float32 (1/10.60)". When the
/// MACs are partial (macs_partial()) the line says so: ">= 117600 MACs per sample
/// (partial: 2 layers without shapes)".
std::string summary_table(const ModelSummary& s);

}  // namespace qnn
