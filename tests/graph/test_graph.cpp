// SPDX-License-Identifier: GPL-3.0-or-later
// The project document (JSON v2), graph validation / shape inference and the model
// builder, checked on the example projects and on deliberately broken graphs. The
// other .cpp files of this folder add test classes (format v2 and migration, the new
// layer types, diagnostics, the model summary); graph_main.cpp runs them all.
#include <torch/torch.h>

#include <signal.h>
#include <sys/resource.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/graph/validate.h"
#include "core/nn/quant_wbiol.h"
#include "tests/graph/graph_tests.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

using namespace qnn;

namespace {

const char* const kExamples[] = {"lenet_float", "lenet_weights3", "lenet_lowprec", "lenet_w4a4_int32bias", "lenet_w8a8"};

Project lowprec() { return load_project(gt::example("lenet_lowprec")); }

/// The Error diagnostic on `node` whose message contains `part`, or nullptr.
const Diagnostic* find_error(const ValidationResult& r, const std::string& node, const std::string& part) {
  for (const Diagnostic& d : r.diagnostics)
    if (d.severity == Diagnostic::Severity::Error && d.node == node && d.message.find(part) != std::string::npos)
      return &d;
  return nullptr;
}

std::string dump(const ValidationResult& r) {
  std::string s;
  for (const Diagnostic& d : r.diagnostics) s += "[" + d.node + "] " + d.message + " (hint: " + d.hint + ")\n";
  return s;
}

/// Parses `text` expecting a ConfigError; returns its message.
QString config_error_of(const std::string& text) {
  try {
    project_from_json(text, "broken.qnn.json");
  } catch (const ConfigError& e) {
    return QString::fromStdString(e.what());
  }
  return QStringLiteral("<no ConfigError>");
}

int error_count(const ValidationResult& r) {
  int n = 0;
  for (const Diagnostic& d : r.diagnostics) n += d.severity == Diagnostic::Severity::Error;
  return n;
}

}  // namespace

class TestGraph : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void examplesLoadValidateAndRoundTrip();
  void quantizersStoreOnlyOverrides();
  void shapeInferenceOnLowPrecisionLeNet();
  void quantTensorFactsOfW4A4Example();
  void channelAndFeatureMismatches();
  void connectionErrors();
  void cycleIsReportedOnEveryMember();
  void spatialCollapseAndBadParams();
  void biasQuantNeedsQuantizedInput();
  void invalidQuantizerSettings();
  void invalidTrainingAndDatasetSettings();
  void malformedJsonGivesConfigError();
  void loadMissingFileGivesIoError();
  void saveFailureKeepsOldFile();
  void buildLowPrecisionModel();
  void modelMetadataMatchesValidator();
  void buildRefusesInvalidGraph();
};

void TestGraph::examplesLoadValidateAndRoundTrip() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  for (const char* name : kExamples) {
    const Project p = load_project(gt::example(name));
    QVERIFY2(!p.name.empty(), name);
    QCOMPARE(p.input_shape, (std::vector<int64_t>{1, 32, 32}));
    QCOMPARE(p.dataset.name, std::string("fashion-mnist"));
    QCOMPARE(p.dataset.pad, 2);
    QCOMPARE(p.training.batch_size, int64_t{64});
    QCOMPARE(p.training.epochs, int64_t{5});
    const ValidationResult r = validate(p);
    QVERIFY2(r.ok(), (std::string(name) + "\n" + dump(r)).c_str());
    QVERIFY2(r.diagnostics.empty(), (std::string(name) + "\n" + dump(r)).c_str());  // no warnings either
    QCOMPARE(r.order.front(), std::string("input"));
    QCOMPARE(r.order.back(), std::string("output"));

    const Project again = project_from_json(project_to_json(p), "memory");
    QVERIFY2(again == p, name);
    // The shipped file is exactly what saving writes (format v2, byte for byte).
    QVERIFY2(project_to_json(p) == gt::read(gt::example(name)), name);
    const std::string path = QDir(dir.path()).filePath(QString(name) + ".qnn.json").toStdString();
    save_project(p, path);
    QVERIFY2(load_project(path) == p, name);
    // Saving the reloaded project gives the same bytes (stable key order).
    QCOMPARE(project_to_json(load_project(path)), project_to_json(p));
  }
  // Saving leaves no temporary files behind.
  QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), int(std::size(kExamples)));
  // A changed project is not equal.
  Project a = lowprec(), b = lowprec();
  b.find("conv1")->weight_quant->bit_width = 4;
  QVERIFY(!(a == b));
  b = lowprec();
  b.find("relu1")->x += 0.5;
  QVERIFY(!(a == b));
}

