// SPDX-License-Identifier: GPL-3.0-or-later
// Per-layer-type rules shared by validation, the model builder and the editor:
// which quantizers a layer really uses (with Brevitas's defaults when the project
// leaves one out) and which parameters a type knows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/graph/project.h"

namespace qnn {

/// QuantConv2d / QuantLinear.
bool is_quant_wbiol(LayerType t);
/// QuantConv2d, QuantLinear, Conv2d, Linear (layers with weights and an optional bias).
bool has_weights(LayerType t);
bool is_conv(LayerType t);    ///< QuantConv2d or Conv2d
bool is_linear(LayerType t);  ///< QuantLinear or Linear
/// QuantIdentity / QuantReLU / QuantHardTanh.
bool is_quant_act(LayerType t);
/// Add / QuantEltwiseAdd (two input ports).
bool is_add(LayerType t);
/// Types that own an output activation quantizer (the act_quant slot): the quant
/// activations and QuantEltwiseAdd.
bool uses_act_quant(LayerType t);

/// Whether a layer with weights adds a bias (param "bias", default 1).
bool layer_has_bias(const LayerSpec& l);

/// The weight quantizer the built layer uses: the layer's own, else
/// Int8WeightPerTensorFloat for QuantConv2d/QuantLinear (Brevitas default); nullopt
/// for every other type.
std::optional<QuantSpec> effective_weight_quant(const LayerSpec& l);
/// The bias quantizer in use: the layer's own for QuantConv2d/QuantLinear with a
/// bias; nullopt (a float bias, or no bias) otherwise.
std::optional<QuantSpec> effective_bias_quant(const LayerSpec& l);
/// The activation quantizer in use: the layer's own, else the Brevitas default of the
/// type (QuantIdentity: Int8ActPerTensorFloat, QuantReLU: Uint8ActPerTensorFloat,
/// QuantHardTanh: Int8ActPerTensorFloatMinMaxInit, QuantEltwiseAdd's output quantizer:
/// Int8ActPerTensorFloat); nullopt for other types.
std::optional<QuantSpec> effective_act_quant(const LayerSpec& l);
/// QuantEltwiseAdd's input quantizer: the layer's own, else Int8ActPerTensorFloat
/// (Brevitas default); nullopt for other types.
std::optional<QuantSpec> effective_input_quant(const LayerSpec& l);

/// Parameter names a type understands (see LayerSpec::params), e.g. Conv2d:
/// in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias;
/// BatchNorm2d: num_features, eps (default 1e-5), momentum (default 0.1).
const std::vector<std::string>& known_params(LayerType t);

}  // namespace qnn
