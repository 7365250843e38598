// SPDX-License-Identifier: GPL-3.0-or-later
// The layer types of issue 11 item 2 (QuantConv1d / Conv1d, BatchNorm1d, QuantTanh /
// QuantSigmoid / Tanh / Sigmoid, TruncAvgPool2d, TruncAdaptiveAvgPool2d, Concat, Upsample,
// DepthToSpace) through the registry: shape and QuantTensor inference, diagnostics on the
// node at fault, summary costs computed by hand, build + forward, the project file round
// trip, the palette, and the exporters (QCDQ in ONNX Runtime, QONNX through the checker,
// packed against the app's logits). Expected values are worked out in the comments.
#include <torch/torch.h>

#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "core/export/export.h"
#include "core/export/packed_model.h"
#include "core/export/qcdq_export.h"
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

LayerSpec layer(const std::string& id, LayerType t, std::vector<std::string> inputs,
                std::map<std::string, double> params = {}, bool rqt = false) {
  LayerSpec l;
  l.id = id;
  l.type = t;
  l.inputs = std::move(inputs);
  l.params = std::move(params);
  l.return_quant_tensor = rqt;
  return l;
}

Project project(std::vector<int64_t> input_shape, std::vector<LayerSpec> body, const std::string& last) {
  Project p;
  p.name = "layers";
  p.input_shape = std::move(input_shape);
  p.layers.push_back(layer("input", LayerType::Input, {}));
  for (LayerSpec& l : body) p.layers.push_back(std::move(l));
  p.layers.push_back(layer("output", LayerType::Output, {last}));
  return p;
}

/// QuantIdentity -> QuantConv2d -> QuantReLU -> two TruncAvgPool2d (ROUND, FLOOR) ->
/// Concat -> Upsample -> DepthToSpace -> TruncAdaptiveAvgPool2d -> Flatten -> QuantLinear.
Project image_graph() {
  using T = LayerType;
  return project({1, 8, 8},
                 {layer("qid", T::QuantIdentity, {"input"}, {}, true),
                  layer("conv", T::QuantConv2d, {"qid"}, {{"in_channels", 1}, {"out_channels", 8}, {"kernel_size", 3},
                                                         {"padding", 1}}, true),
                  layer("relu", T::QuantReLU, {"conv"}, {}, true),
                  layer("pool_r", T::TruncAvgPool2d, {"relu"}, {{"kernel_size", 2}}, true),
                  layer("pool_f", T::TruncAvgPool2d, {"relu"}, {{"kernel_size", 2}, {"floor", 1}}, true),
                  layer("cat", T::Concat, {"pool_r", "pool_f"}),
                  layer("up", T::Upsample, {"cat"}, {{"scale_factor", 2}}),
                  layer("d2s", T::DepthToSpace, {"up"}, {{"block_size", 2}}),
                  layer("gap", T::TruncAdaptiveAvgPool2d, {"d2s"}, {{"output_size", 1}}, true),
                  layer("flatten", T::Flatten, {"gap"}),
                  layer("fc", T::QuantLinear, {"flatten"}, {{"in_features", 4}, {"out_features", 10}, {"bias", 0}})},
                 "fc");
}

/// QuantIdentity -> QuantConv1d -> QuantTanh -> Conv1d -> Tanh -> Upsample -> QuantIdentity ->
/// QuantConv1d (groups 2) -> Sigmoid -> Flatten -> QuantLinear, on [2, 16].
Project sequence_graph() {
  using T = LayerType;
  return project({2, 16},
                 {layer("qid", T::QuantIdentity, {"input"}, {}, true),
                  layer("conv1", T::QuantConv1d, {"qid"}, {{"in_channels", 2}, {"out_channels", 4}, {"kernel_size", 3},
                                                         {"bias", 0}}, true),
                  layer("tanh1", T::QuantTanh, {"conv1"}, {}, true),
                  layer("conv2", T::Conv1d, {"tanh1"}, {{"in_channels", 4}, {"out_channels", 4}, {"kernel_size", 3},
                                                       {"padding", 1}, {"dilation", 2}, {"stride", 2}}),
                  layer("tanh2", T::Tanh, {"conv2"}),
                  layer("up", T::Upsample, {"tanh2"}, {{"scale_factor", 3}}),
                  layer("qid2", T::QuantIdentity, {"up"}, {}, true),
                  layer("conv3", T::QuantConv1d, {"qid2"}, {{"in_channels", 4}, {"out_channels", 4}, {"kernel_size", 5},
                                                           {"groups", 2}}, true),
                  layer("sig", T::Sigmoid, {"conv3"}),
                  layer("flatten", T::Flatten, {"sig"}),
                  layer("fc", T::QuantLinear, {"flatten"}, {{"in_features", 4 * 14}, {"out_features", 5}})},
                 "fc");
}

