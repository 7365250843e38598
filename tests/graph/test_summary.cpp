// SPDX-License-Identifier: GPL-3.0-or-later
// The model summary against LeNet-5 numbers worked out by hand.
#include "core/graph/project.h"
#include "core/graph/summary.h"
#include "core/graph/validate.h"
#include "tests/graph/graph_tests.h"

#include <QtTest>

using namespace qnn;

namespace {

const LayerSummary& row(const ModelSummary& s, const std::string& id) {
  for (const LayerSummary& l : s.layers)
    if (l.id == id) return l;
  throw std::runtime_error("no row " + id);
}

// LeNet-5 on 1x32x32: conv1 1->6 k5 (28x28 out), conv2 6->16 k5 (10x10 out),
// fc1 400->120, fc2 120->84, fc3 84->10.
struct Dense {
  const char* id;
  int64_t weights, biases, macs;
};
const Dense kLeNet[] = {
    {"conv1", 6 * 1 * 5 * 5, 6, 6 * 28 * 28 * 1 * 5 * 5},    // 150 + 6, 117600
    {"conv2", 16 * 6 * 5 * 5, 16, 16 * 10 * 10 * 6 * 5 * 5},  // 2400 + 16, 240000
    {"fc1", 400 * 120, 120, 400 * 120},
    {"fc2", 120 * 84, 84, 120 * 84},
    {"fc3", 84 * 10, 10, 84 * 10},  // the bias exists only where the project says so
};

}  // namespace

class TestSummary : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void lowPrecisionLeNet();
  void floatAndInt32BiasLeNets();
  void batchNormAndUnknownShapes();
  void hugeConvolutionCountsSaturate();
};

void TestSummary::lowPrecisionLeNet() {
  const Project p = load_project(gt::example("lenet_lowprec"));
  const ModelSummary s = summarize(p, validate(p));
  QCOMPARE(s.layers.size(), p.layers.size());
  QCOMPARE(s.layers.front().id, std::string("input"));
  int64_t params = 0, macs = 0, bits = 0;
  for (const Dense& d : kLeNet) {
    const LayerSummary& l = row(s, d.id);
    const int64_t biases = std::string(d.id) == "fc3" ? 0 : d.biases;  // fc3 has no bias here
    QCOMPARE(l.weights, d.weights);
    QCOMPARE(l.biases, biases);
    QCOMPARE(l.params, d.weights + biases);
    QCOMPARE(l.macs, d.macs);
    QVERIFY(l.shape_known);
    QCOMPARE(l.weight_bits, 3);
    QCOMPARE(l.bias_bits, biases ? 8 : 0);
    QCOMPARE(l.storage_bits, 3 * d.weights + 8 * biases);
    QCOMPARE(l.float32_bits, 32 * (d.weights + biases));
    params += d.weights + biases;
    macs += d.macs;
    bits += 3 * d.weights + 8 * biases;
  }
  QCOMPARE(row(s, "conv1").params, int64_t{156});
  QCOMPARE(row(s, "conv1").macs, int64_t{117600});
  QCOMPARE(row(s, "relu1").params, int64_t{0});
  QCOMPARE(row(s, "pool1").macs, int64_t{0});
  QCOMPARE(s.params, params);
  QCOMPARE(s.params, int64_t{61696});
  QCOMPARE(s.macs, macs);
  QCOMPARE(s.macs, int64_t{416520});
  QCOMPARE(bits, int64_t{186218});
  QCOMPARE(s.size_bytes, (bits + 7) / 8);  // 23278
  QCOMPARE(s.float32_bytes, int64_t{4 * 61696});  // 246784, README's float32 weight bytes
  QVERIFY(std::abs(s.compression - 246784.0 / 23278.0) < 1e-12);
  const std::string table = summary_table(s);
  QVERIFY2(table.find("total: 61696 parameters, 416520 MACs per sample; 23278 bytes at the chosen bit widths vs "
                      "246784 bytes float32 (1/10.60)") != std::string::npos,
           table.c_str());
  // Changing a bit width changes the size live.
  Project q = p;
  q.find("fc1")->weight_quant->bit_width = 2;
  const ModelSummary s2 = summarize(q, validate(q));
  QCOMPARE(s2.size_bytes, (bits - 48000 + 7) / 8);
}

