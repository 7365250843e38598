// SPDX-License-Identifier: GPL-3.0-or-later
// Loading PyTorch / Brevitas state dicts and warm starts (issue 10 item 2,
// core/io/state_dict.h, core/train/weights.h): the Brevitas checkpoint of the shared
// golden case read without Python (every tensor equal to the case's JSON copy of it),
// its eval logits against the ones Brevitas computed, a float checkpoint into the
// quantized project (bit-exact weights, activation quantizers in their statistics
// phase), `qnn eval --weights`, and the bad files: truncated, not a zip, a pickle that
// is not a state dict, a value that is not a tensor, another network, a wrong shape.
#include <torch/torch.h>

#include <caffe2/serialize/inline_container.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/io/state_dict.h"
#include "core/quant/quantizers.h"
#include "core/train/checkpoint.h"
#include "core/train/weights.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

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
