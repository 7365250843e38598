// SPDX-License-Identifier: GPL-3.0-or-later
// Graph validation and shape inference. Pure core; the CLI (`qnn validate`), the
// model builder and the editor show the same diagnostics.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/graph/project.h"

namespace qnn {

struct Diagnostic {
  enum class Severity { Error, Warning };
  Severity severity = Severity::Error;
  std::string node;     ///< layer id ("" for the whole graph; "training" / "dataset" for settings)
  std::string message;  ///< e.g. "fc1 expects 400 features, gets 256 from flatten"
  std::string hint;     ///< what to change
  /// Stable machine-readable kind: "cycle", "unconnected-port", "extra-input",
  /// "missing-source", "no-path", "dangling", "no-input-node", "no-output-node",
  /// "second-end-node", "duplicate-id", "invalid-id", "channel-mismatch",
  /// "feature-mismatch", "shape-mismatch", "spatial", "param", "quantizer",
  /// "bit-width", "bias-needs-scale", "bias-per-channel-input", "add-scales",
  /// "concat-quant" (Concat inputs on different grids), "trunc-needs-quant" (a
  /// truncating pool with return_quant_tensor on a float input),
  /// "settings", "input-shape", "size-overflow" (a whole-number parameter above 2^31-1,
  /// or an inferred shape with a dimension above 2^31-1 or more than 2^40 elements).
  /// With the FINN deployment target, Warnings (core/graph/finn_rules.h): "finn-zero-point",
  /// "finn-relu-quant", "finn-act-bits", "finn-input-quant", "finn-trunc-floor",
  /// "finn-join-scales", "finn-identity-signed", "finn-unsupported-op".
  std::string code;
};

/// What shape inference knows about a node's output (quantization.md section 4).
struct NodeInfo {
  std::vector<int64_t> shape;  ///< output shape without the batch dimension, e.g. [6, 28, 28]
  bool quantized = false;      ///< output carries QuantTensor metadata
  int64_t bit_width = 0;       ///< when quantized (accumulators may exceed 32)
  bool is_signed = false;      ///< when quantized
  /// When quantized: the id of the layer whose scale the tensor carries: the
  /// quantizing activation ("relu1"), the Conv/Linear for an accumulator ("conv1" =
  /// s_in * s_w), the AvgPool2d (scale / k^2), the QuantEltwiseAdd; pass-through
  /// layers (MaxPool2d, Flatten, Dropout, ReLU, Identity, Output, Add of two equal
  /// sources) keep their input's. "" when not quantized.
  std::string scale_source;
  bool per_channel = false;    ///< the scale varies per channel (per-channel weights upstream)
};

struct ValidationResult {
  std::vector<Diagnostic> diagnostics;
  std::map<std::string, NodeInfo> nodes;  ///< by layer id, for nodes whose shape could be inferred
  std::vector<std::string> order;         ///< topological order (when acyclic)
  bool ok() const;                        ///< no Error diagnostics
  /// All errors as "node: message (hint)" lines.
  std::string error_text() const;
};

/// Infers every node's output shape from project.input_shape and checks the graph.
/// Never throws for a bad graph: every problem is a Diagnostic on the node at fault
/// (see Diagnostic::code for the kinds). Shape inference stops below a broken node.
ValidationResult validate(const Project& project);

/// "error: conv2: conv2 expects 6 input channels, gets 16 from pool1 (hint: ...)",
/// the line format of `qnn validate` and of the model builder's error text.
std::string diagnostic_line(const Diagnostic& d);

/// A shape as diagnostics print it: "[6, 28, 28]" ("[]" for a scalar).
std::string shape_text(const std::vector<int64_t>& shape);

}  // namespace qnn
