// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/quant/brevitas_log2.h"

#include <cmath>
#include <limits>

#include "core/errors.h"
#include "core/quant/quantizers.h"

namespace qnn {

namespace {

constexpr double kScalingMinVal = 1e-10;  // Brevitas scaling_min_val of the fixed-point presets

int log2_exact(double power_of_two) { return std::ilogb(power_of_two); }

std::string element(const std::string& what, const torch::Tensor& t, int64_t i) {
  return t.numel() == 1 ? what : what + " (element " + std::to_string(i) + ")";
}

}  // namespace

torch::Tensor brevitas_log2_value(const torch::Tensor& threshold, double int_threshold, const std::string& what) {
  torch::NoGradGuard no_grad;
  const torch::Tensor thr = threshold.detach().to(torch::kFloat32).contiguous();
  const float* tp = thr.data_ptr<float>();
  for (int64_t i = 0; i < thr.numel(); ++i)
    if (!std::isfinite(tp[i]) || !(tp[i] / int_threshold >= kScalingMinVal))
      throw ConfigError(element(what, thr, i) + ": the power-of-two threshold " + std::to_string(tp[i]) +
                        " is not a positive number of at least 1e-10 x " + std::to_string(int_threshold) +
                        " (the app clamps the scale there, Brevitas only after the power of two)");
  const torch::Tensor scale = power_of_two_scale(thr, int_threshold).contiguous();
  torch::Tensor v = torch::log2(thr).contiguous();
  const float* sp = scale.data_ptr<float>();
  float* vp = v.data_ptr<float>();
  const int k = log2_exact(int_threshold);
  for (int64_t i = 0; i < v.numel(); ++i) {
    const float c = static_cast<float>(log2_exact(sp[i]) + k);  // Brevitas's ceil(v) must be c
    if (!(vp[i] <= c)) vp[i] = c;
    if (!(vp[i] > c - 1.0f)) vp[i] = std::nextafter(c - 1.0f, std::numeric_limits<float>::infinity());
  }
  return v.view(threshold.sizes());
}

torch::Tensor threshold_from_brevitas_log2(const torch::Tensor& v, double int_threshold, const std::string& what) {
  torch::NoGradGuard no_grad;
  const torch::Tensor val = v.detach().to(torch::kFloat32).contiguous();
  const float* vp = val.data_ptr<float>();
  const int k = log2_exact(int_threshold);
  torch::Tensor want = torch::empty_like(val);
  float* wp = want.data_ptr<float>();
  for (int64_t i = 0; i < val.numel(); ++i) {
    const double c = std::ceil(static_cast<double>(vp[i]));
    const bool in_range = std::isfinite(vp[i]) && std::fabs(c) <= 256.0;  // no int overflow below
    const float s = in_range ? std::ldexp(1.0f, static_cast<int>(c) - k) : 0.0f;
    if (!in_range || !(s >= kScalingMinVal) || !std::isnormal(s) || !std::isnormal(std::ldexp(1.0f, static_cast<int>(c))))
      throw ConfigError(element(what, val, i) + ": the log2-domain value " + std::to_string(vp[i]) +
                        " gives no power-of-two scale the app can hold (Brevitas: 2^ceil(value) / " +
                        std::to_string(int_threshold) + ")");
    wp[i] = s;
  }
  torch::Tensor thr = torch::exp2(val).contiguous();
  float* tp = thr.data_ptr<float>();
  for (int round = 0;; ++round) {
    const torch::Tensor got = power_of_two_scale(thr, int_threshold).contiguous();
    const float* gp = got.data_ptr<float>();
    bool all = true;
    for (int64_t i = 0; i < thr.numel(); ++i) {
      if (gp[i] == wp[i]) continue;
      all = false;
      if (round == 64)
        throw ConfigError(element(what, val, i) + ": no linear threshold gives Brevitas's scale " +
                          std::to_string(wp[i]) + " for the log2-domain value " + std::to_string(vp[i]));
      tp[i] = std::nextafter(tp[i], gp[i] < wp[i] ? std::numeric_limits<float>::infinity() : 0.0f);
    }
    if (all) break;
  }
  return thr.view(v.sizes());
}

}  // namespace qnn
