// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/shape_layers.h"

#include <cmath>

namespace qnn {

QuantTensor MaxPool2dLayerImpl::apply(const QuantTensor& x) {
  return x.with_value(torch::max_pool2d(x.value, kernel, stride));
}

QuantTensor AvgPool2dLayerImpl::apply(const QuantTensor& x) {
  torch::Tensor v = torch::avg_pool2d(x.value, kernel, stride);
  if (!x.is_quant()) return QuantTensor(v);
  QuantTensor y = x.with_value(v);
  const double k2 = static_cast<double>((*kernel)[0] * (*kernel)[1]);
  y.scale = x.scale / k2;
  y.bit_width = x.bit_width + static_cast<int64_t>(std::ceil(std::log2(k2)));
  return y;
}

QuantTensor FlattenLayerImpl::apply(const QuantTensor& x) {
  return x.with_value(x.value.reshape({x.value.size(0), -1}));
}

QuantTensor DropoutLayerImpl::apply(const QuantTensor& x) {
  return x.with_value(torch::dropout(x.value, p, is_training()));
}

}  // namespace qnn
