// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/dist/data_parallel.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>

#include "core/errors.h"
#include "core/quant/int_quant.h"

namespace qnn {
namespace {
std::atomic<DataParallel*> g_dp{nullptr};
std::atomic<int64_t> g_checked{0};

// Wall time spent in the collectives of training (DistTimings), in nanoseconds.
std::atomic<int64_t> g_statistics_ns{0}, g_statistics_calls{0}, g_gradient_ns{0}, g_gradient_steps{0},
    g_batchnorm_ns{0}, g_buckets{0};

class Timer {
 public:
  explicit Timer(std::atomic<int64_t>& into) : m_into(into), m_t0(std::chrono::steady_clock::now()) {}
  ~Timer() {
    m_into += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - m_t0).count();
  }

 private:
  std::atomic<int64_t>& m_into;
  std::chrono::steady_clock::time_point m_t0;
};

bool is_batchnorm_stat(const std::string& name) {
  const auto ends = [&](const char* s) {
    const std::string t(s);
    return name.size() >= t.size() && name.compare(name.size() - t.size(), t.size(), t) == 0;
  };
  return ends("running_mean") || ends("running_var");
}
}  // namespace

DataParallel* active_data_parallel() { return g_dp.load(); }
void set_active_data_parallel(DataParallel* dp) {
  DataParallel* const was = g_dp.exchange(dp);
  if (!dp && was && g_gradient_steps.load() > 0) {
    const char* e = std::getenv("QNN_DIST_PROFILE");
    if (e && *e && std::string(e) != "0") std::fprintf(stderr, "%s\n", dist_timings_line(was->rank()).c_str());
  }
}

DistTimings dist_timings() {
  DistTimings t;
  t.steps = g_gradient_steps.load();
  t.statistics_calls = g_statistics_calls.load();
  t.statistics_seconds = double(g_statistics_ns.load()) * 1e-9;
  t.gradient_seconds = double(g_gradient_ns.load()) * 1e-9;
  t.batchnorm_seconds = double(g_batchnorm_ns.load()) * 1e-9;
  t.buckets = g_buckets.load();
  return t;
}

