// SPDX-License-Identifier: GPL-3.0-or-later
#include "bench/bench_sweep.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "bench/bench_models.h"
#include "core/analysis/analysis.h"
#include "core/data/dataset.h"
#include "core/graph/model.h"
#include "core/train/trainer.h"

namespace qnn::bench {

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace

int run_sweep_bench(const std::string& examples_dir, int threads) {
  std::printf("qnn_bench --filter=sweep: sensitivity sweep of lenet_lowprec, %d threads, load average %s\n\n",
              threads, loadavg().c_str());
  const Project p = load_example(examples_dir, "lowprec");
  auto t0 = std::chrono::steady_clock::now();
  const Dataset train = load_dataset(p.dataset, true);
  const Dataset test = load_dataset(p.dataset, false);
  const double t_load = since(t0);
  set_thread_count(threads);
  torch::manual_seed(p.training.seed);
  QuantModel model = build_model(p);
  TrainOptions opt;
  opt.spec = p.training;
  opt.spec.epochs = 1;
  opt.spec.threads = threads;
  opt.progress_interval_ms = 1000;
  std::atomic<bool> cancel{false};
  t0 = std::chrono::steady_clock::now();
  const TrainResult tr = train_model(model, train, test, opt, nullptr, cancel);
  const double t_train = since(t0);
  std::printf("data %.2f s, one training epoch %.1f s (test accuracy %.4f)\n\n", t_load, t_train, tr.test.accuracy);

  {
    Dataset held = test;
    held.images = test.images.narrow(0, 0, 2000);
    held.labels = test.labels.narrow(0, 0, 2000);
    evaluate(model, held, 256);  // warm-up
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) evaluate(model, held, 256);
    const double t_eval = since(t0) / 5;
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) build_model(p);
    std::printf("one evaluation of 2,000 images %.3f s, one build_model %.4f s\n\n", t_eval, since(t0) / 5);
  }
  std::printf("| sweep | slots | bits | points | holdout | seconds | s/point | base acc |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const analysis::QuantKind what : {analysis::QuantKind::Weights, analysis::QuantKind::Activations}) {
    analysis::SweepOptions o;
    o.min_bits = 2;
    o.max_bits = 8;
    o.what = what;
    o.holdout = 2000;
    t0 = std::chrono::steady_clock::now();
    const SweepRecord r = analysis::run_sweep(p, model, train, test, o);
    const double t = since(t0);
    std::printf("| %s | %zu | %d..%d | %zu | %lld | %.2f | %.3f | %.4f |\n", r.what.c_str(), r.slots.size(), r.min_bits,
                r.max_bits, r.points.size(), static_cast<long long>(r.holdout), t, t / double(r.points.size() + 1),
                r.base_accuracy);
    std::fflush(stdout);
    if (what == analysis::QuantKind::Weights) {
      t0 = std::chrono::steady_clock::now();
      const std::vector<analysis::MixedConfig> front = analysis::pareto_front(r, p);
      std::printf("|   pareto front (size) | | | %zu configs on the front | | %.2f | | |\n", front.size(), since(t0));
    }
  }
  std::printf("\nload average at the end %s\n", loadavg().c_str());
  return 0;
}

}  // namespace qnn::bench
