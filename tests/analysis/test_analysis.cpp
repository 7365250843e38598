// SPDX-License-Identifier: GPL-3.0-or-later
// core/analysis: post-training calibration against hand-computed averages of per-batch
// percentiles, bias correction against a hand computation, the analyzer against
// separately toggled evaluations, sweep points against separately built models, the
// Pareto front and suggest() on a hand-made record, and the errors a user can meet.
// Small synthetic datasets keep it to seconds; one case uses real Fashion-MNIST.
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/analysis/analysis.h"
#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/graph/summary.h"
#include "core/graph/validate.h"
#include "core/nn/eltwise_layers.h"
#include "core/nn/quant_act.h"
#include "core/nn/quant_wbiol.h"
#include "core/nn/trunc_pool.h"
#include "core/train/trainer.h"
#include "tests/layer_spec.h"
#include "tests/thrown_message.h"

#include <QtTest>

using namespace qnn;
namespace an = qnn::analysis;

namespace {

// input [1, 4, 4] -> qid (QuantIdentity, 8 bit, or `qid_spec`) -> flat -> fc1 (QuantLinear
// 16 -> 8, bias, 8-bit weights) -> relu1 (QuantReLU 8 bit) -> fc2 (QuantLinear 8 -> 3, no
// bias) -> output.
Project tiny_project(std::optional<QuantSpec> qid_spec = std::nullopt) {
  Project p;
  p.name = "tiny";
  p.input_shape = {1, 4, 4};
  p.layers.push_back(layer("input", LayerType::Input, {}));
  LayerSpec qid = layer("qid", LayerType::QuantIdentity, {"input"});
  qid.act_quant = qid_spec ? *qid_spec : presets::Int8ActPerTensorFloat();
  qid.return_quant_tensor = true;
  p.layers.push_back(qid);
  p.layers.push_back(layer("flat", LayerType::Flatten, {"qid"}));
  LayerSpec fc1 = layer("fc1", LayerType::QuantLinear, {"flat"}, {{"in_features", 16}, {"out_features", 8}, {"bias", 1}});
  fc1.weight_quant = presets::Int8WeightPerTensorFloat();
  p.layers.push_back(fc1);
  LayerSpec relu = layer("relu1", LayerType::QuantReLU, {"fc1"});
  relu.act_quant = presets::Uint8ActPerTensorFloat();
  relu.return_quant_tensor = true;
  p.layers.push_back(relu);
  LayerSpec fc2 = layer("fc2", LayerType::QuantLinear, {"relu1"}, {{"in_features", 8}, {"out_features", 3}, {"bias", 0}});
  fc2.weight_quant = presets::Int8WeightPerTensorFloat();
  p.layers.push_back(fc2);
  p.layers.push_back(layer("output", LayerType::Output, {"fc2"}));
  return p;
}

Dataset random_dataset(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  Dataset d;
  d.images = torch::randn({n, 1, 4, 4});
  d.labels = torch::randint(0, 3, {n}, torch::kInt64);
  d.class_names = {"a", "b", "c"};
  return d;
}

// Brevitas kth-value percentile, by sorting in double: k = floor(0.01 q n + 0.5) in [1, n].
double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const int64_t n = int64_t(v.size());
  int64_t k = int64_t(std::floor(0.01 * q * double(n) + 0.5));
  k = std::clamp<int64_t>(k, 1, n);
  return v[size_t(k - 1)];
}
// Low percentile: k = ceil(0.01 q n), at least 1.
double low_percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  int64_t k = int64_t(std::ceil(0.01 * q * double(v.size())));
  k = std::clamp<int64_t>(k, 1, int64_t(v.size()));
  return v[size_t(k - 1)];
}

std::vector<double> values(const torch::Tensor& t, bool abs = false) {
  const torch::Tensor d = t.detach().to(torch::kFloat64).contiguous().reshape({-1});
  std::vector<double> v(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  if (abs)
    for (double& x : v) x = std::fabs(x);
  return v;
}

ActQuantizerImpl& act_of(QuantModel& m, const std::string& id) {
  return *std::dynamic_pointer_cast<QuantActImpl>(m->layer(id))->act_quant;
}
QuantLinearImpl& linear_of(QuantModel& m, const std::string& id) {
  return *std::dynamic_pointer_cast<QuantLinearImpl>(m->layer(id));
}

// Every tensor of the model, cloned (to check that it is unchanged).
std::map<std::string, torch::Tensor> state_of(QuantModel& m) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [k, v] : named_tensors(*m)) out[k] = v.detach().clone();
  return out;
}
bool same_state(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || v.sizes() != it->second.sizes()) return false;
    if (v.is_floating_point() ? !torch::allclose(v, it->second, 0.0, 0.0, /*equal_nan=*/true)
                              : !torch::equal(v, it->second))
      return false;
  }
  return true;
}

Dataset head(const Dataset& d, int64_t n) {
  Dataset h = d;
  h.images = d.images.narrow(0, 0, n);
  h.labels = d.labels.narrow(0, 0, n);
  return h;
}

}  // namespace

