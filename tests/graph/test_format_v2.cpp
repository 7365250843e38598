// SPDX-License-Identifier: GPL-3.0-or-later
// Project format version 2: connections between ports, migration of version 1 files,
// future versions, unknown fields, truncated or corrupt files, defaults, and that a
// failed load never touches the file.
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/graph/project.h"
#include "tests/graph/graph_tests.h"

#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

using namespace qnn;

namespace {

const char* const kNames[] = {"lenet_float", "lenet_weights3", "lenet_lowprec", "lenet_w4a4_int32bias"};

QString error_of(const std::string& text) {
  try {
    project_from_json(text, "p.qnn.json");
  } catch (const ConfigError& e) {
    return QString::fromStdString(e.what());
  }
  return QStringLiteral("<no ConfigError>");
}

/// 1-based line and column of byte offset `at` (independent of the loader's code).
std::pair<int, int> line_col(const std::string& text, size_t at) {
  int line = 1, col = 1;
  for (size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

std::string minimal_v2() {
  return R"({"format": "qnn-studio-project", "version": 2, "input": {"shape": [1, 8, 8]},
  "layers": [{"id": "input", "type": "Input"}, {"id": "flat", "type": "Flatten"},
             {"id": "fc", "type": "Linear", "params": {"in_features": 64, "out_features": 3}},
             {"id": "add", "type": "Add"}, {"id": "output", "type": "Output"}],
  "connections": [{"from": "input", "to": "flat"}, {"from": "flat", "to": "fc", "port": 0},
                  {"from": "fc", "to": "add", "port": 1}, {"from": "add", "to": "output", "port": 0}]})";
}

}  // namespace

class TestFormatV2 : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void version1FilesMigrateToTheShippedVersion2Files();
  void connectionsAreWrittenPerPort();
  void halfBuiltGraphsRoundTrip();
  void missingOptionalFieldsGetDefaults();
  void futureVersionIsRefusedAndTheFileUntouched();
  void unknownFieldsNameTheirPath();
  void badConnections();
  void truncatedAndCorruptFilesGiveLineAndColumn();
};

void TestFormatV2::version1FilesMigrateToTheShippedVersion2Files() {
  for (const char* name : kNames) {
    const std::string v1_path = gt::source_path(std::string("tests/data/projects_v1/") + name + "_v1.qnn.json");
    const std::string v1_text = gt::read(v1_path);
    const auto v1 = nlohmann::json::parse(v1_text);
    QCOMPARE(v1["version"].get<int>(), 1);  // the fixture really is version 1
    QVERIFY(v1["layers"][1].contains("inputs"));
    QVERIFY(!v1.contains("connections"));

    const Project migrated = load_project(v1_path);
    const Project shipped = load_project(gt::example(name));
    QVERIFY2(migrated == shipped, name);
    QVERIFY2(network_difference(migrated, shipped).empty(), name);
    // Saving the migrated project writes the shipped version 2 file byte for byte.
    QVERIFY2(project_to_json(migrated) == gt::read(gt::example(name)), name);
    // Every layer keeps its port-indexed source.
    for (const auto& l : v1["layers"]) {
      const LayerSpec* m = migrated.find(l["id"].get<std::string>());
      QVERIFY(m);
      std::vector<std::string> expected = l["inputs"].get<std::vector<std::string>>();
      expected.resize(std::max(expected.size(), size_t(input_port_count(m->type))));
      QCOMPARE(m->inputs, expected);
    }
  }
  // Version 1 takes as many inputs per layer as version 2 has ports (0 to 63): 64 load
  // (validation then reports the ports the type lacks), 65 are refused.
  auto doc = nlohmann::json::parse(gt::read(gt::source_path("tests/data/projects_v1/lenet_lowprec_v1.qnn.json")));
  doc["layers"][1]["inputs"] = std::vector<std::string>(64, "input");
  QCOMPARE(project_from_json(doc.dump()).find(doc["layers"][1]["id"].get<std::string>())->inputs.size(), size_t{64});
  doc["layers"][1]["inputs"] = std::vector<std::string>(65, "input");
  QCOMPARE(error_of(doc.dump()),
           QString("p.qnn.json: layers[1] (quant_inp).inputs: a layer takes at most 64 inputs (ports 0 to 63), got 65"));
}

