// SPDX-License-Identifier: GPL-3.0-or-later
// qnn_bench_dist: data-parallel training throughput (issue 17): one epoch of N steps of
// the same global batch on 1 rank x 1 thread (`qnn train`) and on 2 ranks x 1 thread
// (`qnn launch --nproc 2`), plus 1 rank at the per-rank batch (the work of one rank
// without communication) alone and two of them at once (both cores busy: the ceiling of
// 2 ranks on 2 cores), from the epoch times `qnn` prints; and the communication
// itself: all-reduce of a gradient bucket of the model's size and of a scalar (an
// activation-quantizer statistic) between 2 local processes over Gloo. The 2-rank run is
// timed with the gradient all-reduce after backward in one flat bucket
// (QNN_DIST_BUCKET_KIB=0) and overlapped with backward in buckets (--bucket-kib, 128), and
// each rank's wall time in collectives comes from QNN_DIST_PROFILE=1. See
// bench/README.md "Data-parallel training".
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "core/dist/process_group.h"
#include "core/graph/model.h"
#include "core/graph/project.h"

namespace {

struct Options {
  std::string project = std::string(QNN_SOURCE_DIR) + "/resources/examples/lenet5_classic.qnn.json";
  int steps = 300;
  int batch = 32;  ///< per rank; the global batch is 2x
  int reps = 300;  ///< collectives timed in the communication part
  int repeat = 3;  ///< interleaved repetitions of the training runs (the machine's load drifts)
  int bucket_kib = 128;  ///< QNN_DIST_BUCKET_KIB of the overlapped run
  bool comm_only = false;  ///< only the collectives, no training runs
};

/// Runs a shell command; returns its stdout (stderr passes through).
std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  if (status != 0) std::cerr << "qnn_bench_dist: '" << cmd << "' failed (status " << status << ")\n" << out;
  return out;
}

/// Seconds of "epoch 1/1 ... 12.3s".
double epoch_seconds(const std::string& out) {
  std::smatch m;
  static const std::regex re("epoch 1/1 .* ([0-9.]+)s");
  if (!std::regex_search(out, m, re)) return -1.0;
  return std::stod(m[1]);
}

/// The longest "epoch 1/1 ... 12.3s" of several runs' output.
double longest_epoch_seconds(const std::string& out) {
  static const std::regex re("epoch 1/1 .* ([0-9.]+)s");
  double longest = -1.0;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator(); ++it)
    longest = std::max(longest, std::stod((*it)[1]));
  return longest;
}

/// Rank 0's "dist profile rank 0: ...; per step X ms in collectives: statistics S ms
/// (...), gradients G ms, ..." (QNN_DIST_PROFILE=1): {X, S, G}, or -1s.
struct Profile {
  double total = -1.0, statistics = -1.0, gradients = -1.0;
};
Profile profile(const std::string& out) {
  std::smatch m;
  static const std::regex re(
      "dist profile rank 0: .*per step ([0-9.]+) ms in collectives: statistics ([0-9.]+) ms .*gradients ([0-9.]+) ms");
  Profile p;
  if (!std::regex_search(out, m, re)) return p;
  p.total = std::stod(m[1]);
  p.statistics = std::stod(m[2]);
  p.gradients = std::stod(m[3]);
  return p;
}

/// "best / median (min-max)" of positive values.
struct Spread {
  double best = -1.0, median = -1.0, worst = -1.0;
};
Spread spread(std::vector<double> v) {
  Spread s;
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return x <= 0.0; }), v.end());
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.best = v.front();
  s.worst = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  return s;
}

double load_average() {
  double l = -1.0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = -1.0;
    std::fclose(f);
  }
  return l;
}

