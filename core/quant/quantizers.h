// SPDX-License-Identifier: GPL-3.0-or-later
// Quantizer modules: weight, activation and bias quantizers in the LibTorch module
// style. Their state (statistics buffer, learned scale `value`, call counter, zero
// point) is registered as buffers/parameters, so torch::save, clone() and to()
// carry it with the model.
// Source of every rule: Brevitas 0.12 (quantization.md sections 2-3).
#pragma once

#include <torch/torch.h>

#include "core/quant/int_quant.h"
#include "core/quant/quant_spec.h"
#include "core/quant/quant_tensor.h"

namespace qnn {

/// Weight quantizer (StatsFromParameterScaling): the scale is recomputed from the
/// float weight at every forward, so there is no state.
///  - symmetric: s = max(max|W|, 1e-10) / int_threshold, per tensor ([]) or per output
///    channel ([C, 1, 1, 1] for conv weights, [C, 1] for linear weights); zero point 0.
///  - shifted (ShiftedUint8WeightPerTensorFloat): s = (max W - min(min W, 0)) / (2^b - 1),
///    zero point clamp(round(-min(min W, 0) / s), 0, 2^b - 1).
/// The clamp is straight-through; the scale is differentiable, so the max-|W| element
/// also receives gradient through it.
/// With ParameterScaling (Brevitas scaling_impl_type PARAMETER; imported models whose
/// weight scales are given): a learned parameter `value` ([] per tensor, [C_out] per
/// channel) holds the threshold, s = |max(value / int_threshold, 1e-10)| (power of two
/// when asked); it starts at max(|min_val|, |max_val|). Binary quantizers (spec.binary):
/// y = sign(W) * s with sign(0) = +1 and a straight-through gradient (the forward of
/// Brevitas's ClampedBinaryQuant and QONNX BipolarQuant; Brevitas also clamps the
/// stored weight to [-s, s] in place at every forward, the app does not).
class WeightQuantizerImpl : public torch::nn::Cloneable<WeightQuantizerImpl> {
 public:
  /// Throws ConfigError when `spec` is not a valid weight quantizer. `out_channels`
  /// sizes the per-channel `value` of ParameterScaling (ignored otherwise).
  explicit WeightQuantizerImpl(QuantSpec spec, int64_t out_channels = 1);
  void reset() override;
  /// weight: [C_out, ...]. Returns the fake-quantized weight with its metadata; a
  /// plain tensor when quantization is disabled.
  QuantTensor forward(const torch::Tensor& weight);
  const QuantSpec& spec() const { return m_spec; }
  void set_enabled(bool on) { m_enabled = on; }
  bool enabled() const { return m_enabled; }

  /// ParameterScaling only: the learned threshold ([] or [C_out]); undefined otherwise.
  torch::Tensor value;

 private:
  QuantSpec m_spec;
  int64_t m_out_channels = 1;
  bool m_enabled = true;
};
TORCH_MODULE(WeightQuantizer);

/// Activation quantizer. With RuntimeStats scaling (Int8ActPerTensorFloat,
/// Uint8ActPerTensorFloat, ShiftedUint8ActPerTensorFloat):
///  - training call with counter < collect_stats_steps: stat = percentile of |x| (of x's
///    interval when shifted) over the whole tensor; scale = max(stat / int_threshold, 1e-10)
///    for this call; buffer := stat on the first call, 0.9 * buffer + 0.1 * stat after;
///    the gradient reaches x through the statistic, `value` gets exactly 0;
///  - training call with counter == collect_stats_steps: value := buffer, counter + 1;
///  - later: scale = |value| / int_threshold, `value` trained by the optimizer;
///  - eval: |buffer| / int_threshold while counter <= collect_stats_steps, else |value| / ...
/// With Parameter scaling (Int8ActPerTensorFloatMinMaxInit): value starts at
/// max(|min_val|, |max_val|) and is learned from the first call; a shifted one learns
/// its zero point too, from min(min_val, 0) (no statistics phase).
/// Binary (SignedBinaryActPerTensorConst, QONNX BipolarQuant): x clamped to [-s, s],
/// then sign(x) * s with sign(0) = +1, straight-through (Brevitas ClampedBinaryQuant).
/// State names (used in checkpoints and Brevitas state-dict import): buffer
/// "scaling_buffer", parameter "value", buffer "counter" (int64), and for shifted
/// quantizers buffer "zero_point_buffer" and parameter "zero_point_value".
class ActQuantizerImpl : public torch::nn::Cloneable<ActQuantizerImpl> {
 public:
  /// Throws ConfigError when `spec` is not a valid activation quantizer.
  explicit ActQuantizerImpl(QuantSpec spec);
  void reset() override;
  /// x: any shape. Returns fake-quantized values with per-tensor metadata (scale and
  /// zero point of shape []); the input unchanged when quantization is disabled.
  QuantTensor forward(const torch::Tensor& x);
  /// forward(torch::tanh(x)) (QuantTanh), the same values, state updates and gradients.
  /// Once the scale no longer comes from statistics of the tanh output (learned phase,
  /// eval, Parameter scaling), tanh and fake quantization run as one autograd node
  /// (tanh_fake_quant, issue 11); otherwise, and for binary or shifted quantizers,
  /// the two steps as written.
  QuantTensor forward_tanh(const torch::Tensor& x);

  const QuantSpec& spec() const { return m_spec; }
  void set_enabled(bool on) { m_enabled = on; }
  bool enabled() const { return m_enabled; }

  /// Training calls seen so far (stops at collect_stats_steps + 1).
  int64_t counter() const;
  /// True once the statistics phase is over and `value` is the scale source.
  bool learned_phase() const;
  /// The scale the next eval call would use (no gradient), shape [].
  torch::Tensor eval_scale() const;
  /// Ends the statistics phase now with `threshold` as the learned value (Brevitas
  /// state-dict import: loading scaling_impl.value marks the phase finished).
  void load_threshold(double threshold);

  torch::Tensor scaling_buffer, value, counter_buffer, zero_point_buffer, zero_point_value;

 private:
  torch::Tensor scale_for_call(const torch::Tensor& stats_input);
  torch::Tensor zero_point_for_call(const torch::Tensor& stats_input, const torch::Tensor& scale,
                                    bool advance);
  torch::Tensor finish_scale(const torch::Tensor& raw) const;

  QuantSpec m_spec;
  bool m_enabled = true;
};
TORCH_MODULE(ActQuantizer);

/// The scale of a power-of-two quantizer for a linear threshold (any shape, float32), as
/// the forward passes compute it, without gradient:
/// 2^ceil(log2(max(threshold / int_threshold, 1e-10))) elementwise. The fixed-point
/// presets learn the threshold linearly; Brevitas learns its log2 (core/quant/brevitas_log2.h).
torch::Tensor power_of_two_scale(const torch::Tensor& threshold, double int_threshold);

/// Bias quantizer (Int8Bias / Int16Bias / Int32Bias): s_bias = s_input * s_weight,
/// flattened to [1] (per-tensor weights) or [C_out] (per-channel), zero point 0,
/// signed, clamp with masked gradient.
/// bias: [C_out]. Throws ConfigError naming `layer` when `input_scale` is undefined
/// (Brevitas: "Input scale required").
QuantTensor quantize_bias(const torch::Tensor& bias, const torch::Tensor& input_scale,
                          const torch::Tensor& weight_scale, const QuantSpec& spec,
                          const std::string& layer);

}  // namespace qnn