void TestSummary::floatAndInt32BiasLeNets() {
  const Project f = load_project(gt::example("lenet_float"));
  const ModelSummary sf = summarize(f, validate(f));
  int64_t params = 0;
  for (const Dense& d : kLeNet) params += d.weights + d.biases;
  params -= 10;  // fc3 of the float LeNet has no bias either
  QCOMPARE(sf.params, params);  // 61696
  QCOMPARE(sf.size_bytes, 4 * params);
  QCOMPARE(sf.float32_bytes, 4 * params);
  QCOMPARE(sf.compression, 1.0);
  QCOMPARE(row(sf, "fc1").weight_bits, 32);
  QCOMPARE(row(sf, "fc1").bias_bits, 32);

  const Project w = load_project(gt::example("lenet_w4a4_int32bias"));
  const ModelSummary sw = summarize(w, validate(w));
  int64_t bits = 0;
  for (const Dense& d : kLeNet) bits += 4 * d.weights + 32 * d.biases;  // 4-bit weights, Int32Bias
  QCOMPARE(bits, int64_t{253432});
  QCOMPARE(sw.size_bytes, bits / 8);
  QCOMPARE(row(sw, "fc3").bias_bits, 32);
}

void TestSummary::batchNormAndUnknownShapes() {
  Project p = load_project(gt::example("lenet_lowprec"));
  p.layers.push_back(gt::layer("bn1", LayerType::BatchNorm2d, {"conv1"}, {{"num_features", 6}}));
  p.find("relu1")->inputs = {"bn1"};
  ModelSummary s = summarize(p, validate(p));
  const LayerSummary& bn = row(s, "bn1");
  QCOMPARE(bn.params, int64_t{12});
  QCOMPARE(bn.macs, int64_t{6 * 28 * 28});
  QCOMPARE(bn.storage_bits, int64_t{4 * 6 * 32});  // weight, bias, running mean and variance
  // An invalid graph: shapes below the break are unknown, parameters are still counted.
  p.find("conv2")->params["in_channels"] = 3;
  s = summarize(p, validate(p));
  QVERIFY(!row(s, "fc1").shape_known);
  QCOMPARE(row(s, "fc1").macs, int64_t{0});
  QCOMPARE(row(s, "fc1").params, int64_t{400 * 120 + 120});
  QCOMPARE(row(s, "conv2").weights, int64_t{16 * 3 * 5 * 5});
}

// A convolution whose fan-in C_in * kh * kw alone exceeds an int64 ((2^31-1)^2 * 3):
// every count of its row stops at kCountSaturated instead of wrapping to a negative.
void TestSummary::hugeConvolutionCountsSaturate() {
  Project p = load_project(gt::example("lenet_lowprec"));
  LayerSpec* conv2 = p.find("conv2");
  conv2->params["in_channels"] = 2147483647;
  conv2->params["out_channels"] = 2;
  conv2->params.erase("kernel_size");
  conv2->pairs["kernel_size"] = {2147483647.0, 3.0};
  const ModelSummary s = summarize(p, validate(p));
  const LayerSummary& r = row(s, "conv2");
  QCOMPARE(r.weights, kCountSaturated);
  QCOMPARE(r.params, kCountSaturated);
  QCOMPARE(r.storage_bits, kCountSaturated);
  QVERIFY(s.params == kCountSaturated);
  const std::string table = summary_table(s);
  QVERIFY2(table.find("more than 9223372036854775806") != std::string::npos, table.c_str());
  QVERIFY2(table.find(" -9") == std::string::npos, table.c_str());  // no wrapped (negative) count
}

QNN_REGISTER_GRAPH_TEST(TestSummary);
#include "test_summary.moc"
