// SPDX-License-Identifier: GPL-3.0-or-later
// Compiled with USE_C10D_GLOO (core/CMakeLists.txt) and the Gloo headers of libgloo-dev.
#include "core/dist/process_group.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <mutex>

#include <gloo/allgather_ring.h>
#include <gloo/allreduce_halving_doubling.h>
#include <gloo/allreduce_ring.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/prefix_store.h>
#include <glog/logging.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "core/errors.h"

namespace qnn {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_peer_lost{false};

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// The library's text without its "[path/file.cc:123] " prefix and without the lines
/// after the first (c10's backtrace).
std::string library_detail(std::string m) {
  const auto nl = m.find('\n');
  if (nl != std::string::npos) m.resize(nl);
  if (!m.empty() && m[0] == '[') {
    const auto close = m.find("] ");
    if (close != std::string::npos) m.erase(0, close + 2);
  }
  return m;
}

bool says_timeout(const std::string& what) {
  const std::string m = lower(what);
  return m.find("timed out") != std::string::npos || m.find("timeout") != std::string::npos;
}

bool says_connection_lost(const std::string& what) {
  const std::string m = lower(what);
  for (const char* s : {"closed by peer", "reset by peer", "broken pipe", "connection refused", "connection closed",
                        "end of file", "eof", "socket closed", "connection reset", "unexpectedly closed"})
    if (m.find(s) != std::string::npos) return true;
  return false;
}

std::string seconds_text(double s) {
  std::ostringstream o;
  o << s;
  return o.str() + " s";
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

/// c10d, the TCPStore and Gloo log through glog (connection retries, warnings) in
/// their own words; a --dist run reports its failures itself. GLOG_minloglevel set in
/// the environment (0: everything) keeps glog's own setting, for debugging a network.
void quiet_library_logging() {
  const char* user = std::getenv("GLOG_minloglevel");
  if (user && *user) return;
  FLAGS_minloglevel = google::GLOG_FATAL;
}

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

/// The Gloo transport devices of this rank, chosen as PyTorch's c10d does: one per
/// interface of GLOO_SOCKET_IFNAME (comma-separated) when it is set; else, for a
/// loopback MASTER_ADDR (one machine, `qnn launch`), 127.0.0.1 (or ::1); else the
/// address this machine's hostname resolves to (createDefaultDevice).
std::vector<std::shared_ptr<::gloo::transport::Device>> gloo_devices(const DistEnv& env) {
  std::vector<std::shared_ptr<::gloo::transport::Device>> devices;
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifname && *ifname) {
    std::stringstream names(ifname);
    std::string name;
    while (std::getline(names, name, ',')) {
      if (name.empty()) continue;
      if (::if_nametoindex(name.c_str()) == 0)
        throw ConfigError("--dist: the environment variable GLOO_SOCKET_IFNAME names the network interface '" + name +
                          "', which this machine does not have (`ip link` lists its interfaces)");
      try {
        devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
      } catch (const std::exception&) {
        throw ConfigError("--dist: the network interface '" + name +
                          "' of GLOO_SOCKET_IFNAME has no usable address (is it up, with an IP address?)");
      }
    }
    if (devices.empty())
      throw ConfigError(std::string("--dist: the environment variable GLOO_SOCKET_IFNAME is '") + ifname +
                        "'; expected a network interface name (or several, separated by commas)");
    return devices;
  }
  try {
    if (is_loopback(env.master_addr))
      devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(env.master_addr == "::1" ? "::1" : "127.0.0.1"));
    else
      devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  } catch (const std::exception&) {
    throw ConfigError(is_loopback(env.master_addr)
                          ? "--dist: cannot use the loopback interface for the ranks of this machine (is 'lo' up?)"
                          : "--dist: cannot find a network address of this machine for the other ranks to reach it "
                            "(set GLOO_SOCKET_IFNAME to the network interface to use, e.g. eth0)");
  }
  return devices;
}

/// Whether MASTER_ADDR names a host this machine can resolve, and whether one of its
/// addresses belongs to this machine (a socket binds to it).
enum class MasterAddr { Local, NotLocal, Unresolvable };

MasterAddr classify_master_addr(const std::string& addr) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(addr.c_str(), nullptr, &hints, &found) != 0 || !found) return MasterAddr::Unresolvable;
  bool local = false, unknown = false;
  for (const addrinfo* a = found; a && !local; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) {
      unknown = true;  // e.g. no IPv6 here: cannot tell
      continue;
    }
    sockaddr_storage any{};
    std::memcpy(&any, a->ai_addr, std::min(sizeof any, size_t(a->ai_addrlen)));
    if (any.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&any)->sin_port = 0;
    if (any.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&any)->sin6_port = 0;
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&any), a->ai_addrlen) == 0) local = true;
    else if (errno != EADDRNOTAVAIL) unknown = true;
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return local || unknown ? MasterAddr::Local : MasterAddr::NotLocal;
}

