// SPDX-License-Identifier: GPL-3.0-or-later
// ONNX exports of a frozen model (export_plan.h).
//
// QCDQ (opset 13, runs in ONNX Runtime; quantization.md section 5):
//  - input "input" float [batch, C, H, W], output "logits" float [batch, classes];
//  - each activation quantizer: [Relu | Clip(min,max)] -> QuantizeLinear -> [Clip] ->
//    DequantizeLinear, INT8 when signed, UINT8 otherwise; the Clip (integer bounds
//    [min_int, max_int]) appears when the range is narrower than the 8-bit one
//    (narrow_range or bit width < 8);
//  - quantized weights: INT8/UINT8 initializer "<layer>.weight_codes" holding exactly
//    the app's codes -> [Clip] -> DequantizeLinear(scale, zero point; per channel:
//    axis 0 and a 1-D scale);
//  - quantized biases: INT32 "<layer>.bias_codes" -> DequantizeLinear with
//    scale s_in * s_w (the app's float32 value), no Clip;
//  - Conv / Gemm(transB=1) / MaxPool / AveragePool / Flatten / Relu as float ops;
//    float weights and biases as FLOAT initializers;
//  - metadata_props "qnn.preprocessing" (see preprocessing_json) and "qnn.project".
//
// QONNX (for FINN; domain "qonnx.custom_op.general", version 1):
//  - Quant(x, scale, zero_point, bit_width) with attributes signed, narrow and
//    rounding_mode = "ROUND" at every activation quantizer and on the float weights;
//    per-channel scales broadcast as [C, 1, 1, 1] / [C, 1];
//  - a quantized bias: Quant(bias, s_in * s_w, 0, bias bit width) (32 for Int32Bias);
//  - BipolarQuant(x, scale) for 1-bit quantizers;
//  - AveragePool on a quantized input is followed by Trunc(x, scale / k^2, 0, b, b)
//    with rounding_mode "ROUND": the app does not truncate, so input and output bit
//    widths are equal and Trunc only records the grid.
//  onnx::checker validates the graph structure and every standard op; it has no
//  schema for the custom domain, so Quant/Trunc/BipolarQuant nodes are checked by
//  name and arity only (ONNX Runtime cannot run them).
#pragma once

#include <string>

#include "core/export/export_plan.h"

namespace qnn {

/// Serialised QCDQ model, already checked by onnx::checker (and strict shape
/// inference). Throws ExportError naming the layer and reason when the plan holds
/// something QCDQ cannot express (> 8-bit weights or activations) or the checker fails.
std::string qcdq_model_bytes(const ExportPlan& plan);

/// Serialised QONNX model, checked by onnx::checker. Throws ExportError.
std::string qonnx_model_bytes(const ExportPlan& plan);

/// Name of the QONNX custom-op domain.
inline constexpr const char* kQonnxDomain = "qonnx.custom_op.general";

}  // namespace qnn