/// QuantIdentity -> QuantLinear -> BatchNorm1d -> QuantSigmoid -> QuantLinear, on [12].
Project mlp_graph() {
  using T = LayerType;
  return project({12},
                 {layer("qid", T::QuantIdentity, {"input"}, {}, true),
                  layer("fc1", T::QuantLinear, {"qid"}, {{"in_features", 12}, {"out_features", 16}}),
                  layer("bn", T::BatchNorm1d, {"fc1"}, {{"num_features", 16}}),
                  layer("sig", T::QuantSigmoid, {"bn"}, {}, true),
                  layer("fc2", T::QuantLinear, {"sig"}, {{"in_features", 16}, {"out_features", 6}, {"bias", 0}})},
                 "fc2");
}

const Diagnostic* find_diag(const ValidationResult& v, const std::string& node, const std::string& code) {
  for (const Diagnostic& d : v.diagnostics)
    if (d.node == node && d.code == code && d.severity == Diagnostic::Severity::Error) return &d;
  return nullptr;
}

std::string all_text(const ValidationResult& v) {
  std::string s;
  for (const Diagnostic& d : v.diagnostics) s += diagnostic_line(d) + "\n";
  return s;
}

/// Random weights (the seed) and a few training-mode forwards on `x` so the activation
/// statistics and BatchNorm running statistics move away from their initial values.
QuantModel warmed_model(const Project& p, const torch::Tensor& x) {
  torch::manual_seed(7);
  QuantModel m = build_model(p);
  m->train();
  {
    torch::NoGradGuard g;
    for (int i = 0; i < 5; ++i) m->forward(x * (1.0 + 0.2 * i));
  }
  m->eval();
  return m;
}

int count_op(const onnx::ModelProto& m, const std::string& op) {
  int n = 0;
  for (const auto& node : m.graph().node()) n += node.op_type() == op;
  return n;
}

onnx::ModelProto parse_model(const std::string& bytes) {
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes)) throw std::runtime_error("not an ONNX model");
  return m;
}

}  // namespace

