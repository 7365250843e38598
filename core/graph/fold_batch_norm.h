// SPDX-License-Identifier: GPL-3.0-or-later
// BatchNorm folding: a BatchNorm2d / BatchNorm1d whose input comes straight from a
// conv or linear layer (Conv2d, Conv1d, Linear and their Quant* forms) is merged into
// that layer using its running statistics, as brevitas.nn.utils.merge_bn does:
//   k_c = gamma_c / sqrt(running_var_c + eps)
//   W'[c, ...] = W[c, ...] * k_c
//   b'_c       = (b_c - running_mean_c) * k_c + beta_c      (b_c = 0 without a bias)
// (per output channel c; the eval-mode BatchNorm formula of torch.nn.BatchNorm2d).
// The BatchNorm layer disappears, its consumers read the folded layer, and the folded
// layer gets a bias with the layer's bias quantizer (none: a float bias, as Brevitas's
// merge_bn leaves it; an Int32Bias on the accumulator grid s_in * s_w would round the
// folded bias coarsely at low bit widths: on a 2-bit TFC it changed 7 % of the
// predictions, the float bias none). An Int8Bias the layer has may clip the larger
// folded bias: the bias warnings of core/inspect say so. The weight quantizer sees
// the folded weights: every weight quantizer takes its scale from the weights
// (core/quant/quantizers.h), so scales and codes follow. A per-channel weight quantizer
// absorbs k_c in its scale and keeps every code; a per-tensor one shares one scale over
// channels scaled by different k_c, so its codes change and the quantized predictions can
// move a lot at low bit widths (TFC, 2-bit per-tensor: 26 % agreement after a short
// training): compare_folded measures it and the CLI and GUI report it.
#pragma once

#include <string>
#include <vector>

#include "core/graph/layer_rules.h"  // batch_norm_layers
#include "core/graph/model.h"
#include "core/graph/project.h"

namespace qnn {

/// One BatchNorm layer and the conv / linear layer it folds into.
struct BatchNormFold {
  std::string batch_norm;  ///< id of the BatchNorm2d / BatchNorm1d layer
  std::string into;        ///< id of the Conv2d / Conv1d / Linear / Quant* layer feeding it
};

/// The folds of every BatchNorm layer of a valid project, in layer order (empty when
/// it has none). Throws ConfigError naming the BatchNorm layer when one cannot be
/// folded: its input is not a conv / linear layer ("bn2 cannot be folded: its input
/// relu1 is a QuantReLU, not a conv or linear layer"), or that layer also feeds other
/// layers. Throws ConfigError with the validator's messages for an invalid project.
std::vector<BatchNormFold> batch_norm_folds(const Project& project);

/// The network with the folds applied: the BatchNorm layers removed, every port that
/// read one reads its conv / linear layer instead, and that layer has bias = 1 (its
/// bias_quant unchanged). Other layers, positions, dataset and
/// training settings are unchanged. No weights. Throws ConfigError as batch_norm_folds.
Project fold_batch_norm_project(const Project& project);

/// Throws ConfigError naming every BatchNorm layer of `model` that has no running
/// statistics yet (num_batches_tracked is 0: no training batch went through, so its
/// running mean and variance are still 0 and 1; weights loaded from a state dict set it),
/// and as batch_norm_folds.
void check_batch_norm_statistics(QuantModel& model);

/// A new model of fold_batch_norm_project(model's project) holding `model`'s trained
/// state: every parameter and buffer copied by name, and the folded weight [C_out, ...]
/// and bias [C_out] computed from the formula above in double precision, then stored
/// as float32. The new model is in the training mode of `model`; `model` is unchanged.
/// Throws ConfigError as check_batch_norm_statistics.
QuantModel fold_batch_norm(QuantModel& model);

/// How the folded quantized model predicts compared with the unfolded one.
struct FoldComparison {
  int64_t samples = 0;
  double agreement = 0.0;        ///< share of images with the same predicted class
  double accuracy_before = 0.0;  ///< of the unfolded model on the labels
  double accuracy_after = 0.0;
  /// Folded layers whose weight quantizer is per tensor: one scale now spans channels
  /// that BatchNorm scaled by different factors, so their codes change (per-channel
  /// weight quantizers absorb the factor in their scale and keep every code).
  std::vector<std::string> per_tensor;
  /// Fewer than 99 % of the predictions stayed: the CLI and the GUI warn.
  bool changed() const { return agreement < 0.99; }
  /// "the folded model predicts as before on 97.3 % of 1000 test images (accuracy 0.8400
  /// -> 0.8310)", plus, when changed() with per-tensor layers, the advice to use
  /// per-channel weight quantizers on them.
  std::string text() const;
};

/// Runs both models quantized in eval mode on `images` [N, C, H, W] (no gradients; the
/// training flags are restored) and compares their predictions with each other and
/// with `labels` [N]; `unfolded`'s folds give FoldComparison::per_tensor. Throws ConfigError for an image batch of the wrong shape.
FoldComparison compare_folded(QuantModel& unfolded, QuantModel& folded, const torch::Tensor& images,
                              const torch::Tensor& labels);
/// The same on the first `samples` test images of `unfolded`'s project dataset (the
/// preprocessing of load_dataset). Throws IoError / DataError when the dataset cannot be read.
FoldComparison compare_folded(QuantModel& unfolded, QuantModel& folded, int64_t samples);

}  // namespace qnn
