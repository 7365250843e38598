// SPDX-License-Identifier: GPL-3.0-or-later
// Fully connected layers (QuantLinear, Linear) without the reference BLAS (issue 13).
//
// Debian's LibTorch runs torch::linear and the matrix products of its backward through
// `sgemm_` of whatever libblas.so.3 is installed; the default, the reference BLAS
// (libblas3), computes every output as one scalar chain and spent 33-41% of a LeNet
// training step there (fc1 alone 2.3 ms forward at batch 64). OpenBLAS is fast but sums
// in another order, which moves one logit of a golden case by one output step.
//
// The reference BLAS (SGEMM of LAPACK 3.11, Debian's libblas3) sums each output element
// in the order of the inner index, from +0, with the product rounded to float32 before
// it is added (no FMA). For torch::linear LibTorch calls it with TRANSA='T', TRANSB='N',
// whose loop adds the bias last (C = alpha * TEMP + beta * C, alpha = beta = 1); the
// backward products have beta = 0, where all four loop forms sum from +0 in the inner
// index's order. The file is compiled with fp-contract off. The kernels here
// keep exactly that order per element and compute 4 x 16 elements at once in AVX2
// registers (multiply, then add: no FMA), so every result is bit-identical to
// torch::linear and to its autograd backward on the reference BLAS, only faster:
//   forward   y[n, o]  = (sum_l x[n, l] * w[o, l]) + b[o]      (l = 0, 1, ...)
//   grad x    gx[n, l] = sum_o g[n, o] * w[o, l]                (o = 0, 1, ...)
//   grad w    gw[o, l] = sum_n g[n, o] * x[n, l]                (n = 0, 1, ...)
//   grad b    gb[o]    = g.sum(0)   (LibTorch's own sum, on g as it arrives)
// Under create_graph (double backward) the gradients come from g.mm(w), g.t().mm(x) and
// g.sum(0), which keep their graph (the same values on the reference BLAS).
// Every element is computed by one thread in that fixed order, so the results do not
// depend on the thread count either. tests/quant_kernels/linear_checks.cpp compares
// them bitwise with torch::linear and its autograd gradients.
#pragma once

#include <torch/torch.h>

namespace qnn::detail {

/// True when linear_exact runs the kernels above: an AVX2 CPU, x of shape [N, in] and
/// w of shape [out, in], both contiguous CPU float32 and all sizes > 0, b undefined or
/// of shape [out] float32. Otherwise linear_exact is torch::linear (for transposed views
/// LibTorch passes other transpose flags to sgemm, which then adds the bias first).
bool linear_exact_supported(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b);

/// torch::linear(x, w, b) (b may be undefined), differentiable in x, w and b, with the
/// results described above. Shapes: x [N, in], w [out, in], b [out] -> [N, out].
/// Throws what torch::linear throws for inputs it does not support.
torch::Tensor linear_exact(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b);

/// a.t().mm(c) for a [N, out] and c [N, in]: the weight gradient of a linear layer,
/// [out, in], each element summed over n in order (as the reference BLAS). Runs
/// a.t().mm(c) instead on a CPU without AVX2 or for other than 2-d CPU float32 tensors
/// with sizes > 0, and throws what it throws when the shapes disagree.
torch::Tensor linear_weight_grad_exact(const torch::Tensor& a, const torch::Tensor& c);

}  // namespace qnn::detail
