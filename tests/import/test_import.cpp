// SPDX-License-Identifier: GPL-3.0-or-later
// ONNX import (issue 10 items 1 and 5, core/io/onnx_import.h): the public QONNX TFC
// models (2-bit Quant and 1-bit BipolarQuant) against a small independent interpreter
// of their ONNX graph written here from the QONNX/ONNX op definitions; weight
// histograms against codes counted here; round trips of our own QONNX and QCDQ
// exports (same layers, same weight codes, same eval logits); `qnn import`; and the
// bad files: truncated protobuf, a Quant with a runtime bit width, an unknown domain,
// an unsupported rounding mode, an unsupported op (inspection only) and a dead
// channel with a 1e-12 scale.
#include <torch/torch.h>

#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#include <onnx/onnx_pb.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/export/export_plan.h"
#include "core/export/qcdq_export.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/io/onnx_import.h"
#include "core/train/checkpoint.h"
#include "core/train/trainer.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/thrown_message.h"

// The message as std::string (the DataError / ConfigError the importer throws).
template <typename Ex, typename F>
std::string message_of(F&& f) {
  return thrown_message<Ex>(std::forward<F>(f)).toStdString();
}

using namespace qnn;

namespace {

const std::string kModels = QNN_SOURCE_DIR "/tests/data/models/";

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

onnx::ModelProto parse(const std::string& bytes) {
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes)) throw std::runtime_error("not an ONNX model");
  return m;
}

std::string bytes_of(const onnx::ModelProto& m) {
  std::string s;
  m.SerializeToString(&s);
  return s;
}

// ---- an independent interpreter of the ops in the TFC files (ONNX / QONNX specs)

torch::Tensor tensor_of(const onnx::TensorProto& t) {
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  if (t.data_type() == onnx::TensorProto_DataType_INT64) {
    torch::Tensor out = torch::empty(dims, torch::kInt64);
    if (!t.raw_data().empty())
      std::memcpy(out.data_ptr(), t.raw_data().data(), t.raw_data().size());
    else
      for (int i = 0; i < t.int64_data_size(); ++i) out.view(-1)[i] = t.int64_data(i);
    return out;
  }
  torch::Tensor out = torch::empty(dims, torch::kFloat32);
  if (!t.raw_data().empty())
    std::memcpy(out.data_ptr(), t.raw_data().data(), t.raw_data().size());
  else
    for (int i = 0; i < t.float_data_size(); ++i) out.view(-1)[i] = t.float_data(i);
  return out;
}

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

// QONNX Quant: q = clamp(round(x / s + z), min, max) with round half to even,
// y = (q - z) * s; BipolarQuant: y = (x >= 0 ? 1 : -1) * s.
torch::Tensor reference_quant(const torch::Tensor& x, const torch::Tensor& s, const torch::Tensor& z, int64_t bits,
                              bool is_signed, bool narrow) {
  const double lo = is_signed ? -std::pow(2.0, double(bits - 1)) + (narrow ? 1 : 0) : 0.0;
  const double hi = is_signed ? std::pow(2.0, double(bits - 1)) - 1 : std::pow(2.0, double(bits)) - 1 - (narrow ? 1 : 0);
  return (torch::clamp(torch::round(x / s + z), lo, hi) - z) * s;
}

torch::Tensor run_reference(const onnx::ModelProto& m, const torch::Tensor& input) {
  std::map<std::string, torch::Tensor> v;
  for (const auto& t : m.graph().initializer()) v[t.name()] = tensor_of(t);
  v[m.graph().input(0).name()] = input;
  for (const auto& n : m.graph().node()) {
    auto in = [&](int i) { return v.at(n.input(i)); };
    const std::string& op = n.op_type();
    torch::Tensor y;
    if (op == "Shape") {
      y = torch::tensor(in(0).sizes().vec(), torch::kInt64);
    } else if (op == "Gather") {
      y = in(0).index_select(0, in(1).reshape({-1})).reshape(in(1).sizes());
    } else if (op == "Unsqueeze") {
      y = in(0).unsqueeze(0);
    } else if (op == "Concat") {
      std::vector<torch::Tensor> parts;
      for (int i = 0; i < n.input_size(); ++i) parts.push_back(in(i).reshape({-1}));
      y = torch::cat(parts);
    } else if (op == "Reshape") {
      const torch::Tensor s = in(1).to(torch::kInt64).contiguous();
      y = in(0).reshape(std::vector<int64_t>(s.data_ptr<int64_t>(), s.data_ptr<int64_t>() + s.numel()));
    } else if (op == "Mul") {
      y = in(0) * in(1);
    } else if (op == "Sub") {
      y = in(0) - in(1);
    } else if (op == "Add") {
      y = in(0) + in(1);
    } else if (op == "Div") {
      y = in(0) / in(1);
    } else if (op == "Pow") {
      y = torch::pow(in(0), in(1));
    } else if (op == "Transpose") {
      y = in(0).t();
    } else if (op == "MatMul") {
      y = torch::matmul(in(0), in(1));
    } else if (op == "BatchNormalization") {
      const double eps = attr(n, "epsilon")->f();
      y = (in(0) - in(3)) / torch::sqrt(in(4) + eps) * in(1) + in(2);
    } else if (op == "Quant") {
      y = reference_quant(in(0), in(1), in(2), int64_t(in(3).item<float>()), attr(n, "signed")->i() != 0,
                          attr(n, "narrow")->i() != 0);
    } else if (op == "BipolarQuant") {
      y = torch::where(in(0) >= 0, torch::ones_like(in(0)), -torch::ones_like(in(0))) * in(1);
    } else {
      throw std::runtime_error("reference interpreter: no " + op);
    }
    v[n.output(0)] = y;
  }
  return v.at(m.graph().output(0).name());
}

