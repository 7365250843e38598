// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/export/onnx_graph.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include "core/errors.h"

namespace qnn::onnx_graph {

GraphBuilder::GraphBuilder(const std::string& graph_name,
                           const std::vector<std::pair<std::string, int64_t>>& opsets) {
  m_model.set_ir_version(7);  // ONNX 1.8+: opset 13
  m_model.set_producer_name("QNN Studio");
#ifdef QNN_VERSION
  m_model.set_producer_version(QNN_VERSION);
#endif
  for (const auto& [domain, version] : opsets) {
    onnx::OperatorSetIdProto* o = m_model.add_opset_import();
    o->set_domain(domain);
    o->set_version(version);
  }
  m_graph = m_model.mutable_graph();
  m_graph->set_name(graph_name);
}

const std::string& GraphBuilder::add_initializer(const std::string& name, const torch::Tensor& t,
                                                 onnx::TensorProto_DataType type) {
  onnx::TensorProto* p = m_graph->add_initializer();
  p->set_name(name);
  p->set_data_type(type);
  for (int64_t d : t.sizes()) p->add_dims(d);
  torch::Tensor c = t.detach().contiguous();
  auto check_range = [&](double lo, double hi) {
    if (c.numel() == 0) return;
    const double mn = c.min().item<double>(), mx = c.max().item<double>();
    if (mn < lo || mx > hi)
      throw ExportError("tensor " + name + " holds values in [" + std::to_string(mn) + ", " + std::to_string(mx) +
                        "], outside its storage type's range");
  };
  switch (type) {
    case onnx::TensorProto_DataType_FLOAT: c = c.to(torch::kFloat32).contiguous(); break;
    case onnx::TensorProto_DataType_INT8: check_range(-128, 127); c = c.to(torch::kInt8).contiguous(); break;
    case onnx::TensorProto_DataType_UINT8: check_range(0, 255); c = c.to(torch::kUInt8).contiguous(); break;
    case onnx::TensorProto_DataType_INT32:
      check_range(-2147483648.0, 2147483647.0);
      c = c.to(torch::kInt32).contiguous();
      break;
    default: throw ExportError("internal: unsupported initializer type for " + name);
  }
  // raw_data is little-endian, as on every platform LibTorch runs on here.
  p->set_raw_data(std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size()));
  return p->name();
}

onnx::NodeProto* GraphBuilder::add_node(const std::string& op, const std::vector<std::string>& inputs,
                                        const std::vector<std::string>& outputs, const std::string& name,
                                        const std::string& domain) {
  onnx::NodeProto* n = m_graph->add_node();
  n->set_op_type(op);
  n->set_name(name);
  if (!domain.empty()) n->set_domain(domain);
  for (const std::string& i : inputs) n->add_input(i);
  for (const std::string& o : outputs) n->add_output(o);
  return n;
}

namespace {
void set_value_info(onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& dims) {
  v->set_name(name);
  onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  onnx::TensorShapeProto* s = t->mutable_shape();
  for (int64_t d : dims) {
    onnx::TensorShapeProto_Dimension* dim = s->add_dim();
    if (d < 0)
      dim->set_dim_param("batch");
    else
      dim->set_dim_value(d);
  }
}
}  // namespace

void GraphBuilder::add_input(const std::string& name, const std::vector<int64_t>& dims) {
  set_value_info(m_graph->add_input(), name, dims);
}

void GraphBuilder::add_output(const std::string& name, const std::vector<int64_t>& dims) {
  set_value_info(m_graph->add_output(), name, dims);
}

void GraphBuilder::attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(v);
}

void GraphBuilder::attr(onnx::NodeProto* n, const std::string& name, float v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
  a->set_f(v);
}

void GraphBuilder::attr(onnx::NodeProto* n, const std::string& name, const std::string& v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_STRING);
  a->set_s(v);
}

void GraphBuilder::attr(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (int64_t x : v) a->add_ints(x);
}

std::string GraphBuilder::finish(const std::vector<std::pair<std::string, std::string>>& metadata,
                                 bool strict_shapes) {
  for (const auto& [k, v] : metadata) {
    onnx::StringStringEntryProto* e = m_model.add_metadata_props();
    e->set_key(k);
    e->set_value(v);
  }
  try {
    onnx::checker::check_model(m_model);
    if (strict_shapes) {
      onnx::ModelProto copy = m_model;
      onnx::ShapeInferenceOptions options(/*check_type=*/true, /*strict_mode=*/1);
      onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(), options);
    }
  } catch (const std::exception& e) {
    throw ExportError(std::string("the exported graph fails the ONNX checker: ") + e.what());
  }
  std::string bytes;
  if (!m_model.SerializeToString(&bytes)) throw ExportError("cannot serialise the ONNX model");
  return bytes;
}

onnx::TensorProto_DataType code_type(bool is_signed) {
  return is_signed ? onnx::TensorProto_DataType_INT8 : onnx::TensorProto_DataType_UINT8;
}

}  // namespace qnn::onnx_graph

