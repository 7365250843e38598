// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/dist/data_parallel.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/errors.h"
#include "core/quant/int_quant.h"

namespace qnn {
namespace {
std::atomic<DataParallel*> g_dp{nullptr};
std::atomic<int64_t> g_checked{0};

bool is_batchnorm_stat(const std::string& name) {
  const auto ends = [&](const char* s) {
    const std::string t(s);
    return name.size() >= t.size() && name.compare(name.size() - t.size(), t.size(), t) == 0;
  };
  return ends("running_mean") || ends("running_var");
}
}  // namespace

DataParallel* active_data_parallel() { return g_dp.load(); }
void set_active_data_parallel(DataParallel* dp) { g_dp.store(dp); }

namespace {
torch::Tensor local_percentile(const torch::Tensor& x, double q, PercentileKind kind) {
  switch (kind) {
    case PercentileKind::AbsHigh: return kth_abs_percentile(x, q);
    case PercentileKind::High: return kth_percentile(x, q);
    case PercentileKind::Low: break;
  }
  return kth_low_percentile(x, q);
}
}  // namespace

torch::Tensor percentile_statistic(const torch::Tensor& x, double q, PercentileKind kind) {
  DataParallel* dp = active_data_parallel();
  if (!dp || dp->world_size() == 1) return local_percentile(x, q, kind);
  const torch::Tensor v = kind == PercentileKind::AbsHigh ? x.reshape({-1}).abs() : x.reshape({-1});
  // Every rank holds batch_size samples (full global batches only), so N is known
  // without communication: one all-gather per call.
  const int64_t n_local = v.numel();
  const int64_t n = n_local * dp->world_size();
  int64_t k = kind == PercentileKind::Low ? int64_t(std::ceil(0.01 * q * double(n)))
                                          : int64_t(std::floor(0.01 * q * double(n) + 0.5));
  k = std::min(std::max<int64_t>(k, 1), n);
  const int64_t m = kind == PercentileKind::Low ? k : n - k + 1;  // places from the chosen end
  if (m > 4096) {  // far from both ends: the mean of the ranks' percentiles (approximation)
    const torch::Tensor stat = local_percentile(x, q, kind);
    std::vector<torch::Tensor> mean{stat.detach().to(torch::kFloat32).reshape({1}).clone()};
    dp->average(mean);
    return stat + (mean[0].reshape({}) - stat.detach());
  }
  torch::Tensor value_w, w;
  int holder = -1;
  {
    torch::NoGradGuard no_grad;
    w = (kind == PercentileKind::Low ? -v.detach() : v.detach()).to(torch::kFloat32).contiguous();
    const int64_t t = std::min(m, n_local);
    auto top = torch::full({m}, -std::numeric_limits<float>::infinity(), torch::kFloat32);
    if (t > 0) top.narrow(0, 0, t).copy_(std::get<0>(w.topk(t)));
    const torch::Tensor all = dp->all_gather(top);  // [world, m]
    value_w = std::get<0>(all.reshape({-1}).topk(m)).select(0, m - 1);
    // Fewer than m values exceed the m-th largest, so a rank holding it has it in its
    // top m: the lowest such row is the holder (a single process picks the first too).
    const auto rows = all.eq(value_w).any(1);
    for (int r = 0; r < dp->world_size(); ++r)
      if (rows[r].item<bool>()) {
        holder = r;
        break;
      }
  }
  if (holder == dp->rank()) {
    const int64_t idx = w.eq(value_w).to(torch::kUInt8).argmax().item<int64_t>();  // the first in memory order
    return v.select(0, idx);
  }
  torch::NoGradGuard no_grad;
  return (kind == PercentileKind::Low ? -value_w : value_w).to(x.scalar_type()).clone();
}

std::optional<std::string> broadcast_bytes(DataParallel& dp, const std::optional<std::string>& bytes) {
  torch::NoGradGuard no_grad;
  const bool mine = dp.rank() == 0 && bytes.has_value();
  std::vector<torch::Tensor> size{torch::full({1}, mine ? int64_t(bytes->size()) : int64_t(-1), torch::kInt64)};
  dp.broadcast(size);
  const int64_t n = size[0].item<int64_t>();
  if (n < 0) return std::nullopt;
  std::vector<torch::Tensor> data{torch::empty({std::max<int64_t>(n, 1)}, torch::kUInt8)};
  if (mine && n > 0) std::memcpy(data[0].data_ptr<uint8_t>(), bytes->data(), size_t(n));
  dp.broadcast(data);
  return std::string(reinterpret_cast<const char*>(data[0].data_ptr<uint8_t>()), size_t(n));
}

void dp_broadcast_model(torch::nn::Module& model) {
  DataParallel* dp = active_data_parallel();
  if (!dp) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> all;
  for (auto& p : model.parameters()) all.push_back(p.data());
  for (auto& b : model.buffers()) all.push_back(b);
  dp->broadcast(all);
}

void dp_average_gradients(const std::vector<torch::Tensor>& params) {
  DataParallel* dp = active_data_parallel();
  if (!dp) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  int64_t total = 0;
  for (const auto& p : params) {
    if (!p.grad().defined()) continue;  // the same on every rank: the same graph
    grads.push_back(p.grad());
    total += p.grad().numel();
  }
  if (grads.empty()) return;
  auto bucket = torch::empty({total}, torch::kFloat32);
  int64_t at = 0;
  for (auto& g : grads) {
    bucket.narrow(0, at, g.numel()).copy_(g.reshape({-1}));
    at += g.numel();
  }
  std::vector<torch::Tensor> v{bucket};
  dp->average(v);
  at = 0;
  for (auto& g : grads) {
    g.copy_(bucket.narrow(0, at, g.numel()).view(g.sizes()));
    at += g.numel();
  }
}

void dp_average_batchnorm(torch::nn::Module& model) {
  DataParallel* dp = active_data_parallel();
  if (!dp) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> stats;
  for (const auto& kv : model.named_buffers())
    if (is_batchnorm_stat(kv.key()) && kv.value().is_floating_point()) stats.push_back(kv.value());
  if (stats.empty()) return;
  // One flat float32 bucket: one collective per step whatever the number of layers.
  int64_t total = 0;
  for (const auto& t : stats) total += t.numel();
  auto bucket = torch::empty({total}, torch::kFloat32);
  int64_t at = 0;
  for (const auto& t : stats) {
    bucket.narrow(0, at, t.numel()).copy_(t.reshape({-1}));
    at += t.numel();
  }
  std::vector<torch::Tensor> v{bucket};
  dp->average(v);
  at = 0;
  for (auto& t : stats) {
    t.copy_(bucket.narrow(0, at, t.numel()).view(t.sizes()));
    at += t.numel();
  }
}

void dp_check_identical(torch::nn::Module& model, int64_t step) {
  DataParallel* dp = active_data_parallel();
  if (!dp || !dp->check_every_step()) return;
  torch::NoGradGuard no_grad;
  // A position-weighted float64 checksum: a swapped or changed value shows.
  double sum = 0.0;
  int64_t k = 0;
  const auto add = [&](const torch::Tensor& t) {
    auto f = t.detach().to(torch::kFloat64).reshape({-1});
    auto w = torch::arange(1, f.numel() + 1, torch::kFloat64).mul_(1e-3).add_(double(++k));
    sum += (f * w).sum().item<double>();
  };
  for (auto& p : model.parameters()) add(p);
  for (auto& b : model.buffers()) add(b);
  std::vector<torch::Tensor> mine{torch::full({1}, sum, torch::kFloat64)};
  dp->broadcast(mine);  // rank 0's checksum
  auto diff = torch::full({1}, sum == mine[0].item<double>() ? 0.0 : double(dp->rank() + 1), torch::kFloat64);
  dp->max(diff);
  const int bad = int(diff.item<double>());
  if (bad > 0)
    throw ConfigError("--dist-check: after step " + std::to_string(step) + " the weights or quantizer state of rank " +
                      std::to_string(bad - 1) + " differ from those of rank 0");
  ++g_checked;
}

int64_t dp_checked_steps() { return g_checked.load(); }

}  // namespace qnn
