// SPDX-License-Identifier: GPL-3.0-or-later
// Hardware cost (core/graph/finn_cost.h) of the low-precision LeNet-5 example against
// numbers worked out by hand from the formulas (FINN's lut_estimation() /
// bram_estimation() of the MatrixVectorActivation custom op).
//
// resources/examples/lenet_lowprec.qnn.json: quant_inp is a 4-bit SIGNED activation
// (Int8ActPerTensorFloat, bit_width 4); every weight quantizer is 3 bits; relu1..relu4
// are 4-bit UNSIGNED (Uint8ActPerTensorFloat, bit_width 4); MaxPool/Flatten pass the
// quantized tensor on. So A = 4 for every layer (signed only for conv1), W = 3.
#include "core/graph/finn_cost.h"
#include "core/graph/project.h"
#include "core/graph/summary.h"
#include "core/graph/validate.h"

#include <QProcess>
#include <QtTest>

using namespace qnn;

namespace {

std::string example(const std::string& name) {
  return std::string(QNN_SOURCE_DIR) + "/resources/examples/" + name + ".qnn.json";
}

const LayerHwCost& row(const ModelHwCost& c, const std::string& id) {
  for (const LayerHwCost& l : c.layers)
    if (l.id == id) return l;
  throw std::runtime_error("no row " + id);
}

ModelHwCost cost_of(const Project& p, const Folding& f = {}) {
  const ValidationResult v = validate(p);
  return hardware_cost(p, v, summarize(p, v), f);
}

struct Expected {
  const char* id;
  int64_t mw, mh, macs, bitops, wmem;
  int acc, acc_finn;
  int64_t cycles, luts, bram18;
};
// Per layer, by hand (W = 3, A = 4; PE = SIMD = 1):
//  BitOps = MACs * 3 * 4; weight memory = weights * 3;
//  classic acc = 4 + 3 + ceil(log2 MW);
//  FINN acc = ceil(alpha + log2(1 + 2^-alpha) + 1), alpha = log2 MW + 3 + 4 - 1 - (signed ? 1 : 0);
//  LUT = floor(300 + 1.1 * (mult + adder + acc_finn)), mult = 1 * (2*ceil(7/6) - 1) * 7 = 21,
//        adder = 7 * (2*1 - 1) = 7;
//  BRAM18 (mem_width = 1*3*1 = 3 <= 4) = ceil(omega / 4096) * ceil(3 / 4), omega = MW * MH;
//  cycles = MH * MW * output pixels.
const Expected kLeNet[] = {
    // conv1: MW 1*5*5 = 25, MH 6, 28*28 = 784 pixels. MACs 117600; BitOps 117600*3*4 = 1411200;
    // weights 150 -> 450 bits; acc 4+3+ceil(log2 25)=4+3+5 = 12; alpha = 4.644+3+4-1-1 = 9.644
    // -> ceil(10.645) = 11; LUT 300 + 1.1*(21+7+11) = 342.9 -> 342; omega 150 -> 1*1 = 1;
    // cycles 6*25*784 = 117600.
    {"conv1", 25, 6, 117600, 1411200, 450, 12, 11, 117600, 342, 1},
    // conv2: MW 6*25 = 150, MH 16, 10*10 pixels. MACs 240000; BitOps 2880000; 2400 weights -> 7200;
    // acc 4+3+8 = 15; alpha = 7.229+6 = 13.229 -> ceil(14.229) = 15; LUT 300+1.1*43 = 347.3 -> 347;
    // omega 2400 -> 1; cycles 16*150*100 = 240000.
    {"conv2", 150, 16, 240000, 2880000, 7200, 15, 15, 240000, 347, 1},
    // fc1: MW 400, MH 120. MACs 48000; BitOps 576000; 48000 weights -> 144000; acc 4+3+9 = 16;
    // alpha = 8.644+6 = 14.644 -> 16; LUT 300+1.1*44 = 348.4 -> 348; omega 48000 -> ceil(11.7) = 12.
    {"fc1", 400, 120, 48000, 576000, 144000, 16, 16, 48000, 348, 12},
    // fc2: MW 120, MH 84. MACs 10080; BitOps 120960; 30240 bits; acc 4+3+7 = 14; alpha = 6.907+6
    // -> 14; LUT 300+1.1*42 = 346.2 -> 346; omega 10080 -> ceil(2.46) = 3.
    {"fc2", 120, 84, 10080, 120960, 30240, 14, 14, 10080, 346, 3},
    // fc3: MW 84, MH 10. MACs 840; BitOps 10080; 2520 bits; acc 4+3+7 = 14; alpha = 6.392+6
    // -> 14; LUT 346; omega 840 -> 1.
    {"fc3", 84, 10, 840, 10080, 2520, 14, 14, 840, 346, 1},
};

}  // namespace

