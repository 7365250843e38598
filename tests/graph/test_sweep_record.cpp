// SPDX-License-Identifier: GPL-3.0-or-later
// Project format version 3: a saved sensitivity sweep ("sweep") round-trips through the
// project file; files without one stay version 2 byte for byte; a damaged record is
// refused naming its JSON path; the network fingerprint ignores what a sweep or an Apply
// changes and notices the rest.
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/graph/project.h"
#include "core/graph/sweep_record.h"
#include "tests/graph/graph_tests.h"

#include <QtTest>

using namespace qnn;

namespace {

SweepRecord sample_record(const Project& p) {
  SweepRecord r;
  r.what = "both";
  r.min_bits = 2;
  r.max_bits = 3;
  r.holdout = 500;
  r.calibration_batches = 4;
  r.weights_file = "runs/lenet.ckpt";
  r.network = network_fingerprint(p);
  r.base_accuracy = 0.8125;
  r.base_loss = 0.53125;
  r.base_size_bytes = 23278;
  r.base_bitops = 3.5e6;
  r.slots = {{"conv1", "weight", 3}, {"relu1", "act", 4}};
  r.points = {{"conv1", "weight", 2, 0.75, 0.7, 23200, 3.4e6},
              {"conv1", "weight", 3, 0.8125, 0.53125, 23278, 3.5e6},
              {"relu1", "act", 2, 0.1, std::numeric_limits<double>::infinity(), 23278, 2.9e6}};
  r.complete = false;
  r.seconds = 12.25;
  r.notes = {"quant_inp: calibrated first (its statistics phase had not ended)"};
  return r;
}

QString error_of(const std::string& text) {
  try {
    project_from_json(text, "p.qnn.json");
  } catch (const ConfigError& e) {
    return QString::fromStdString(e.what());
  }
  return QStringLiteral("<no ConfigError>");
}

}  // namespace

class TestSweepRecord : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void roundTripsAsVersion3();
  void withoutSweepStaysVersion2();
  void damagedRecordsAreRefusedByPath();
  void fingerprintIgnoresBitWidthsAndPositionsOnly();
};

void TestSweepRecord::roundTripsAsVersion3() {
  Project p = load_project(gt::example("lenet_lowprec"));
  p.sweep = sample_record(p);
  const std::string text = project_to_json(p);
  const auto doc = nlohmann::json::parse(text);
  QCOMPARE(doc["version"].get<int>(), 3);
  QVERIFY(doc.contains("sweep"));
  // The infinite loss is written as null (JSON has no inf) and read back as NaN.
  QVERIFY(doc["sweep"]["points"][2]["loss"].is_null());
  QCOMPARE(doc["sweep"]["points"][0]["accuracy"].get<double>(), 0.75);

  const Project back = project_from_json(text, "p.qnn.json");
  QVERIFY(back.sweep.has_value());
  const SweepRecord& r = *back.sweep;
  QCOMPARE(r.what, std::string("both"));
  QCOMPARE(r.slots.size(), size_t(2));
  QCOMPARE(r.slots[1].layer, std::string("relu1"));
  QCOMPARE(r.slots[1].base_bits, 4);
  QCOMPARE(r.points.size(), size_t(3));
  QCOMPARE(r.points[0].size_bytes, int64_t(23200));
  QCOMPARE(r.points[1].bitops, 3.5e6);
  QVERIFY(std::isnan(r.points[2].loss));
  QCOMPARE(r.complete, false);
  QCOMPARE(r.notes, p.sweep->notes);
  QCOMPARE(r.network, network_fingerprint(p));
  // Saving what was read reproduces the file byte for byte.
  QCOMPARE(project_to_json(back), text);
}

void TestSweepRecord::withoutSweepStaysVersion2() {
  const std::string original = gt::read(gt::example("lenet_lowprec"));
  const Project p = project_from_json(original, "lenet_lowprec.qnn.json");
  QVERIFY(!p.sweep.has_value());
  const std::string text = project_to_json(p);
  QCOMPARE(nlohmann::json::parse(text)["version"].get<int>(), 2);
  QCOMPARE(text, original);
  // "sweep" in a version 2 file is an unknown field.
  auto doc = nlohmann::json::parse(original);
  doc["sweep"] = nlohmann::json::object();
  QVERIFY2(error_of(doc.dump()).startsWith("p.qnn.json: sweep: unknown field"), qPrintable(error_of(doc.dump())));
}