void TestFormatV2::connectionsAreWrittenPerPort() {
  const Project p = load_project(gt::example("lenet_lowprec"));
  const auto doc = nlohmann::json::parse(project_to_json(p));
  QCOMPARE(doc["version"].get<int>(), 2);
  QCOMPARE(doc["format"].get<std::string>(), std::string("qnn-studio-project"));
  for (const auto& l : doc["layers"]) QVERIFY(!l.contains("inputs"));
  const auto& c = doc["connections"];
  QCOMPARE(c.size(), size_t{14});  // 15 layers in a chain
  QCOMPARE(c[0], (nlohmann::json{{"from", "input"}, {"to", "quant_inp"}, {"port", 0}}));
  QCOMPARE(c[13], (nlohmann::json{{"from", "fc3"}, {"to", "output"}, {"port", 0}}));
  const std::vector<Connection> edges = p.connections();
  QCOMPARE(edges.size(), size_t{14});
  QCOMPARE(edges[2], (Connection{"conv1", "relu1", 0}));
}

void TestFormatV2::halfBuiltGraphsRoundTrip() {
  Project p = load_project(gt::example("lenet_lowprec"));
  p.find("relu2")->inputs = {""};  // unconnected
  LayerSpec add = gt::layer("add1", LayerType::Add, {"", "pool1"});
  add.x = 120.5;
  add.y = -40;
  p.layers.push_back(add);
  LayerSpec eadd = gt::layer("eadd", LayerType::QuantEltwiseAdd, {"relu1"});  // port 1 left out entirely
  eadd.input_quant = presets::Int8ActPerTensorFloat();
  eadd.input_quant->bit_width = 6;
  eadd.act_quant = presets::Uint8ActPerTensorFloat();
  eadd.return_quant_tensor = true;
  p.layers.push_back(eadd);
  const std::string text = project_to_json(p);
  const Project back = project_from_json(text);
  QVERIFY(back == p);
  QCOMPARE(back.find("relu2")->inputs, (std::vector<std::string>{""}));
  QCOMPARE(back.find("add1")->inputs, (std::vector<std::string>{"", "pool1"}));
  QCOMPARE(back.find("eadd")->inputs, (std::vector<std::string>{"relu1", ""}));  // padded to 2 ports
  QCOMPARE(back.find("eadd")->input_quant->bit_width, 6);
  QCOMPARE(back.find("eadd")->act_quant->preset, std::string("Uint8ActPerTensorFloat"));
  QCOMPARE(project_to_json(back), text);
  const auto doc = nlohmann::json::parse(text);
  bool found = false;
  for (const auto& c : doc["connections"]) {
    QVERIFY(c["to"] != "relu2");
    found |= c == nlohmann::json{{"from", "pool1"}, {"to", "add1"}, {"port", 1}};
  }
  QVERIFY(found);
  // Trailing unconnected ports do not make a difference.
  LayerSpec a = gt::layer("r", LayerType::ReLU, {"x"}), b = a;
  b.inputs.push_back("");
  QVERIFY(a == b);
  b.inputs = {"", "x"};
  QVERIFY(!(a == b));
}

