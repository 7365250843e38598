// SPDX-License-Identifier: GPL-3.0-or-later
// Equivalence checks: run an exported file on test images and compare its logits with
// the app's eval forward.
//  - QCDQ: ONNX Runtime (npm package onnxruntime-node, CPU) through the Node script
//    tools/ort_run.mjs, started with popen();
//  - packed: read_packed_model + run_packed_model in this process.
// Differences are reported in output-scale steps: |diff| / step, where the step is the
// logits' own grid (ExportPlan::logit_step); for float logits (no grid) only the
// absolute difference is known.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <torch/torch.h>

#include "core/export/export_plan.h"
#include "core/graph/model.h"

namespace qnn {

/// How to find and run ONNX Runtime.
struct OrtRunner {
  std::string node;     ///< node executable
  std::string script;   ///< tools/ort_run.mjs
  std::string package;  ///< folder of the onnxruntime-node package (holds package.json)
};

/// Locates node, tools/ort_run.mjs and onnxruntime-node:
///  - $QNN_NODE, else `node` on PATH;
///  - $QNN_ORT_SCRIPT, else tools/ort_run.mjs under the source tree (compiled in) or
///    next to the executable's ../.. ;
///  - $QNN_ORT_PACKAGE, else third_party/onnxruntime-node/node_modules/onnxruntime-node
///    under the same roots.
/// Throws ExportError saying what is missing and that scripts/install-deps installs it.
OrtRunner find_ort_runner();

/// Runs `onnx_path` in ONNX Runtime on `x` [N, C, H, W] float32 and returns the first
/// output [N, ...] float32. Throws ExportError with the runtime's message on failure.
torch::Tensor run_onnx_runtime(const OrtRunner& ort, const std::string& onnx_path, const torch::Tensor& x);

/// Result of comparing two sets of logits [N, classes].
struct VerifyResult {
  int64_t samples = 0;
  int64_t agree = 0;             ///< samples with the same arg-max (strict)
  /// Samples whose arg-max differs only because the app's top logits are tied on the
  /// output grid (the exported choice is within half a step of the app's maximum, i.e.
  /// the same integer accumulator): the prediction is ambiguous in the app itself.
  /// Only counted when the logits have a grid.
  int64_t ties = 0;
  double strict_agreement = 0.0; ///< agree / samples
  double agreement = 0.0;        ///< (agree + ties) / samples: the pass criterion
  double max_abs_diff = 0.0;     ///< max |exported - app| over all logits
  double max_steps = -1.0;       ///< max |diff| / step; -1 when the logits have no grid
  int64_t over_one_step = 0;     ///< samples with some logit more than one step off
  /// Samples with a NaN or Inf logit in the app's / the exported file's output. Any
  /// makes the check fail, and text() says so instead of printing a NaN difference.
  int64_t non_finite_app = 0, non_finite_exported = 0;
  /// agreement >= min_agreement, and at most a (1 - min_agreement) share of the samples
  /// has a logit more than max_steps off (with a grid; else max |diff| within the float tolerance)
  bool passed = false;
  std::string runtime;           ///< "onnxruntime-node 1.30.0 (CPU)" / "packed reader"
  /// Why the output-step bound was not applied ("" when it was): set by verify_export for
  /// a QCDQ model with a layer whose ExportRules::runtime_kernel is set (Tanh, Sigmoid,
  /// QuantTanh, QuantSigmoid), which ONNX Runtime evaluates with its own kernels; a
  /// last-bit difference there can move an activation code across a rounding boundary,
  /// so only the agreement criterion holds.
  std::string note;
  /// One line: "agreement 10000/10000 (100.00%), max |diff| 0 (0 output-scale steps) -> PASS";
  /// with non-finite logits: "non-finite logits (NaN/Inf): 12 of 1000 samples in the
  /// exported file's output, 0 in the app's -> FAIL".
  std::string text() const;
};

struct VerifyOptions {
  double min_agreement = 0.999;  ///< fraction of equal predictions required
  double max_steps = 1.0;        ///< allowed |diff| in output-scale steps (all but a 1 - min_agreement share of samples)
  double float_tolerance = 1e-3; ///< float logits: allowed |diff| relative to 1 + max |logit|
};

/// Compares `exported` with `reference` logits [N, classes]; `step` is
/// ExportPlan::logit_step (undefined for float logits).
VerifyResult compare_logits(const torch::Tensor& reference, const torch::Tensor& exported,
                            const torch::Tensor& step, const VerifyOptions& options = {});

/// The app's eval logits of `model` on `x` [N, C, H, W] (eval mode, no gradient,
/// batches of 500; the model's training flag is restored).
torch::Tensor app_logits(QuantModel& model, const torch::Tensor& x);

/// Progress of a verification: (stage text, fraction done in [0, 1]).
using VerifyProgress = std::function<void(const std::string&, double)>;

/// Runs `path` (format qcdq or packed) on `images` and compares it with the app.
/// Throws ExportError when the runtime is missing or fails (qonnx and checkpoint
/// cannot be run this way: ExportError).
VerifyResult verify_export(QuantModel& model, ExportFormat format, const std::string& path,
                           const torch::Tensor& images, const VerifyOptions& options = {},
                           const VerifyProgress& progress = {});

}  // namespace qnn
