// SPDX-License-Identifier: GPL-3.0-or-later
// The input quantizer's scale gradient by the adjoint form (core/nn/scale_adjoint.h)
// against plain autograd through conv1's backward-data convolution.
#include <cmath>
#include <cstring>
#include <cstdio>
#include <string>

#include <torch/torch.h>

#include "core/nn/quant_act.h"
#include "core/nn/quant_wbiol.h"
#include "core/nn/scale_adjoint.h"
#include "tests/quant_kernels/kernel_checks.h"

namespace qnn::test {
namespace {

bool bits_equal(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.defined() || !b.defined()) return a.defined() == b.defined();
  return a.sizes() == b.sizes() && std::memcmp(a.contiguous().data_ptr(), b.contiguous().data_ptr(),
                                               static_cast<size_t>(a.numel()) * a.element_size()) == 0;
}

// |a - b| within 2e-5 of the scale of the summed terms (the adjoint sums the same
// products in another order, float32): `mag` = sum of |terms|, computed in float64.
bool close(const torch::Tensor& a, const torch::Tensor& b, double mag) {
  const double d = (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
  return std::isfinite(d) && d <= 2e-5 * mag + 1e-12;
}

struct Case {
  std::string name;
  QuantSpec act;
  int phase;  // 0: statistics phase (counter 0), 1: learned phase
  int kind;   // 0: conv2d, 1: conv2d strided/padded/dilated/grouped, 2: conv1d, 3: linear,
              // 4: conv2d strided/padded/dilated, groups 1 (the stacked weight-gradient path)
  bool int32_bias;
  bool bias = true;
};

// Runs act -> layer once, with (adjoint) or without (plain autograd) the scale-gradient
// source, and returns the output and the gradients of the parameters, in a fixed order.
struct Run {
  torch::Tensor out, grad_fn_is_adjoint;
  std::vector<torch::Tensor> grads;
  double mag = 0.0;  // sum over elements of |dL/dy * dy/ds| (float64)
};

Run run_case(const Case& c, bool adjoint, const torch::Tensor& x, const torch::Tensor& seed) {
  torch::manual_seed(7);
  ActQuantizer act(c.act);
  if (c.phase == 1) act->load_threshold(2.5);
  std::shared_ptr<LayerBase> layer;
  torch::nn::Module* module = nullptr;
  std::optional<QuantSpec> bias_q;
  if (c.int32_bias) bias_q = presets::Int32Bias();
  if (c.kind == 0 || c.kind == 1 || c.kind == 4) {
    QuantConv2dOptions o(c.kind == 0 ? 1 : 2, c.kind == 0 ? 6 : 4, {5, 3});
    if (c.kind == 1) o.stride({2, 1}).padding({1, 2}).dilation({1, 2}).groups(2);
    if (c.kind == 4) o.stride({2, 1}).padding({1, 2}).dilation({1, 2});
    auto m = std::make_shared<QuantConv2dImpl>(o.bias(c.bias).bias_quant(bias_q));
    module = m.get();
    layer = m;
  } else if (c.kind == 2) {
    QuantConv1dOptions o(3, 5, 4);
    auto m = std::make_shared<QuantConv1dImpl>(o.stride(2).padding(1).bias(c.bias).bias_quant(bias_q));
    module = m.get();
    layer = m;
  } else {
    auto m = std::make_shared<QuantLinearImpl>(QuantLinearOptions(x.size(1), 7).bias(c.bias).bias_quant(bias_q));
    module = m.get();
    layer = m;
  }
  QuantTensor q = act->forward(x);
  QuantTensor qin = q;
  if (!adjoint) qin.scale_grad_source.reset();
  if (adjoint != scale_adjoint_applies(qin)) throw std::runtime_error("adjoint path not as expected");
  QuantTensor y = layer->apply(qin);
  Run r;
  r.out = y.value.detach().clone();
  r.grad_fn_is_adjoint = torch::tensor(y.value.grad_fn() &&
                                       y.value.grad_fn()->name().find("ScaleAdjoint") != std::string::npos);
  // A plain-autograd side run for the magnitude of the scale terms.
  if (!adjoint) {
    torch::Tensor v = q.value;
    v.retain_grad();
    (y.value * seed).sum().backward();
    const torch::Tensor gy = v.grad();
    torch::NoGradGuard ng;
    const torch::Tensor s = q.scale.detach(), z = q.zero_point.detach();
    const torch::Tensor t = x / s;
    const torch::Tensor qq = torch::clamp(torch::round(t + z), c.act.range().min_int, c.act.range().max_int);
    r.mag = (gy.to(torch::kDouble) * ((qq - z) - t).to(torch::kDouble)).abs().sum().item<double>();
  } else {
    (y.value * seed).sum().backward();
  }
  for (auto& p : act->named_parameters()) r.grads.push_back(p.value().grad());
  for (auto& p : module->named_parameters()) r.grads.push_back(p.value().grad());
  return r;
}

}  // namespace

int scale_adjoint_failures(int threads, int& cases) {
  torch::set_num_threads(threads);
  int failures = 0;
  std::vector<Case> table;
  for (int phase = 0; phase < 2; ++phase)
    for (int kind = 0; kind < 5; ++kind)
      for (const bool b32 : {false, true}) {
        table.push_back({"Int8ActPerTensorFloat", presets::Int8ActPerTensorFloat(), phase, kind, b32});
        table.push_back({"ShiftedUint8ActPerTensorFloat", presets::ShiftedUint8ActPerTensorFloat(), phase,
                         kind, b32});
      }
  for (int kind = 0; kind < 4; ++kind)
    table.push_back({"Int8ActPerTensorFixedPoint", presets::Int8ActPerTensorFixedPoint(), 1, kind, false});
  QuantSpec four = presets::Int8ActPerTensorFloat();
  four.bit_width = 4;  // many clipped elements
  for (int kind = 0; kind < 4; ++kind) table.push_back({"Int4 (clipping)", four, 1, kind, true});
  for (int kind = 0; kind < 4; ++kind)  // layers without a bias
    table.push_back({"Int8ActPerTensorFloat, no bias", presets::Int8ActPerTensorFloat(), 1, kind, false, false});

  for (const Case& c : table) {
    torch::manual_seed(11 + c.kind);
    torch::Tensor x = c.kind == 0   ? torch::randn({8, 1, 20, 20}) * 1.5
                      : c.kind == 1 || c.kind == 4 ? torch::randn({4, 2, 17, 15}) * 1.5
                      : c.kind == 2 ? torch::randn({6, 3, 31}) * 1.5
                                    : torch::randn({9, 40}) * 1.5;
    if (c.act.shifted) x = x + 0.8;
    torch::Tensor seed;
    ++cases;
    std::string bad;
    try {
      // First pass with a ones seed only to learn the output shape.
      const Run plain0 = run_case(c, false, x, torch::ones({}));
      torch::manual_seed(99);
      seed = torch::randn(plain0.out.sizes());
      const Run plain = run_case(c, false, x, seed);
      const Run adj = run_case(c, true, x, seed);
      if (!bits_equal(plain.out, adj.out)) bad += " forward";
      if (!adj.grad_fn_is_adjoint.item<bool>() || plain.grad_fn_is_adjoint.item<bool>()) bad += " path";
      if (plain.grads.size() != adj.grads.size()) {
        bad += " grad count";
      } else {
        const size_t n_act = c.act.shifted ? 2 : 1;  // value (+ zero_point_value)
        for (size_t i = 0; i < plain.grads.size(); ++i) {
          const torch::Tensor &a = adj.grads[i], &p = plain.grads[i];
          if (i < n_act) {
            if (c.phase == 0) {
              // `value` takes part with an exact zero (either sign); the zero point's
              // parameter is not used before the learned phase (no gradient either way).
              const auto zero_or_none = [](const torch::Tensor& t) { return !t.defined() || t.item<double>() == 0.0; };
              if (i == 0 && (!a.defined() || !p.defined())) bad += " stats-phase value grad missing";
              if (!zero_or_none(a) || !zero_or_none(p) || a.defined() != p.defined()) bad += " stats-phase zero grad";
            } else if (!a.defined() || !p.defined()) {
              bad += " act grad missing";
            } else if (!close(a, p, plain.mag * 4.0)) {
              bad += " act grad " + std::to_string(i) + " (" + std::to_string(a.item<double>()) +
                     " vs " + std::to_string(p.item<double>()) + ")";
            } else if (i == 0 && p.item<double>() == 0.0) {
              bad += " scale grad is 0 (case cannot tell)";
            }
          } else if (!close(a, p, p.abs().sum().item<double>() + 1e-6)) {
            // The weight gradient comes from one convolution_backward over the stacked
            // [y, d_s, d_z] channels: the same sums, possibly reduced in another order.
            bad += " layer grad " + std::to_string(i - n_act);
          }
        }
      }
    } catch (const std::exception& e) {
      bad += std::string(" threw: ") + e.what();
    }
    if (!bad.empty()) {
      ++failures;
      std::printf("FAIL scale adjoint %s phase %d kind %d int32bias %d:%s\n", c.name.c_str(), c.phase,
                  c.kind, int(c.int32_bias), bad.c_str());
    }
  }
  // The source is used only where it still describes the tensor: not after a layer that
  // makes new values (max-pool), not when the quantizer's input needs a gradient, not
  // after an in-place change of the values, not under NoGradGuard.
  {
    ++cases;
    std::string bad;
    ActQuantizer act(presets::Int8ActPerTensorFloat());
    act->load_threshold(2.0);
    const torch::Tensor x = torch::randn({2, 1, 8, 8});
    const QuantTensor q = act->forward(x);
    if (!scale_adjoint_applies(q)) bad += " plain";
    if (!scale_adjoint_applies(q.dequantized())) bad += " dequantized";
    if (scale_adjoint_applies(q.with_value(torch::max_pool2d(q.value, 2)))) bad += " after max-pool";
    if (scale_adjoint_applies(act->forward(x.clone().requires_grad_(true)))) bad += " input with grad";
    {
      torch::NoGradGuard ng;
      if (scale_adjoint_applies(q)) bad += " no-grad mode";
    }
    const QuantTensor q2 = act->forward(x.clone());
    {
      torch::NoGradGuard ng;
      q2.value.detach().mul_(1.0f);  // an in-place change bumps the shared version counter
    }
    if (scale_adjoint_applies(q2)) bad += " after in-place change";
    if (!bad.empty()) {
      ++failures;
      std::printf("FAIL scale adjoint source used where it must not be:%s\n", bad.c_str());
    }
  }
  return failures;
}

}  // namespace qnn::test
