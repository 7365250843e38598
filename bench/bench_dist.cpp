// SPDX-License-Identifier: GPL-3.0-or-later
// qnn_bench_dist: data-parallel training throughput (issue 17): one epoch of N steps of
// the same global batch on 1 rank x 1 thread (`qnn train`) and on 2 ranks x 1 thread
// (`qnn launch --nproc 2`), plus 1 rank at the per-rank batch (the work of one rank
// without communication), from the epoch times `qnn` prints; and the communication
// itself: all-reduce of a gradient bucket of the model's size and of a scalar (an
// activation-quantizer statistic) between 2 local processes over Gloo. See
// bench/README.md "Data-parallel training".
#include <sys/wait.h>
#include <unistd.h>

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

/// Every collective `reps` times between 2 forked local ranks; rank 0 prints.
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
  qnn::DistEnv env;
  env.master_addr = "127.0.0.1";
  env.master_port = port;
  env.world_size = 2;
  env.rank = rank;
  const auto dp = qnn::join_process_group(env, 60.0, false);
  std::vector<torch::Tensor> bucket{torch::randn({parameters})};
  std::vector<torch::Tensor> scalar{torch::randn({})};
  const auto time = [&](std::vector<torch::Tensor>& t) {
    dp->average(t);  // warm-up
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < o.reps; ++i) dp->average(t);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / o.reps;
  };
  const double b = time(bucket), s = time(scalar);
  if (rank == 0) {
    std::printf("all-reduce of the gradient bucket (%lld float32, %.1f KiB): %.3f ms\n",
                static_cast<long long>(parameters), double(parameters) * 4.0 / 1024.0, b * 1e3);
    std::printf("all-reduce of one statistic (scalar): %.1f us\n", s * 1e6);
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
    else {
      std::cerr << "usage: qnn_bench_dist [--project=P] [--steps=N] [--batch=B (per rank)] [--reps=N]\n";
      return 2;
    }
  }
  const std::string qnn = QNN_CLI_PATH;
  const int global = 2 * o.batch;
  const std::string common = " --epochs 1 --max-batches " + std::to_string(o.steps) + " --train-limit " +
                             std::to_string(global * o.steps) + " --test-limit 100 --threads 1 --no-autosave";
  std::printf("project %s, %d steps, global batch %d, 1 thread per rank, %u cores\n", o.project.c_str(), o.steps,
              global, std::thread::hardware_concurrency());

  const double one = epoch_seconds(run(qnn + " train " + o.project + " --batch-size " + std::to_string(global) + common));
  const double two = epoch_seconds(
      run(qnn + " launch --nproc 2 " + o.project + " --batch-size " + std::to_string(o.batch) + common + " 2>/dev/null"));
  const double half = epoch_seconds(run(qnn + " train " + o.project + " --batch-size " + std::to_string(o.batch) + common));
  const double samples = double(global) * o.steps;
  std::printf("1 rank  x batch %3d: %6.2f s, %7.0f samples/s, %6.2f ms/step\n", global, one, samples / one,
              one / o.steps * 1e3);
  std::printf("2 ranks x batch %3d: %6.2f s, %7.0f samples/s, %6.2f ms/step  (speed-up %.2fx)\n", o.batch, two,
              samples / two, two / o.steps * 1e3, one / two);
  std::printf("1 rank  x batch %3d: %6.2f s (one rank's share of the work, no communication): %6.2f ms/step\n",
              o.batch, half, half / o.steps * 1e3);
  std::printf("data-parallel overhead per step (2 ranks - 1 rank at batch %d): %.2f ms\n", o.batch,
              (two - half) / o.steps * 1e3);

  const qnn::Project p = qnn::load_project(o.project);
  auto model = qnn::build_model(p);
  int64_t parameters = 0;
  for (const auto& t : model->parameters()) parameters += t.numel();
  time_collectives(o, parameters);
  return 0;
}