// Code counts of every Quant / BipolarQuant on an initializer, counted here.
std::vector<std::vector<int64_t>> reference_weight_counts(const onnx::ModelProto& m) {
  std::map<std::string, torch::Tensor> init;
  for (const auto& t : m.graph().initializer()) init[t.name()] = tensor_of(t);
  std::vector<std::vector<int64_t>> out;
  for (const auto& n : m.graph().node()) {
    if (!init.count(n.input(0))) continue;
    if (n.op_type() == "Quant") {
      const torch::Tensor w = init.at(n.input(0));
      const int64_t bits = int64_t(init.at(n.input(3)).item<float>());
      const bool narrow = attr(n, "narrow")->i() != 0;
      const int64_t lo = -(int64_t(1) << (bits - 1)) + (narrow ? 1 : 0), hi = (int64_t(1) << (bits - 1)) - 1;
      const torch::Tensor q = torch::clamp(torch::round(w / init.at(n.input(1))), double(lo), double(hi)).to(torch::kInt64);
      std::vector<int64_t> counts;
      for (int64_t c = lo; c <= hi; ++c) counts.push_back((q == c).sum().item<int64_t>());
      out.push_back(counts);
    } else if (n.op_type() == "BipolarQuant") {
      const torch::Tensor w = init.at(n.input(0));
      const int64_t neg = (w < 0).sum().item<int64_t>();
      out.push_back({neg, 0, w.numel() - neg});
    }
  }
  return out;
}

onnx::NodeProto* node_named(onnx::ModelProto& m, const std::string& name) {
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.name() == name) return &n;
  throw std::runtime_error("no node " + name);
}


// ---- small models built here with the ONNX protobuf API

