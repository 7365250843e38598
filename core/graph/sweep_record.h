// SPDX-License-Identifier: GPL-3.0-or-later
// The saved result of a sensitivity sweep (core/analysis/sweep.h): plain data, kept in
// the project file (format version 3, member "sweep") so a reopened project shows its
// heat map, curves and Pareto front without recomputing. No LibTorch, no Qt.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qnn {

struct Project;

/// One quantizer the sweep varies: a layer's weight quantizer ("weight") or its
/// activation quantizer ("act": act_quant of QuantIdentity/QuantReLU/QuantHardTanh/
/// QuantTanh/QuantSigmoid, the output quantizer of QuantEltwiseAdd).
struct SweepSlot {
  std::string layer;         ///< layer id, e.g. "conv1"
  std::string kind;          ///< "weight" or "act"
  int base_bits = 0;         ///< the bit width in the project the sweep ran on
  bool operator==(const SweepSlot& o) const {
    return layer == o.layer && kind == o.kind && base_bits == o.base_bits;
  }
};

/// One evaluated point: slot (layer, kind) set to `bits`, every other quantizer as in
/// the base project; calibrated and evaluated on the held-out images.
struct SweepPoint {
  std::string layer;
  std::string kind;          ///< "weight" or "act"
  int bits = 0;
  double accuracy = 0.0;     ///< fraction correct in [0, 1] on the held-out images
  double loss = 0.0;         ///< mean cross-entropy (nats per sample) on the same images
  int64_t size_bytes = 0;    ///< model size at this configuration (ModelSummary::size_bytes)
  double bitops = 0.0;       ///< sum over layers of MACs x weight bits x input bits, per sample
  bool operator==(const SweepPoint& o) const;
};

/// Everything a sweep produced, in the order it produced it.
struct SweepRecord {
  std::string what = "weights";      ///< "weights", "activations" or "both"
  int min_bits = 2, max_bits = 8;    ///< the bit range swept, inclusive (2..16)
  int64_t holdout = 2000;            ///< held-out images evaluated per point
  int64_t calibration_batches = 8;   ///< calibration batches for base quantizers never calibrated
  std::string weights_file;          ///< the checkpoint or state dict it started from ("" = the GUI's model)
  /// analysis::sweep_fingerprint() of the project it ran on (the network plus the bit
  /// widths the sweep did not vary): when the current project's differs, the views mark
  /// the record stale.
  std::string network;
  double base_accuracy = 0.0;        ///< the base project on the same held-out images
  double base_loss = 0.0;
  int64_t base_size_bytes = 0;
  double base_bitops = 0.0;
  std::vector<SweepSlot> slots;      ///< execution order
  std::vector<SweepPoint> points;    ///< as evaluated (partial when !complete)
  bool complete = false;             ///< false: cancelled or failed part way
  double seconds = 0.0;              ///< wall time of the run
  std::vector<std::string> notes;    ///< what the run did on its own ("relu1: calibrated first ...")
  bool operator==(const SweepRecord& o) const;
};

/// A digest (16 hex digits, FNV-1a 64) of the network of `p` without what a sweep or
/// an Apply may change: layer ids, types, parameters, connections, input shape and the
/// quantizer settings in use (a quantizer left to its type's default counts as that
/// default) count, the weight and activation quantizers' bit widths do not. Positions,
/// names, dataset and training settings never count.
std::string network_fingerprint(const Project& p);

}  // namespace qnn
