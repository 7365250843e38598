// SPDX-License-Identifier: GPL-3.0-or-later
// Layers that rearrange or join values without computing new ones: Concat,
// UpsampleNearest, DepthToSpace. Their QuantTensor rules follow the Brevitas 0.12.1
// QuantTensor torch-function handlers (brevitas/quant_tensor/int_torch_handler.py,
// torch_handler.py, IntQuantTensor.cat in int_quant_tensor.py), with the deviations
// stated per layer.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "core/nn/layer.h"

namespace qnn {

/// torch::cat of N >= 1 inputs along dim 1 (channels): [N, C_i, ...] -> [N, sum C_i, ...];
/// all other dimensions must agree.
///
/// QuantTensor rule (Brevitas 0.12.1 torch.cat on IntQuantTensors -> IntQuantTensor.cat):
///  - one input: returned unchanged, metadata included;
///  - some input without metadata: the values are concatenated, the result is a float tensor;
///  - all inputs quantized:
///    * unless inputs[0].training is set, every scale and zero point must pass
///      torch::allclose (rtol 1e-5, atol 1e-8) against inputs[0]'s, else ConfigError
///      ("Scaling factors are different" / "Zero points are different"). Brevitas skips
///      this check based on the first input's training flag only;
///    * always: equal bit widths and equal signedness, else ConfigError ("Bit widths are
///      different" / "Signs are different"), in training too;
///    * training = any input's training flag. In training the output scale and zero
///      point are the means of the inputs' ((s_0 + ... + s_{N-1}) / N), so unequal scales
///      are averaged silently; in eval they are inputs[0]'s. Bit width and signedness are
///      inputs[0]'s.
/// Deliberate deviation: when any input's scale or zero point has more than one element
/// (per-channel metadata), the result is a float tensor: Brevitas would label all
/// sum C_i channels with inputs[0]'s C_0-channel scale.
/// (brevitas.nn.QuantCat itself is broken in 0.12.1, Xilinx/brevitas#1203; this is the
/// functional torch.cat rule.)
/// Throws ConfigError naming the layer for no inputs, inputs of different rank or with a
/// mismatch outside dim 1, and the metadata errors above.
class ConcatLayerImpl : public torch::nn::Cloneable<ConcatLayerImpl>, public LayerBase {
 public:
  void reset() override {}
  QuantTensor apply_inputs(const std::vector<QuantTensor>& inputs) override;
  /// A single input: returned unchanged (as torch.cat of one tensor in Brevitas).
  QuantTensor apply(const QuantTensor& x) override { return apply_inputs({x}); }
};
TORCH_MODULE(ConcatLayer);

/// Nearest-neighbour upsampling by an integer factor along every spatial axis:
/// [N, C, L] -> [N, C, L*s] or [N, C, H, W] -> [N, C, H*s, W*s]; each output element copies
/// input element (h / s, w / s). Keeps the QuantTensor metadata unchanged (Brevitas
/// F.interpolate handler, mode 'nearest': quant_invariant_handler); per-channel
/// metadata stays valid because the channels do not move.
/// Throws ConfigError naming the layer for scale_factor < 1 (constructor) and an input
/// that is not 3-D or 4-D.
class UpsampleNearestLayerImpl : public torch::nn::Cloneable<UpsampleNearestLayerImpl>, public LayerBase {
 public:
  explicit UpsampleNearestLayerImpl(int64_t scale_factor) : scale_factor(scale_factor) { reset(); }
  void reset() override;
  QuantTensor apply(const QuantTensor& x) override;
  int64_t scale_factor;
};
TORCH_MODULE(UpsampleNearestLayer);

/// Depth to space with block size r, torch::pixel_shuffle semantics, which is ONNX
/// DepthToSpace mode="CRD" (not the ONNX default "DCR"):
///   [N, C*r*r, H, W] -> [N, C, H*r, W*r],  out[n, c, h*r + i, w*r + j] = in[n, c*r*r + i*r + j, h, w].
/// Keeps per-tensor QuantTensor metadata unchanged (Brevitas F.pixel_shuffle handler:
/// quant_invariant_handler). Deliberate deviation: per-channel metadata (scale or zero
/// point with more than one element) gives a float tensor, because the input's C*r*r
/// channel scales no longer line up with the C output channels (Brevitas keeps the
/// stale [1, C*r*r, 1, 1] scale).
/// Throws ConfigError naming the layer for block_size < 1 (constructor), an input that is
/// not 4-D, and a channel count not divisible by r*r.
class DepthToSpaceLayerImpl : public torch::nn::Cloneable<DepthToSpaceLayerImpl>, public LayerBase {
 public:
  explicit DepthToSpaceLayerImpl(int64_t block_size) : block_size(block_size) { reset(); }
  void reset() override;
  QuantTensor apply(const QuantTensor& x) override;
  int64_t block_size;
};
TORCH_MODULE(DepthToSpaceLayer);

}  // namespace qnn