void TestGraph::quantizersStoreOnlyOverrides() {
  const Project p = lowprec();
  const auto doc = nlohmann::json::parse(project_to_json(p));
  const auto& conv1 = doc["layers"][2];
  QCOMPARE(conv1["id"].get<std::string>(), std::string("conv1"));
  QCOMPARE(conv1["weight_quant"].size(), size_t{2});  // preset + bit_width
  QCOMPARE(conv1["weight_quant"]["preset"].get<std::string>(), std::string("Int8WeightPerTensorFloat"));
  QCOMPARE(conv1["weight_quant"]["bit_width"].get<int>(), 3);
  QCOMPARE(conv1["bias_quant"].size(), size_t{1});
  QCOMPARE(conv1["bias_quant"]["preset"].get<std::string>(), std::string("Int8Bias"));
  // Loading applies the overrides on top of the preset.
  const LayerSpec& relu1 = *p.find("relu1");
  QVERIFY(relu1.act_quant.has_value());
  QCOMPARE(relu1.act_quant->preset, std::string("Uint8ActPerTensorFloat"));
  QCOMPARE(relu1.act_quant->bit_width, 4);
  QCOMPARE(relu1.act_quant->is_signed, false);
  QCOMPARE(relu1.act_quant->scaling, ScalingKind::RuntimeStats);
  QCOMPARE(relu1.act_quant->collect_stats_steps, 300);
  // An unusual override round-trips too.
  Project q = p;
  q.find("relu1")->act_quant->high_percentile_q = 99.5;
  q.find("relu1")->act_quant->momentum = 0.05;
  q.find("conv1")->weight_quant->per_channel = true;
  const Project back = project_from_json(project_to_json(q));
  QVERIFY(back == q);
  QCOMPARE(back.find("relu1")->act_quant->high_percentile_q, 99.5);
  QCOMPARE(back.find("conv1")->weight_quant->per_channel, true);
}

void TestGraph::shapeInferenceOnLowPrecisionLeNet() {
  const ValidationResult r = validate(lowprec());
  QVERIFY(r.ok());
  using S = std::vector<int64_t>;
  QCOMPARE(r.nodes.at("input").shape, (S{1, 32, 32}));
  QCOMPARE(r.nodes.at("quant_inp").shape, (S{1, 32, 32}));
  QCOMPARE(r.nodes.at("conv1").shape, (S{6, 28, 28}));
  QCOMPARE(r.nodes.at("pool1").shape, (S{6, 14, 14}));
  QCOMPARE(r.nodes.at("conv2").shape, (S{16, 10, 10}));
  QCOMPARE(r.nodes.at("pool2").shape, (S{16, 5, 5}));
  QCOMPARE(r.nodes.at("flatten").shape, (S{400}));
  QCOMPARE(r.nodes.at("fc1").shape, (S{120}));
  QCOMPARE(r.nodes.at("fc2").shape, (S{84}));
  QCOMPARE(r.nodes.at("fc3").shape, (S{10}));
  QCOMPARE(r.nodes.at("output").shape, (S{10}));
  QCOMPARE(r.order.size(), size_t{15});

  // QuantTensor facts: 4-bit signed input; conv1: ceil(log2(15 * 7 * 25)) = 12, Int8Bias -> 13.
  QVERIFY(r.nodes.at("quant_inp").quantized);
  QCOMPARE(r.nodes.at("quant_inp").bit_width, int64_t{4});
  QVERIFY(r.nodes.at("quant_inp").is_signed);
  QVERIFY(r.nodes.at("conv1").quantized);
  QCOMPARE(r.nodes.at("conv1").bit_width, int64_t{13});
  QVERIFY(r.nodes.at("conv1").is_signed);
  QCOMPARE(r.nodes.at("relu1").bit_width, int64_t{4});
  QVERIFY(!r.nodes.at("relu1").is_signed);
  QCOMPARE(r.nodes.at("pool1").bit_width, int64_t{4});  // max-pool keeps the grid
  // conv2: ceil(log2(15 * 7 * 150)) = 14 -> 15; fc1: ceil(log2(15 * 7 * 400)) = 16 -> 17.
  QCOMPARE(r.nodes.at("conv2").bit_width, int64_t{15});
  QCOMPARE(r.nodes.at("fc1").bit_width, int64_t{17});
  QCOMPARE(r.nodes.at("flatten").bit_width, int64_t{4});
  QVERIFY(!r.nodes.at("fc3").quantized);  // no return_quant_tensor on the classifier
  QVERIFY(!r.nodes.at("input").quantized);

  // The float LeNet carries no metadata anywhere.
  const ValidationResult f = validate(load_project(gt::example("lenet_float")));
  QVERIFY(f.ok());
  for (const auto& [id, info] : f.nodes) QVERIFY2(!info.quantized, id.c_str());
  QCOMPARE(f.nodes.at("flatten").shape, (S{400}));
}

