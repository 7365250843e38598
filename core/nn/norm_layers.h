// SPDX-License-Identifier: GPL-3.0-or-later
// Float normalisation layers of the graph besides BatchNorm2d (core/nn/eltwise_layers.h).
// Brevitas has no QuantTensor handler for batch_norm, so a QuantTensor input is unpacked
// and the output is a plain float tensor (brevitas/quant_tensor/int_quant_tensor.py
// __torch_function__ fallback).
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "core/nn/layer.h"

namespace qnn {

/// torch::nn::BatchNorm1d semantics on x [N, C] or [N, C, L] (statistics per channel C,
/// over N, or over N and L). Training normalises with the batch statistics (biased
/// variance) and updates running_mean / running_var with `momentum`
/// (running = (1 - momentum) * running + momentum * batch, unbiased variance for
/// running_var) and increments num_batches_tracked; eval computes
/// (x - running_mean) / sqrt(running_var + eps) * weight + bias.
/// Parameters "weight" (ones) and "bias" (zeros), buffers "running_mean", "running_var",
/// "num_batches_tracked" (torch.nn.BatchNorm1d names). The output is a float tensor.
/// Throws ConfigError (naming the layer) for num_features <= 0, an input that is not
/// 2-D or 3-D, a channel count other than num_features, and a training batch with a
/// single value per channel (PyTorch: "Expected more than 1 value per channel").
class BatchNorm1dLayerImpl : public torch::nn::Cloneable<BatchNorm1dLayerImpl>, public LayerBase {
 public:
  explicit BatchNorm1dLayerImpl(int64_t num_features, double eps = 1e-5, double momentum = 0.1)
      : num_features(num_features), eps(eps), momentum(momentum) {
    reset();
  }
  void reset() override;
  QuantTensor apply(const QuantTensor& x) override;

  int64_t num_features;
  double eps, momentum;
  /// Eval formula in training too, no statistics update, and no gradient reaches
  /// weight and bias (they are detached; clones keep the flag).
  bool frozen = false;
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
TORCH_MODULE(BatchNorm1dLayer);

}  // namespace qnn
