// SPDX-License-Identifier: GPL-3.0-or-later
// Per-layer rules shared by validation, the model builder and the editor, read from
// the layer registry (core/layers/layer_descriptor.h): which quantizers a layer really
// uses (with Brevitas's defaults when the project leaves one out) and which
// parameters a type knows. Thin wrappers kept so callers stay simple.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/graph/project.h"

namespace qnn {

/// Types with quantized weights (the descriptor uses the weight_quant slot).
bool is_quant_wbiol(LayerType t);
/// Layers with weights and an optional bias (param "bias").
bool has_weights(LayerType t);
/// Types that own an output activation quantizer (the act_quant slot).
bool uses_act_quant(LayerType t);

/// BatchNorm2d and BatchNorm1d.
bool is_batch_norm(LayerType t);
/// Ids of the BatchNorm2d / BatchNorm1d layers, in layer order.
std::vector<std::string> batch_norm_layers(const Project& project);

/// Whether a layer with weights adds a bias (param "bias", default 1).
bool layer_has_bias(const LayerSpec& l);

/// The weight quantizer the built layer uses: the layer's own, else the type's
/// Brevitas default (Int8WeightPerTensorFloat for QuantConv2d/QuantLinear); nullopt
/// for types without the weight slot.
std::optional<QuantSpec> effective_weight_quant(const LayerSpec& l);
/// The bias quantizer in use: the layer's own for a type with the bias slot and a
/// bias; nullopt (a float bias, or no bias) otherwise.
std::optional<QuantSpec> effective_bias_quant(const LayerSpec& l);
/// The activation quantizer in use: the layer's own, else the Brevitas default of the
/// type (QuantIdentity: Int8ActPerTensorFloat, QuantReLU: Uint8ActPerTensorFloat,
/// QuantHardTanh: Int8ActPerTensorFloatMinMaxInit, QuantEltwiseAdd's output quantizer:
/// Int8ActPerTensorFloat); nullopt for types without the act slot.
std::optional<QuantSpec> effective_act_quant(const LayerSpec& l);
/// The input quantizer (QuantEltwiseAdd): the layer's own, else Int8ActPerTensorFloat
/// (Brevitas default); nullopt for types without the input slot.
std::optional<QuantSpec> effective_input_quant(const LayerSpec& l);

/// Parameter names a type understands (its descriptor's schema, in schema order), e.g.
/// Conv2d: in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
/// bias; BatchNorm2d: num_features, eps, momentum.
const std::vector<std::string>& known_params(LayerType t);

}  // namespace qnn