/// QNN_DIST_SYNC=0 sends every collective through ProcessGroupGloo (for comparison in
/// qnn_bench_dist); any other value or none: the synchronous path (SyncCollectives).
/// Rank 0's environment decides for every rank (published in the store, so ranks with a
/// different setting still agree).
bool sync_collectives_enabled() {
  const char* e = std::getenv("QNN_DIST_SYNC");
  return !(e && std::string(e) == "0");
}

std::string rank_list(const std::vector<int>& ranks) {
  std::string s;
  for (size_t i = 0; i < ranks.size(); ++i) s += (i ? ", " : "") + std::to_string(ranks[i]);
  return s;
}

/// The training collectives on the calling thread (issue 17). ProcessGroupGloo hands
/// every collective to its worker thread, and Gloo's unbound buffers have every message
/// read by the device's network loop thread: 3-4 thread wake-ups per message, and on 2
/// ranks x 1 LibTorch thread on 2 cores each of them waits for a core. Measured between
/// two local ranks (bench/README.md): 1.74-1.88 ms for the 241 KiB gradient bucket of
/// lenet5_classic and 0.3-1.5 ms for an all-gather of 64 floats through ProcessGroupGloo,
/// 0.22-0.26 ms and 18-39 us here. This is a second Gloo context (its own connections, made
/// through the same store) whose pairs are in Gloo's synchronous mode: the calling thread
/// writes and reads the sockets itself (blocking, bounded by --dist-timeout through
/// SO_RCVTIMEO / SO_SNDTIMEO), and Gloo's bound-buffer algorithms, built once per size
/// and reused: for 2 ranks AllreduceRing (one exchange; each rank adds the other's
/// values to its own, and a0 + a1 == a1 + a0 in IEEE arithmetic, so both hold the same
/// bits, those of ProcessGroupGloo's sum), for more AllreduceHalvingDoubling (each
/// element is reduced on one rank and sent to the others, so every rank holds the same
/// bits; AllreduceRing would add in a different order on each rank); AllgatherRing. Float32 only; other types and larger
/// all-gathers go through ProcessGroupGloo.
///
/// Blocking sends: two ranks that write to each other at once must not both wait for
/// the other to read, so no message may exceed what the sending socket buffers. Gloo's
/// Pair::send raises SO_SNDBUF to the message size before writing (the kernel doubles
/// it, capped by net.core.wmem_max, 212992 bytes by default on Linux), so a message of
/// up to 64 KiB fits locally even while the peer is writing too: an all-reduce runs in
/// pieces of kPieceFloats (64 KiB, the largest message), an all-gather takes at most
/// kGatherFloats (16 KiB) per rank. A host with wmem_max below 64 KiB could block both
/// ranks until --dist-timeout ends the run; QNN_DIST_SYNC=0 avoids this path.
class SyncCollectives {
 public:
  static constexpr int64_t kPieceFloats = 16384;
  static constexpr int64_t kGatherFloats = 4096;

  SyncCollectives(const c10::intrusive_ptr<c10d::Store>& store, std::shared_ptr<::gloo::transport::Device> device,
                  int rank, int world, std::chrono::milliseconds timeout)
      : m_store(std::make_shared<c10d::ProcessGroupGloo::GlooStore>(store)) {
    ::gloo::rendezvous::PrefixStore prefixed("qnn_sync", *m_store);
    auto context = std::make_shared<::gloo::rendezvous::Context>(rank, world);
    context->setTimeout(timeout);
    context->connectFullMesh(prefixed, device);
    for (int r = 0; r < world; ++r)
      if (r != rank) context->getPair(r)->setSync(true, false);  // blocking reads, no busy polling
    m_context = std::move(context);
  }

  /// In place, over the ranks: the sum (max = false) or the maximum. `t`: float32, contiguous.
  void allreduce(torch::Tensor& t, bool max) {
    std::lock_guard<std::mutex> lock(m_mutex);
    float* data = t.data_ptr<float>();
    const int64_t n = t.numel();
    for (int64_t at = 0; at < n; at += kPieceFloats) {
      const int64_t len = std::min(kPieceFloats, n - at);
      Entry& e = entry(max ? Kind::Max : Kind::Sum, len);
      std::memcpy(e.buffer.data(), data + at, size_t(len) * sizeof(float));
      e.algorithm->run();
      std::memcpy(data + at, e.buffer.data(), size_t(len) * sizeof(float));
    }
  }