std::string dist_timings_line(int rank) {
  const DistTimings t = dist_timings();
  const double per = t.steps > 0 ? 1e3 / double(t.steps) : 0.0;
  const std::string how = t.buckets > 0 ? std::to_string(t.buckets) + " bucket(s) overlapped with backward"
                                        : std::string("1 flat bucket after backward");
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "dist profile rank %d: %lld steps; per step %.3f ms in collectives: statistics %.3f ms (%lld calls), "
                "gradients %.3f ms (%s), BatchNorm %.3f ms",
                rank, static_cast<long long>(t.steps),
                (t.statistics_seconds + t.gradient_seconds + t.batchnorm_seconds) * per, t.statistics_seconds * per,
                static_cast<long long>(t.statistics_calls), t.gradient_seconds * per, how.c_str(),
                t.batchnorm_seconds * per);
  return buf;
}

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
  ++g_statistics_calls;
  if (m > 4096) {  // far from both ends: the mean of the ranks' percentiles (approximation)
    const torch::Tensor stat = local_percentile(x, q, kind);
    std::vector<torch::Tensor> mean{stat.detach().to(torch::kFloat32).reshape({1}).clone()};
    {
      Timer timer(g_statistics_ns);
      dp->average(mean);
    }
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
    torch::Tensor all;
    {
      Timer timer(g_statistics_ns);
      all = dp->all_gather(top);  // [world, m]
    }
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

namespace {
/// The gradients of `params` (those defined) averaged in one flat float32 bucket.
void dp_average_flat(DataParallel& dp, const std::vector<torch::Tensor>& params) {
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
  dp.average(v);
  at = 0;
  for (auto& g : grads) {
    g.copy_(bucket.narrow(0, at, g.numel()).view(g.sizes()));
    at += g.numel();
  }
}
}  // namespace

void dp_average_gradients(const std::vector<torch::Tensor>& params) {
  DataParallel* dp = active_data_parallel();
  if (!dp) return;
  Timer timer(g_gradient_ns);
  ++g_gradient_steps;
  dp_average_flat(*dp, params);
}

namespace {

class GradientSyncImpl final : public GradientSync {
 public:
  GradientSyncImpl(DataParallel& dp, const std::vector<torch::Tensor>& params, int64_t bucket_kib)
      : m_dp(dp), m_params(params), m_cap(std::max<int64_t>(1, bucket_kib * 1024 / int64_t(sizeof(float)))) {
    m_expected.assign(m_params.size(), false);
    m_arrived.assign(m_params.size(), false);
    m_slot.assign(m_params.size(), Slot{});
    for (size_t i = 0; i < m_params.size(); ++i) {
      torch::Tensor p = m_params[i];
      if (!p.requires_grad()) continue;
      m_hooks.emplace_back(p, p.register_hook([this, i](const torch::Tensor& grad) { on_grad(i, grad); }));
    }
    m_thread = std::thread([this] { communicate(); });
  }

  ~GradientSyncImpl() override {
    for (auto& [p, h] : m_hooks) {
      try {
        p.remove_hook(h);
      } catch (...) {
      }
    }
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_stop = true;  // the buckets already queued are still all-reduced (the other ranks expect them)
    }
    m_cv.notify_all();
    m_thread.join();
  }

  int buckets() const override { return int(m_buckets.size()); }

  void finish() override {
    Timer timer(g_gradient_ns);
    ++g_gradient_steps;
    torch::NoGradGuard no_grad;
    std::vector<bool> has(m_params.size(), false);
    for (size_t i = 0; i < m_params.size(); ++i) has[i] = m_params[i].grad().defined();
    // Buckets still waiting for a parameter without a gradient this step (the same on
    // every rank) start now, in order, with zeros in its place.
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      while (m_next < m_buckets.size()) enqueue(m_next++);
    }
    wait_all();
    // Gradients of parameters outside the buckets (the first step; a parameter without
    // one in the step before): one flat all-reduce after the buckets, in parameter order.
    std::vector<torch::Tensor> extra;
    for (size_t i = 0; i < m_params.size(); ++i)
      if (has[i] && !m_expected[i]) extra.push_back(m_params[i]);
    if (!extra.empty()) dp_average_flat(m_dp, extra);
    for (size_t i = 0; i < m_params.size(); ++i) {
      if (!has[i] || !m_expected[i]) continue;
      torch::Tensor g = m_params[i].mutable_grad();
      const Slot& s = m_slot[i];
      g.copy_(m_buckets[s.bucket].data.narrow(0, s.offset, g.numel()).view(g.sizes()));
    }
    if (has != m_expected) layout(has);
    // Ready for the next step's backward.
    std::lock_guard<std::mutex> lock(m_mutex);
    std::fill(m_arrived.begin(), m_arrived.end(), false);
    for (Bucket& b : m_buckets) b.ready = 0;
    m_next = 0;
  }

 private:
  struct Slot {
    size_t bucket = 0;
    int64_t offset = 0;
  };
  struct Bucket {
    torch::Tensor data;
    std::vector<size_t> params;
    int members = 0, ready = 0;
  };

  /// Buckets of the parameters in `expected`, from the last parameter to the first.
  void layout(const std::vector<bool>& expected) {
    m_expected = expected;
    m_buckets.clear();
    int64_t size = 0;
    for (size_t k = m_params.size(); k-- > 0;) {
      if (!m_expected[k]) continue;
      const int64_t n = m_params[k].numel();
      if (m_buckets.empty() || (size > 0 && size + n > m_cap)) {
        if (!m_buckets.empty()) m_buckets.back().data = torch::zeros({size}, torch::kFloat32);
        m_buckets.emplace_back();
        size = 0;
      }
      Bucket& b = m_buckets.back();
      b.params.push_back(k);
      ++b.members;
      m_slot[k] = Slot{m_buckets.size() - 1, size};
      size += n;
    }
    if (!m_buckets.empty()) m_buckets.back().data = torch::zeros({size}, torch::kFloat32);
    g_buckets = int64_t(m_buckets.size());
  }

  /// Autograd calls it with parameter i's gradient (summed over its uses).
  void on_grad(size_t i, const torch::Tensor& grad) {
    if (!m_expected[i]) return;
    torch::NoGradGuard no_grad;
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_arrived[i]) return;
    m_arrived[i] = true;
    Bucket& b = m_buckets[m_slot[i].bucket];
    b.data.narrow(0, m_slot[i].offset, grad.numel()).copy_(grad.reshape({-1}));
    ++b.ready;
    // Every complete bucket from the next in order (the same order on all ranks).
    while (m_next < m_buckets.size() && m_buckets[m_next].ready == m_buckets[m_next].members) enqueue(m_next++);
  }

  /// With m_mutex held.
  void enqueue(size_t k) {
    Bucket& b = m_buckets[k];
    if (b.ready < b.members)  // no gradient this step: zeros, not the last step's average
      for (size_t i : b.params)
        if (!m_arrived[i]) b.data.narrow(0, m_slot[i].offset, m_params[i].numel()).zero_();
    m_queue.push_back(k);
    ++m_queued;
    m_cv.notify_all();
  }

  void wait_all() {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_cv.wait(lock, [&] { return m_done == m_queued; });
    if (m_error) {
      std::exception_ptr e = m_error;
      m_error = nullptr;
      std::rethrow_exception(e);
    }
  }

  void communicate() {
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
      m_cv.wait(lock, [&] { return m_stop || !m_queue.empty(); });
      if (m_queue.empty()) return;  // stopped
      const size_t k = m_queue.front();
      m_queue.pop_front();
      std::vector<torch::Tensor> v{m_buckets[k].data};
      lock.unlock();
      std::exception_ptr error;
      if (!m_failed) {
        try {
          m_dp.average(v);
        } catch (...) {
          error = std::current_exception();
        }
      }
      lock.lock();
      if (error && !m_error) m_error = error;
      if (error) m_failed = true;  // the group is broken: the later buckets are not sent
      ++m_done;
      m_cv.notify_all();
    }
  }

  DataParallel& m_dp;
  std::vector<torch::Tensor> m_params;
  const int64_t m_cap;  ///< floats per bucket
  std::vector<bool> m_expected, m_arrived;
  std::vector<Slot> m_slot;
  std::vector<Bucket> m_buckets;
  std::vector<std::pair<torch::Tensor, unsigned>> m_hooks;
  size_t m_next = 0;  ///< the next bucket to start
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<size_t> m_queue;
  int64_t m_queued = 0, m_done = 0;
  bool m_stop = false, m_failed = false;
  std::exception_ptr m_error;
  std::thread m_thread;
};