class TestHwCost : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void lowPrecisionLeNetByHand();
  void foldingClampsToDivisors();
  void floatInputCountsAs32Bits();
  void hugeLinearSaturates();
  void tableText();
  void cliSummaryLines();
  void depthwiseIsAVvau();
  void finnAccumulatorIsCappedAt32Bits();
};

void TestHwCost::lowPrecisionLeNetByHand() {
  const ModelHwCost c = cost_of(load_project(example("lenet_lowprec")));
  QCOMPARE(c.layers.size(), size_t{5});
  for (const Expected& e : kLeNet) {
    const LayerHwCost& r = row(c, e.id);
    QCOMPARE(r.input_bits, 4);
    QVERIFY(!r.input_float);
    QCOMPARE(r.input_signed, std::string(e.id) == "conv1");
    QCOMPARE(r.weight_bits, 3);
    QCOMPARE(r.mw, e.mw);
    QCOMPARE(r.mh, e.mh);
    QCOMPARE(r.macs, e.macs);
    QCOMPARE(r.bitops, e.bitops);
    QCOMPARE(r.weight_memory_bits, e.wmem);
    QCOMPARE(r.acc_bits, e.acc);
    QCOMPARE(r.acc_bits_finn, e.acc_finn);
    QVERIFY(r.finn);
    QCOMPARE(r.pe, int64_t{1});
    QCOMPARE(r.simd, int64_t{1});
    QCOMPARE(r.cycles, e.cycles);
    QCOMPARE(r.luts, e.luts);
    QCOMPARE(r.bram18, e.bram18);
  }
  // Totals: BitOps 1411200 + 2880000 + 576000 + 120960 + 10080 = 4998240;
  // weight memory 450 + 7200 + 144000 + 30240 + 2520 = 184410 bits;
  // LUT 342 + 347 + 348 + 346 + 346 = 1729; BRAM18 1 + 1 + 12 + 3 + 1 = 18;
  // slowest conv2 at 240000 cycles: 100 MHz / 240000 = 416.67 samples/s.
  QCOMPARE(c.bitops, int64_t{4998240});
  QCOMPARE(c.weight_memory_bits, int64_t{184410});
  QCOMPARE(c.luts, int64_t{1729});
  QCOMPARE(c.bram18, int64_t{18});
  QCOMPARE(c.max_cycles, int64_t{240000});
  QCOMPARE(c.slowest, std::string("conv2"));
  QVERIFY(std::abs(c.samples_per_second - 1e8 / 240000.0) < 1e-6);
}