void TestFormatV2::missingOptionalFieldsGetDefaults() {
  const Project p = project_from_json(minimal_v2());
  const Project defaults;
  QCOMPARE(p.name, std::string());
  QCOMPARE(p.description, std::string());
  QVERIFY(p.dataset == defaults.dataset);
  QVERIFY(p.training == defaults.training);
  QCOMPARE(p.training.epochs, int64_t{5});
  QCOMPARE(p.dataset.name, std::string("fashion-mnist"));
  const LayerSpec& fc = *p.find("fc");
  QVERIFY(!fc.return_quant_tensor);
  QCOMPARE(fc.x, 0.0);
  QCOMPARE(fc.inputs, (std::vector<std::string>{"flat"}));
  QCOMPARE(p.find("flat")->inputs, (std::vector<std::string>{"input"}));  // "port" defaults to 0
  QCOMPARE(p.find("add")->inputs, (std::vector<std::string>{"", "fc"}));
  QVERIFY(p.find("input")->inputs.empty());
  // No connections at all: every port is unconnected.
  auto doc = nlohmann::json::parse(minimal_v2());
  doc.erase("connections");
  const Project bare = project_from_json(doc.dump());
  QCOMPARE(bare.find("output")->inputs, (std::vector<std::string>{""}));
  // Required fields.
  doc = nlohmann::json::parse(minimal_v2());
  doc.erase("input");
  QCOMPARE(error_of(doc.dump()), QString("p.qnn.json: input: required field is missing"));
  doc = nlohmann::json::parse(minimal_v2());
  doc.erase("layers");
  QCOMPARE(error_of(doc.dump()), QString("p.qnn.json: layers: required field is missing"));
  doc = nlohmann::json::parse(minimal_v2());
  doc["layers"][1].erase("type");
  QCOMPARE(error_of(doc.dump()), QString("p.qnn.json: layers[1] (flat).type: required field is missing"));
}

void TestFormatV2::futureVersionIsRefusedAndTheFileUntouched() {
  QTemporaryDir dir;
  auto doc = nlohmann::json::parse(gt::read(gt::example("lenet_lowprec")));
  doc["version"] = 5;
  doc["hologram"] = true;  // unknown in version 4, but the version is what matters
  const std::string path = QDir(dir.path()).filePath("future.qnn.json").toStdString();
  const std::string text = doc.dump(1);
  { std::ofstream(path, std::ios::binary) << text; }
  const QDateTime before = QFileInfo(QString::fromStdString(path)).lastModified();
  try {
    load_project(path);
    QFAIL("no ConfigError");
  } catch (const ConfigError& e) {
    const QString msg = e.what();
    QVERIFY2(msg.startsWith(QString::fromStdString(path) + ": version: written by a newer QNN Studio (version 5)"),
             qPrintable(msg));
    QVERIFY2(msg.contains("needs a newer QNN Studio"), qPrintable(msg));
  }
  QCOMPARE(gt::read(path), text);
  QCOMPARE(QFileInfo(QString::fromStdString(path)).lastModified(), before);
  QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList{"future.qnn.json"});
  doc["version"] = 0;
  QVERIFY(error_of(doc.dump()).contains("version: unsupported version 0"));
}

void TestFormatV2::unknownFieldsNameTheirPath() {
  const auto good = nlohmann::json::parse(gt::read(gt::example("lenet_lowprec")));
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    QString prefix;
  };
  const std::vector<Case> cases{
      {[](auto& d) { d["colour"] = "red"; }, "p.qnn.json: colour: unknown field; known fields here: format,"},
      {[](auto& d) { d["layers"][3]["parmas"] = nlohmann::json::object(); }, "p.qnn.json: layers[3] (relu1).parmas: unknown field"},
      {[](auto& d) { d["layers"][2]["weight_quant"]["bitwidth"] = 3; },
       "p.qnn.json: layers[2] (conv1).weight_quant.bitwidth: unknown field"},
      {[](auto& d) { d["connections"][2]["prt"] = 0; }, "p.qnn.json: connections[2].prt: unknown field"},
      {[](auto& d) { d["dataset"]["folder"] = "/tmp"; }, "p.qnn.json: dataset.folder: unknown field"},
      {[](auto& d) { d["training"]["lr"] = 0.1; }, "p.qnn.json: training.lr: unknown field"},
      {[](auto& d) { d["input"]["size"] = 3; }, "p.qnn.json: input.size: unknown field"},
      // Per-layer inputs are version 1 only; version 1 has no connections or input_quant.
      {[](auto& d) { d["layers"][4]["inputs"] = {"relu1"}; },
       "p.qnn.json: layers[4] (pool1).inputs: per-layer \"inputs\" belong to version 1 files"},
      {[](auto& d) { d["version"] = 1; }, "p.qnn.json: connections: unknown field"},
  };
  for (const Case& c : cases) {
    auto d = good;
    c.edit(d);
    const QString msg = error_of(d.dump());
    QVERIFY2(msg.startsWith(c.prefix), qPrintable(msg + "\n  expected: " + c.prefix));
  }
}