class FlatGradientSync final : public GradientSync {
 public:
  explicit FlatGradientSync(const std::vector<torch::Tensor>& params) : m_params(params) {}
  void finish() override { dp_average_gradients(m_params); }
  int buckets() const override { return 0; }

 private:
  std::vector<torch::Tensor> m_params;
};

}  // namespace

std::unique_ptr<GradientSync> dp_gradient_sync(const std::vector<torch::Tensor>& params, int64_t bucket_kib) {
  DataParallel* dp = active_data_parallel();
  if (!dp) return nullptr;
  if (bucket_kib < 0) {
    if (const char* e = std::getenv("QNN_DIST_BUCKET_KIB"); e && *e) {
      char* end = nullptr;
      errno = 0;
      const long long v = std::strtoll(e, &end, 10);
      if (errno != 0 || end == e || *end != '\0' || v < 0 || v > kMaxBucketKiB)
        throw ConfigError(std::string("the environment variable QNN_DIST_BUCKET_KIB is '") + e +
                          "'; expected a whole number of KiB from 0 (one flat bucket after backward) to " +
                          std::to_string(kMaxBucketKiB));
      bucket_kib = v;
    } else {
      // Overlap needs a core for the communication while every rank's LibTorch threads
      // compute; without one (2 ranks x 1 thread on 2 cores) the extra thread and the
      // extra collectives only add wake-ups (measured: bench/README.md).
      long local = 1;
      if (const char* l = std::getenv("LOCAL_WORLD_SIZE"); l && *l) local = std::max(1L, std::atol(l));
      const long cores = long(std::thread::hardware_concurrency());
      bucket_kib = cores >= local * (long(torch::get_num_threads()) + 1) ? kDefaultBucketKiB : 0;
    }
  }
  // Every rank must use the same layout or the all-reduces would not match (machines with
  // other core counts choose differently, QNN_DIST_BUCKET_KIB may differ per machine): the
  // ranks take the smallest choice (0, flat, wins). One 1-float collective per run.
  bucket_kib = std::clamp<int64_t>(bucket_kib, 0, kMaxBucketKiB);
  torch::Tensor choice = torch::full({1}, -float(bucket_kib), torch::kFloat32);
  dp->max(choice);
  bucket_kib = -int64_t(choice.item<float>());
  if (bucket_kib == 0) return std::make_unique<FlatGradientSync>(params);
  return std::make_unique<GradientSyncImpl>(*dp, params, bucket_kib);
}

void dp_average_batchnorm(torch::nn::Module& model) {
  DataParallel* dp = active_data_parallel();
  if (!dp) return;
  Timer timer(g_batchnorm_ns);
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