void TestSweepRecord::damagedRecordsAreRefusedByPath() {
  Project p = load_project(gt::example("lenet_lowprec"));
  p.sweep = sample_record(p);
  const auto good = nlohmann::json::parse(project_to_json(p));
  const QString hint = " (the saved sensitivity sweep is damaged; delete the \"sweep\" member to open the project "
                       "without it)";
  auto edited = [&](auto change) {
    auto d = good;
    change(d);
    QString msg = error_of(d.dump());
    if (!msg.endsWith(hint)) return "<no hint> " + msg;
    msg.chop(hint.size());
    return msg;
  };
  QCOMPARE(edited([](auto& d) { d["sweep"]["points"][0]["accuracy"] = 1.5; }),
           QString("p.qnn.json: sweep.points[0].accuracy: accuracy must lie in [0, 1], got 1.5"));
  QCOMPARE(edited([](auto& d) { d["sweep"]["slots"][0]["kind"] = "bias"; }),
           QString("p.qnn.json: sweep.slots[0].kind: expected \"weight\" or \"act\", got \"bias\""));
  QCOMPARE(edited([](auto& d) { d["sweep"]["what"] = "everything"; }),
           QString("p.qnn.json: sweep.what: expected \"weights\", \"activations\" or \"both\", got \"everything\""));
  QCOMPARE(edited([](auto& d) { d["sweep"]["points"][1]["bits"] = 1; }),
           QString("p.qnn.json: sweep.points[1].bits: bit width must lie in 2..16, got 1"));
  QCOMPARE(edited([](auto& d) { d["sweep"]["points"][1]["bits"] = 5; }),
           QString("p.qnn.json: sweep.points[1].bits: 5 bits lies outside the sweep's range 2..3"));
  QCOMPARE(edited([](auto& d) { d["sweep"]["points"][1]["bits"] = 2; }),
           QString("p.qnn.json: sweep.points[1]: a second point of \"conv1\" (weight) at 2 bits"));
  QCOMPARE(edited([](auto& d) { d["sweep"]["points"][2]["layer"] = "fc9"; }),
           QString("p.qnn.json: sweep.points[2].layer: point of \"fc9\" (act) names no slot of the sweep"));
  QCOMPARE(edited([](auto& d) { d["sweep"].erase("slots"); }),
           QString("p.qnn.json: sweep.slots: required field is missing"));
  QVERIFY(edited([](auto& d) { d["sweep"]["colour"] = "red"; })
              .startsWith("p.qnn.json: sweep.colour: unknown field; known fields here: what, "));
  QCOMPARE(edited([](auto& d) { d["sweep"]["min_bits"] = 9; }),
           QString("p.qnn.json: sweep.max_bits: max_bits is below min_bits"));
}

void TestSweepRecord::fingerprintIgnoresBitWidthsAndPositionsOnly() {
  const Project p = load_project(gt::example("lenet_lowprec"));
  const std::string f = network_fingerprint(p);
  QCOMPARE(f.size(), size_t(16));
  Project q = p;
  q.find("conv1")->weight_quant->bit_width = 7;
  q.find("relu2")->act_quant->bit_width = 2;
  q.find("fc1")->x += 300;
  q.name = "renamed";
  q.training.epochs = 9;
  q.dataset.pad = 0;
  QCOMPARE(network_fingerprint(q), f);
  Project r = p;
  r.find("fc1")->set_param("out_features", 100);
  QVERIFY(network_fingerprint(r) != f);
  Project s = p;
  s.find("conv1")->weight_quant->per_channel = true;
  QVERIFY(network_fingerprint(s) != f);
  Project t = p;
  t.find("conv2")->bias_quant->bit_width = 16;  // a bias quantizer's bit width is part of the network
  QVERIFY(network_fingerprint(t) != f);
}

QNN_REGISTER_GRAPH_TEST(TestSweepRecord);
#include "test_sweep_record.moc"