void TestGraph::quantTensorFactsOfW4A4Example() {
  const ValidationResult r = validate(load_project(gt::example("lenet_w4a4_int32bias")));
  QVERIFY(r.ok());
  // ceil(log2(15 * 15 * 25)) = 13; Int32Bias -> max(13, 32) + 1 = 33.
  QCOMPARE(r.nodes.at("conv1").bit_width, int64_t{33});
  QCOMPARE(r.nodes.at("relu4").bit_width, int64_t{4});
  QVERIFY(!r.nodes.at("fc3").quantized);
}

void TestGraph::channelAndFeatureMismatches() {
  Project p = lowprec();
  p.find("conv1")->params["out_channels"] = 16;
  ValidationResult r = validate(p);
  QVERIFY(!r.ok());
  const Diagnostic* d = find_error(r, "conv2", "conv2 expects 6 input channels, gets 16 from pool1");
  QVERIFY2(d, dump(r).c_str());
  QVERIFY(d->hint.find("in_channels") != std::string::npos);
  QCOMPARE(error_count(r), 1);  // no cascade below conv2
  QVERIFY(r.error_text().find("conv2: conv2 expects 6 input channels") != std::string::npos);

  // conv2 with a 7x7 kernel: 14 -> 8 -> pool 4, so flatten gives 16 * 4 * 4 = 256.
  p = lowprec();
  p.find("conv2")->params["kernel_size"] = 7;
  r = validate(p);
  QVERIFY2(find_error(r, "fc1", "fc1 expects 400 features, gets 256 from flatten"), dump(r).c_str());
  QCOMPARE(r.nodes.at("flatten").shape, (std::vector<int64_t>{256}));
  QCOMPARE(error_count(r), 1);

  // A Linear fed with an image shape asks for a Flatten.
  p = lowprec();
  p.find("fc1")->inputs = {"pool2"};
  r = validate(p);
  d = find_error(r, "fc1", "fc1 expects a flat input of 400 features, gets [16, 5, 5] from pool2");
  QVERIFY2(d, dump(r).c_str());
  QVERIFY(d->hint.find("Flatten") != std::string::npos);
}

void TestGraph::connectionErrors() {
  Project p = lowprec();
  p.find("relu1")->inputs = {"conv9"};
  ValidationResult r = validate(p);
  QVERIFY2(find_error(r, "relu1", "relu1's input 'conv9' does not exist"), dump(r).c_str());

  p = lowprec();
  p.find("relu3")->inputs.clear();
  r = validate(p);
  QVERIFY2(find_error(r, "relu3", "input port 0 is not connected"), dump(r).c_str());

  p = lowprec();
  p.layers.erase(p.layers.end() - 1);  // the Output node
  r = validate(p);
  QVERIFY2(find_error(r, "", "the graph has no Output node"), dump(r).c_str());

  p = lowprec();
  LayerSpec second = p.layers.front();
  second.id = "input2";
  p.layers.push_back(second);
  r = validate(p);
  QVERIFY2(find_error(r, "input2", "a second Input node"), dump(r).c_str());
  QVERIFY(!find_error(r, "input", "a second"));

  p = lowprec();
  p.find("fc2")->inputs.push_back("relu1");
  r = validate(p);
  QVERIFY2(find_error(r, "fc2", "fc2 has 2 inputs"), dump(r).c_str());

  p = lowprec();
  p.find("relu2")->id = "relu1";
  r = validate(p);
  QVERIFY2(find_error(r, "relu1", "used by more than one layer"), dump(r).c_str());

  p = lowprec();
  p.find("relu2")->id = "relu-2";
  r = validate(p);
  QVERIFY2(find_error(r, "relu-2", "not a valid name"), dump(r).c_str());
}

