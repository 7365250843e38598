// SPDX-License-Identifier: GPL-3.0-or-later
// BatchNorm2d (torch.nn.BatchNorm2d, [C, H, W]) and BatchNorm1d (torch.nn.BatchNorm1d,
// [C] or [C, L]): float normalisation per channel; the output carries no grid. Not in
// packed models yet. With `frozen` (torchvision's FrozenBatchNorm2d idea) the layer
// computes its eval formula in training too and learns nothing: imported affine maps
// (input preprocessing such as x * 2 - 1) keep their meaning through fine-tuning.
#include "core/export/export_plan.h"
#include "core/graph/summary.h"
#include "core/layers/layer_kit.h"
#include "core/nn/eltwise_layers.h"
#include "core/nn/norm_layers.h"

namespace qnn::layers {

using namespace layer_kit;

namespace {

void check(const LayerSpec& l, LayerReporter& r) {
  if (!(l.param("eps", 1e-5) > 0.0))
    r.error(l.id + ": eps must be positive, got " + num_text(l.param("eps", 1e-5)), "e.g. 1e-5");
  const double m = l.param("momentum", 0.1);
  if (!(m >= 0.0 && m <= 1.0)) r.error(l.id + ": momentum must be in [0, 1], got " + num_text(m), "e.g. 0.1");
}

bool channels_match(const LayerSpec& l, const InferInput& in, InferContext& c) {
  const int64_t ch = l.int_param("num_features", 0);
  if (ch == in.info.shape[0]) return true;
  c.error(l.id + " expects " + std::to_string(ch) + " channels (num_features), gets " +
              std::to_string(in.info.shape[0]) + " from " + in.from,
          "set " + l.id + "'s num_features to " + std::to_string(in.info.shape[0]), "channel-mismatch");
  return false;
}

bool infer(const LayerSpec& l, const std::vector<InferInput>& ins, NodeInfo& out, InferContext& c) {
  const InferInput& in = ins[0];
  if (!expect_chw(l, in, c, "place " + l.id + " before the Flatten, or use a BatchNorm1d after it")) return false;
  if (!channels_match(l, in, c)) return false;
  out = float_info(in.info.shape);  // normalised floats: no grid
  return true;
}

bool infer_1d(const LayerSpec& l, const std::vector<InferInput>& ins, NodeInfo& out, InferContext& c) {
  const InferInput& in = ins[0];
  if (in.info.shape.size() != 1 && in.info.shape.size() != 2) {
    c.error(l.id + " expects a [C] or [C, L] input, gets " + shape_text(in.info.shape) + " from " + in.from,
            "use a BatchNorm2d on [C, H, W] inputs, or place " + l.id + " after the Flatten", "shape-mismatch");
    return false;
  }
  if (!channels_match(l, in, c)) return false;
  out = float_info(in.info.shape);
  return true;
}

void cost(const LayerSpec& l, const std::vector<int64_t>* out, LayerSummary& s) {
  const int64_t c = std::max<int64_t>(0, l.int_param("num_features", 0));
  s.weights = c;
  s.biases = c;
  s.params = 2 * c;
  s.weight_bits = 32;
  s.bias_bits = 32;
  s.storage_bits = s.float32_bits = 32 * 4 * c;  // weight, bias, running mean, running variance
  if (out) {
    int64_t n = 1;
    for (int64_t d : *out) n *= d;
    s.macs = n;
  }
}

template <class Module>
void freeze(const FreezeContext& c, PlanNode& n) {
  const auto& bn = dynamic_cast<const Module&>(c.module);
  n.op = PlanOp::BatchNorm;
  n.weight = bn.weight.detach().clone();
  n.bias = bn.bias.detach().clone();
  n.running_mean = bn.running_mean.detach().clone();
  n.running_var = bn.running_var.detach().clone();
  n.eps = bn.eps;
}

ParamSchema frozen_param() {
  ParamSchema p;
  p.name = "frozen";
  p.kind = ParamKind::Bool;
  p.default_value = 0.0;
  p.help = "1: always the running statistics and the stored affine, also in training; nothing is learned";
  return p;
}

// The module with `frozen` applied: weight and bias leave the optimizer's reach.
template <class Holder>
BuiltLayer with_frozen(Holder m, const LayerSpec& l) {
  m->frozen = l.param("frozen", 0.0) != 0.0;
  if (m->frozen) {
    m->weight.set_requires_grad(false);
    m->bias.set_requires_grad(false);
  }
  return built(m);
}

LayerDescriptor batch_norm(LayerType type, const char* name, const char* tooltip) {
  LayerDescriptor d;
  d.type = type;
  d.name = name;
  d.id_base = "bn";
  d.family = LayerFamily::FloatLayer;
  d.tooltip = tooltip;
  d.input_ports = one_port;
  d.params = {int_param("num_features", true, 1, 0, 8, "channels C of the input"),
              real_param("eps", 1e-5, std::nullopt, "added to the variance (positive)"),
              real_param("momentum", 0.1, std::nullopt, "running statistics update rate, in [0, 1]"),
              frozen_param()};
  d.check = check;
  d.cost = cost;
  d.export_rules.packed_refusal =
      std::string(name) + " cannot be stored in a packed model: fold it into the layer before it (qnn export "
      "--fold-bn, the export dialog's Fold BatchNorm box, or Edit > Fold BatchNorm), or export QCDQ, QONNX or a "
      "checkpoint";
  d.export_rules.float_compute = true;
  d.export_rules.packed_float_weights = true;
  return d;
}

}  // namespace

LayerDescriptor batch_norm2d() {
  LayerDescriptor d = batch_norm(
      LayerType::BatchNorm2d, "BatchNorm2d",
      "torch.nn.BatchNorm2d: normalises each channel (batch statistics in training, running ones in eval)");
  d.infer = infer;
  d.build = [](const LayerSpec& l) {
    return with_frozen(BatchNorm2dLayer(l.int_param("num_features", 1), l.param("eps", 1e-5), l.param("momentum", 0.1)),
                       l);
  };
  d.export_rules.freeze = freeze<BatchNorm2dLayerImpl>;
  return d;
}

LayerDescriptor batch_norm1d() {
  LayerDescriptor d = batch_norm(LayerType::BatchNorm1d, "BatchNorm1d",
                                 "torch.nn.BatchNorm1d: normalises each channel of a [C] or [C, L] input (batch "
                                 "statistics in training, running ones in eval)");
  d.infer = infer_1d;
  d.build = [](const LayerSpec& l) {
    return with_frozen(BatchNorm1dLayer(l.int_param("num_features", 1), l.param("eps", 1e-5), l.param("momentum", 0.1)),
                       l);
  };
  d.export_rules.freeze = freeze<BatchNorm1dLayerImpl>;
  return d;
}

}  // namespace qnn::layers
