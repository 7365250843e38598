// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/export/qcdq_export.h"

#include <map>

#include "core/errors.h"
#include "core/export/onnx_graph.h"

namespace qnn {

namespace {

using onnx_graph::GraphBuilder;

bool needs_clip(const QuantPoint& q) {
  const IntRange full = int_range(8, q.is_signed, false);
  return q.range.min_int != full.min_int || q.range.max_int != full.max_int;
}

void require_8bit(const QuantPoint& q, const std::string& layer, const std::string& what) {
  if (q.bit_width > 8)
    throw ExportError(layer + ": " + std::to_string(q.bit_width) + "-bit " + what +
                      " cannot be expressed in QCDQ (INT8/UINT8 codes only)");
}

/// Integer tensor (codes) -> [Clip] -> DequantizeLinear. Returns the float value name.
std::string clip_dq(GraphBuilder& g, const std::string& prefix, const std::string& codes, const QuantPoint& q,
                    const std::string& out) {
  const auto type = onnx_graph::code_type(q.is_signed);
  std::string c = codes;
  if (needs_clip(q)) {
    const std::string lo = g.add_initializer(prefix + "_min", torch::tensor(double(q.range.min_int)), type);
    const std::string hi = g.add_initializer(prefix + "_max", torch::tensor(double(q.range.max_int)), type);
    c = prefix + "/clipped";
    g.add_node("Clip", {codes, lo, hi}, {c}, prefix + "/clip");
  }
  const std::string s = g.add_initializer(prefix + "_scale", q.scale, onnx::TensorProto_DataType_FLOAT);
  const std::string z = g.add_initializer(prefix + "_zero_point", q.zero_point, type);
  onnx::NodeProto* dq = g.add_node("DequantizeLinear", {c, s, z}, {out}, prefix + "/dequant");
  if (q.per_channel()) GraphBuilder::attr(dq, "axis", int64_t{0});
  return out;
}

/// x -> QuantizeLinear -> [Clip] -> DequantizeLinear (an activation quantizer).
std::string qcdq(GraphBuilder& g, const std::string& layer, const std::string& x, const QuantPoint& q,
                 const std::string& out) {
  require_8bit(q, layer, "activations");
  const std::string prefix = layer + ".act";
  const auto type = onnx_graph::code_type(q.is_signed);
  const std::string s = g.add_initializer(prefix + "_q_scale", q.scale, onnx::TensorProto_DataType_FLOAT);
  const std::string z = g.add_initializer(prefix + "_q_zero_point", q.zero_point, type);
  const std::string codes = layer + "/codes";
  g.add_node("QuantizeLinear", {x, s, z}, {codes}, layer + "/quant");
  return clip_dq(g, prefix, codes, q, out);
}

/// A truncating pool as its exact integer equivalent (core/nn/trunc_pool.h):
/// AveragePool -> Div(s / n) [-> Add(z)] -> Round (the window sums of the codes, exact
/// integers) -> Div(trunc_scale) -> Round (half to even) or Floor -> Clip(range) ->
/// QuantizeLinear(scale 1) -> DequantizeLinear(output scale); with a non-zero zero point
/// or more than 8 bits the codes are rescaled in float: Sub(z') -> Mul(output scale).
std::string trunc_pool(GraphBuilder& g, const PlanNode& n, const std::string& x) {
  const auto f32 = onnx::TensorProto_DataType_FLOAT;
  const QuantPoint& in = *n.input_q;
  const QuantPoint& q = *n.act_q;
  const std::string mean = onnx_graph::emit_float_op(g, n, x, "", "", n.id + "/mean");
  const std::string acc_scale = g.add_initializer(n.id + ".acc_scale", n.acc_scale, f32);
  std::string t = n.id + "/acc_real";
  g.add_node("Div", {mean, acc_scale}, {t}, n.id + "/to_acc");
  if (in.zero_point.item<float>() != 0.0f) {
    const std::string z = g.add_initializer(n.id + ".input_zero_point", in.zero_point, f32);
    g.add_node("Add", {t, z}, {n.id + "/acc_shifted"}, n.id + "/add_zero_point");
    t = n.id + "/acc_shifted";
  }
  g.add_node("Round", {t}, {n.id + "/acc_codes"}, n.id + "/acc_round");
  const std::string ts = g.add_initializer(n.id + ".trunc_scale", torch::tensor(float(n.trunc_scale)), f32);
  g.add_node("Div", {n.id + "/acc_codes", ts}, {n.id + "/shifted"}, n.id + "/shift");
  g.add_node(n.trunc_floor ? "Floor" : "Round", {n.id + "/shifted"}, {n.id + "/trunc"},
             n.id + (n.trunc_floor ? "/floor" : "/round"));
  const std::string lo = g.add_initializer(n.id + ".code_min", torch::tensor(float(q.range.min_int)), f32);
  const std::string hi = g.add_initializer(n.id + ".code_max", torch::tensor(float(q.range.max_int)), f32);
  g.add_node("Clip", {n.id + "/trunc", lo, hi}, {n.id + "/codes_f"}, n.id + "/clip");
  if (q.zero_point.item<float>() == 0.0f && q.bit_width <= 8) {
    const auto type = onnx_graph::code_type(q.is_signed);
    const std::string one = g.add_initializer(n.id + ".unit_scale", torch::tensor(1.0f), f32);
    const std::string z0 = g.add_initializer(n.id + ".codes_zero_point", torch::tensor(0.0), type);
    g.add_node("QuantizeLinear", {n.id + "/codes_f", one, z0}, {n.id + "/codes"}, n.id + "/quant");
    const std::string s = g.add_initializer(n.id + ".act_scale", q.scale, f32);
    g.add_node("DequantizeLinear", {n.id + "/codes", s, z0}, {n.id}, n.id + "/dequant");
    return n.id;
  }
  const std::string z = g.add_initializer(n.id + ".act_zero_point", q.zero_point, f32);
  const std::string s = g.add_initializer(n.id + ".act_scale", q.scale, f32);
  g.add_node("Sub", {n.id + "/codes_f", z}, {n.id + "/centred"}, n.id + "/sub_zero_point");
  g.add_node("Mul", {n.id + "/centred", s}, {n.id}, n.id + "/rescale");
  return n.id;
}

}  // namespace

std::string qcdq_model_bytes(const ExportPlan& plan) {
  GraphBuilder g("qnn_qcdq", {{"", 13}});
  std::map<std::string, std::string> value{{plan.input_id, "input"}};
  for (const PlanNode& n : plan.nodes) {
    const std::string x = value.at(n.input);
    std::string out;
    if (n.op == PlanOp::Conv || n.op == PlanOp::Linear) {
      std::string w, b;
      if (n.weight_q) {
        require_8bit(*n.weight_q, n.id, "weights");
        const std::string codes =
            g.add_initializer(n.id + ".weight_codes", n.weight_codes, onnx_graph::code_type(n.weight_q->is_signed));
        w = clip_dq(g, n.id + ".weight", codes, *n.weight_q, n.id + "/weight");
      } else {
        w = g.add_initializer(n.id + ".weight", n.weight, onnx::TensorProto_DataType_FLOAT);
      }
      if (n.bias_q) {
        const std::string codes = g.add_initializer(n.id + ".bias_codes", n.bias_codes, onnx::TensorProto_DataType_INT32);
        const std::string s = g.add_initializer(n.id + ".bias_scale", n.bias_q->scale, onnx::TensorProto_DataType_FLOAT);
        b = n.id + "/bias";
        onnx::NodeProto* dq = g.add_node("DequantizeLinear", {codes, s}, {b}, n.id + ".bias/dequant");
        if (n.bias_q->per_channel()) GraphBuilder::attr(dq, "axis", int64_t{0});
      } else if (n.bias.defined()) {
        b = g.add_initializer(n.id + ".bias", n.bias, onnx::TensorProto_DataType_FLOAT);
      }
      out = onnx_graph::emit_float_op(g, n, x, w, b, n.id);
    } else if (n.op == PlanOp::Act) {
      if (n.act_q) {
        const std::string pre = onnx_graph::emit_float_op(g, n, x, "", "", n.id + "/pre");
        out = qcdq(g, n.id, pre, *n.act_q, n.id);
      } else {
        out = onnx_graph::emit_float_op(g, n, x, "", "", n.id);
      }
    } else if (n.op == PlanOp::Add) {
      // QuantEltwiseAdd: the input quantizer on each operand (one scale), the sum, the
      // output quantizer; Add: the sum alone.
      std::string a = x, b = value.at(n.input2);
      if (n.input_q) {
        a = qcdq(g, n.id + ".input0", a, *n.input_q, n.id + "/input0");
        b = qcdq(g, n.id + ".input1", b, *n.input_q, n.id + "/input1");
      }
      const std::string sum = onnx_graph::emit_float_op(g, n, a, b, "", n.act_q ? n.id + "/sum" : n.id);
      out = n.act_q ? qcdq(g, n.id, sum, *n.act_q, n.id) : sum;
    } else if (n.op == PlanOp::TruncPool) {
      out = trunc_pool(g, n, x);
    } else if (n.op == PlanOp::Concat) {
      std::vector<std::string> ins;
      for (const std::string& id : n.inputs) ins.push_back(value.at(id));
      out = onnx_graph::emit_concat(g, n, ins, n.id);
    } else {
      out = onnx_graph::emit_float_op(g, n, x, "", "", n.id);
    }
    value[n.id] = out;
  }
  const auto metadata = onnx_graph::finish_io(g, plan, value.at(plan.output_source));
  return g.finish(metadata, /*strict_shapes=*/true);
}

}  // namespace qnn