void TestGraph::cycleIsReportedOnEveryMember() {
  Project p = lowprec();
  p.find("conv1")->inputs = {"pool1"};
  const ValidationResult r = validate(p);
  QVERIFY(!r.ok());
  for (const char* id : {"conv1", "relu1", "pool1"})
    QVERIFY2(find_error(r, id, "is part of a cycle: conv1 -> relu1 -> pool1 -> conv1"), dump(r).c_str());
  QVERIFY(r.order.empty());
  QCOMPARE(error_count(r), 3);
}

void TestGraph::spatialCollapseAndBadParams() {
  Project p = lowprec();
  p.find("pool2")->params["kernel_size"] = 12;
  ValidationResult r = validate(p);
  const Diagnostic* d = find_error(r, "pool2", "pool2's output would be [16, 0, 0]");
  QVERIFY2(d, dump(r).c_str());
  QVERIFY(d->message.find("12x12 window does not fit the 10x10 input from relu2") != std::string::npos);

  p = lowprec();
  p.input_shape = {1, 12, 12};  // conv1 -> 8, pool -> 4, conv2 (k5) collapses
  r = validate(p);
  QVERIFY2(find_error(r, "conv2", "conv2's output would be [16, 0, 0]"), dump(r).c_str());

  p = lowprec();
  p.find("conv1")->params.erase("kernel_size");
  r = validate(p);
  QVERIFY2(find_error(r, "conv1", "conv1 is missing the required parameter kernel_size"), dump(r).c_str());

  p = lowprec();
  p.find("fc2")->params["out_features"] = 0;
  r = validate(p);
  QVERIFY2(find_error(r, "fc2", "fc2: out_features must be positive, got 0"), dump(r).c_str());

  p = lowprec();
  p.find("pool1")->params["kernel_size"] = 2.5;
  r = validate(p);
  QVERIFY2(find_error(r, "pool1", "kernel_size must be a whole number, got 2.5"), dump(r).c_str());

  p = lowprec();
  p.input_shape = {1, 0, 32};
  r = validate(p);
  QVERIFY2(find_error(r, "input", "the input shape [1, 0, 32]"), dump(r).c_str());
}

void TestGraph::biasQuantNeedsQuantizedInput() {
  Project p = lowprec();
  p.find("quant_inp")->return_quant_tensor = false;
  ValidationResult r = validate(p);
  const Diagnostic* d =
      find_error(r, "conv1", "Int8Bias needs the input scale, but its input from quant_inp is not a QuantTensor");
  QVERIFY2(d, dump(r).c_str());
  QVERIFY(d->hint.find("turn on return_quant_tensor on quant_inp") != std::string::npos);

  // The culprit is found through the max-pool between relu1 and conv2.
  p = lowprec();
  p.find("relu1")->return_quant_tensor = false;
  r = validate(p);
  d = find_error(r, "conv2", "its input from pool1 is not a QuantTensor");
  QVERIFY2(d, dump(r).c_str());
  QVERIFY(d->hint.find("return_quant_tensor on relu1") != std::string::npos);
  QCOMPARE(error_count(r), 1);

  // No quantizer at all in front: suggest a QuantIdentity.
  p = lowprec();
  p.find("conv1")->inputs = {"input"};
  p.layers.erase(p.layers.begin() + 1);  // quant_inp
  r = validate(p);
  d = find_error(r, "conv1", "its input from input is not a QuantTensor");
  QVERIFY2(d, dump(r).c_str());
  QVERIFY(d->hint.find("insert a QuantIdentity") != std::string::npos);

  // Without a bias quantizer the same graph is fine (the bias stays float).
  p.find("conv1")->bias_quant.reset();
  QVERIFY2(validate(p).ok(), dump(validate(p)).c_str());
}