// PE 4, SIMD 8 requested. conv1 (MH 6, MW 25): PE -> 3 (largest divisor of 6 <= 4), SIMD -> 5.
// LUT = floor(300 + 1.1 * 3 * (mult + adder + acc)), mult = 5 * (2*2 - 1) * 7 = 105,
// adder = 7 * (2*5 - 1) = 63, acc 11: 300 + 3.3 * 179 = 890.7 -> 890.
// BRAM18: omega = 25*6 / (5*3) = 10, mem_width = 5*3*3 = 45 bits (> 18, omega <= 512) ->
// ceil(10/512) * ceil(45/36) = 2.
// cycles = (6/3) * (25/5) * 784 = 7840. fc1 (MH 120, MW 400) keeps PE 4, SIMD 8:
// cycles (120/4)*(400/8) = 1500; omega = 48000/32 = 1500, mem_width = 8*3*4 = 96 (omega > 512)
// -> ceil(1500/1024) * ceil(96/18) = 2 * 6 = 12.
void TestHwCost::foldingClampsToDivisors() {
  const ModelHwCost c = cost_of(load_project(example("lenet_lowprec")), Folding{4, 8, 200.0});
  const LayerHwCost& conv1 = row(c, "conv1");
  QCOMPARE(conv1.pe, int64_t{3});
  QCOMPARE(conv1.simd, int64_t{5});
  QCOMPARE(conv1.luts, int64_t{890});
  QCOMPARE(conv1.bram18, int64_t{2});
  QCOMPARE(conv1.cycles, int64_t{7840});
  const LayerHwCost& fc1 = row(c, "fc1");
  QCOMPARE(fc1.pe, int64_t{4});
  QCOMPARE(fc1.simd, int64_t{8});
  QCOMPARE(fc1.cycles, int64_t{1500});
  QCOMPARE(fc1.bram18, int64_t{12});
  // conv2 (MH 16, MW 150): PE 4, SIMD 6 (150 = 2*3*5*5: 8, 7 do not divide): (16/4)*(150/6)*100 = 10000,
  // the slowest: 200 MHz / 10000 = 20000 samples/s.
  QCOMPARE(row(c, "conv2").simd, int64_t{6});
  QCOMPARE(c.max_cycles, int64_t{10000});
  QVERIFY(std::abs(c.samples_per_second - 20000.0) < 1e-6);
  QCOMPARE(clamp_to_divisor(0, 12), int64_t{1});
  QCOMPARE(clamp_to_divisor(100, 12), int64_t{12});
  QCOMPARE(clamp_to_divisor(5, 12), int64_t{4});
}

// quant_inp hands on a plain float tensor (return_quant_tensor false; conv1 then needs a float
// bias): A = 32 (flagged), BitOps 117600 * 3 * 32 = 11289600.
void TestHwCost::floatInputCountsAs32Bits() {
  Project p = load_project(example("lenet_lowprec"));
  p.find("quant_inp")->return_quant_tensor = false;
  p.find("conv1")->bias_quant.reset();
  QVERIFY2(validate(p).ok(), validate(p).error_text().c_str());
  const LayerHwCost& conv1 = row(cost_of(p), "conv1");
  QVERIFY(conv1.input_float);
  QCOMPARE(conv1.input_bits, 32);
  QCOMPARE(conv1.bitops, int64_t{11289600});
  QCOMPARE(conv1.acc_bits, 32 + 3 + 5);
  // FINN builds no MVAU for a layer reading a float tensor: no estimate, not in the totals.
  // The other four layers keep their figures of kLeNet: LUT 347 + 348 + 346 + 346 = 1387,
  // BRAM18 1 + 12 + 3 + 1 = 17; conv2 stays the slowest (240000 cycles).
  QVERIFY(!conv1.finn);
  QCOMPARE(conv1.no_finn_reason, std::string("float input"));
  const ModelHwCost c = cost_of(p);
  QCOMPARE(c.luts, int64_t{1387});
  QCOMPARE(c.bram18, int64_t{17});
  QCOMPARE(c.max_cycles, int64_t{240000});
  QCOMPARE(c.excluded, std::vector<std::string>{"conv1 (float input)"});
  const std::string t = hardware_cost_table(c, true);
  QVERIFY2(t.find("     -     -            -        -       -  no FINN estimate: float input (FINN builds no MVAU "
                  "for it)") != std::string::npos,
           t.c_str());
  QVERIFY2(t.find(": 1387 LUTs, 17 BRAM18, 416.7 samples/s") != std::string::npos &&
               t.find("not in the FINN totals (no estimate): conv1 (float input)") != std::string::npos,
           t.c_str());
  // The weights-only LeNet: every layer reads a float tensor (the input, float ReLUs).
  const ModelHwCost w = cost_of(load_project(example("lenet_weights3")));
  QCOMPARE(w.luts, int64_t{0});
  QCOMPARE(w.excluded.size(), size_t{5});
  QCOMPARE(w.excluded.front(), std::string("conv1 (float input)"));
}