  /// [world, numel] of every rank's `t` (float32, contiguous, numel <= kGatherFloats).
  torch::Tensor all_gather(const torch::Tensor& t) {
    std::lock_guard<std::mutex> lock(m_mutex);
    const int64_t n = t.numel();
    if (n == 0) return torch::empty({int64_t(m_context->size), 0}, torch::kFloat32);
    Entry& e = entry(Kind::Gather, n);
    std::memcpy(e.input.data(), t.data_ptr<float>(), size_t(n) * sizeof(float));
    e.algorithm->run();
    auto out = torch::empty({int64_t(m_context->size), n}, torch::kFloat32);
    std::memcpy(out.data_ptr<float>(), e.buffer.data(), e.buffer.size() * sizeof(float));
    return out;
  }

 private:
  enum class Kind { Sum, Max, Gather };
  struct Entry {
    std::vector<float> buffer, input;
    std::unique_ptr<::gloo::Algorithm> algorithm;
  };

  /// The algorithm for (kind, count), built at its first use; every rank builds them in
  /// the same order (the same calls), so their Gloo slots match.
  Entry& entry(Kind kind, int64_t count) {
    auto& e = m_entries[{int(kind), count}];
    if (e.algorithm) return e;
    const int c = int(std::max<int64_t>(count, 1));
    if (kind == Kind::Gather) {
      e.input.assign(size_t(c), 0.0f);
      e.buffer.assign(size_t(c) * size_t(m_context->size), 0.0f);
      e.algorithm = std::make_unique<::gloo::AllgatherRing<float>>(
          m_context, std::vector<const float*>{e.input.data()}, e.buffer.data(), c);
    } else {
      e.buffer.assign(size_t(c), 0.0f);
      const auto* fn = kind == Kind::Max ? ::gloo::ReductionFunction<float>::max : ::gloo::ReductionFunction<float>::sum;
      // Sums of 2 ranks: one exchange; a0 + a1 == a1 + a0 bit for bit, so both ranks agree.
      // Not a max: Gloo's max keeps each rank's own operand on ties of +0/-0 and against a
      // NaN, so the ranks could disagree; halving-doubling reduces each element on one rank.
      if (m_context->size == 2 && kind == Kind::Sum)
        e.algorithm = std::make_unique<::gloo::AllreduceRing<float>>(m_context, std::vector<float*>{e.buffer.data()}, c, fn);
      else
        e.algorithm = std::make_unique<::gloo::AllreduceHalvingDoubling<float>>(
            m_context, std::vector<float*>{e.buffer.data()}, c, fn);
    }
    return e;
  }

  std::shared_ptr<c10d::ProcessGroupGloo::GlooStore> m_store;
  std::shared_ptr<::gloo::Context> m_context;
  std::map<std::pair<int, int64_t>, Entry> m_entries;
  std::mutex m_mutex;
};

