// SPDX-License-Identifier: GPL-3.0-or-later
// Internal header of the ONNX import (core/io/onnx_import.h): what its three sources
// share. Only core/io/onnx_import*.cpp include it (it pulls in the ONNX protobuf headers).
//  - onnx_import.cpp: reading and checking the file, the graph walk (Importer::run),
//    initializers and Constant tensors, affine chains kept as BatchNorm, the dataset,
//    build_imported_model().
//  - onnx_import_quant.cpp: QONNX Quant / BipolarQuant / Trunc, QCDQ QuantizeLinear /
//    DequantizeLinear, and the quantizer specs (weight, activation, bias) made from them.
//  - onnx_import_ops.cpp: the per-node dispatch (Importer::node) and the layer builders
//    of the float ops (Conv, Gemm, MatMul, pools, BatchNormalization, Flatten, ...).
// Every error is a DataError naming the file and the node (Importer::fail).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

// As core/export/onnx_graph.h: the ONNX usage requirements, defined here so qnn_core
// keeps its precompiled header.
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "core/io/onnx_import.h"
#include "core/layers/layer_descriptor.h"
#include "core/quant/quantizers.h"

namespace qnn::onnx_import_detail {

constexpr double kMinScale = 1e-10;  // Brevitas scaling_min_val: no division by a zero scale

// A quantizer met in the file: on a constant (weight, bias) or a runtime value.
struct QuantInfo {
  torch::Tensor scale, zero_point;  // float32, as given (broadcastable to the tensor)
  int bit_width = 8;
  bool is_signed = true, narrow = false, binary = false;
  std::string node;                 // the Quant / DequantizeLinear node
};

// What an ONNX value is while we walk the graph.
struct Value {
  enum Kind { Const, Runtime, Shape, Affine, QuantizeLinear } kind = Const;
  torch::Tensor t;                   // Const: the float tensor (before its quantizer)
  std::optional<QuantInfo> q;        // Const: its quantizer; QuantizeLinear: scale, zero point, bounds
  std::string layer;                 // Runtime / Affine / QuantizeLinear: the layer producing the source
  torch::Tensor a, b;                // Affine: y = a * x + b, [C] each
  std::vector<std::string> nodes;    // Affine: the nodes folded into it
  int64_t clip_lo = 0, clip_hi = 0;  // QuantizeLinear: integer bounds
  bool qtype_signed = true;          // QuantizeLinear: INT8 (else UINT8)
};

/// `v` as "<<" prints it (6 significant digits), for messages ("bit width 2.5 ...").
/// (onnx_import.cpp)
std::string number_text(double v);

/// The layer id of node `n`: the first non-empty component of its name, sanitised to
/// [A-Za-z_][A-Za-z0-9_]* ("conv1/quant" -> conv1, "/features/Conv" -> features,
/// "conv1.weight" -> conv1); a node without a name is "<op_type>_<index>". Not yet made
/// unique (Importer::new_id does that). Never throws. (onnx_import.cpp)
std::string id_from_node(const onnx::NodeProto& n, int index);

/// A quantizer of a matrix whose rows and columns are swapped: its per-axis scale and
/// zero point (numel > 1) move to the other axis; per-tensor ones stay. (onnx_import_quant.cpp)
void transpose_quant(QuantInfo& q);

/// The learned `value` shape of a weight quantizer from a file scale broadcastable to the
/// weight `w` [C_out, ...]: a scalar [] for one scale, [C_out] for a scale along axis 0.
/// Any other broadcast axis (per input channel, per element, more than one axis) returns
/// an undefined tensor and sets `error` to a phrase naming it ("a scale varying along
/// more than one axis"); never throws. (onnx_import_quant.cpp)
torch::Tensor channel_scale(const torch::Tensor& scale, const torch::Tensor& w, std::string& error);

/// Maps one ONNX model: walks its nodes in file order, turning each ONNX value into a
/// Value and each mapped node into layers of m_project (with their tensors in m_tensors).
/// One Importer per model; run() once.
class Importer {
 public:
  Importer(const onnx::ModelProto& model, std::string source) : m_model(model), m_source(std::move(source)) {}

  /// The walk (onnx_import.cpp). Throws DataError naming the file (and the node) for a
  /// graph import cannot read: several or no inputs/outputs, a dynamic non-batch input
  /// dimension, an output not computed from the input, any node error below.
  ImportedModel run();