void TestGraph::invalidQuantizerSettings() {
  Project p = lowprec();
  p.find("conv1")->weight_quant->bit_width = 1;
  ValidationResult r = validate(p);
  QVERIFY2(find_error(r, "conv1", "weight_quant: Int8WeightPerTensorFloat: bit_width must be in 2..16, got 1"),
           dump(r).c_str());

  p = lowprec();
  p.find("relu2")->act_quant->per_channel = true;
  r = validate(p);
  QVERIFY2(find_error(r, "relu2", "per-channel scaling is only available for weights"), dump(r).c_str());

  p = lowprec();
  p.find("fc1")->weight_quant = presets::Int8Bias();
  r = validate(p);
  QVERIFY2(find_error(r, "fc1", "weight_quant: Int8Bias is a bias quantizer, not a weight quantizer"),
           dump(r).c_str());

  p = lowprec();
  p.find("conv2")->bias_quant->bit_width = 12;
  r = validate(p);
  QVERIFY2(find_error(r, "conv2", "bias bit_width must be 8, 16 or 32"), dump(r).c_str());
}

void TestGraph::invalidTrainingAndDatasetSettings() {
  Project p = lowprec();
  p.training.epochs = 0;
  p.training.learning_rate = -0.1;
  p.training.batch_size = 0;
  p.training.optimizer = "rmsprop";
  p.training.momentum = 1.5;
  p.dataset.name = "imagenet";
  p.dataset.pad = -1;
  ValidationResult r = validate(p);
  QVERIFY2(find_error(r, "training", "epochs must be at least 1, got 0"), dump(r).c_str());
  QVERIFY2(find_error(r, "training", "learning_rate must be a positive number, got -0.1"), dump(r).c_str());
  QVERIFY2(find_error(r, "training", "batch_size must be at least 1, got 0"), dump(r).c_str());
  QVERIFY2(find_error(r, "training", "unknown optimizer 'rmsprop'"), dump(r).c_str());
  QVERIFY2(find_error(r, "training", "momentum must be in [0, 1), got 1.5"), dump(r).c_str());
  QVERIFY2(find_error(r, "dataset", "imagenet"), dump(r).c_str());
  QVERIFY2(find_error(r, "dataset", "pad must not be negative, got -1"), dump(r).c_str());
  QCOMPARE(error_count(r), 7);
  QVERIFY_THROWS_EXCEPTION(ConfigError, build_model(p));

  // A missing dataset folder is a warning: the graph itself is fine.
  p = lowprec();
  p.dataset.path = "/nonexistent/qnn-dataset-folder";
  r = validate(p);
  QVERIFY(r.ok());
  bool warned = false;
  for (const Diagnostic& d : r.diagnostics)
    warned |= d.severity == Diagnostic::Severity::Warning && d.node == "dataset" &&
              d.message.find("/nonexistent/qnn-dataset-folder does not exist") != std::string::npos;
  QVERIFY2(warned, dump(r).c_str());
}

