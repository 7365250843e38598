// SPDX-License-Identifier: GPL-3.0-or-later
// Layers that move values without requantizing them: max-pool, average pool,
// flatten, dropout. Max-pool, flatten and dropout keep the QuantTensor metadata
// (quantization.md section 4); average pooling divides the scale by k*k and widens
// the bit width by ceil(log2(k*k)).
#pragma once

#include <torch/torch.h>

#include "core/nn/layer.h"

namespace qnn {

/// x [N, C, H, W] -> [N, C, H/k, W/k] (floor), kernel k, stride k unless given.
class MaxPool2dLayerImpl : public torch::nn::Cloneable<MaxPool2dLayerImpl>, public LayerBase {
 public:
  MaxPool2dLayerImpl(int64_t kernel, int64_t stride) : kernel(kernel), stride(stride) {}
  void reset() override {}
  QuantTensor apply(const QuantTensor& x) override;
  int64_t kernel, stride;
};
TORCH_MODULE(MaxPool2dLayer);

/// x [N, C, H, W] -> [N, C, H/k, W/k]; a quantized input yields scale / (k*k) and
/// bit width + ceil(log2(k*k)) (the sum before the division is exact on that grid).
class AvgPool2dLayerImpl : public torch::nn::Cloneable<AvgPool2dLayerImpl>, public LayerBase {
 public:
  AvgPool2dLayerImpl(int64_t kernel, int64_t stride) : kernel(kernel), stride(stride) {}
  void reset() override {}
  QuantTensor apply(const QuantTensor& x) override;
  int64_t kernel, stride;
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
