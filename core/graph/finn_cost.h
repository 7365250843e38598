// SPDX-License-Identifier: GPL-3.0-or-later
// Hardware cost of the dot-product layers (Conv1d/Conv2d/Linear and their Quant*
// versions): BitOps, weight memory, accumulator width and, for the FINN deployment
// target, FINN's own LUT / BRAM18 / cycle estimates of an MVAU (MatrixVectorActivation)
// at a uniform folding. Pure core (no Qt, no tensors); reads summarize() and validate().
//
// Formulas (MW = fan-in = C_in/groups * k * k or in_features, MH = C_out or out_features,
// W = weight bits, A = input bits, P = PE, Q = SIMD):
//  - BitOps = MACs * W * A (A: bit width of the quantized input tensor, validate()'s
//    NodeInfo of the layer's source; 32 for a float input; W = 32 for float weights).
//  - weight memory bits = weights * W (without the bias: LayerSummary::storage_bits
//    is weights * W + biases * bias bits).
//  - accumulator bits (classic bound) = A + W + ceil(log2(MW)): |sum of MW products|
//    <= MW * 2^(A-1) * 2^(W-1) for signed operands, so A + W - 1 + ceil(log2 MW) bits of
//    magnitude plus a sign bit is always enough.
//  - accumulator bits (FINN) = min(32, ceil(alpha + log2(1 + 2^-alpha) + 1)) with
//    alpha = log2(MW) + W + A - 1 - (signed input ? 1 : 0): the data-type-bound width of
//    Colbert et al., arXiv 2301.13376, capped by the accDataType node attribute (default
//    INT32), as FINN's lut_estimation() in
//    src/finn/custom_op/fpgadataflow/hls/matrixvectoractivation_hls.py (and
//    hls/vectorvectoractivation_hls.py) computes it. minimize_accumulator_width()
//    (matrixvectoractivation.py) can narrow accDataType further from the trained weight
//    values and thresholds; this estimate has no weights, so it keeps the default.
//  - no estimate for a layer whose input is a float tensor (e.g. the network input
//    without a QuantIdentity, finn-input-quant): FINN builds no MVAU for it; such a
//    layer is left out of the FINN totals and listed in ModelHwCost::excluded.
//  - LUT (FINN lut_estimation(), same file) = floor(300 + 1.1 * P * (mult + adder + acc)),
//    mult = Q * (2 * ceil((W + A) / 6) - 1) * (W + A), adder = (W + A) * (2Q - 1),
//    acc = FINN accumulator bits; no thresholds (thr = comp = 0), c2 = 0 (FINN's defaults).
//  - BRAM18 (FINN bram_estimation() in src/finn/custom_op/fpgadataflow/
//    matrixvectoractivation.py, ram_style "block"): omega = MW * MH / (Q * P),
//    mem_width = Q * W * P (bits per weight word); mem_width == 1: ceil(omega/16384);
//    == 2: ceil(omega/8192); <= 4: ceil(omega/4096) * ceil(mem_width/4); <= 9:
//    ceil(omega/2048) * ceil(mem_width/9); <= 18 or omega > 512: ceil(omega/1024) *
//    ceil(mem_width/18); else ceil(omega/512) * ceil(mem_width/36) (mem_mode
//    internal_decoupled with block RAM, FINN's default; SDP RAMB18 of UG573).
//  - cycles per sample = (MH / P) * (MW / Q) * output pixels (a convolution is an MVAU
//    after im2col by a sliding-window generator: one matrix-vector product per pixel).
//  - Depthwise QuantConv2d (groups == in_channels == out_channels = C): FINN's VVAU
//    (VectorVectorActivation), MH = C, MW = k_h * k_w, PE divides C, SIMD divides k_h * k_w;
//    cycles (C * k_h * k_w / P / Q) * output pixels (get_exp_cycles() of
//    src/finn/custom_op/fpgadataflow/vectorvectoractivation.py), LUT as the MVAU with the
//    accumulator of MW = k_h * k_w (lut_estimation() of hls/vectorvectoractivation_hls.py,
//    the same c0, c1 and terms), BRAM18 (bram_estimation() there, ram_style "auto",
//    mem_mode internal_decoupled): omega = WMEM = C * k_h * k_w / P / Q, 0 when omega <= 128
//    (LUT RAM), else as the MVAU's but with the widths 8, 16, 32 in place of 9, 18, 36.
//  - throughput = clock / max(cycles per sample) over the layers (the slowest layer).
// Counts saturate at kCountSaturated (count_mul / count_add of summary.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/graph/project.h"
#include "core/graph/summary.h"
#include "core/graph/validate.h"