/// Every collective `reps` times between 2 forked local ranks; rank 0 prints. Twice: through
/// ProcessGroupGloo (QNN_DIST_SYNC=0: its worker thread and Gloo's network loop thread),
/// then on the calling thread (the default, core/dist/process_group.cpp SyncCollectives).
void time_collectives(const Options& o, int64_t parameters) {
  const int port = 29000 + int(::getpid() % 2000);
  pid_t child = -1;
  int rank = 0;
  for (int r = 1; r < 2; ++r) {
    child = ::fork();
    if (child == 0) {
      rank = r;
      break;
    }
  }
  torch::set_num_threads(1);
  for (const char* sync : {"0", "1"}) {
    ::setenv("QNN_DIST_SYNC", sync, 1);
    qnn::DistEnv env;
    env.master_addr = "127.0.0.1";
    env.master_port = port + (sync[0] == '1' ? 1 : 0);
    env.world_size = 2;
    env.rank = rank;
    const auto dp = qnn::join_process_group(env, 60.0, false);
    std::vector<torch::Tensor> bucket{torch::randn({parameters})};
    std::vector<torch::Tensor> scalar{torch::randn({1})};
    const auto gather_in = torch::randn({64});
    const auto time = [&](const auto& f) {
      f();  // warm-up
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < o.reps; ++i) f();
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / o.reps;
    };
    const double b = time([&] { dp->average(bucket); });
    const double s = time([&] { dp->average(scalar); });
    const double m = time([&] { dp->max(scalar[0]); });
    const double g = time([&] { (void)dp->all_gather(gather_in); });
    if (rank == 0) {
      std::printf("%s:\n", sync[0] == '0' ? "through ProcessGroupGloo (QNN_DIST_SYNC=0)"
                                           : "on the calling thread (synchronous Gloo pairs, the default)");
      std::printf("  all-reduce of the gradient bucket (%lld float32, %.1f KiB): %.3f ms\n",
                  static_cast<long long>(parameters), double(parameters) * 4.0 / 1024.0, b * 1e3);
      std::printf("  all-reduce of one float (sum / max, the stop agreement): %.1f / %.1f us\n", s * 1e6, m * 1e6);
      std::printf("  all-gather of 64 floats (a percentile's candidates): %.1f us\n", g * 1e6);
      std::fflush(stdout);
    }
  }
  if (child == 0) std::_Exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(1);  // no thread pool before the fork in time_collectives()
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--project=", 0) == 0) o.project = a.substr(10);
    else if (a.rfind("--steps=", 0) == 0) o.steps = std::atoi(a.c_str() + 8);
    else if (a.rfind("--batch=", 0) == 0) o.batch = std::atoi(a.c_str() + 8);
    else if (a.rfind("--reps=", 0) == 0) o.reps = std::atoi(a.c_str() + 7);
    else if (a.rfind("--repeat=", 0) == 0) o.repeat = std::max(1, std::atoi(a.c_str() + 9));
    else if (a.rfind("--bucket-kib=", 0) == 0) o.bucket_kib = std::max(1, std::atoi(a.c_str() + 13));
    else if (a == "--comm-only") o.comm_only = true;
    else {
      std::cerr << "usage: qnn_bench_dist [--project=P] [--steps=N] [--batch=B (per rank)] [--reps=N] [--repeat=N] "
                   "[--bucket-kib=K] [--comm-only]\n";
      return 2;
    }
  }
  if (o.comm_only) {
    const qnn::Project p = qnn::load_project(o.project);
    int64_t parameters = 0;
    for (const auto& t : qnn::build_model(p)->parameters()) parameters += t.numel();
    time_collectives(o, parameters);
    return 0;
  }
  const std::string qnn = QNN_CLI_PATH;
  const int global = 2 * o.batch;
  const std::string common = " --epochs 1 --max-batches " + std::to_string(o.steps) + " --train-limit " +
                             std::to_string(global * o.steps) + " --test-limit 100 --threads 1 --no-autosave";
  std::printf("project %s, %d steps, global batch %d, 1 thread per rank, %u cores\n", o.project.c_str(), o.steps,
              global, std::thread::hardware_concurrency());

  // Interleaved repetitions; the best (least disturbed) run of each kind is the figure,
  // the median and the spread show the machine's load.
  const std::string train1 = qnn + " train " + o.project + common + " --batch-size ";
  const std::string launch =
      "QNN_DIST_PROFILE=1 " + qnn + " launch --nproc 2 " + o.project + common + " --batch-size " + std::to_string(o.batch);
  std::vector<double> ones, flats, overs, halves, pairs, flat_comm, over_comm, flat_stats, over_grad, flat_grad, loads;
  for (int r = 0; r < o.repeat; ++r) {
    loads.push_back(load_average());
    ones.push_back(epoch_seconds(run(train1 + std::to_string(global))));
    const std::string f = run("QNN_DIST_BUCKET_KIB=0 " + launch + " 2>&1");
    const std::string v = run("QNN_DIST_BUCKET_KIB=" + std::to_string(o.bucket_kib) + " " + launch + " 2>&1");
    halves.push_back(epoch_seconds(run(train1 + std::to_string(o.batch))));
    // Two independent 1 x batch runs at once: both cores busy, no communication.
    pairs.push_back(longest_epoch_seconds(
        run("(" + train1 + std::to_string(o.batch) + " & " + train1 + std::to_string(o.batch) + " & wait)")));
    flats.push_back(epoch_seconds(f));
    overs.push_back(epoch_seconds(v));
    const Profile pf = profile(f), pv = profile(v);
    flat_comm.push_back(pf.total);
    over_comm.push_back(pv.total);
    flat_stats.push_back(pf.statistics);
    flat_grad.push_back(pf.gradients);
    over_grad.push_back(pv.gradients);
    std::printf("run %d (load %.2f): 1x%d %.2f s | 2x%d flat %.2f s (collectives %.2f ms/step) | overlapped %.2f s "
                "(collectives %.2f ms/step, gradient wait %.2f ms/step) | 1x%d %.2f s | 2 x (1x%d) at once %.2f s\n",
                r + 1, loads.back(), global, ones.back(), o.batch, flats.back(), pf.total, overs.back(), pv.total,
                pv.gradients, o.batch, halves.back(), o.batch, pairs.back());
    std::fflush(stdout);
  }
  const double samples = double(global) * o.steps;
  const auto line = [&](const char* what, const std::vector<double>& t) {
    const Spread s = spread(t);
    std::printf("%-44s best %6.2f s (%5.0f samples/s, %5.2f ms/step), median %6.2f s, spread %.2f-%.2f s\n", what,
                s.best, samples / s.best, s.best / o.steps * 1e3, s.median, s.best, s.worst);
    return s;
  };
  std::printf("%d interleaved run(s), load average %.2f-%.2f:\n", o.repeat, spread(loads).best, spread(loads).worst);
  char w[64], f2[80], v2[80], h[96], h2[96];
  std::snprintf(w, sizeof w, "1 rank  x batch %d:", global);
  std::snprintf(f2, sizeof f2, "2 ranks x batch %d, flat after backward:", o.batch);
  std::snprintf(v2, sizeof v2, "2 ranks x batch %d, overlapped buckets:", o.batch);
  std::snprintf(h, sizeof h, "1 rank  x batch %d (no communication):", o.batch);
  std::snprintf(h2, sizeof h2, "2 independent 1 x batch %d at once:", o.batch);
  const Spread one = line(w, ones), flat = line(f2, flats), over = line(v2, overs), half = line(h, halves),
               pair = line(h2, pairs);
  std::printf("speed-up (best / median): flat %.2fx / %.2fx, overlapped %.2fx / %.2fx\n", one.best / flat.best,
              one.median / flat.median, one.best / over.best, one.median / over.median);
  std::printf("upper bound without communication (1 x %d / 1 x %d): %.2fx; with both cores busy (1 x %d / 2 "
              "independent 1 x %d at once): %.2fx\n",
              global, o.batch, one.best / half.best, global, o.batch, one.best / pair.best);
  std::printf("data-parallel overhead per step (best 2 ranks - best 1 x %d): flat %.2f ms, overlapped %.2f ms; "
              "of which communication (best 2 ranks - best 2 independent at once): flat %.2f ms, overlapped %.2f ms\n",
              o.batch, (flat.best - half.best) / o.steps * 1e3, (over.best - half.best) / o.steps * 1e3,
              (flat.best - pair.best) / o.steps * 1e3, (over.best - pair.best) / o.steps * 1e3);
  std::printf("rank 0 in collectives per step (median): flat %.2f ms (statistics %.2f, gradients %.2f), "
              "overlapped %.2f ms (gradient wait after backward %.2f)\n",
              spread(flat_comm).median, spread(flat_stats).median, spread(flat_grad).median, spread(over_comm).median,
              spread(over_grad).median);

  const qnn::Project p = qnn::load_project(o.project);
  auto model = qnn::build_model(p);
  int64_t parameters = 0;
  for (const auto& t : model->parameters()) parameters += t.numel();
  time_collectives(o, parameters);
  return 0;
}
