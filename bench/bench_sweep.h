// SPDX-License-Identifier: GPL-3.0-or-later
// qnn_bench --filter=sweep: wall time of the sensitivity sweep (core/analysis) of the
// low-precision LeNet on Fashion-MNIST. See bench/README.md "Sensitivity sweep".
#pragma once

#include <string>

namespace qnn::bench {

/// Trains resources/examples/lenet_lowprec.qnn.json (from `examples_dir`) for one epoch
/// with `threads` LibTorch threads, then times run_sweep over its 5 weight layers x
/// bits 2..8 (35 points, 2,000 held-out test images each) and, for comparison, its
/// activation slots over the same bits. Prints a small table; returns 0.
int run_sweep_bench(const std::string& examples_dir, int threads);

}  // namespace qnn::bench