class TestLayers : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  std::string path(const std::string& name) const { return m_dir.filePath(QString::fromStdString(name)).toStdString(); }

 private Q_SLOTS:
  void imageGraphShapesAndGrids() {
    const ValidationResult v = validate(image_graph());
    QVERIFY2(v.ok(), all_text(v).c_str());
    auto shape = [&](const std::string& id) { return v.nodes.at(id).shape; };
    QCOMPARE(shape("relu"), (std::vector<int64_t>{8, 8, 8}));
    QCOMPARE(shape("pool_r"), (std::vector<int64_t>{8, 4, 4}));
    QCOMPARE(shape("cat"), (std::vector<int64_t>{16, 4, 4}));  // 8 + 8 channels
    QCOMPARE(shape("up"), (std::vector<int64_t>{16, 8, 8}));
    QCOMPARE(shape("d2s"), (std::vector<int64_t>{4, 16, 16}));  // 16 / 2^2 channels, x2 spatial
    QCOMPARE(shape("gap"), (std::vector<int64_t>{4, 1, 1}));
    // 2x2 on 8-bit: acc = ceil(log2(255 * 4)) = 10, trunc_scale = 2^2 = 4 = n -> relu's scale.
    const NodeInfo& pr = v.nodes.at("pool_r");
    QVERIFY(pr.quantized && !pr.is_signed);
    QCOMPARE(pr.bit_width, int64_t(8));
    QCOMPARE(pr.scale_source, std::string("relu"));
    QCOMPARE(v.nodes.at("cat").scale_source, std::string("relu"));
    QCOMPARE(v.nodes.at("d2s").scale_source, std::string("relu"));
    // 16x16 window, n = 256: acc = ceil(log2(255 * 256)) = 16, trunc_scale = 2^8 = 256 = n.
    QCOMPARE(v.nodes.at("gap").scale_source, std::string("relu"));
    // 3x3 on 8-bit: acc = ceil(log2(2295)) = 12, trunc_scale 16 != 9: a grid of its own.
    Project p = image_graph();
    p.find("pool_r")->params["kernel_size"] = 3;
    p.find("pool_r")->params["stride"] = 2;  // (8 - 3) / 2 + 1 = 3
    p.find("pool_r")->params["bit_width"] = 6;
    const ValidationResult v3 = validate(p);
    QCOMPARE(v3.nodes.at("pool_r").shape, (std::vector<int64_t>{8, 3, 3}));
    QCOMPARE(v3.nodes.at("pool_r").scale_source, std::string("pool_r"));
    QCOMPARE(v3.nodes.at("pool_r").bit_width, int64_t(6));
    // ... which the Concat then reports (and the shapes differ first: [8, 3, 3] vs [8, 4, 4]).
    QVERIFY(find_diag(v3, "cat", "shape-mismatch"));
  }

  void sequenceGraphShapes() {
    const ValidationResult v = validate(sequence_graph());
    QVERIFY2(v.ok(), all_text(v).c_str());
    QCOMPARE(v.nodes.at("conv1").shape, (std::vector<int64_t>{4, 14}));  // 16 - 3 + 1
    // (14 + 2 - 2 * 2 - 1) / 2 + 1 = 6
    QCOMPARE(v.nodes.at("conv2").shape, (std::vector<int64_t>{4, 6}));
    QCOMPARE(v.nodes.at("up").shape, (std::vector<int64_t>{4, 18}));
    QCOMPARE(v.nodes.at("conv3").shape, (std::vector<int64_t>{4, 14}));
    const NodeInfo& t = v.nodes.at("tanh1");
    QVERIFY(t.quantized && t.is_signed);  // Int8ActPerTensorFloat
    QCOMPARE(t.scale_source, std::string("tanh1"));
    QVERIFY(!v.nodes.at("tanh2").quantized);  // float tanh: off the grid
    // conv1 accumulator: ceil(log2(255 * 255 * (2 * 3))) = 19 bits.
    QVERIFY(v.nodes.at("conv1").quantized);
    QCOMPARE(v.nodes.at("conv1").bit_width, int64_t(19));
    const ValidationResult m = validate(mlp_graph());
    QVERIFY2(m.ok(), all_text(m).c_str());
    QVERIFY(!m.nodes.at("bn").quantized);
    QVERIFY(m.nodes.at("sig").quantized && !m.nodes.at("sig").is_signed);  // Uint8ActPerTensorFloat
  }

  void summaryCostsByHand() {
    const Project p = sequence_graph();
    const ModelSummary s = summarize(p, validate(p));
    auto row = [&](const std::string& id) {
      for (const LayerSummary& l : s.layers)
        if (l.id == id) return l;
      throw std::runtime_error("no row " + id);
    };
    // conv1: 4 x 2 x 3 weights, no bias; MACs = C_out * L_out * C_in * k = 4 * 14 * 2 * 3.
    QCOMPARE(row("conv1").params, int64_t(24));
    QCOMPARE(row("conv1").macs, int64_t(336));
    QCOMPARE(row("conv1").weight_bits, 8);
    // conv2 (float): 4 x 4 x 3 + 4; MACs = 4 * 6 * 4 * 3.
    QCOMPARE(row("conv2").params, int64_t(52));
    QCOMPARE(row("conv2").macs, int64_t(288));
    QCOMPARE(row("conv2").weight_bits, 32);
    // conv3, groups 2: 4 x (4 / 2) x 5 + 4; MACs = 4 * 14 * 2 * 5.
    QCOMPARE(row("conv3").params, int64_t(44));
    QCOMPARE(row("conv3").macs, int64_t(560));
    QCOMPARE(row("tanh1").params, int64_t(0));
    QCOMPARE(row("up").macs, int64_t(0));
    const Project m = mlp_graph();
    const ModelSummary ms = summarize(m, validate(m));
    for (const LayerSummary& l : ms.layers)
      if (l.id == "bn") {
        QCOMPARE(l.params, int64_t(32));  // weight and bias of 16 channels
        QCOMPARE(l.float32_bits, int64_t(32 * 4 * 16));
      }
  }

  void buildForwardAndRoundTrip() {
    struct Case { Project p; torch::Tensor x; std::vector<int64_t> out; };
    const std::vector<Case> cases{{image_graph(), torch::randn({3, 1, 8, 8}), {3, 10}},
                                  {sequence_graph(), torch::randn({3, 2, 16}), {3, 5}},
                                  {mlp_graph(), torch::randn({3, 12}), {3, 6}}};
    for (const Case& c : cases) {
      const Project back = project_from_json(project_to_json(c.p), "round trip");
      QVERIFY2(back == c.p, network_difference(back, c.p).c_str());
      QuantModel m = build_model(back);
      m->eval();
      const torch::Tensor y = m->forward(c.x);
      QCOMPARE(y.sizes().vec(), c.out);
      QVERIFY(torch::isfinite(y).all().item<bool>());
    }
    // The image graph's pools give the documented values: relu codes summed per 2x2
    // window, ROUND vs FLOOR of sum / 4, on relu's scale.
    QuantModel m = build_model(image_graph());
    m->eval();
    const auto trace = m->forward_trace(torch::randn({2, 1, 8, 8}));
    const QuantTensor& r = trace.at("relu");
    const torch::Tensor codes = torch::round(r.value / r.scale);
    const torch::Tensor sums = torch::avg_pool2d(codes, 2) * 4;
    QVERIFY(torch::equal(trace.at("pool_r").value, torch::round(sums / 4).clamp(0, 255) * r.scale));
    QVERIFY(torch::equal(trace.at("pool_f").value, torch::floor(sums / 4).clamp(0, 255) * r.scale));
    // A Concat with three ports.
    Project p3 = image_graph();
    p3.find("cat")->params["num_inputs"] = 3;
    p3.find("cat")->inputs = {"pool_r", "pool_f", "pool_r"};
    QCOMPARE(input_port_count(*p3.find("cat")), 3);
    p3.find("up")->type = LayerType::Identity;
    p3.find("up")->params.clear();
    p3.find("d2s")->params["block_size"] = 1;
    p3.find("fc")->params["in_features"] = 24;
    const ValidationResult v3 = validate(p3);
    QVERIFY2(v3.ok(), all_text(v3).c_str());
    QCOMPARE(v3.nodes.at("cat").shape, (std::vector<int64_t>{24, 4, 4}));
    QCOMPARE(project_from_json(project_to_json(p3)).find("cat")->inputs.size(), size_t(3));
  }

  void paletteListsEveryNewType() {
    using T = LayerType;
    for (T t : {T::QuantConv1d, T::Conv1d, T::BatchNorm1d, T::QuantTanh, T::QuantSigmoid, T::Tanh, T::Sigmoid,
                T::TruncAvgPool2d, T::TruncAdaptiveAvgPool2d, T::Concat, T::Upsample, T::DepthToSpace}) {
      const LayerDescriptor& d = descriptor(t);
      QVERIFY2(find_descriptor(d.name) == &d, d.name.c_str());
      QVERIFY(!d.tooltip.empty() && !d.id_base.empty());
      QVERIFY(std::find(all_families().begin(), all_families().end(), d.family) != all_families().end());
      for (const ParamSchema& s : d.params) QVERIFY2(!s.help.empty(), (d.name + "." + s.name).c_str());
      QVERIFY(d.build && d.export_rules.freeze);
    }
    QCOMPARE(descriptor(T::Conv1d).id_base, std::string("conv"));
    QCOMPARE(descriptor(T::Concat).id_base, std::string("cat"));
    QCOMPARE(descriptor(T::DepthToSpace).id_base, std::string("d2s"));
    QCOMPARE(descriptor(T::TruncAdaptiveAvgPool2d).param("output_size")->kind, ParamKind::IntTuple);
    QCOMPARE(descriptor(T::QuantTanh).slot_preset(QuantSlot::Act)->preset, std::string("Int8ActPerTensorFloat"));
    QCOMPARE(descriptor(T::QuantSigmoid).slot_preset(QuantSlot::Act)->preset, std::string("Uint8ActPerTensorFloat"));
    QCOMPARE(param_value(layer("p", T::TruncAvgPool2d, {}, {{"kernel_size", 3}}), "stride"), 3.0);
  }

  void packedRecomputesTheIntegerLayers() {
    const Project p = image_graph();
    const torch::Tensor x = torch::rand({64, 1, 8, 8});
    QuantModel m = warmed_model(p, x);
    for (const ExportIssue& i : preflight(p, ExportFormat::Packed)) QVERIFY2(!i.error, i.text().c_str());
    const std::string file = path("image.qnnpk");
    export_model(m, ExportFormat::Packed, file);
    QVERIFY(torch::equal(run_packed_model(read_packed_model(file), x), app_logits(m, x)));
    const Project s = sequence_graph();  // QuantConv1d, Upsample on [C, L], float Conv1d stored as float32
    const torch::Tensor xs = torch::randn({32, 2, 16});
    QuantModel ms = warmed_model(s, xs);
    export_model(ms, ExportFormat::Packed, path("seq.qnnpk"));
    QVERIFY(torch::equal(run_packed_model(read_packed_model(path("seq.qnnpk")), xs), app_logits(ms, xs)));
    // BatchNorm1d is refused by name before anything is written.
    bool named = false;
    for (const ExportIssue& i : preflight(mlp_graph(), ExportFormat::Packed))
      named = named || (i.error && i.layer == "bn" && i.message.find("BatchNorm1d") != std::string::npos);
    QVERIFY(named);
  }

  void perChannelGridsMatchTheRuntime() {
    // Two QuantConv2d with per-channel weights and return_quant_tensor: their outputs are
    // on per-channel accumulator grids s_in * s_w[c] of their own.
    using T = LayerType;
    auto conv = [](const std::string& id) {
      LayerSpec c = layer(id, T::QuantConv2d, {"qid"}, {{"in_channels", 1}, {"out_channels", 4}, {"kernel_size", 3},
                                                       {"bias", 0}}, true);
      c.weight_quant = presets::Int8WeightPerChannelFloat();
      return c;
    };
    // Concat of two different per-channel grids: Brevitas's cat (and ours) refuses at run
    // time, so validation reports it on the node.
    Project two = project({1, 6, 6},
                          {layer("qid", T::QuantIdentity, {"input"}, {}, true), conv("ca"), conv("cb"),
                           layer("cat", T::Concat, {"ca", "cb"}), layer("flatten", T::Flatten, {"cat"}),
                           layer("fc", T::Linear, {"flatten"}, {{"in_features", 8 * 16}, {"out_features", 3}})},
                          "fc");
    const ValidationResult v2 = validate(two);
    QVERIFY2(find_diag(v2, "cat", "concat-quant"), all_text(v2).c_str());
    Project same = two;  // both ports from ca: one grid, checked and accepted; the result is float
    same.find("cat")->inputs = {"ca", "ca"};
    const ValidationResult vs = validate(same);
    QVERIFY2(vs.ok(), all_text(vs).c_str());
    QVERIFY(!vs.nodes.at("cat").quantized);
    QuantModel m = warmed_model(same, torch::rand({8, 1, 6, 6}));
    QVERIFY(!m->forward_trace(torch::rand({2, 1, 6, 6})).at("cat").is_quant());

    // A truncating pool fed a per-channel grid validates (Brevitas runs it) but no export
    // format carries it: preflight refuses by name before anything is written.
    Project pool = project({1, 6, 6},
                           {layer("qid", T::QuantIdentity, {"input"}, {}, true), conv("ca"),
                            layer("tpool", T::TruncAvgPool2d, {"ca"}, {{"kernel_size", 2}}, true),
                            layer("flatten", T::Flatten, {"tpool"}),
                            layer("fc", T::Linear, {"flatten"}, {{"in_features", 4 * 4}, {"out_features", 3}})},
                           "fc");
    const ValidationResult vp = validate(pool);
    QVERIFY2(vp.ok(), all_text(vp).c_str());
    for (ExportFormat f : {ExportFormat::Qcdq, ExportFormat::Qonnx, ExportFormat::Packed}) {
      bool refused = false;
      for (const ExportIssue& i : preflight(pool, f))
        refused = refused || (i.error && i.layer == "tpool" && i.message.find("per-channel") != std::string::npos);
      QVERIFY(refused);
    }
    QVERIFY(preflight(pool, ExportFormat::Checkpoint).empty());
  }

  void exportRefusesUnevenAdaptiveWindows() {
    Project p = image_graph();
    p.find("d2s")->params["block_size"] = 1;  // [16, 8, 8]
    p.find("gap")->params["output_size"] = 3;  // 8 % 3 != 0
    p.find("fc")->params["in_features"] = 16 * 9;
    QVERIFY2(validate(p).ok(), all_text(validate(p)).c_str());
    bool named = false;  // preflight says so before any model is frozen
    for (const ExportIssue& i : preflight(p, ExportFormat::Qcdq))
      named = named || (i.error && i.layer == "gap" && i.message.find("does not divide the 8x8 input") != std::string::npos);
    QVERIFY(named);
    QuantModel m = build_model(p);
    try {
      export_model(m, ExportFormat::Qcdq, path("uneven.onnx"));
      QFAIL("exported uneven adaptive windows");
    } catch (const ExportError& e) {
      QVERIFY2(std::string(e.what()).find("gap") != std::string::npos, e.what());
    }
    QVERIFY(!std::filesystem::exists(path("uneven.onnx")));
  }
};

QTEST_GUILESS_MAIN(TestLayers)
#include "test_layers.moc"
