// SPDX-License-Identifier: GPL-3.0-or-later
// The gradient of an input quantizer's scale without the input gradient of the layer
// that consumes it (issue 13).
//
// A QuantIdentity on the network input with a learned scale s feeds conv1:
// y = fq(x; s, z), out = conv(y, W) + b. Its scale gradient is
//   dL/ds = <dL/dy, dy/ds> = <conv_T(g, W), d_s> = <g, conv(d_s, W)>,
// with g = dL/dout and d_s the element-wise dy/ds of the fake quantization
// ((q - z) - x/s inside the range, q - z where clipped; core/quant/int_quant.h), and
// the same with d_z = dy/dz (0 inside, -s clipped) for a learned zero point. That
// avoids the backward-data convolution of dL/dy that autograd would run only to reach
// one scalar (6.6 ms at batch 64 for LeNet's conv1 with its single input channel,
// against 0.5 ms for its weight gradient: bench/README.md). For a convolution with
// groups == 1 the right-hand side is taken as <W, weight gradient for the input d_s>:
// y, d_s and d_z are stacked along the input channels in one weight-gradient
// convolution whose first channel block is the weight gradient of y. Grouped
// convolutions and linear layers use <g, layer(d_s, W)> (one forward pass of d_s).
// The forward output is exactly the plain layer's; the weight, bias, scale and
// zero-point gradients are the same sums, possibly in another float32 order.
#pragma once

#include <optional>
#include <vector>

#include <torch/torch.h>

#include "core/quant/quant_tensor.h"

namespace qnn {

/// Geometry of a convolution (Conv1d or Conv2d; every vector has one entry per
/// spatial dimension). A linear layer has none.
struct ConvGeometry {
  std::vector<int64_t> stride, padding, dilation;
  int64_t groups = 1;
};

/// True when `x` carries a ScaleGradSource that describes x.value (see
/// core/quant/quant_tensor.h), gradients are being recorded, and the fused
/// fake-quant kernels handle its tensors.
bool scale_adjoint_applies(const QuantTensor& x);

/// out = conv(x.value, weight, bias) (`conv` given: x [N, C_in, spatial...], weight
/// [C_out, C_in/groups, k...]) or linear(x.value, weight, bias) (x [..., in_features],
/// weight [out, in]); bias [C_out] or undefined. In the backward, weight and bias get
/// the plain layer's gradients, the source's scale and zero point the adjoint form
/// above, and x.value none. Requires scale_adjoint_applies(x) (throws
/// std::logic_error otherwise).
torch::Tensor apply_with_scale_adjoint(const QuantTensor& x, const torch::Tensor& weight,
                                       const torch::Tensor& bias,
                                       const std::optional<ConvGeometry>& conv);

}  // namespace qnn
