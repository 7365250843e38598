// SPDX-License-Identifier: GPL-3.0-or-later
// core/inspect: histograms, level histograms, MSE / SQNR against hand-computed values;
// the report of real models (LeNet low precision, LeNet float, a small mixed model)
// against numbers recomputed here from the model itself; the model is left unchanged;
// CSV tables written and read back. main() at the end also runs the class of
// test_inspect_state.cpp (misclassified samples, locale, per-module training flags).
#include <torch/torch.h>

#include <iomanip>
#include <sstream>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/export/export_plan.h"
#include "core/inspect/inspect.h"
#include "core/nn/eltwise_layers.h"
#include "core/nn/quant_act.h"
#include "core/nn/quant_wbiol.h"
#include "inspect_fixtures.h"
#include "tests/multi_test_main.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

using namespace qnn;
namespace ins = qnn::inspect;

namespace {

const double kInf = std::numeric_limits<double>::infinity();

}  // namespace

class TestInspect : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }

  void histogramCounts() {
    // Bins of width 0.5 over [-1, 1]: edges -1, -0.5, 0, 0.5, 1 are exact in binary.
    const std::vector<float> v{-1.0f, -0.5f, -0.49f, 0.0f, 0.25f, 0.5f, 0.99f, 1.0f, 1.5f, -2.0f, NAN};
    const torch::Tensor x = torch::tensor(v).reshape({11});
    const ins::Histogram h = ins::histogram(x, 4, -1.0, 1.0);
    // Independent count: the bin whose [left, right) edges hold v, hi in the last one.
    std::vector<int64_t> expect(4, 0);
    int64_t nans = 0;
    for (float f : v) {
      if (std::isnan(f)) { ++nans; continue; }
      for (int b = 0; b < 4; ++b) {
        const double left = -1.0 + 0.5 * b, right = left + 0.5;
        if ((f >= left && f < right) || (b == 3 && f == 1.0f)) ++expect[static_cast<size_t>(b)];
      }
    }
    QCOMPARE(h.counts, expect);
    QCOMPARE(h.counts, (std::vector<int64_t>{1, 2, 2, 3}));
    QCOMPARE(h.nan_count, nans);
    QCOMPARE(h.nan_count, int64_t{1});
    QCOMPARE(h.bin_width(), 0.5);

    // Auto range: [min, max] of the finite values; inf and NaN are not in any bin.
    const torch::Tensor y = torch::tensor(std::vector<double>{2.0, -3.0, 5.0, kInf, std::nan(""), 5.0});
    const ins::Histogram a = ins::histogram(y, 8);
    QCOMPARE(a.lo, -3.0);
    QCOMPARE(a.hi, 5.0);
    QCOMPARE(a.counts, (std::vector<int64_t>{1, 0, 0, 0, 0, 1, 0, 2}));
    QCOMPARE(a.nan_count, int64_t{1});
    // lo == hi: everything in bin 0; all-NaN or empty: lo = hi = 0.
    const ins::Histogram c = ins::histogram(torch::full({5}, 0.75), 3);
    QCOMPARE(c.lo, 0.75);
    QCOMPARE(c.counts, (std::vector<int64_t>{5, 0, 0}));
    const ins::Histogram e = ins::histogram(torch::full({2}, NAN), 3);
    QCOMPARE(e.lo, 0.0);
    QCOMPARE(e.hi, 0.0);
    QCOMPARE(e.nan_count, int64_t{2});
    QCOMPARE(ins::histogram(torch::empty({0}), 2).counts, (std::vector<int64_t>{0, 0}));
    QVERIFY_THROWS_EXCEPTION(ConfigError, ins::histogram(x, 0, -1.0, 1.0));
    QVERIFY_THROWS_EXCEPTION(ConfigError, ins::histogram(x, 4, 1.0, -1.0));
  }

  void levelHistogram() {
    // Scale 0.5 on the signed 3-bit grid [-4, 3]; x / s = -6, -4.2, -0.5, 0.5, 1.5, 2.5,
    // 3, 5.2, 10, -20 -> codes (half to even) -4*, -4, 0, 0, 2, 2, 3, 3*, 3*, -4*.
    const std::vector<float> v{-3.0f, -2.1f, -0.25f, 0.25f, 0.75f, 1.25f, 1.5f, 2.6f, 5.0f, -10.0f};
    const torch::Tensor x = torch::tensor(v);
    const ins::LevelHistogram h =
        ins::level_histogram(x, torch::tensor(0.5f), torch::tensor(0.0f), -4, 3);
    QCOMPARE(h.min_int, int64_t{-4});
    QCOMPARE(h.counts, (std::vector<int64_t>{3, 0, 0, 0, 2, 0, 2, 3}));
    QCOMPARE(h.saturated_low, int64_t{2});
    QCOMPARE(h.saturated_high, int64_t{2});
    QCOMPARE(h.unused_levels(), int64_t{4});
    QCOMPARE(h.total(), int64_t{10});
    // The same from the reference loop.
    std::vector<int64_t> expect(8, 0);
    int64_t low = 0, high = 0;
    for (double c : it::ref_codes(x, 0.5, 0.0)) {
      low += c < -4;
      high += c > 3;
      ++expect[static_cast<size_t>(std::clamp(c, -4.0, 3.0) + 4)];
    }
    QCOMPARE(h.counts, expect);
    QCOMPARE(h.saturated_low, low);
    QCOMPARE(h.saturated_high, high);

    // Unsigned [0, 15] with zero point 3 and scale 0.25: codes x * 4 + 3.
    const torch::Tensor u = torch::tensor({-1.0f, -0.75f, 0.0f, 3.0f, 3.5f});
    const ins::LevelHistogram g =
        ins::level_histogram(u, torch::tensor(0.25f), torch::tensor(3.0f), 0, 15);
    QCOMPARE(g.saturated_low, int64_t{1});   // -1 -> -1
    QCOMPARE(g.saturated_high, int64_t{1});  // 3.5 -> 17
    QCOMPARE(g.counts[0], int64_t{2});       // -1 clamped, -0.75 -> 0
    QCOMPARE(g.counts[3], int64_t{1});
    QCOMPARE(g.counts[15], int64_t{2});      // 3 -> 15, 3.5 clamped
    QCOMPARE(g.unused_levels(), int64_t{13});

    // Per-row scales broadcast [2, 1] against [2, 2].
    const torch::Tensor w = torch::tensor({1.0f, -1.0f, 1.0f, 0.5f}).reshape({2, 2});
    const ins::LevelHistogram r = ins::level_histogram(
        w, torch::tensor({1.0f, 0.25f}).reshape({2, 1}), torch::tensor(0.0f), -3, 3);
    // Codes -1, 1 (row scale 1) and 3 (4, clamped), 2 (row scale 0.25).
    QCOMPARE(r.counts, (std::vector<int64_t>{0, 0, 1, 0, 1, 1, 1}));
    QCOMPARE(r.saturated_high, int64_t{1});
    QVERIFY_THROWS_EXCEPTION(ConfigError,
                             ins::level_histogram(x, torch::tensor(1.0f), torch::tensor(0.0f), 2, 1));
  }

  void errorMeasures() {
    const torch::Tensor ref = torch::tensor({3.0f, 4.0f}), test = torch::tensor({3.0f, 3.5f});
    QCOMPARE(ins::sqnr_db(ref, test), 20.0);  // 10 log10(25 / 0.25)
    QCOMPARE(ins::mse(ref, test), 0.125);
    QCOMPARE(ins::sqnr_db(ref, ref), kInf);
    QCOMPARE(ins::mse(ref, ref), 0.0);
    QCOMPARE(ins::sqnr_db(torch::zeros({2}), torch::zeros({2})), kInf);
    QCOMPARE(ins::sqnr_db(torch::zeros({2}), test), -kInf);
    QVERIFY_THROWS_EXCEPTION(ConfigError, ins::sqnr_db(ref, torch::zeros({3})));
    QVERIFY_THROWS_EXCEPTION(ConfigError, ins::mse(ref, torch::zeros({2, 1})));
    ins::LayerError e;
    QVERIFY(std::isnan(e.local_sqnr_db()));
    e.act_sqnr_db = 12.0;
    QCOMPARE(e.local_sqnr_db(), 12.0);
    e.weight_sqnr_db = 9.0;
    QCOMPARE(e.local_sqnr_db(), 9.0);
  }

  void clipShareOfKnownTensor() {
    torch::manual_seed(1);
    QuantModel model = build_model(it::tiny_project());
    // Fresh quantizer in eval: s = 1 / 8 on [-8, 7]. x * 8 = -16, -8, -4, 0, 4, 7.2, 8, 24:
    // three of eight are clipped (-16, 8, 24).
    const torch::Tensor one = torch::tensor({-2.0f, -1.0f, -0.5f, 0.0f, 0.5f, 0.9f, 1.0f, 3.0f});
    const torch::Tensor batch = torch::stack({one, one}).reshape({2, 1, 2, 4});
    const ins::Report r = ins::inspect_model(model, batch);
    QCOMPARE(r.calibration_samples, int64_t{2});
    QCOMPARE(r.activations.size(), size_t{1});
    const ins::ActivationStats& a = r.activations[0];
    QCOMPARE(a.layer, std::string("quant_inp"));
    QCOMPARE(a.type, std::string("QuantIdentity"));
    QCOMPARE(a.scale, 0.125);
    QCOMPARE(a.zero_point, 0.0);
    QCOMPARE(a.grid.min_int, int64_t{-8});
    QCOMPARE(a.grid.max_int, int64_t{7});
    QCOMPARE(a.range_lo, -1.0);
    QCOMPARE(a.range_hi, 0.875);
    QCOMPARE(a.input_min, -2.0);
    QCOMPARE(a.input_max, 3.0);
    QCOMPARE(a.input_histogram.lo, -2.0);
    QCOMPARE(a.input_histogram.hi, 3.0);
    QCOMPARE(a.clipped_share, 0.375);
    QCOMPARE(a.levels.saturated_low, int64_t{2});
    QCOMPARE(a.levels.saturated_high, int64_t{4});
    QVERIFY(!a.learned_phase);
    // Quantizer output -2 -> -1, 0.9 -> 0.875, 1 -> 0.875, 3 -> 0.875, others exact.
    const double noise = 2 * (1.0 + 0.025 * 0.025 + 0.125 * 0.125 + 2.125 * 2.125);
    QVERIFY(std::fabs(a.mse - noise / 16.0) < 1e-6);
  }

  void lowprecLenetReport() {
    torch::manual_seed(3);
    QuantModel model = build_model(load_project(it::example("lenet_lowprec")));
    it::train_forward(model, 3, {1, 32, 32});  // train mode, statistics phase (counter 3)
    it::act_quant(model, "relu2").set_enabled(false);  // a mixed switch state to restore
    const std::string before = it::state_bytes(model);
    const torch::Tensor batch = torch::randn({64, 1, 32, 32});

    const ins::Report r = ins::inspect_model(model, batch, 42);

    QCOMPARE(it::state_bytes(model), before);
    QVERIFY(model->is_training());
    QVERIFY(!it::act_quant(model, "relu2").enabled());
    QVERIFY(it::act_quant(model, "relu1").enabled());
    QCOMPARE(it::act_quant(model, "relu1").counter(), int64_t{3});
    it::act_quant(model, "relu2").set_enabled(true);

    std::vector<std::string> wl, al;
    for (const auto& w : r.weights) wl.push_back(w.layer);
    for (const auto& a : r.activations) al.push_back(a.layer);
    QCOMPARE(wl, (std::vector<std::string>{"conv1", "conv2", "fc1", "fc2", "fc3"}));
    QCOMPARE(al, (std::vector<std::string>{"quant_inp", "relu1", "relu2", "relu3", "relu4"}));
    QCOMPARE(r.errors.size(), model->order().size());
    QCOMPARE(r.calibration_samples, int64_t{64});
    QCOMPARE(r.scales.step, int64_t{42});
    QCOMPARE(r.scales.entries.size(), size_t{10});

    torch::NoGradGuard no_grad;
    for (const ins::WeightStats& w : r.weights) {
      const auto m = model->layer(w.layer);
      QuantTensor q;
      torch::Tensor weight;
      if (auto* c = dynamic_cast<QuantConv2dImpl*>(m.get())) {
        q = c->quant_weight();
        weight = c->weight;
        QCOMPARE(w.type, std::string("QuantConv2d"));
      } else {
        auto& l = dynamic_cast<QuantLinearImpl&>(*m);
        q = l.quant_weight();
        weight = l.weight;
        QCOMPARE(w.type, std::string("QuantLinear"));
      }
      QCOMPARE(w.shape, weight.sizes().vec());
      QCOMPARE(w.levels.total(), weight.numel());
      QCOMPARE(w.grid.min_int, int64_t{-3});  // 3-bit narrow signed
      QCOMPARE(w.grid.max_int, int64_t{3});
      QVERIFY(w.grid.narrow_range && w.grid.is_signed && !w.per_channel);
      // Scale max|W| / 3, from the weights.
      const double max_abs = weight.abs().max().item<double>();
      QCOMPARE(w.scales.size(), size_t{1});
      QVERIFY(std::fabs(w.scales[0] - max_abs / 3.0) <= 1e-6 * max_abs);
      QCOMPARE(w.sqnr_db, it::ref_sqnr(weight, q.value));
      // Level counts from the codes of the quantized weight: (q / s) exactly integral.
      std::vector<int64_t> expect(7, 0);
      for (double v : it::values(q.value / q.scale)) ++expect[static_cast<size_t>(std::lround(v) + 3)];
      QCOMPARE(w.levels.counts, expect);
      QCOMPARE(w.levels.saturated_low + w.levels.saturated_high, int64_t{0});  // max|W| sets s
      QCOMPARE(w.float_histogram.lo, weight.min().item<double>());
      int64_t hist_total = 0;
      for (int64_t c : w.float_histogram.counts) hist_total += c;
      QCOMPARE(hist_total, weight.numel());
    }

    // Activations: rebuild each quantizer's input from the traced values of the layer
    // before it; the quantizer reproduces the traced output exactly.
    model->eval();
    const auto trace = model->forward_trace(batch);
    model->set_quant_enabled(false);
    const auto ftrace = model->forward_trace(batch);
    model->set_quant_enabled(true);
    model->train();
    for (const ins::ActivationStats& a : r.activations) {
      const LayerSpec* spec = model->project().find(a.layer);
      auto& layer = dynamic_cast<QuantActImpl&>(*model->layer(a.layer));
      torch::Tensor in = trace.at(spec->inputs.at(0)).value;
      if (layer.options.function() == ActFunction::ReLU) in = torch::relu(in);
      ActQuantizerImpl& aq = *layer.act_quant;
      aq.eval();  // the model was put back in train mode above
      const QuantTensor y = aq.forward(in);
      aq.train();
      QVERIFY2(y.value.equal(trace.at(a.layer).value), a.layer.c_str());
      QCOMPARE(a.scale, aq.eval_scale().item<double>());
      QCOMPARE(a.zero_point, 0.0);
      QVERIFY(!a.learned_phase);
      QCOMPARE(a.levels.total(), in.numel());
      int64_t clipped = 0;
      for (double c : it::ref_codes(in, a.scale, 0.0)) clipped += c < a.grid.min_int || c > a.grid.max_int;
      QCOMPARE(a.clipped_share, static_cast<double>(clipped) / static_cast<double>(in.numel()));
      QCOMPARE(a.sqnr_db, it::ref_sqnr(in, y.value));
      QCOMPARE(a.input_min, in.min().item<double>());
      QCOMPARE(a.input_max, in.max().item<double>());
    }
    QCOMPARE(r.activations[0].grid.min_int, int64_t{-8});  // 4-bit signed input
    QCOMPARE(r.activations[1].grid.max_int, int64_t{15});  // 4-bit unsigned ReLU

    // Output errors against the float network; the last layer's output is the logits.
    for (const ins::LayerError& e : r.errors)
      QCOMPARE(e.output_sqnr_db, it::ref_sqnr(ftrace.at(e.layer).value, trace.at(e.layer).value));
    QCOMPARE(r.errors.back().layer, std::string("fc3"));
    QCOMPARE(r.errors.back().output_sqnr_db, r.logits_sqnr_db);
    QCOMPARE(r.logits_sqnr_db, it::ref_sqnr(ftrace.at("output").value, trace.at("output").value));
    const double agree = ftrace.at("output").value.argmax(1).eq(trace.at("output").value.argmax(1))
                             .to(torch::kFloat64).mean().item<double>();
    QCOMPARE(r.top1_agreement, agree);
    QVERIFY(r.logits_sqnr_db < 40.0);  // 3-bit weights, 4-bit activations: visible error

    std::string worst;
    double lowest = kInf;
    for (const ins::LayerError& e : r.errors) {
      if (e.layer == "pool1" || e.layer == "flatten") QVERIFY(std::isnan(e.local_sqnr_db()));
      if (e.layer == "conv1") QCOMPARE(e.weight_sqnr_db, r.weights[0].sqnr_db);
      if (e.layer == "relu1") QCOMPARE(e.act_sqnr_db, r.activations[1].sqnr_db);
      const double l = e.local_sqnr_db();
      if (!std::isnan(l) && (worst.empty() || l < lowest)) {
        lowest = l;
        worst = e.layer;
      }
    }
    QCOMPARE(r.worst_layer, worst);
  }

  void mixedModelReport() {
    torch::manual_seed(5);
    QuantModel model = build_model(it::mixed_project());
    it::train_forward(model, 3, {1, 4, 4});  // quant_inp: 2 statistics calls, then learned
    model->eval();
    const std::string before = it::state_bytes(model);
    const torch::Tensor batch = torch::randn({32, 1, 4, 4}) * 2.0;
    const ins::Report r = ins::inspect_model(model, batch);
    QCOMPARE(it::state_bytes(model), before);
    QVERIFY(!model->is_training());
    QCOMPARE(r.weights.size(), size_t{2});
    QCOMPARE(r.activations.size(), size_t{2});

    // Per-channel weights: one scale max|W_c| / 7 and one level histogram per channel.
    const ins::WeightStats& w = r.weights[0];
    QVERIFY(w.per_channel);
    QCOMPARE(w.grid.min_int, int64_t{-7});
    const auto& conv = dynamic_cast<QuantConv2dImpl&>(*model->layer("conv"));
    QCOMPARE(w.scales.size(), size_t{3});
    QCOMPARE(w.channel_levels.size(), size_t{3});
    int64_t sum = 0;
    for (int64_t c = 0; c < 3; ++c) {
      const double m = conv.weight[c].abs().max().item<double>();
      QVERIFY(std::fabs(w.scales[size_t(c)] - m / 7.0) <= 1e-6 * m);
      QCOMPARE(w.channel_levels[size_t(c)].total(), int64_t{9});
      std::vector<int64_t> expect(15, 0);
      for (double code : it::ref_codes(conv.weight[c], w.scales[size_t(c)], 0.0))
        ++expect[static_cast<size_t>(std::clamp(code, -7.0, 7.0) + 7)];
      QCOMPARE(w.channel_levels[size_t(c)].counts, expect);
      // max |W_c| sits on an end level
      QVERIFY(w.channel_levels[size_t(c)].counts.front() + w.channel_levels[size_t(c)].counts.back() >= 1);
      sum += w.channel_levels[size_t(c)].total();
    }
    QCOMPARE(sum, w.levels.total());

    // Shifted input quantizer in the learned phase: z = clamp(round(-zp_value / s + 0), 0, 15).
    const ins::ActivationStats& q = r.activations[0];
    ActQuantizerImpl& aq = it::act_quant(model, "quant_inp");
    QVERIFY(q.learned_phase);
    QVERIFY(aq.learned_phase());
    const double s = std::fabs(aq.value.item<double>()) / 15.0;
    QVERIFY(std::fabs(q.scale - s) <= 1e-6 * s);
    const float zf = -aq.zero_point_value.item<float>() / static_cast<float>(q.scale);
    QCOMPARE(q.zero_point, std::clamp(std::nearbyint(static_cast<double>(zf)), 0.0, 15.0));
    QVERIFY(q.zero_point > 0.0);
    QCOMPARE(q.range_lo, -q.zero_point * q.scale);
    QCOMPARE(q.range_hi, (15.0 - q.zero_point) * q.scale);

    // QuantHardTanh: the quantizer sees the conv output itself (Brevitas switches the
    // hardtanh off under an act_quant; min_val/max_val = +-0.5 only initialise the scale).
    torch::NoGradGuard no_grad;
    const auto trace = model->forward_trace(batch);
    const torch::Tensor in = trace.at("conv").value;
    const ins::ActivationStats& h = r.activations[1];
    QCOMPARE(h.type, std::string("QuantHardTanh"));
    QCOMPARE(h.input_min, in.min().item<double>());
    QCOMPARE(h.input_max, in.max().item<double>());
    QVERIFY(h.input_max > 0.5 || h.input_min < -0.5);  // the old clamp would have changed it
    QVERIFY(it::act_quant(model, "htanh").forward(in).value.equal(trace.at("htanh").value));
    QCOMPARE(h.sqnr_db, it::ref_sqnr(in, trace.at("htanh").value));
    QCOMPARE(h.scale, 0.5 / 4.0);  // learned value max(|min_val|, |max_val|) / 4, untrained
  }

  void eltwiseAddReport() {
    torch::manual_seed(9);
    QuantModel model = build_model(it::eltwise_project());
    it::train_forward(model, 4, {1, 2, 4});
    const std::string before = it::state_bytes(model);
    const torch::Tensor batch = torch::randn({16, 1, 2, 4});
    const ins::Report r = ins::inspect_model(model, batch);
    QCOMPARE(it::state_bytes(model), before);
    QCOMPARE(r.activations.size(), size_t{4});
    const ins::ActivationStats& in = r.activations[2];
    const ins::ActivationStats& out = r.activations[3];
    QCOMPARE(in.layer, std::string("eadd"));
    QCOMPARE(in.quantizer, std::string("input"));
    QCOMPARE(out.layer, std::string("eadd"));
    QCOMPARE(out.quantizer, std::string("act"));
    QCOMPARE(out.type, std::string("QuantEltwiseAdd"));
    QCOMPARE(r.activations[0].quantizer, std::string("act"));
    QCOMPARE(out.grid.max_int, int64_t{31});

    // Rebuild: input_quant on both inputs, plain sum, output_quant = the traced output.
    torch::NoGradGuard no_grad;
    model->eval();
    const auto trace = model->forward_trace(batch);
    model->train();
    auto& e = dynamic_cast<QuantEltwiseAddImpl&>(*model->layer("eadd"));
    e.eval();
    const torch::Tensor a = e.input_quant->forward(trace.at("q1").value).value;
    const torch::Tensor b = e.input_quant->forward(trace.at("relu").value).value;
    const torch::Tensor y = e.output_quant->forward(a + b).value;
    e.train();
    QVERIFY(y.equal(trace.at("eadd").value));
    QCOMPARE(out.sqnr_db, it::ref_sqnr(a + b, y));
    QCOMPARE(out.scale, e.output_quant->eval_scale().item<double>());
    QCOMPARE(in.scale, e.input_quant->eval_scale().item<double>());
    QCOMPARE(in.levels.total(), 2 * trace.at("q1").value.numel());
    const torch::Tensor both = torch::cat({trace.at("q1").value.reshape({-1}), trace.at("relu").value.reshape({-1})});
    QCOMPARE(in.sqnr_db, it::ref_sqnr(both, torch::cat({a.reshape({-1}), b.reshape({-1})})));
    const ins::LayerError& le = r.errors[2];
    QCOMPARE(le.layer, std::string("eadd"));
    QCOMPARE(le.act_sqnr_db, std::min(in.sqnr_db, out.sqnr_db));
    QVERIFY(std::isnan(le.weight_sqnr_db));

    QCOMPARE(r.scales.entries.size(), size_t{5});
    QCOMPARE(r.scales.entries[2].quantizer, std::string("input"));
    QCOMPARE(r.scales.entries[3].quantizer, std::string("act"));
    const std::string acts = ins::table_csv(r, "activations");
    QVERIFY(acts.find("\neadd.input_quant,QuantEltwiseAdd,8,") != std::string::npos);
    QVERIFY(acts.find("\neadd,QuantEltwiseAdd,6,") != std::string::npos);
  }

  void floatLenetReport() {
    torch::manual_seed(2);
    QuantModel model = build_model(load_project(it::example("lenet_float")));
    const ins::Report r = ins::inspect_model(model, torch::randn({8, 1, 32, 32}));
    QVERIFY(r.weights.empty());
    QVERIFY(r.activations.empty());
    QVERIFY(r.scales.entries.empty());
    QCOMPARE(r.errors.size(), model->order().size());
    for (const ins::LayerError& e : r.errors) {
      QCOMPARE(e.output_sqnr_db, kInf);
      QCOMPARE(e.output_mse, 0.0);
      QVERIFY(std::isnan(e.weight_sqnr_db) && std::isnan(e.act_mse));
    }
    QCOMPARE(r.logits_sqnr_db, kInf);
    QCOMPARE(r.top1_agreement, 1.0);
    QCOMPARE(r.worst_layer, std::string());
    const std::string t = ins::table_csv(r, "layer_error");
    QVERIFY(t.find("conv1,Conv2d,nan,nan,nan,nan,nan,0,inf\n") != std::string::npos);
  }

  // The calibration batch of the real test set on LeNet low precision: the first 256
  // images; timings printed for the record.
  void fashionMnistCalibration() {
    const Project p = load_project(it::example("lenet_lowprec"));
    const Dataset test = load_dataset(p.dataset, false, 1000);
    const torch::Tensor batch = ins::calibration_batch(test);
    QCOMPARE(batch.sizes().vec(), (std::vector<int64_t>{256, 1, 32, 32}));
    QVERIFY(batch.equal(test.images.narrow(0, 0, 256)));
    torch::manual_seed(10);
    QuantModel model = build_model(p);
    it::train_forward(model, 2, {1, 32, 32});
    QElapsedTimer timer;
    timer.start();
    const ins::Report r = ins::inspect_model(model, batch);
    const qint64 inspect_ms = timer.elapsed();
    timer.restart();
    const ins::ScaleSnapshot snap = ins::collect_scales(model);
    const qint64 scales_us = timer.nsecsElapsed() / 1000;
    timer.restart();
    const auto wrong = ins::misclassified(model, test, 1000);
    const qint64 misclassified_ms = timer.elapsed();
    qInfo("inspect_model on 256 images: %lld ms; collect_scales: %lld us; misclassified over "
          "1000 images: %lld ms; logits SQNR %.2f dB, worst layer %s",
          inspect_ms, scales_us, misclassified_ms, r.logits_sqnr_db, r.worst_layer.c_str());
    QCOMPARE(r.calibration_samples, int64_t{256});
    QCOMPARE(snap.entries.size(), size_t{10});
    QCOMPARE(r.activations[0].levels.total(), int64_t{256 * 32 * 32});
    QVERIFY(wrong.size() > 500);  // untrained: about 90 % wrong
    QVERIFY(wrong.size() < 1000);
  }

  void wrongBatchShape() {
    QuantModel model = build_model(it::tiny_project());
    model->train();
    QVERIFY_THROWS_EXCEPTION(ConfigError, ins::inspect_model(model, torch::zeros({2, 1, 4, 2})));
    QVERIFY_THROWS_EXCEPTION(ConfigError, ins::inspect_model(model, torch::zeros({1, 2, 4})));
    QVERIFY(model->is_training());
  }

  void collectScalesWithoutForward() {
    torch::manual_seed(4);
    QuantModel model = build_model(it::mixed_project());
    it::train_forward(model, 1, {1, 4, 4});
    model->set_quant_enabled(false);
    const std::string before = it::state_bytes(model);
    const ins::ScaleSnapshot snap = ins::collect_scales(model, 7);
    QCOMPARE(it::state_bytes(model), before);
    QCOMPARE(snap.step, int64_t{7});
    QCOMPARE(snap.entries.size(), size_t{4});
    QCOMPARE(snap.entries[0].layer, std::string("quant_inp"));
    QCOMPARE(snap.entries[0].quantizer, std::string("act"));
    QCOMPARE(snap.entries[0].scales.at(0), it::act_quant(model, "quant_inp").eval_scale().item<double>());
    QCOMPARE(snap.entries[1].quantizer, std::string("weight"));
    QCOMPARE(snap.entries[1].scales.size(), size_t{3});
    const auto& fc = dynamic_cast<QuantLinearImpl&>(*model->layer("fc"));
    QCOMPARE(snap.entries[3].layer, std::string("fc"));
    QCOMPARE(snap.entries[3].scales.at(0), static_cast<double>(fc.weight.abs().max().item<float>() / 3.0f));
    QVERIFY(!fc.weight_quantizer->enabled());  // switches untouched
  }

  /// Int8Bias codes set by hand on fc1: 2 above 127, 1 below -128, the rest inside.
  void biasSaturationCounts() {
    torch::manual_seed(8);
    QuantModel model = build_model(load_project(it::example("lenet_lowprec")));
    it::train_forward(model, 2, {1, 32, 32});
    model->eval();
    auto* fc1 = dynamic_cast<QuantLinearImpl*>(model->layer("fc1").get());
    QVERIFY(fc1);
    torch::Tensor s_bias;
    {
      torch::NoGradGuard no_grad;
      const auto trace = model->forward_trace(torch::zeros({1, 1, 32, 32}));
      const QuantTensor x = trace.at(model->project().find("fc1")->inputs.front());
      s_bias = (x.scale * fc1->quant_weight().scale).reshape({-1}).to(torch::kFloat64);
      const int64_t n = fc1->bias.size(0);
      torch::Tensor codes = torch::arange(n, torch::kFloat64).remainder(50) - 25;  // inside [-128, 127]
      codes[3] = 200;
      codes[7] = 128.4;  // rounds to 128: one above the grid
      codes[11] = -300;
      fc1->bias.copy_((codes * s_bias).to(torch::kFloat32));
    }
    const std::vector<ins::BiasStats> all = ins::bias_stats(model);
    std::vector<std::string> layers;
    for (const auto& b : all) layers.push_back(b.layer);
    QCOMPARE(layers, (std::vector<std::string>{"conv1", "conv2", "fc1", "fc2"}));  // fc3 has no bias
    const ins::BiasStats& b = all[2];
    QCOMPARE(b.type, std::string("QuantLinear"));
    QCOMPARE(b.quantizer, std::string("Int8Bias"));
    QCOMPARE(b.total, int64_t{120});
    QCOMPARE(b.levels.saturated_high, int64_t{2});
    QCOMPARE(b.levels.saturated_low, int64_t{1});
    QCOMPARE(b.clipped(), int64_t{3});
    QCOMPARE(b.max_code, int64_t{127});
    QCOMPARE(b.min_code, int64_t{-128});
    QCOMPARE(b.warning(), std::string("3 of 120 bias codes clipped (Int8Bias)"));
    QCOMPARE(b.levels.counts.size(), size_t{256});
    QCOMPARE(b.levels.counts[127 + 128], int64_t{2});  // the two clamped to 127
    QCOMPARE(b.scales.size(), size_t{1});
    QVERIFY(std::abs(b.scales[0] - s_bias.item<double>()) <= 1e-12 * s_bias.item<double>());
    for (size_t i : {0, 1, 3}) QCOMPARE(all[i].warning(), std::string());  // untouched layers
    // The inspector's line: preset, bit width, the scale to 3 digits, codes, clipped share.
    std::ostringstream scale;
    scale << std::setprecision(3) << s_bias.item<double>();
    QCOMPARE(b.summary(), "Int8Bias · 8 bit · scale " + scale.str() +
                              " (per tensor) · codes -128..127 on [-128, 127] · 3 of 120 clipped (2.5 %)");
    ins::BiasStats per_channel = b;
    per_channel.scales = {0.5, 0.125, 0.25};
    QVERIFY2(per_channel.summary().find("scale 0.125 … 0.5 (per channel)") != std::string::npos,
             per_channel.summary().c_str());
    // The inspection report carries the same statistics and writes them to biases.csv.
    const ins::Report r = ins::inspect_model(model, torch::randn({4, 1, 32, 32}));
    QCOMPARE(r.biases.size(), size_t{4});
    QCOMPARE(r.biases[2].clipped(), int64_t{3});
    const std::string csv = ins::table_csv(r, "biases");
    QVERIFY2(csv.find("\nfc1,QuantLinear,Int8Bias,8,0,") != std::string::npos, csv.c_str());
    QVERIFY2(csv.find(",-128,127,3,120,0.025\n") != std::string::npos, csv.c_str());
  }

  /// Int32Bias with a tiny weight scale: codes saturate at the int32 limits, which float32
  /// cannot hold (2^31 - 1 rounds to 2^31); stats and the export plan hold them exactly.
  void int32BiasSaturatesExactly() {
    torch::manual_seed(9);
    QuantModel model = build_model(load_project(it::example("lenet_w4a4_int32bias")));
    it::train_forward(model, 2, {1, 32, 32});
    model->eval();
    auto* fc3 = dynamic_cast<QuantLinearImpl*>(model->layer("fc3").get());
    QVERIFY(fc3);
    {
      torch::NoGradGuard no_grad;
      fc3->weight.mul_(1e-9);  // weight scale ~1e-10: bias / scale far beyond 2^31
      fc3->bias.copy_(torch::tensor({1.f, -1.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f}));
    }
    const std::vector<ins::BiasStats> all = ins::bias_stats(model);
    const ins::BiasStats& b = all.back();
    QCOMPARE(b.layer, std::string("fc3"));
    QCOMPARE(b.quantizer, std::string("Int32Bias"));
    QCOMPARE(b.clipped(), int64_t{2});
    QCOMPARE(b.max_code, int64_t{2147483647});
    QCOMPARE(b.min_code, int64_t{-2147483648LL});
    QVERIFY(b.levels.counts.empty());  // no per-level counts above 16 bits
    const ExportPlan plan = make_export_plan(model);
    const PlanNode* n = plan.find("fc3");
    QVERIFY(n && n->bias_q);
    QCOMPARE(n->bias_codes[0].item<int64_t>(), int64_t{2147483647});
    QCOMPARE(n->bias_codes[1].item<int64_t>(), int64_t{-2147483648LL});
    QCOMPARE(n->bias_codes[2].item<int64_t>(), int64_t{0});
  }

  void csvTables() {
    torch::manual_seed(6);
    QuantModel model = build_model(load_project(it::example("lenet_lowprec")));
    it::train_forward(model, 2, {1, 32, 32});
    const ins::Report r = ins::inspect_model(model, torch::randn({16, 1, 32, 32}));
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/new/report";
    const std::vector<std::string> files = ins::write_report_csv(r, dir);
    QCOMPARE(files.size(), size_t{10});
    for (const std::string& f : files) QVERIFY2(std::filesystem::exists(f), f.c_str());

    const auto errors = it::read_lines(dir + "/layer_error.csv");
    QCOMPARE(errors.size(), r.errors.size() + 1);
    QCOMPARE(errors[0], std::string("layer,type,weight_mse,weight_sqnr_db,act_mse,act_sqnr_db,"
                                    "local_sqnr_db,output_mse,output_sqnr_db"));
    QCOMPARE(std::stod(it::cell(errors, "fc3", "output_sqnr_db")), r.logits_sqnr_db);  // round trip
    QCOMPARE(std::stod(it::cell(errors, "conv2", "weight_mse")), r.weights[1].mse);
    QCOMPARE(it::cell(errors, "pool1", "weight_mse"), std::string("nan"));

    size_t level_rows = 0, hist_rows = 0;
    for (const auto& w : r.weights) {
      level_rows += w.levels.counts.size();
      hist_rows += w.float_histogram.counts.size();
    }
    const auto levels = it::read_lines(dir + "/weight_levels.csv");
    QCOMPARE(levels.size(), level_rows + 1);
    QCOMPARE(levels[0], std::string("layer,channel,code,count"));
    QCOMPARE(levels[1], "conv1,-1,-3," + std::to_string(r.weights[0].levels.counts[0]));
    QCOMPARE(it::read_lines(dir + "/weight_histogram.csv").size(), hist_rows + 1);
    const auto acts = it::read_lines(dir + "/activations.csv");
    QCOMPARE(acts.size(), size_t{6});
    QCOMPARE(std::stod(it::cell(acts, "relu1", "scale")), r.activations[1].scale);
    QCOMPARE(std::stod(it::cell(acts, "relu1", "clipped_share")), r.activations[1].clipped_share);
    QCOMPARE(it::read_lines(dir + "/activation_levels.csv").size(), size_t{1 + 16 + 4 * 16});
    QCOMPARE(it::read_lines(dir + "/activation_histogram.csv").size(), size_t{1 + 5 * 64});
    QCOMPARE(it::read_lines(dir + "/scales.csv").size(), size_t{11});
    const auto summary = it::read_lines(dir + "/summary.csv");
    QCOMPARE(summary.size(), size_t{2});
    QCOMPARE(it::split(summary[1]).at(3), r.worst_layer);
    std::ifstream in(dir + "/weights.csv");
    std::stringstream whole;
    whole << in.rdbuf();
    QCOMPARE(whole.str(), ins::table_csv(r, "weights"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, ins::table_csv(r, "nope"));

    // A folder that cannot exist (a file in the way), and a table that cannot be written.
    const std::string blocker = tmp.path().toStdString() + "/blocker";
    std::ofstream(blocker) << "x";
    QVERIFY_THROWS_EXCEPTION(IoError, ins::write_report_csv(r, blocker + "/sub"));
    const std::string dir2 = tmp.path().toStdString() + "/taken";
    std::filesystem::create_directories(dir2 + "/scales.csv/inner");
    try {
      ins::write_report_csv(r, dir2);
      QFAIL("no IoError");
    } catch (const IoError& e) {
      QVERIFY2(std::string(e.what()).find("scales.csv") != std::string::npos, e.what());
    }
  }
};

std::unique_ptr<QObject> make_inspect_state_test();  // test_inspect_state.cpp

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  return qnn_test::run_test_classes(
      argc, argv, {[] { return std::unique_ptr<QObject>(new TestInspect); }, make_inspect_state_test});
}

#include "test_inspect.moc"
