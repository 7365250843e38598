// SPDX-License-Identifier: GPL-3.0-or-later
// Numerics of every quantizer preset, the straight-through gradients, QuantTensor
// metadata and configuration errors. Expected values are computed here independently,
// element by element in float32 with std::nearbyint (round half to even).
#include <torch/torch.h>

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <sstream>

#include "core/errors.h"
#include "core/nn/quant_act.h"
#include "core/nn/quant_wbiol.h"
#include "core/quant/int_quant.h"
#include "core/quant/quantizers.h"

#include <QtTest>

using namespace qnn;

namespace {

// Reference quantizer: q = clamp(nearbyint(x/s + z)), y = (q - z) * s, in float32.
float ref_code(float x, float s, float z, float lo, float hi) {
  const float t = x / s + z;
  return std::min(hi, std::max(lo, std::nearbyint(t)));
}

std::vector<float> to_vec(const torch::Tensor& t) {
  torch::Tensor c = t.detach().contiguous().to(torch::kFloat32).reshape({-1});
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

float max_abs(const std::vector<float>& v) {
  float m = 0;
  for (float e : v) m = std::max(m, std::fabs(e));
  return m;
}

// Checks a fake-quantized tensor against the reference element by element.
void expect_quantized(const torch::Tensor& x, const QuantTensor& y, float s, float z, float lo, float hi) {
  const auto xs = to_vec(x), ys = to_vec(y.value), qs = to_vec(y.int_codes());
  for (size_t i = 0; i < xs.size(); ++i) {
    const float q = ref_code(xs[i], s, z, lo, hi);
    QCOMPARE(qs[i], q);
    QCOMPARE(ys[i], (q - z) * s);
  }
}

}  // namespace

class TestQuant : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    QCOMPARE(std::fegetround(), FE_TONEAREST);
    torch::manual_seed(7);
  }

  void intRangeFollowsSignAndNarrowRange() {
    QCOMPARE(int_range(8, true, false).min_int, -128);
    QCOMPARE(int_range(8, true, true).min_int, -127);
    QCOMPARE(int_range(8, true, true).max_int, 127);
    QCOMPARE(int_range(3, true, true).min_int, -3);
    QCOMPARE(int_range(4, false, false).max_int, 15);
    QCOMPARE(int_range(8, false, true).max_int, 254);
    QCOMPARE(int_range(16, true, false).min_int, -32768);
    QCOMPARE(int_range(32, true, false).max_int, 2147483647);
    QVERIFY_THROWS_EXCEPTION(ConfigError, int_range(0, true, false));
  }

  void roundsHalfToEven() {
    const torch::Tensor x = torch::tensor({0.5f, 1.5f, 2.5f, -2.5f, -0.5f, 3.5f});
    const torch::Tensor y = fake_quant(x, torch::tensor(1.0f), torch::tensor(0.0f), int_range(8, true, false),
                                       ClampGrad::Masked);
    QCOMPARE(to_vec(y), (std::vector<float>{0, 2, 2, -2, 0, 4}));
    // The tie is decided after adding the zero point: 0.5 + 3 = 3.5 -> 4 -> (4 - 3) * 1 = 1.
    const torch::Tensor y2 = fake_quant(torch::tensor({0.5f}), torch::tensor(1.0f), torch::tensor(3.0f),
                                        int_range(4, false, false), ClampGrad::Masked);
    QCOMPARE(to_vec(y2)[0], 1.0f);
  }

  void int8WeightPerTensorAtThreeBits() {
    QuantSpec s = presets::Int8WeightPerTensorFloat();
    s.bit_width = 3;
    WeightQuantizer q(s);
    const torch::Tensor w = torch::randn({6, 4, 3, 3});
    const QuantTensor y = q->forward(w);
    const float scale = max_abs(to_vec(w)) / 3.0f;
    QCOMPARE(y.scale.item<float>(), scale);
    QCOMPARE(y.bit_width, int64_t{3});
    QVERIFY(y.is_signed);
    expect_quantized(w, y, scale, 0, -3, 3);
    // Narrow range: both extremes are used, -4 never is.
    QCOMPARE(y.int_codes().min().item<float>() >= -3.0f, true);
    QCOMPARE(y.int_codes().abs().max().item<float>(), 3.0f);
  }

  void int8WeightPerChannelHasOneScalePerOutputChannel() {
    QuantSpec s = presets::Int8WeightPerChannelFloat();
    s.bit_width = 4;
    WeightQuantizer q(s);
    const torch::Tensor w = torch::randn({5, 12});
    const QuantTensor y = q->forward(w);
    QCOMPARE(y.scale.sizes().vec(), (std::vector<int64_t>{5, 1}));
    for (int64_t c = 0; c < 5; ++c) {
      const float sc = max_abs(to_vec(w[c])) / 7.0f;
      QCOMPARE(y.scale[c][0].item<float>(), sc);
      const QuantTensor row(y.value[c], y.scale[c][0], torch::zeros({}), 4, true, false);
      expect_quantized(w[c], row, sc, 0, -7, 7);
    }
  }

  void shiftedUint8WeightUsesAZeroPoint() {
    QuantSpec s = presets::ShiftedUint8WeightPerTensorFloat();
    s.bit_width = 4;
    WeightQuantizer q(s);
    const torch::Tensor w = torch::randn({8, 8}) + 0.3;
    const QuantTensor y = q->forward(w);
    const auto v = to_vec(w);
    const float mn = std::min(0.0f, *std::min_element(v.begin(), v.end()));
    const float mx = *std::max_element(v.begin(), v.end());
    const float scale = (mx - mn) / 15.0f;
    const float zp = std::min(15.0f, std::max(0.0f, std::nearbyint(-mn / scale)));
    QCOMPARE(y.scale.item<float>(), scale);
    QCOMPARE(y.zero_point.item<float>(), zp);
    QVERIFY(!y.is_signed);
    expect_quantized(w, y, scale, zp, 0, 15);
  }

  void fixedPointWeightScaleIsAPowerOfTwo() {
    WeightQuantizer q(presets::Int8WeightPerTensorFixedPoint());
    const torch::Tensor w = torch::randn({4, 4});
    const float s = q->forward(w).scale.item<float>();
    const float l = std::log2(s);
    QCOMPARE(l, std::round(l));
    // ceil in the log domain: the power of two at or above max|W| / 128.
    QVERIFY(s >= max_abs(to_vec(w)) / 128.0f);
    QVERIFY(s / 2 < max_abs(to_vec(w)) / 128.0f);
  }

  void activationStatisticsPhaseThenLearnedValue() {
    QuantSpec s = presets::Int8ActPerTensorFloat();
    s.bit_width = 4;
    s.collect_stats_steps = 2;
    ActQuantizer q(s);
    // Eval before any training: the buffer is 1, so the scale is 1/8.
    q->eval();
    QCOMPARE(q->forward(torch::ones({3})).scale.item<float>(), 0.125f);
    q->train();
    const torch::Tensor a = torch::randn({2, 3, 4, 4}), b = torch::randn({2, 3, 4, 4}) * 2;
    const float ma = max_abs(to_vec(a)), mb = max_abs(to_vec(b));
    QuantTensor y = q->forward(a);
    QCOMPARE(y.scale.item<float>(), ma / 8.0f);  // this call's statistic, not the buffer
    expect_quantized(a, y, ma / 8.0f, 0, -8, 7);
    y = q->forward(b);
    QCOMPARE(y.scale.item<float>(), mb / 8.0f);
    const float buffer = ma * 0.9f + 0.1f * mb;
    QCOMPARE(q->scaling_buffer.item<float>(), buffer);
    QCOMPARE(q->counter(), int64_t{2});
    QCOMPARE(q->value.item<float>(), 1.0f);  // still untouched
    y = q->forward(a);                         // counter == steps: value <- buffer
    QCOMPARE(q->value.item<float>(), buffer);
    QCOMPARE(y.scale.item<float>(), buffer / 8.0f);
    QCOMPARE(q->counter(), int64_t{3});
    q->forward(a);
    QCOMPARE(q->counter(), int64_t{3});  // stops advancing in the learned phase
    QVERIFY(q->learned_phase());
  }

  void uint8ActOnReluTakesStatisticsOfReluOutput() {
    QuantAct relu(quant_relu_options(4, true));
    relu->train();
    const torch::Tensor x = torch::randn({4, 10});
    const QuantTensor y = relu->forward(QuantTensor(x));
    const float m = torch::relu(x).max().item<float>();
    QCOMPARE(y.scale.item<float>(), m / 15.0f);
    QVERIFY(!y.is_signed);
    QCOMPARE(y.bit_width, int64_t{4});
    expect_quantized(torch::relu(x), y, m / 15.0f, 0, 0, 15);
  }

  void shiftedUint8ActHasARuntimeZeroPoint() {
    QuantSpec s = presets::ShiftedUint8ActPerTensorFloat();
    ActQuantizer q(s);
    q->train();
    const torch::Tensor x = torch::randn({2, 50});  // 100 elements: percentiles are max and min
    const QuantTensor y = q->forward(x);
    const auto v = to_vec(x);
    const float mn = std::min(0.0f, *std::min_element(v.begin(), v.end()));
    const float mx = *std::max_element(v.begin(), v.end());
    const float scale = std::fabs(mx - mn) / 255.0f;
    QCOMPARE(y.scale.item<float>(), scale);
    QCOMPARE(y.zero_point.item<float>(), std::nearbyint(-mn / scale));
    QCOMPARE(q->zero_point_buffer.item<float>(), mn);
  }

  void hardTanhScaleIsLearnedFromMinMaxInit() {
    QuantAct act(quant_hardtanh_options(8, -2.0, 1.5, true));
    act->train();
    const QuantTensor y = act->forward(QuantTensor(torch::tensor({-3.0f, 0.3f, 5.0f})));
    QCOMPARE(act->act_quant->value.item<float>(), 2.0f);
    QCOMPARE(y.scale.item<float>(), 2.0f / 128.0f);
    // No hardtanh (Brevitas switches it off under an act_quant): the quantizer's own
    // clamp to codes [-128, 127] (signed, not narrow), so 5 -> 127 * s, not max_val 1.5.
    QCOMPARE(to_vec(y.value)[0], -2.0f);
    QCOMPARE(to_vec(y.value)[2], 127.0f * 2.0f / 128.0f);
    // The scale parameter is trained from the first call: d sum(y) / d value is
    // (sum(round(x/s) - x/s) inside the range + sum of the clipped codes) / 128;
    // -3 and 5 are clipped to -128 and 127.
    (y.value.sum()).backward();
    const float s = 2.0f / 128.0f;
    const float expect = ((std::nearbyint(0.3f / s) - 0.3f / s) - 128.0f + 127.0f) / 128.0f;
    QVERIFY(std::fabs(expect) > 1e-4f);
    QVERIFY(std::fabs(act->act_quant->value.grad().item<float>() - expect) < 1e-6f);
  }

  // Brevitas QuantHardTanh (proxy/runtime_quant.py _is_act_enabled): with an act_quant
  // the nn.Hardtanh is off and the layer is its quantizer alone; min_val/max_val only
  // initialise the learned scale. Once the scale grows past max_val / 128, an input
  // beyond max_val is quantized, not clamped to max_val, and gets a gradient.
  void hardTanhWithActQuantIsTheQuantizerAlone() {
    QuantAct act(quant_hardtanh_options(8, -1.0, 1.0, true));
    QVERIFY(!act->act_quant->spec().narrow_range);  // codes [-128, 127]
    {
      torch::NoGradGuard no_grad;
      act->act_quant->value.fill_(4.0);  // a scale the training moved: 4 / 128
    }
    act->eval();
    const std::vector<float> in{-5.0f, -1.7f, 0.3f, 1.7f, 3.0f};
    const torch::Tensor x = torch::tensor(in).requires_grad_(true);
    const QuantTensor y = act->forward(QuantTensor(x));
    const float s = 4.0f / 128.0f;
    QCOMPARE(y.scale.item<float>(), s);
    const std::vector<float> got = to_vec(y.value);
    for (size_t i = 0; i < in.size(); ++i) {
      const float code = std::clamp(std::nearbyint(in[i] / s), -128.0f, 127.0f);
      QCOMPARE(got[i], code * s);
    }
    QCOMPARE(got[4], 3.0f);  // beyond max_val = 1: not 1
    QCOMPARE(got[0], -4.0f);  // the quantizer's clamp: -128 * s
    y.value.sum().backward();
    // d y / d x: 1 inside the quantizer's range (also for 1.7 and 3 > max_val), 0 where clipped.
    QCOMPARE(to_vec(x.grad()), (std::vector<float>{0.0f, 1.0f, 1.0f, 1.0f, 1.0f}));

    // A float HardTanh (no act_quant) keeps its clamp.
    QuantAct plain(QuantActOptions(ActFunction::HardTanh).act_quant(std::nullopt).min_val(-1.0).max_val(1.0));
    QCOMPARE(to_vec(plain->forward(QuantTensor(torch::tensor(in))).value),
             (std::vector<float>{-1.0f, -1.0f, 0.3f, 1.0f, 1.0f}));
  }

  void biasQuantizersUseInputTimesWeightScale() {
    const torch::Tensor bias = torch::tensor({0.5f, -0.01f, 0.02f});
    const torch::Tensor s_in = torch::tensor(0.1f), s_w = torch::tensor(0.02f);
    const float sb = 0.1f * 0.02f;
    for (int bits : {8, 16, 32}) {
      const QuantSpec spec = bits == 8 ? presets::Int8Bias() : bits == 16 ? presets::Int16Bias() : presets::Int32Bias();
      const QuantTensor b = quantize_bias(bias, s_in, s_w, spec, "conv1");
      QCOMPARE(b.scale.item<float>(), sb);
      const float hi = static_cast<float>(std::ldexp(1.0, bits - 1) - 1), lo = -hi - 1;
      expect_quantized(bias, b, sb, 0, lo, hi);
    }
    // Int8Bias saturates: 0.5 / 0.002 = 250 -> 127.
    QCOMPARE(to_vec(quantize_bias(bias, s_in, s_w, presets::Int8Bias(), "conv1").int_codes())[0], 127.0f);
  }

  void biasQuantizerWithoutInputScaleNamesTheLayer() {
    QuantConv2dOptions o(1, 2, 3);
    o.bias_quant(presets::Int8Bias());
    QuantConv2d conv(o);
    conv->layer_name = "conv7";
    try {
      conv->forward(QuantTensor(torch::randn({1, 1, 5, 5})));
      QFAIL("no exception");
    } catch (const ConfigError& e) {
      const std::string m = e.what();
      QVERIFY2(m.find("conv7") != std::string::npos, e.what());
      QVERIFY2(m.find("Int8Bias") != std::string::npos, e.what());
      QVERIFY2(m.find("QuantIdentity") != std::string::npos, e.what());
    }
  }

  void bitWidthOverrideRangeIsChecked() {
    for (int b : {2, 5, 16}) {
      QuantSpec s = presets::Int8WeightPerTensorFloat();
      s.bit_width = b;
      s.validate("fc1");
      WeightQuantizer q(s);
      const torch::Tensor w = torch::randn({3, 3});
      const float sc = max_abs(to_vec(w)) / static_cast<float>((1 << (b - 1)) - 1);
      QCOMPARE(q->forward(w).scale.item<float>(), sc);
    }
    for (int b : {1, 17, 0, -3}) {
      QuantSpec s = presets::Uint8ActPerTensorFloat();
      s.bit_width = b;
      try {
        s.validate("relu2");
        QFAIL("no exception");
      } catch (const ConfigError& e) {
        QVERIFY2(std::string(e.what()).find("relu2") != std::string::npos, e.what());
        QVERIFY2(std::string(e.what()).find("2..16") != std::string::npos, e.what());
      }
    }
    QuantSpec bias = presets::Int8Bias();
    bias.bit_width = 12;
    QVERIFY_THROWS_EXCEPTION(ConfigError, bias.validate("fc1"));
    QuantSpec act = presets::Int8ActPerTensorFloat();
    act.per_channel = true;
    QVERIFY_THROWS_EXCEPTION(ConfigError, act.validate("relu1"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, presets::by_name("Int7Bias"));
  }

  void straightThroughGradientIsMaskedOutsideRange() {
    // Activations: gradient 1 inside [min_int, max_int], 0 where clipped.
    torch::Tensor x = torch::tensor({-10.0f, -0.3f, 0.26f, 0.9f, 10.0f}, torch::requires_grad());
    torch::Tensor s = torch::tensor(0.25f, torch::requires_grad());
    torch::Tensor y = fake_quant(x, s, torch::tensor(0.0f), int_range(4, true, false), ClampGrad::Masked);
    y.sum().backward();
    QCOMPARE(to_vec(x.grad()), (std::vector<float>{0, 1, 1, 1, 0}));
    // d y / d s: clipped elements give the bound (-8, 7); inside round(x/s) - x/s.
    const float expect = -8.0f + (std::nearbyint(-1.2f) - (-0.3f / 0.25f)) +
                         (std::nearbyint(1.04f) - 0.26f / 0.25f) + (std::nearbyint(3.6f) - 0.9f / 0.25f) + 7.0f;
    QVERIFY(std::fabs(s.grad().item<float>() - expect) < 1e-5f);
  }

  void weightClampPassesGradientEverywhere() {
    torch::Tensor x = torch::tensor({-10.0f, 0.3f, 10.0f}, torch::requires_grad());
    torch::Tensor y = fake_quant(x, torch::tensor(0.25f), torch::tensor(0.0f), int_range(3, true, true),
                                 ClampGrad::StraightThrough);
    y.sum().backward();
    QCOMPARE(to_vec(x.grad()), (std::vector<float>{1, 1, 1}));
  }

  void weightScaleGradientReachesTheMaxElement() {
    QuantSpec s = presets::Int8WeightPerTensorFloat();
    s.bit_width = 3;
    WeightQuantizer q(s);
    torch::Tensor w = torch::tensor({{0.9f, -0.2f}, {0.35f, 0.1f}}, torch::requires_grad());
    q->forward(w).value.sum().backward();
    const auto g = to_vec(w.grad());
    // Non-max elements: straight-through gradient 1. The max element also gets
    // sum_i (q_i - w_i / s) / 3 through s = max|W| / 3.
    QCOMPARE(g[1], 1.0f);
    QCOMPARE(g[2], 1.0f);
    QCOMPARE(g[3], 1.0f);
    const float sc = 0.9f / 3;
    float ds = 0;
    for (float v : {0.9f, -0.2f, 0.35f, 0.1f}) ds += std::nearbyint(v / sc) - v / sc;
    QVERIFY(std::fabs(g[0] - (1.0f + ds / 3.0f)) < 1e-5f);
  }

  void outputMetadataFollowsTheAccumulatorRule() {
    QCOMPARE(accumulator_bit_width(4, 3, 25), int64_t{12});  // 15 * 7 * 25 = 2625
    QCOMPARE(accumulator_bit_width(8, 8, 1), int64_t{16});
    QuantAct inp(quant_identity_options(4, true));
    QuantLinearOptions o(16, 4);
    QuantSpec w = presets::Int8WeightPerChannelFloat();
    w.bit_width = 3;
    o.weight_quant(w).bias_quant(presets::Int8Bias()).return_quant_tensor(true);
    QuantLinear fc(o);
    inp->train();
    fc->train();
    const QuantTensor x = inp->forward(QuantTensor(torch::randn({2, 16})));
    const QuantTensor y = fc->forward(x);
    QVERIFY(y.is_quant());
    QCOMPARE(y.scale.sizes().vec(), (std::vector<int64_t>{1, 4}));
    QCOMPARE(y.bit_width, std::max<int64_t>(accumulator_bit_width(4, 3, 16), 8) + 1);
    QVERIFY(y.is_signed);
    QCOMPARE(y.zero_point.abs().max().item<float>(), 0.0f);
    // The output value lies on its grid: value / scale is integral.
    const torch::Tensor r = y.value / y.scale;
    QVERIFY((r - r.round()).abs().max().item<float>() < 1e-3f);
  }

  void returnQuantTensorNeverChangesTheNumbers() {
    torch::manual_seed(3);
    QuantAct a(quant_relu_options(4, true));
    torch::manual_seed(3);
    QuantAct b(quant_relu_options(4, false));
    const torch::Tensor x = torch::randn({3, 7});
    const QuantTensor ya = a->forward(QuantTensor(x)), yb = b->forward(QuantTensor(x));
    QVERIFY(torch::equal(ya.value, yb.value));
    QVERIFY(ya.is_quant());
    QVERIFY(!yb.is_quant());
  }

  void counterAdvancesPerCallNotPerBatch() {
    QuantAct relu(quant_relu_options(4, true));
    relu->train();
    const torch::Tensor x = torch::randn({4});
    relu->forward(QuantTensor(x));
    relu->forward(QuantTensor(x * 2));  // the same instance used twice in one forward
    QCOMPARE(relu->act_quant->counter(), int64_t{2});
    const float m = torch::relu(x).max().item<float>();
    QCOMPARE(relu->act_quant->scaling_buffer.item<float>(), m * 0.9f + 0.1f * (2 * m));
  }

  void quantizerStateSurvivesSaveAndLoad() {
    QuantAct relu(quant_relu_options(4, true));
    relu->train();
    for (int i = 0; i < 3; ++i) relu->forward(QuantTensor(torch::randn({8}) * (i + 1)));
    std::stringstream buf;
    torch::save(relu, buf);
    QuantAct copy(quant_relu_options(4, true));
    torch::load(copy, buf);
    QCOMPARE(copy->act_quant->counter(), int64_t{3});
    QCOMPARE(copy->act_quant->scaling_buffer.item<float>(), relu->act_quant->scaling_buffer.item<float>());
    relu->eval();
    copy->eval();
    const torch::Tensor x = torch::randn({16});
    QVERIFY(torch::equal(relu->forward(QuantTensor(x)).value, copy->forward(QuantTensor(x)).value));
  }

  void disabledQuantizersPassValuesThrough() {
    QuantAct relu(quant_relu_options(4, true));
    relu->act_quant->set_enabled(false);
    const torch::Tensor x = torch::randn({10});
    const QuantTensor y = relu->forward(QuantTensor(x));
    QVERIFY(torch::equal(y.value, torch::relu(x)));
    QCOMPARE(relu->act_quant->counter(), int64_t{0});
  }

  void presetsAreNamedLikeBrevitas() {
    QCOMPARE(presets::by_name("Uint8ActPerTensorFloat").is_signed, false);
    QCOMPARE(presets::by_name("Int8WeightPerTensorFloat").narrow_range, true);
    QCOMPARE(presets::by_name("Int32Bias").bit_width, 32);
    QCOMPARE(presets::Int8ActPerTensorFloat().int_threshold(), 128.0);
    QCOMPARE(presets::Uint8ActPerTensorFloat().int_threshold(), 255.0);
    QCOMPARE(presets::Int8WeightPerTensorFloat().int_threshold(), 127.0);
    QCOMPARE(presets::names(QuantRole::Bias).size(), size_t{3});
  }
};

QTEST_MAIN(TestQuant)
#include "test_quant.moc"