// FINN's lut_estimation() takes acc_bits = min(accDataType bits, data-type bound), and
// accDataType is INT32 until MinimizeAccumulatorWidth narrows it from the trained weights
// (matrixvectoractivation.py): the bound is capped at 32. A QuantLinear with MW 4096,
// 16-bit weights and an 8-bit signed input, by hand: alpha = 12 + 16 + 8 - 1 - 1 = 34,
// bound ceil(34 + log2(1 + 2^-34) + 1) = 36 -> 32. W + A = 24: mult = Q * (2*ceil(24/6) - 1)
// * 24 = 168 Q, adder = 24 * (2Q - 1). PE 1, SIMD 1: floor(300 + 1.1 * (168 + 24 + 32)) =
// floor(546.4) = 546 (with 36 bits it would be 550); PE 2: floor(300 + 2.2 * 224) = 792 (801).
void TestHwCost::finnAccumulatorIsCappedAt32Bits() {
  const std::string text = R"({"format": "qnn-studio-project", "version": 2, "name": "wide",
  "input": {"shape": [4096]},
  "layers": [
    {"id": "input", "type": "Input"},
    {"id": "quant_inp", "type": "QuantIdentity", "act_quant": {"preset": "Int8ActPerTensorFloat", "bit_width": 8},
     "return_quant_tensor": true},
    {"id": "fc", "type": "QuantLinear", "params": {"in_features": 4096, "out_features": 10, "bias": false},
     "weight_quant": {"preset": "Int8WeightPerTensorFloat", "bit_width": 16}},
    {"id": "output", "type": "Output"}],
  "connections": [
    {"from": "input", "to": "quant_inp", "port": 0}, {"from": "quant_inp", "to": "fc", "port": 0},
    {"from": "fc", "to": "output", "port": 0}]})";
  const Project p = project_from_json(text, "wide.qnn.json");
  QCOMPARE(finn_accumulator_bits(8, true, 16, 4096), 32);
  QCOMPARE(finn_accumulator_bits(4, true, 3, 25), 11);  // below the cap: the bound (conv1 of kLeNet)
  const LayerHwCost& fc = row(cost_of(p), "fc");
  QVERIFY(fc.finn);
  QCOMPARE(fc.input_bits, 8);
  QVERIFY(fc.input_signed);
  QCOMPARE(fc.weight_bits, 16);
  QCOMPARE(fc.acc_bits_finn, 32);
  QCOMPARE(fc.luts, int64_t{546});
  QCOMPARE(row(cost_of(p, Folding{2, 1, 100.0}), "fc").luts, int64_t{792});
}

