// SPDX-License-Identifier: GPL-3.0-or-later
// The ONNX import: reading and checking the file, the graph walk, initializers and
// constants, affine chains, the dataset, and building the imported model. The
// quantizers are read in onnx_import_quant.cpp, the nodes mapped to layers in
// onnx_import_ops.cpp (shared declarations: onnx_import_detail.h).
#include "core/io/onnx_import.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/graph_layout.h"
#include "core/io/onnx_import_detail.h"

namespace qnn {

std::string ImportReport::text() const {
  std::string out;
  for (const std::string& u : unsupported) out += u + "\n";
  for (const std::string& n : notes) out += n + "\n";
  return out;
}

namespace onnx_import_detail {

namespace {

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  while (!out.empty() && out.front() == '_') out.erase(out.begin());
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "n" + out;
  return out;
}

// Control characters (a newline in a graph name) never reach a file or a label.
std::string printable(const std::string& text) {
  std::string out = text;
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

}  // namespace

std::string number_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
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

}  // namespace onnx_import_detail

ImportedModel import_onnx_bytes(const std::string& bytes, const std::string& source) {
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes))
    throw DataError(source + ": not an ONNX model (the protobuf cannot be parsed; truncated or another file type)");
  if (!model.has_graph() || model.graph().node_size() == 0)
    throw DataError(source + ": the ONNX model has no graph nodes");
  onnx_import_detail::Importer importer(model, source);
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