void TestFormatV2::badConnections() {
  auto doc = nlohmann::json::parse(gt::read(gt::example("lenet_lowprec")));
  auto edited = [&](auto change) {
    auto d = doc;
    change(d);
    return error_of(d.dump());
  };
  QCOMPARE(edited([](auto& d) { d["connections"][0]["to"] = "ghost"; }),
           QString("p.qnn.json: connections[0].to: no layer has the id \"ghost\""));
  QCOMPARE(edited([](auto& d) { d["connections"].push_back({{"from", "conv2"}, {"to", "relu1"}, {"port", 0}}); }),
           QString("p.qnn.json: connections[14]: input port 0 of relu1 is already connected by connections[2]; "
                   "a port takes one connection"));
  QCOMPARE(edited([](auto& d) { d["connections"][1]["port"] = -1; }),
           QString("p.qnn.json: connections[1].port: port must be between 0 and 63, got -1"));
  QCOMPARE(edited([](auto& d) { d["connections"][1].erase("from"); }),
           QString("p.qnn.json: connections[1].from: required field is missing"));
  QCOMPARE(edited([](auto& d) { d["connections"] = nlohmann::json::object(); }),
           QString("p.qnn.json: connections: expected an array, got {}"));
  // An unknown source loads (the document may hold it); validation reports it.
  auto d = doc;
  d["connections"][2]["from"] = "conv9";
  const Project p = project_from_json(d.dump());
  QCOMPARE(p.find("relu1")->inputs, (std::vector<std::string>{"conv9"}));
}

void TestFormatV2::truncatedAndCorruptFilesGiveLineAndColumn() {
  const std::string good = gt::read(gt::example("lenet_lowprec"));
  for (size_t cut : {size_t{1}, good.size() / 3, good.size() / 2, good.size() - 3}) {
    const std::string text = good.substr(0, cut);
    const auto [line, col] = line_col(text, text.size());
    const QString msg = error_of(text);
    const QString expected = QString("p.qnn.json: not valid JSON at line %1, column %2 (the file ends early; is it "
                                     "truncated?): ")
                                 .arg(line)
                                 .arg(col);
    QVERIFY2(msg.startsWith(expected), qPrintable(msg + "\n  expected: " + expected));
  }
  // A corrupt byte in the middle: reported where it is.
  std::string bad = good;
  const size_t at = bad.find("\"conv2\"");
  QVERIFY(at != std::string::npos);
  bad[at] = '#';
  const auto [line, col] = line_col(bad, at);
  const QString msg = error_of(bad);
  QVERIFY2(msg.startsWith(QString("p.qnn.json: not valid JSON at line %1, column %2: ").arg(line).arg(col)),
           qPrintable(msg));
  QVERIFY(!msg.contains("truncated"));

  // Loading a broken file from disk neither changes nor removes it.
  QTemporaryDir dir;
  const std::string path = QDir(dir.path()).filePath("cut.qnn.json").toStdString();
  const std::string cut_text = good.substr(0, good.size() / 2);
  { std::ofstream(path, std::ios::binary) << cut_text; }
  QVERIFY_THROWS_EXCEPTION(ConfigError, load_project(path));
  QCOMPARE(gt::read(path), cut_text);
  QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList{"cut.qnn.json"});
}

QNN_REGISTER_GRAPH_TEST(TestFormatV2);
#include "test_format_v2.moc"