// conv2 with C_in = 2^31-1 and a (2^31-1) x 3 kernel: its weight count already saturates, so
// do the weight memory bits and the totals; the table prints "more than ...", never a negative.
void TestHwCost::hugeLinearSaturates() {
  Project p = load_project(example("lenet_lowprec"));
  LayerSpec* conv2 = p.find("conv2");
  conv2->params["in_channels"] = 2147483647;
  conv2->params["out_channels"] = 2;
  conv2->params.erase("kernel_size");
  conv2->pairs["kernel_size"] = {2147483647.0, 3.0};
  const ModelHwCost c = cost_of(p);
  QCOMPARE(row(c, "conv2").weight_memory_bits, kCountSaturated);
  QCOMPARE(c.weight_memory_bits, kCountSaturated);
  // BitOps of a known count that overflows: 2^62 MACs * 3 bits saturates.
  QCOMPARE(count_mul(count_mul(int64_t{1} << 62, 3), 4), kCountSaturated);
  const std::string t = hardware_cost_table(c, true);
  QVERIFY2(t.find("more than 9223372036854775806") != std::string::npos, t.c_str());
  QVERIFY2(t.find(" -9") == std::string::npos, t.c_str());  // no wrapped (negative) count
  // conv2's shape is unknown, so are the shapes below it: their BitOps read "?", the total is
  // a lower bound: conv1's 1411200 only.
  QCOMPARE(c.layers_without_shape, int64_t{4});
  QVERIFY2(t.find("hardware: >= 1411200 BitOps per sample (MACs x weight bits x input bits; partial: 4 layers "
                  "without shapes)") != std::string::npos,
           t.c_str());
}

void TestHwCost::tableText() {
  const ModelHwCost c = cost_of(load_project(example("lenet_lowprec")));
  const std::string t = hardware_cost_table(c, true);
  QVERIFY2(t.find("hardware: 4998240 BitOps per sample") != std::string::npos, t.c_str());
  QVERIFY2(t.find("184410 weight memory bits (without biases)") != std::string::npos, t.c_str());
  QVERIFY2(t.find("FINN estimate (PE 1, SIMD 1 requested, clamped to divisors; 100 MHz): 1729 LUTs, 18 BRAM18, "
                  "416.7 samples/s (slowest: conv2, 240000 cycles per sample)") != std::string::npos,
           t.c_str());
  const std::string plain = hardware_cost_table(c, false);
  QVERIFY2(plain.find("FINN") == std::string::npos && plain.find("LUT") == std::string::npos, plain.c_str());
}