class TestAnalysis : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { set_thread_count(1); }

  void kindNames() {
    for (an::QuantKind k : {an::QuantKind::Weights, an::QuantKind::Activations, an::QuantKind::Both})
      QVERIFY(an::quant_kind_from_string(an::to_string(k)) == k);
    const QString m = thrown_message<ConfigError>([] { an::quant_kind_from_string("acts"); });
    QVERIFY2(m.contains("weights") && m.contains("activations") && m.contains("both"), qPrintable(m));
  }

  // The statistic of every call averaged truly (momentum None), then finalized.
  void calibrationIsTheMeanOfBatchPercentiles() {
    const Project p = tiny_project();
    torch::manual_seed(3);
    QuantModel m = build_model(p);
    const Dataset train = random_dataset(13, 7);
    m->train();
    an::CalibrationOptions o;
    o.batches = 4;
    o.batch_size = 5;  // 13 images: batches of 5, 5, 3
    std::vector<an::Progress> seen;
    const an::CalibrationResult r = an::calibrate(m, train, o, [&](const an::Progress& pr) { seen.push_back(pr); });
    QCOMPARE(r.batches, int64_t{3});
    QCOMPARE(r.samples, int64_t{13});
    QCOMPARE(r.calibrated, (std::vector<std::string>{"qid.act_quant", "relu1.act_quant"}));
    QVERIFY(!r.cancelled);
    QVERIFY(!seen.empty());
    QCOMPARE(seen.back().done, seen.back().total);

    // By hand: the float network's activations per batch, their percentiles, the mean.
    QuantLinearImpl& fc1 = linear_of(m, "fc1");
    double qid_sum = 0.0, relu_sum = 0.0;
    const std::vector<int64_t> sizes{5, 5, 3};
    int64_t start = 0;
    for (int64_t len : sizes) {
      const torch::Tensor x = train.images.narrow(0, start, len);
      start += len;
      qid_sum += percentile(values(x, true), 99.999);
      const torch::Tensor h = torch::relu(torch::linear(x.reshape({len, 16}), fc1.weight, fc1.bias));
      relu_sum += percentile(values(h, true), 99.999);
    }
    ActQuantizerImpl& qid = act_of(m, "qid");
    ActQuantizerImpl& relu = act_of(m, "relu1");
    const double qid_mean = qid_sum / 3.0, relu_mean = relu_sum / 3.0;
    QVERIFY2(std::fabs(qid.value.item<double>() - qid_mean) <= 1e-6 * qid_mean,
             qPrintable(QString("%1 vs %2").arg(qid.value.item<double>()).arg(qid_mean)));
    QVERIFY(std::fabs(relu.value.item<double>() - relu_mean) <= 1e-6 * relu_mean);
    // Finalized: statistics phase over, the eval scale from the value.
    QCOMPARE(qid.counter(), int64_t{qid.spec().collect_stats_steps + 1});
    QVERIFY(qid.learned_phase() && relu.learned_phase());
    QVERIFY(std::fabs(qid.eval_scale().item<double>() - qid_mean / 128.0) <= 1e-6 * qid_mean / 128.0);
    QVERIFY(std::fabs(relu.eval_scale().item<double>() - relu_mean / 255.0) <= 1e-6 * relu_mean / 255.0);
    // Training flag and switches restored.
    QVERIFY(m->is_training() && qid.is_training());
    QVERIFY(qid.enabled() && relu.enabled() && linear_of(m, "fc1").weight_quantizer->enabled());

    // `only`: just relu1, qid keeps its state.
    torch::manual_seed(3);
    QuantModel m2 = build_model(p);
    const double qid_before = act_of(m2, "qid").value.item<double>();
    o.only = {"relu1"};
    const an::CalibrationResult r2 = an::calibrate(m2, train, o);
    QCOMPARE(r2.calibrated, (std::vector<std::string>{"relu1.act_quant"}));
    QCOMPARE(act_of(m2, "qid").value.item<double>(), qid_before);
    QCOMPARE(act_of(m2, "qid").counter(), int64_t{0});
    QCOMPARE(act_of(m2, "relu1").value.item<double>(), relu.value.item<double>());
  }

  // Brevitas averages with buffer * c/(c+1) + stat/(c+1) in float32: the value equals
  // that recursion op for op.
  void calibrationAveragesAsBrevitas() {
    const Project p = tiny_project();
    torch::manual_seed(3);
    QuantModel m = build_model(p);
    const Dataset train = random_dataset(40, 11);
    an::CalibrationOptions o;
    o.batches = 8;
    o.batch_size = 5;
    o.only = {"qid"};
    an::calibrate(m, train, o);
    torch::Tensor buf;
    for (int64_t b = 0; b < 8; ++b) {
      const float stat = float(percentile(values(train.images.narrow(0, 5 * b, 5), true), 99.999));
      const torch::Tensor s = torch::full({}, stat);
      if (b == 0)
        buf = s.clone();
      else
        buf = buf * (double(b) / double(b + 1)) + s / (b + 1);
    }
    QCOMPARE(act_of(m, "qid").value.item<float>(), buf.item<float>());
  }

  // QuantEltwiseAdd: its shared input quantizer is called twice per forward (both
  // inputs), its output quantizer once on the sum (ResNet-8 example).
  void eltwiseAddQuantizersCalibrate() {
    const Project p = load_project(std::string(QNN_SOURCE_DIR) + "/resources/examples/resnet8_w4a4.qnn.json");
    torch::manual_seed(2);
    QuantModel m = build_model(p);
    Dataset train;
    train.images = torch::randn({8, 1, 32, 32});
    train.labels = torch::randint(0, 10, {8}, torch::kInt64);
    QuantModel ref = clone_model(m);
    an::CalibrationOptions o;
    o.batches = 2;
    o.batch_size = 4;
    o.only = {"s1_add", "relu0"};
    const an::CalibrationResult r = an::calibrate(m, train, o);
    QCOMPARE(r.calibrated,
             (std::vector<std::string>{"relu0.act_quant", "s1_add.input_quant", "s1_add.output_quant"}));
    torch::NoGradGuard no_grad;
    ref->eval();
    ref->set_quant_enabled(false);
    // The float network's pool averages float values (forward refuses a float input otherwise).
    std::dynamic_pointer_cast<TruncAdaptiveAvgPool2dImpl>(ref->layer("pool"))->options.return_quant_tensor(false);
    double in_sum = 0.0, out_sum = 0.0;
    for (int b = 0; b < 2; ++b) {
      const auto t = ref->forward_trace(train.images.narrow(0, 4 * b, 4));
      const torch::Tensor a = t.at("s1_bn2").value, c = t.at("relu0").value;
      in_sum += percentile(values(a, true), 99.999) + percentile(values(c, true), 99.999);
      out_sum += percentile(values(a + c, true), 99.999);
    }
    auto& add = *std::dynamic_pointer_cast<QuantEltwiseAddImpl>(m->layer("s1_add"));
    QVERIFY(std::fabs(add.input_quant->value.item<double>() - in_sum / 4) <= 1e-6 * in_sum / 4);
    QVERIFY(std::fabs(add.output_quant->value.item<double>() - out_sum / 2) <= 1e-6 * out_sum / 2);
    QVERIFY(add.input_quant->learned_phase() && add.output_quant->learned_phase());
    // The sweep's act slot of an add sets both of its quantizers.
    const Project q = an::with_slot_bits(p, "s1_add", "act", 5);
    QCOMPARE(q.find("s1_add")->act_quant->bit_width, 5);
    QCOMPARE(q.find("s1_add")->input_quant->bit_width, 5);
  }

  void shiftedQuantizerCalibratesItsZeroPoint() {
    const Project p = tiny_project(presets::ShiftedUint8ActPerTensorFloat());
    torch::manual_seed(3);
    QuantModel m = build_model(p);
    const Dataset train = random_dataset(20, 5);
    an::CalibrationOptions o;
    o.batches = 2;
    o.batch_size = 10;
    o.only = {"qid"};
    an::calibrate(m, train, o);
    double scale_sum = 0.0, zp_sum = 0.0;
    for (int b = 0; b < 2; ++b) {
      const std::vector<double> v = values(train.images.narrow(0, 10 * b, 10));
      const double lo = std::min(low_percentile(v, 0.001), 0.0);
      scale_sum += percentile(v, 99.999) - lo;
      zp_sum += lo;
    }
    ActQuantizerImpl& q = act_of(m, "qid");
    QVERIFY(std::fabs(q.value.item<double>() - scale_sum / 2) <= 1e-6 * scale_sum);
    QVERIFY(std::fabs(q.zero_point_value.item<double>() - zp_sum / 2) <= 1e-6 * std::fabs(zp_sum));
    QVERIFY(zp_sum < 0.0);
    QCOMPARE(q.zero_point_buffer.item<double>(), q.zero_point_value.item<double>());
    QVERIFY(q.learned_phase());
  }

  // Bias correction by hand: fc1's input in the calibrated quantized network, the mean
  // per-channel difference between float-weight and quantized-weight outputs.
  void biasCorrectionByHand() {
    const Project p = tiny_project();
    torch::manual_seed(3);
    QuantModel m = build_model(p);
    const Dataset train = random_dataset(12, 9);
    an::CalibrationOptions o;
    o.batches = 3;
    o.batch_size = 4;
    an::calibrate(m, train, o);  // calibration only
    QuantModel ref = clone_model(m);
    ref->eval();

    QuantModel m2 = build_model(p);
    copy_model_state(*m, *m2);
    // Calibrating again gives the same scales; now with bias correction.
    o.bias_correction = true;
    const an::CalibrationResult r = an::calibrate(m2, train, o);
    QCOMPARE(r.bias_corrected, (std::vector<std::string>{"fc1"}));
    QCOMPARE(r.notes, (std::vector<std::string>{"fc2: no bias, bias correction skipped"}));

    torch::NoGradGuard no_grad;
    QuantLinearImpl& fc1 = linear_of(ref, "fc1");
    const torch::Tensor wq = fc1.quant_weight().value;
    torch::Tensor sum = torch::zeros({8}, torch::kFloat64);
    for (int b = 0; b < 3; ++b) {
      const torch::Tensor x = train.images.narrow(0, 4 * b, 4);
      const torch::Tensor in = ref->forward_trace(x).at("flat").value;
      const torch::Tensor f = torch::linear(in, fc1.weight, fc1.bias);
      const torch::Tensor q = torch::linear(in, wq, fc1.bias);
      sum += (f.mean(0) - q.mean(0)).to(torch::kFloat64);
    }
    const torch::Tensor expect = fc1.bias.to(torch::kFloat64) + sum / 3.0;
    QVERIFY(torch::allclose(linear_of(m2, "fc1").bias.to(torch::kFloat64), expect, 1e-5, 1e-6));
    QVERIFY(!torch::equal(linear_of(m2, "fc1").bias, fc1.bias));
    QCOMPARE(act_of(m2, "relu1").value.item<double>(), act_of(ref, "relu1").value.item<double>());
  }

  void calibrationErrorsLeaveTheModelUnchanged() {
    const Project p = tiny_project();
    torch::manual_seed(3);
    QuantModel m = build_model(p);
    const Dataset train = random_dataset(20, 1);
    const auto before = state_of(m);
    an::CalibrationOptions o;
    o.batches = 0;
    QVERIFY(thrown_message<ConfigError>([&] { an::calibrate(m, train, o); }).contains("batches"));
    o.batches = 2;
    o.batch_size = 0;
    QVERIFY(thrown_message<ConfigError>([&] { an::calibrate(m, train, o); }).contains("batch size"));
    o.batch_size = 4;
    QVERIFY(thrown_message<ConfigError>([&] { an::calibrate(m, Dataset{}, o); }).contains("empty"));
    o.only = {"fc1"};
    QString msg = thrown_message<ConfigError>([&] { an::calibrate(m, train, o); });
    QVERIFY2(msg.contains("\"fc1\"") && msg.contains("qid, relu1"), qPrintable(msg));
    o.only.clear();
    Dataset wrong = train;
    wrong.images = torch::randn({20, 1, 5, 5});
    msg = thrown_message<ConfigError>([&] { an::calibrate(m, wrong, o); });
    QVERIFY2(msg.contains("[1, 5, 5]") && msg.contains("[1, 4, 4]"), qPrintable(msg));
    QVERIFY(same_state(before, state_of(m)));

    // NaN weights: DataError naming the quantizer and the tensor; nothing written.
    {
      torch::NoGradGuard no_grad;
      linear_of(m, "fc1").weight[0][0] = std::nan("");
    }
    const auto with_nan = state_of(m);
    o.bias_correction = true;
    msg = thrown_message<DataError>([&] { an::calibrate(m, train, o); });
    QVERIFY2(msg.contains("relu1.act_quant") && msg.contains("NaN") && msg.contains("fc1.weight"), qPrintable(msg));
    QVERIFY(same_state(with_nan, state_of(m)));
    QVERIFY(act_of(m, "qid").enabled());

    // Cancel after the first batch: cancelled, model unchanged (also in bias correction).
    QuantModel c = build_model(p);
    const auto c_before = state_of(c);
    std::atomic<bool> cancel{false};
    o.bias_correction = false;
    o.batches = 3;  // 20 images in batches of 4: cancelled before the third
    an::CalibrationResult r = an::calibrate(c, train, o, [&](const an::Progress& pr) {
      if (pr.done >= 1) cancel = true;
    }, &cancel);
    QVERIFY(r.cancelled);
    QVERIFY(same_state(c_before, state_of(c)));
    cancel = false;
    o.bias_correction = true;
    r = an::calibrate(c, train, o, [&](const an::Progress& pr) {
      if (pr.what.find("bias correction") != std::string::npos) cancel = true;
    }, &cancel);
    QVERIFY(r.cancelled);
    QVERIFY(same_state(c_before, state_of(c)));
  }

  void perChannelWeights() {
    const Project p = an::with_per_channel_weights(tiny_project());
    QCOMPARE(p.find("fc1")->weight_quant->preset, std::string("Int8WeightPerChannelFloat"));
    QVERIFY(p.find("fc1")->weight_quant->per_channel);
    Project q = tiny_project();
    q.find("fc2")->weight_quant = presets::Int8WeightPerTensorFixedPoint();
    q.find("fc1")->weight_quant->bit_width = 3;
    const Project r = an::with_per_channel_weights(q);
    QCOMPARE(r.find("fc1")->weight_quant->bit_width, 3);
    QVERIFY(r.find("fc1")->weight_quant->narrow_range);
    QVERIFY(*r.find("fc2")->weight_quant == presets::Int8WeightPerTensorFixedPoint());
    build_model(r);  // valid
  }

  // Analyzer rows against evaluations with the switches set by hand.
  void analyzerEqualsToggledEvaluations() {
    const Project p = tiny_project();
    torch::manual_seed(4);
    QuantModel m = build_model(p);
    const Dataset train = random_dataset(64, 2);
    const Dataset test = random_dataset(300, 8);
    an::calibrate(m, train, an::CalibrationOptions{});
    m->eval();
    an::AnalyzerOptions o;
    o.holdout = 250;
    o.sqnr_samples = 50;
    o.batch_size = 64;
    const auto before = state_of(m);
    const an::AnalyzerReport r = an::analyze(m, test, o);
    QVERIFY(same_state(before, state_of(m)));
    QCOMPARE(r.samples, int64_t{250});
    const Dataset h = head(test, 250);
    auto eval_with = [&](const std::function<void()>& set) {
      m->set_quant_enabled(true);
      set();
      const double a = evaluate(m, h, 64).accuracy;
      m->set_quant_enabled(true);
      return a;
    };
    QCOMPARE(r.float_accuracy, eval_with([&] { m->set_quant_enabled(false); }));
    QCOMPARE(r.quantized_accuracy, eval_with([] {}));
    QCOMPARE(r.weights_only_accuracy, eval_with([&] {
      for (const char* id : {"qid", "relu1"}) an::set_layer_quant_enabled(*m, id, an::QuantKind::Activations, false);
    }));
    QCOMPARE(r.activations_only_accuracy, eval_with([&] {
      for (const char* id : {"fc1", "fc2"}) an::set_layer_quant_enabled(*m, id, an::QuantKind::Weights, false);
    }));
    QCOMPARE(r.layers.size(), size_t{4});
    const std::vector<std::string> ids{"qid", "fc1", "relu1", "fc2"};
    torch::Tensor x = test.images.narrow(0, 0, 50);
    m->set_quant_enabled(true);
    auto tq = m->forward_trace(x);
    m->set_quant_enabled(false);
    auto tf = m->forward_trace(x);
    m->set_quant_enabled(true);
    for (size_t i = 0; i < ids.size(); ++i) {
      const an::LayerSensitivity& s = r.layers[i];
      QCOMPARE(s.layer, ids[i]);
      QCOMPARE(s.type, to_string(p.find(ids[i])->type));
      QCOMPARE(s.only_this_accuracy, eval_with([&] {
        m->set_quant_enabled(false);
        an::set_layer_quant_enabled(*m, ids[i], an::QuantKind::Both, true);
      }));
      QCOMPARE(s.all_but_this_accuracy,
               eval_with([&] { an::set_layer_quant_enabled(*m, ids[i], an::QuantKind::Both, false); }));
      QCOMPARE(s.gain(), s.all_but_this_accuracy - r.quantized_accuracy);
      const std::vector<double> f = values(tf.at(ids[i]).value), q = values(tq.at(ids[i]).value);
      double sig = 0, noise = 0;
      for (size_t k = 0; k < f.size(); ++k) {
        sig += f[k] * f[k];
        noise += (f[k] - q[k]) * (f[k] - q[k]);
      }
      const double db = noise == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(sig / noise);
      QVERIFY2(std::fabs(s.output_sqnr_db - db) < 1e-9 * std::max(1.0, std::fabs(db)) || s.output_sqnr_db == db,
               qPrintable(QString("%1: %2 vs %3").arg(ids[i].c_str()).arg(s.output_sqnr_db).arg(db)));
    }
    // keep_higher: gain > 0.005, largest first.
    std::vector<std::pair<double, std::string>> g;
    for (const an::LayerSensitivity& s : r.layers)
      if (s.gain() > 0.005) g.emplace_back(s.gain(), s.layer);
    std::stable_sort(g.begin(), g.end(), [](auto& a, auto& b) { return a.first > b.first; });
    QCOMPARE(r.keep_higher.size(), g.size());
    for (size_t i = 0; i < g.size(); ++i) QCOMPARE(r.keep_higher[i], g[i].second);

    const std::string csv = an::analyzer_csv(r);
    QVERIFY(csv.rfind("layer,type,only_this_accuracy,all_but_this_accuracy,gain,output_sqnr_db\n", 0) == 0);
    QVERIFY(csv.find("\n(quantized),,") != std::string::npos);
    QCOMPARE(int(std::count(csv.begin(), csv.end(), '\n')), 1 + 4 + 4);
    QVERIFY(csv.find("fc1,QuantLinear,") != std::string::npos);

    // A float network has nothing to analyze.
    Project fp;
    fp.input_shape = {1, 4, 4};
    fp.layers = {layer("input", LayerType::Input, {}), layer("flat", LayerType::Flatten, {"input"}),
                 layer("fc", LayerType::Linear, {"flat"}, {{"in_features", 16}, {"out_features", 3}}),
                 layer("output", LayerType::Output, {"fc"})};
    QuantModel fm = build_model(fp);
    QVERIFY(thrown_message<ConfigError>([&] { an::analyze(fm, test, o); }).contains("no quantizer"));
  }

  // A bias quantizer whose input quantizer is off adds the float bias (no error).
  void switchesKeepBiasQuantizersWorking() {
    Project p = tiny_project();
    p.find("fc1")->bias_quant = presets::Int8Bias();
    torch::manual_seed(4);
    QuantModel m = build_model(p);
    m->eval();
    an::set_layer_quant_enabled(*m, "qid", an::QuantKind::Activations, false);
    const Dataset test = random_dataset(20, 8);
    an::AnalyzerOptions o;
    o.holdout = 20;
    o.sqnr_samples = 10;
    const an::AnalyzerReport r = an::analyze(m, test, o);
    QCOMPARE(r.layers.size(), size_t{4});
    QVERIFY(!act_of(m, "qid").enabled());  // restored as it was
    QVERIFY(thrown_message<ConfigError>([&] { an::set_layer_quant_enabled(*m, "nope", an::QuantKind::Both, true); })
                .contains("nope"));
    QCOMPARE(an::quantized_layers(*m, an::QuantKind::Weights), (std::vector<std::string>{"fc1", "fc2"}));
    QCOMPARE(an::quantized_layers(*m, an::QuantKind::Activations), (std::vector<std::string>{"qid", "relu1"}));
  }

  void slotsBitsAndCost() {
    const Project p = tiny_project();
    const std::vector<SweepSlot> w = an::sweep_slots(p, an::QuantKind::Weights);
    QCOMPARE(w, (std::vector<SweepSlot>{{"fc1", "weight", 8}, {"fc2", "weight", 8}}));
    const std::vector<SweepSlot> b = an::sweep_slots(p, an::QuantKind::Both);
    QCOMPARE(b, (std::vector<SweepSlot>{{"qid", "act", 8}, {"fc1", "weight", 8}, {"relu1", "act", 8}, {"fc2", "weight", 8}}));
    const Project q = an::with_slot_bits(p, "relu1", "act", 3);
    QCOMPARE(q.find("relu1")->act_quant->bit_width, 3);
    QVERIFY(network_difference(p, q).find("relu1") != std::string::npos);
    QCOMPARE(network_fingerprint(p), network_fingerprint(q));
    QVERIFY(thrown_message<ConfigError>([&] { an::with_slot_bits(p, "nope", "act", 3); }).contains("nope"));
    QVERIFY(thrown_message<ConfigError>([&] { an::with_slot_bits(p, "relu1", "weight", 3); }).contains("relu1"));
    QVERIFY(thrown_message<ConfigError>([&] { an::with_slot_bits(p, "fc1", "weight", 40); }).contains("fc1"));
    QVERIFY(thrown_message<ConfigError>([&] { an::with_slot_bits(p, "fc1", "bias", 4); }).contains("bias"));

    // Cost by hand: fc1 16*8 weights at w1 bits + 8 float biases; fc2 8*3 at w2 bits.
    // BitOps: fc1 MACs 128 x w1 x qid bits, fc2 MACs 24 x w2 x relu1 bits.
    const Project c = an::with_slot_bits(an::with_slot_bits(an::with_slot_bits(p, "fc1", "weight", 3), "fc2", "weight", 5),
                                         "relu1", "act", 4);
    const an::Cost cost = an::model_cost(c);
    QCOMPARE(cost.size_bytes, int64_t((128 * 3 + 8 * 32 + 24 * 5 + 7) / 8));
    QCOMPARE(cost.bitops, 128.0 * 3 * 8 + 24.0 * 5 * 4);
    QCOMPARE(cost.size_bytes, summarize(c, validate(c)).size_bytes);

    // LeNet low precision: 5 weight slots at 3 bits, 5 activation slots.
    const Project lenet = load_project(std::string(QNN_SOURCE_DIR) + "/resources/examples/lenet_lowprec.qnn.json");
    const std::vector<SweepSlot> lw = an::sweep_slots(lenet, an::QuantKind::Weights);
    QCOMPARE(lw.size(), size_t{5});
    for (const SweepSlot& s : lw) QCOMPARE(s.base_bits, 3);
    QCOMPARE(lw.front().layer, std::string("conv1"));
    QVERIFY(!an::sweep_slots(lenet, an::QuantKind::Activations).empty());
  }

  // A sweep point equals a model built by hand at those bits, calibrated and evaluated.
  void sweepPointsEqualSeparateModels() {
    Project p = tiny_project();
    p.find("fc1")->weight_quant->bit_width = 4;  // inside the swept 2..4: that point is the base
    p.find("relu1")->act_quant->bit_width = 3;
    torch::manual_seed(6);
    QuantModel trained = build_model(p);
    const Dataset train = random_dataset(64, 3);
    const Dataset test = random_dataset(120, 4);
    an::calibrate(trained, train, an::CalibrationOptions{});
    trained->eval();
    const auto before = state_of(trained);
    an::SweepOptions o;
    o.min_bits = 2;
    o.max_bits = 4;
    o.what = an::QuantKind::Both;
    o.holdout = 100;
    o.calibration_batches = 2;
    o.calibration_batch_size = 16;
    o.eval_batch_size = 32;
    o.weights_file = "w.qnnckpt";
    std::vector<SweepPoint> streamed;
    std::vector<an::Progress> progress;
    const SweepRecord r = an::run_sweep(p, trained, train, test, o, [&](const an::Progress& pr) { progress.push_back(pr); },
                                        nullptr, [&](const SweepPoint& pt) { streamed.push_back(pt); });
    QVERIFY(same_state(before, state_of(trained)));
    QVERIFY(r.complete);
    QCOMPARE(r.points.size(), size_t{12});
    QCOMPARE(streamed, r.points);
    QCOMPARE(r.slots.size(), size_t{4});
    QCOMPARE(r.what, std::string("both"));
    QCOMPARE(r.holdout, int64_t{100});
    QCOMPARE(r.weights_file, std::string("w.qnnckpt"));
    QCOMPARE(r.network, an::sweep_fingerprint(p, r.slots));
    QVERIFY(r.notes.empty());  // the model was calibrated
    QVERIFY(!progress.empty() && progress.back().total == 13);
    QVERIFY(r.seconds > 0.0);

    const Dataset h = head(test, 100);
    const EvalResult base = evaluate(trained, h, 32);
    QCOMPARE(r.base_accuracy, base.accuracy);
    QCOMPARE(r.base_loss, base.loss);
    QCOMPARE(r.base_size_bytes, an::model_cost(p).size_bytes);

    int own_points = 0;
    for (const SweepPoint& pt : r.points) {
      const Project pp = an::with_slot_bits(p, pt.layer, pt.kind, pt.bits);
      QuantModel m = build_model(pp);
      copy_model_state(*trained, *m);  // an activation slot keeps its threshold: no recalibration
      const EvalResult e = evaluate(m, h, 32);
      QCOMPARE(pt.accuracy, e.accuracy);
      QCOMPARE(pt.loss, e.loss);
      // The point at the project's own bit width is the base.
      const LayerSpec* l = p.find(pt.layer);
      const int own = pt.kind == "weight" ? l->weight_quant->bit_width : l->act_quant->bit_width;
      if (pt.bits == own) {
        ++own_points;
        QCOMPARE(pt.accuracy, r.base_accuracy);
        QCOMPARE(pt.loss, r.base_loss);
      }
      const an::Cost c = an::model_cost(pp);
      QCOMPARE(pt.size_bytes, c.size_bytes);
      QCOMPARE(pt.bitops, c.bitops);
    }
    QCOMPARE(own_points, 2);  // fc1 weight at 4 bits, relu1 act at 3 bits
    const std::string csv = an::sweep_csv(r);
    QVERIFY(csv.rfind("layer,kind,bits,accuracy,accuracy_drop,loss,size_bytes,bitops\n(base),,,", 0) == 0);
    QCOMPARE(int(std::count(csv.begin(), csv.end(), '\n')), 2 + 12);
  }

  void sweepOfAnUncalibratedModelCalibratesFirst() {
    const Project p = tiny_project();
    torch::manual_seed(6);
    QuantModel trained = build_model(p);
    const Dataset train = random_dataset(32, 3);
    const Dataset test = random_dataset(40, 4);
    an::SweepOptions o;
    o.min_bits = 3;
    o.max_bits = 4;
    o.holdout = 0;
    o.calibration_batches = 2;
    o.calibration_batch_size = 8;
    const SweepRecord r = an::run_sweep(p, trained, train, test, o);
    QCOMPARE(r.holdout, int64_t{40});
    QCOMPARE(r.notes.size(), size_t{1});
    QVERIFY2(r.notes[0].find("qid.act_quant, relu1.act_quant") != std::string::npos, r.notes[0].c_str());
    QVERIFY(!act_of(trained, "qid").learned_phase());  // the caller's model untouched
    // The base point is the model calibrated as calibrate() does.
    QuantModel c = clone_model(trained);
    an::CalibrationOptions co;
    co.batches = 2;
    co.batch_size = 8;
    an::calibrate(c, train, co);
    QCOMPARE(r.base_accuracy, evaluate(c, test, 256).accuracy);
  }

  void sweepErrorsAndCancel() {
    const Project p = tiny_project();
    torch::manual_seed(6);
    QuantModel trained = build_model(p);
    const Dataset train = random_dataset(32, 3);
    const Dataset test = random_dataset(40, 4);
    an::calibrate(trained, train, an::CalibrationOptions{});
    an::SweepOptions o;
    o.calibration_batches = 1;
    o.min_bits = 1;
    QVERIFY(thrown_message<ConfigError>([&] { an::run_sweep(p, trained, train, test, o); }).contains("2..16"));
    o.min_bits = 2;
    o.max_bits = 17;
    QVERIFY(thrown_message<ConfigError>([&] { an::run_sweep(p, trained, train, test, o); }).contains("17"));
    o.min_bits = 6;
    o.max_bits = 5;
    QVERIFY(thrown_message<ConfigError>([&] { an::run_sweep(p, trained, train, test, o); }).contains("above"));
    o.min_bits = 2;
    o.max_bits = 8;
    // Another network than the model's.
    Project other = p;
    other.find("fc1")->weight_quant->bit_width = 4;
    QVERIFY(thrown_message<ConfigError>([&] { an::run_sweep(other, trained, train, test, o); }).contains("differs"));

    // A project without weight quantizers: nothing to sweep.
    Project acts;
    acts.name = "acts only";
    acts.input_shape = {1, 4, 4};
    LayerSpec qid = layer("qid", LayerType::QuantIdentity, {"input"});
    acts.layers = {layer("input", LayerType::Input, {}), qid, layer("flat", LayerType::Flatten, {"qid"}),
                   layer("fc", LayerType::Linear, {"flat"}, {{"in_features", 16}, {"out_features", 3}}),
                   layer("output", LayerType::Output, {"fc"})};
    QuantModel am = build_model(acts);
    const QString msg = thrown_message<ConfigError>([&] { an::run_sweep(acts, am, train, test, o); });
    QVERIFY2(msg.contains("nothing to sweep") && msg.contains("acts only") && msg.contains("weight quantizer"),
             qPrintable(msg));

    // Cancel after the second point: partial record.
    std::atomic<bool> cancel{false};
    int points = 0;
    const SweepRecord r = an::run_sweep(p, trained, train, test, o, {}, &cancel, [&](const SweepPoint&) {
      if (++points == 2) cancel = true;
    });
    QVERIFY(!r.complete);
    QCOMPARE(r.points.size(), size_t{2});
    QCOMPARE(r.slots.size(), size_t{2});
    QVERIFY(thrown_message<ConfigError>([&] { an::pareto_front(r, p); }).contains("fc1 weight at 4 bits"));
  }

  // The front of a hand-made record against every configuration enumerated here.
  void paretoFrontOnAHandMadeRecord() {
    const Project p = tiny_project();
    SweepRecord r;
    r.min_bits = 2;
    r.max_bits = 4;
    r.base_accuracy = 0.9;
    r.slots = {{"fc1", "weight", 8}, {"fc2", "weight", 8}};
    r.network = an::sweep_fingerprint(p, r.slots);
    const std::map<std::pair<std::string, int>, double> acc{
        {{"fc1", 2}, 0.60}, {{"fc1", 3}, 0.85}, {{"fc1", 4}, 0.91},  // 0.91: a negative drop, counted as 0
        {{"fc2", 2}, 0.80}, {{"fc2", 3}, 0.88}, {{"fc2", 4}, 0.895}};
    for (auto& [k, a] : acc) {
      SweepPoint pt;
      pt.layer = k.first;
      pt.kind = "weight";
      pt.bits = k.second;
      pt.accuracy = a;
      r.points.push_back(pt);
    }
    r.complete = true;
    const std::vector<an::MixedConfig> front = an::pareto_front(r, p, an::CostAxis::SizeBytes);
    QVERIFY(!front.empty());
    // Every configuration by hand.
    struct C { int b1, b2; double acc; int64_t size; double ops; };
    std::vector<C> all;
    for (int b1 = 2; b1 <= 4; ++b1)
      for (int b2 = 2; b2 <= 4; ++b2) {
        const double d1 = std::max(0.0, 0.9 - acc.at({"fc1", b1})), d2 = std::max(0.0, 0.9 - acc.at({"fc2", b2}));
        const Project c = an::with_slot_bits(an::with_slot_bits(p, "fc1", "weight", b1), "fc2", "weight", b2);
        all.push_back({b1, b2, 0.9 - (d1 + d2), an::model_cost(c).size_bytes, an::model_cost(c).bitops});
      }
    for (size_t i = 0; i < front.size(); ++i) {
      const an::MixedConfig& f = front[i];
      QCOMPARE(f.bits.size(), size_t{2});
      const auto it = std::find_if(all.begin(), all.end(), [&](const C& c) { return c.b1 == f.bits[0] && c.b2 == f.bits[1]; });
      QVERIFY(it != all.end());
      QCOMPARE(f.predicted_accuracy, it->acc);
      QCOMPARE(f.size_bytes, it->size);
      QCOMPARE(f.bitops, it->ops);
      if (i > 0) {
        QVERIFY(f.size_bytes > front[i - 1].size_bytes);
        QVERIFY(f.predicted_accuracy > front[i - 1].predicted_accuracy);
      }
      // Non-dominated among all configurations.
      for (const C& c : all)
        QVERIFY(!(c.size <= f.size_bytes && c.acc >= f.predicted_accuracy &&
                  (c.size < f.size_bytes || c.acc > f.predicted_accuracy)));
    }
    // Every non-dominated configuration (up to equal cost and accuracy) is on the front.
    for (const C& c : all) {
      bool dominated = false;
      for (const C& d : all)
        if (d.size <= c.size && d.acc >= c.acc && (d.size < c.size || d.acc > c.acc)) dominated = true;
      if (dominated) continue;
      QVERIFY(std::any_of(front.begin(), front.end(), [&](const an::MixedConfig& f) {
        return f.size_bytes == c.size && f.predicted_accuracy == c.acc;
      }));
    }
    // The top of the front: 4/4 bits, base - 0.005.
    QCOMPARE(front.back().bits, (std::vector<int>{4, 4}));
    QCOMPARE(front.back().predicted_accuracy, 0.9 - (0.0 + std::max(0.0, 0.9 - 0.895)));

    // BitOps axis: sorted by BitOps.
    const std::vector<an::MixedConfig> ops = an::pareto_front(r, p, an::CostAxis::BitOps);
    for (size_t i = 1; i < ops.size(); ++i) QVERIFY(ops[i].bitops > ops[i - 1].bitops);

    // suggest: the most accurate within the size; the smallest at equal accuracy.
    an::Budget b;
    b.max_size_bytes = front[front.size() / 2].size_bytes;
    const an::MixedConfig s = an::suggest(front, b);
    double best = -1;
    for (const an::MixedConfig& f : front)
      if (f.size_bytes <= b.max_size_bytes) best = std::max(best, f.predicted_accuracy);
    QCOMPARE(s.predicted_accuracy, best);
    QVERIFY(s.size_bytes <= b.max_size_bytes);
    an::Budget tiny;
    tiny.max_size_bytes = 1;
    const QString msg = thrown_message<ConfigError>([&] { an::suggest(front, tiny); });
    QVERIFY2(msg.contains("1 bytes") && msg.contains(QString::number(front.front().size_bytes) + " bytes") &&
                 msg.contains("closest"),
             qPrintable(msg));
    an::Budget drop;
    drop.max_drop = 0.0;
    QCOMPARE(an::suggest(front, drop).bits, (std::vector<int>{4, 4}));
    // Only a drop limit: the smallest configuration (of all, by hand) within it.
    drop.max_drop = 0.05;
    const an::MixedConfig cheap = an::suggest(front, drop);
    int64_t smallest = std::numeric_limits<int64_t>::max();
    for (const C& c : all)
      if (front.back().predicted_accuracy - c.acc <= 0.05 + 1e-12) smallest = std::min(smallest, c.size);
    QCOMPARE(cheap.size_bytes, smallest);
    QVERIFY(cheap.size_bytes < front.back().size_bytes);
    // Measured from the sweep's base accuracy when given: 1 point above the front's best,
    // a 0.5-point limit leaves nothing; a 1-point limit only the best, with its accuracy.
    an::Budget from_base;
    from_base.base_accuracy = front.back().predicted_accuracy + 0.01;
    from_base.max_drop = 0.005;
    const QString none = thrown_message<ConfigError>([&] { an::suggest(front, from_base); });
    QVERIFY2(none.contains("an accuracy drop of 0.5 points"), qPrintable(none));
    from_base.max_drop = 0.01;
    QCOMPARE(an::suggest(front, from_base).predicted_accuracy, front.back().predicted_accuracy);

    // apply_config sets the bits; a record of another network is refused.
    const Project applied = an::apply_config(p, r, front.front());
    QCOMPARE(applied.find("fc1")->weight_quant->bit_width, front.front().bits[0]);
    QCOMPARE(applied.find("fc2")->weight_quant->bit_width, front.front().bits[1]);
    SweepRecord stale = r;
    stale.network = "0000000000000000";
    QVERIFY(thrown_message<ConfigError>([&] { an::pareto_front(stale, p); }).contains("another network"));
    // Apply keeps the record current (the swept slots may change); a bit width it did
    // not sweep (relu1 here) makes it stale, as does writing out nothing but defaults:
    // relu1's act_quant left to its type's default fingerprints as that default.
    QCOMPARE(an::sweep_fingerprint(applied, r.slots), r.network);
    Project other_bits = p;
    other_bits.find("relu1")->act_quant->bit_width = 4;
    QVERIFY(an::sweep_fingerprint(other_bits, r.slots) != r.network);
    QVERIFY(thrown_message<ConfigError>([&] { an::pareto_front(r, other_bits); }).contains("other bit widths"));
    Project implicit = p;
    implicit.find("relu1")->act_quant.reset();  // QuantReLU's default: Uint8ActPerTensorFloat, 8 bits
    QCOMPARE(an::sweep_fingerprint(implicit, r.slots), r.network);
    QCOMPARE(network_fingerprint(implicit), network_fingerprint(p));
    SweepRecord missing = r;
    missing.points.pop_back();
    QVERIFY(thrown_message<ConfigError>([&] { an::pareto_front(missing, p); }).contains("missing"));
  }

  // Real data: LeNet low precision on Fashion-MNIST, a short weight sweep.
  void lenetWeightSweepOnFashionMnist() {
    DatasetSpec spec;  // the installed Fashion-MNIST, padded to 32 x 32
    const Dataset train = load_dataset(spec, true, 256);
    const Dataset test = load_dataset(spec, false, 200);
    const Project p = load_project(std::string(QNN_SOURCE_DIR) + "/resources/examples/lenet_lowprec.qnn.json");
    torch::manual_seed(1);
    QuantModel m = build_model(p);
    an::CalibrationOptions co;
    co.batches = 4;
    const an::CalibrationResult cr = an::calibrate(m, train, co);
    QCOMPARE(cr.samples, int64_t{256});
    QCOMPARE(cr.calibrated.size(), size_t{5});
    an::SweepOptions o;
    o.min_bits = 2;
    o.max_bits = 3;
    o.holdout = 200;
    const SweepRecord r = an::run_sweep(p, m, train, test, o);
    QVERIFY(r.complete);
    QCOMPARE(r.points.size(), size_t{10});
    for (const SweepPoint& pt : r.points) {
      QVERIFY(pt.accuracy >= 0.0 && pt.accuracy <= 1.0 && std::isfinite(pt.loss));
      if (pt.bits == 3) {
        QCOMPARE(pt.size_bytes, r.base_size_bytes);  // the base bits
        QCOMPARE(pt.accuracy, r.base_accuracy);
      } else {
        QVERIFY(pt.size_bytes < r.base_size_bytes);
      }
    }
    const std::vector<an::MixedConfig> front = an::pareto_front(r, p);
    QVERIFY(!front.empty());
    QCOMPARE(front.front().bits, std::vector<int>(5, 2));  // the smallest configuration
    for (const an::MixedConfig& f : front) {  // exact costs
      const an::Cost c = an::model_cost(an::apply_config(p, r, f));
      QCOMPARE(f.size_bytes, c.size_bytes);
      QCOMPARE(f.bitops, c.bitops);
    }
  }

  // Beyond 200000 configurations: the greedy path (8 slots x 7 bits = 5.8 M).
  void paretoGreedyPathBeyondTheExhaustiveLimit() {
    Project p;
    p.input_shape = {1, 2, 4};
    p.layers.push_back(layer("input", LayerType::Input, {}));
    LayerSpec q = layer("qid", LayerType::QuantIdentity, {"input"});
    q.return_quant_tensor = true;
    p.layers.push_back(q);
    p.layers.push_back(layer("flat", LayerType::Flatten, {"qid"}));
    std::string prev = "flat";
    SweepRecord r;
    r.min_bits = 2;
    r.max_bits = 8;
    r.base_accuracy = 0.8;
    for (int i = 0; i < 8; ++i) {
      const std::string id = "fc" + std::to_string(i);
      LayerSpec l = layer(id, LayerType::QuantLinear, {prev}, {{"in_features", 8}, {"out_features", 8}, {"bias", 0}});
      l.weight_quant = presets::Int8WeightPerTensorFloat();
      l.weight_quant->bit_width = 4;
      p.layers.push_back(l);
      prev = id;
      r.slots.push_back({id, "weight", 4});
      for (int b = 2; b <= 8; ++b) {
        SweepPoint pt;
        pt.layer = id;
        pt.kind = "weight";
        pt.bits = b;
        pt.accuracy = 0.8 - 0.001 * (i + 1) * (8 - b) * (8 - b);
        r.points.push_back(pt);
      }
    }
    p.layers.push_back(layer("output", LayerType::Output, {prev}));
    r.network = an::sweep_fingerprint(p, r.slots);
    r.complete = true;
    const std::vector<an::MixedConfig> front = an::pareto_front(r, p);
    QVERIFY(front.size() > 5);
    QCOMPARE(front.back().bits, std::vector<int>(8, 8));
    QCOMPARE(front.back().predicted_accuracy, 0.8);
    QCOMPARE(front.front().bits, std::vector<int>(8, 2));
    for (size_t i = 0; i < front.size(); ++i) {
      const an::Cost c = an::model_cost(an::apply_config(p, r, front[i]));
      QCOMPARE(front[i].size_bytes, c.size_bytes);
      QCOMPARE(front[i].bitops, c.bitops);
      double sum = 0.0;
      for (size_t s = 0; s < 8; ++s) sum += 0.001 * double(s + 1) * (8 - front[i].bits[s]) * (8 - front[i].bits[s]);
      QVERIFY(std::fabs(front[i].predicted_accuracy - (0.8 - sum)) < 1e-12);
      if (i > 0) {
        QVERIFY(front[i].size_bytes > front[i - 1].size_bytes);
        QVERIFY(front[i].predicted_accuracy > front[i - 1].predicted_accuracy);
      }
    }
  }

  // Beyond the exhaustive limit, with an activation slot that costs no bytes and whose
  // noisy drop is 0 at its base 4 bits but 2 points at 5..8 bits: the front still holds
  // a configuration at least as good as the project's own (a greedy path from every
  // slot at max_bits alone keeps that slot at 8 bits and misses it).
  void paretoGreedyFrontCoversTheBase() {
    Project p;
    p.input_shape = {1, 2, 4};
    p.layers.push_back(layer("input", LayerType::Input, {}));
    LayerSpec q = layer("qid", LayerType::QuantIdentity, {"input"});
    q.return_quant_tensor = true;
    p.layers.push_back(q);
    p.layers.push_back(layer("flat", LayerType::Flatten, {"qid"}));
    std::string prev = "flat";
    SweepRecord r;
    r.min_bits = 2;
    r.max_bits = 8;
    r.base_accuracy = 0.8;
    auto add_points = [&](const std::string& id, const std::string& kind, auto accuracy) {
      for (int b = 2; b <= 8; ++b) {
        SweepPoint pt;
        pt.layer = id;
        pt.kind = kind;
        pt.bits = b;
        pt.accuracy = accuracy(b);
        r.points.push_back(pt);
      }
    };
    for (int i = 0; i < 8; ++i) {
      const std::string id = "fc" + std::to_string(i);
      LayerSpec l = layer(id, LayerType::QuantLinear, {prev}, {{"in_features", 8}, {"out_features", 8}, {"bias", 0}});
      l.weight_quant = presets::Int8WeightPerTensorFloat();
      l.weight_quant->bit_width = 4;
      p.layers.push_back(l);
      prev = id;
      r.slots.push_back({id, "weight", 4});
      add_points(id, "weight", [&](int b) { return 0.8 - 0.001 * (i + 1) * (8 - b) * (8 - b); });
    }
    LayerSpec relu = layer("relu", LayerType::QuantReLU, {prev});
    relu.act_quant = presets::Uint8ActPerTensorFloat();
    relu.act_quant->bit_width = 4;
    p.layers.push_back(relu);
    r.slots.push_back({"relu", "act", 4});
    add_points("relu", "act", [](int b) { return b == 2 ? 0.7 : b <= 4 ? 0.8 : 0.78; });
    p.layers.push_back(layer("output", LayerType::Output, {"relu"}));
    r.network = an::sweep_fingerprint(p, r.slots);
    r.complete = true;

    // The project's own configuration, by hand: every weight at 4 bits, relu at 4 bits.
    double base_drop = 0.0;
    for (int i = 0; i < 8; ++i) base_drop += 0.001 * (i + 1) * 16;
    const double base_predicted = 0.8 - base_drop;
    const int64_t base_size = an::model_cost(p).size_bytes;
    for (an::CostAxis axis : {an::CostAxis::SizeBytes, an::CostAxis::BitOps}) {
      const std::vector<an::MixedConfig> front = an::pareto_front(r, p, axis);
      const double base_cost = axis == an::CostAxis::SizeBytes ? double(base_size) : an::model_cost(p).bitops;
      const bool covered = std::any_of(front.begin(), front.end(), [&](const an::MixedConfig& f) {
        const double cost = axis == an::CostAxis::SizeBytes ? double(f.size_bytes) : f.bitops;
        return cost <= base_cost && f.predicted_accuracy >= base_predicted - 1e-12;
      });
      QVERIFY2(covered, axis == an::CostAxis::SizeBytes ? "size axis" : "BitOps axis");
      // The most accurate point has no predicted drop: relu at 3 or 4 bits, not 8.
      QVERIFY(std::fabs(front.back().predicted_accuracy - 0.8) < 1e-12);
      QVERIFY(front.back().bits.back() <= 4);
    }
  }
};

QTEST_GUILESS_MAIN(TestAnalysis)
#include "test_analysis.moc"
