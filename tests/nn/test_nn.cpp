// SPDX-License-Identifier: GPL-3.0-or-later
// Layer modules beyond what the Brevitas golden cases cover: FLOOR truncation, trunc-pool
// gradients and float inputs, Concat's QuantTensor rule, UpsampleNearest / DepthToSpace
// shapes and grid keeping, BatchNorm1d, QuantConv1d's float twin, float Tanh/Sigmoid.
// Expected values are worked out by hand (in the comments) or with plain torch ops.
#include <torch/torch.h>

#include <cmath>
#include <functional>

#include "core/errors.h"
#include "core/nn/layout_layers.h"
#include "core/nn/norm_layers.h"
#include "core/nn/quant_act.h"
#include "core/nn/quant_wbiol.h"
#include "core/nn/trunc_pool.h"

#include <QtTest>

using namespace qnn;

namespace {

// A QuantTensor with codes `codes` on scale `scale` (zero point 0).
QuantTensor on_grid(const torch::Tensor& codes, float scale, int64_t bits, bool is_signed, bool training = false) {
  const torch::Tensor s = torch::tensor(scale);
  return QuantTensor(codes.to(torch::kFloat32) * s, s, torch::zeros({}), bits, is_signed, training);
}

bool throws_config_error(const std::function<void()>& f, const std::string& needle = "") {
  try {
    f();
  } catch (const ConfigError& e) {
    return needle.empty() || std::string(e.what()).find(needle) != std::string::npos;
  }
  return false;
}

bool same(const torch::Tensor& a, const torch::Tensor& b) {
  return a.sizes() == b.sizes() && torch::equal(a.to(torch::kFloat32), b.to(torch::kFloat32));
}

// Four 3x3 windows (one per channel) whose code sums are 24, -8, 40 and 300.
torch::Tensor window_codes() {
  torch::Tensor c = torch::zeros({1, 4, 3, 3});
  c[0][0][0][0] = 24;
  c[0][1][1][1] = -8;
  c[0][2][2][2] = 40;
  c[0][3][0][0] = 100;
  c[0][3][1][0] = 100;
  c[0][3][2][0] = 100;
  return c;
}

}  // namespace

