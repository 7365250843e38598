// SPDX-License-Identifier: GPL-3.0-or-later
// Inspection of a built model: what quantization does to each layer. Weight
// histograms on the integer grid, scales, activation ranges on a calibration batch,
// and per-layer quantization error (MSE, SQNR). Pure core (no Qt); the widgets under
// widgets/plots/ and `qnn inspect` show and export these numbers, they compute none.
// Inspection never changes the model: it runs in eval mode without gradients and
// restores each module's training mode and the quantizers' on/off state before returning.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/data/dataset.h"
#include "core/graph/model.h"
#include "core/quant/quantizers.h"

namespace qnn::inspect {

/// Equal-width histogram of real values: `counts.size()` bins over [lo, hi]; bin i
/// covers [lo + i*w, lo + (i+1)*w) with w = (hi - lo) / bins, the last bin also holds
/// hi. NaN values are not counted (see `nan_count`). For lo == hi every value goes to
/// bin 0.
struct Histogram {
  double lo = 0.0, hi = 0.0;
  std::vector<int64_t> counts;
  int64_t nan_count = 0;
  double bin_width() const;
};

/// Call it qualified (`inspect::histogram(...)`): unqualified, argument-dependent lookup
/// also finds at::histogram for a torch::Tensor argument and the call is ambiguous.
/// Histogram of `x` (any shape, any float dtype) with `bins` >= 1 bins over [lo, hi].
/// Values outside [lo, hi] are not counted. Throws ConfigError for bins < 1 or lo > hi.
Histogram histogram(const torch::Tensor& x, int64_t bins, double lo, double hi);
/// histogram() over [min x, max x] (NaN ignored; an empty or all-NaN x gives lo = hi = 0).
/// The range spans the finite values only: +-inf elements are outside it and not counted.
Histogram histogram(const torch::Tensor& x, int64_t bins);

/// Counts on an integer grid: one bin per level min_int..max_int.
struct LevelHistogram {
  int64_t min_int = 0, max_int = 0;
  std::vector<int64_t> counts;      ///< counts[i]: elements whose code is min_int + i
  int64_t saturated_low = 0;        ///< elements with round(x / s + z) < min_int (clamped up)
  int64_t saturated_high = 0;       ///< elements with round(x / s + z) > max_int (clamped down)
  int64_t unused_levels() const;    ///< levels with a count of 0
  /// Sum of counts: the elements that got a code, i.e. numel minus the NaN elements
  /// (written as the `counted` column of weights.csv / activations.csv).
  int64_t total() const;
};

/// Level histogram of fake-quantizing `x` with `scale` / `zero_point` (both
/// broadcastable to x, real units per integer step / integer) on [min_int, max_int]:
/// code = clamp(round(x / scale + zero_point), min_int, max_int), rounding half to even
/// (quantization.md section 1). Throws ConfigError when min_int > max_int.
/// NaN elements have no code and are not counted (total() is then below numel).
LevelHistogram level_histogram(const torch::Tensor& x, const torch::Tensor& scale,
                               const torch::Tensor& zero_point, int64_t min_int, int64_t max_int);

/// Mean squared error between `reference` and `test` (same shape), in squared real units;
/// 0 for empty tensors. Throws ConfigError for different shapes.
double mse(const torch::Tensor& reference, const torch::Tensor& test);
/// Signal-to-quantization-noise ratio in dB: 10 log10(sum(ref^2) / sum((ref - test)^2)),
/// summed in double. +inf when test equals reference, -inf when ref is all zero and
/// test is not; NaN when either holds a NaN. Throws ConfigError for different shapes.
double sqnr_db(const torch::Tensor& reference, const torch::Tensor& test);

/// The integer grid of a quantizer: [min_int, max_int] from bit width, signed and
/// narrow_range (quantization.md section 1).
struct Grid {
  int64_t bit_width = 0;
  bool is_signed = false, narrow_range = false;
  int64_t min_int = 0, max_int = 0;
};

/// A QuantConv1d / QuantConv2d / QuantLinear with quantized weights.
struct WeightStats {
  std::string layer;                  ///< layer id
  std::string type;                   ///< "QuantConv1d" / "QuantConv2d" / "QuantLinear"
  std::vector<int64_t> shape;         ///< weight shape, e.g. [6, 1, 5, 5]
  Grid grid;
  bool per_channel = false;
  std::vector<double> scales;         ///< 1 value (per tensor) or one per output channel
  std::vector<double> zero_points;    ///< same length as scales
  LevelHistogram levels;              ///< whole tensor
  std::vector<LevelHistogram> channel_levels;  ///< per output channel (per_channel only)
  Histogram float_histogram;          ///< float weights, 64 bins over [min W, max W]
  double mse = 0.0;                   ///< quantized vs float weights
  double sqnr_db = 0.0;
};

/// An activation quantizer (QuantIdentity / QuantReLU / QuantHardTanh) on the
/// calibration batch. "Input" is what the quantizer sees: the layer's input after its
/// function (ReLU, the HardTanh clamp, identity), in the quantized network.
/// A QuantEltwiseAdd (addition) has two entries, in execution order: quantizer "input"
/// (its input_quant, seeing both inputs; their elements side by side) and "act" (its
/// output quantizer, seeing the sum of the two quantized inputs).
struct ActivationStats {
  std::string layer;
  std::string type;
  std::string quantizer = "act";      ///< "act", or "input" (QuantEltwiseAdd input_quant; addition)
  Grid grid;
  double scale = 0.0;                 ///< real units per step, as used in eval
  double zero_point = 0.0;
  double range_lo = 0.0, range_hi = 0.0;  ///< (min_int - z) * s, (max_int - z) * s
  bool learned_phase = false;         ///< scale from the learned `value` (else statistics)
  double input_min = 0.0, input_max = 0.0;
  Histogram input_histogram;          ///< 64 bins over [min(input_min, range_lo), max(input_max, range_hi)]
  LevelHistogram levels;              ///< the quantizer's codes on the batch
  double clipped_share = 0.0;         ///< (saturated_low + saturated_high) / numel, in [0, 1]
  double mse = 0.0;                   ///< quantizer output vs its input
  double sqnr_db = 0.0;
};

/// A bias quantizer (Int8Bias / Int16Bias / Int32Bias) of a QuantConv1d / QuantConv2d /
/// QuantLinear, in eval mode. Its scale is s_input * s_weight (one per output channel
/// for per-channel weights), zero point 0 (quantization.md section 3); the codes are
/// clamp(round_half_even(bias / scale), min_int, max_int); a NaN bias counts as code 0,
/// an infinite one as clipped. A code that had to be
/// clamped is "clipped": the bias the layer adds then differs from the trained one by
/// more than half a step (Int8Bias at ordinary scales, Int32Bias with tiny weight scales).
struct BiasStats {
  std::string layer;                  ///< layer id
  std::string type;                   ///< "QuantConv1d" / "QuantConv2d" / "QuantLinear"
  std::string quantizer;              ///< the preset, e.g. "Int8Bias"
  Grid grid;
  bool per_channel = false;           ///< one scale per output channel
  std::vector<double> scales;         ///< s_input * s_weight: 1 value or one per output channel
  LevelHistogram levels;              ///< over [min_int, max_int]; for bit widths above 16 the
                                      ///< counts are not kept (empty), saturated_* are
  int64_t min_code = 0, max_code = 0; ///< smallest / largest code after clamping
  int64_t total = 0;                  ///< bias elements (output channels)
  int64_t clipped() const { return levels.saturated_low + levels.saturated_high; }
  double clipped_share() const { return total > 0 ? double(clipped()) / double(total) : 0.0; }
  /// "2 of 6 bias codes clipped (Int8Bias)", or "" when nothing is clipped.
  std::string warning() const;
  /// "codes -128..127 on [-128, 127]": the codes' range on the grid.
  std::string codes_text() const;
  /// One line for the layer inspector: "Int8Bias · 8 bit · scale 0.000123 (per tensor) ·
  /// codes -3..127 on [-128, 127] · 2 of 6 clipped (33.3 %)"; per channel the scale is
  /// given as "min … max (per channel)".
  std::string summary() const;
};

/// Bias statistics of every layer with a quantized bias, in execution order, from a
/// forward pass in eval mode on an all-zero batch of the model's input shape (in eval
/// the scales do not depend on the data). Restores modes and switches like
/// inspect_model. Throws ConfigError when a bias quantizer has no input scale.
std::vector<BiasStats> bias_stats(QuantModel& model);
/// Statistics of `quantizer` applied to a float weight [C_out, ...] outside any model
/// (imported files whose graph cannot run); `type` names the layer type. Evaluated in
/// eval mode; the quantizer's mode is restored.
WeightStats weight_stats(const std::string& layer, const std::string& type, const torch::Tensor& weight,
                         WeightQuantizerImpl& quantizer);

/// Per-layer quantization error. `weight_*` and `act_*` are the layer's own quantizer
/// (weights vs float weights; activation output vs its input); NaN when the layer has
/// none. For a QuantEltwiseAdd `act_*` is its quantizer with the lower SQNR. `output_*` compares the layer's output in the quantized network with the same
/// network with every quantizer switched off (set_quant_enabled(false)), on the same
/// calibration batch: it accumulates the error of all layers up to this one.
struct LayerError {
  std::string layer;
  std::string type;
  double weight_mse = std::numeric_limits<double>::quiet_NaN();
  double weight_sqnr_db = std::numeric_limits<double>::quiet_NaN();
  double act_mse = std::numeric_limits<double>::quiet_NaN();
  double act_sqnr_db = std::numeric_limits<double>::quiet_NaN();
  double output_mse = 0.0;
  double output_sqnr_db = 0.0;
  /// min(weight_sqnr_db, act_sqnr_db) ignoring NaN; NaN when the layer quantizes nothing.
  double local_sqnr_db() const;
};

/// Scales of every quantizer at one moment (cheap: no forward pass). Weight scales are
/// recomputed from the current float weights; activation scales are eval_scale().
struct ScaleSnapshot {
  int64_t step = 0;   ///< caller's label: the optimizer step (-1: not known, e.g. a checkpoint that does not record it)
  struct Entry {
    std::string layer;
    std::string quantizer;        ///< "weight", "act" or "input" (QuantEltwiseAdd input_quant)
    std::vector<double> scales;   ///< 1 or one per output channel
  };
  std::vector<Entry> entries;     ///< in layer execution order
};
ScaleSnapshot collect_scales(QuantModel& model, int64_t step = 0);

/// One misclassified test sample.
struct Misclassified {
  int64_t index = 0;        ///< position in the dataset
  int64_t label = 0;        ///< true class
  int64_t predicted = 0;
  double confidence = 0.0;  ///< softmax probability of `predicted`, in [0, 1]
};

/// Up to `limit` misclassified samples of `data` in dataset order (eval mode, batches
/// of 256, no gradients). Like inspect_model it restores every module's training flag
/// and every quantizer's switch before returning, also on error. Throws ConfigError
/// when data.images is not [N, C, H, W] with the model's input_shape (the message gives
/// both shapes), when data.labels does not hold N labels, or when the forward pass fails
/// otherwise (a libtorch c10::Error inside the network, wrapped with the batch range).
std::vector<Misclassified> misclassified(QuantModel& model, const Dataset& data, int64_t limit);

/// Everything the inspection views show.
struct Report {
  /// Weights only: statistics of weight quantizers computed from constants (an imported
  /// file whose graph cannot run); no activations, errors or logits.
  bool weights_only = false;
  int64_t calibration_samples = 0;
  std::vector<WeightStats> weights;          ///< layer execution order
  std::vector<ActivationStats> activations;  ///< layer execution order
  std::vector<LayerError> errors;            ///< every layer in execution order
  std::vector<BiasStats> biases;             ///< layers with a quantized bias, execution order
  ScaleSnapshot scales;
  double logits_sqnr_db = 0.0;    ///< network output, quantized vs float
  double top1_agreement = 0.0;    ///< share of the batch where both networks predict the same class
  /// The layer with the lowest local_sqnr_db() ("" when nothing is quantized).
  std::string worst_layer;
};

/// The first `n` samples of `data` (or all when fewer): [n, C, H, W]. Deterministic, so
/// reports taken at different times are comparable. Throws DataError for an empty set.
torch::Tensor calibration_batch(const Dataset& data, int64_t n = 256);

/// Builds the report on `batch` ([N, C, H, W] as the model expects). Runs two
/// forward_trace passes (quantized, then float) in eval mode without gradients and
/// restores the model's mode and quantizer switches. Throws ConfigError for a batch
/// of the wrong shape.
Report inspect_model(QuantModel& model, const torch::Tensor& batch, int64_t step = 0);

/// Writes the report as CSV files into `dir` (created if missing), each atomically:
/// layer_error.csv, weights.csv, weight_levels.csv (layer, channel, code, count;
/// channel -1 = whole tensor), weight_histogram.csv, activations.csv,
/// activation_histogram.csv, activation_levels.csv, scales.csv (step, layer, quantizer,
/// channel, scale; channel -1 for a per-tensor quantizer, 0.. for each output channel of
/// a per-channel weight quantizer, also when it has one), and (an addition)
/// biases.csv (layer, type, quantizer, bit_width, per_channel, scale_min, scale_max,
/// min_code, max_code, clipped, total, clipped_share; an addition),
/// summary.csv (calibration_samples, logits_sqnr_db, top1_agreement, worst_layer, step).
/// Activation rows are keyed by layer id, "<id>.input_quant" for a QuantEltwiseAdd's
/// input quantizer. Each has a header row; numbers round-trip to the same double and
/// use '.' whatever the C locale (LC_NUMERIC) is; "inf", "-inf", "nan". The `counted`
/// column of weights.csv / activations.csv is LevelHistogram::total() (NaN excluded).
/// Returns the paths written. Throws IoError naming the file (or the folder).
std::vector<std::string> write_report_csv(const Report& report, const std::string& dir);

/// The same tables as CSV text (what "Copy" puts on the clipboard), by file stem:
/// table_csv(report, "layer_error") etc. Throws ConfigError for an unknown name.
std::string table_csv(const Report& report, const std::string& table);

}  // namespace qnn::inspect
