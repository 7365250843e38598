// SPDX-License-Identifier: GPL-3.0-or-later
// TruncAvgPool2d and TruncAdaptiveAvgPool2d (Brevitas 0.12.1, trunc_quant RoundTo8bit or,
// with floor = 1, TruncTo8bit): the window sum of the input codes re-quantized to
// `bit_width` bits by a power-of-two shift (core/nn/trunc_pool.h has the formulas).
// With n elements per window and a b-bit input on scale s:
//   acc_bit_width = ceil(log2((2^b - 1) * n)), trunc_scale = 2^(acc_bit_width - bit_width),
//   output scale (s / n) * trunc_scale: the input's own scale when trunc_scale == n (2x2
//   windows on 8-bit input), so the output then keeps the input's scale source.
// A float input: with return_quant_tensor an error (Brevitas fails), without it the plain
// float mean.
#include <cmath>

#include "core/export/export_plan.h"
#include "core/export/packed_model.h"
#include "core/layers/layer_kit.h"
#include "core/nn/trunc_pool.h"

namespace qnn::layers {

using namespace layer_kit;

namespace {

ParamSchema bit_width_param() {
  return int_param("bit_width", false, 1, 8, std::nullopt,
                   "output bit width of the truncation (Brevitas RoundTo8bit / TruncTo8bit: 8), 2..16");
}

ParamSchema floor_param() {
  ParamSchema p;
  p.name = "floor";
  p.kind = ParamKind::Bool;
  p.default_value = 0.0;
  p.help = "1: FLOOR truncation (Brevitas TruncTo8bit, as FINN needs); 0: round half to even (RoundTo8bit)";
  return p;
}

void check(const LayerSpec& l, LayerReporter& r) {
  const double b = l.param("bit_width", 8);
  if (b == std::floor(b) && (b < 2 || b > 16))
    r.error(l.id + ": bit_width must be in 2..16, got " + num_text(b), "the Brevitas trunc quantizers use 8",
            "bit-width");
}

/// Elements per window of an input [C, H, W] (0 when the window does not fit).
struct Window {
  int64_t kh = 0, kw = 0, sh = 1, sw = 1;
  int64_t n() const { return kh * kw; }
};

Window avg_window(const LayerSpec& l) {
  const auto k = pair_value(l, "kernel_size"), s = pair_value(l, "stride");
  return {k[0], k[1], s[0], s[1]};
}

std::pair<int64_t, int64_t> output_size(const LayerSpec& l) {
  const auto o = pair_value(l, "output_size");
  return {std::max<int64_t>(1, o[0]), std::max<int64_t>(1, o[1])};
}

/// The QuantTensor facts of a truncating pool of `n`-element windows; reports the float
/// input error.
bool trunc_facts(const LayerSpec& l, const InferInput& in, int64_t n, NodeInfo& out, InferContext& c) {
  const std::vector<int64_t> shape = out.shape;
  out = float_info(shape);
  if (!in.info.quantized) {
    if (!l.return_quant_tensor) return true;  // the plain float mean
    c.error(l.id + " truncates the window sums of integer codes, but its input from " + in.from +
                " is not a QuantTensor (Brevitas fails here)",
            "put a quantized activation with return_quant_tensor before " + l.id + ", or turn off " + l.id +
                "'s return_quant_tensor to average float values",
            "trunc-needs-quant");
    return false;
  }
  if (!l.return_quant_tensor) return true;
  const int64_t bits = l.int_param("bit_width", 8);
  const auto acc = static_cast<int64_t>(std::ceil(std::log2((std::ldexp(1.0, int(in.info.bit_width)) - 1.0) * double(n))));
  const double trunc_scale = std::ldexp(1.0, int(acc - bits));
  out.quantized = true;
  out.bit_width = bits;
  out.is_signed = in.info.is_signed;
  out.per_channel = in.info.per_channel;
  out.scale_source = trunc_scale == double(n) ? in.info.scale_source : l.id;
  return true;
}

bool infer_avg(const LayerSpec& l, const std::vector<InferInput>& ins, NodeInfo& out, InferContext& c) {
  const InferInput& in = ins[0];
  if (!expect_chw(l, in, c, "pooling needs image-shaped input; place " + l.id + " before the Flatten")) return false;
  const Window w = avg_window(l);
  std::vector<int64_t> shape{in.info.shape[0], conv_out_len(in.info.shape[1], w.kh, w.sh, 0, 1),
                             conv_out_len(in.info.shape[2], w.kw, w.sw, 0, 1)};
  if (shape[1] <= 0 || shape[2] <= 0) {
    c.error(l.id + "'s " + std::to_string(w.kh) + "x" + std::to_string(w.kw) + " window does not fit the " +
                std::to_string(in.info.shape[1]) + "x" + std::to_string(in.info.shape[2]) + " input from " + in.from,
            "use a smaller kernel_size, or a TruncAdaptiveAvgPool2d for global pooling", "spatial");
    return false;
  }
  out.shape = shape;
  return trunc_facts(l, in, w.n(), out, c);
}

bool infer_adaptive(const LayerSpec& l, const std::vector<InferInput>& ins, NodeInfo& out, InferContext& c) {
  const InferInput& in = ins[0];
  if (!expect_chw(l, in, c, "pooling needs image-shaped input; place " + l.id + " before the Flatten")) return false;
  const auto [oh, ow] = output_size(l);
  if (oh > in.info.shape[1] || ow > in.info.shape[2]) {
    c.error(l.id + "'s output size " + std::to_string(oh) + "x" + std::to_string(ow) + " is larger than the " +
                std::to_string(in.info.shape[1]) + "x" + std::to_string(in.info.shape[2]) + " input from " + in.from,
            "use a smaller output_size (1 = global average pooling)", "spatial");
    return false;
  }
  out.shape = {in.info.shape[0], oh, ow};
  const int64_t n = TruncAdaptiveAvgPool2dImpl::derived_window(in.info.shape[1], oh).first *
                    TruncAdaptiveAvgPool2dImpl::derived_window(in.info.shape[2], ow).first;
  return trunc_facts(l, in, n, out, c);
}

TruncRounding rounding(const LayerSpec& l) {
  return l.param("floor", 0.0) != 0.0 ? TruncRounding::Floor : TruncRounding::Round;
}

BuiltLayer build_avg(const LayerSpec& l) {
  const Window w = avg_window(l);
  TruncAvgPool2dOptions o({w.kh, w.kw});
  o.stride({w.sh, w.sw}).bit_width(l.int_param("bit_width", 8)).rounding(rounding(l)).return_quant_tensor(
      l.return_quant_tensor);
  return built(TruncAvgPool2d(o));
}

BuiltLayer build_adaptive(const LayerSpec& l) {
  const auto [oh, ow] = output_size(l);
  TruncAdaptiveAvgPool2dOptions o({oh, ow});
  o.bit_width(l.int_param("bit_width", 8)).rounding(rounding(l)).return_quant_tensor(l.return_quant_tensor);
  return built(TruncAdaptiveAvgPool2d(o));
}

std::string per_channel_refusal(const LayerSpec& l) {
  return "its input carries a per-channel scale; a truncating pool is exported for per-tensor inputs only "
         "(requantize per tensor before " + l.id + ", e.g. a QuantReLU with return_quant_tensor)";
}

std::string avg_refusal(const LayerSpec& l, const std::vector<InferInput>& in) {
  return in.at(0).info.quantized && in[0].info.per_channel ? per_channel_refusal(l) : std::string();
}

std::string uneven_refusal(const LayerSpec& l, int64_t h, int64_t w, int64_t oh, int64_t ow) {
  return "output size " + std::to_string(oh) + "x" + std::to_string(ow) + " does not divide the " +
         std::to_string(h) + "x" + std::to_string(w) +
         " input, so torch's adaptive windows differ in size and no fixed-window ONNX pool reproduces them; "
         "choose an output_size that divides the input (" + l.id + ")";
}

std::string adaptive_refusal(const LayerSpec& l, const std::vector<InferInput>& in) {
  const std::string pc = avg_refusal(l, in);
  if (!pc.empty()) return pc;
  const auto& s = in.at(0).info.shape;
  const auto [oh, ow] = output_size(l);
  if (s.size() == 3 && (s[1] % oh != 0 || s[2] % ow != 0)) return uneven_refusal(l, s[1], s[2], oh, ow);
  return {};
}

/// Fills the TruncPool fields from the eval input and the window.
template <class Module>
void freeze_trunc(const FreezeContext& c, Module& m, const Window& w, int64_t bit_width, PlanNode& n) {
  n.kernel = {w.kh, w.kw};
  n.stride = {w.sh, w.sw};
  if (!c.input.is_quant()) {  // the plain float mean
    n.op = PlanOp::AvgPool;
    return;
  }
  if (c.input.scale.numel() != 1 || c.input.zero_point.numel() != 1)
    throw ExportError(c.layer.id + ": " + per_channel_refusal(c.layer));
  n.op = PlanOp::TruncPool;
  n.trunc_floor = m.options.rounding() == TruncRounding::Floor;
  TruncPoolTrace trace;
  (void)m.forward(c.input, &trace);
  n.acc_bit_width = trace.acc_bit_width;
  n.trunc_scale = trace.trunc_scale;
  QuantPoint in;
  in.scale = c.input.scale.detach().to(torch::kFloat32).reshape({}).clone();
  in.zero_point = c.input.zero_point.detach().to(torch::kFloat32).reshape({}).clone();
  in.bit_width = int(c.input.bit_width);
  in.is_signed = c.input.is_signed;
  in.range = int_range(in.bit_width, in.is_signed, false);
  n.input_q = in;
  n.acc_scale = c.input.scale.detach().reshape({}) / static_cast<double>(trace.avg_scaling);  // as the module
  QuantPoint outq;
  outq.scale = (n.acc_scale * trace.trunc_scale).clone();
  outq.zero_point = (in.zero_point / trace.trunc_scale).clone();
  outq.bit_width = int(bit_width);
  outq.is_signed = in.is_signed;
  outq.range = int_range(outq.bit_width, outq.is_signed, false);
  n.act_q = outq;
}

void freeze_avg(const FreezeContext& c, PlanNode& n) {
  auto& m = dynamic_cast<TruncAvgPool2dImpl&>(c.module);
  const Window w{(*m.options.kernel_size())[0], (*m.options.kernel_size())[1], (*m.options.stride())[0],
                 (*m.options.stride())[1]};
  freeze_trunc(c, m, w, m.options.bit_width(), n);
}

void freeze_adaptive(const FreezeContext& c, PlanNode& n) {
  auto& m = dynamic_cast<TruncAdaptiveAvgPool2dImpl&>(c.module);
  const auto out = *m.options.output_size();
  const int64_t h = c.input.value.size(2), w = c.input.value.size(3);
  if (h % out[0] != 0 || w % out[1] != 0)
    throw ExportError(c.layer.id + ": " + uneven_refusal(c.layer, h, w, out[0], out[1]));
  const auto [kh, sh] = TruncAdaptiveAvgPool2dImpl::derived_window(h, out[0]);
  const auto [kw, sw] = TruncAdaptiveAvgPool2dImpl::derived_window(w, out[1]);
  freeze_trunc(c, m, Window{kh, kw, sh, sw}, m.options.bit_width(), n);
}

/// Recomputes the pool with the stored input grid (the module itself, so the numbers are
/// the app's).
torch::Tensor packed_forward(const PackedRunContext& c) {
  BuiltLayer b = descriptor(c.layer.type).build(c.layer);
  b.layer->layer_name = c.layer.id;
  QuantTensor x(c.inputs.at(0));
  if (const PackedTensor* t = c.tensor(c.layer.id + ".input"))
    x = QuantTensor(c.inputs.at(0), t->q.scale, t->q.zero_point, t->q.bit_width, t->q.is_signed, false);
  b.module->eval();
  return b.layer->apply(x).value;
}

std::string bits_text(const LayerSpec& l) {
  std::string t = num_text(l.param("bit_width", 8)) + "b";
  if (l.param("floor", 0.0) != 0.0) t += " floor";
  return t;
}

LayerDescriptor trunc_pool(LayerType type, const char* name, const char* tooltip) {
  LayerDescriptor d;
  d.type = type;
  d.name = name;
  d.id_base = "pool";
  d.family = LayerFamily::ShapeOp;  // listed with the other pools
  d.tooltip = tooltip;
  d.input_ports = one_port;
  d.returns_quant_tensor = true;
  d.check = check;
  d.export_rules.packed_forward = packed_forward;
  return d;
}

}  // namespace

LayerDescriptor trunc_avg_pool2d() {
  LayerDescriptor d = trunc_pool(LayerType::TruncAvgPool2d, "TruncAvgPool2d",
                                 "Brevitas TruncAvgPool2d: sums each k x k window of a quantized input and "
                                 "re-quantizes the sum to bit_width bits by a power-of-two shift (ROUND or FLOOR)");
  ParamSchema stride = pair_param("stride", false, 1, 0, std::nullopt, "step of the window (default: kernel_size)");
  stride.default_from = "kernel_size";
  d.params = {pair_param("kernel_size", true, 1, 0, 2, "window size k (k x k), or [kh, kw]"), stride,
              bit_width_param(), floor_param()};
  d.infer = infer_avg;
  d.build = build_avg;
  d.param_text = [](const LayerSpec& l) { return "k" + pair_text(pair_value(l, "kernel_size")) + " " + bits_text(l); };
  d.export_rules.freeze = freeze_avg;
  d.export_rules.refusal = avg_refusal;
  return d;
}

LayerDescriptor trunc_adaptive_avg_pool2d() {
  LayerDescriptor d = trunc_pool(LayerType::TruncAdaptiveAvgPool2d, "TruncAdaptiveAvgPool2d",
                                 "Brevitas TruncAdaptiveAvgPool2d: average pooling to output_size (1 = global), the "
                                 "window sums of a quantized input re-quantized to bit_width bits");
  ParamSchema out = pair_param("output_size", false, 1, 1, std::nullopt, "[h, w] of the output (1: global pooling)");
  d.params = {out, bit_width_param(), floor_param()};
  d.infer = infer_adaptive;
  d.build = build_adaptive;
  d.param_text = [](const LayerSpec& l) {
    return "\u2192" + pair_text(pair_value(l, "output_size")) + " " + bits_text(l);
  };
  d.export_rules.freeze = freeze_adaptive;
  d.export_rules.refusal = adaptive_refusal;
  return d;
}

}  // namespace qnn::layers
