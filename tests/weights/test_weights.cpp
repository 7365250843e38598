// SPDX-License-Identifier: GPL-3.0-or-later
// Loading PyTorch / Brevitas state dicts and warm starts (issue 10 item 2,
// core/io/state_dict.h, core/train/weights.h): the Brevitas checkpoint of the shared
// golden case read without Python (every tensor equal to the case's JSON copy of it),
// its eval logits against the ones Brevitas computed, a float checkpoint into the
// quantized project (bit-exact weights, activation quantizers in their statistics
// phase), `qnn eval --weights`, and the bad files: truncated, not a zip, a pickle that
// is not a state dict, a value that is not a tensor, another network, a wrong shape;
// fixed-point activation values in Brevitas's log2 domain and a per-channel learned weight
// scale, checked against numbers computed by hand from Brevitas's formulas.
#include <torch/torch.h>

#include <caffe2/serialize/inline_container.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/io/state_dict.h"
#include "core/io/state_dict_writer.h"
#include "core/quant/quantizers.h"
#include "core/train/checkpoint.h"
#include "core/train/weights.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/layer_spec.h"
#include "tests/thrown_message.h"

using namespace qnn;

namespace {

const std::string kGolden = QNN_SOURCE_DIR "/tests/data/golden/";
const std::string kPt = kGolden + "lowprec_lenet_brevitas_state_dict.pt";
const std::string kCase = kGolden + "model_eval_checkpoint_lowprec_lenet_in1.json";

nlohmann::json case_json() {
  std::ifstream in(kCase);
  return nlohmann::json::parse(in);
}

torch::Tensor case_tensor(const nlohmann::json& c, const std::string& key) {
  const auto& t = c.at("tensors").at(key);
  std::vector<float> data;
  for (const auto& v : t.at("data")) data.push_back(v.get<float>());
  std::vector<int64_t> shape = t.at("shape").get<std::vector<int64_t>>();
  return torch::tensor(data).reshape(shape);
}

Project example(const std::string& name) {
  return load_project(QNN_SOURCE_DIR "/resources/examples/" + name + ".qnn.json");
}

// A byte string literal with its NUL bytes.
#define PICKLE(lit) std::string(lit, sizeof(lit) - 1)

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
bool has(const QString& text, const std::string& part) { return text.contains(QString::fromStdString(part)); }

// A zip archive torch.save-like, holding `pickle` as data.pkl (and nothing else).
void write_archive(const std::string& path, const std::string& pickle) {
  caffe2::serialize::PyTorchStreamWriter w(path);
  w.writeRecord("data.pkl", pickle.data(), pickle.size());
  w.writeEndOfFile();
}

LayerSpec act_layer(const std::string& id, LayerType t, const std::string& input, QuantSpec q) {
  LayerSpec l = layer(id, t, {input});
  l.act_quant = std::move(q);
  l.return_quant_tensor = true;
  return l;
}

ActQuantizerImpl* act_quantizer(QuantModel& m, const std::string& name) {
  for (const auto& mod : m->named_modules())
    if (mod.key() == name) return dynamic_cast<ActQuantizerImpl*>(mod.value().get());
  return nullptr;
}

const std::string kActValue = ".act_quant.fused_activation_quant_proxy.tensor_quant.scaling_impl.value";

}  // namespace