void TestGraph::malformedJsonGivesConfigError() {
  const std::string good = gt::read(gt::example("lenet_lowprec"));
  QVERIFY(good.size() > 1000);

  QString msg = config_error_of(good.substr(0, good.size() / 2));
  QVERIFY2(msg.startsWith("broken.qnn.json: not valid JSON") && msg.contains("line"), qPrintable(msg));

  QCOMPARE(config_error_of("[1, 2]"),
           QString("broken.qnn.json: expected a JSON object holding a QNN Studio project, got [1,2]"));

  auto doc = nlohmann::json::parse(good);
  auto edited = [&](auto change) {
    auto d = doc;
    change(d);
    return config_error_of(d.dump());
  };
  msg = edited([](auto& d) { d["version"] = 5; });
  QCOMPARE(msg, QString("broken.qnn.json: version: written by a newer QNN Studio (version 5): this file needs a "
                        "newer QNN Studio; this build reads format versions 1 to 4"));
  msg = edited([](auto& d) { d.erase("format"); });
  QVERIFY2(msg.contains("missing \"format\": \"qnn-studio-project\""), qPrintable(msg));
  msg = edited([](auto& d) { d["layers"][2]["weight_quant"]["bit_width"] = "three"; });
  QCOMPARE(msg, QString("broken.qnn.json: layers[2] (conv1).weight_quant.bit_width: expected an integer, got \"three\""));
  msg = edited([](auto& d) { d["layers"][2]["type"] = "Conv3d"; });
  QVERIFY2(msg.startsWith("broken.qnn.json: layers[2] (conv1).type: unknown layer type 'Conv3d'; known types: Input"),
           qPrintable(msg));
  msg = edited([](auto& d) { d["layers"][3]["act_quant"]["preset"] = "Uint3Act"; });
  QVERIFY2(msg.startsWith("broken.qnn.json: layers[3] (relu1).act_quant.preset: unknown quantizer preset 'Uint3Act'"),
           qPrintable(msg));
  msg = edited([](auto& d) { d["layers"][5]["id"] = "conv1"; });
  QCOMPARE(msg, QString("broken.qnn.json: layers[5] (conv1).id: duplicate layer id \"conv1\" (also used by layers[2])"));
  msg = edited([](auto& d) { d["layers"][4].erase("id"); });
  QCOMPARE(msg, QString("broken.qnn.json: layers[4].id: required field is missing"));
  msg = edited([](auto& d) { d["layers"][2]["wieght_quant"] = d["layers"][2]["weight_quant"]; });
  QVERIFY2(msg.startsWith("broken.qnn.json: layers[2] (conv1).wieght_quant: unknown field"), qPrintable(msg));
  msg = edited([](auto& d) { d["training"]["batch_size"] = 6.5; });
  QCOMPARE(msg, QString("broken.qnn.json: training.batch_size: expected an integer, got 6.5"));
  msg = edited([](auto& d) { d["input"]["shape"] = "1x32x32"; });
  QCOMPARE(msg, QString("broken.qnn.json: input.shape: expected an array, got \"1x32x32\""));
}

void TestGraph::loadMissingFileGivesIoError() {
  QTemporaryDir dir;
  const std::string path = QDir(dir.path()).filePath("nope.qnn.json").toStdString();
  try {
    load_project(path);
    QFAIL("no IoError");
  } catch (const IoError& e) {
    QVERIFY(std::string(e.what()).find(path) != std::string::npos);
    QVERIFY(std::string(e.what()).find("No such file") != std::string::npos);
  }
  QVERIFY_THROWS_EXCEPTION(IoError, load_project(dir.path().toStdString()));
}

void TestGraph::saveFailureKeepsOldFile() {
  QTemporaryDir dir;
  const Project p = lowprec();
  // A folder that does not exist.
  const std::string missing = QDir(dir.path()).filePath("no/such/dir/p.qnn.json").toStdString();
  QVERIFY_THROWS_EXCEPTION(IoError, save_project(p, missing));

  // A write that fails half way (file size limit, like a full disk) leaves the old file.
  const std::string path = QDir(dir.path()).filePath("p.qnn.json").toStdString();
  save_project(p, path);
  const std::string before = gt::read(path);
  Project changed = p;
  changed.description = std::string(20000, 'x');
  struct rlimit old_limit {};
  QCOMPARE(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto* old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 4096;
  QCOMPARE(setrlimit(RLIMIT_FSIZE, &small), 0);
  bool threw = false;
  std::string message;
  try {
    save_project(changed, path);
  } catch (const IoError& e) {
    threw = true;
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old_limit);
  signal(SIGXFSZ, old_handler);
  QVERIFY(threw);
  QVERIFY2(message.find(path) != std::string::npos, message.c_str());
  QCOMPARE(gt::read(path), before);
  QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"p.qnn.json"});  // temp file removed
}

