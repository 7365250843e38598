// SPDX-License-Identifier: GPL-3.0-or-later
// The common interface every layer of a built model offers to the graph executor.
#pragma once

#include <string>

#include "core/quant/quant_tensor.h"

namespace qnn {

/// Implemented by every layer module (quant and float) so the model executor can run
/// a graph of heterogeneous modules.
class LayerBase {
 public:
  virtual ~LayerBase() = default;
  /// Runs the layer. Input and output carry QuantTensor metadata when quantized.
  virtual QuantTensor apply(const QuantTensor& x) = 0;
  /// Layer name used in error messages (the graph node id).
  std::string layer_name = "layer";
};

}  // namespace qnn