// `qnn summary` prints the hardware table below the summary; FINN columns with --target finn,
// folding from --pe/--simd/--clock-mhz (conv1 at PE 3, SIMD 5: see foldingClampsToDivisors).
void TestHwCost::cliSummaryLines() {
  auto run = [](const QStringList& extra, int* exit_code) {
    QProcess q;
    q.start(QNN_CLI_PATH, QStringList{"summary", QString::fromStdString(example("lenet_lowprec"))} + extra);
    if (!q.waitForFinished(60000)) return QString("timeout");
    *exit_code = q.exitCode();
    return QString::fromUtf8(q.readAllStandardOutput() + q.readAllStandardError());
  };
  int rc = -1;
  QString out = run({}, &rc);
  QCOMPARE(rc, 0);
  QVERIFY2(out.contains("  conv1       4       3         1411200           450        12\n"), qPrintable(out));
  QVERIFY2(out.contains("hardware: 4998240 BitOps per sample (MACs x weight bits x input bits), 184410 weight "
                        "memory bits (without biases)"),
           qPrintable(out));
  QVERIFY2(!out.contains("LUT"), qPrintable(out));  // deployment target none: no FINN columns
  out = run({"--target", "finn", "--pe", "4", "--simd", "8", "--clock-mhz", "200"}, &rc);
  QCOMPARE(rc, 0);
  QVERIFY2(out.contains("  conv1       4       3         1411200           450        12     3     5         7840      "
                        "890       2\n"),
           qPrintable(out));
  // LUT 890 + 1259 + 1571 + 1562 + 854 = 6136; BRAM18 2 + 2 + 12 + 3 + 2 = 21 (conv2: omega 100,
  // mem_width 72 -> 1 * 2; fc3: PE 2, SIMD 7, omega 60, mem_width 42 -> 1 * 2).
  QVERIFY2(out.contains("FINN estimate (PE 4, SIMD 8 requested, clamped to divisors; 200 MHz): 6136 LUTs, 21 BRAM18, ") &&
               out.contains("20000.0 samples/s (slowest: conv2, 10000 cycles per sample)"),
           qPrintable(out));
  QVERIFY2(!out.contains("not a FINN build"), qPrintable(out));  // lenet_lowprec keeps every FINN rule
  // The classic LeNet-5's float Tanh nodes (finn_rules.h, finn-unsupported-op; --target finn
  // floors its pools, so nothing else is flagged): the totals say it is no FINN build.
  {
    QProcess q;
    q.start(QNN_CLI_PATH, QStringList{"summary", QString::fromStdString(example("lenet5_classic")), "--target", "finn"});
    QVERIFY(q.waitForFinished(60000));
    QCOMPARE(q.exitCode(), 0);
    const QString classic = QString::fromUtf8(q.readAllStandardOutput());
    QVERIFY2(classic.contains("not a FINN build yet: 4 FINN rule warnings: tanh1 (finn-unsupported-op), tanh2 "
                              "(finn-unsupported-op), tanh3 (finn-unsupported-op), tanh4 (finn-unsupported-op) (qnn "
                              "validate names the fixes; the QONNX export for FINN is refused until they are fixed)\n"),
             qPrintable(classic));
  }
  // The folding without the FINN target: refused with an explicit other --target; with the
  // project's own target (none here) not used, and the summary says so.
  out = run({"--target", "none", "--pe", "4"}, &rc);
  QCOMPARE(rc, 2);
  QVERIFY2(out.contains("--pe sets the FINN folding, which only the FINN target uses; got --target none"),
           qPrintable(out));
  out = run({"--pe", "4", "--clock-mhz", "200"}, &rc);
  QCOMPARE(rc, 0);
  QVERIFY2(out.contains("note: the FINN folding (PE 4, SIMD 1, 200 MHz) is not used: the deployment target is not "
                        "FINN") &&
               !out.contains("LUT"),
           qPrintable(out));
  // The clock stays in 1..2000 MHz (1e308 MHz gave an infinite throughput).
  out = run({"--target", "finn", "--clock-mhz", "1e308"}, &rc);
  QCOMPARE(rc, 2);
  QVERIFY2(out.contains("--clock-mhz expects a clock from 1 to 2000 MHz, got '1e308'"), qPrintable(out));
  out = run({"--target", "finn", "--clock-mhz", "2000"}, &rc);
  QCOMPARE(rc, 0);
  // 2000 MHz / 240000 cycles (conv2 at PE 1, SIMD 1) = 8333.3 samples/s.
  QVERIFY2(out.contains("8333.3 samples/s (slowest: conv2"), qPrintable(out));
  out = run({"--simd", "0"}, &rc);
  QCOMPARE(rc, 2);
  QVERIFY2(out.contains("--simd expects a whole number of at least 1, got '0'"), qPrintable(out));
}

