// SPDX-License-Identifier: GPL-3.0-or-later
// QuantTensor: a fake-quantized tensor and the metadata that says which integer
// grid it lies on (Brevitas QuantTensor; quantization.md section 4).
#pragma once

#include <torch/torch.h>

namespace qnn {

struct QuantTensor {
  /// Dequantized float values, `(q - zero_point) * scale`; any shape, e.g. [N, C, H, W].
  torch::Tensor value;
  /// Real units per integer step. Undefined for a plain float tensor. Broadcastable
  /// to `value`: [] per tensor, [1, C, 1, 1] / [1, C] per channel of a layer output.
  torch::Tensor scale;
  /// Integer zero point, same broadcasting rules as `scale`.
  torch::Tensor zero_point;
  /// Width of the integer grid the values lie on (may exceed 32 for accumulators).
  int64_t bit_width = 0;
  bool is_signed = false;
  bool training = false;

  QuantTensor() = default;
  /// A plain float tensor with no quantization metadata.
  explicit QuantTensor(torch::Tensor v) : value(std::move(v)) {}
  QuantTensor(torch::Tensor v, torch::Tensor s, torch::Tensor z, int64_t bits, bool sgn, bool train)
      : value(std::move(v)), scale(std::move(s)), zero_point(std::move(z)), bit_width(bits),
        is_signed(sgn), training(train) {}

  /// True when the metadata is present (the tensor lies on an integer grid).
  bool is_quant() const { return scale.defined(); }

  /// Integer codes `round(value / scale + zero_point)` as float, no gradient.
  /// Throws ConfigError for a plain float tensor.
  torch::Tensor int_codes() const;

  /// The same values with the metadata dropped (return_quant_tensor = false).
  QuantTensor dequantized() const { return QuantTensor(value); }

  /// Same metadata around new values (max-pool, flatten, dropout keep the grid).
  QuantTensor with_value(torch::Tensor v) const {
    QuantTensor t = *this;
    t.value = std::move(v);
    return t;
  }
};

}  // namespace qnn