 private:
  // ---- shared helpers (inline)
  /// Throws DataError "<file>: node '<name>' (<op>): <what>".
  [[noreturn]] void fail(const onnx::NodeProto& n, const std::string& what) const {
    throw DataError(m_source + ": node '" + n.name() + "' (" + n.op_type() + "): " + what);
  }
  /// The tensor of an initializer or Constant as a torch tensor of its own dtype (double
  /// becomes float32). Throws DataError for external data, negative or overflowing
  /// dimensions, a data size that does not match the shape, an unread data type.
  /// (onnx_import.cpp)
  torch::Tensor tensor_of(const onnx::TensorProto& t) const;
  /// The Value of an ONNX value name; null when no earlier node produced it.
  const Value* value(const std::string& name) const {
    auto it = m_values.find(name);
    return it == m_values.end() ? nullptr : &it->second;
  }
  /// Input i of node n; fails when it is missing or produced by no earlier node.
  const Value& input(const onnx::NodeProto& n, int i) const {
    if (i >= n.input_size() || n.input(i).empty()) fail(n, "input " + std::to_string(i) + " is missing");
    const Value* v = value(n.input(i));
    if (!v) fail(n, "input '" + n.input(i) + "' is produced by no earlier node (the graph is not in topological order)");
    return *v;
  }
  /// Input i of node n as an unquantized constant; fails "<what> must be a constant tensor".
  const torch::Tensor& const_input(const onnx::NodeProto& n, int i, const char* what) const {
    const Value& v = input(n, i);
    if (v.kind != Value::Const || v.q) fail(n, std::string(what) + " must be a constant tensor");
    return v.t;
  }
  // Attributes of a node; the fallback when absent.
  static const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  static int64_t int_attr(const onnx::NodeProto& n, const std::string& name, int64_t fallback) {
    const auto* a = attr(n, name);
    return a ? a->i() : fallback;
  }
  static double float_attr(const onnx::NodeProto& n, const std::string& name, double fallback) {
    const auto* a = attr(n, name);
    return a ? a->f() : fallback;
  }
  static std::string str_attr(const onnx::NodeProto& n, const std::string& name, const std::string& fallback) {
    const auto* a = attr(n, name);
    return a ? a->s() : fallback;
  }
  static std::vector<int64_t> ints_attr(const onnx::NodeProto& n, const std::string& name) {
    const auto* a = attr(n, name);
    return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
  }

  /// `base`, or base_2, base_3, ... when taken; reserves it.
  std::string new_id(const std::string& base) {
    std::string id = base;
    for (int k = 2; m_ids.count(id); ++k) id = base + "_" + std::to_string(k);
    m_ids.insert(id);
    return id;
  }
  /// Appends a layer of `type` (id from new_id(base)) reading `inputs`; shapes are stale.
  LayerSpec& add_layer(LayerType type, const std::string& base, std::vector<std::string> inputs) {
    LayerSpec l;
    l.id = new_id(base);
    l.type = type;
    l.inputs = std::move(inputs);
    m_project.layers.push_back(std::move(l));
    m_shapes_valid = false;
    return m_project.layers.back();
  }
  LayerSpec& layer(const std::string& id) { return *m_project.find(id); }
  /// Inferred output shape of a layer (without batch), from the validator; {} when unknown.
  /// (onnx_import.cpp)
  std::vector<int64_t> shape_of(const std::string& id);
  /// The layer holding input i of node n as a runtime value (an affine chain becomes a
  /// BatchNorm layer here); "" below an unsupported node. Fails when the input is a
  /// constant, a shape or a QuantizeLinear output. (onnx_import.cpp)
  std::string runtime_layer(const onnx::NodeProto& n, int i);
  /// Turns the affine chain `v` (value `name`) into a frozen BatchNorm1d/2d layer, noted
  /// in the report; returns its id. (onnx_import.cpp)
  std::string materialize(const std::string& name, const Value& v);
  /// Output 0 of n is the runtime output of layer `layer_id`.
  void set_runtime(const onnx::NodeProto& n, const std::string& layer_id) {
    Value v;
    v.kind = Value::Runtime;
    v.layer = layer_id;
    m_values[n.output(0)] = v;
  }
  /// Records n in report.unsupported ("not supported: <op> at node <name> (<why>)").
  void unsupported(const onnx::NodeProto& n, const std::string& why) {
    m_report.unsupported.push_back("not supported: " + n.op_type() + " at node " + n.name() +
                                   (why.empty() ? "" : " (" + why + ")"));
  }