class TestWeights : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void readsTheBrevitasStateDict() {
    const StateDict sd = read_state_dict(kPt);
    const nlohmann::json c = case_json();
    const auto keys = c.at("config").at("state_dict_keys").get<std::vector<std::string>>();
    QCOMPARE(int(sd.size()), int(keys.size()));
    for (size_t i = 0; i < sd.size(); ++i) {
      QCOMPARE(sd[i].first, keys[i]);  // file order = state_dict() order
      QCOMPARE(sd[i].second.scalar_type(), torch::kFloat);
      const torch::Tensor want = case_tensor(c, keys[i]);
      QVERIFY2(torch::equal(sd[i].second, want), keys[i].c_str());
    }
  }

  void brevitasStateDictGivesBrevitasLogits() {
    QuantModel m = build_model(example("lenet_lowprec"));
    const WeightsReport r = load_weights(m, kPt);
    QCOMPARE(int(r.loaded.size()), 9);  // 5 weights, 4 biases
    QCOMPARE(r.thresholds, (std::vector<std::string>{"quant_inp.act_quant", "relu1.act_quant", "relu2.act_quant",
                                                     "relu3.act_quant", "relu4.act_quant"}));
    QVERIFY(r.statistics.empty() && r.unexpected.empty());
    QVERIFY2(has(r.text(), "loaded 9 tensor(s) from the PyTorch state dict"), r.text().c_str());
    const nlohmann::json c = case_json();
    m->eval();
    torch::NoGradGuard g;
    const torch::Tensor logits = m->forward(case_tensor(c, "input"));
    const torch::Tensor want = case_tensor(c, "logits");
    const double tol = c.at("tolerance").at("abs").get<double>() * std::max(1.0, want.abs().max().item<double>());
    QVERIFY2((logits - want).abs().max().item<double>() <= tol, "logits differ from Brevitas's");
  }

  void fixedPointValuesAreLog2() {
    // Brevitas 0.12.1 stores a fixed-point activation's value in the log2 domain
    // (PowerOfTwoRestrictValue: restrict_init = torch.log2) and evaluates
    // scale = 2^ceil(value) / int_threshold, int_threshold = 2^b unsigned, 2^(b-1) signed
    // (CeilSte, PowerOfTwoIntScaling). Numbers by hand from those formulas:
    //   relu (Uint8ActPerTensorFixedPoint, 4 bits, T = 16): value 1.3  -> 2^2 / 16 = 0.25
    //   q2   (Int8ActPerTensorFixedPoint,  8 bits, T = 128): value -0.5 -> 2^0 / 128 = 2^-7
    //   q3   (Int8ActPerTensorFixedPoint,  8 bits, T = 128): value 1e-9 -> 2^1 / 128 = 2^-6
    // (read as linear thresholds, relu would get 2^ceil(log2(1.3 / 16)) = 0.125; and q3's
    // exp2(1e-9) rounds to 1.0 in float32, whose scale here would be 2^-7.)
    Project p;
    p.name = "fixed point";
    p.input_shape = {8};
    p.layers.push_back(layer("input", LayerType::Input, {}));
    QuantSpec u4 = presets::Uint8ActPerTensorFixedPoint();
    u4.bit_width = 4;
    p.layers.push_back(act_layer("relu", LayerType::QuantReLU, "input", u4));
    p.layers.push_back(act_layer("q2", LayerType::QuantIdentity, "relu", presets::Int8ActPerTensorFixedPoint()));
    p.layers.push_back(act_layer("q3", LayerType::QuantIdentity, "q2", presets::Int8ActPerTensorFixedPoint()));
    p.layers.push_back(layer("output", LayerType::Output, {"q3"}));
    QTemporaryDir dir;
    const std::string path = dir.filePath("po2.pt").toStdString();
    write_state_dict(path, {{"relu" + kActValue, torch::full({}, 1.3f)},
                            {"q2" + kActValue, torch::full({}, -0.5f)},
                            {"q3" + kActValue, torch::full({}, 1e-9f)}});
    QuantModel m = build_model(p);
    const WeightsReport r = load_weights(m, path);
    QCOMPARE(r.thresholds, (std::vector<std::string>{"relu.act_quant", "q2.act_quant", "q3.act_quant"}));
    QCOMPARE(act_quantizer(m, "relu.act_quant")->eval_scale().item<float>(), 0.25f);
    QCOMPARE(act_quantizer(m, "q2.act_quant")->eval_scale().item<float>(), 0.0078125f);
    QCOMPARE(act_quantizer(m, "q3.act_quant")->eval_scale().item<float>(), 0.015625f);
    // The linear thresholds the app goes on learning: 2^value (q3 nudged above 1.0).
    QVERIFY(std::fabs(act_quantizer(m, "relu.act_quant")->value.item<float>() - 2.4622888f) < 1e-6f);
    QVERIFY(std::fabs(act_quantizer(m, "q2.act_quant")->value.item<float>() - 0.70710678f) < 1e-6f);
    QVERIFY(act_quantizer(m, "q3.act_quant")->value.item<float>() > 1.0f);
    // x -> relu, /0.25, round half to even, clamp [0, 15]: 0.25 1 3 3.75 0 0 0.5 2.5;
    // *128, clamp [-128, 127], /128: 0.25 0.9921875 (x3) 0 0 0.5 0.9921875;
    // *64 (63.5 -> 64), /64: 0.25 1 1 1 0 0 0.5 1.
    m->eval();
    torch::NoGradGuard g;
    const torch::Tensor y = m->forward(torch::tensor({0.3f, 1.1f, 3.0f, 5.0f, -1.0f, 0.125f, 0.375f, 2.6f}).reshape({1, 8}));
    QVERIFY2(torch::equal(y, torch::tensor({0.25f, 1.0f, 1.0f, 1.0f, 0.0f, 0.0f, 0.5f, 1.0f}).reshape({1, 8})),
             qPrintable(QString::fromStdString([&] { std::ostringstream o; o << y; return o.str(); }())));
  }

  void learnedWeightScaleLoadsPerChannel() {
    // weight_scaling_impl_type='parameter', per channel: Brevitas's value has shape
    // [C_out, 1] for a linear weight, scale = value / int_threshold (4-bit narrow: 7).
    // By hand: scales 0.875 / 7 = 0.125 and 1.75 / 7 = 0.25; row 1 [0.3125, -0.4] -> codes
    // [2 (2.5 to even), -3] -> [0.25, -0.375]; row 2 [0.625, 2.0] -> [2, 8 -> 7] -> [0.5, 1.75];
    // x = [1, 1]: logits [-0.125, 2.25].
    Project p;
    p.name = "learned";
    p.input_shape = {2};
    p.layers.push_back(layer("input", LayerType::Input, {}));
    LayerSpec fc = layer("fc", LayerType::QuantLinear, {"input"}, {{"in_features", 2}, {"out_features", 2}, {"bias", 0}});
    fc.weight_quant = presets::Int8WeightPerChannelFloat();
    fc.weight_quant->scaling = ScalingKind::Parameter;
    fc.weight_quant->bit_width = 4;
    p.layers.push_back(fc);
    p.layers.push_back(layer("output", LayerType::Output, {"fc"}));
    QTemporaryDir dir;
    const std::string path = dir.filePath("w.pt").toStdString();
    write_state_dict(path, {{"fc.weight", torch::tensor({0.3125f, -0.4f, 0.625f, 2.0f}).reshape({2, 2})},
                            {"fc.weight_quant.tensor_quant.scaling_impl.value", torch::tensor({0.875f, 1.75f}).reshape({2, 1})}});
    QuantModel m = build_model(p);
    const WeightsReport r = load_weights(m, path);
    QCOMPARE(r.loaded, (std::vector<std::string>{"fc.weight", "fc.weight_quant.value"}));
    QVERIFY(r.unexpected.empty());
    m->eval();
    torch::NoGradGuard g;
    const torch::Tensor y = m->forward(torch::ones({1, 2}));
    QVERIFY(torch::equal(y, torch::tensor({-0.125f, 2.25f}).reshape({1, 2})));
    // A value of the wrong size is named; nothing is loaded.
    write_state_dict(path, {{"fc.weight", torch::zeros({2, 2})},
                            {"fc.weight_quant.tensor_quant.scaling_impl.value", torch::ones({3, 1})}});
    const QString msg = thrown_message<Error>([&] { load_weights(m, path); });
    QVERIFY2(has(msg, "fc.weight_quant.tensor_quant.scaling_impl.value has shape [3, 1]"), qPrintable(msg));
  }

  void floatCheckpointWarmStartsTheQuantizedProject() {
    QTemporaryDir dir;
    torch::manual_seed(5);
    QuantModel f = build_model(example("lenet_float"));
    const std::string ckpt = dir.filePath("float.pt").toStdString();
    save_checkpoint(f, ckpt);
    torch::manual_seed(6);
    QuantModel q = build_model(example("lenet_lowprec"));
    const WeightsReport r = load_weights(q, ckpt);
    QCOMPARE(r.source.rfind("QNN Studio checkpoint", 0), size_t{0});
    for (const char* name : {"conv1.weight", "conv1.bias", "fc3.weight"}) {
      torch::Tensor a, b;
      for (const auto& p : f->named_parameters(true))
        if (p.key() == name) a = p.value();
      for (const auto& p : q->named_parameters(true))
        if (p.key() == name) b = p.value();
      QVERIFY2(a.defined() && b.defined() && torch::equal(a, b), name);  // bit-exact
    }
    QVERIFY(r.thresholds.empty());
    QCOMPARE(int(r.statistics.size()), 5);  // every activation quantizer collects statistics first
    for (const auto& m : q->named_modules())
      if (auto* a = dynamic_cast<ActQuantizerImpl*>(m.value().get())) QCOMPARE(a->counter_buffer.item<int64_t>(), int64_t{0});
  }

  void cliEvaluatesAStateDict() {
    QProcess p;
    p.start(QStringLiteral(QNN_CLI_PATH),
            {"eval", QStringLiteral(QNN_SOURCE_DIR "/resources/examples/lenet_lowprec.qnn.json"), "--weights",
             QString::fromStdString(kPt), "--test-limit", "200", "--threads", "1"});
    QVERIFY(p.waitForFinished(120000));
    const QString out = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
    QVERIFY2(p.exitCode() == 0, qPrintable(out));
    QVERIFY2(out.contains("weights: loaded 9 tensor(s)") && out.contains("5 activation quantizer(s) took"),
             qPrintable(out));
    QVERIFY2(out.contains("test_accuracy="), qPrintable(out));
    QProcess bad;
    bad.start(QStringLiteral(QNN_CLI_PATH), {"eval", QStringLiteral(QNN_SOURCE_DIR "/resources/examples/tfc_w2a2.qnn.json"),
                                             "--weights", QString::fromStdString(kPt)});
    QVERIFY(bad.waitForFinished(120000));
    const QString err = QString::fromUtf8(bad.readAllStandardError());
    QVERIFY2(bad.exitCode() == 1 && err.contains("does not fit the project; nothing was loaded") &&
                 err.contains("fc1.weight has shape [120, 400] in the file, [64, 784] in the model"),
             qPrintable(err));
  }

  void badFilesGetSpecificMessages() {
    QTemporaryDir dir;
    const std::string bytes = [] {
      std::ifstream in(kPt, std::ios::binary);
      return std::string((std::istreambuf_iterator<char>(in)), {});
    }();
    // Truncated: the zip directory is gone.
    const std::string cut = dir.filePath("cut.pt").toStdString();
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    QString msg = thrown_message<Error>([&] { read_state_dict(cut); });
    QVERIFY2(has(msg, cut) && has(msg, "cannot be read as a PyTorch zip checkpoint"), qPrintable(msg));
    // Not a zip at all; a legacy pickle.
    const std::string text = dir.filePath("text.pt").toStdString();
    std::ofstream(text) << "hello";
    msg = thrown_message<Error>([&] { read_state_dict(text); });
    QVERIFY2(has(msg, text) && has(msg, "not a PyTorch zip checkpoint"), qPrintable(msg));
    const std::string legacy = dir.filePath("legacy.pt").toStdString();
    std::ofstream(legacy, std::ios::binary) << PICKLE("\x80\x02\x8a\x0a");
    msg = thrown_message<Error>([&] { read_state_dict(legacy); });
    QVERIFY2(has(msg, "legacy format"), qPrintable(msg));
    // A pickled list, and a dict whose value is an int.
    const std::string list = dir.filePath("list.pt").toStdString();
    write_archive(list, PICKLE("\x80\x02]q\x00."));
    msg = thrown_message<Error>([&] { read_state_dict(list); });
    QVERIFY2(has(msg, "holds a list at the top, not a state dict"), qPrintable(msg));
    const std::string notensor = dir.filePath("int.pt").toStdString();
    write_archive(notensor, PICKLE("\x80\x02}q\x00X\x04\x00\x00\x00stepK\x07s."));
    msg = thrown_message<Error>([&] { read_state_dict(notensor); });
    QVERIFY2(has(msg, "step holds a int, not a tensor"), qPrintable(msg));
    // An unknown global (a pickled module, say).
    const std::string module = dir.filePath("module.pt").toStdString();
    write_archive(module, PICKLE("\x80\x02" "cmymodels\nNet\nq\x00)\x81q\x01."));
    msg = thrown_message<Error>([&] { read_state_dict(module); });
    QVERIFY2(has(msg, "opcode 0x81"), qPrintable(msg));

    // A state dict of another network, and one with a wrong shape: nothing changes.
    QuantModel tfc = build_model(example("tfc_w2a2"));
    msg = thrown_message<Error>([&] { load_weights(tfc, kPt); });
    QVERIFY2(has(msg, "fc1.weight has shape [120, 400] in the file, [64, 784] in the model") &&
                 has(msg, "keys that match no layer of the project: conv1.weight, conv1.bias") &&
                 has(msg, "conv1.weight"),
             qPrintable(msg));
    Project renamed = example("lenet_lowprec");
    for (LayerSpec& l : renamed.layers)
      for (std::string* s : {&l.id}) *s = "m_" + *s;
    for (LayerSpec& l : renamed.layers)
      for (std::string& in : l.inputs)
        if (!in.empty()) in = "m_" + in;
    QuantModel other = build_model(renamed);
    msg = thrown_message<Error>([&] { load_weights(other, kPt); });
    QVERIFY2(has(msg, "shares no tensor name with the project (its keys: quant_inp.act_quant"), qPrintable(msg));
    Project p = example("lenet_lowprec");
    p.input_shape = {3, 32, 32};
    p.find("conv1")->set_param("in_channels", 3);
    torch::manual_seed(1);
    QuantModel three = build_model(p);
    const torch::Tensor before = three->named_parameters()["fc1.weight"].clone();
    msg = thrown_message<Error>([&] { load_weights(three, kPt); });
    QVERIFY2(has(msg, "conv1.weight has shape [6, 1, 5, 5] in the file, [6, 3, 5, 5] in the model"), qPrintable(msg));
    QVERIFY(torch::equal(before, three->named_parameters()["fc1.weight"]));  // nothing was loaded
  }
};

QTEST_MAIN(TestWeights)
#include "test_weights.moc"
