// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/io/onnx_import.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <fstream>
#include <iomanip>
#include <locale>
#include <optional>
#include <set>
#include <sstream>

// As core/export/onnx_graph.h: the ONNX usage requirements, defined here so qnn_core
// keeps its precompiled header.
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#include <onnx/onnx_pb.h>

#include <nlohmann/json.hpp>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/graph_layout.h"
#include "core/layers/layer_descriptor.h"
#include "core/quant/quantizers.h"

namespace qnn {

std::string ImportReport::text() const {
  std::string out;
  for (const std::string& u : unsupported) out += u + "\n";
  for (const std::string& n : notes) out += n + "\n";
  return out;
}

namespace {

const std::set<std::string> kQonnxDomains{"qonnx.custom_op.general", "onnx.brevitas", "finn.custom_op.general"};
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

// The integer grid of a QCDQ Clip [lo, hi] (quantization.md section 1): signed when
// lo < 0; the bit width and narrow range whose [min_int, max_int] equal the bounds
// exactly. False when the bounds are no such grid.
bool grid_from_bounds(double lo, double hi, int& bits, bool& is_signed, bool& narrow) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo != std::floor(lo) || hi != std::floor(hi) || hi < 1) return false;
  is_signed = lo < 0;
  for (int b = 1; b <= 32; ++b)
    for (bool n : {false, true}) {
      if (b == 1 && n) continue;
      const IntRange r = int_range(b, is_signed, n);
      if (double(r.min_int) == lo && double(r.max_int) == hi) {
        bits = b;
        narrow = n;
        return true;
      }
    }
  return false;
}

// A float32 attribute as the decimal it was most likely written as: rounded to 7
// significant digits (1e-5f is 9.99999974e-06 in double, 0.99f 0.99000001).
// Locale-independent (the GUI runs under the user's locale).
double float_value(double v) {
  std::ostringstream s;
  s.imbue(std::locale::classic());
  s << std::setprecision(7) << v;
  std::istringstream in(s.str());
  in.imbue(std::locale::classic());
  double out = v;
  in >> out;
  return out;
}

std::string number_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  while (!out.empty() && out.front() == '_') out.erase(out.begin());
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "n" + out;
  return out;
}