// A depthwise QuantConv2d (groups == in == out channels = 24, 7x7, padding 3 on 12x12: 144
// output pixels; 3-bit weights, 4-bit signed input) is FINN's VVAU (VectorVectorActivation):
// MH = C = 24, MW = k_h*k_w = 49; PE divides 24, SIMD divides 49. By hand:
//  FINN acc: alpha = log2 49 + 3 + 4 - 1 - 1 = 10.615 -> ceil(10.615 + 0.0009 + 1) = 12;
//  PE 1, SIMD 1: cycles 24*49*144 = 169344; LUT floor(300 + 1.1*(21 + 7 + 12)) = 344;
//     BRAM18: WMEM = 49*24 = 1176 > 128, width 1*3*1 = 3 <= 4: ceil(1176/4096) * ceil(3/4) = 1;
//  PE 3 (requested 3), SIMD 1: cycles 8*49*144 = 56448; LUT floor(300 + 1.1*3*40) = 432;
//     WMEM 392, width 9: the VVAU's <= 9 branch ceil(392/2048) * ceil(9/8) = 2 (an MVAU's
//     ceil(9/9) would give 1);
//  PE 8, SIMD 8 requested -> PE 8, SIMD 7: cycles 3*7*144 = 3024; mult 7*3*7 = 147, adder
//     7*13 = 91: LUT floor(300 + 1.1*8*(147 + 91 + 12)) = 2500; WMEM 1176/56 = 21 <= 128: 0 (LUT RAM).
void TestHwCost::depthwiseIsAVvau() {
  const std::string text = R"({"format": "qnn-studio-project", "version": 2, "name": "dw",
  "input": {"shape": [24, 12, 12]},
  "layers": [
    {"id": "input", "type": "Input"},
    {"id": "quant_inp", "type": "QuantIdentity", "act_quant": {"preset": "Int8ActPerTensorFloat", "bit_width": 4},
     "return_quant_tensor": true},
    {"id": "dw", "type": "QuantConv2d", "params": {"in_channels": 24, "out_channels": 24, "kernel_size": 7,
     "padding": 3, "groups": 24, "bias": false}, "weight_quant": {"preset": "Int8WeightPerTensorFloat", "bit_width": 3},
     "return_quant_tensor": true},
    {"id": "flatten", "type": "Flatten"},
    {"id": "fc", "type": "QuantLinear", "params": {"in_features": 3456, "out_features": 10, "bias": false},
     "weight_quant": {"preset": "Int8WeightPerTensorFloat", "bit_width": 3}},
    {"id": "output", "type": "Output"}],
  "connections": [
    {"from": "input", "to": "quant_inp", "port": 0}, {"from": "quant_inp", "to": "dw", "port": 0},
    {"from": "dw", "to": "flatten", "port": 0}, {"from": "flatten", "to": "fc", "port": 0},
    {"from": "fc", "to": "output", "port": 0}]})";
  Project p = project_from_json(text, "dw.qnn.json");
  {
    const ValidationResult v = validate(p);
    for (const Diagnostic& d : v.diagnostics)
      QVERIFY2(d.severity != Diagnostic::Severity::Error || d.code == "settings", d.message.c_str());
  }
  struct Case {
    Folding f;
    int64_t pe, simd, cycles, luts, bram18;
  };
  const Case cases[] = {{Folding{1, 1, 100.0}, 1, 1, 169344, 344, 1},
                        {Folding{3, 1, 100.0}, 3, 1, 56448, 432, 2},
                        {Folding{8, 8, 100.0}, 8, 7, 3024, 2500, 0}};
  for (const Case& k : cases) {
    const ModelHwCost c = cost_of(p, k.f);
    const LayerHwCost& dw = row(c, "dw");
    QVERIFY(dw.finn && dw.vvau);
    QCOMPARE(dw.mh, int64_t{24});
    QCOMPARE(dw.mw, int64_t{49});
    QCOMPARE(dw.pixels, int64_t{144});
    QCOMPARE(dw.acc_bits_finn, 12);
    QCOMPARE(dw.pe, k.pe);
    QCOMPARE(dw.simd, k.simd);
    QCOMPARE(dw.cycles, k.cycles);
    QCOMPARE(dw.luts, k.luts);
    QCOMPARE(dw.bram18, k.bram18);
    QVERIFY(!row(c, "fc").vvau && row(c, "fc").finn);  // the Linear stays an MVAU
    QVERIFY(hardware_cost_table(c, true).find("VVAU") != std::string::npos);
  }
  QCOMPARE(finn_vvau_bram18(3, 1, 3, 49, 24), int64_t{2});
  QCOMPARE(finn_mvau_bram18(3, 1, 3, 49, 24), int64_t{1});  // the MVAU's widths 9/18/36
  // Grouped but not depthwise (groups 12: two input channels per filter): no FINN estimate.
  p.find("dw")->set_param("groups", 12);
  const ModelHwCost g = cost_of(p);
  QVERIFY(!row(g, "dw").finn && !row(g, "dw").vvau);
}

QTEST_GUILESS_MAIN(TestHwCost)
#include "test_hw_cost.moc"
