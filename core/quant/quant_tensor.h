// SPDX-License-Identifier: GPL-3.0-or-later
// QuantTensor: a fake-quantized tensor and the metadata that says which integer
// grid it lies on (Brevitas QuantTensor; quantization.md section 4).
#pragma once

#include <torch/torch.h>

#include <memory>

namespace qnn {

/// What a convolution or linear layer needs to give an activation quantizer's scale
/// and zero point their gradient without the gradient of its own input (the adjoint
/// form of core/nn/scale_adjoint.h). Set by ActQuantizer when its input needs no
/// gradient (the network input) but its scale or zero point does (a learned scale, or
/// the zero-gradient `value` of the statistics phase): then conv1 need not run its
/// backward-data convolution only to reach one scalar.
/// `of` is the fake-quantized tensor this describes: a consumer uses the source only
/// while `value.is_same(of)` and neither `of` nor `input` was modified in place since
/// (their version counters equal `of_version` / `input_version`); `input` the
/// quantizer's input (same shape), `scale` and
/// `zero_point` per tensor ([]), [min_int, max_int] the integer range; the clamp's
/// gradient is masked (activation quantizers).
struct ScaleGradSource {
  torch::Tensor of, input, scale, zero_point;
  double min_int = 0.0, max_int = 0.0;
  uint32_t of_version = 0, input_version = 0;
};

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
  /// Set only on an activation quantizer's output (see ScaleGradSource); dropped by
  /// with_value(), kept by dequantized() (same values).
  std::shared_ptr<const ScaleGradSource> scale_grad_source;

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
  QuantTensor dequantized() const {
    QuantTensor t(value);
    t.scale_grad_source = scale_grad_source;
    return t;
  }

  /// Same metadata around new values (max-pool, flatten, dropout keep the grid).
  QuantTensor with_value(torch::Tensor v) const {
    QuantTensor t = *this;
    t.value = std::move(v);
    t.scale_grad_source.reset();
    return t;
  }
};

}  // namespace qnn
