// SPDX-License-Identifier: GPL-3.0-or-later
// Internal helper of the ONNX exporters (QCDQ, QONNX): builds a ModelProto with the
// ONNX protobuf library, checks it with onnx::checker and serialises it.
// Only core/export/*.cpp include this header (it pulls in the ONNX protobuf headers).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

// The Debian ONNX CMake package sets these as usage requirements; they are defined
// here instead so the rest of qnn_core keeps its precompiled header.
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include "core/export/export_plan.h"

namespace qnn::onnx_graph {

/// Accumulates one graph. Value names are free-form strings; initializers are
/// named after the layer that owns them ("conv1.weight_codes").
class GraphBuilder {
 public:
  /// opsets: (domain, version) pairs; "" is the default ONNX domain.
  GraphBuilder(const std::string& graph_name, const std::vector<std::pair<std::string, int64_t>>& opsets);

  /// Adds an initializer holding `t` converted to `type` (FLOAT, INT8, UINT8, INT32).
  /// Throws ExportError when a value does not fit the type (names the tensor).
  const std::string& add_initializer(const std::string& name, const torch::Tensor& t,
                                     onnx::TensorProto_DataType type);
  /// A node; returns it for attributes. Its name is `name` (shown by Netron).
  onnx::NodeProto* add_node(const std::string& op, const std::vector<std::string>& inputs,
                            const std::vector<std::string>& outputs, const std::string& name,
                            const std::string& domain = "");
  /// Graph input/output: float tensors; a dim of -1 becomes the symbolic "batch".
  void add_input(const std::string& name, const std::vector<int64_t>& dims);
  void add_output(const std::string& name, const std::vector<int64_t>& dims);

  static void attr(onnx::NodeProto* n, const std::string& name, int64_t v);
  static void attr(onnx::NodeProto* n, const std::string& name, float v);
  static void attr(onnx::NodeProto* n, const std::string& name, const std::string& v);
  static void attr(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v);

  /// Adds metadata_props, runs onnx::checker::check_model (and strict shape
  /// inference when `strict_shapes`) and returns the serialised model.
  /// Throws ExportError with the checker's message (nothing is written).
  std::string finish(const std::vector<std::pair<std::string, std::string>>& metadata, bool strict_shapes);

  onnx::ModelProto& model() { return m_model; }

 private:
  onnx::ModelProto m_model;
  onnx::GraphProto* m_graph = nullptr;
};

/// Emits the float part of a plan node: Conv (weight `w`, bias `b` or ""; 1-D or 2-D), Gemm
/// with transB = 1 (Linear), MaxPool, AveragePool (also the window mean of a TruncPool),
/// Flatten(axis 1), Resize nearest (Upsample), DepthToSpace CRD, or the function of an
/// activation before its quantizer (Relu, Clip(min, max), Tanh, Sigmoid, nothing for identity),
/// BatchNormalization (inference form, the node's running statistics) or Add (`w` is
/// then the value name of port 1).
/// `x` is the input value name; returns the output value name (`x` when nothing is emitted).
std::string emit_float_op(GraphBuilder& g, const PlanNode& n, const std::string& x, const std::string& w,
                          const std::string& b, const std::string& out);

/// Concat along axis 1 of `values` (one per port of `n`, in port order).
std::string emit_concat(GraphBuilder& g, const PlanNode& n, const std::vector<std::string>& values,
                        const std::string& out);

/// Adds the graph input "input" [batch, C, H, W], the output "logits" [batch, classes]
/// fed by an Identity from `last`, and returns the metadata list with
/// "qnn.preprocessing" and "qnn.project" (the project name).
std::vector<std::pair<std::string, std::string>> finish_io(GraphBuilder& g, const ExportPlan& plan,
                                                           const std::string& last);

/// TensorProto element type of integer codes: INT8 when signed, UINT8 otherwise.
onnx::TensorProto_DataType code_type(bool is_signed);

}  // namespace qnn::onnx_graph
