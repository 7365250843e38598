// SPDX-License-Identifier: GPL-3.0-or-later
// Export to Brevitas 0.12.1 (the PyTorch library whose numerics core/quant reproduces,
// quantization.md): a Python file defining the network as a `brevitas.nn` module in the
// style of Brevitas's getting-started LeNet (one attribute per layer, named by its layer
// id; quantizer classes from brevitas.quant with bit widths and other overrides as
// keyword arguments; a forward() that follows the graph, one line per layer), plus a
// state dict with Brevitas's key names that Brevitas's load_state_dict (strict) accepts.
//
// State-dict names (the inverse of core/train/weights.h):
//   <id>.weight, <id>.bias                      conv / linear weights and biases, BatchNorm gamma / beta
//   <id>.running_mean / running_var / num_batches_tracked   BatchNorm buffers
//   <quantizer>.fused_activation_quant_proxy.tensor_quant.scaling_impl.value
//       (<quantizer> = relu1.act_quant, add1.input_quant, add1.output_quant): the
//       activation quantizer's threshold (scale * int_threshold) the app evaluates with:
//       the learned value, or the running statistic while still in the statistics phase
//       (Brevitas ParameterFromRuntimeStatsScaling.state_dict saves the buffer as value
//       then, and loading a value ends its statistics phase); ParameterScaling
//       (Int8ActPerTensorFloatMinMaxInit, SignedBinaryActPerTensorConst with
//       scaling_impl_type='parameter') stores its learned value under the same name.
//       Fixed-point (power-of-two) quantizers: log2 of the threshold, as Brevitas keeps
//       it (core/quant/brevitas_log2.h), so that 2^ceil(value) / int_threshold is the
//       app's scale.
//   <id>.weight_quant.tensor_quant.scaling_impl.value
//       a weight quantizer with a learned scale (ParameterScaling: weight_scaling_impl_type=
//       'parameter', incl. SignedBinaryWeightPerTensorConst): [] per tensor, [C_out, 1, 1, 1]
//       (conv) / [C_out, 1] (linear) per channel; linear, or log2 for power-of-two scales.
// Other weight quantizers and the bias quantizers keep no state in Brevitas (statistics
// recomputed from the weight; s_bias = s_in * s_w).
#pragma once

#include <string>
#include <vector>

#include "core/export/export_plan.h"
#include "core/graph/model.h"
#include "core/graph/validate.h"
#include "core/io/state_dict.h"

namespace qnn {

/// The Python class name for a project name: its letters and digits in CamelCase
/// ("LeNet-5, low precision" -> "LeNet5LowPrecision"), "QuantNet" when that leaves
/// nothing, prefixed "Net" when it would start with a digit.
std::string brevitas_class_name(const std::string& project_name);

/// What Brevitas cannot express as the project sets it, per layer (errors, the export
/// is refused; each names the layer): layer types without a Brevitas module here, layer
/// ids that cannot be Python attribute names (keywords, nn.Module members such as
/// `training`), quantizers whose options have no Brevitas class or keyword (zero-point
/// activations, a power-of-two or binary variant of a preset that is neither), a float HardTanh on a quantized input (Brevitas's handler keeps the
/// QuantTensor, the app's float HardTanh does not). `v` is validate(project), valid.
std::vector<ExportIssue> brevitas_issues(const Project& project, const ValidationResult& v);

/// The text of model.py for `project` (valid, without brevitas_issues errors):
/// imports, the class (brevitas_class_name) with one attribute per layer, forward().
/// Throws ExportError naming the layer when a layer cannot be written.
std::string brevitas_python(const Project& project);

/// The model's tensors under Brevitas's names (see above), in layer order, detached
/// copies (float32 weights, int64 num_batches_tracked). Throws ExportError naming any
/// tensor of the model that has no Brevitas name (nothing is silently left out), and
/// naming the quantizer whose learned scale has no exact Brevitas equivalent (a threshold
/// below 1e-10 x int_threshold, where the app and Brevitas clamp differently).
StateDict brevitas_state_dict(QuantModel& model);

}  // namespace qnn
