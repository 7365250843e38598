// SPDX-License-Identifier: GPL-3.0-or-later
// What every exporter reads: a trained model frozen in eval mode, layer by layer,
// with the exact integer codes, scales and zero points the app computes, plus the
// pre-flight check that says what a format cannot express.
// Source of every number: the model's own quantizers (core/quant), evaluated once in
// eval mode without gradients; the model is never changed (its training flag is
// restored).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/nn/quant_act.h"
#include "core/quant/quant_spec.h"

namespace qnn {

/// One quantization point (Brevitas IntQuant, quantization.md section 1):
/// q = clamp(round(x / scale + zero_point), range.min_int, range.max_int),
/// y = (q - zero_point) * scale.
struct QuantPoint {
  torch::Tensor scale;       ///< float32, real units per integer step: [] per tensor, [C] per channel (dim 0)
  torch::Tensor zero_point;  ///< float32 holding integers, same shape as scale
  int bit_width = 8;
  bool is_signed = true;
  bool narrow_range = false;
  IntRange range;            ///< [min_int, max_int] of the codes
  bool per_channel() const { return scale.dim() == 1 && scale.numel() > 1; }
};

/// Kinds of export nodes, one per computing layer (Dropout and Identity vanish).
/// Add: Add and QuantEltwiseAdd (two inputs); BatchNorm: BatchNorm2d / BatchNorm1d in
/// eval; Conv: Conv2d and Conv1d (conv_dims); TruncPool: TruncAvgPool2d and
/// TruncAdaptiveAvgPool2d (window kernel / stride); Concat: along dim 1 of every
/// port (inputs); Upsample: nearest by `factor`; DepthToSpace: CRD by `factor`.
enum class PlanOp { Conv, Linear, Act, MaxPool, AvgPool, Flatten, Add, BatchNorm, TruncPool, Concat, Upsample,
                    DepthToSpace };

/// One layer of the frozen model.
struct PlanNode {
  std::string id;      ///< layer id of the project
  LayerType type = LayerType::Input;
  PlanOp op = PlanOp::Act;
  std::string input;   ///< id of the plan node (or the Input layer) feeding this one
  std::string input2;  ///< Add: the node feeding port 1

  // Conv / Linear. weight: [C_out, C_in/groups, k, k] or [out, in]; bias: [C_out].
  torch::Tensor weight;                  ///< trained float weight (the master copy)
  std::optional<QuantPoint> weight_q;    ///< set when the weights are quantized
  torch::Tensor weight_codes;            ///< int64 codes, shape of weight (weight_q only)
  torch::Tensor weight_value;            ///< the weight the app convolves with (float32)
  torch::Tensor bias;                    ///< float bias, undefined without one
  std::optional<QuantPoint> bias_q;      ///< set when the bias is quantized (scale = s_in * s_w)
  torch::Tensor bias_codes;              ///< int64 codes [C_out] (bias_q only)
  torch::Tensor bias_value;              ///< the bias the app adds (float32)
  /// Conv, MaxPool, AvgPool, TruncPool: one entry per spatial axis ([h, w]; [k] for Conv1d).
  /// Pools have no padding and no dilation (left empty).
  std::vector<int64_t> kernel, stride, padding, dilation;
  int64_t groups = 1;
  int64_t conv_dims = 2;  ///< Conv: spatial axes (1: Conv1d, weight [C_out, C_in/groups, k])

  // Every layer: rank of the input value including the batch axis ([N, C] = 2).
  int64_t in_dims = 0;
  // Concat: the node feeding each port, in port order.
  std::vector<std::string> inputs;
  // Upsample: scale factor; DepthToSpace: block size.
  int64_t factor = 1;

  // TruncPool (Brevitas TruncIntQuant, core/nn/trunc_pool.h): window [kh, kw] / [sh, sw];
  // input_q is the input's grid (scale s, zero point z, bit width b), act_q the output's
  // (scale (s / n) * trunc_scale, zero point z / trunc_scale, `bit_width` codes);
  // acc_scale = s / n (float32, as the module computes it).
  bool trunc_floor = false;       ///< FLOOR truncation (else round half to even)
  double trunc_scale = 1.0;       ///< 2^(acc_bit_width - bit_width)
  int64_t acc_bit_width = 0;
  torch::Tensor acc_scale;

  // Act: the function applied before the quantizer.
  ActFunction act_function = ActFunction::ReLU;
  double min_val = -1.0, max_val = 1.0;      ///< HardTanh bounds
  std::optional<QuantPoint> act_q;           ///< set for a quantizing activation (QuantEltwiseAdd: its output quantizer)

