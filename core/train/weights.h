// SPDX-License-Identifier: GPL-3.0-or-later
// Loading weights from elsewhere into a model whose layer ids match the module names:
// a PyTorch or Brevitas state dict (`torch.save(model.state_dict())`, read by
// core/io/state_dict.h) or a QNN Studio checkpoint of a network with the same ids (a
// float one into a quantized project: warm start). Unlike load_checkpoint, the networks
// need not be the same: tensors are matched by name and shape.
//
// Name rules (Brevitas 0.12 state-dict keys):
//   <id>.weight, <id>.bias                       -> the layer's weight / bias
//   <id>.running_mean / running_var / num_batches_tracked -> BatchNorm buffers (a file
//       without num_batches_tracked: set to 1, so the statistics count as trained)
//   <quantizer>.fused_activation_quant_proxy.tensor_quant.scaling_impl.value
//       (<quantizer> = relu1.act_quant, add1.input_quant, add1.output_quant, ...)
//       -> that activation quantizer's learned threshold; loading it ends the
//          statistics phase (Brevitas ParameterFromRuntimeStatsScaling: a loaded value
//          marks the statistics as collected), as ActQuantizerImpl::load_threshold does;
//          for fixed-point (power-of-two) quantizers the value is log2 of the threshold
//          (Brevitas PowerOfTwoRestrictValue) and becomes a threshold with the same
//          scale 2^ceil(value) / int_threshold (core/quant/brevitas_log2.h)
//   <id>.weight_quant.tensor_quant.scaling_impl.value ([] or [C_out, 1, ...])
//       -> the learned scale `value` ([] / [C_out]) of a ParameterScaling weight
//          quantizer (log2 for fixed-point ones, as above); ignored (reported) when the
//          project's weight quantizer uses statistics;
//   our own names (relu1.act_quant.value, .counter, .scaling_buffer) load as they are.
#pragma once

#include <string>
#include <vector>

#include "core/graph/model.h"

namespace qnn {

/// What load_weights did, every entry by name.
struct WeightsReport {
  std::string source;                    ///< "PyTorch state dict" or "QNN Studio checkpoint"
  std::vector<std::string> loaded;       ///< model tensors set from the file
  std::vector<std::string> thresholds;   ///< activation quantizers given their learned scale (statistics phase ended)
  std::vector<std::string> statistics;   ///< activation quantizers left to start from statistics (QAT warm start)
  std::vector<std::string> unexpected;   ///< file keys that match nothing in the model (ignored)
  /// Several lines: "loaded 10 tensors (...)", "3 activation quantizers ...", ...
  std::string text() const;
};

/// Loads `path` into `model` (see the name rules above). Every weight, bias and
/// BatchNorm tensor of the model must be in the file with its shape: otherwise nothing
/// is changed and ConfigError names the file and each missing or mismatched tensor
/// ("conv1.weight has shape [6, 3, 5, 5] in FILE, [6, 1, 5, 5] in the model"), or says
/// that the file shares no tensor name with the project (listing its first keys). Throws
/// IoError / ConfigError from read_state_dict and read_checkpoint_project for an
/// unreadable file or one that is no state dict. No gradient is recorded.
WeightsReport load_weights(QuantModel& model, const std::string& path);

}  // namespace qnn