namespace qnn::onnx_graph {

std::string emit_float_op(GraphBuilder& g, const PlanNode& n, const std::string& x, const std::string& w,
                          const std::string& b, const std::string& out) {
  switch (n.op) {
    case PlanOp::Conv: {
      std::vector<std::string> in{x, w};
      if (!b.empty()) in.push_back(b);
      onnx::NodeProto* c = g.add_node("Conv", in, {out}, n.id);
      // One entry per spatial axis (1: Conv1d, 2: [h, w]); ONNX pads are all begins, then all ends.
      std::vector<int64_t> pads = n.padding;
      pads.insert(pads.end(), n.padding.begin(), n.padding.end());
      GraphBuilder::attr(c, "kernel_shape", n.kernel);
      GraphBuilder::attr(c, "strides", n.stride);
      GraphBuilder::attr(c, "pads", pads);
      GraphBuilder::attr(c, "dilations", n.dilation);
      GraphBuilder::attr(c, "group", n.groups);
      return out;
    }
    case PlanOp::Linear: {
      std::vector<std::string> in{x, w};
      if (!b.empty()) in.push_back(b);
      onnx::NodeProto* m = g.add_node("Gemm", in, {out}, n.id);
      GraphBuilder::attr(m, "transB", int64_t{1});
      return out;
    }
    case PlanOp::MaxPool:
    case PlanOp::AvgPool:
    case PlanOp::TruncPool: {  // TruncPool: the window mean the truncation starts from
      onnx::NodeProto* p = g.add_node(n.op == PlanOp::MaxPool ? "MaxPool" : "AveragePool", {x}, {out}, n.id);
      GraphBuilder::attr(p, "kernel_shape", n.kernel);
      GraphBuilder::attr(p, "strides", n.stride);
      return out;
    }
    case PlanOp::Concat:  // needs every port's value: emit_concat
      throw ExportError(n.id + ": internal: Concat goes through emit_concat");
    case PlanOp::Upsample: {  // PyTorch nearest for an integer factor (opset 13 Resize)
      std::vector<int64_t> dims(size_t(n.in_dims), 1);
      std::vector<float> factors(size_t(n.in_dims), 1.0f);
      for (size_t d = 2; d < factors.size(); ++d) factors[d] = float(n.factor);
      const std::string scales = g.add_initializer(n.id + ".scales", torch::tensor(factors),
                                                   onnx::TensorProto_DataType_FLOAT);
      onnx::NodeProto* r = g.add_node("Resize", {x, "", scales}, {out}, n.id + "/resize");
      GraphBuilder::attr(r, "mode", std::string("nearest"));
      GraphBuilder::attr(r, "nearest_mode", std::string("floor"));
      GraphBuilder::attr(r, "coordinate_transformation_mode", std::string("asymmetric"));
      return out;
    }
    case PlanOp::DepthToSpace: {  // torch pixel_shuffle = DepthToSpace CRD
      onnx::NodeProto* d = g.add_node("DepthToSpace", {x}, {out}, n.id + "/d2s");
      GraphBuilder::attr(d, "blocksize", n.factor);
      GraphBuilder::attr(d, "mode", std::string("CRD"));
      return out;
    }
    case PlanOp::Flatten: {
      onnx::NodeProto* f = g.add_node("Flatten", {x}, {out}, n.id);
      GraphBuilder::attr(f, "axis", int64_t{1});
      return out;
    }
    case PlanOp::BatchNorm: {  // inference form (training_mode 0)
      const auto f32 = onnx::TensorProto_DataType_FLOAT;
      const std::string scale = g.add_initializer(n.id + ".weight", n.weight, f32);
      const std::string shift = g.add_initializer(n.id + ".bias", n.bias, f32);
      const std::string mean = g.add_initializer(n.id + ".running_mean", n.running_mean, f32);
      const std::string var = g.add_initializer(n.id + ".running_var", n.running_var, f32);
      onnx::NodeProto* b = g.add_node("BatchNormalization", {x, scale, shift, mean, var}, {out}, n.id);
      GraphBuilder::attr(b, "epsilon", static_cast<float>(n.eps));
      return out;
    }
    case PlanOp::Add: {  // x + w, where `w` names the value of port 1
      g.add_node("Add", {x, w}, {out}, n.id + "/add");
      return out;
    }
    case PlanOp::Act:
      if (n.act_function == ActFunction::ReLU) {
        g.add_node("Relu", {x}, {out}, n.id + "/relu");
        return out;
      }
      if (n.act_function == ActFunction::HardTanh) {
        const std::string lo = g.add_initializer(n.id + ".min_val", torch::tensor(float(n.min_val)),
                                                 onnx::TensorProto_DataType_FLOAT);
        const std::string hi = g.add_initializer(n.id + ".max_val", torch::tensor(float(n.max_val)),
                                                 onnx::TensorProto_DataType_FLOAT);
        g.add_node("Clip", {x, lo, hi}, {out}, n.id + "/hardtanh");
        return out;
      }
      if (n.act_function == ActFunction::Tanh || n.act_function == ActFunction::Sigmoid) {
        const bool tanh = n.act_function == ActFunction::Tanh;
        g.add_node(tanh ? "Tanh" : "Sigmoid", {x}, {out}, n.id + (tanh ? "/tanh" : "/sigmoid"));
        return out;
      }
      return x;
  }
  return x;
}

std::string emit_concat(GraphBuilder& g, const PlanNode& n, const std::vector<std::string>& values,
                        const std::string& out) {
  onnx::NodeProto* c = g.add_node("Concat", values, {out}, n.id + "/concat");
  GraphBuilder::attr(c, "axis", int64_t{1});
  return out;
}

std::vector<std::pair<std::string, std::string>> finish_io(GraphBuilder& g, const ExportPlan& plan,
                                                           const std::string& last) {
  std::vector<int64_t> in_dims{-1};
  in_dims.insert(in_dims.end(), plan.input_shape.begin(), plan.input_shape.end());
  g.add_input("input", in_dims);
  g.add_node("Identity", {last}, {"logits"}, "output");
  g.add_output("logits", {-1, plan.classes});
  return {{"qnn.preprocessing", preprocessing_json(plan.project)}, {"qnn.project", plan.project.name}};
}

}  // namespace qnn::onnx_graph
