// SPDX-License-Identifier: GPL-3.0-or-later
// Choosing bit widths with evidence: post-training calibration, the quantization
// analyzer, the per-layer sensitivity sweep and the mixed-precision Pareto front.
// Qt-free: progress goes through a callback, cancellation through an atomic flag, so
// the GUI runs these on a worker thread and the CLI (`qnn calibrate|analyze|sweep|
// suggest`) in the foreground.
//
// Data: calibration uses the first `batches` x `batch_size` images of the training
// split in dataset order (deterministic, no shuffling); the analyzer and the sweep
// evaluate on a held-out subset, the first `holdout` images of the test split (the same
// images for every point, so points compare). Accuracies are fractions in [0, 1].
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/data/dataset.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/graph/sweep_record.h"

namespace qnn::analysis {

/// Progress of a long analysis: `done` of `total` units (batches or points), what is
/// being done ("conv1 at 3 bits"), and the estimated seconds left (NaN while unknown).
struct Progress {
  int64_t done = 0;
  int64_t total = 0;
  std::string what;
  double eta_seconds = std::numeric_limits<double>::quiet_NaN();
};
using ProgressFn = std::function<void(const Progress&)>;

// ------------------------------------------------------------- quantizer switches

/// Which quantizers of a layer a switch or a sweep slot addresses.
///  - Weights: the weight quantizer, and the bias quantizer with it (a quantized bias
///    needs the quantized weight's scale);
///  - Activations: act_quant (QuantIdentity, QuantReLU, QuantHardTanh, QuantTanh,
///    QuantSigmoid), a QuantEltwiseAdd's input_quant and output act_quant;
///  - Both: all of them.
enum class QuantKind { Weights, Activations, Both };
/// "weights", "activations", "both" (CLI --what, SweepRecord::what).
std::string to_string(QuantKind k);
/// Throws ConfigError naming the accepted words.
QuantKind quant_kind_from_string(const std::string& s);

/// Turns the quantizers of kind `kind` of layer `id` on or off (the others keep their
/// switch). Inside the analyses of this header (calibrate, analyze, run_sweep) a bias
/// quantizer whose input arrives unquantized uses the float bias (as with
/// set_quant_enabled(false)) and a truncating average pool with a float input averages
/// float values: they never throw for that. QuantModelImpl::forward itself still
/// refuses both (ConfigError), so evaluate() such a mix through the analyses. Throws
/// ConfigError when the model has no layer `id`.
void set_layer_quant_enabled(QuantModelImpl& model, const std::string& id, QuantKind kind, bool on);

/// Ids of the layers that carry at least one quantizer of `kind`, in execution order.
std::vector<std::string> quantized_layers(QuantModelImpl& model, QuantKind kind);

// ------------------------------------------------------------- calibration

struct CalibrationOptions {
  int64_t batches = 16;       ///< calibration batches (>= 1)
  int64_t batch_size = 64;    ///< images per batch (>= 1)
  /// Empirical bias correction (sequential, in the style of AIMET's empirical bias
  /// correction; Brevitas's bias_correction_mode differs: it corrects all layers in one
  /// pass, feeding each layer's float output downstream, and adds a bias where there is
  /// none): after calibration, per QuantConv/QuantLinear layer with a bias, in execution
  /// order, add the mean per-channel difference between its float-weight and
  /// quantized-weight outputs (same inputs, from the calibrated, fully quantized network
  /// with the earlier layers already corrected) over the calibration batches. Layers
  /// without a bias are listed in the result's notes and left alone.
  bool bias_correction = false;
  /// Layer ids whose activation quantizers are calibrated; empty: every activation
  /// quantizer with runtime statistics (RuntimeStats scaling). Others keep their state.
  std::vector<std::string> only;
};

struct CalibrationResult {
  int64_t batches = 0;                      ///< batches run
  int64_t samples = 0;                      ///< images seen
  std::vector<std::string> calibrated;      ///< quantizers given a scale: "relu1.act_quant", "add1.input_quant", ...
  std::vector<std::string> bias_corrected;  ///< layer ids whose bias changed
  std::vector<std::string> notes;           ///< e.g. "fc3: no bias, bias correction skipped"
  bool cancelled = false;                   ///< the model is then unchanged
};

/// Post-training calibration with Brevitas 0.12 calibration_mode semantics: the model
/// in eval mode except the activation quantizers being calibrated, which collect their
/// statistic (percentile of |x|, or of x's interval when shifted) at every call while
/// every quantizer is switched off (the network computes in float); the statistic is
/// the true average over the calls (momentum None), not the running average of QAT;
/// at the end each calibrated quantizer's learned value := that average and its
/// statistics phase is over (counter = collect_stats_steps + 1), as
/// finalize_collect_stats does. Weight scales come from the weights and need none.
/// `train` is the training split (its first batches x batch_size images are used;
/// fewer when it is smaller). Quantizer switches and training flags are restored.
/// Throws ConfigError for batches or batch_size < 1, an empty dataset, an id in
/// `only` that is no layer with an activation quantizer, or an image shape the model
/// does not take; DataError when a statistic is not finite ("relu2.act_quant: the
/// calibration statistic is NaN; the model's weights hold NaN or Inf"): the model
/// is then unchanged.
CalibrationResult calibrate(QuantModel& model, const Dataset& train, const CalibrationOptions& options,
                            const ProgressFn& progress = {}, const std::atomic<bool>* cancel = nullptr);

/// calibrate() of every activation quantizer with runtime statistics whose statistics
/// phase has not ended (never calibrated, nor trained past collect_stats_steps): what
/// the analyzer, the sweep and `qnn analyze|sweep|suggest --verify` do before they
/// evaluate a model (a QuantEltwiseAdd's two quantizers are calibrated together when
/// either needs it). `options.only` is ignored. Returns an empty result (batches 0)
/// when there is nothing to calibrate. Throws as calibrate().
CalibrationResult calibrate_uncalibrated(QuantModel& model, const Dataset& train, const CalibrationOptions& options,
                                         const ProgressFn& progress = {}, const std::atomic<bool>* cancel = nullptr);

/// `project` with every per-tensor weight quantizer of Int8WeightPerTensorFloat kind
/// made per output channel (Int8WeightPerChannelFloat, the bit width and
/// narrow_range kept): the per-channel option of calibration. Fixed-point, shifted,
/// parameter-scaled and binary weight quantizers are left as they are.
Project with_per_channel_weights(const Project& project);

// ------------------------------------------------------------- analyzer

struct LayerSensitivity {
  std::string layer;
  std::string type;                 ///< "QuantConv2d", ...
  double only_this_accuracy = 0.0;  ///< only this layer's quantizers on
  double all_but_this_accuracy = 0.0;  ///< every quantizer on except this layer's
  /// This layer's output in the fully quantized network against the float network on
  /// the SQNR batch, 10 log10(sum f^2 / sum (f - q)^2) dB (+inf when equal).
  double output_sqnr_db = 0.0;
  /// all_but_this_accuracy - quantized_accuracy: what keeping this layer at higher
  /// precision would give back (the ranking key).
  double gain() const;
  /// The report's quantized_accuracy, copied here by analyze() so gain() can use it.
  double quantized_accuracy = 0.0;
};

struct AnalyzerReport {
  int64_t samples = 0;               ///< evaluated images
  double float_accuracy = 0.0;       ///< every quantizer off
  double weights_only_accuracy = 0.0;
  double activations_only_accuracy = 0.0;
  double quantized_accuracy = 0.0;   ///< every quantizer on
  std::vector<LayerSensitivity> layers;  ///< quantized layers, execution order
  /// Layer ids by gain(), largest first, those with gain > 0.5 points (0.005): the
  /// layers to keep at higher precision.
  std::vector<std::string> keep_higher;
  bool cancelled = false;            ///< then only the rows finished so far are filled
};

struct AnalyzerOptions {
  int64_t holdout = 2000;     ///< test images evaluated per configuration (0: all)
  int64_t sqnr_samples = 256; ///< images of the SQNR trace
  int64_t batch_size = 256;
};

/// The quantization analyzer (AIMET-style enable-one/disable-one at the project's bit
/// widths): 4 + 2 x layers evaluations on the held-out test images, plus one traced
/// pass for the SQNRs. The model must be trained/calibrated; it is evaluated as is
/// (eval mode), and its switches and flags are restored. Throws ConfigError for a bad
/// image shape and when the model has no quantizer at all.
AnalyzerReport analyze(QuantModel& model, const Dataset& test, const AnalyzerOptions& options,
                       const ProgressFn& progress = {}, const std::atomic<bool>* cancel = nullptr);

/// CSV text: layer,type,only_this_accuracy,all_but_this_accuracy,gain,output_sqnr_db,
/// then rows "(float)", "(weights only)", "(activations only)", "(quantized)" with the
/// accuracy in only_this_accuracy. '.' decimals whatever the locale; "inf"/"nan".
std::string analyzer_csv(const AnalyzerReport& report);

// ------------------------------------------------------------- sensitivity sweep

struct SweepOptions {
  int min_bits = 2, max_bits = 8;   ///< inclusive; each within 2..16 (ConfigError otherwise)
  QuantKind what = QuantKind::Weights;
  int64_t holdout = 2000;           ///< test images per point (0: all)
  int64_t calibration_batches = 8;  ///< for base quantizers still in their statistics phase
  int64_t calibration_batch_size = 64;
  int64_t eval_batch_size = 256;
  std::string weights_file;         ///< recorded in the result only
};

/// The slots a sweep of `what` varies in `project`, in execution order: a weight slot
/// per layer with a weight quantizer that is not binary, an act slot per layer with an
/// activation quantizer that is not binary (a QuantEltwiseAdd's slot sets its
/// input_quant and act_quant together). Throws ConfigError for an invalid project.
std::vector<SweepSlot> sweep_slots(const Project& project, QuantKind what);

/// `project` with the quantizer(s) of `slot` at `bits` (weight: weight_quant; act: the
/// activation quantizers of set_layer_quant_enabled's Activations). Throws ConfigError
/// when the layer or its quantizer is missing, or the bit width is invalid for it.
Project with_slot_bits(const Project& project, const std::string& layer, const std::string& kind, int bits);

/// Model size (ModelSummary::size_bytes) and BitOps per sample (sum over layers with
/// MACs of MACs x weight bits x input bits; 32 for float weights or a float input) of
/// `project`. Throws ConfigError for an invalid project.
struct Cost {
  int64_t size_bytes = 0;
  double bitops = 0.0;
};
Cost model_cost(const Project& project);

/// The sweep: the base point (the trained model as given, on the held-out images),
/// then for every slot and every bits in [min_bits, max_bits]: the project with that
/// slot at `bits`, built, given the base model's state (copy_model_state), evaluated.
/// Weight scales follow the weights; a varied activation quantizer keeps its threshold
/// (learned or calibrated `value`), so its scale is threshold / int_threshold at the new
/// bit width and the point at the project's own bit width equals the base.
/// Activation quantizers of the base model still in their statistics phase (never
/// calibrated nor trained past it) are calibrated once first (calibration_batches),
/// noted in the record.
/// `on_point` (optional) sees each point as it is done (the GUI draws it at once).
/// On cancel the record holds the points done so far with complete = false. An error
/// at a point (ConfigError/DataError, e.g. NaN in the model) also returns the record so
/// far with complete = false, its last note "error: sweep point conv1 weight at 2 bits:
/// ..."; errors before the base evaluation (a bad option, another network) throw.
/// `trained` is not modified. Throws ConfigError for bits outside 2..16 or min > max, a
/// project without slots of `what` ("nothing to sweep: ... has no weight quantizer"),
/// or a project that differs from the one `trained` was built from (network_difference).
///
/// `shard` (optional; `qnn sweep --dist`): the sweep is spread over the ranks of a
/// process group. Every rank calibrates and evaluates the base model itself (the same
/// work on the same data: identical results), then the points (slot-major, bits
/// ascending, as above) go in rounds of world_size: in round k rank r evaluates point
/// k x world_size + r (point index mod world_size == rank) and the ranks all-gather
/// their round's results through shard->all_gather, so every rank appends the round's
/// points in point order and returns the whole record. `progress` and `on_point` see
/// each point when its round is gathered (the same lines, in the same order, as one
/// process). A point that fails, or a cancel on any rank, ends the sweep on every rank
/// at that point (the points before it are kept, the error is the last note), as one
/// process would; so a rank never waits for one that stopped. A collective that fails
/// (a rank died or did not answer) throws from shard->all_gather.
struct SweepShard {
  int rank = 0;
  int world_size = 1;
  /// Every rank's bytes in rank order; all ranks call it the same number of times.
  std::function<std::vector<std::string>(const std::string& bytes)> all_gather;
};

SweepRecord run_sweep(const Project& project, QuantModel& trained, const Dataset& train, const Dataset& test,
                      const SweepOptions& options, const ProgressFn& progress = {},
                      const std::atomic<bool>* cancel = nullptr,
                      const std::function<void(const SweepPoint&)>& on_point = {},
                      const SweepShard* shard = nullptr);

/// The digest a SweepRecord keeps in `network`: network_fingerprint(project) together
/// with the bit widths of every weight and activation quantizer the sweep does not vary
/// (not in `slots`). A record turns stale when the network, or a bit width it did not
/// sweep, changes; Apply (setting the swept slots) keeps it current.
std::string sweep_fingerprint(const Project& project, const std::vector<SweepSlot>& slots);

/// The sweep as CSV: layer,kind,bits,accuracy,accuracy_drop,loss,size_bytes,bitops,
/// one row per point, after a "(base)" row. '.' decimals whatever the locale.
std::string sweep_csv(const SweepRecord& record);

// ------------------------------------------------------------- mixed precision

/// One configuration of the swept slots.
struct MixedConfig {
  std::vector<int> bits;            ///< per SweepRecord::slots entry
  double predicted_accuracy = 0.0;  ///< base_accuracy - sum of each slot's drop at its bits
  int64_t size_bytes = 0;           ///< exact, from model_cost of the configured project
  double bitops = 0.0;              ///< exact, likewise
};

enum class CostAxis { SizeBytes, BitOps };

/// The Pareto front of cost (`axis`) against predicted accuracy over every
/// configuration of per-slot bit widths within the swept range (exhaustive up to 200000
/// configurations, otherwise greedy paths that lower, one bit at a time, the slot with
/// the smallest predicted drop per unit of cost saved, from three starts: every slot at
/// max_bits, the project's bit widths, and each slot at its cheapest bit width without
/// a predicted drop). Predicted accuracy is
/// additive in the per-slot drops measured by the sweep (drop = base - point, negative
/// drops count as 0). Sorted by cost ascending; no point is dominated by another.
/// Needs a complete record (every slot at every bits); throws ConfigError naming the
/// first missing point otherwise, and for a record whose network fingerprint differs
/// from `project`'s.
std::vector<MixedConfig> pareto_front(const SweepRecord& record, const Project& project,
                                      CostAxis axis = CostAxis::SizeBytes);

/// A budget: at most `max_size_bytes` (> 0), at most `max_bitops` (> 0), at most
/// `max_drop` of accuracy (fraction, >= 0) below the base. Unset limits are <= 0 / NaN.
struct Budget {
  int64_t max_size_bytes = 0;
  double max_bitops = 0.0;
  double max_drop = std::numeric_limits<double>::quiet_NaN();
  /// What max_drop is measured from: the sweep record's base_accuracy (set it from
  /// SweepRecord::base_accuracy); NaN: the front's most accurate point.
  double base_accuracy = std::numeric_limits<double>::quiet_NaN();
};

/// The best front point that meets every set limit: with a size or BitOps limit, the
/// highest predicted accuracy within it (then the lowest cost); with only an accuracy
/// drop limit, the cheapest point on the front's axis that keeps it. Throws ConfigError when none does, naming the closest point
/// ("no configuration of 16807 fits 1000 bytes; the smallest is 2510 bytes at 71.2 %").
MixedConfig suggest(const std::vector<MixedConfig>& front, const Budget& budget);

/// `project` with each slot of `record` at `config.bits` (what Apply sets).
Project apply_config(const Project& project, const SweepRecord& record, const MixedConfig& config);

}  // namespace qnn::analysis
