// SPDX-License-Identifier: GPL-3.0-or-later
// Layers that move values without requantizing them: max-pool, average pool,
// flatten, dropout. Max-pool, flatten and dropout keep the QuantTensor metadata
// (quantization.md section 4); average pooling divides the scale by k*k and widens
// the bit width by ceil(log2(k*k)).
#pragma once

#include <torch/torch.h>

#include "core/nn/layer.h"

namespace qnn {

/// x [N, C, H, W] -> [N, C, (H - kh) / sh + 1, (W - kw) / sw + 1] (floor); kernel and
/// stride are [h, w] (an int stands for both).
class MaxPool2dLayerImpl : public torch::nn::Cloneable<MaxPool2dLayerImpl>, public LayerBase {
 public:
  MaxPool2dLayerImpl(torch::ExpandingArray<2> kernel, torch::ExpandingArray<2> stride)
      : kernel(kernel), stride(stride) {}
  void reset() override {}
  QuantTensor apply(const QuantTensor& x) override;
  torch::ExpandingArray<2> kernel, stride;
};
TORCH_MODULE(MaxPool2dLayer);

/// x [N, C, H, W] -> as MaxPool2dLayer; a quantized input yields scale / (kh*kw) and
/// bit width + ceil(log2(kh*kw)) (the sum before the division is exact on that grid).
class AvgPool2dLayerImpl : public torch::nn::Cloneable<AvgPool2dLayerImpl>, public LayerBase {
 public:
  AvgPool2dLayerImpl(torch::ExpandingArray<2> kernel, torch::ExpandingArray<2> stride)
      : kernel(kernel), stride(stride) {}
  void reset() override {}
  QuantTensor apply(const QuantTensor& x) override;
  torch::ExpandingArray<2> kernel, stride;
};
TORCH_MODULE(AvgPool2dLayer);

/// x [N, ...] -> [N, prod(...)].
class FlattenLayerImpl : public torch::nn::Cloneable<FlattenLayerImpl>, public LayerBase {
 public:
  void reset() override {}
  QuantTensor apply(const QuantTensor& x) override;
};
TORCH_MODULE(FlattenLayer);

/// Dropout with probability p in training; identity in eval.
class DropoutLayerImpl : public torch::nn::Cloneable<DropoutLayerImpl>, public LayerBase {
 public:
  explicit DropoutLayerImpl(double p) : p(p) {}
  void reset() override {}
  QuantTensor apply(const QuantTensor& x) override;
  double p;
};
TORCH_MODULE(DropoutLayer);

}  // namespace qnn
