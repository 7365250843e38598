// SPDX-License-Identifier: GPL-3.0-or-later
// Compiled with USE_C10D_GLOO (core/CMakeLists.txt) and the Gloo headers of libgloo-dev.
#include "core/dist/process_group.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "core/errors.h"

namespace qnn {
namespace {

std::string first_line(std::string m) {
  const auto nl = m.find('\n');
  if (nl != std::string::npos) m.resize(nl);
  return m;
}

const char* const kEnvHint =
    " (a --dist run reads torchrun's MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK; `qnn launch` sets them)";

long env_integer(const char* name, long lo, long hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) throw ConfigError(std::string("--dist: the environment variable ") + name + " is not set" + kEnvHint);
  char* end = nullptr;
  errno = 0;
  const long x = std::strtol(v, &end, 10);
  if (*end != '\0' || errno == ERANGE || x < lo || x > hi)
    throw ConfigError(std::string("--dist: the environment variable ") + name + " is '" + v +
                      "'; expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  return x;
}

class GlooDataParallel final : public DataParallel {
 public:
  GlooDataParallel(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<c10d::ProcessGroupGloo> pg, int rank,
                   int world, bool check)
      : m_store(std::move(store)), m_pg(std::move(pg)), m_rank(rank), m_world(world), m_check(check) {}
  int rank() const override { return m_rank; }
  int world_size() const override { return m_world; }
  bool check_every_step() const override { return m_check; }
  void broadcast(std::vector<torch::Tensor>& tensors) override {
    for (auto& t : tensors) {
      std::vector<at::Tensor> v{t};
      run([&] { m_pg->broadcast(v)->wait(); }, "broadcast");
    }
  }
  void average(std::vector<torch::Tensor>& tensors) override {
    for (auto& t : tensors) {
      std::vector<at::Tensor> v{t};
      run([&] { m_pg->allreduce(v)->wait(); }, "all-reduce");
      t.div_(double(m_world));
    }
  }
  torch::Tensor all_gather(const torch::Tensor& tensor) override {
    std::vector<at::Tensor> in{tensor.contiguous()};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < m_world; ++r) out[0].push_back(torch::empty_like(in[0]));
    run([&] { m_pg->allgather(out, in)->wait(); }, "all-gather");
    return torch::stack(out[0]);
  }
  void max(torch::Tensor& tensor) override {
    std::vector<at::Tensor> v{tensor};
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::MAX;
    run([&] { m_pg->allreduce(v, o)->wait(); }, "all-reduce");
  }

 private:
  template <class F>
  void run(F&& f, const char* what) {
    try {
      f();
    } catch (const std::exception& e) {
      throw ConfigError("rank " + std::to_string(m_rank) + ": the " + what +
                        " with the other ranks failed (a rank died, or did not answer within --dist-timeout): " +
                        first_line(e.what()));
    }
  }
  c10::intrusive_ptr<c10d::Store> m_store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> m_pg;
  int m_rank, m_world;
  bool m_check;
};

}  // namespace

DistEnv read_dist_env() {
  DistEnv e;
  const char* addr = std::getenv("MASTER_ADDR");
  if (!addr || !*addr) throw ConfigError(std::string("--dist: the environment variable MASTER_ADDR is not set") + kEnvHint);
  e.master_addr = addr;
  e.master_port = int(env_integer("MASTER_PORT", 1, 65535));
  e.world_size = int(env_integer("WORLD_SIZE", 1, 4096));
  e.rank = int(env_integer("RANK", 0, e.world_size - 1));
  return e;
}

std::unique_ptr<DataParallel> join_process_group(const DistEnv& env, double timeout_seconds, bool check) {
  const auto timeout = std::chrono::milliseconds(int64_t(timeout_seconds * 1000.0));
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    c10d::TCPStoreOptions so;
    so.port = uint16_t(env.master_port);
    so.isServer = env.rank == 0;
    so.numWorkers = size_t(env.world_size);
    so.waitWorkers = true;
    so.timeout = timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(env.master_addr));
    opts->threads = 1;
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, opts);
    return std::make_unique<GlooDataParallel>(store, pg, env.rank, env.world_size, check);
  } catch (const std::exception& e) {
    throw ConfigError("rank " + std::to_string(env.rank) + ": the rendezvous with " + where + " (world size " +
                      std::to_string(env.world_size) + ") failed or timed out after " +
                      std::to_string(int(timeout_seconds)) + " s: " + first_line(e.what()));
  }
}

void check_same_project(DataParallel& dp, uint64_t digest, const std::string& project_path) {
  // Two 32-bit halves, so each fits an int64 tensor element whatever the top bit.
  const auto d = torch::tensor({int64_t(digest >> 32), int64_t(digest & 0xffffffffu)}, torch::kInt64);
  std::vector<torch::Tensor> v{d.clone()};
  dp.broadcast(v);
  const bool same = torch::equal(v[0], d);
  // The max of -rank over the mismatched ranks names the lowest one (INT64_MIN: none).
  auto bad = torch::full({1}, same ? std::numeric_limits<int64_t>::min() : -int64_t(dp.rank()), torch::kInt64);
  dp.max(bad);
  const int64_t r = bad.item<int64_t>();
  if (r != std::numeric_limits<int64_t>::min())
    throw ConfigError("rank " + std::to_string(-r) + " has a different project than rank 0 (the bytes of its " +
                      "project file differ; this rank read " + project_path +
                      "); every rank must train the same project file");
}

std::vector<std::string> all_gather_bytes(DataParallel& dp, const std::string& bytes) {
  torch::NoGradGuard no_grad;
  const auto sizes = dp.all_gather(torch::full({1}, int64_t(bytes.size()), torch::kInt64));  // [world, 1]
  const int64_t longest = std::max<int64_t>(1, sizes.max().item<int64_t>());
  auto mine = torch::zeros({longest}, torch::kUInt8);
  if (!bytes.empty()) std::memcpy(mine.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  const auto all = dp.all_gather(mine).contiguous();  // [world, longest]
  std::vector<std::string> out;
  for (int r = 0; r < dp.world_size(); ++r) {
    const int64_t n = sizes[r][0].item<int64_t>();
    if (n < 0 || n > longest) throw ConfigError("rank " + std::to_string(r) + " sent a malformed message length");
    const auto row = all[r];
    out.emplace_back(reinterpret_cast<const char*>(row.data_ptr<uint8_t>()), size_t(n));
  }
  return out;
}

}  // namespace qnn