class TestNn : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // ---------------------------------------------------------------- trunc pools
  void truncPoolRoundsHalfToEvenOrFloors() {
    // s8 input, 3x3 window: n = 9, acc_bit_width = ceil(log2(255 * 9 = 2295)) = 12,
    // trunc_scale = 2^(12 - 8) = 16. Sums / 16 = 1.5, -0.5, 2.5, 18.75.
    const QuantTensor x = on_grid(window_codes(), 0.5f, 8, true);
    const torch::Tensor y_scale = torch::tensor(0.5f) / 9.0 * 16.0;
    struct Want { TruncRounding r; std::vector<float> codes; };
    for (const Want& w : {Want{TruncRounding::Round, {2, -0.0f, 2, 19}}, Want{TruncRounding::Floor, {1, -1, 2, 18}}}) {
      TruncAvgPool2d pool(TruncAvgPool2dOptions(3).rounding(w.r));
      pool->eval();
      TruncPoolTrace trace;
      const QuantTensor y = pool->forward(x, &trace);
      QCOMPARE(trace.avg_scaling, int64_t{9});
      QCOMPARE(trace.acc_bit_width, int64_t{12});
      QCOMPARE(trace.trunc_scale, 16.0);
      QVERIFY(same(trace.acc_codes.reshape({-1}), torch::tensor({24.f, -8.f, 40.f, 300.f})));
      const torch::Tensor codes = torch::tensor(w.codes).reshape({1, 4, 1, 1});
      QVERIFY(same(y.int_codes(), codes));
      QVERIFY(same(y.value, codes * y_scale));
      QVERIFY(same(y.scale, y_scale));
      QCOMPARE(y.bit_width, int64_t{8});
      QVERIFY(y.is_signed);
      QCOMPARE(y.zero_point.item<float>(), 0.0f);
    }
  }

  void truncAdaptivePoolFloors() {
    // u8 [1, 1, 2, 2] to 1x1: n = 4, acc_bit_width = ceil(log2(1020)) = 10, trunc_scale 4;
    // codes 1 + 2 + 3 + 0 = 6 -> 1.5: ROUND 2, FLOOR 1. Output scale (0.25 / 4) * 4.
    const QuantTensor x = on_grid(torch::tensor({1.f, 2.f, 3.f, 0.f}).reshape({1, 1, 2, 2}), 0.25f, 8, false);
    TruncAdaptiveAvgPool2d round_pool(TruncAdaptiveAvgPool2dOptions(1));
    TruncAdaptiveAvgPool2d floor_pool(TruncAdaptiveAvgPool2dOptions(1).rounding(TruncRounding::Floor));
    QCOMPARE(round_pool->forward(x).int_codes().item<float>(), 2.0f);
    const QuantTensor y = floor_pool->forward(x);
    QCOMPARE(y.int_codes().item<float>(), 1.0f);
    QCOMPARE(y.value.item<float>(), 0.25f);
    QVERIFY(!y.is_signed);
    // A non-divisible size uses Brevitas's derived window: in 5 -> out 2: stride 2, kernel 3.
    QCOMPARE(TruncAdaptiveAvgPool2dImpl::derived_window(5, 2), std::make_pair(int64_t{3}, int64_t{2}));
  }

  void truncPoolGradientIsStraightThroughMaskedWhereClamped() {
    // u8 input, 2x2 windows, 4-bit output: acc_bit_width 10, trunc_scale 2^(10 - 4) = 64.
    // Window A: codes 255 -> sum 1020 / 64 = 15.94 -> ROUND 16, clamped to 15 (no gradient);
    //           FLOOR 15, in range. Window B: codes 10 -> 40 / 64 = 0.625 -> ROUND 1, FLOOR 0.
    // In range the gradient of each input element is g / n = g / 4 (both roundings are STE).
    torch::Tensor codes = torch::tensor({255.f, 255.f, 10.f, 10.f, 255.f, 255.f, 10.f, 10.f}).reshape({1, 1, 2, 4});
    const torch::Tensor g = torch::tensor({2.f, 3.f}).reshape({1, 1, 1, 2});
    struct Want { TruncRounding r; std::vector<float> codes; float grad_a; };
    for (const Want& w : {Want{TruncRounding::Round, {15, 1}, 0.0f}, Want{TruncRounding::Floor, {15, 0}, 0.5f}}) {
      const torch::Tensor s = torch::tensor(0.125f);  // a power of two keeps the gradient exact
      torch::Tensor v = (codes * s).detach().requires_grad_(true);
      TruncAvgPool2d pool(TruncAvgPool2dOptions(2).bit_width(4).rounding(w.r));
      pool->train();
      const QuantTensor y = pool->forward(QuantTensor(v, s, torch::zeros({}), 8, false, true));
      QVERIFY(y.training);
      QVERIFY(same(y.int_codes().reshape({-1}), torch::tensor(w.codes)));
      (y.value * g).sum().backward();
      const torch::Tensor want =
          torch::tensor({w.grad_a, w.grad_a, 0.75f, 0.75f, w.grad_a, w.grad_a, 0.75f, 0.75f}).reshape({1, 1, 2, 4});
      QVERIFY2(same(v.grad(), want), c10::str(v.grad()).c_str());
    }
  }

  void truncPoolFloatInputFollowsBrevitas() {
    const torch::Tensor v = torch::arange(1, 9, torch::kFloat32).reshape({1, 1, 2, 4});
    // return_quant_tensor = true (Brevitas default): Brevitas asserts; we throw.
    TruncAvgPool2d pool(TruncAvgPool2dOptions(2));
    QVERIFY(throws_config_error([&] { pool->forward(QuantTensor(v)); }, "needs a quantized input"));
    TruncAdaptiveAvgPool2d apool(TruncAdaptiveAvgPool2dOptions(1));
    QVERIFY(throws_config_error([&] { apool->forward(QuantTensor(v)); }, "needs a quantized input"));
    // return_quant_tensor = false: the plain float mean. Windows (1+2+5+6)/4, (3+4+7+8)/4.
    TruncAvgPool2d fpool(TruncAvgPool2dOptions(2).return_quant_tensor(false));
    const QuantTensor y = fpool->forward(QuantTensor(v));
    QVERIFY(!y.is_quant());
    QVERIFY(same(y.value, torch::tensor({3.5f, 5.5f}).reshape({1, 1, 1, 2})));
    TruncAdaptiveAvgPool2d fapool(TruncAdaptiveAvgPool2dOptions(1).return_quant_tensor(false));
    QCOMPARE(fapool->forward(QuantTensor(v)).value.item<float>(), 4.5f);
    // Configuration errors.
    QVERIFY(throws_config_error([] { TruncAvgPool2d(TruncAvgPool2dOptions(2).bit_width(1)); }, "bit_width"));
    QVERIFY(throws_config_error([&] { TruncAvgPool2d(TruncAvgPool2dOptions(3))->forward(on_grid(v, 1, 8, 0)); }));
  }

  // ---------------------------------------------------------------- Concat
  void concatKeepsEqualMetadataInEval() {
    ConcatLayer cat;
    const QuantTensor a = on_grid(torch::ones({2, 1, 3}), 0.1f, 8, true);
    const QuantTensor b = on_grid(torch::full({2, 2, 3}, 2.0), 0.1f, 8, true);
    const QuantTensor y = cat->apply_inputs({a, b});
    QCOMPARE(y.value.sizes(), (c10::IntArrayRef{2, 3, 3}));
    QVERIFY(same(y.value, torch::cat({a.value, b.value}, 1)));
    QVERIFY(y.is_quant());
    QCOMPARE(y.scale.item<float>(), 0.1f);
    QCOMPARE(y.bit_width, int64_t{8});
    QVERIFY(y.is_signed && !y.training);
    // One input: unchanged.
    QVERIFY(same(cat->apply(a).value, a.value) && cat->apply(a).is_quant());
  }

  void concatRejectsDifferentMetadataInEval() {
    ConcatLayer cat;
    const QuantTensor a = on_grid(torch::ones({1, 1, 2}), 0.1f, 8, true);
    QVERIFY(throws_config_error([&] { cat->apply_inputs({a, on_grid(torch::ones({1, 1, 2}), 0.2f, 8, true)}); },
                                "Scaling factors are different"));
    QVERIFY(throws_config_error([&] { cat->apply_inputs({a, on_grid(torch::ones({1, 1, 2}), 0.1f, 4, true)}); },
                                "Bit widths are different"));
    QVERIFY(throws_config_error([&] { cat->apply_inputs({a, on_grid(torch::ones({1, 1, 2}), 0.1f, 8, false)}); },
                                "Signs are different"));
    QVERIFY(throws_config_error([&] { cat->apply_inputs({a, on_grid(torch::ones({1, 1, 3}), 0.1f, 8, true)}); }));
    QVERIFY(throws_config_error([&] { cat->apply_inputs({}); }));
  }

  void concatAveragesScalesInTraining() {
    ConcatLayer cat;
    const QuantTensor a = on_grid(torch::ones({1, 1, 2}), 0.1f, 8, true, /*training=*/true);
    const QuantTensor b = on_grid(torch::ones({1, 1, 2}), 0.2f, 8, true, /*training=*/false);
    const QuantTensor c = on_grid(torch::ones({1, 1, 2}), 0.3f, 8, true, /*training=*/false);
    // The first input is training: scale checks skipped, mean of the three scales.
    const QuantTensor y = cat->apply_inputs({a, b, c});
    QVERIFY(y.training);
    QCOMPARE(y.scale.item<float>(), ((torch::tensor(0.1f) + 0.2f + 0.3f) / 3.0).item<float>());
    // Bit widths are checked in training too.
    QVERIFY(throws_config_error([&] { cat->apply_inputs({a, on_grid(torch::ones({1, 1, 2}), 0.1f, 4, true, true)}); },
                                "Bit widths are different"));
    // The check depends on the FIRST input's training flag only (Brevitas).
    QVERIFY(throws_config_error([&] { cat->apply_inputs({b, a}); }, "Scaling factors are different"));
    // Equal scales, second input training: output training, scale unchanged.
    const QuantTensor d = on_grid(torch::ones({1, 1, 2}), 0.2f, 8, true, true);
    const QuantTensor e = cat->apply_inputs({b, d});
    QVERIFY(e.training);
    QCOMPARE(e.scale.item<float>(), 0.2f);
  }

  void concatWithAFloatInputIsFloat() {
    ConcatLayer cat;
    const QuantTensor a = on_grid(torch::ones({1, 1, 2}), 0.1f, 8, true);
    const QuantTensor f(torch::full({1, 2, 2}, 0.37));
    const QuantTensor y = cat->apply_inputs({a, f});
    QVERIFY(!y.is_quant());
    QVERIFY(same(y.value, torch::cat({a.value, f.value}, 1)));
    // Per-channel metadata: float (deviation documented in the header); still checked in eval.
    QuantTensor pc = on_grid(torch::ones({1, 2, 2}), 0.1f, 8, true);
    pc.scale = torch::full({1, 2, 1}, 0.1f);
    pc.zero_point = torch::zeros({1, 2, 1});
    QuantTensor pc2 = pc;
    pc2.scale = torch::tensor({0.1f, 0.2f}).reshape({1, 2, 1});
    QVERIFY(throws_config_error([&] { cat->apply_inputs({pc, pc2}); }, "different scales"));
    QVERIFY(!cat->apply_inputs({pc, pc}).is_quant());
  }

  // ---------------------------------------------------------------- Upsample / DepthToSpace
  void upsampleNearestRepeatsAndKeepsTheGrid() {
    const QuantTensor x = on_grid(torch::arange(12).reshape({1, 2, 2, 3}), 0.5f, 4, false);
    UpsampleNearestLayer up(2);
    const QuantTensor y = up->apply(x);
    QCOMPARE(y.value.sizes(), (c10::IntArrayRef{1, 2, 4, 6}));
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t h = 0; h < 4; ++h)
        for (int64_t w = 0; w < 6; ++w)
          QCOMPARE(y.value[0][c][h][w].item<float>(), x.value[0][c][h / 2][w / 2].item<float>());
    QVERIFY(y.is_quant() && same(y.scale, x.scale) && y.bit_width == 4 && !y.is_signed);
    // 1-D: [N, C, L] -> [N, C, 3L].
    const QuantTensor y1 = UpsampleNearestLayer(3)->apply(QuantTensor(torch::tensor({1.f, 2.f}).reshape({1, 1, 2})));
    QVERIFY(same(y1.value, torch::tensor({1.f, 1.f, 1.f, 2.f, 2.f, 2.f}).reshape({1, 1, 6})));
    QVERIFY(throws_config_error([] { UpsampleNearestLayer(0); }));
    QVERIFY(throws_config_error([&] { up->apply(QuantTensor(torch::ones({2, 3}))); }));
  }

  void depthToSpaceIsPixelShuffleAndKeepsTheGrid() {
    const QuantTensor x = on_grid(torch::arange(48).reshape({1, 8, 2, 3}), 0.25f, 8, true);
    DepthToSpaceLayer d2s(2);
    const QuantTensor y = d2s->apply(x);
    QCOMPARE(y.value.sizes(), (c10::IntArrayRef{1, 2, 4, 6}));
    // out[c, h*r + i, w*r + j] = in[c*r*r + i*r + j, h, w] (ONNX DepthToSpace mode CRD).
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 2; ++j)
          for (int64_t h = 0; h < 2; ++h)
            for (int64_t w = 0; w < 3; ++w)
              QCOMPARE(y.value[0][c][h * 2 + i][w * 2 + j].item<float>(),
                       x.value[0][c * 4 + i * 2 + j][h][w].item<float>());
    QVERIFY(y.is_quant() && same(y.scale, x.scale) && y.bit_width == 8 && y.is_signed);
    // Per-channel metadata no longer matches the channels: float.
    QuantTensor pc = x;
    pc.scale = torch::full({1, 8, 1, 1}, 0.25f);
    pc.zero_point = torch::zeros({1, 8, 1, 1});
    QVERIFY(!d2s->apply(pc).is_quant());
    QVERIFY(throws_config_error([&] { DepthToSpaceLayer(3)->apply(x); }, "block_size 3"));
  }

  // ---------------------------------------------------------------- BatchNorm1d
  void batchNorm1dOnNC_and_NCL() {
    torch::manual_seed(3);
    for (const std::vector<int64_t>& shape : {std::vector<int64_t>{5, 3}, std::vector<int64_t>{2, 3, 4}}) {
      BatchNorm1dLayer bn(3);
      {
        torch::NoGradGuard no_grad;
        bn->weight.copy_(torch::tensor({1.5f, -0.5f, 2.0f}));
        bn->bias.copy_(torch::tensor({0.1f, 0.2f, -0.3f}));
      }
      const torch::Tensor x = torch::randn(shape);
      // Per-channel statistics over every dim but 1, computed by hand.
      const torch::Tensor xc = shape.size() == 2 ? x : x.transpose(1, 2).reshape({-1, 3});
      const torch::Tensor mean = xc.mean(0);
      const torch::Tensor var_b = ((xc - mean) * (xc - mean)).mean(0);
      const double m = static_cast<double>(xc.size(0));
      const torch::Tensor var_u = var_b * (m / (m - 1));
      const std::vector<int64_t> view = shape.size() == 2 ? std::vector<int64_t>{1, 3} : std::vector<int64_t>{1, 3, 1};
      auto chan = [&](const torch::Tensor& t) { return t.view(view); };
      const torch::Tensor w = torch::tensor({1.5f, -0.5f, 2.0f}), b = torch::tensor({0.1f, 0.2f, -0.3f});
      bn->train();
      const QuantTensor y = bn->apply(on_grid(x, 1.0f, 8, true));
      QVERIFY(!y.is_quant());
      const torch::Tensor want = (x - chan(mean)) / torch::sqrt(chan(var_b) + 1e-5) * chan(w) + chan(b);
      QVERIFY2(torch::allclose(y.value, want, 1e-5, 1e-5), c10::str(y.value - want).c_str());
      QVERIFY(torch::allclose(bn->running_mean, 0.1 * mean, 1e-6, 1e-6));
      QVERIFY(torch::allclose(bn->running_var, 0.9 + 0.1 * var_u, 1e-6, 1e-6));
      QCOMPARE(bn->num_batches_tracked.item<int64_t>(), int64_t{1});
      bn->eval();
      const torch::Tensor want_eval = (x - chan(bn->running_mean)) / torch::sqrt(chan(bn->running_var) + 1e-5) * chan(w) + chan(b);
      QVERIFY(torch::allclose(bn->apply(QuantTensor(x)).value, want_eval, 1e-5, 1e-5));
    }
    BatchNorm1dLayer bn(3);
    QVERIFY(throws_config_error([&] { bn->apply(QuantTensor(torch::ones({2, 4}))); }, "[N, 3]"));
    QVERIFY(throws_config_error([&] { bn->apply(QuantTensor(torch::ones({1, 3}))); }, "more than one value"));
  }

  // ---------------------------------------------------------------- QuantConv1d
  void quantConv1dFloatTwinEqualsTorchConv1d() {
    torch::manual_seed(5);
    QuantConv1dOptions o(4, 6, 3);
    o.stride(2).padding(1).dilation(2).groups(2).weight_quant(std::nullopt);
    QuantConv1d conv(o);
    QCOMPARE(conv->weight.sizes(), (c10::IntArrayRef{6, 2, 3}));
    const torch::Tensor x = torch::randn({2, 4, 11});
    const QuantTensor y = conv->forward(QuantTensor(x));
    QVERIFY(!y.is_quant());
    QVERIFY(same(y.value, torch::conv1d(x, conv->weight, conv->bias, 2, 1, 2, 2)));
    // Output length floor((11 + 2 - 2*(3-1) - 1) / 2) + 1 = 5.
    QCOMPARE(y.value.size(2), int64_t{5});
    QVERIFY(throws_config_error([&] { conv->forward(QuantTensor(torch::randn({2, 4, 5, 5}))); }, "[N, C, L]"));
    QVERIFY(throws_config_error([] { QuantConv1d(QuantConv1dOptions(3, 6, 3).groups(2)); }, "divisible by groups"));
  }

  void quantConv1dOutputMetadata() {
    torch::manual_seed(6);
    QuantConv1dOptions o(4, 6, 3);
    o.groups(2).bias(false).weight_quant(presets::Int8WeightPerTensorFloat()).return_quant_tensor(true);
    o.weight_quant()->bit_width = 3;
    QuantConv1d conv(o);
    conv->eval();
    const QuantTensor x = on_grid(torch::randint(-8, 8, {2, 4, 7}), 0.0625f, 4, true);
    const QuantTensor y = conv->forward(x);
    const QuantTensor w = conv->quant_weight();
    QVERIFY(y.is_quant());
    // fan_in = 4/2 * 3 = 6: ceil(log2(15 * 7 * 6 = 630)) = 10, no bias.
    QCOMPARE(y.bit_width, int64_t{10});
    QCOMPARE(y.scale.sizes(), (c10::IntArrayRef{1, 1, 1}));
    QCOMPARE(y.scale.item<float>(), (x.scale * w.scale).item<float>());
    QVERIFY(torch::allclose(y.value, torch::conv1d(x.value, w.value, {}, torch::IntArrayRef{1}, torch::IntArrayRef{0},
                                                    torch::IntArrayRef{1}, 2), 1e-6, 1e-6));
  }

  // ---------------------------------------------------------------- Tanh / Sigmoid
  void tanhAndSigmoid() {
    const QuantTensor x = on_grid(torch::tensor({-40.f, -1.f, 0.f, 1.f, 40.f}), 0.5f, 8, true);
    // Float twins drop the grid.
    QuantAct ftanh(QuantActOptions(ActFunction::Tanh).act_quant(std::nullopt));
    QuantAct fsig(QuantActOptions(ActFunction::Sigmoid).act_quant(std::nullopt));
    QVERIFY(!ftanh->forward(x).is_quant() && same(ftanh->forward(x).value, torch::tanh(x.value)));
    QVERIFY(!fsig->forward(x).is_quant() && same(fsig->forward(x).value, torch::sigmoid(x.value)));
    // Quantized, before any training: scale 1/128 (tanh, signed) and 1/255 (sigmoid).
    // tanh(+-20) = +-1 -> codes 127 (128 clamped) and -128; sigmoid(-20) -> 0, sigmoid(20) -> 255;
    // sigmoid(0) = 0.5 -> 0.5 / float32(1/255) = 127.49999 -> 127 (not the real-number 127.5).
    QuantAct qtanh(quant_tanh_options(8, true));
    QuantAct qsig(quant_sigmoid_options(8, true));
    qtanh->eval();
    qsig->eval();
    const QuantTensor t = qtanh->forward(x);
    QCOMPARE(t.scale.item<float>(), 1.0f / 128);
    QVERIFY(t.is_signed);
    QCOMPARE(t.int_codes()[0].item<float>(), -128.0f);
    QCOMPARE(t.int_codes()[4].item<float>(), 127.0f);
    const QuantTensor s = qsig->forward(x);
    QCOMPARE(s.scale.item<float>(), 1.0f / 255);
    QVERIFY(!s.is_signed);
    QCOMPARE(s.int_codes()[2].item<float>(), std::nearbyint(0.5f / (1.0f / 255.0f)));
    QCOMPARE(s.int_codes()[2].item<float>(), 127.0f);
    QCOMPARE(s.int_codes()[0].item<float>(), 0.0f);
    QCOMPARE(s.int_codes()[4].item<float>(), 255.0f);
  }
};

QTEST_MAIN(TestNn)
#include "test_nn.moc"
