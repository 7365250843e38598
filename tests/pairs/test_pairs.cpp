// SPDX-License-Identifier: GPL-3.0-or-later
// Brevitas parameter forms (issue 11 item 1): kernel_size, stride, padding and dilation
// as one number or a pair [h, w] on Conv2d / QuantConv2d and the 2-D pools, and
// output_size on TruncAdaptiveAvgPool2d; depthwise / grouped convolutions. Checked
// through the project file, validation and shape inference (against torch's own
// conv2d / pooling shapes), the summary's MACs (worked out by hand), the model
// builder (against torch::conv2d on the same weights), the ONNX attributes, QCDQ in
// ONNX Runtime and the packed reader.
#include <torch/torch.h>

#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/export/export.h"
#include "core/export/packed_model.h"
#include "core/export/verify.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/graph/summary.h"
#include "core/graph/validate.h"
#include "core/layers/layer_descriptor.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace qnn;

namespace {

using T = LayerType;
using IntList = std::vector<int64_t>;

LayerSpec layer(const std::string& id, LayerType t, std::vector<std::string> inputs,
                std::map<std::string, double> params = {}, std::map<std::string, std::array<double, 2>> pairs = {},
                bool rqt = false) {
  LayerSpec l;
  l.id = id;
  l.type = t;
  l.inputs = std::move(inputs);
  l.params = std::move(params);
  l.pairs = std::move(pairs);
  l.return_quant_tensor = rqt;
  return l;
}

Project project(std::vector<int64_t> input_shape, std::vector<LayerSpec> body, const std::string& last) {
  Project p;
  p.name = "pairs";
  p.input_shape = std::move(input_shape);
  p.layers.push_back(layer("input", T::Input, {}));
  for (LayerSpec& l : body) p.layers.push_back(std::move(l));
  p.layers.push_back(layer("output", T::Output, {last}));
  return p;
}

/// QuantIdentity -> QuantConv2d k[3,1] p[1,0] -> QuantReLU -> MaxPool2d k[2,1] ->
/// QuantConv2d depthwise (groups 6) k[1,5] s[1,2] d[1,1] p[0,2] -> QuantReLU ->
/// TruncAvgPool2d k[1,2] -> TruncAdaptiveAvgPool2d [1,2] -> Flatten -> QuantLinear, on [1, 12, 20].
/// Shapes (torch rule (in + 2p - d(k-1) - 1) / s + 1 per axis):
///   conv1 [6, 12+2-3+1, 20-1+1] = [6, 12, 20]; pool1 [6, 6, 20];
///   dw [6, 6, (20+4-5)/2+1] = [6, 6, 10]; tpool [6, 6, 5]; gap [6, 1, 2]; fc in 12.
Project tuple_graph() {
  return project({1, 12, 20},
                 {layer("qid", T::QuantIdentity, {"input"}, {}, {}, true),
                  layer("conv1", T::QuantConv2d, {"qid"}, {{"in_channels", 1}, {"out_channels", 6}},
                        {{"kernel_size", {3, 1}}, {"padding", {1, 0}}}, true),
                  layer("relu1", T::QuantReLU, {"conv1"}, {}, {}, true),
                  layer("pool1", T::MaxPool2d, {"relu1"}, {}, {{"kernel_size", {2, 1}}}),
                  layer("dw", T::QuantConv2d, {"pool1"}, {{"in_channels", 6}, {"out_channels", 6}, {"groups", 6}},
                        {{"kernel_size", {1, 5}}, {"stride", {1, 2}}, {"padding", {0, 2}}}, true),
                  layer("relu2", T::QuantReLU, {"dw"}, {}, {}, true),
                  layer("tpool", T::TruncAvgPool2d, {"relu2"}, {}, {{"kernel_size", {1, 2}}}, true),
                  layer("gap", T::TruncAdaptiveAvgPool2d, {"tpool"}, {}, {{"output_size", {1, 5}}}, true),
                  layer("flatten", T::Flatten, {"gap"}),
                  layer("fc", T::QuantLinear, {"flatten"}, {{"in_features", 30}, {"out_features", 4}})},
                 "fc");
}

std::string all_text(const ValidationResult& v) {
  std::string s;
  for (const Diagnostic& d : v.diagnostics) s += diagnostic_line(d) + "\n";
  return s;
}

const Diagnostic* error_on(const ValidationResult& v, const std::string& node, const std::string& words) {
  for (const Diagnostic& d : v.diagnostics)
    if (d.node == node && d.severity == Diagnostic::Severity::Error && d.message.find(words) != std::string::npos)
      return &d;
  return nullptr;
}

std::vector<int64_t> tail(const torch::Tensor& t) { return {t.sizes().begin() + 1, t.sizes().end()}; }

QuantModel warmed_model(const Project& p, const torch::Tensor& x) {
  torch::manual_seed(11);
  QuantModel m = build_model(p);
  m->train();
  {
    torch::NoGradGuard g;
    for (int i = 0; i < 4; ++i) m->forward(x * (1.0 + 0.25 * i));
  }
  m->eval();
  return m;
}

}  // namespace

