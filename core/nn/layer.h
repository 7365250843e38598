// SPDX-License-Identifier: GPL-3.0-or-later
// The common interface every layer of a built model offers to the graph executor.
#pragma once

#include <string>
#include <vector>

#include "core/quant/quant_tensor.h"

namespace qnn {

/// Implemented by every layer module (quant and float) so the model executor can run
/// a graph of heterogeneous modules.
class LayerBase {
 public:
  virtual ~LayerBase() = default;
  /// Runs the layer. Input and output carry QuantTensor metadata when quantized.
  virtual QuantTensor apply(const QuantTensor& x) = 0;
  /// Runs the layer on its inputs in port order (as many as input_port_count() of its
  /// LayerType, core/graph/project.h); the graph executor always calls this one.
  /// Single-input layers forward to apply().
  virtual QuantTensor apply_inputs(const std::vector<QuantTensor>& inputs) { return apply(inputs.at(0)); }
  /// Layer name used in error messages (the graph node id).
  std::string layer_name = "layer";
};

}  // namespace qnn