namespace qnn {

/// Uniform folding of every MVAU. Requested PE / SIMD are clamped per layer to the
/// largest divisor of MH (PE) / MW (SIMD) that is <= the request (FINN requires
/// MH % PE == 0 and MW % SIMD == 0); values < 1 count as 1.
struct Folding {
  int64_t pe = 1;
  int64_t simd = 1;
  double clock_mhz = 100.0;
};

struct LayerHwCost {
  std::string id;
  LayerType type = LayerType::Input;
  int64_t mw = 0;             ///< fan-in of one output (matrix width)
  int64_t mh = 0;             ///< outputs per pixel (matrix height)
  int64_t pixels = 0;         ///< output pixels per sample (1 for Linear); 0 unknown
  int64_t macs = 0;           ///< from summarize()
  bool shape_known = false;   ///< validate() inferred the output shape (else MACs, BitOps, cycles are 0, shown "?")
  bool input_known = false;   ///< validate() knows the source tensor (else input_bits 32 is a guess, shown "?")
  int input_bits = 0;         ///< A; 32 when the input is float
  bool input_float = false;   ///< the source tensor is not quantized (A = 32 assumed)
  bool input_signed = true;
  int weight_bits = 0;        ///< W; 32 for float weights
  int64_t bitops = 0;         ///< MACs * W * A
  int64_t weight_memory_bits = 0;  ///< weights * W (no bias)
  int acc_bits = 0;           ///< classic A + W + ceil(log2 MW)
  int acc_bits_finn = 0;      ///< FINN / arXiv 2301.13376 bound
  bool finn = false;          ///< a FINN estimate below: an MVAU (QuantLinear/QuantConv1d/2d, groups 1) or a VVAU, known shape, quantized input
  /// Why there is no FINN estimate (finn false): "float weights", "float input" (FINN
  /// cannot build a layer reading a float tensor: no estimate, not in the totals),
  /// "grouped, not depthwise", "no inferred shape", "input not inferred". "" when finn.
  std::string no_finn_reason;
  bool vvau = false;          ///< the estimate is a VVAU's (depthwise QuantConv2d: groups == in == out channels)
  int64_t pe = 0, simd = 0;   ///< the clamped folding
  int64_t cycles = 0;         ///< per sample
  int64_t luts = 0;
  int64_t bram18 = 0;
};

struct ModelHwCost {
  std::vector<LayerHwCost> layers;  ///< only the dot-product layers, in summary order
  int64_t bitops = 0;
  int64_t weight_memory_bits = 0;
  bool any_float_input = false;     ///< some layer's A = 32 is an assumption for a float input
  int64_t layers_without_shape = 0; ///< their BitOps are missing: `bitops` is then a lower bound (">=")
  // FINN totals (only layers with finn = true; the others are listed in `excluded`)
  int64_t luts = 0;
  int64_t bram18 = 0;
  int64_t max_cycles = 0;           ///< the slowest layer's cycles per sample
  std::string slowest;              ///< its id
  double samples_per_second = 0.0;  ///< clock / max_cycles; 0 without FINN layers
  Folding folding;
  /// "id (reason)" of every dot-product layer without a FINN estimate, in layer order.
  std::vector<std::string> excluded;
  /// "id (code)" of every FINN rule warning in the validation (core/graph/finn_rules.h),
  /// in its order: the network is no FINN build until they are fixed. Empty unless the
  /// deployment target is FINN (validate() checks the rules only then).
  std::vector<std::string> finn_findings;
};

/// Accumulator widths and FINN's per-MVAU formulas (see the file comment). mw, mh >= 1.
int classic_accumulator_bits(int input_bits, int weight_bits, int64_t mw);
int finn_accumulator_bits(int input_bits, bool input_signed, int weight_bits, int64_t mw);
int64_t finn_mvau_luts(int64_t pe, int64_t simd, int weight_bits, int input_bits, int acc_bits);
int64_t finn_mvau_bram18(int64_t pe, int64_t simd, int weight_bits, int64_t mw, int64_t mh);
/// FINN VVAU BRAM18 of C channels with k_h * k_w = kernel_area taps (see the file comment).
int64_t finn_vvau_bram18(int64_t pe, int64_t simd, int weight_bits, int64_t kernel_area, int64_t channels);
/// The largest divisor of n that is <= request (>= 1).
int64_t clamp_to_divisor(int64_t request, int64_t n);

/// Hardware cost of `summary` (= summarize(project, validation)). Never throws.
ModelHwCost hardware_cost(const Project& project, const ValidationResult& validation, const ModelSummary& summary,
                          const Folding& folding = {});

/// Text for `qnn summary`: one line per dot-product layer and a totals line; with
/// finn = true also PE/SIMD, cycles, LUT and BRAM18 columns and the throughput; with
/// finn = false and a folding other than the default, a note that it is not used.
std::string hardware_cost_table(const ModelHwCost& c, bool finn);

}  // namespace qnn