class GlooDataParallel final : public DataParallel {
 public:
  GlooDataParallel(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<c10d::ProcessGroupGloo> pg, int rank,
                   int world, bool check, double timeout_seconds, std::unique_ptr<SyncCollectives> sync)
      : m_store(std::move(store)),
        m_pg(std::move(pg)),
        m_sync(std::move(sync)),
        m_rank(rank),
        m_world(world),
        m_check(check),
        m_timeout(timeout_seconds) {}
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
      if (fast(t)) {
        run([&] { m_sync->allreduce(t, false); }, "all-reduce");
      } else {
        std::vector<at::Tensor> v{t};
        run([&] { m_pg->allreduce(v)->wait(); }, "all-reduce");
      }
      t.div_(double(m_world));
    }
  }
  torch::Tensor all_gather(const torch::Tensor& tensor) override {
    if (fast(tensor) && tensor.numel() <= SyncCollectives::kGatherFloats) {
      torch::Tensor out;
      run([&] { out = m_sync->all_gather(tensor); }, "all-gather");
      return out.view([&] {
        std::vector<int64_t> shape{int64_t(m_world)};
        for (int64_t d : tensor.sizes()) shape.push_back(d);
        return shape;
      }());
    }
    std::vector<at::Tensor> in{tensor.contiguous()};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < m_world; ++r) out[0].push_back(torch::empty_like(in[0]));
    run([&] { m_pg->allgather(out, in)->wait(); }, "all-gather");
    return torch::stack(out[0]);
  }
  void max(torch::Tensor& tensor) override {
    if (fast(tensor)) {
      run([&] { m_sync->allreduce(tensor, true); }, "all-reduce");
      return;
    }
    std::vector<at::Tensor> v{tensor};
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::MAX;
    run([&] { m_pg->allreduce(v, o)->wait(); }, "all-reduce");
  }

 private:
  /// The synchronous path takes it (SyncCollectives).
  bool fast(const torch::Tensor& t) const {
    return m_sync && t.scalar_type() == torch::kFloat32 && t.is_contiguous() && t.device().is_cpu();
  }
  template <class F>
  void run(F&& f, const char* what) {
    try {
      f();
    } catch (const std::exception& e) {
      const std::string who = "rank " + std::to_string(m_rank) + " of " + std::to_string(m_world);
      const std::string m = e.what();
      if (says_timeout(m)) {
        g_peer_lost = true;
        throw PeerLostError(who + ": another rank did not answer within --dist-timeout (" + seconds_text(m_timeout) +
                            ") in the " + what + " (a rank hung, was stopped, or is far slower than this one)");
      }
      if (says_connection_lost(m)) {
        g_peer_lost = true;
        throw PeerLostError(who + " lost the connection to another rank in the " + what +
                            " (a rank ended, crashed or was killed); this rank stops too");
      }
      throw ConfigError(who + ": the " + what + " with the other ranks failed (" + library_detail(m) + ")");
    }
  }
  c10::intrusive_ptr<c10d::Store> m_store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> m_pg;
  std::unique_ptr<SyncCollectives> m_sync;  ///< nullptr: everything through m_pg (QNN_DIST_SYNC=0)
  int m_rank, m_world;
  bool m_check;
  double m_timeout;
};

}  // namespace

bool dist_peer_lost() { return g_peer_lost; }

DistEnv read_dist_env() {
  // Every missing variable at once: a rank started by hand without torchrun's
  // environment usually lacks more than one.
  std::vector<std::string> missing;
  for (const char* name : {"MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK"}) {
    const char* v = std::getenv(name);
    if (!v || !*v) missing.push_back(name);
  }
  if (!missing.empty()) {
    std::string names;
    for (size_t i = 0; i < missing.size(); ++i)
      names += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + missing[i];
    throw ConfigError(std::string("--dist: the environment variable") + (missing.size() > 1 ? "s " : " ") + names +
                      (missing.size() > 1 ? " are" : " is") + " not set" + kEnvHint);
  }
  DistEnv e;
  e.master_addr = std::getenv("MASTER_ADDR");
  e.master_port = int(env_integer("MASTER_PORT", 1, 65535));
  e.world_size = int(env_integer("WORLD_SIZE", 1, 4096));
  e.rank = int(env_integer("RANK", 0, e.world_size - 1));
  return e;
}

