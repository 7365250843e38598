// SPDX-License-Identifier: GPL-3.0-or-later
// QONNX export (see qcdq_export.h for the node patterns).
#include <map>
#include <sstream>

#include "core/errors.h"
#include "core/export/onnx_graph.h"
#include "core/export/qcdq_export.h"
#include "core/graph/finn_rules.h"

namespace qnn {

namespace {

using onnx_graph::GraphBuilder;

/// The FINN DataType name QONNX's InferDataTypes gives the output of a Quant /
/// BipolarQuant of `q` (qonnx/custom_op/general/quant.py get_output_dtype(),
/// bipolar_quant.py): BipolarQuant: "BIPOLAR" at scale 1, else "FLOAT32"; Quant with
/// zero point 0: "INT<b>" / "UINT<b>" at scale 1, else "SCALEDINT<b>"; a nonzero zero
/// point: "FLOAT32" (FINN refuses it; the FINN rules report it first).
std::string finn_datatype(const QuantPoint& q) {
  const bool unit_scale = q.scale.defined() && torch::all(q.scale == 1.0).item<bool>();
  if (q.bit_width == 1) return unit_scale ? "BIPOLAR" : "FLOAT32";
  if (q.zero_point.defined() && !torch::all(q.zero_point == 0.0).item<bool>()) return "FLOAT32";
  const std::string b = std::to_string(q.bit_width);
  if (unit_scale) return (q.is_signed ? "INT" : "UINT") + b;
  return "SCALEDINT<" + b + ">";
}

/// The FINN DataType QONNX's InferDataTypes gives a Trunc output
/// (qonnx/custom_op/general/trunc.py get_trunc_dt()): on a grid of scale 1 (zero point 0)
/// INT<b> / UINT<b> by the sign (BIPOLAR / BINARY at 1 bit), b = the output bit width;
/// any other scale FLOAT32. `scale` is the output grid's.
std::string trunc_datatype(const torch::Tensor& scale, bool is_signed, int bits) {
  const bool unit_scale = scale.defined() && torch::all(scale == 1.0).item<bool>();
  if (!unit_scale) return "FLOAT32";
  if (bits == 1) return is_signed ? "BIPOLAR" : "BINARY";
  return (is_signed ? "INT" : "UINT") + std::to_string(bits);
}

/// graph.quantization_annotation entry {tensor_name, finn_datatype: `datatype`}, the
/// form of QONNX's ModelWrapper.set_tensor_datatype().
void annotate_datatype(GraphBuilder& g, const std::string& tensor, const std::string& datatype) {
  onnx::TensorAnnotation* a = g.model().mutable_graph()->add_quantization_annotation();
  a->set_tensor_name(tensor);
  onnx::StringStringEntryProto* e = a->add_quant_parameter_tensor_names();
  e->set_key("finn_datatype");
  e->set_value(datatype);
}

/// Quant (or BipolarQuant for 1 bit) of `x`; `scale_shape` broadcasts a per-channel
/// scale against the tensor ([C, 1, 1, 1] for conv weights).
/// With `finn`, also annotates `out` with its FINN DataType (finn_datatype()).
std::string quant(GraphBuilder& g, const std::string& prefix, const std::string& x, const QuantPoint& q,
                  const std::vector<int64_t>& scale_shape, const std::string& out, bool finn) {
  if (finn) annotate_datatype(g, out, finn_datatype(q));
  torch::Tensor s = q.scale, z = q.zero_point;
  if (q.per_channel()) {
    s = s.reshape(scale_shape);
    z = z.reshape(scale_shape);
  }
  const std::string sn = g.add_initializer(prefix + "_scale", s, onnx::TensorProto_DataType_FLOAT);
  if (q.bit_width == 1) {
    g.add_node("BipolarQuant", {x, sn}, {out}, prefix + "/bipolar_quant", kQonnxDomain);
    return out;
  }
  const std::string zn = g.add_initializer(prefix + "_zero_point", z, onnx::TensorProto_DataType_FLOAT);
  const std::string bn = g.add_initializer(prefix + "_bit_width", torch::tensor(float(q.bit_width)),
                                           onnx::TensorProto_DataType_FLOAT);
  onnx::NodeProto* n = g.add_node("Quant", {x, sn, zn, bn}, {out}, prefix + "/quant", kQonnxDomain);
  GraphBuilder::attr(n, "signed", int64_t{q.is_signed ? 1 : 0});
  GraphBuilder::attr(n, "narrow", int64_t{q.narrow_range ? 1 : 0});
  GraphBuilder::attr(n, "rounding_mode", std::string("ROUND"));
  return out;
}

}  // namespace

std::string qonnx_model_bytes(const ExportPlan& plan) {
  GraphBuilder g("qnn_qonnx", {{"", 13}, {kQonnxDomain, 1}});
  std::map<std::string, std::string> value{{plan.input_id, "input"}};
  // The FINN target: the FINN DataType of every quantized tensor, as QONNX's
  // InferDataTypes would set it, and of the network input: FLOAT32, since the input is
  // the preprocessed (normalised) image, not integers; its first Quant makes it
  // integer. (Annotating it UINT8/INT8 would make FINN's RoundAndClipThresholds round
  // the thresholds of that Quant to integers and change the network.)
  const bool finn = plan.project.deployment_target == DeploymentTarget::Finn;
  if (finn) annotate_datatype(g, "input", "FLOAT32");
  for (const PlanNode& n : plan.nodes) {
    const std::string x = value.at(n.input);
    std::string out;
    if (n.op == PlanOp::Conv || n.op == PlanOp::Linear) {
      std::string w = g.add_initializer(n.id + ".weight", n.weight, onnx::TensorProto_DataType_FLOAT), b;
      if (n.weight_q) {
        std::vector<int64_t> shape(size_t(n.weight.dim()), 1);
        shape[0] = n.weight.size(0);
        w = quant(g, n.id + ".weight", w, *n.weight_q, shape, n.id + "/weight", finn);
      }
      if (n.bias.defined()) {
        b = g.add_initializer(n.id + ".bias", n.bias, onnx::TensorProto_DataType_FLOAT);
        if (n.bias_q) b = quant(g, n.id + ".bias", b, *n.bias_q, {n.bias.size(0)}, n.id + "/bias", finn);
      }
      out = onnx_graph::emit_float_op(g, n, x, w, b, n.id);
    } else if (n.op == PlanOp::Act) {
      if (n.act_q) {
        // FINN's QuantIdentityHandler takes a BipolarQuant only at a per-tensor scale of 1
        // (Brevitas keeps binary activation scales constant; here they are learned).
        if (finn && n.act_q->bit_width == 1 && !finn_quant_follows_relu(plan.project, n.id) &&
            !torch::all(n.act_q->scale == 1.0).item<bool>()) {
          std::ostringstream scale;
          scale << n.act_q->scale.reshape({-1})[0].item<float>();
          throw ExportError(n.id + ": FINN converts a binary activation quantizer that does not follow a ReLU "
                            "only at scale 1 (a BipolarQuant identity), but act_quant's learned scale is " +
                            scale.str() + "; export QONNX without the FINN target, or quantize this activation "
                            "with 2 or more bits");
        }
        const std::string pre = onnx_graph::emit_float_op(g, n, x, "", "", n.id + "/pre");
        out = quant(g, n.id + ".act", pre, *n.act_q, {}, n.id, finn);
      } else {
        out = onnx_graph::emit_float_op(g, n, x, "", "", n.id);
      }
    } else if (n.op == PlanOp::Add) {
      std::string a = x, b = value.at(n.input2);
      if (n.input_q) {
        a = quant(g, n.id + ".input0", a, *n.input_q, {}, n.id + "/input0", finn);
        b = quant(g, n.id + ".input1", b, *n.input_q, {}, n.id + "/input1", finn);
      }
      const std::string sum = onnx_graph::emit_float_op(g, n, a, b, "", n.act_q ? n.id + "/sum" : n.id);
      out = n.act_q ? quant(g, n.id + ".act", sum, *n.act_q, {}, n.id, finn) : sum;
    } else if (n.op == PlanOp::AvgPool && n.in_quant && n.out_quant) {
      const std::string pooled = onnx_graph::emit_float_op(g, n, x, "", "", n.id + "/avg");
      const torch::Tensor s = n.out_scale.reshape({-1})[0].clone();
      const std::string sn = g.add_initializer(n.id + ".trunc_scale", s, onnx::TensorProto_DataType_FLOAT);
      const std::string zn = g.add_initializer(n.id + ".trunc_zero_point", torch::tensor(0.0f),
                                               onnx::TensorProto_DataType_FLOAT);
      const std::string bn = g.add_initializer(n.id + ".trunc_bit_width", torch::tensor(float(n.out_bit_width)),
                                               onnx::TensorProto_DataType_FLOAT);
      // The same 6-input Trunc form as TruncPool below (input and output on one grid,
      // no bits dropped: the window mean is already exact on scale / (kh kw)).
      onnx::NodeProto* t =
          g.add_node("Trunc", {pooled, sn, zn, bn, sn, bn}, {n.id}, n.id + "/trunc", kQonnxDomain);
      GraphBuilder::attr(t, "rounding_mode", std::string("ROUND"));
      GraphBuilder::attr(t, "signed", int64_t{n.out_signed ? 1 : 0});
      GraphBuilder::attr(t, "narrow", int64_t{0});
      if (finn) annotate_datatype(g, n.id, trunc_datatype(s, n.out_signed, int(n.out_bit_width)));
      out = n.id;
    } else if (n.op == PlanOp::TruncPool) {
      // As Brevitas 0.12.1 exports a truncating pool: the window mean (AveragePool), then
      // Trunc(x, scale s/n, zero point, input bit width, output scale, output bit width)
      // with rounding_mode ROUND / FLOOR and the output's signedness (qonnx Trunc, opset 2 form).
      const auto f32 = onnx::TensorProto_DataType_FLOAT;
      const std::string mean = onnx_graph::emit_float_op(g, n, x, "", "", n.id + "/mean");
      const std::string sn = g.add_initializer(n.id + ".acc_scale", n.acc_scale, f32);
      const std::string zn = g.add_initializer(n.id + ".acc_zero_point", n.input_q->zero_point, f32);
      const std::string ib = g.add_initializer(n.id + ".acc_bit_width", torch::tensor(float(n.acc_bit_width)), f32);
      const std::string os = g.add_initializer(n.id + ".trunc_out_scale", n.act_q->scale, f32);
      const std::string ob = g.add_initializer(n.id + ".trunc_out_bit_width", torch::tensor(float(n.act_q->bit_width)), f32);
      onnx::NodeProto* t = g.add_node("Trunc", {mean, sn, zn, ib, os, ob}, {n.id}, n.id + "/trunc", kQonnxDomain);
      GraphBuilder::attr(t, "rounding_mode", std::string(n.trunc_floor ? "FLOOR" : "ROUND"));
      GraphBuilder::attr(t, "signed", int64_t{n.act_q->is_signed ? 1 : 0});
      GraphBuilder::attr(t, "narrow", int64_t{0});
      if (finn) annotate_datatype(g, n.id, trunc_datatype(n.act_q->scale, n.act_q->is_signed, n.act_q->bit_width));
      out = n.id;
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
  return g.finish(metadata, /*strict_shapes=*/false);
}

}  // namespace qnn