// The first non-empty component of a node name: "conv1/quant" -> conv1,
// "/features/Conv" -> features; "" names a node by its op and index.
std::string id_from_node(const onnx::NodeProto& n, int index) {
  std::string name = n.name();
  size_t start = name.find_first_not_of('/');
  if (start == std::string::npos) return sanitize(n.op_type() + "_" + std::to_string(index));
  name = name.substr(start);
  const size_t slash = name.find('/');
  if (slash != std::string::npos) name = name.substr(0, slash);
  // PyTorch's own "/layer1/conv/Conv" style keeps only "layer1"; a weight path
  // "conv1.weight" is not a layer: strip a trailing parameter name.
  for (const char* suffix : {".weight", ".bias", ".act", ".input0", ".input1"})
    if (name.size() > std::strlen(suffix) && name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
      name = name.substr(0, name.size() - std::strlen(suffix));
  return sanitize(name);
}

class Importer {
 public:
  Importer(const onnx::ModelProto& model, std::string source) : m_model(model), m_source(std::move(source)) {}

  ImportedModel run();

 private:
  [[noreturn]] void fail(const onnx::NodeProto& n, const std::string& what) const {
    throw DataError(m_source + ": node '" + n.name() + "' (" + n.op_type() + "): " + what);
  }
  torch::Tensor tensor_of(const onnx::TensorProto& t) const;
  const Value* value(const std::string& name) const {
    auto it = m_values.find(name);
    return it == m_values.end() ? nullptr : &it->second;
  }
  const Value& input(const onnx::NodeProto& n, int i) const {
    if (i >= n.input_size() || n.input(i).empty()) fail(n, "input " + std::to_string(i) + " is missing");
    const Value* v = value(n.input(i));
    if (!v) fail(n, "input '" + n.input(i) + "' is produced by no earlier node (the graph is not in topological order)");
    return *v;
  }
  const torch::Tensor& const_input(const onnx::NodeProto& n, int i, const char* what) const {
    const Value& v = input(n, i);
    if (v.kind != Value::Const || v.q) fail(n, std::string(what) + " must be a constant tensor");
    return v.t;
  }
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

  std::string new_id(const std::string& base) {
    std::string id = base;
    for (int k = 2; m_ids.count(id); ++k) id = base + "_" + std::to_string(k);
    m_ids.insert(id);
    return id;
  }
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
  // Inferred output shape of a layer (without batch), from the validator.
  std::vector<int64_t> shape_of(const std::string& id);
  std::string runtime_layer(const onnx::NodeProto& n, int i);
  std::string materialize(const std::string& name, const Value& v);
  void set_runtime(const onnx::NodeProto& n, const std::string& layer_id) {
    Value v;
    v.kind = Value::Runtime;
    v.layer = layer_id;
    m_values[n.output(0)] = v;
  }
  void unsupported(const onnx::NodeProto& n, const std::string& why) {
    m_report.unsupported.push_back("not supported: " + n.op_type() + " at node " + n.name() +
                                   (why.empty() ? "" : " (" + why + ")"));
  }

  QuantInfo quant_info(const onnx::NodeProto& n, bool bipolar);
  QuantSpec weight_spec(const QuantInfo& q, const onnx::NodeProto& n);
  QuantSpec act_spec(const QuantInfo& q, const onnx::NodeProto& n);
  void node(const onnx::NodeProto& n, int index);
  void act_quant(const onnx::NodeProto& n, const std::string& src, const QuantInfo& q, int index);
  void weight_layer(const onnx::NodeProto& n, int index, const std::string& x, const Value& w, bool transpose_w,
                    const Value* bias, bool conv);
  void bias_into(LayerSpec& l, const Value& bias);
  void affine(const onnx::NodeProto& n, const std::string& op, int index);
  void set_dataset(const std::vector<int64_t>& sample, const std::string& preprocessing);
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

torch::Tensor Importer::tensor_of(const onnx::TensorProto& t) const {
  if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
    throw DataError(m_source + ": tensor '" + t.name() + "' keeps its data in an external file, which import does not read");
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  int64_t numel = 1;
  for (int64_t d : dims) {
    if (d < 0) throw DataError(m_source + ": tensor '" + t.name() + "' has a negative dimension");
    if (d > 0 && numel > std::numeric_limits<int64_t>::max() / 8 / d)  // 8: the widest element
      throw DataError(m_source + ": tensor '" + t.name() + "' has dimensions whose product overflows (the file is damaged)");
    numel *= d;
  }
  const std::string& raw = t.raw_data();
  auto make = [&](auto tag, torch::ScalarType type, auto typed_size, auto typed_at) -> torch::Tensor {
    using T = decltype(tag);
    // The data must be there before the tensor is allocated (a damaged shape could ask for terabytes).
    if (!raw.empty() && int64_t(raw.size()) != numel * int64_t(sizeof(T)))
      throw DataError(m_source + ": tensor '" + t.name() + "' holds " + std::to_string(raw.size()) +
                      " bytes of data for " + std::to_string(numel) + " elements");
    if (raw.empty() && typed_size() != numel)
      throw DataError(m_source + ": tensor '" + t.name() + "' holds " + std::to_string(typed_size()) +
                      " values for " + std::to_string(numel) + " elements");
    torch::Tensor out = torch::empty(dims, torch::TensorOptions().dtype(type));
    if (!raw.empty()) {
      std::memcpy(out.data_ptr(), raw.data(), raw.size());
    } else {
      T* p = static_cast<T*>(out.data_ptr());
      for (int64_t i = 0; i < numel; ++i) p[i] = static_cast<T>(typed_at(i));
    }
    return out;
  };
  switch (t.data_type()) {
    case onnx::TensorProto_DataType_FLOAT:
      return make(float{}, torch::kFloat32, [&] { return int64_t(t.float_data_size()); },
                  [&](int64_t i) { return t.float_data(int(i)); });
    case onnx::TensorProto_DataType_DOUBLE:
      return make(double{}, torch::kFloat64, [&] { return int64_t(t.double_data_size()); },
                  [&](int64_t i) { return t.double_data(int(i)); }).to(torch::kFloat32);
    case onnx::TensorProto_DataType_INT8:
      return make(int8_t{}, torch::kInt8, [&] { return int64_t(t.int32_data_size()); },
                  [&](int64_t i) { return t.int32_data(int(i)); });
    case onnx::TensorProto_DataType_UINT8:
      return make(uint8_t{}, torch::kUInt8, [&] { return int64_t(t.int32_data_size()); },
                  [&](int64_t i) { return t.int32_data(int(i)); });
    case onnx::TensorProto_DataType_INT32:
      return make(int32_t{}, torch::kInt32, [&] { return int64_t(t.int32_data_size()); },
                  [&](int64_t i) { return t.int32_data(int(i)); });
    case onnx::TensorProto_DataType_INT64:
      return make(int64_t{}, torch::kInt64, [&] { return int64_t(t.int64_data_size()); },
                  [&](int64_t i) { return t.int64_data(int(i)); });
    default:
      throw DataError(m_source + ": tensor '" + t.name() + "' has ONNX data type " + std::to_string(t.data_type()) +
                      ", which import does not read (float, double, int8, uint8, int32, int64)");
  }
}

std::vector<int64_t> Importer::shape_of(const std::string& id) {
  if (!m_shapes_valid) {
    m_shapes.clear();
    const ValidationResult v = validate(m_project);
    for (const auto& [node, info] : v.nodes) m_shapes[node] = info.shape;
    m_shapes_valid = true;
  }
  auto it = m_shapes.find(id);
  return it == m_shapes.end() ? std::vector<int64_t>{} : it->second;
}

// The layer holding input i of node n as a runtime value (an affine chain becomes a
// BatchNorm layer here). Throws when the input is a constant.
std::string Importer::runtime_layer(const onnx::NodeProto& n, int i) {
  const Value& v = input(n, i);
  if (v.kind == Value::Runtime) return v.layer;
  if (v.kind == Value::Affine) return materialize(n.input(i), v);
  fail(n, "input '" + n.input(i) + "' must be a runtime tensor here, not a " +
              (v.kind == Value::Const ? "constant" : v.kind == Value::Shape ? "shape" : "QuantizeLinear output"));
}

// An affine chain y = a * x + b (per channel) as a BatchNorm in eval:
// (x - 0) / sqrt(1 + eps) * (a * sqrt(1 + eps)) + b.
std::string Importer::materialize(const std::string& name, const Value& v) {
  const std::vector<int64_t> shape = shape_of(v.layer);
  const bool images = shape.size() == 3;
  const int64_t c = shape.empty() ? v.a.numel() : shape[0];
  std::string nodes;
  for (const std::string& s : v.nodes) nodes += (nodes.empty() ? "" : ", ") + s;
  LayerSpec& l = add_layer(images ? LayerType::BatchNorm2d : LayerType::BatchNorm1d,
                           sanitize(v.nodes.empty() ? "affine" : v.nodes.front()), {v.layer});
  l.set_param("num_features", double(c));
  const double eps = 1e-5;
  l.set_param("eps", eps);
  l.set_param("frozen", 1);
  const torch::Tensor a = v.a.to(torch::kFloat64).expand({c}).contiguous();
  const torch::Tensor b = v.b.to(torch::kFloat64).expand({c}).contiguous();
  m_tensors[l.id + ".weight"] = (a * std::sqrt(1.0 + eps)).to(torch::kFloat32);
  m_tensors[l.id + ".bias"] = b.to(torch::kFloat32);
  m_tensors[l.id + ".running_mean"] = torch::zeros({c});
  m_tensors[l.id + ".running_var"] = torch::ones({c});
  m_tensors[l.id + ".num_batches_tracked"] = torch::ones({}, torch::kLong);
  m_report.notes.push_back("nodes " + nodes + " (constant Add/Sub/Mul/Div) kept as a frozen " + to_string(l.type) +
                           " '" + l.id + "' computing the same affine map (frozen: fine-tuning leaves it as it is)");
  const std::string id = l.id;
  Value r;
  r.kind = Value::Runtime;
  r.layer = id;
  m_values[name] = r;
  return id;
}

QuantInfo Importer::quant_info(const onnx::NodeProto& n, bool bipolar) {
  QuantInfo q;
  q.node = n.name();
  auto constant = [&](int i, const char* what) -> torch::Tensor {
    const Value& v = input(n, i);
    if (v.kind != Value::Const || v.q)
      fail(n, std::string(what) + " '" + n.input(i) + "' is not a constant; import needs a static " + what);
    return v.t.to(torch::kFloat32);
  };
  q.scale = constant(1, "scale");
  if (q.scale.numel() == 0 || !torch::isfinite(q.scale).all().item<bool>() || (q.scale < 0).any().item<bool>())
    fail(n, "the scale must be finite and not negative");
  if (bipolar) {
    q.binary = true;
    q.bit_width = 1;
    q.zero_point = torch::zeros({});
    return q;
  }
  q.zero_point = constant(2, "zero point");
  const torch::Tensor bits = constant(3, "bit width");
  if (bits.numel() != 1) fail(n, "the bit width must be a single number");
  if (q.zero_point.numel() != 1 && q.zero_point.numel() != q.scale.numel())
    fail(n, "the zero point has " + std::to_string(q.zero_point.numel()) + " values for " +
                std::to_string(q.scale.numel()) + " scales");
  const double b = bits.item<double>();
  if (!(b == std::floor(b) && b >= 1 && b <= 32)) fail(n, "bit width " + number_text(b) + " is outside 1..32 or not a whole number");
  q.bit_width = int(b);
  q.is_signed = int_attr(n, "signed", 1) != 0;
  q.narrow = int_attr(n, "narrow", 0) != 0;
  std::string mode = str_attr(n, "rounding_mode", "ROUND");
  std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char c) { return char(std::toupper(c)); });
  if (mode != "ROUND")
    fail(n, "rounding_mode " + mode + " is not supported (only ROUND, round half to even, as Brevitas computes it)");
  if (!torch::equal(q.zero_point, torch::round(q.zero_point))) fail(n, "the zero point must hold whole numbers");
  return q;
}

// A quantizer of a matrix whose rows and columns are swapped: its per-axis scale and
// zero point move to the other axis.
void transpose_quant(QuantInfo& q) {
  for (torch::Tensor* t : {&q.scale, &q.zero_point}) {
    if (t->numel() <= 1) continue;
    while (t->dim() < 2) *t = t->unsqueeze(0);
    *t = t->t().contiguous();
  }
}

// Shape of the learned `value` of a weight quantizer from a file scale: [] or [C_out].
// Returns the scale per output channel (or one), or fails for any other broadcast axis.
torch::Tensor channel_scale(const torch::Tensor& scale, const torch::Tensor& w, std::string& error) {
  if (scale.numel() == 1) return scale.reshape({});
  // Align the scale's shape to the weight's trailing dims (numpy broadcasting).
  std::vector<int64_t> s = scale.sizes().vec();
  while (int64_t(s.size()) < w.dim()) s.insert(s.begin(), 1);
  int64_t axis = -1;
  for (int64_t d = 0; d < int64_t(s.size()); ++d)
    if (s[d] != 1) {
      if (axis >= 0) {
        error = "a scale varying along more than one axis";
        return {};
      }
      axis = d;
    }
  if (axis != 0 || s.size() != size_t(w.dim()) || s[0] != w.size(0)) {
    error = "a scale per input channel or per element (import keeps one scale per output channel)";
    return {};
  }
  return scale.reshape({-1});
}

