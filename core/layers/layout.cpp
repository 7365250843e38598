// SPDX-License-Identifier: GPL-3.0-or-later
// Layers that move values without computing new ones (core/nn/layout_layers.h):
//  - Concat: torch.cat of num_inputs ports along the channels; quantized inputs must share
//    one scale source, bit width and signedness (Brevitas IntQuantTensor.cat), the result
//    keeps them; a float (or per-channel) input makes the result float;
//  - Upsample: nearest-neighbour by an integer scale_factor on [C, L] or [C, H, W], keeps
//    the QuantTensor facts;
//  - DepthToSpace: torch pixel_shuffle / ONNX DepthToSpace CRD with block_size r,
//    [C*r*r, H, W] -> [C, H*r, W*r], keeps per-tensor facts.
#include <algorithm>

#include "core/export/export_plan.h"
#include "core/export/packed_model.h"
#include "core/layers/layer_kit.h"
#include "core/nn/layout_layers.h"

namespace qnn::layers {

using namespace layer_kit;

namespace {

constexpr int64_t kMaxConcatInputs = 16;

int concat_ports(const LayerSpec& l) {
  return int(std::clamp<int64_t>(l.int_param("num_inputs", 2), 2, kMaxConcatInputs));
}

void check_concat(const LayerSpec& l, LayerReporter& r) {
  const double n = l.param("num_inputs", 2);
  if (n > double(kMaxConcatInputs))
    r.error(l.id + ": num_inputs must be at most " + std::to_string(kMaxConcatInputs) + ", got " + num_text(n),
            "chain two Concat layers for more inputs");
  if (n < 2) r.error(l.id + ": num_inputs must be at least 2, got " + num_text(n), "a Concat joins 2 or more inputs");
}

std::string port_text(const InferInput& in, size_t port) {
  return "input " + std::to_string(port) + " from " + in.from;
}

bool infer_concat(const LayerSpec& l, const std::vector<InferInput>& in, NodeInfo& out, InferContext& c) {
  const std::vector<int64_t>& s0 = in[0].info.shape;
  std::vector<int64_t> shape = s0;
  for (size_t i = 1; i < in.size(); ++i) {
    const std::vector<int64_t>& si = in[i].info.shape;
    bool ok = si.size() == s0.size() && !s0.empty();
    for (size_t d = 1; ok && d < s0.size(); ++d) ok = si[d] == s0[d];
    if (!ok) {
      c.error(l.id + ": " + port_text(in[i], i) + " has shape " + shape_text(si) + ", " + port_text(in[0], 0) +
                  " has " + shape_text(s0) + "; all but the channel count must match",
              "change the layers feeding " + l.id + " so every input has the same rank and the same sizes after "
              "the channels",
              "shape-mismatch");
      return false;
    }
    shape[0] += si[0];
  }
  out = float_info(shape);
  const NodeInfo& a = in[0].info;
  // As ConcatLayerImpl (Brevitas IntQuantTensor.cat): quantized inputs are checked for
  // one grid also when per-channel; the result of a mixed or per-channel cat is float.
  bool per_channel = false;
  for (const InferInput& x : in) {
    if (!x.info.quantized) return true;  // float result
    per_channel = per_channel || x.info.per_channel;
  }
  for (size_t i = 1; i < in.size(); ++i) {
    const NodeInfo& b = in[i].info;
    std::string what;
    if (b.scale_source != a.scale_source)
      what = "carry different scales: " + port_text(in[0], 0) + " is on " + a.scale_source + "'s grid, " +
             port_text(in[i], i) + " on " + b.scale_source + "'s (Brevitas: \"Scaling factors are different\")";
    else if (b.bit_width != a.bit_width)
      what = "have different bit widths: " + port_text(in[0], 0) + " has " + std::to_string(a.bit_width) + ", " +
             port_text(in[i], i) + " has " + std::to_string(b.bit_width) + " (Brevitas: \"Bit widths are different\")";
    else if (b.is_signed != a.is_signed)
      what = "differ in signedness: " + port_text(in[0], 0) + " is " + (a.is_signed ? "signed" : "unsigned") + ", " +
             port_text(in[i], i) + " is " + (b.is_signed ? "signed" : "unsigned") +
             " (Brevitas: \"Signs are different\")";
    if (!what.empty()) {
      c.error(l.id + " joins quantized tensors that " + what,
              "feed every input of " + l.id + " from one quantizer (e.g. one QuantReLU before the branches), or "
              "turn off return_quant_tensor on the layers feeding it to join floats",
              "concat-quant");
      return false;
    }
  }
  if (per_channel) return true;  // float result (core/nn/layout_layers.h: the deviation from Brevitas)
  out.quantized = true;
  out.bit_width = a.bit_width;
  out.is_signed = a.is_signed;
  out.scale_source = a.scale_source;
  return true;
}

bool infer_upsample(const LayerSpec& l, const std::vector<InferInput>& in, NodeInfo& out, InferContext& c) {
  const std::vector<int64_t>& s = in[0].info.shape;
  if (s.size() != 2 && s.size() != 3) {
    c.error(l.id + " expects a [C, L] or [C, H, W] input, gets " + shape_text(s) + " from " + in[0].from,
            "place " + l.id + " before the Flatten", "shape-mismatch");
    return false;
  }
  out = in[0].info;
  for (size_t d = 1; d < s.size(); ++d) out.shape[d] = s[d] * l.int_param("scale_factor", 2);
  return true;
}

bool infer_d2s(const LayerSpec& l, const std::vector<InferInput>& in, NodeInfo& out, InferContext& c) {
  if (!expect_chw(l, in[0], c, "place " + l.id + " before the Flatten")) return false;
  const std::vector<int64_t>& s = in[0].info.shape;
  const int64_t r = l.int_param("block_size", 2);
  if (s[0] % (r * r) != 0) {
    c.error(l.id + " needs a channel count divisible by block_size^2 = " + std::to_string(r * r) + ", gets " +
                std::to_string(s[0]) + " channels from " + in[0].from,
            "give " + in[0].from + " a multiple of " + std::to_string(r * r) + " channels or change block_size",
            "channel-mismatch");
    return false;
  }
  out = in[0].info;
  out.shape = {s[0] / (r * r), s[1] * r, s[2] * r};
  if (out.per_channel) out = float_info(out.shape);  // the channel scales no longer line up (deviation)
  return true;
}

torch::Tensor upsample(const torch::Tensor& x, int64_t f) {
  torch::Tensor y = x;
  for (int64_t d = 2; d < x.dim(); ++d) y = y.repeat_interleave(f, d);
  return y;
}

}  // namespace

LayerDescriptor concat() {
  LayerDescriptor d;
  d.type = LayerType::Concat;
  d.name = "Concat";
  d.id_base = "cat";
  d.family = LayerFamily::ShapeOp;
  d.tooltip = "torch.cat along the channels (dim 1) of num_inputs inputs; quantized inputs must share one scale, "
              "bit width and signedness (Brevitas QuantTensor cat)";
  d.input_ports = concat_ports;
  d.params = {int_param("num_inputs", false, 2, 2, 2, "number of input ports (2 or more)")};
  d.passes_quant_facts = true;
  d.check = check_concat;
  d.infer = infer_concat;
  d.build = [](const LayerSpec&) { return built(ConcatLayer()); };
  d.param_text = [](const LayerSpec& l) { return std::to_string(concat_ports(l)) + " in"; };
  d.export_rules.freeze = [](const FreezeContext& c, PlanNode& n) {
    n.op = PlanOp::Concat;
    n.inputs = c.inputs;
  };
  d.export_rules.packed_forward = [](const PackedRunContext& c) { return torch::cat(c.inputs, 1); };
  return d;
}

LayerDescriptor upsample() {
  LayerDescriptor d;
  d.type = LayerType::Upsample;
  d.name = "Upsample";
  d.id_base = "up";
  d.family = LayerFamily::ShapeOp;
  d.tooltip = "torch.nn.Upsample(mode='nearest'): repeats every value scale_factor times along each spatial axis "
              "(keeps the QuantTensor metadata)";
  d.input_ports = one_port;
  d.params = {int_param("scale_factor", false, 1, 2, 2, "integer upsampling factor per spatial axis (nearest)")};
  d.passes_quant_facts = true;
  d.infer = infer_upsample;
  d.build = [](const LayerSpec& l) { return built(UpsampleNearestLayer(l.int_param("scale_factor", 2))); };
  d.param_text = [](const LayerSpec& l) { return "\u00d7" + num_text(l.param("scale_factor", 2)); };
  d.export_rules.freeze = [](const FreezeContext& c, PlanNode& n) {
    n.op = PlanOp::Upsample;
    n.factor = dynamic_cast<const UpsampleNearestLayerImpl&>(c.module).scale_factor;
  };
  d.export_rules.packed_forward = [](const PackedRunContext& c) {
    return upsample(c.inputs.at(0), c.layer.int_param("scale_factor", 2));
  };
  return d;
}

LayerDescriptor depth_to_space() {
  LayerDescriptor d;
  d.type = LayerType::DepthToSpace;
  d.name = "DepthToSpace";
  d.id_base = "d2s";
  d.family = LayerFamily::ShapeOp;
  d.tooltip = "torch.nn.PixelShuffle (ONNX DepthToSpace CRD): [C*r*r, H, W] -> [C, H*r, W*r] with r = block_size "
              "(keeps per-tensor QuantTensor metadata)";
  d.input_ports = one_port;
  d.params = {int_param("block_size", false, 1, 2, 2, "block size r: r*r channels become an r x r block")};
  d.passes_quant_facts = true;
  d.infer = infer_d2s;
  d.build = [](const LayerSpec& l) { return built(DepthToSpaceLayer(l.int_param("block_size", 2))); };
  d.param_text = [](const LayerSpec& l) { return "r" + num_text(l.param("block_size", 2)); };
  d.export_rules.freeze = [](const FreezeContext& c, PlanNode& n) {
    n.op = PlanOp::DepthToSpace;
    n.factor = dynamic_cast<const DepthToSpaceLayerImpl&>(c.module).block_size;
  };
  d.export_rules.packed_forward = [](const PackedRunContext& c) {
    return torch::pixel_shuffle(c.inputs.at(0), c.layer.int_param("block_size", 2));
  };
  return d;
}

}  // namespace qnn::layers
