// SPDX-License-Identifier: GPL-3.0-or-later
// BatchNorm folding: a BatchNorm2d / BatchNorm1d whose input comes straight from a
// conv or linear layer (Conv2d, Conv1d, Linear and their Quant* forms) is merged into
// that layer using its running statistics, as brevitas.nn.utils.merge_bn does:
//   k_c = gamma_c / sqrt(running_var_c + eps)
//   W'[c, ...] = W[c, ...] * k_c
//   b'_c       = (b_c - running_mean_c) * k_c + beta_c      (b_c = 0 without a bias)
// (per output channel c; the eval-mode BatchNorm formula of torch.nn.BatchNorm2d).
// The BatchNorm layer disappears, its consumers read the folded layer, and the folded
// layer gets a bias. When that layer has quantized weights and a quantized input (a
// QuantTensor with one scale) and its bias was not quantized, the folded bias becomes an
// Int32Bias (codes on the accumulator grid s_in * s_w): the layer then stays an integer
// accumulation, as FINN and the packed format expect, and a float bias would make ONNX
// Runtime's float sum land on the other side of an activation rounding boundary for
// some values (measured: 3 % of TFC predictions). Its weight quantizer sees the folded weights: the
// statistics-based weight quantizers (every weight preset) recompute their scale from
// them; a learned weight scale (Parameter scaling) would no longer fit, so that is refused.
#pragma once

#include <string>
#include <vector>

#include "core/graph/model.h"
#include "core/graph/project.h"

namespace qnn {

/// One BatchNorm layer and the conv / linear layer it folds into.
struct BatchNormFold {
  std::string batch_norm;  ///< id of the BatchNorm2d / BatchNorm1d layer
  std::string into;        ///< id of the Conv2d / Conv1d / Linear / Quant* layer feeding it
  bool int32_bias = false; ///< the folded bias becomes an Int32Bias (see above)
};

/// Ids of the BatchNorm2d / BatchNorm1d layers, in layer order.
std::vector<std::string> batch_norm_layers(const Project& project);

/// The folds of every BatchNorm layer of a valid project, in layer order (empty when
/// it has none). Throws ConfigError naming the BatchNorm layer when one cannot be
/// folded: its input is not a conv / linear layer ("bn2 cannot be folded: its input
/// relu1 is a QuantReLU, not a conv or linear layer"), that layer also feeds other
/// layers, or that layer's weight quantizer learns its scale (Parameter scaling).
/// Throws ConfigError with the validator's messages for an invalid project.
std::vector<BatchNormFold> batch_norm_folds(const Project& project);

/// The network with the folds applied: the BatchNorm layers removed, every port that
/// read one reads its conv / linear layer instead, and that layer has bias = 1 (and
/// bias_quant Int32Bias where BatchNormFold::int32_bias) (other layers, positions, dataset and training settings unchanged). No weights.
/// Throws ConfigError as batch_norm_folds.
Project fold_batch_norm_project(const Project& project);

/// Throws ConfigError naming the first BatchNorm layer of `model` that has no running
/// statistics yet (num_batches_tracked is 0: it has seen no training batch, so its
/// running mean and variance are still 0 and 1), and as batch_norm_folds.
void check_batch_norm_statistics(QuantModel& model);

/// A new model of fold_batch_norm_project(model's project) holding `model`'s trained
/// state: every parameter and buffer copied by name, and the folded weight [C_out, ...]
/// and bias [C_out] computed from the formula above in double precision, then stored
/// as float32. The new model is in the training mode of `model`; `model` is unchanged.
/// Throws ConfigError as check_batch_norm_statistics.
QuantModel fold_batch_norm(QuantModel& model);

}  // namespace qnn