struct ModelBuilder {
  onnx::ModelProto m;
  ModelBuilder(const std::vector<int64_t>& input_shape) {
    m.set_ir_version(8);
    auto* o = m.add_opset_import();
    o->set_version(13);
    auto* in = m.mutable_graph()->add_input();
    in->set_name("x");
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    for (int64_t d : input_shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  void init(const std::string& name, const torch::Tensor& t) {
    onnx::TensorProto* p = m.mutable_graph()->add_initializer();
    p->set_name(name);
    for (int64_t d : t.sizes()) p->add_dims(d);
    const torch::Tensor c = t.contiguous();
    p->set_data_type(c.scalar_type() == torch::kInt8    ? onnx::TensorProto_DataType_INT8
                     : c.scalar_type() == torch::kUInt8 ? onnx::TensorProto_DataType_UINT8
                     : c.scalar_type() == torch::kInt32 ? onnx::TensorProto_DataType_INT32
                     : c.scalar_type() == torch::kInt64 ? onnx::TensorProto_DataType_INT64
                                                        : onnx::TensorProto_DataType_FLOAT);
    p->set_raw_data(std::string(static_cast<const char*>(c.data_ptr()), size_t(c.numel() * c.element_size())));
  }
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in, const std::string& out,
                        const std::string& domain = "") {
    onnx::NodeProto* n = m.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(out);
    n->set_domain(domain);
    for (const auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  }
  static void attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_STRING);
    a->set_s(v);
  }
  static void ints(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  std::string bytes(const std::string& output) {
    m.mutable_graph()->add_output()->set_name(output);
    return bytes_of(m);
  }
};

// x [1, 2, 4, 4] -> Quant (4-bit unsigned, scale 0.5) -> pool -> Trunc in the given form.
std::string trunc_model(const std::string& pool, int inputs, const std::string& rounding, float out_bits) {
  ModelBuilder b({1, 2, 4, 4});
  const char* dom = "qonnx.custom_op.general";
  b.init("s", torch::tensor(0.5f));
  b.init("z", torch::tensor(0.0f));
  b.init("b4", torch::tensor(4.0f));
  auto* q = b.node("Quant", {"x", "s", "z", "b4"}, "q", dom);
  ModelBuilder::attr(q, "signed", int64_t(0));
  ModelBuilder::attr(q, "narrow", int64_t(0));
  auto* p = b.node(pool, {"q"}, "pool");
  if (pool == "AveragePool") ModelBuilder::ints(p, "kernel_shape", {2, 2});
  b.init("acc_s", torch::tensor(0.125f));
  b.init("in_b", torch::tensor(6.0f));
  b.init("out_s", torch::tensor(0.5f));
  b.init("out_b", torch::tensor(out_bits));
  std::vector<std::string> in{"pool", "acc_s", "z", "in_b"};
  if (inputs == 6) in.push_back("out_s");
  in.push_back("out_b");
  auto* t = b.node("Trunc", in, "trunc", dom);
  if (!rounding.empty()) ModelBuilder::attr(t, "rounding_mode", rounding);
  auto* f = b.node("Flatten", {"trunc"}, "flat");
  ModelBuilder::attr(f, "axis", int64_t(1));
  return b.bytes("flat");
}

// x [1, 8] -> QuantizeLinear (INT8 or UINT8 zero point) -> Clip [lo, hi] -> DequantizeLinear.
std::string qcdq_act_model(bool int8, float lo, float hi) {
  ModelBuilder b({1, 8});
  b.init("s", torch::tensor(0.1f));
  b.init("z", int8 ? torch::zeros({}, torch::kInt8) : torch::zeros({}, torch::kUInt8));
  b.init("lo", int8 ? torch::tensor(int8_t(lo), torch::kInt8) : torch::tensor(uint8_t(lo), torch::kUInt8));
  b.init("hi", int8 ? torch::tensor(int8_t(hi), torch::kInt8) : torch::tensor(uint8_t(hi), torch::kUInt8));
  b.node("QuantizeLinear", {"x", "s", "z"}, "ql");
  b.node("Clip", {"ql", "lo", "hi"}, "clip");
  b.node("DequantizeLinear", {"clip", "s", "z"}, "act");
  b.init("w", torch::eye(8));
  auto* g = b.node("Gemm", {"act", "w"}, "fc");
  ModelBuilder::attr(g, "transB", int64_t(1));
  return b.bytes("fc");
}

const LayerSpec* first_of(const Project& p, LayerType t) {
  for (const LayerSpec& l : p.layers)
    if (l.type == t) return &l;
  return nullptr;
}

Project example(const std::string& name) {
  return load_project(QNN_SOURCE_DIR "/resources/examples/" + name + ".qnn.json");
}

// A briefly trained model of an example (statistics phase under way, real scales),
// and a batch of its test images.
QuantModel trained(const std::string& name, torch::Tensor& images) {
  torch::manual_seed(3);
  QuantModel model = build_model(example(name));
  const Dataset train = load_dataset(model->project().dataset, true, 1300);
  const Dataset test = load_dataset(model->project().dataset, false, 64);
  images = test.images;
  TrainOptions o;
  o.spec = model->project().training;
  o.spec.epochs = 1;
  o.spec.threads = 1;
  o.max_batches_per_epoch = 20;
  const std::atomic<bool> cancel{false};
  train_model(model, train, test, o, {}, cancel);
  model->eval();
  return model;
}

}  // namespace

class TestImport : public QObject {
  Q_OBJECT

