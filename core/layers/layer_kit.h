// SPDX-License-Identifier: GPL-3.0-or-later
// Building blocks the descriptor files (core/layers/*.cpp) share: port counts,
// parameter schema entries, the [C, H, W] input check, the QuantTensor facts of a
// layer with weights (quantization.md section 4) and the module wrapper. Internal to
// core/layers; everything else reads layer_descriptor.h.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/export/export_plan.h"
#include "core/layers/layer_descriptor.h"
#include "core/nn/layer.h"

namespace qnn::layer_kit {

int no_ports(const LayerSpec&);
int one_port(const LayerSpec&);

/// The fields every layer with weights and an optional bias shares (QuantConv1d,
/// QuantConv2d, QuantLinear and their float twins): one input port, the family, the
/// weight and bias slots (Brevitas default Int8WeightPerTensorFloat, float bias) of the
/// quantized type, return_quant_tensor, has_weights and the export flags of the float
/// type (float compute, float32 weights in packed files). The caller adds parameters,
/// checks and the hooks.
LayerDescriptor weighted_layer(LayerType type, const char* name, const char* id_base, bool quant,
                               std::string tooltip);
int two_ports(const LayerSpec&);

/// A whole-number parameter (>= minimum): required, or with a default.
ParamSchema int_param(std::string name, bool required, double minimum, double default_value,
                      std::optional<double> initial, std::string help);
/// A whole-number parameter that also takes a pair [h, w] (ParamKind::IntTuple, count 2).
ParamSchema pair_param(std::string name, bool required, double minimum, double default_value,
                       std::optional<double> initial, std::string help);
/// A real parameter with a default (range checks are the type's check hook).
ParamSchema real_param(std::string name, double default_value, std::optional<double> initial, std::string help);
/// The "bias" switch of layers with weights (default on).
ParamSchema bias_param();

/// The parameters of Conv2d / Conv1d (and their Quant versions), `kernel_help` for
/// kernel_size; with `pairs` (Conv2d) kernel_size, stride, padding and dilation take [h, w].
std::vector<ParamSchema> conv_params(const std::string& kernel_help, bool pairs);
/// "3x1" / "3": a pair as node texts and messages print it (one number when h == w).
std::string pair_text(const std::array<int64_t, 2>& v);
/// Conv check: in_channels and out_channels divisible by groups.
void conv_check(const LayerSpec& l, LayerReporter& r);
/// Output length of a convolution / pool axis: floor((in + 2p - d(k-1) - 1) / s) + 1, 0 when
/// the window does not fit.
int64_t conv_out_len(int64_t in, int64_t k, int64_t s, int64_t pad, int64_t dil);

/// "2.5", "7": a number as messages print it.
std::string num_text(double v);

/// Reports "<id> expects a [C, H, W] input, gets ..." (shape-mismatch) unless `in` is 3-D.
bool expect_chw(const LayerSpec& l, const InferInput& in, InferContext& c, const std::string& hint);
/// Facts of a float output (no QuantTensor metadata).
NodeInfo float_info(const std::vector<int64_t>& shape);

/// Output QuantTensor facts of a layer with weights whose output shape is already in
/// `out.shape`: the accumulator grid s_in * s_w when return_quant_tensor and every
/// operand is quantized; reports bias-needs-scale / bias-per-channel-input.
bool wbiol_facts(const LayerSpec& l, const InferInput& in, int64_t fan_in, NodeInfo& out, InferContext& c);

/// Summary rows of a layer with weights: `fan_in` inputs per output element, `outputs`
/// output channels or features.
void wbiol_cost(const LayerSpec& l, int64_t outputs, int64_t fan_in, const std::vector<int64_t>* out_shape,
                LayerSummary& s);

/// Freezes a QuantConv2d / QuantLinear module: float and fake-quantized weight, codes
/// and quant points of weight and bias (the bias scale is s_in * s_w of the eval trace).
template <class Module>
void freeze_wbiol(const FreezeContext& c, Module& m, PlanNode& n) {
  const std::optional<QuantSpec>& wspec = m.options.weight_quant();
  const std::optional<QuantSpec>& bspec = m.options.bias_quant();
  n.weight = m.weight.detach().clone();
  const QuantTensor wq = m.quant_weight();
  n.weight_value = wq.value.detach().clone();
  if (wspec && wq.is_quant()) {
    n.weight_q = quant_point(*wspec, wq.scale, wq.zero_point);
    // Binary weights: the code is the sign of the quantized weight (round(W / s) would
    // give 0 for small W).
    n.weight_codes = quant_codes(wspec->binary ? wq.value : m.weight, wq.scale, wq.zero_point, wspec->range());
  }
  if (m.bias.defined()) {
    n.bias = m.bias.detach().clone();
    if (bspec && wq.is_quant()) {
      const QuantTensor bq = m.quant_bias(c.input.scale, wq.scale);
      n.bias_q = quant_point(*bspec, bq.scale, bq.zero_point);
      n.bias_codes = quant_codes(m.bias, bq.scale, bq.zero_point, bspec->range());
      n.bias_value = bq.value.detach().clone();
    } else {
      n.bias_value = n.bias;
    }
  }
}

/// The entries of a torch::ExpandingArray (one per spatial axis) as PlanNode stores them.
template <size_t D>
std::vector<int64_t> axes(const torch::ExpandingArray<D>& a) {
  return std::vector<int64_t>(a->begin(), a->end());
}

/// Wraps a module holder (e.g. QuantConv2d) as a BuiltLayer.
template <class Holder>
BuiltLayer built(Holder h) {
  return BuiltLayer{h.ptr(), h.get()};
}

}  // namespace qnn::layer_kit