class TestPairs : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  std::string path(const std::string& name) const { return m_dir.filePath(QString::fromStdString(name)).toStdString(); }

 private Q_SLOTS:
  void fileKeepsEachForm() {
    const Project p = tuple_graph();
    const std::string text = project_to_json(p);
    // In the file: conv1's kernel_size is the list [3, 1], its in_channels a number.
    const nlohmann::json j = nlohmann::json::parse(text);
    bool seen = false;
    for (const auto& l : j.at("layers"))
      if (l.at("id") == "conv1") {
        seen = true;
        QVERIFY(l.at("params").at("kernel_size") == nlohmann::json::array({3, 1}));
        QVERIFY(l.at("params").at("in_channels").is_number_integer());
      }
    QVERIFY(seen);
    const Project back = project_from_json(text, "pairs.qnn.json");
    QVERIFY(back == p);
    QCOMPARE(project_to_json(back), text);
    const LayerSpec& conv1 = *back.find("conv1");
    QVERIFY(conv1.pairs.count("kernel_size") && !conv1.params.count("kernel_size"));
    QCOMPARE(conv1.pair_param("kernel_size", 0), (std::array<int64_t, 2>{3, 1}));
    QCOMPARE(conv1.pair_param("stride", 1), (std::array<int64_t, 2>{1, 1}));  // absent: the fallback for both
    QCOMPARE(conv1.int_param("kernel_size", 0), int64_t{3});                 // h, for code that wants one number

    // A square [3, 3] stays a pair and a number stays a number.
    Project sq = p;
    sq.find("conv1")->set_pair("kernel_size", 3, 3);
    sq.find("dw")->set_param("kernel_size", 5);
    const Project sq2 = project_from_json(project_to_json(sq));
    QVERIFY(sq2.find("conv1")->pairs.count("kernel_size"));
    QVERIFY(sq2.find("dw")->params.count("kernel_size") && !sq2.find("dw")->pairs.count("kernel_size"));

    // The setters keep one form per name.
    LayerSpec l;
    l.set_pair("padding", 1, 2);
    l.set_param("padding", 3);
    QVERIFY(!l.pairs.count("padding"));
    l.set_pair("padding", 1, 2);
    QVERIFY(!l.params.count("padding"));
    l.erase_param("padding");
    QVERIFY(!l.has_param("padding"));
  }

  void fileRejectsMalformedLists() {
    const std::string good = project_to_json(tuple_graph());
    // Replace conv1's pair by a list of three entries.
    std::string bad = good;
    const size_t at = bad.find("\"kernel_size\"");
    QVERIFY(at != std::string::npos);
    const size_t open = bad.find('[', at), close = bad.find(']', at);
    bad.replace(open, close - open + 1, "[3, 1, 1]");
    try {
      project_from_json(bad, "bad.qnn.json");
      QFAIL("loaded a kernel_size of three entries");
    } catch (const ConfigError& e) {
      const std::string m = e.what();
      QVERIFY2(m.find("bad.qnn.json") != std::string::npos && m.find("kernel_size") != std::string::npos &&
                   m.find("pair [h, w]") != std::string::npos && m.find("3 entries") != std::string::npos,
               m.c_str());
    }
    bad = good;
    bad.replace(open, close - open + 1, "[3, \"one\"]");
    try {
      project_from_json(bad, "bad.qnn.json");
      QFAIL("loaded a kernel_size with a string entry");
    } catch (const ConfigError& e) {
      QVERIFY2(std::string(e.what()).find("kernel_size") != std::string::npos, e.what());
    }
  }

  void shapesMatchTorch() {
    const Project p = tuple_graph();
    const ValidationResult v = validate(p);
    QVERIFY2(v.ok(), all_text(v).c_str());
    // Independent shapes: torch's own functional ops on a zero tensor.
    torch::Tensor x = torch::zeros({1, 1, 12, 20});
    x = torch::conv2d(x, torch::zeros({6, 1, 3, 1}), torch::Tensor(), IntList{1, 1}, IntList{1, 0});
    QCOMPARE(v.nodes.at("conv1").shape, tail(x));
    x = torch::max_pool2d(x, {2, 1}, {2, 1});
    QCOMPARE(v.nodes.at("pool1").shape, tail(x));
    x = torch::conv2d(x, torch::zeros({6, 1, 1, 5}), torch::Tensor(), IntList{1, 2}, IntList{0, 2}, IntList{1, 1}, 6);
    QCOMPARE(v.nodes.at("dw").shape, tail(x));
    x = torch::avg_pool2d(x, {1, 2}, {1, 2});
    QCOMPARE(v.nodes.at("tpool").shape, tail(x));
    x = torch::adaptive_avg_pool2d(x, {1, 5});
    QCOMPARE(v.nodes.at("gap").shape, tail(x));
    QCOMPARE(v.nodes.at("gap").shape, (std::vector<int64_t>{6, 1, 5}));

    // Dilation pairs: k [3, 2] d [1, 2] on 9x9 with padding [1, 0] and stride [2, 1]:
    // h (9 + 2 - 2 - 1) / 2 + 1 = 5, w (9 - 2 - 1) / 1 + 1 = 7.
    Project d = project({2, 9, 9},
                        {layer("c", T::Conv2d, {"input"}, {{"in_channels", 2}, {"out_channels", 3}},
                               {{"kernel_size", {3, 2}}, {"stride", {2, 1}}, {"padding", {1, 0}}, {"dilation", {1, 2}}})},
                        "c");
    const ValidationResult vd = validate(d);
    QVERIFY2(vd.ok(), all_text(vd).c_str());
    QCOMPARE(vd.nodes.at("c").shape, (std::vector<int64_t>{3, 5, 7}));
    const auto ref = torch::conv2d(torch::zeros({1, 2, 9, 9}), torch::zeros({3, 2, 3, 2}), torch::Tensor(), IntList{2, 1},
                                   IntList{1, 0}, IntList{1, 2});
    QCOMPARE(vd.nodes.at("c").shape, tail(ref));
  }

  void macsByHand() {
    const Project p = tuple_graph();
    const ValidationResult v = validate(p);
    const ModelSummary s = summarize(p, v);
    auto row = [&](const std::string& id) {
      for (const LayerSummary& l : s.layers)
        if (l.id == id) return l;
      return LayerSummary{};
    };
    // conv1: 6 * 12 * 20 outputs, each 1 * 3 * 1 MACs; weights 6 * 1 * 3 * 1, biases 6.
    QCOMPARE(row("conv1").macs, int64_t{6 * 12 * 20 * 3});
    QCOMPARE(row("conv1").weights, int64_t{18});
    // dw (groups 6): 6 * 6 * 10 outputs, each (6 / 6) * 1 * 5 MACs; weights 6 * 1 * 1 * 5.
    QCOMPARE(row("dw").macs, int64_t{6 * 6 * 10 * 5});
    QCOMPARE(row("dw").weights, int64_t{30});
  }

  void diagnosticsOnTheNode() {
    // A zero entry, a negative entry, a fraction, a pair where one number belongs.
    Project p = tuple_graph();
    p.find("conv1")->set_pair("kernel_size", 0, 3);
    p.find("dw")->set_pair("padding", -1, 0);
    p.find("pool1")->set_pair("stride", 1.5, 1);
    p.find("fc")->set_pair("in_features", 30, 1);
    const ValidationResult v = validate(p);
    QVERIFY2(error_on(v, "conv1", "kernel_size (each entry) must be positive, got [0, 3]"), all_text(v).c_str());
    QVERIFY2(error_on(v, "dw", "padding (each entry) must not be negative, got [-1, 0]"), all_text(v).c_str());
    QVERIFY2(error_on(v, "pool1", "stride (each entry) must be a whole number, got [1.5, 1]"), all_text(v).c_str());
    QVERIFY2(error_on(v, "fc", "in_features takes one number, not a pair [h, w]"), all_text(v).c_str());

    // Conv1d has one spatial axis.
    Project c1 = project({2, 16}, {layer("c", T::Conv1d, {"input"}, {{"in_channels", 2}, {"out_channels", 2}},
                                         {{"kernel_size", {3, 1}}})},
                         "c");
    QVERIFY2(error_on(validate(c1), "c", "kernel_size takes one number"), all_text(validate(c1)).c_str());

    // A kernel larger than the padded input: 5x40 on 12x20 padded by [0, 2] (12x24).
    Project big = tuple_graph();
    big.find("conv1")->set_pair("kernel_size", 5, 40);
    big.find("conv1")->set_pair("padding", 0, 2);
    const ValidationResult vb = validate(big);
    const Diagnostic* d = error_on(vb, "conv1", "5x40 window");
    QVERIFY2(d && d->code == "spatial" && d->message.find("12x24 padded") != std::string::npos, all_text(vb).c_str());

    // Groups that do not divide the channels.
    Project g = tuple_graph();
    g.find("dw")->set_param("groups", 4);
    QVERIFY2(error_on(validate(g), "dw", "divisible by groups (4)"), all_text(validate(g)).c_str());

    // Nothing crashes on any of these: the builder is never reached with an invalid graph.
    for (const Project* bad : {&p, &big, &g}) {
      try {
        build_model(*bad);
        QFAIL("built an invalid graph");
      } catch (const Error&) {
      }
    }
  }

  void builtModuleIsTorchConv() {
    // The float Conv2d built from a pair spec computes torch::conv2d with those pairs.
    Project p = project({2, 9, 9},
                        {layer("c", T::Conv2d, {"input"}, {{"in_channels", 2}, {"out_channels", 4}, {"groups", 2}},
                               {{"kernel_size", {3, 2}}, {"stride", {2, 1}}, {"padding", {1, 0}}, {"dilation", {1, 2}}})},
                        "c");
    torch::manual_seed(3);
    QuantModel m = build_model(p);
    m->eval();
    const torch::Tensor x = torch::randn({5, 2, 9, 9});
    torch::Tensor w, b;
    for (const auto& item : m->named_parameters()) {
      if (item.key().find("weight") != std::string::npos) w = item.value();
      if (item.key().find("bias") != std::string::npos) b = item.value();
    }
    QVERIFY(w.defined() && b.defined());
    QCOMPARE(w.sizes().vec(), (std::vector<int64_t>{4, 1, 3, 2}));
    torch::NoGradGuard g;
    const torch::Tensor want = torch::conv2d(x, w, b, IntList{2, 1}, IntList{1, 0}, IntList{1, 2}, 2);
    const torch::Tensor got = app_logits(m, x);
    QCOMPARE(got.numel(), want.numel());
    QVERIFY(torch::allclose(got.reshape_as(want), want, 1e-5, 1e-6));
  }

  void onnxAttributesAndRuntimes() {
    const Project p = tuple_graph();
    const torch::Tensor x = torch::rand({300, 1, 12, 20});
    QuantModel m = warmed_model(p, x);
    for (ExportFormat f : {ExportFormat::Qcdq, ExportFormat::Qonnx, ExportFormat::Packed})
      for (const ExportIssue& i : preflight(p, f)) QVERIFY2(!i.error, i.text().c_str());

    const std::string qcdq = path("pairs.onnx");
    export_model(m, ExportFormat::Qcdq, qcdq);
    onnx::ModelProto model;
    {
      std::ifstream in(qcdq, std::ios::binary);
      QVERIFY(model.ParseFromIstream(&in));
    }
    auto ints = [](const onnx::NodeProto& n, const std::string& name) {
      for (const auto& a : n.attribute())
        if (a.name() == name) return std::vector<int64_t>(a.ints().begin(), a.ints().end());
      return std::vector<int64_t>{};
    };
    auto group = [](const onnx::NodeProto& n) {
      for (const auto& a : n.attribute())
        if (a.name() == "group") return a.i();
      return int64_t{-1};
    };
    int convs = 0, maxpools = 0;
    for (const auto& n : model.graph().node()) {
      if (n.op_type() == "Conv" && n.name().find("conv1") != std::string::npos) {
        ++convs;
        QCOMPARE(ints(n, "kernel_shape"), (std::vector<int64_t>{3, 1}));
        QCOMPARE(ints(n, "pads"), (std::vector<int64_t>{1, 0, 1, 0}));  // h_begin, w_begin, h_end, w_end
        QCOMPARE(group(n), int64_t{1});
      }
      if (n.op_type() == "Conv" && n.name().find("dw") != std::string::npos) {
        ++convs;
        QCOMPARE(ints(n, "kernel_shape"), (std::vector<int64_t>{1, 5}));
        QCOMPARE(ints(n, "strides"), (std::vector<int64_t>{1, 2}));
        QCOMPARE(ints(n, "pads"), (std::vector<int64_t>{0, 2, 0, 2}));
        QCOMPARE(group(n), int64_t{6});
      }
      if (n.op_type() == "MaxPool") {
        ++maxpools;
        QCOMPARE(ints(n, "kernel_shape"), (std::vector<int64_t>{2, 1}));
        QCOMPARE(ints(n, "strides"), (std::vector<int64_t>{2, 1}));
      }
    }
    QCOMPARE(convs, 2);
    QCOMPARE(maxpools, 1);

    const VerifyResult v = verify_export(m, ExportFormat::Qcdq, qcdq, x);
    QVERIFY2(v.passed && v.agreement >= 0.999, v.text().c_str());
    export_model(m, ExportFormat::Qonnx, path("pairs.qonnx.onnx"));
    QVERIFY(std::filesystem::file_size(path("pairs.qonnx.onnx")) > 0);
    const std::string packed = path("pairs.qnnpk");
    export_model(m, ExportFormat::Packed, packed);
    QVERIFY(torch::equal(run_packed_model(read_packed_model(packed), x), app_logits(m, x)));
  }
};

QTEST_GUILESS_MAIN(TestPairs)
#include "test_pairs.moc"