std::unique_ptr<DataParallel> join_process_group(const DistEnv& env, double timeout_seconds, bool check) {
  if (!std::isfinite(timeout_seconds) || timeout_seconds < kMinDistTimeout || timeout_seconds > kMaxDistTimeout)
    throw ConfigError("--dist-timeout is " + seconds_text(timeout_seconds) + "; expected 0.1 to 1000000 s");
  quiet_library_logging();
  const auto timeout = std::chrono::milliseconds(int64_t(std::llround(timeout_seconds * 1000.0)));
  const auto deadline = Clock::now() + timeout;
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  const std::string me = "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size);
  const std::string within = " within --dist-timeout (" + seconds_text(timeout_seconds) + ")";
  auto devices = gloo_devices(env);  // its own errors name GLOO_SOCKET_IFNAME

  // 0. MASTER_ADDR: a name every rank must resolve; rank 0's store, which its own
  // client reaches at MASTER_ADDR, needs an address of rank 0's machine. Told at once,
  // not after --dist-timeout.
  const MasterAddr addr_kind = classify_master_addr(env.master_addr);
  if (addr_kind == MasterAddr::Unresolvable)
    throw ConfigError(me + ": MASTER_ADDR is '" + env.master_addr +
                      "', a host name this machine cannot resolve (check its spelling, /etc/hosts or DNS); "
                      "MASTER_ADDR names rank 0's machine");
  if (env.rank == 0 && addr_kind == MasterAddr::NotLocal)
    throw ConfigError(me + ": MASTER_ADDR is '" + env.master_addr +
                      "', which is not an address of this machine; rank 0 listens at MASTER_ADDR:MASTER_PORT, so "
                      "MASTER_ADDR must name rank 0's own machine (127.0.0.1 when every rank runs here)");

  // 1. The TCPStore: rank 0 listens at MASTER_ADDR:MASTER_PORT, the others connect.
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions so;
    so.port = uint16_t(env.master_port);
    so.isServer = env.rank == 0;
    so.numWorkers = size_t(env.world_size);
    so.waitWorkers = false;  // the joined/<rank> keys below name who is missing
    so.timeout = timeout;
    store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
  } catch (const std::exception& e) {
    const std::string m = lower(e.what());
    if (env.rank == 0) {
      if (m.find("address already in use") != std::string::npos)
        throw ConfigError(me + ": cannot listen at MASTER_ADDR:MASTER_PORT " + where +
                          kPortInUseWords + "; choose another MASTER_PORT");
      if (m.find("permission denied") != std::string::npos)
        throw ConfigError(me + ": cannot listen at MASTER_ADDR:MASTER_PORT " + where +
                          ": this user may not open MASTER_PORT (ports below 1024 need privileges); choose "
                          "MASTER_PORT from 1024 to 65535");
      if (m.find("connection refused") != std::string::npos || says_timeout(m))
        throw ConfigError(me + " listens at MASTER_PORT " + std::to_string(env.master_port) +
                          " but cannot connect to itself at MASTER_ADDR:MASTER_PORT " + where +
                          (says_timeout(m) ? within : std::string(" (connection refused)")) +
                          ": MASTER_ADDR must be an address of rank 0's machine that reaches it (a firewall may "
                          "block MASTER_PORT)");
      throw ConfigError(me + ": cannot listen at MASTER_ADDR:MASTER_PORT " + where +
                        ": MASTER_ADDR must be an address of rank 0's machine and MASTER_PORT a free port of it");
    }
    g_peer_lost = true;  // rank 0 is missing: a consequence for this rank
    throw PeerLostError(me + " could not reach rank 0 at MASTER_ADDR:MASTER_PORT " + where + within +
                        " (rank 0 did not start or failed first, or MASTER_ADDR / MASTER_PORT are wrong or blocked)");
  }

  // 2. Every rank announces itself (joined/<rank>) and waits for all the others.
  std::vector<std::string> keys;
  for (int r = 0; r < env.world_size; ++r) keys.push_back("joined/" + std::to_string(r));
  try {
    store->set(keys[size_t(env.rank)], std::vector<uint8_t>{1});
    while (!store->check(keys)) {
      if (Clock::now() >= deadline) {
        std::vector<int> missing;
        for (int r = 0; r < env.world_size; ++r)
          if (!store->check({keys[size_t(r)]})) missing.push_back(r);
        g_peer_lost = true;
        throw PeerLostError(std::string(missing.size() == 1 ? "rank " : "ranks ") + rank_list(missing) + " of " +
                            std::to_string(env.world_size) + " did not join" + within + " at " + where +
                            " (not started, failed before joining, or cannot reach MASTER_ADDR)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } catch (const PeerLostError&) {
    throw;
  } catch (const std::exception&) {
    g_peer_lost = true;
    throw PeerLostError(me + " lost the connection to rank 0's store at " + where +
                        " while the ranks joined (rank 0 ended or crashed)");
  }

  // 3. The Gloo connections between every pair of ranks.
  try {
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);  // also each collective's bound
    const auto device = devices.front();
    opts->devices = std::move(devices);
    opts->threads = 1;
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, opts);
    // Rank 0's choice for all: a rank without the second context would leave the others
    // waiting for its connections until --dist-timeout.
    bool sync_on = false;
    if (env.rank == 0) {
      sync_on = sync_collectives_enabled();
      store->set("qnn/sync_collectives", std::vector<uint8_t>{uint8_t(sync_on ? 1 : 0)});
    } else {
      const std::vector<uint8_t> v = store->get("qnn/sync_collectives");
      sync_on = !v.empty() && v[0] == 1;
    }
    std::unique_ptr<SyncCollectives> sync;
    if (sync_on)
      sync = std::make_unique<SyncCollectives>(store, device, env.rank, env.world_size, timeout);
    return std::make_unique<GlooDataParallel>(store, pg, env.rank, env.world_size, check, timeout_seconds,
                                              std::move(sync));
  } catch (const std::exception& e) {
    g_peer_lost = true;
    throw PeerLostError(me + ": every rank joined at " + where + ", but the Gloo connections between the ranks failed" +
                        (says_timeout(e.what()) ? " to open" + within : std::string()) +
                        " (on several machines, set GLOO_SOCKET_IFNAME to the network interface they reach each "
                        "other on)");
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