  QTemporaryDir m_dir;
  Dataset m_test;  // Fashion-MNIST 28 x 28 in [0, 1] (no padding, no normalisation)

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    set_thread_count(1);
    DatasetSpec spec;
    spec.pad = 0;
    spec.normalize = false;
    m_test = load_dataset(spec, false, 200);
  }

  // The two public TFC files: structure, weights and logits against the interpreter.
  void tfcModelsMatchTheReferenceInterpreter() {
    for (const std::string file : {"TFC_2W2A.onnx", "TFC_1W1A.onnx"}) {
      const std::string bytes = read_all(kModels + file);
      const ImportedModel m = import_onnx(kModels + file);
      QVERIFY2(m.report.runnable(), m.report.text().c_str());
      QCOMPARE(m.report.format, std::string("QONNX"));
      int linears = 0, bns = 0, acts = 0;
      for (const LayerSpec& l : m.project.layers) {
        linears += l.type == LayerType::QuantLinear;
        bns += l.type == LayerType::BatchNorm1d;
        acts += l.type == LayerType::QuantIdentity;
      }
      QCOMPARE(linears, 4);
      QCOMPARE(bns, 3 + 2);  // three BatchNorms, the input map x * 2 - 1 and the final TensorNorm
      QCOMPARE(acts, 4);     // the input quantizer and one after each hidden BatchNorm
      QCOMPARE(int(m.report.notes.size()), 3);  // input map, TensorNorm, dataset
      QVERIFY(m.report.notes[0].find("Mul_7, Sub_9") != std::string::npos);
      // Every weight histogram equals the codes counted here.
      const auto counts = reference_weight_counts(parse(bytes));
      QCOMPARE(m.weights.size(), counts.size());
      for (size_t i = 0; i < counts.size(); ++i) {
        QCOMPARE(m.weights[i].levels.counts, counts[i]);
        QCOMPARE(m.weights[i].levels.saturated_low + m.weights[i].levels.saturated_high, int64_t(0));
      }
      // Eval logits: Fashion-MNIST images in [0, 1] (MNIST is not on the machine) and uniform noise.
      QuantModel model = build_imported_model(m);
      torch::NoGradGuard no_grad;
      const torch::Tensor x = torch::cat({m_test.images.slice(0, 0, 100), torch::rand({28, 1, 28, 28})});
      const torch::Tensor ours = model->forward(x);
      const torch::Tensor ref = run_reference(parse(bytes), x);
      QCOMPARE(ours.sizes().vec(), ref.sizes().vec());
      const double diff = (ours - ref).abs().max().item<double>();
      QVERIFY2(diff < 1e-4, qPrintable(QString::fromStdString(file) + " max |diff| " + QString::number(diff)));
      QVERIFY(torch::equal(ours.argmax(1), ref.argmax(1)));
    }
  }

  // The imported affine maps (x * 2 - 1, TensorNorm) are frozen BatchNorms: a training
  // step leaves them computing the same map and learning nothing.
  void affineMapsStayFrozenInTraining() {
    const ImportedModel m = import_onnx(kModels + "TFC_2W2A.onnx");
    const LayerSpec* pre = m.project.find("Mul_7");
    QVERIFY(pre);
    QCOMPARE(pre->param("frozen", 0), 1.0);
    // A clone (as the GUI trains and inspects copies) keeps the layer frozen.
    QuantModel built = build_imported_model(m);
    QuantModel model = clone_model(built);
    const torch::Tensor x = m_test.images.slice(0, 0, 32);
    torch::Tensor before;
    {
      torch::NoGradGuard g;
      before = model->forward_trace(x).at("Mul_7").value.clone();
    }
    model->train();
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-2));
    const torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), m_test.labels.slice(0, 0, 32));
    loss.backward();
    opt.step();
    torch::NoGradGuard g;
    const auto trace = model->forward_trace(x);
    // The same map in training mode, after a step: (2x - 1) on the flattened pixels.
    QVERIFY(torch::allclose(trace.at("Mul_7").value, before, 1e-6, 1e-6));
    QVERIFY(torch::allclose(before, x.reshape({32, -1}) * 2 - 1, 1e-5, 1e-6));
    const auto tensors = named_tensors(*model);
    QVERIFY(torch::equal(tensors.at("Mul_7.running_mean"), torch::zeros({784})));
    QVERIFY(!tensors.at("Mul_7.weight").requires_grad());
  }

  // Our own QONNX and QCDQ exports import back: same layers and connections, same
  // quantizer grids, same weight codes, same logits.
  void ownExportsRoundTrip() {
    for (const std::string name : {"lenet_lowprec", "tfc_w2a2"}) {
      torch::Tensor images;
      QuantModel model = trained(name, images);
      const ExportPlan plan = make_export_plan(model);
      for (const bool qcdq : {false, true}) {
        const std::string label = name + (qcdq ? " qcdq" : " qonnx");
        const ImportedModel m =
            import_onnx_bytes(qcdq ? qcdq_model_bytes(plan) : qonnx_model_bytes(plan), label + ".onnx");
        QVERIFY2(m.report.runnable(), (label + ": " + m.report.text()).c_str());
        QCOMPARE(m.report.format, std::string(qcdq ? "QCDQ" : "QONNX"));
        const Project& a = model->project();
        QCOMPARE(m.project.layers.size(), a.layers.size());
        for (const LayerSpec& l : a.layers) {
          const LayerSpec* b = m.project.find(l.id);
          QVERIFY2(b, qPrintable(QString::fromStdString(label + ": no layer " + l.id)));
          // A QuantHardTanh exports as its quantizer alone (no Clip, as Brevitas), which
          // imports as a QuantIdentity with the same quantizer.
          const LayerType expect_type = l.type == LayerType::QuantHardTanh ? LayerType::QuantIdentity : l.type;
          QCOMPARE(to_string(b->type), to_string(expect_type));
          QCOMPARE(b->inputs, l.inputs);
          for (const auto& [q1, q2] : {std::pair{&l.weight_quant, &b->weight_quant}, {&l.act_quant, &b->act_quant}}) {
            QCOMPARE(q1->has_value(), q2->has_value());
            if (!*q1) continue;
            QCOMPARE((*q2)->bit_width, (*q1)->bit_width);
            QCOMPARE((*q2)->is_signed, (*q1)->is_signed);
            QCOMPARE((*q2)->narrow_range, (*q1)->narrow_range);
          }
        }
        QuantModel back = build_imported_model(m);
        const ExportPlan plan2 = make_export_plan(back);
        for (const PlanNode& n : plan.nodes) {
          if (!n.weight_codes.defined()) continue;
          const PlanNode* n2 = plan2.find(n.id);
          QVERIFY(n2 && n2->weight_codes.defined());
          QVERIFY2(torch::equal(n.weight_codes, n2->weight_codes), qPrintable(QString::fromStdString(label + " " + n.id)));
        }
        torch::NoGradGuard no_grad;
        const torch::Tensor& x = images;
        const torch::Tensor y1 = model->forward(x), y2 = back->forward(x);
        const double diff = (y1 - y2).abs().max().item<double>();
        QVERIFY2(diff < 1e-5, qPrintable(QString::fromStdString(label) + " max |diff| " + QString::number(diff)));
      }
    }
  }

  void cliImportWritesAProjectThatEvaluates() {
    const QString out = m_dir.filePath("tfc.qnn.json");
    QProcess p;
    p.start(QNN_CLI_PATH, {"import", QString::fromStdString(kModels + "TFC_2W2A.onnx"), "--out", out});
    QVERIFY(p.waitForFinished(60000));
    const QString text = QString::fromUtf8(p.readAllStandardOutput());
    QVERIFY2(p.exitCode() == 0, qPrintable(text + p.readAllStandardError()));
    QVERIFY(text.contains("(QONNX): 16 layers, 4 weight quantizer(s)"));
    QVERIFY(QFile::exists(m_dir.filePath("tfc.pt")));
    QProcess e;
    e.start(QNN_CLI_PATH, {"eval", out, "--checkpoint", m_dir.filePath("tfc.pt"), "--test-limit", "50"});
    QVERIFY(e.waitForFinished(60000));
    QVERIFY2(e.exitCode() == 0, qPrintable(e.readAllStandardError()));
    QVERIFY(QString::fromUtf8(e.readAllStandardOutput()).contains("test_accuracy="));
  }

  void badFilesNameTheFileAndNode() {
    const std::string good = read_all(kModels + "TFC_2W2A.onnx");
    // Truncated protobuf.
    QVERIFY(message_of<DataError>([&] { import_onnx_bytes(good.substr(0, 5000), "cut.onnx"); })
                .find("cut.onnx: not an ONNX model") != std::string::npos);
    // A bit width computed at run time.
    {
      onnx::ModelProto m = parse(good);
      node_named(m, "Quant_13")->set_input(3, "33");  // the output of Mul_7
      const std::string msg = message_of<DataError>([&] { import_onnx_bytes(bytes_of(m), "dyn.onnx"); });
      QVERIFY2(msg.find("dyn.onnx: node 'Quant_13' (Quant): bit width '33' is not a constant") != std::string::npos,
               msg.c_str());
    }
    // An unknown domain.
    {
      onnx::ModelProto m = parse(good);
      node_named(m, "Quant_25")->set_domain("com.example.custom");
      const std::string msg = message_of<DataError>([&] { import_onnx_bytes(bytes_of(m), "dom.onnx"); });
      QVERIFY2(msg.find("node 'Quant_25' (Quant): unknown domain 'com.example.custom'") != std::string::npos, msg.c_str());
    }
    // A rounding mode that is not executed as specified is refused by name.
    {
      onnx::ModelProto m = parse(good);
      for (auto& a : *node_named(m, "Quant_25")->mutable_attribute())
        if (a.name() == "rounding_mode") a.set_s("FLOOR");
      const std::string msg = message_of<DataError>([&] { import_onnx_bytes(bytes_of(m), "floor.onnx"); });
      QVERIFY2(msg.find("node 'Quant_25' (Quant): rounding_mode FLOOR is not supported") != std::string::npos,
               msg.c_str());
    }
    // A file that is not ONNX at all.
    QVERIFY(message_of<DataError>([&] { import_onnx(QNN_SOURCE_DIR "/README.md"); }).find("README.md: not an ONNX model") !=
            std::string::npos);
  }

  // QONNX Trunc: v1 (5 inputs) and v2 (6 inputs) give the same truncating pool;
  // rounding_mode defaults to FLOOR; a Trunc that drops no bits after a global pool
  // leaves a plain average pool.
  void truncFormsAndDefaults() {
    for (int inputs : {5, 6}) {
      const ImportedModel m = import_onnx_bytes(trunc_model("AveragePool", inputs, "", 4.0f), "trunc.onnx");
      QVERIFY2(m.report.runnable(), m.report.text().c_str());
      const LayerSpec* pool = first_of(m.project, LayerType::TruncAvgPool2d);
      QVERIFY2(pool, qPrintable(QString::number(inputs)));
      QCOMPARE(pool->param("bit_width", 0), 4.0);
      QCOMPARE(pool->param("floor", -1), 1.0);  // the spec's default
    }
    {
      const ImportedModel m = import_onnx_bytes(trunc_model("AveragePool", 6, "ROUND", 4.0f), "round.onnx");
      QCOMPARE(first_of(m.project, LayerType::TruncAvgPool2d)->param("floor", -1), 0.0);
    }
    {
      const ImportedModel m = import_onnx_bytes(trunc_model("GlobalAveragePool", 6, "ROUND", 6.0f), "gap.onnx");
      QVERIFY(!first_of(m.project, LayerType::TruncAdaptiveAvgPool2d));
      const LayerSpec* pool = first_of(m.project, LayerType::AvgPool2d);
      QVERIFY(pool);
      QCOMPARE(pool->pair_param("kernel_size", 0), (std::array<int64_t, 2>{4, 4}));
      QuantModel model = build_imported_model(m);
      torch::NoGradGuard g;
      const torch::Tensor x = torch::rand({3, 2, 4, 4}) * 8;
      // Independent: quantize (4-bit unsigned, scale 0.5), then the mean of each channel.
      const torch::Tensor q = torch::clamp(torch::round(x / 0.5), 0, 15) * 0.5;
      QVERIFY(torch::allclose(model->forward(x), q.mean({2, 3}), 1e-6, 1e-6));
    }
    QVERIFY(message_of<DataError>([] { import_onnx_bytes(trunc_model("AveragePool", 6, "CEIL", 4.0f), "ceil.onnx"); })
                .find("node 'trunc' (Trunc): Trunc rounding_mode CEIL is not supported") != std::string::npos);
  }

  // A zero point in the file (UINT8 QCDQ, zero point 50) becomes a shifted quantizer
  // whose learned zero point a training-mode call does not overwrite with statistics.
  void importedZeroPointSurvivesTraining() {
    ModelBuilder b({1, 8});
    b.init("s", torch::tensor(0.1f));
    b.init("z", torch::tensor(uint8_t(50), torch::kUInt8));
    b.node("QuantizeLinear", {"x", "s", "z"}, "ql");
    b.node("DequantizeLinear", {"ql", "s", "z"}, "act");
    b.init("w", torch::eye(8));
    auto* g = b.node("Gemm", {"act", "w"}, "fc");
    ModelBuilder::attr(g, "transB", int64_t(1));
    const ImportedModel m = import_onnx_bytes(b.bytes("fc"), "zp.onnx");
    const LayerSpec* a = first_of(m.project, LayerType::QuantIdentity);
    QVERIFY(a && a->act_quant && a->act_quant->shifted);
    QuantModel model = build_imported_model(m);
    const torch::Tensor x = torch::linspace(-6, 22, 8).reshape({1, 8});
    // ONNX: clamp(round(x / s) + z, 0, 255), then (q - z) * s.
    const torch::Tensor ref = (torch::clamp(torch::round(x / 0.1f) + 50, 0, 255) - 50) * 0.1f;
    torch::Tensor eval_out, train_out;
    {
      torch::NoGradGuard g2;
      eval_out = model->forward(x);
      model->train();
      train_out = model->forward(x.expand({4, 8}).contiguous());
      train_out = model->forward(x.expand({4, 8}).contiguous());  // a second call: no statistics took over
    }
    QVERIFY(torch::allclose(eval_out, ref, 1e-5, 1e-5));
    QVERIFY(torch::allclose(train_out[0], ref[0], 1e-5, 1e-5));
  }

  // BatchNormalization attributes are float32: eps 1e-3 and momentum 0.99 come in as
  // the decimals written (0.001, torch momentum 0.01), not 0.0010000000475 / 0.0099999.
  void batchNormAttributesAsWritten() {
    ModelBuilder b({1, 3, 2, 2});
    for (const char* name : {"g", "b", "m", "v"}) b.init(name, torch::ones({3}));
    auto* n = b.node("BatchNormalization", {"x", "g", "b", "m", "v"}, "bn");
    auto* eps = n->add_attribute();
    eps->set_name("epsilon");
    eps->set_type(onnx::AttributeProto_AttributeType_FLOAT);
    eps->set_f(1e-3f);
    auto* mom = n->add_attribute();
    mom->set_name("momentum");
    mom->set_type(onnx::AttributeProto_AttributeType_FLOAT);
    mom->set_f(0.99f);
    auto* f = b.node("Flatten", {"bn"}, "flat");
    ModelBuilder::attr(f, "axis", int64_t(1));
    const ImportedModel m = import_onnx_bytes(b.bytes("flat"), "bn.onnx");
    const LayerSpec* bn = first_of(m.project, LayerType::BatchNorm2d);
    QVERIFY(bn);
    QCOMPARE(bn->param("eps", 0), 0.001);
    QCOMPARE(bn->param("momentum", 0), 0.01);
  }

  // QCDQ activation grids come from the Clip bounds (within the integer type's).
  void qcdqClipBoundsGiveTheGrid() {
    struct Case {
      bool int8;
      float lo, hi;
      int bits;
      bool is_signed, narrow;
    };
    for (const Case c : {Case{true, -128, 127, 8, true, false}, Case{true, -7, 7, 4, true, true},
                         Case{true, 0, 127, 7, false, false}, Case{false, 0, 14, 4, false, true},
                         Case{false, 0, 255, 8, false, false}}) {
      const ImportedModel m = import_onnx_bytes(qcdq_act_model(c.int8, c.lo, c.hi), "act.onnx");
      const LayerSpec* a = first_of(m.project, LayerType::QuantIdentity);
      QVERIFY(a && a->act_quant);
      QCOMPARE(a->act_quant->bit_width, c.bits);
      QCOMPARE(a->act_quant->is_signed, c.is_signed);
      QCOMPARE(a->act_quant->narrow_range, c.narrow);
      // The imported quantizer computes what the QCDQ chain computes (ONNX: round half to even, saturate, clip).
      QuantModel model = build_imported_model(m);
      torch::NoGradGuard g;
      const torch::Tensor x = torch::linspace(-20, 30, 8).reshape({1, 8});
      const torch::Tensor ref = torch::clamp(torch::round(x / 0.1f), c.lo, c.hi) * 0.1f;
      QVERIFY2(torch::allclose(model->forward(x), ref, 1e-6, 1e-6), qPrintable(QString::number(c.hi)));
    }
    const std::string msg = message_of<DataError>([] { import_onnx_bytes(qcdq_act_model(true, -100, 100), "odd.onnx"); });
    QVERIFY2(msg.find("node 'act' (DequantizeLinear): the codes are clipped to [-100, 100], which is no integer grid") !=
                 std::string::npos,
             msg.c_str());
  }

  // Non-finite weights and malformed attributes are refused by node, never raw.
  void malformedConstantsAreRefusedByNode() {
    onnx::ModelProto m = parse(read_all(kModels + "TFC_2W2A.onnx"));
    const std::string weight = node_named(m, "Quant_30")->input(0);
    for (auto& t : *m.mutable_graph()->mutable_initializer())
      if (t.name() == weight) {
        std::string raw = t.raw_data();
        const float nan = std::nanf("");
        std::memcpy(raw.data(), &nan, 4);
        t.set_raw_data(raw);
      }
    std::string msg = message_of<DataError>([&] { import_onnx_bytes(bytes_of(m), "nan.onnx"); });
    QVERIFY2(msg.find("node 'MatMul_32' (MatMul): the weight holds 1 NaN or infinite value(s)") != std::string::npos,
             msg.c_str());
    // A per-axis scale of the wrong length on QCDQ weight codes.
    ModelBuilder b({1, 4});
    b.init("codes", torch::ones({3, 4}, torch::kInt8));
    b.init("s", torch::full({5}, 0.1f));
    b.node("DequantizeLinear", {"codes", "s"}, "w");
    ModelBuilder::attr(b.m.mutable_graph()->mutable_node(0), "axis", int64_t(0));
    auto* g = b.node("Gemm", {"x", "w"}, "fc");
    ModelBuilder::attr(g, "transB", int64_t(1));
    msg = message_of<DataError>([&] { import_onnx_bytes(b.bytes("fc"), "axis.onnx"); });
    QVERIFY2(msg.find("node 'w' (DequantizeLinear): 5 scales for axis 0 of size 3") != std::string::npos, msg.c_str());
  }

  // Our own exports carry qnn.preprocessing: the imported project normalises and pads
  // as the exported one did.
  void preprocessingMetadataSetsTheDataset() {
    torch::Tensor images;
    QuantModel model = trained("lenet_lowprec", images);
    const ImportedModel m = import_onnx_bytes(qonnx_model_bytes(make_export_plan(model)), "lenet.onnx");
    QCOMPARE(m.project.dataset.name, std::string("fashion-mnist"));
    QCOMPARE(m.project.dataset.pad, model->project().dataset.pad);
    QCOMPARE(m.project.dataset.normalize, true);
    QCOMPARE(m.project.name, model->project().name);
  }

  // A node no layer maps to: reported by name; every weight quantizer is still
  // inspected from the file's constants.
  void unsupportedNodeOpensForInspection() {
    onnx::ModelProto m = parse(read_all(kModels + "TFC_2W2A.onnx"));
    node_named(m, "BatchNormalization_21")->set_op_type("LpNormalization");
    const ImportedModel r = import_onnx_bytes(bytes_of(m), "lp.onnx");
    QVERIFY(!r.report.runnable());
    QCOMPARE(r.report.unsupported.size(), size_t(1));
    QCOMPARE(r.report.unsupported[0], std::string("not supported: LpNormalization at node BatchNormalization_21"));
    QCOMPARE(r.weights.size(), size_t(4));
    QVERIFY(message_of<ConfigError>([&] { build_imported_model(r); }).find("LpNormalization") != std::string::npos);
  }

  // A dead output channel (all-zero weights, scale 1e-12) gives no NaN or Inf anywhere.
  void deadChannelStaysFinite() {
    onnx::ModelProto m = parse(read_all(kModels + "TFC_2W2A.onnx"));
    // MatMul_20's weight [64, 784] (input 0 of Quant_18) with a per-channel scale
    // [64, 1]: channel 0 dead.
    onnx::TensorProto* w = nullptr;
    onnx::TensorProto* s = nullptr;
    const std::string weight_name = node_named(m, "Quant_18")->input(0);
    const std::string scale_name = node_named(m, "Quant_18")->input(1);
    for (auto& t : *m.mutable_graph()->mutable_initializer()) {
      if (t.name() == weight_name) w = &t;
      if (t.name() == scale_name) s = &t;
    }
    QVERIFY(w && s);
    torch::Tensor wt = tensor_of(*w);
    wt[0].zero_();
    w->set_raw_data(std::string(static_cast<const char*>(wt.data_ptr()), size_t(wt.numel()) * 4));
    torch::Tensor st = torch::ones({64, 1});
    st[0][0] = 1e-12f;
    s->clear_dims();
    s->add_dims(64);
    s->add_dims(1);
    s->set_raw_data(std::string(static_cast<const char*>(st.data_ptr()), 64 * 4));
    const ImportedModel r = import_onnx_bytes(bytes_of(m), "dead.onnx");
    QVERIFY2(r.report.runnable(), r.report.text().c_str());
    const inspect::WeightStats& first = r.weights.at(0);
    QVERIFY(first.per_channel);
    QCOMPARE(first.scales.size(), size_t(64));
    for (double v : first.scales) QVERIFY(std::isfinite(v) && v > 0);
    QVERIFY(std::isfinite(first.mse));
    QVERIFY(!std::isnan(first.sqnr_db));
    QCOMPARE(first.channel_levels.size(), size_t(64));
    QCOMPARE(first.channel_levels[0].counts[1], int64_t(784));  // every weight of the dead channel on code 0
    QuantModel model = build_imported_model(r);
    torch::NoGradGuard no_grad;
    const torch::Tensor y = model->forward(m_test.images.slice(0, 0, 16));
    QVERIFY(torch::isfinite(y).all().item<bool>());
  }
};

QTEST_MAIN(TestImport)
#include "test_import.moc"