QuantSpec Importer::weight_spec(const QuantInfo& q, const onnx::NodeProto& n) {
  QuantSpec s = q.binary ? presets::SignedBinaryWeightPerTensorConst() : presets::Int8WeightPerTensorFloat();
  s.scaling = ScalingKind::Parameter;
  if (!q.binary) {
    s.bit_width = q.bit_width;
    s.is_signed = q.is_signed;
    s.narrow_range = q.narrow;
  }
  if ((q.zero_point != 0).any().item<bool>())
    fail(n, "a weight zero point other than 0 is not supported (import keeps symmetric weight quantizers)");
  s.per_channel = q.scale.numel() > 1;
  if (s.per_channel && !q.binary) s.preset = "Int8WeightPerChannelFloat";
  if (!q.binary && (s.bit_width < 2 || s.bit_width > 16))
    fail(n, "weight bit width " + std::to_string(s.bit_width) + " is outside 2..16");
  const double thr = s.int_threshold();
  const double m = std::max(q.scale.max().item<double>(), kMinScale) * thr;
  if (!(m <= std::numeric_limits<float>::max()))  // also NaN; the quantizer keeps it as float32
    fail(n, "the weight scale " + std::to_string(q.scale.max().item<double>()) + " times " + std::to_string(thr) +
                " is not a finite float32 value");
  s.min_val = -m;
  s.max_val = m;
  try {
    s.validate("node " + n.name());
  } catch (const ConfigError& e) {
    fail(n, e.what());
  }
  return s;
}

QuantSpec Importer::act_spec(const QuantInfo& q, const onnx::NodeProto& n) {
  if (q.scale.numel() != 1) fail(n, "a per-channel activation scale is not supported (activation quantizers are per tensor)");
  if (!(q.scale.item<double>() > 0.0)) fail(n, "the activation scale is 0: every value would quantize to the zero point");
  QuantSpec s = q.binary ? presets::SignedBinaryActPerTensorConst() : presets::Int8ActPerTensorFloatMinMaxInit();
  if (!q.binary) {
    s.bit_width = q.bit_width;
    s.is_signed = q.is_signed;
    s.narrow_range = q.narrow;
    s.preset = q.is_signed ? "Int8ActPerTensorFloatMinMaxInit" : "Uint8ActPerTensorFloat";
    s.scaling = ScalingKind::Parameter;
    const double z = q.zero_point.reshape({-1})[0].item<double>();
    if (z != 0.0) {
      if (q.is_signed) fail(n, "a signed activation quantizer with zero point " + std::to_string(z) + " is not supported");
      s.shifted = true;
      s.preset = "ShiftedUint8ActPerTensorFloat";
    }
    if (s.bit_width < 2 || s.bit_width > 16)
      fail(n, "activation bit width " + std::to_string(s.bit_width) + " is outside 2..16");
  }
  const double v = std::max(q.scale.item<double>(), kMinScale) * s.int_threshold();
  if (!(v <= std::numeric_limits<float>::max()))  // also NaN/Inf; the quantizer keeps it as float32
    fail(n, "the activation scale " + std::to_string(q.scale.item<double>()) + " times " +
                std::to_string(s.int_threshold()) + " is not a finite float32 value");
  s.min_val = s.is_signed ? -v : 0.0;
  s.max_val = v;
  try {
    s.validate("node " + n.name());
  } catch (const ConfigError& e) {
    fail(n, e.what());
  }
  return s;
}

// Makes `src` (a layer) quantized by q: a float activation with a single consumer
// becomes its Quant* twin; anything else gets a QuantIdentity. A Clip (HardTanh) keeps
// its own layer: QuantHardTanh is the quantizer alone (Brevitas switches its hardtanh
// off), so Clip -> Quant is a HardTanh and a QuantIdentity.
void Importer::act_quant(const onnx::NodeProto& n, const std::string& src, const QuantInfo& q, int index) {
  const QuantSpec spec = act_spec(q, n);
  LayerSpec* target = nullptr;
  LayerSpec* s = src.empty() ? nullptr : m_project.find(src);  // null below an unsupported node
  const std::string produced = m_layer_output.count(src) ? m_layer_output[src] : "";
  const bool single = s && !produced.empty() && consumers(produced) == 1 && !s->act_quant;
  const std::map<LayerType, LayerType> twin{{LayerType::ReLU, LayerType::QuantReLU},
                                            {LayerType::Tanh, LayerType::QuantTanh},
                                            {LayerType::Sigmoid, LayerType::QuantSigmoid},
                                            {LayerType::Identity, LayerType::QuantIdentity}};
  if (single && twin.count(s->type)) {
    s->type = twin.at(s->type);
    target = s;
  } else {
    target = &add_layer(LayerType::QuantIdentity, id_from_node(n, index), {src});
  }
  target->act_quant = spec;
  target->return_quant_tensor = true;
  m_tensors[target->id + ".act_quant.value"] = torch::full({}, spec.max_val);
  if (spec.shifted) {
    const double stat = -q.zero_point.reshape({-1})[0].item<double>() * q.scale.item<double>();
    if (!(std::abs(stat) <= std::numeric_limits<float>::max()))
      fail(n, "the activation zero point times its scale is not a finite float32 value");
    m_tensors[target->id + ".act_quant.zero_point_value"] = torch::full({}, stat);
    m_tensors[target->id + ".act_quant.zero_point_buffer"] = torch::full({}, stat);
  }
  m_shapes_valid = false;
  set_runtime(n, target->id);
  m_layer_output[target->id] = n.output(0);
}

void Importer::bias_into(LayerSpec& l, const Value& bias) {
  const std::string& id = l.id;
  l.set_param("bias", 1);
  if (!bias.q) {
    m_tensors[id + ".bias"] = bias.t.reshape({-1}).to(torch::kFloat32);
    return;
  }
  const QuantInfo& q = *bias.q;
  // A quantized bias keeps its codes: the dequantized value, and Int8/16/32Bias when
  // its scale is s_in * s_w as the app computes it (else a float bias holding the values).
  const torch::Tensor deq = ((torch::clamp(torch::round(bias.t / q.scale + q.zero_point),
                                           double(int_range(q.bit_width, q.is_signed, q.narrow).min_int),
                                           double(int_range(q.bit_width, q.is_signed, q.narrow).max_int)) -
                              q.zero_point) *
                             q.scale)
                                .reshape({-1})
                                .to(torch::kFloat32);
  m_tensors[id + ".bias"] = deq;
  const bool standard = (q.bit_width == 8 || q.bit_width == 16 || q.bit_width == 32) && q.is_signed && !q.narrow &&
                        (q.zero_point == 0).all().item<bool>();
  if (standard && l.weight_quant) {
    l.bias_quant = q.bit_width == 8 ? presets::Int8Bias() : q.bit_width == 16 ? presets::Int16Bias() : presets::Int32Bias();
  } else {
    m_report.notes.push_back("bias quantizer " + q.node + " of " + id +
                             " kept as a float bias holding its dequantized values (not Int8/16/32Bias on s_in * s_w)");
  }
}