void TestGraph::buildLowPrecisionModel() {
  torch::manual_seed(0);
  QuantModel model = build_model(lowprec());
  QCOMPARE(model->order().size(), size_t{13});
  QCOMPARE(model->order().front(), std::string("quant_inp"));
  const auto params = model->named_parameters();
  QVERIFY(params.contains("conv1.weight"));
  QVERIFY(params.contains("conv1.bias"));
  QVERIFY(!params.contains("fc3.bias"));
  QVERIFY(params.contains("relu1.act_quant.value"));
  QVERIFY(model->named_buffers().contains("relu1.act_quant.scaling_buffer"));
  QVERIFY(model->layer("conv1") != nullptr);
  QVERIFY(model->layer("input") == nullptr);

  const torch::Tensor x = torch::randn({8, 1, 32, 32});
  model->train();
  for (int i = 0; i < 3; ++i) model->forward(x);  // collect activation statistics
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = model->forward(x);
  QCOMPARE(logits.sizes().vec(), (std::vector<int64_t>{8, 10}));
  QVERIFY(torch::isfinite(logits).all().item<bool>());

  auto trace = model->forward_trace(x);
  QCOMPARE(trace.size(), size_t{15});  // every node, Input and Output included
  const QuantTensor& conv1 = trace.at("conv1");
  QVERIFY(conv1.is_quant());
  QCOMPARE(conv1.bit_width, int64_t{13});
  QVERIFY(conv1.is_signed);
  QCOMPARE(conv1.value.sizes().vec(), (std::vector<int64_t>{8, 6, 28, 28}));
  // conv1's scale is quant_inp's scale times the weight scale.
  auto* c1 = dynamic_cast<QuantConv2dImpl*>(model->layer("conv1").get());
  QVERIFY(c1);
  const torch::Tensor expected_scale = trace.at("quant_inp").scale * c1->quant_weight().scale;
  QVERIFY(torch::allclose(conv1.scale.flatten(), expected_scale.flatten().expand({6})));
  const QuantTensor& relu1 = trace.at("relu1");
  QVERIFY(relu1.is_quant());
  QCOMPARE(relu1.bit_width, int64_t{4});
  QVERIFY(!relu1.is_signed);
  const torch::Tensor codes = relu1.int_codes();
  QVERIFY(codes.min().item<float>() >= 0.0f && codes.max().item<float>() <= 15.0f);
  QVERIFY(codes.max().item<float>() >= 8.0f);  // the statistics make use of the range
  QCOMPARE(trace.at("flatten").value.sizes().vec(), (std::vector<int64_t>{8, 400}));
  QVERIFY(!trace.at("fc3").is_quant());
  QVERIFY(torch::equal(trace.at("output").value, logits));

  model->set_quant_enabled(false);
  const torch::Tensor float_logits = model->forward(x);
  QVERIFY((float_logits - logits).abs().max().item<float>() > 1e-3f);
  QVERIFY(!model->forward_trace(x).at("conv1").is_quant());
  model->set_quant_enabled(true);
  QVERIFY(torch::equal(model->forward(x), logits));
}

void TestGraph::modelMetadataMatchesValidator() {
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({2, 1, 32, 32});
  for (const char* name : kExamples) {
    const Project p = load_project(gt::example(name));
    const ValidationResult r = validate(p);
    QuantModel model = build_model(p);
    model->eval();
    torch::NoGradGuard no_grad;
    const auto trace = model->forward_trace(x);
    QCOMPARE(trace.size(), r.nodes.size());
    for (const auto& [id, info] : r.nodes) {
      const QuantTensor& t = trace.at(id);
      const std::string where = std::string(name) + ":" + id;
      QVERIFY2(t.is_quant() == info.quantized, where.c_str());
      std::vector<int64_t> shape = t.value.sizes().vec();
      shape.erase(shape.begin());
      QVERIFY2(shape == info.shape, where.c_str());
      if (info.quantized) {
        QVERIFY2(t.bit_width == info.bit_width, where.c_str());
        QVERIFY2(t.is_signed == info.is_signed, where.c_str());
      }
    }
  }
}

void TestGraph::buildRefusesInvalidGraph() {
  Project p = lowprec();
  p.find("conv1")->params["out_channels"] = 16;
  try {
    build_model(p);
    QFAIL("no ConfigError");
  } catch (const ConfigError& e) {
    QCOMPARE(QString(e.what()),
             QString("conv2: conv2 expects 6 input channels, gets 16 from pool1 (hint: set conv2's in_channels "
                     "to 16 or change pool1)"));
  }
}

QNN_REGISTER_GRAPH_TEST(TestGraph);

#include "test_graph.moc"
