// SPDX-License-Identifier: GPL-3.0-or-later
// Bitwise tensor comparison shared by the kernel checks of tests/quant_kernels.
#pragma once

#include <cstring>

#include <torch/torch.h>

namespace qnn::test {

/// True when a and b have the same sizes and the same bytes (+0 != -0, NaN payloads
/// compared as stored), or are both undefined.
inline bool same_values(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.defined() || !b.defined()) return a.defined() == b.defined();
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  const torch::Tensor ac = a.detach().contiguous(), bc = b.detach().contiguous();
  return std::memcmp(ac.data_ptr(), bc.data_ptr(), static_cast<size_t>(ac.numel()) * ac.element_size()) == 0;
}

}  // namespace qnn::test