// Conv / Gemm / MatMul with a constant (possibly quantized) weight.
void Importer::weight_layer(const onnx::NodeProto& n, int index, const std::string& x, const Value& w_in,
                            bool transpose_w, const Value* bias, bool conv) {
  torch::Tensor w = w_in.t.to(torch::kFloat32);
  std::optional<QuantInfo> q = w_in.q;
  if (transpose_w) {
    if (w.dim() != 2) fail(n, "the weight must be a matrix");
    w = w.t().contiguous();
    if (q) transpose_quant(*q);
  }
  const bool quant = q.has_value();
  if (!torch::isfinite(w).all().item<bool>())
    fail(n, "the weight holds " + std::to_string((~torch::isfinite(w)).sum().item<int64_t>()) + " NaN or infinite value(s)");
  if (bias && !torch::isfinite(bias->t).all().item<bool>()) fail(n, "the bias holds NaN or infinite values");
  if (conv ? w.dim() < 3 : w.dim() != 2)
    fail(n, "the weight has shape " + shape_text(w.sizes().vec()) + (conv ? "; a convolution needs [C_out, C_in/groups, k...]" : "; a matrix is needed"));
  const int64_t spatial = w.dim() - 2;
  LayerType type;
  if (!conv) {
    type = quant ? LayerType::QuantLinear : LayerType::Linear;
  } else if (spatial == 2) {
    type = quant ? LayerType::QuantConv2d : LayerType::Conv2d;
  } else if (spatial == 1) {
    type = quant ? LayerType::QuantConv1d : LayerType::Conv1d;
  } else {
    unsupported(n, std::to_string(spatial) + "-D convolution");
    return;
  }
  LayerSpec& l = add_layer(type, id_from_node(n, index), {x});
  const std::string id = l.id;
  if (conv) {
    const int64_t groups = int_attr(n, "group", 1);
    l.set_param("in_channels", double(w.size(1) * groups));
    l.set_param("out_channels", double(w.size(0)));
    l.set_param("groups", double(groups));
    std::vector<int64_t> k(w.sizes().begin() + 2, w.sizes().end());
    std::vector<int64_t> strides = ints_attr(n, "strides"), pads = ints_attr(n, "pads"),
                         dil = ints_attr(n, "dilations");
    const std::string auto_pad = str_attr(n, "auto_pad", "NOTSET");
    if (auto_pad != "NOTSET" && auto_pad != "VALID") fail(n, "auto_pad " + auto_pad + " is not supported; write explicit pads");
    if (strides.empty()) strides.assign(size_t(spatial), 1);
    if (dil.empty()) dil.assign(size_t(spatial), 1);
    if (pads.empty()) pads.assign(size_t(2 * spatial), 0);
    if (int64_t(strides.size()) != spatial || int64_t(dil.size()) != spatial || int64_t(pads.size()) != 2 * spatial)
      fail(n, "strides, dilations and pads must have " + std::to_string(spatial) + ", " + std::to_string(spatial) +
                  " and " + std::to_string(2 * spatial) + " entries for a " + std::to_string(w.dim()) + "-D weight");
    for (int64_t d = 0; d < spatial; ++d)
      if (pads[size_t(d)] != pads[size_t(d + spatial)]) fail(n, "asymmetric padding is not supported");
    auto put = [&](const char* name, int64_t a, int64_t b) {
      if (spatial == 1 || a == b)
        l.set_param(name, double(a));
      else
        l.set_pair(name, double(a), double(b));
    };
    put("kernel_size", k[0], spatial == 2 ? k[1] : k[0]);
    put("stride", strides[0], spatial == 2 ? strides[1] : strides[0]);
    put("padding", pads[0], spatial == 2 ? pads[1] : pads[0]);
    put("dilation", dil[0], spatial == 2 ? dil[1] : dil[0]);
  } else {
    l.set_param("in_features", double(w.size(1)));
    l.set_param("out_features", double(w.size(0)));
  }
  l.set_param("bias", 0);
  m_tensors[id + ".weight"] = w.contiguous();
  if (quant) {
    std::string error;
    const torch::Tensor cs = channel_scale(q->scale, w, error);
    if (!cs.defined()) fail(n, "weight quantizer " + q->node + " has " + error);
    q->scale = cs;
    l.weight_quant = weight_spec(*q, n);
    m_tensors[id + ".weight_quant.value"] =
        (torch::clamp_min(cs.to(torch::kFloat64), kMinScale) * l.weight_quant->int_threshold()).to(torch::kFloat32);
    const int64_t tiny = (cs < kMinScale).sum().item<int64_t>();
    if (tiny > 0)
      m_report.notes.push_back(id + ": " + std::to_string(tiny) + " weight scale(s) of " + q->node +
                               " below 1e-10 (dead channels) raised to 1e-10, Brevitas's scaling_min_val");
    // Statistics of the file's weight quantizer, from the constants alone.
    try {
      WeightQuantizer wq(*l.weight_quant, w.size(0));
      {
        torch::NoGradGuard g;
        wq->value.copy_(m_tensors[id + ".weight_quant.value"]);
      }
      wq->eval();
      m_weights.push_back(inspect::weight_stats(id, to_string(type), w, *wq));
    } catch (const ConfigError& e) {
      fail(n, e.what());
    }
  }
  if (bias) bias_into(l, *bias);
  set_runtime(n, id);
  m_layer_output[id] = n.output(0);
}

void Importer::affine(const onnx::NodeProto& n, const std::string& op, int index) {
  const Value& v0 = input(n, 0);
  const Value& v1 = input(n, 1);
  const bool c0 = v0.kind == Value::Const && !v0.q, c1 = v1.kind == Value::Const && !v1.q;
  if (c0 && c1) {  // constant folding
    Value r;
    const torch::Tensor a = v0.t.to(torch::kFloat32), b = v1.t.to(torch::kFloat32);
    r.t = op == "Add" ? a + b : op == "Sub" ? a - b : op == "Mul" ? a * b : a / b;
    m_values[n.output(0)] = r;
    return;
  }
  const int ri = c1 ? 0 : 1;
  const Value& rv = ri == 0 ? v0 : v1;
  const torch::Tensor c = (ri == 0 ? v1 : v0).t.to(torch::kFloat32);
  auto runtime = [](const Value& v) { return v.kind == Value::Runtime || v.kind == Value::Affine; };
  if (!(c0 || c1) || !runtime(rv)) {
    if (op == "Add" && runtime(v0) && runtime(v1)) {
      const std::string a = runtime_layer(n, 0), b = runtime_layer(n, 1);
      LayerSpec& l = add_layer(LayerType::Add, id_from_node(n, index), {a, b});
      set_runtime(n, l.id);
      m_layer_output[l.id] = n.output(0);
      return;
    }
    unsupported(n, op + " of two runtime tensors");
    return;
  }
  // y = a * x + b with a, b per channel.
  Value r;
  r.kind = Value::Affine;
  if (rv.kind == Value::Affine) {
    r = rv;
  } else {
    r.layer = rv.layer;
    r.a = torch::ones({1});
    r.b = torch::zeros({1});
  }
  const std::vector<int64_t> shape = shape_of(r.layer);
  const int64_t channels = shape.empty() ? 0 : shape[0];
  // The constant must be a scalar or vary only along the channel axis.
  torch::Tensor cc;
  if (c.numel() == 1) {
    cc = c.reshape({1});
  } else if (channels > 0 && c.numel() == channels) {
    std::vector<int64_t> s = c.sizes().vec();
    const size_t rank = shape.size() + 1;  // with batch
    while (s.size() < rank) s.insert(s.begin(), 1);
    if (s.size() != rank || s[1] != channels) {
      unsupported(n, op + " by a constant that does not vary along channels only");
      return;
    }
    cc = c.reshape({-1});
  } else {
    unsupported(n, op + " by a constant of shape " + shape_text(c.sizes().vec()));
    return;
  }
  if (op == "Mul") {
    r.a = r.a * cc;
    r.b = r.b * cc;
  } else if (op == "Div") {
    if (ri != 0) {
      unsupported(n, "a constant divided by a runtime tensor");
      return;
    }
    r.a = r.a / cc;
    r.b = r.b / cc;
  } else if (op == "Add") {
    r.b = r.b + cc;
  } else if (ri == 0) {  // x - c
    r.b = r.b - cc;
  } else {  // c - x
    r.a = -r.a;
    r.b = cc - r.b;
  }
  r.nodes.push_back(n.name());
  m_values[n.output(0)] = r;
}

