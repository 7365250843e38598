// SPDX-License-Identifier: GPL-3.0-or-later
// The elementary numbers of inspect.h: value histograms, integer-level histograms,
// MSE and SQNR. Everything is accumulated in double on a contiguous CPU copy.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/errors.h"
#include "core/inspect/inspect.h"
#include "core/inspect/inspect_detail.h"

namespace qnn::inspect {
namespace {

// A contiguous CPU double copy of `x` without gradient (x may be any float dtype).
torch::Tensor as_double(const torch::Tensor& x) {
  return x.detach().to(torch::kCPU, torch::kFloat64).contiguous();
}

using detail::shape_text;

void check_same_shape(const torch::Tensor& reference, const torch::Tensor& test, const char* what) {
  if (!reference.defined() || !test.defined())
    throw ConfigError(std::string(what) + ": both tensors must be defined");
  if (reference.sizes() != test.sizes())
    throw ConfigError(std::string(what) + ": the reference has shape " + shape_text(reference) +
                      " but the compared tensor has shape " + shape_text(test) +
                      "; compare tensors of the same shape");
}

}  // namespace

double Histogram::bin_width() const {
  return counts.empty() ? 0.0 : (hi - lo) / static_cast<double>(counts.size());
}

Histogram histogram(const torch::Tensor& x, int64_t bins, double lo, double hi) {
  if (bins < 1)
    throw ConfigError("histogram: the number of bins must be at least 1 (got " +
                      std::to_string(bins) + ")");
  if (!(lo <= hi))
    throw ConfigError("histogram: the range [" + detail::number_text(lo) + ", " + detail::number_text(hi) +
                      "] is empty or NaN; pass lo <= hi");
  Histogram h;
  h.lo = lo;
  h.hi = hi;
  h.counts.assign(static_cast<size_t>(bins), 0);
  if (!x.defined() || x.numel() == 0) return h;
  const torch::Tensor d = as_double(x);
  const double* p = d.data_ptr<double>();
  const double w = (hi - lo) / static_cast<double>(bins);
  for (int64_t i = 0, n = d.numel(); i < n; ++i) {
    const double v = p[i];
    if (std::isnan(v)) {
      ++h.nan_count;
      continue;
    }
    if (v < lo || v > hi) continue;
    int64_t b = 0;
    if (w > 0.0) {
      // floor((v - lo) / w); rounding may push a value just below hi to `bins`, and
      // hi itself belongs to the last bin.
      b = static_cast<int64_t>(std::floor((v - lo) / w));
      b = std::clamp<int64_t>(b, 0, bins - 1);
    }
    ++h.counts[static_cast<size_t>(b)];
  }
  return h;
}

Histogram histogram(const torch::Tensor& x, int64_t bins) {
  double lo = 0.0, hi = 0.0;
  bool any = false;
  if (x.defined() && x.numel() > 0) {
    const torch::Tensor d = as_double(x);
    const double* p = d.data_ptr<double>();
    for (int64_t i = 0, n = d.numel(); i < n; ++i) {
      const double v = p[i];
      if (!std::isfinite(v)) continue;  // NaN is counted apart; +-inf cannot bound a bin
      if (!any) {
        lo = hi = v;
        any = true;
      } else {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  return inspect::histogram(x, bins, lo, hi);
}

int64_t LevelHistogram::unused_levels() const {
  return static_cast<int64_t>(std::count(counts.begin(), counts.end(), int64_t{0}));
}

int64_t LevelHistogram::total() const {
  int64_t t = 0;
  for (int64_t c : counts) t += c;
  return t;
}

LevelHistogram level_histogram(const torch::Tensor& x, const torch::Tensor& scale,
                               const torch::Tensor& zero_point, int64_t min_int, int64_t max_int) {
  if (min_int > max_int)
    throw ConfigError("level_histogram: min_int " + std::to_string(min_int) +
                      " is larger than max_int " + std::to_string(max_int));
  LevelHistogram h;
  h.min_int = min_int;
  h.max_int = max_int;
  h.counts.assign(static_cast<size_t>(max_int - min_int + 1), 0);
  if (!x.defined() || x.numel() == 0) return h;
  torch::NoGradGuard no_grad;
  // The pre-clamp code in the order and precision of fake_quant (int_quant.h):
  // divide, add the zero point, round half to even.
  const torch::Tensor r = as_double(torch::round(x.detach() / scale + zero_point));
  if (r.numel() != x.numel())
    throw ConfigError("level_histogram: scale " + shape_text(scale) + " / zero point " +
                      shape_text(zero_point) + " broadcast the input " + shape_text(x) +
                      " to a larger shape; they must be broadcastable to the input");
  const double* p = r.data_ptr<double>();
  const double lo = static_cast<double>(min_int), hi = static_cast<double>(max_int);
  for (int64_t i = 0, n = r.numel(); i < n; ++i) {
    const double v = p[i];
    if (std::isnan(v)) continue;  // a NaN input has no code
    int64_t code;
    if (v < lo) {
      ++h.saturated_low;
      code = min_int;
    } else if (v > hi) {
      ++h.saturated_high;
      code = max_int;
    } else {
      code = static_cast<int64_t>(v);
    }
    ++h.counts[static_cast<size_t>(code - min_int)];
  }
  return h;
}

double mse(const torch::Tensor& reference, const torch::Tensor& test) {
  check_same_shape(reference, test, "mse");
  if (reference.numel() == 0) return 0.0;
  const torch::Tensor a = as_double(reference), b = as_double(test);
  const double* pa = a.data_ptr<double>();
  const double* pb = b.data_ptr<double>();
  double sum = 0.0;
  const int64_t n = a.numel();
  for (int64_t i = 0; i < n; ++i) {
    const double e = pa[i] - pb[i];
    sum += e * e;
  }
  return sum / static_cast<double>(n);
}

double sqnr_db(const torch::Tensor& reference, const torch::Tensor& test) {
  check_same_shape(reference, test, "sqnr_db");
  const torch::Tensor a = as_double(reference), b = as_double(test);
  const double* pa = a.data_ptr<double>();
  const double* pb = b.data_ptr<double>();
  double signal = 0.0, noise = 0.0;
  for (int64_t i = 0, n = a.numel(); i < n; ++i) {
    const double e = pa[i] - pb[i];
    signal += pa[i] * pa[i];
    noise += e * e;
  }
  if (std::isnan(signal) || std::isnan(noise)) return std::numeric_limits<double>::quiet_NaN();
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  if (signal == 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

double LayerError::local_sqnr_db() const {
  const bool w = !std::isnan(weight_sqnr_db), a = !std::isnan(act_sqnr_db);
  if (w && a) return std::min(weight_sqnr_db, act_sqnr_db);
  if (w) return weight_sqnr_db;
  if (a) return act_sqnr_db;
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace qnn::inspect