  // ---- quantizers (onnx_import_quant.cpp)
  /// The quantizer of a QONNX Quant (or BipolarQuant: 1 bit, binary) node. Fails when the
  /// scale, zero point or bit width is not a constant, the scale is not finite or
  /// negative, the bit width is outside 1..32 or not whole, the zero point is not whole
  /// or of another length than the scale, rounding_mode is not ROUND.
  QuantInfo quant_info(const onnx::NodeProto& n, bool bipolar);
  /// The weight quantizer spec of q (ParameterScaling; per channel when q has several
  /// scales). Fails for a nonzero zero point, a bit width outside 2..16, a scale whose
  /// threshold is no finite float32, or a spec QuantSpec::validate refuses.
  QuantSpec weight_spec(const QuantInfo& q, const onnx::NodeProto& n);
  /// The activation quantizer spec of q (per tensor; shifted uint for a nonzero zero
  /// point). Fails for several scales, a zero scale, a signed quantizer with a zero
  /// point, a bit width outside 2..16, a threshold that is no finite float32.
  QuantSpec act_spec(const QuantInfo& q, const onnx::NodeProto& n);
  /// Quantizes the output of layer `src` by q (node n): a single-consumer ReLU / Tanh /
  /// Sigmoid / Identity becomes its Quant twin, else a QuantIdentity is added; output 0
  /// of n is that layer. Fails as act_spec.
  void act_quant(const onnx::NodeProto& n, const std::string& src, const QuantInfo& q, int index);
  /// Sets layer l's bias from the constant `bias` (dequantized codes when quantized;
  /// Int8/16/32Bias when standard, else a float bias and a note).
  void bias_into(LayerSpec& l, const Value& bias);
  /// A node of a QONNX domain: Quant / BipolarQuant (weight or activation quantizer),
  /// Trunc after an average pool; any other op is reported unsupported.
  void qonnx_node(const onnx::NodeProto& n, int index);
  /// QCDQ DequantizeLinear: of integer weight / bias codes (a quantized constant) or of a
  /// QuantizeLinear output (an activation quantizer). Fails for codes that are not
  /// INT8/UINT8/INT32, bounds that are no bit width's grid, a bad axis or scale count.
  void dequantize_linear(const onnx::NodeProto& n, int index);
  /// QCDQ QuantizeLinear of a runtime value (its scale, zero point and type bounds, for
  /// the Clip / DequantizeLinear after it). Fails on a constant input.
  void quantize_linear(const onnx::NodeProto& n);

  // ---- layers (onnx_import_ops.cpp)
  /// Maps node n (the index-th of the graph): a layer, a constant, a quantizer, or an
  /// entry in report.unsupported. Fails for an unknown custom domain, malformed
  /// attributes or constants (see import_onnx in onnx_import.h).
  void node(const onnx::NodeProto& n, int index);
  /// Conv (conv) / Gemm / MatMul on runtime input layer x with the constant (possibly
  /// quantized) weight w_in (transposed first when transpose_w) and optional bias.
  /// Fails for NaN/Inf weights or bias, a weight of the wrong rank, bad attributes.
  void weight_layer(const onnx::NodeProto& n, int index, const std::string& x, const Value& w, bool transpose_w,
                    const Value* bias, bool conv);
  /// Add / Sub / Mul / Div (op): folds constants, extends an affine chain per channel,
  /// or adds an Add layer of two runtime values; anything else is unsupported.
  void affine(const onnx::NodeProto& n, const std::string& op, int index);

  // ---- dataset (onnx_import.cpp)
  /// The project's dataset from the input shape `sample` and the qnn.preprocessing
  /// metadata (may be empty or unreadable: a note says so).
  void set_dataset(const std::vector<int64_t>& sample, const std::string& preprocessing);
  /// How many nodes (and graph outputs) read the value.
  int consumers(const std::string& value_name) const {
    auto it = m_consumers.find(value_name);
    return it == m_consumers.end() ? 0 : it->second;
  }

  const onnx::ModelProto& m_model;
  std::string m_source;
  Project m_project;
  ImportReport m_report;
  std::map<std::string, Value> m_values;
  std::map<std::string, int> m_consumers;
  std::map<std::string, std::string> m_layer_output;  // layer id -> the ONNX value it produced last
  std::map<std::string, torch::Tensor> m_tensors;
  std::vector<inspect::WeightStats> m_weights;
  std::set<std::string> m_ids;
  std::map<std::string, std::vector<int64_t>> m_shapes;
  bool m_shapes_valid = false;
  bool m_qonnx = false, m_qcdq = false;
};

}  // namespace qnn::onnx_import_detail
