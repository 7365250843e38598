// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/norm_layers.h"

#include <sstream>

#include "core/errors.h"

namespace qnn {

void BatchNorm1dLayerImpl::reset() {
  if (num_features <= 0) throw ConfigError(layer_name + ": num_features must be positive");
  weight = register_parameter("weight", torch::ones({num_features}));
  bias = register_parameter("bias", torch::zeros({num_features}));
  running_mean = register_buffer("running_mean", torch::zeros({num_features}));
  running_var = register_buffer("running_var", torch::ones({num_features}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
}

QuantTensor BatchNorm1dLayerImpl::apply(const QuantTensor& x) {
  const torch::Tensor& v = x.value;
  if ((v.dim() != 2 && v.dim() != 3) || v.size(1) != num_features) {
    std::ostringstream s;
    s << layer_name << ": expects an input [N, " << num_features << "] or [N, " << num_features << ", L], got "
      << v.sizes();
    throw ConfigError(s.str());
  }
  const bool training = is_training() && !frozen;
  if (training) {
    if (v.numel() / num_features <= 1)
      throw ConfigError(layer_name + ": training needs more than one value per channel (batch of " +
                        std::to_string(v.size(0)) + ")");
    torch::NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  return QuantTensor(torch::batch_norm(v, frozen ? weight.detach() : weight, frozen ? bias.detach() : bias, running_mean, running_var, training, momentum, eps,
                                       /*cudnn_enabled=*/false));
}

}  // namespace qnn