void Importer::node(const onnx::NodeProto& n, int index) {
  const std::string& op = n.op_type();
  const std::string& domain = n.domain();
  const bool custom = !(domain.empty() || domain == "ai.onnx");
  if (custom && !kQonnxDomains.count(domain))
    fail(n, "unknown domain '" + domain + "' (import reads the standard ops and the QONNX domains "
            "qonnx.custom_op.general, onnx.brevitas, finn.custom_op.general)");
  if (n.output_size() < 1) fail(n, "the node has no output");
  auto all_const = [&] {
    for (int i = 0; i < n.input_size(); ++i) {
      if (n.input(i).empty()) continue;
      const Value* v = value(n.input(i));
      if (!v || v->kind != Value::Const || v->q) return false;
    }
    return true;
  };
  auto any_shape = [&] {
    for (int i = 0; i < n.input_size(); ++i) {
      const Value* v = n.input(i).empty() ? nullptr : value(n.input(i));
      if (v && v->kind == Value::Shape) return true;
    }
    return false;
  };
  auto pass_through = [&](int i) { m_values[n.output(0)] = input(n, i); };

  if (custom) {
    if (op == "Quant" || op == "BipolarQuant") {
      m_qonnx = true;
      const QuantInfo q = quant_info(n, op == "BipolarQuant");
      const Value& x = input(n, 0);
      if (x.kind == Value::Const && !x.q) {
        Value r = x;
        r.q = q;
        m_values[n.output(0)] = r;
      } else {
        act_quant(n, runtime_layer(n, 0), q, index);
      }
      return;
    }
    if (op == "Trunc") {
      // QONNX Trunc: v1 (X, scale, zero point, in bit width, out bit width), v2 (X,
      // scale, zero point, in bit width, out scale, out bit width); rounding_mode
      // defaults to FLOOR.
      m_qonnx = true;
      if (n.input_size() != 5 && n.input_size() != 6) fail(n, "Trunc takes 5 or 6 inputs, got " + std::to_string(n.input_size()));
      const std::string src = runtime_layer(n, 0);
      std::string mode = str_attr(n, "rounding_mode", "FLOOR");
      std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char c) { return char(std::toupper(c)); });
      if (mode != "ROUND" && mode != "FLOOR")
        fail(n, "Trunc rounding_mode " + mode + " is not supported (ROUND or FLOOR, as Brevitas's truncating pools)");
      auto bit_width = [&](int i, const char* what) {
        const torch::Tensor t = const_input(n, i, what);
        if (t.numel() != 1) fail(n, std::string("the ") + what + " must be a single number");
        const double b = t.to(torch::kFloat64).item<double>();
        if (!(b == std::floor(b) && b >= 1 && b <= 32)) fail(n, std::string("the ") + what + " " + number_text(b) + " is outside 1..32");
        return b;
      };
      const double in_bits = bit_width(3, "input bit width");
      const double out_bits = bit_width(n.input_size() == 6 ? 5 : 4, "output bit width");
      if (src.empty()) {
        pass_through(0);
        return;
      }
      LayerSpec& l = layer(src);
      const bool drops = in_bits != out_bits || mode == "FLOOR";
      if (l.type == LayerType::TruncAdaptiveAvgPool2d && !drops) {
        // A global average pool on a grid that keeps its bits: a plain AvgPool2d over H x W.
        l.type = LayerType::AvgPool2d;
        l.erase_param("output_size");
        const std::vector<int64_t> shape = shape_of(l.inputs.at(0));
        if (shape.size() != 3) fail(n, "the input shape of the pool is unknown");
        if (shape[1] == shape[2]) l.set_param("kernel_size", double(shape[1]));
        else l.set_pair("kernel_size", double(shape[1]), double(shape[2]));
        m_shapes_valid = false;
        pass_through(0);
        return;
      }
      if (!drops) {
        pass_through(0);  // the grid only (an average pool on a quantized input keeps its bits)
        return;
      }
      if (l.type == LayerType::AvgPool2d) {
        l.type = LayerType::TruncAvgPool2d;
      } else if (l.type != LayerType::TruncAdaptiveAvgPool2d) {
        unsupported(n, "Trunc after " + to_string(l.type) + " (import reads it after an average pool)");
        return;
      }
      l.set_param("bit_width", out_bits);
      l.set_param("floor", mode == "FLOOR" ? 1 : 0);
      l.return_quant_tensor = true;
      m_shapes_valid = false;
      pass_through(0);
      return;
    }
    unsupported(n, "QONNX op without a layer");
    Value r;
    r.kind = Value::Runtime;
    m_values[n.output(0)] = r;
    return;
  }

  if (op == "Constant") {
    const auto* a = attr(n, "value");
    if (!a || !a->has_t()) fail(n, "only tensor constants (attribute 'value') are read");
    Value r;
    r.t = tensor_of(a->t());
    m_values[n.output(0)] = r;
    return;
  }
  if (op == "Identity" || op == "Dropout" || (op == "Cast" && !any_shape())) {
    pass_through(0);
    return;
  }
  if (any_shape() || op == "Shape") {
    // The flatten chain: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
    if (op == "Reshape") {
      const std::string src = runtime_layer(n, 0);
      LayerSpec& l = add_layer(LayerType::Flatten, id_from_node(n, index), {src});
      set_runtime(n, l.id);
      m_layer_output[l.id] = n.output(0);
      return;
    }
    Value r;
    r.kind = Value::Shape;
    m_values[n.output(0)] = r;
    return;
  }
  if (op == "QuantizeLinear" || op == "DequantizeLinear") m_qcdq = true;
  if (op == "Transpose" && all_const()) {
    Value r = input(n, 0);
    std::vector<int64_t> perm = ints_attr(n, "perm");
    if (perm.empty())
      for (int64_t d = r.t.dim() - 1; d >= 0; --d) perm.push_back(d);
    r.t = r.t.permute(perm).contiguous();
    m_values[n.output(0)] = r;
    return;
  }
  if (op == "Transpose" && input(n, 0).kind == Value::Const && input(n, 0).q) {
    // A transposed quantized weight (Brevitas QONNX: Quant -> Transpose -> MatMul).
    Value r = input(n, 0);
    std::vector<int64_t> perm = ints_attr(n, "perm");
    if (r.t.dim() != 2 || (!perm.empty() && perm != std::vector<int64_t>{1, 0}))
      fail(n, "only a matrix transpose of a quantized constant is read");
    r.t = r.t.t().contiguous();
    transpose_quant(*r.q);
    m_values[n.output(0)] = r;
    return;
  }
  if (op == "DequantizeLinear") {
    const Value& x = input(n, 0);
    QuantInfo q;
    q.node = n.name();
    q.scale = const_input(n, 1, "scale").to(torch::kFloat32);
    q.zero_point = n.input_size() > 2 && !n.input(2).empty() ? const_input(n, 2, "zero point").to(torch::kFloat32)
                                                             : torch::zeros({});
    if (q.zero_point.numel() != 1 && q.zero_point.numel() != q.scale.numel())
      fail(n, "the zero point has " + std::to_string(q.zero_point.numel()) + " values for " +
                  std::to_string(q.scale.numel()) + " scales");
    // The integer bounds the codes can take: the Clip's, within the integer type's.
    auto grid = [&](int64_t lo, int64_t hi) {
      if (!grid_from_bounds(double(lo), double(hi), q.bit_width, q.is_signed, q.narrow))
        fail(n, "the codes are clipped to [" + std::to_string(lo) + ", " + std::to_string(hi) +
                    "], which is no integer grid of a bit width (signed: [-2^(b-1) (+1 narrow), 2^(b-1) - 1], "
                    "unsigned: [0, 2^b - 1 (-1 narrow)])");
    };
    if (x.kind == Value::Const) {  // weight or bias codes (maybe clipped)
      const torch::Tensor codes = x.t;
      const auto type = codes.scalar_type();
      if (type != torch::kInt8 && type != torch::kUInt8 && type != torch::kInt32)
        fail(n, "the codes must be INT8, UINT8 or INT32");
      int64_t lo = type == torch::kInt8 ? -128 : type == torch::kUInt8 ? 0 : INT32_MIN;
      int64_t hi = type == torch::kInt8 ? 127 : type == torch::kUInt8 ? 255 : INT32_MAX;
      if (x.q) {  // a Clip recorded bounds
        lo = std::max(lo, x.clip_lo);
        hi = std::min(hi, x.clip_hi);
      }
      grid(lo, hi);
      if (q.scale.numel() > 1) {  // per axis: broadcast along `axis`
        int64_t axis = int_attr(n, "axis", 1);
        if (axis < 0) axis += codes.dim();
        if (axis < 0 || axis >= codes.dim()) fail(n, "axis " + std::to_string(int_attr(n, "axis", 1)) + " is outside the codes' " + std::to_string(codes.dim()) + " axes");
        if (codes.size(axis) != q.scale.numel())
          fail(n, std::to_string(q.scale.numel()) + " scales for axis " + std::to_string(axis) + " of size " +
                      std::to_string(codes.size(axis)));
        std::vector<int64_t> shape(size_t(codes.dim()), 1);
        shape[size_t(axis)] = q.scale.numel();
        q.scale = q.scale.reshape(shape);
        if (q.zero_point.numel() > 1) q.zero_point = q.zero_point.reshape(shape);
      }
      Value r;
      r.t = ((codes.to(torch::kFloat32) - q.zero_point) * q.scale).contiguous();
      r.q = q;
      m_values[n.output(0)] = r;
      return;
    }
    if (x.kind != Value::QuantizeLinear) fail(n, "DequantizeLinear of a runtime tensor that no QuantizeLinear produced");
    if (q.scale.numel() != 1) fail(n, "a per-axis activation scale is not supported (activation quantizers are per tensor)");
    grid(x.clip_lo, x.clip_hi);
    q.zero_point = x.q->zero_point;
    act_quant(n, x.layer, q, index);
    return;
  }
  if (op == "QuantizeLinear") {
    const Value& x = input(n, 0);
    if (x.kind == Value::Const) fail(n, "QuantizeLinear of a constant is not read (QCDQ stores weight codes)");
    Value r;
    r.kind = Value::QuantizeLinear;
    r.layer = runtime_layer(n, 0);
    QuantInfo q;
    q.node = n.name();
    q.scale = const_input(n, 1, "scale").to(torch::kFloat32);
    q.zero_point = torch::zeros({});
    r.qtype_signed = false;  // ONNX default output type: UINT8
    if (n.input_size() > 2 && !n.input(2).empty()) {
      const torch::Tensor z = input(n, 2).t;
      r.qtype_signed = z.scalar_type() == torch::kInt8;
      q.zero_point = z.to(torch::kFloat32);
    }
    r.clip_lo = r.qtype_signed ? -128 : 0;
    r.clip_hi = r.qtype_signed ? 127 : 255;
    r.q = q;
    m_values[n.output(0)] = r;
    return;
  }
  if (op == "Clip") {
    const Value& x = input(n, 0);
    double lo = -INFINITY, hi = INFINITY;
    if (attr(n, "min")) lo = float_attr(n, "min", lo);
    if (attr(n, "max")) hi = float_attr(n, "max", hi);
    auto bound = [&](int i, const char* what) {
      const torch::Tensor t = const_input(n, i, what);
      if (t.numel() != 1) fail(n, std::string("the ") + what + " bound must be a single number");
      return t.to(torch::kFloat64).item<double>();
    };
    if (n.input_size() > 1 && !n.input(1).empty()) lo = bound(1, "min");
    if (n.input_size() > 2 && !n.input(2).empty()) hi = bound(2, "max");
    if (std::isnan(lo) || std::isnan(hi) || lo > hi) fail(n, "the bounds [" + number_text(lo) + ", " + number_text(hi) + "] are empty");
    if (x.kind == Value::QuantizeLinear || (x.kind == Value::Const && !x.q && !x.t.is_floating_point())) {
      Value r = x;
      const int64_t type_lo = x.kind == Value::QuantizeLinear ? x.clip_lo : INT32_MIN;
      const int64_t type_hi = x.kind == Value::QuantizeLinear ? x.clip_hi : INT32_MAX;
      r.clip_lo = std::isfinite(lo) ? std::max(type_lo, int64_t(std::ceil(lo))) : type_lo;
      r.clip_hi = std::isfinite(hi) ? std::min(type_hi, int64_t(std::floor(hi))) : type_hi;
      if (x.kind == Value::Const) r.q = QuantInfo{};  // marks "bounds recorded" for DequantizeLinear
      m_values[n.output(0)] = r;
      return;
    }
    if (x.kind == Value::Const) {
      Value r = x;
      r.t = torch::clamp(x.t, lo, hi);
      m_values[n.output(0)] = r;
      return;
    }
    const std::string src = runtime_layer(n, 0);
    if (lo == 0 && std::isinf(hi)) {
      LayerSpec& l = add_layer(LayerType::ReLU, id_from_node(n, index), {src});
      set_runtime(n, l.id);
      m_layer_output[l.id] = n.output(0);
      return;
    }
    LayerSpec& l = add_layer(LayerType::HardTanh, id_from_node(n, index), {src});
    l.set_param("min_val", lo);
    l.set_param("max_val", hi);
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  if (all_const() && (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow" || op == "Sqrt" ||
                      op == "Reshape" || op == "Unsqueeze" || op == "Squeeze")) {
    Value r;
    const torch::Tensor a = input(n, 0).t.to(torch::kFloat32);
    if (op == "Pow") r.t = torch::pow(a, input(n, 1).t.to(torch::kFloat32));
    else if (op == "Sqrt") r.t = torch::sqrt(a);
    else if (op == "Reshape") {
      const torch::Tensor shape = input(n, 1).t.to(torch::kInt64).contiguous();
      r.t = a.reshape(std::vector<int64_t>(shape.data_ptr<int64_t>(), shape.data_ptr<int64_t>() + shape.numel()));
    }
    else if (op == "Unsqueeze" || op == "Squeeze") r.t = input(n, 0).t;  // shape of a broadcast constant
    else {
      affine(n, op, index);
      return;
    }
    m_values[n.output(0)] = r;
    return;
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    // Add(x, bias) right after a MatMul: the Linear's bias.
    if (op == "Add") {
      const Value& v0 = input(n, 0);
      const Value& v1 = input(n, 1);
      const Value* rt = v0.kind == Value::Runtime ? &v0 : v1.kind == Value::Runtime ? &v1 : nullptr;
      const Value* cv = v0.kind == Value::Const ? &v0 : v1.kind == Value::Const ? &v1 : nullptr;
      if (rt && cv && !rt->layer.empty()) {
        LayerSpec& l = layer(rt->layer);
        const bool from_matmul = (l.type == LayerType::Linear || l.type == LayerType::QuantLinear) &&
                                 l.param("bias", 1) == 0 && m_layer_output[l.id] == (rt == &v0 ? n.input(0) : n.input(1)) &&
                                 consumers(m_layer_output[l.id]) == 1 && cv->t.numel() == l.param("out_features", 0);
        if (from_matmul) {
          bias_into(l, *cv);
          set_runtime(n, l.id);
          m_layer_output[l.id] = n.output(0);
          return;
        }
      }
    }
    affine(n, op, index);
    return;
  }
  if (op == "Conv") {
    const std::string x = runtime_layer(n, 0);
    const Value& w = input(n, 1);
    if (w.kind != Value::Const) fail(n, "the weight must be a constant (or a Quant / DequantizeLinear of one)");
    const Value* b = n.input_size() > 2 && !n.input(2).empty() ? &input(n, 2) : nullptr;
    weight_layer(n, index, x, w, false, b, true);
    return;
  }
  if (op == "Gemm") {
    const std::string x = runtime_layer(n, 0);
    if (float_attr(n, "alpha", 1.0) != 1.0 || float_attr(n, "beta", 1.0) != 1.0 || int_attr(n, "transA", 0) != 0)
      fail(n, "Gemm with alpha/beta other than 1 or transA is not read");
    const Value& w = input(n, 1);
    if (w.kind != Value::Const) fail(n, "the weight must be a constant");
    const Value* b = n.input_size() > 2 && !n.input(2).empty() ? &input(n, 2) : nullptr;
    weight_layer(n, index, x, w, int_attr(n, "transB", 0) == 0, b, false);
    return;
  }
  if (op == "MatMul") {
    const std::string x = runtime_layer(n, 0);
    const Value& w = input(n, 1);
    if (w.kind != Value::Const) {
      unsupported(n, "MatMul of two runtime tensors");
      return;
    }
    weight_layer(n, index, x, w, true, nullptr, false);
    return;
  }
  if (op == "Relu" || op == "Tanh" || op == "Sigmoid") {
    const std::string src = runtime_layer(n, 0);
    LayerSpec& l = add_layer(op == "Relu" ? LayerType::ReLU : op == "Tanh" ? LayerType::Tanh : LayerType::Sigmoid,
                             id_from_node(n, index), {src});
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  if (op == "MaxPool" || op == "AveragePool") {
    const std::string src = runtime_layer(n, 0);
    std::vector<int64_t> k = ints_attr(n, "kernel_shape"), s = ints_attr(n, "strides"), p = ints_attr(n, "pads");
    if (k.size() != 2) {
      unsupported(n, "pooling over " + std::to_string(k.size()) + " axes (import reads 2-D pools)");
      return;
    }
    if (s.empty()) s = {1, 1};
    const std::vector<int64_t> dil = ints_attr(n, "dilations");
    const std::string auto_pad = str_attr(n, "auto_pad", "NOTSET");
    if (s.size() != 2 || (!p.empty() && p.size() != 4)) fail(n, "strides and pads must have 2 and 4 entries");
    if (auto_pad != "NOTSET" && auto_pad != "VALID") {
      unsupported(n, "auto_pad " + auto_pad);
      return;
    }
    for (int64_t v : dil)
      if (v != 1) {
        unsupported(n, "dilated pooling");
        return;
      }
    if (op == "AveragePool" && int_attr(n, "count_include_pad", 0) != 0) {
      unsupported(n, "count_include_pad");
      return;
    }
    for (int64_t v : p)
      if (v != 0) {
        unsupported(n, "padded pooling");
        return;
      }
    if (int_attr(n, "ceil_mode", 0) != 0) {
      unsupported(n, "ceil_mode");
      return;
    }
    LayerSpec& l = add_layer(op == "MaxPool" ? LayerType::MaxPool2d : LayerType::AvgPool2d, id_from_node(n, index), {src});
    if (k[0] == k[1]) l.set_param("kernel_size", double(k[0])); else l.set_pair("kernel_size", double(k[0]), double(k[1]));
    if (s[0] == s[1]) l.set_param("stride", double(s[0])); else l.set_pair("stride", double(s[0]), double(s[1]));
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  if (op == "GlobalAveragePool") {
    const std::string src = runtime_layer(n, 0);
    const std::vector<int64_t> shape = shape_of(src);
    if (shape.size() != 3) {
      unsupported(n, "the input shape is unknown or not [C, H, W]");
      return;
    }
    // A Trunc right after it makes it a TruncAdaptiveAvgPool2d (see Trunc).
    bool trunc_follows = false;
    for (const auto& m : m_model.graph().node())
      if (m.op_type() == "Trunc" && m.input_size() > 0 && m.input(0) == n.output(0)) trunc_follows = true;
    LayerSpec& l = add_layer(trunc_follows ? LayerType::TruncAdaptiveAvgPool2d : LayerType::AvgPool2d,
                             id_from_node(n, index), {src});
    if (trunc_follows) {
      l.set_param("output_size", 1);
    } else if (shape[1] == shape[2]) {
      l.set_param("kernel_size", double(shape[1]));
    } else {
      l.set_pair("kernel_size", double(shape[1]), double(shape[2]));
    }
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  if (op == "BatchNormalization") {
    const std::string src = runtime_layer(n, 0);
    const std::vector<int64_t> shape = shape_of(src);
    const torch::Tensor gamma = const_input(n, 1, "scale"), beta = const_input(n, 2, "bias"),
                        mean = const_input(n, 3, "mean"), var = const_input(n, 4, "var");
    for (const torch::Tensor& t : {gamma, beta, mean, var})
      if (t.numel() != gamma.numel() || !torch::isfinite(t).all().item<bool>())
        fail(n, "scale, bias, mean and var must be finite and of one length");
    if ((var < 0).any().item<bool>()) fail(n, "a running variance is negative");
    LayerSpec& l = add_layer(shape.size() == 3 ? LayerType::BatchNorm2d : LayerType::BatchNorm1d, id_from_node(n, index), {src});
    l.set_param("num_features", double(gamma.numel()));
    l.set_param("eps", float_value(float_attr(n, "epsilon", 1e-5)));
    const double momentum = float_attr(n, "momentum", 0.9);
    // ONNX: running = running * momentum + batch * (1 - momentum); PyTorch's momentum is
    // the batch's share.
    l.set_param("momentum", float_value(1.0 - float_value(momentum)));
    m_tensors[l.id + ".weight"] = gamma.reshape({-1}).to(torch::kFloat32);
    m_tensors[l.id + ".bias"] = beta.reshape({-1}).to(torch::kFloat32);
    m_tensors[l.id + ".running_mean"] = mean.reshape({-1}).to(torch::kFloat32);
    m_tensors[l.id + ".running_var"] = var.reshape({-1}).to(torch::kFloat32);
    m_tensors[l.id + ".num_batches_tracked"] = torch::ones({}, torch::kLong);  // trained statistics
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  if (op == "Flatten") {
    if (int_attr(n, "axis", 1) != 1) {
      unsupported(n, "Flatten with axis other than 1");
      return;
    }
    const std::string src = runtime_layer(n, 0);
    LayerSpec& l = add_layer(LayerType::Flatten, id_from_node(n, index), {src});
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  if (op == "Reshape") {
    // Reshape to [N, -1] / [1, features] after a runtime value: a Flatten.
    const std::string src = runtime_layer(n, 0);
    const torch::Tensor target = const_input(n, 1, "shape").to(torch::kInt64);
    if (target.numel() == 2) {
      LayerSpec& l = add_layer(LayerType::Flatten, id_from_node(n, index), {src});
      set_runtime(n, l.id);
      m_layer_output[l.id] = n.output(0);
      return;
    }
    unsupported(n, "Reshape to " + shape_text(std::vector<int64_t>(target.data_ptr<int64_t>(),
                                                                    target.data_ptr<int64_t>() + target.numel())));
    return;
  }
  if (op == "Concat") {
    if (int_attr(n, "axis", 1) != 1) {
      unsupported(n, "Concat along an axis other than channels (1)");
      return;
    }
    std::vector<std::string> srcs;
    for (int i = 0; i < n.input_size(); ++i) srcs.push_back(runtime_layer(n, i));
    LayerSpec& l = add_layer(LayerType::Concat, id_from_node(n, index), srcs);
    l.set_param("num_inputs", double(srcs.size()));
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  unsupported(n, "");
  // Later nodes reading its output are reported too, but the walk goes on so every
  // weight quantizer is still found.
  Value r;
  r.kind = Value::Runtime;
  for (int i = 0; i < n.output_size(); ++i) m_values[n.output(i)] = r;
}

// Control characters (a newline in a graph name) never reach a file or a label.
std::string printable(const std::string& text) {
  std::string out = text;
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

// The dataset: from our own exports' "qnn.preprocessing" metadata (pad, mean/std,
// classes) when present; otherwise a built-in dataset of the input's shape,
// unnormalised (preprocessing, if any, is in the graph). Either way a note says so.
void Importer::set_dataset(const std::vector<int64_t>& sample, const std::string& preprocessing) {
  DatasetSpec& d = m_project.dataset;
  d.normalize = false;
  d.pad = 0;
  if (sample == std::vector<int64_t>{1, 32, 32}) d.pad = 2;
  if (sample == std::vector<int64_t>{3, 32, 32}) {
    d.name = "cifar10";
    d.path = "/usr/share/datasets/cifar10";
  }
  if (!preprocessing.empty()) {
    try {
      const auto j = nlohmann::json::parse(preprocessing);
      const auto classes = j.value("classes", std::vector<std::string>{});
      const auto mean = j.value("mean", std::vector<double>{});
      if (j.contains("fit")) {
        d.name = "image-folder";
        d.path.clear();
        d.fit = j.at("fit").get<std::string>();
      } else {
        for (const char* name : {"fashion-mnist", "mnist", "cifar10"})
          if (classes == dataset_classes(name)) {
            d.name = name;
            d.path = std::string("/usr/share/datasets/") + name;
          }
      }
      d.pad = j.value("pad", d.pad);
      bool centred = false;
      for (double m : mean) centred = centred || m != 0.0;
      d.normalize = centred;
      m_report.notes.push_back("dataset " + d.name + " (padding " + std::to_string(d.pad) +
                               (d.normalize ? ", normalised" : ", not normalised") +
                               ") from the file's qnn.preprocessing metadata" +
                               (d.path.empty() ? "; choose the image folder in the dataset settings" : ""));
      return;
    } catch (const std::exception&) {
      m_report.notes.push_back("the file's qnn.preprocessing metadata is not readable and was ignored");
    }
  }
  m_report.notes.push_back("dataset set to " + d.name + " (padding " + std::to_string(d.pad) +
                           ", not normalised): choose the data the model was trained on in the dataset settings");
}

ImportedModel Importer::run() {
  const onnx::GraphProto& g = m_model.graph();
  for (const auto& t : g.initializer()) {
    Value v;
    v.t = tensor_of(t);
    m_values[t.name()] = v;
  }
  for (const auto& n : g.node())
    for (const auto& in : n.input()) ++m_consumers[in];
  for (const auto& o : g.output()) ++m_consumers[o.name()];
  // The graph input: the one input that is not an initializer.
  const onnx::ValueInfoProto* input = nullptr;
  for (const auto& in : g.input())
    if (!m_values.count(in.name())) {
      if (input) throw DataError(m_source + ": the graph has more than one input ('" + input->name() + "', '" +
                                 in.name() + "'); import reads single-input models");
      input = &in;
    }
  if (!input) throw DataError(m_source + ": the graph has no input");
  std::vector<int64_t> dims;
  if (input->type().has_tensor_type() && input->type().tensor_type().has_shape())
    for (const auto& d : input->type().tensor_type().shape().dim()) dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  if (dims.size() < 2) throw DataError(m_source + ": input '" + input->name() + "' has no static shape [N, C, ...]");
  std::vector<int64_t> sample(dims.begin() + 1, dims.end());
  for (int64_t d : sample)
    if (d <= 0) throw DataError(m_source + ": input '" + input->name() + "' has a dynamic dimension other than the batch");
  m_project.input_shape = sample;
  Value iv;
  iv.kind = Value::Runtime;
  iv.layer = add_layer(LayerType::Input, "input", {}).id;
  m_values[input->name()] = iv;

  int index = 0;
  for (const auto& n : g.node()) {
    try {
      node(n, index++);
    } catch (const DataError&) {
      throw;
    } catch (const c10::Error& e) {
      const std::string what = e.what_without_backtrace();
      fail(n, "its tensors do not fit together (" + what.substr(0, what.find('\n')) + ")");
    } catch (const Error& e) {
      fail(n, e.what());
    }
  }

  if (g.output_size() != 1) throw DataError(m_source + ": the graph has " + std::to_string(g.output_size()) +
                                            " outputs; import reads single-output models");
  const Value* out = value(g.output(0).name());
  if (!out) throw DataError(m_source + ": output '" + g.output(0).name() + "' is produced by no node");
  std::string last = out->layer;
  if (out->kind == Value::Affine) last = materialize(g.output(0).name(), *out);
  if (m_report.runnable()) {
    if (last.empty()) throw DataError(m_source + ": output '" + g.output(0).name() + "' is not computed from the input");
    add_layer(LayerType::Output, "output", {last});
  }
  for (LayerSpec& l : m_project.layers) l.inputs.resize(std::max<size_t>(l.inputs.size(), size_t(input_port_count(l))));
  for (const auto& [id, xy] : auto_layout_positions(m_project.layers, 290.0, 104.0)) {
    LayerSpec* l = m_project.find(id);
    l->x = xy.first;
    l->y = xy.second;
  }
  std::string metadata_name, preprocessing;
  for (const auto& e : m_model.metadata_props()) {
    if (e.key() == "qnn.project") metadata_name = e.value();
    if (e.key() == "qnn.preprocessing") preprocessing = e.value();
  }
  m_project.name = printable(!metadata_name.empty() ? metadata_name : g.name().empty() ? "imported" : g.name());
  m_report.format = m_qonnx ? "QONNX" : m_qcdq ? "QCDQ" : "float ONNX";
  m_project.description = "Imported from " + printable(m_source) + " (" + m_report.format + ")";
  set_dataset(sample, preprocessing);
  ImportedModel r;
  r.project = m_project;
  r.tensors = m_tensors;
  r.report = m_report;
  r.weights = m_weights;
  return r;
}

}  // namespace

ImportedModel import_onnx_bytes(const std::string& bytes, const std::string& source) {
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes))
    throw DataError(source + ": not an ONNX model (the protobuf cannot be parsed; truncated or another file type)");
  if (!model.has_graph() || model.graph().node_size() == 0)
    throw DataError(source + ": the ONNX model has no graph nodes");
  Importer importer(model, source);
  return importer.run();
}

ImportedModel import_onnx(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError(path + ": cannot open for reading");
  std::ostringstream s;
  s << f.rdbuf();
  if (f.bad()) throw IoError(path + ": read error");
  return import_onnx_bytes(s.str(), path);
}

QuantModel build_imported_model(const ImportedModel& imported) {
  if (!imported.report.runnable())
    throw ConfigError("the imported model cannot run:\n" + imported.report.text());
  QuantModel model = build_model(imported.project);
  std::map<std::string, torch::Tensor> own = named_tensors(*model);
  torch::NoGradGuard no_grad;
  for (const auto& [name, t] : imported.tensors) {
    auto it = own.find(name);
    if (it == own.end()) throw ConfigError("imported tensor " + name + " has no place in the model");
    if (it->second.sizes() != t.sizes())
      throw ConfigError("imported tensor " + name + " has shape " + shape_text(t.sizes().vec()) + ", the model " +
                        shape_text(it->second.sizes().vec()));
    it->second.copy_(t);
  }
  model->eval();
  return model;
}

}  // namespace qnn