  // Add: QuantEltwiseAdd's quantizer applied to both inputs before the sum.
  std::optional<QuantPoint> input_q;

  // BatchNorm (eval): y = (x - running_mean) / sqrt(running_var + eps) * weight + bias;
  // weight and bias above hold gamma and beta [C].
  torch::Tensor running_mean, running_var;  ///< [C]
  double eps = 1e-5;

  // Output grid of this node (from the eval trace), when it lies on one.
  bool out_quant = false;
  torch::Tensor out_scale;  ///< broadcastable to the output, e.g. [] or [1, C, 1, 1]
  int64_t out_bit_width = 0;
  bool out_signed = false;
  bool in_quant = false;    ///< the input carried QuantTensor metadata
  int64_t in_bit_width = 0;
};

/// What a layer descriptor's freeze hook (core/layers/layer_descriptor.h) reads.
struct FreezeContext {
  const LayerSpec& layer;
  torch::nn::Module& module;          ///< the built module of the layer
  const QuantTensor& input;           ///< the eval-trace value at input port 0
  std::vector<std::string> inputs;    ///< plan node (or Input layer) feeding each port
};

/// A quantization point from a quantizer spec and its eval scale / zero point
/// (flattened: [] per tensor, [C] per channel).
QuantPoint quant_point(const QuantSpec& spec, const torch::Tensor& scale, const torch::Tensor& zero_point);
/// Integer codes of `x` (int64, shape of x): clamp(round(x / scale + zero_point)).
torch::Tensor quant_codes(const torch::Tensor& x, const torch::Tensor& scale, const torch::Tensor& zero_point,
                          IntRange range);

/// The model frozen for export.
struct ExportPlan {
  Project project;
  std::string input_id;              ///< the Input layer id
  std::string output_source;         ///< plan node whose value are the logits
  std::vector<int64_t> input_shape;  ///< [C, H, W]
  int64_t classes = 0;               ///< logits per sample
  std::vector<PlanNode> nodes;       ///< execution order
  /// Real units per integer step of the logits, [classes] float32, when the logits
  /// lie on a grid (a quantizing last activation, or a last Conv/Linear whose input
  /// and weights are quantized, with a quantized bias or none); undefined otherwise.
  torch::Tensor logit_step;
  const PlanNode* find(const std::string& id) const;
};

/// Freezes `model` (built from its project, trained or loaded) for export: runs one
/// eval forward on zeros [1, C, H, W] to read every quantizer's scale and zero point.
/// Throws ConfigError when the model cannot run in eval (e.g. a bias quantizer without
/// input scale), naming the layer.
ExportPlan make_export_plan(QuantModel& model);

/// Export formats.
/// Brevitas: a folder with model.py (brevitas.nn) and model.pt (state dict), see
/// core/export/brevitas_export.h.
enum class ExportFormat { Qcdq, Qonnx, Packed, Checkpoint, Brevitas };
std::string to_string(ExportFormat f);
/// "qcdq", "qonnx", "packed", "checkpoint", "brevitas". Throws ConfigError listing them.
ExportFormat export_format_from_string(const std::string& s);

/// One finding of the pre-flight check.
struct ExportIssue {
  bool error = true;    ///< true: the format cannot express it (export refused)
  std::string layer;    ///< layer id ("" for the whole model)
  std::string message;  ///< e.g. "16-bit weights: QCDQ holds at most 8-bit codes (INT8/UINT8)"
  std::string text() const;  ///< "error: conv1: ..." / "warning: ..."
};

/// Lists what `format` cannot express (errors) and what it expresses only in float
/// (warnings), before anything is written. Reads only the project (no weights).
std::vector<ExportIssue> preflight(const Project& project, ExportFormat format);

/// Throws ExportError with every error of preflight() (one per line, each naming the
/// layer and the reason); returns the warnings.
std::vector<ExportIssue> require_exportable(const Project& project, ExportFormat format);

/// The JSON text stored under metadata key "qnn.preprocessing":
/// {"layout":"NCHW","pixel_scale":1/255,"pad":P,"mean":[..],"std":[..],"classes":[..]}
/// (mean 0 / std 1 per channel when the project does not normalise). An image-folder
/// project adds "fit" and takes classes and mean/std from its folder (dataset_info):
/// IoError / DataError when the folder cannot be read.
std::string preprocessing_json(const Project& project);

}  // namespace qnn
