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
  std::string node;     ///< layer id ("" for the whole graph)
  std::string message;  ///< e.g. "fc1 expects 400 features, gets 256 from flatten"
  std::string hint;     ///< what to change
};

/// What shape inference knows about a node's output.
struct NodeInfo {
  std::vector<int64_t> shape;  ///< output shape without the batch dimension, e.g. [6, 28, 28]
  bool quantized = false;      ///< output carries QuantTensor metadata
  int64_t bit_width = 0;       ///< when quantized
  bool is_signed = false;      ///< when quantized
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
ValidationResult validate(const Project& project);

}  // namespace qnn
