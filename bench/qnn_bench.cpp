// SPDX-License-Identifier: GPL-3.0-or-later
// qnn_bench: throughput of quantization-aware training against plain LibTorch float.
//
//   qnn_bench [--quick] [--filter=REGEX] [--threads=1,2] [--batches=64,256]
//             [--windows=N] [--window-ms=MS] [--examples=DIR]
//   qnn_bench --epoch [--filter=REGEX] [--epoch-threads=N]
//   qnn_bench --digest [--threads=1,2] [--digest-steps=N]
//   qnn_bench --loop=MODEL,MODE,BATCH,STEPS [--threads=N]
//
// Default mode: for every thread count, fresh networks are built (the example projects,
// the plain LibTorch LeNet "torch_float" and "torch_float_dx", the same with the input
// gradient that an input quantizer needs), then three groups of cases are timed per
// batch size: "train-stats" (training steps while the activation quantizers still
// collect runtime statistics, i.e. the first 300 calls), "train-learned" (training
// steps after the switch to the learned scale, reached by real training steps), and
// "eval" (forward under NoGradGuard in eval mode). Windows of k steps are run
// round-robin over the networks of a group, so machine load hits all of them alike;
// images/s is the median over windows and the QAT/float ratio is the median of the
// per-window time ratios against torch_float. "torch_float_fc" is torch_float with the
// fully connected layers on QNN Studio's kernel (core/nn/linear_kernel.h) instead of
// the installed BLAS; the "vs float_fc" column is the ratio against it, i.e. the cost
// of quantization alone. Inputs are synthetic (randn images of the real shape
// [N, 1, 32, 32], random labels).
// A second family times the classic LeNet-5 (resources/examples/lenet5_classic.qnn.json:
// QuantTanh, TruncAvgPool2d, Int32Bias; model "classic") against its own float twin in
// plain LibTorch ("torch_float_classic", tanh and average pooling, and
// "torch_float_classic_dx" with the input gradient), in a table of its own after the
// first (issue 11 target: QAT step <= 1.3x). See bench/README.md.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "bench/bench_models.h"
#include "bench/bench_sweep.h"
#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/train/trainer.h"

namespace qnn::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Options {
  bool quick = false, epoch = false, digest = false;
  bool all = false;  ///< the step tables, then one epoch per --threads entry (issue 13: one run)
  bool default_malloc = false;  ///< keep glibc's adaptive malloc thresholds (before/after runs)
  std::string loop;  ///< "model,mode,batch,steps": run only that, for perf/callgrind
  std::string profile;  ///< with --loop: write LibTorch's profiler trace (Chrome JSON) here
  std::string filter;  ///< regex over case names "mode/model/bN/tN"; empty: all
  std::vector<int> threads{1, 2};
  std::vector<int64_t> batches{64, 256};
  int windows = 7;
  double window_ms = 200.0;
  int epoch_threads = 2;
  int digest_steps = 320;
  std::string examples = QNN_SOURCE_DIR "/resources/examples";
  std::vector<std::string> projects{"float", "weights3", "lowprec", "w4a4_int32bias"};
};

template <typename T>
std::vector<T> parse_list(const std::string& s) {
  std::vector<T> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(static_cast<T>(std::stoll(item)));
  if (out.empty()) throw ConfigError("empty list '" + s + "'");
  return out;
}

/// One positive integer, the whole of `s` (so '1,2' is refused, not read as 1).
int parse_positive(const std::string& option, const std::string& s) {
  size_t used = 0;
  int v = 0;
  try {
    v = std::stoi(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || v < 1) throw ConfigError(option + " wants one positive integer, got '" + s + "'");
  return v;
}

void usage() {
  std::cout <<
      "usage: qnn_bench [--quick] [--filter=REGEX] [--threads=1,2] [--batches=64,256]\n"
      "                 [--windows=N] [--window-ms=MS] [--examples=DIR]\n"
      "       qnn_bench --epoch [--filter=REGEX] [--epoch-threads=N]\n"
      "       qnn_bench --all [--threads=1,2] ...   (the step tables, then an epoch per thread count)\n"
      "       qnn_bench --digest [--threads=1,2] [--digest-steps=N]\n"
      "       qnn_bench --loop=MODEL,MODE,BATCH,STEPS [--threads=N] [--profile=TRACE.json]\n"
      "                 (for perf / callgrind; --profile: LibTorch's op profiler, Chrome trace)\n"
      "--default-malloc keeps glibc's adaptive malloc thresholds instead of train_model's.\n"
      "Case names for --filter: train-stats|train-learned|eval / model / bBATCH / tTHREADS,\n"
      "e.g. --filter='train-learned/lowprec/b64' (torch_float always runs as the reference).\n"
      "Models: torch_float, torch_float_dx, torch_float_fc, float, weights3, lowprec, w4a4_int32bias;\n"
      "classic (lenet5_classic.qnn.json), timed against torch_float_classic, torch_float_classic_dx,\n"
      "torch_float_classic_fc. *_fc: the float net with QNN Studio's fully connected kernel.\n"
      "Epoch cases are named epoch/<model>/tN.\n"
      "--filter=sweep: the sensitivity sweep of lowprec after one epoch (sweep/lowprec/tN, N = last --threads).\n";
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto val = [&](const char* key) -> std::string {
      const std::string k = std::string(key) + "=";
      return a.rfind(k, 0) == 0 ? a.substr(k.size()) : std::string();
    };
    if (a == "--quick") o.quick = true;
    else if (a == "--epoch") o.epoch = true;
    else if (a == "--all") o.all = true;
    else if (a == "--digest") o.digest = true;
    else if (a == "--default-malloc") o.default_malloc = true;
    else if (a == "--help" || a == "-h") { usage(); std::exit(0); }
    else if (!val("--filter").empty()) o.filter = val("--filter");
    else if (!val("--threads").empty()) o.threads = parse_list<int>(val("--threads"));
    else if (!val("--batches").empty()) o.batches = parse_list<int64_t>(val("--batches"));
    else if (!val("--windows").empty()) o.windows = parse_positive("--windows", val("--windows"));
    else if (!val("--window-ms").empty()) o.window_ms = std::max(1.0, std::stod(val("--window-ms")));
    else if (!val("--examples").empty()) o.examples = val("--examples");
    else if (!val("--epoch-threads").empty()) o.epoch_threads = parse_positive("--epoch-threads", val("--epoch-threads"));
    else if (!val("--digest-steps").empty()) o.digest_steps = parse_positive("--digest-steps", val("--digest-steps"));
    else if (!val("--loop").empty()) o.loop = val("--loop");
    else if (!val("--profile").empty()) o.profile = val("--profile");
    else throw ConfigError("unknown argument '" + a + "' (see --help)");
  }
  if (!o.profile.empty() && o.loop.empty()) throw ConfigError("--profile needs --loop=MODEL,MODE,BATCH,STEPS");
  if (o.quick) {
    o.windows = std::min(o.windows, 3);
    o.window_ms = std::min(o.window_ms, 80.0);
  }
  return o;
}

/// The glibc malloc thresholds train_model() sets (core/train/trainer.cpp), applied
/// to the whole process so every net, float reference included, runs as in training.
void use_training_allocator_settings() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

bool matches(const Options& o, const std::string& name) {
  return o.filter.empty() || std::regex_search(name, std::regex(o.filter));
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// ------------------------------------------------------------------ step benchmark

enum class Mode { TrainStats, TrainLearned, Eval };

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::TrainStats: return "train-stats";
    case Mode::TrainLearned: return "train-learned";
    case Mode::Eval: return "eval";
  }
  return "?";
}

/// The target for a case (QAT/float time ratio), or 0 when there is none: issue 13 for
/// the LeNet projects (low-precision training step <= 1.15x, weights-only 3-bit <=
/// 1.05x, eval of the quantized projects <= 1.0x; issue 6 had 1.3x / 1.15x / 1.2x),
/// issue 11 for the classic LeNet-5 (training step only, <= 1.3x).
double target_for(Mode m, const std::string& model) {
  if (model == "classic") return m == Mode::Eval ? 0.0 : 1.3;
  if (model.rfind("torch_float", 0) == 0) return 0.0;
  if (m == Mode::Eval) return model == "float" ? 0.0 : 1.0;
  if (model == "lowprec") return 1.15;
  if (model == "weights3") return 1.05;
  return 0.0;
}

struct Row {
  std::string mode, model;
  int64_t batch = 0;
  int threads = 0, steps = 0;
  double ips = 0, ips_min = 0, ips_max = 0, ratio = 0, target = 0;
  double ratio_dx = 0;  ///< time ratio against the reference's "_dx" twin when it ran in the group, else 0
  double ratio_fc = 0;  ///< time ratio against the reference's "_fc" twin when it ran in the group, else 0
  bool reference = false, dx_twin = false;  ///< the group's reference / its input-gradient twin
  bool fc_twin = false;  ///< the reference with QNN Studio's fully connected kernel
};

/// The nets of one family; [0] is the reference of every ratio, [1] the same net with the
/// input gradient (named like [0] with "_dx").
struct Nets {
  std::vector<std::unique_ptr<BenchNet>> all;
};

/// A family of nets timed against one float reference, with its own table.
struct Family {
  std::vector<std::string> models;  ///< [0] reference, [1] its "_dx" twin, then the QAT nets
  Nets (*build)(const Options&);
};

Nets build_nets(const Options& o) {
  Nets n;
  torch::manual_seed(0);
  n.all.push_back(BenchNet::torch_float());
  torch::manual_seed(0);
  n.all.push_back(BenchNet::torch_float(/*input_grad=*/true));
  torch::manual_seed(0);
  n.all.push_back(BenchNet::torch_float(/*input_grad=*/false, /*exact_fc=*/true));
  for (const std::string& p : o.projects) {
    torch::manual_seed(0);
    n.all.push_back(BenchNet::from_project(p, load_example(o.examples, p)));
  }
  return n;
}

/// The classic LeNet-5 (issue 11) and its float twin.
Nets build_classic_nets(const Options& o) {
  Nets n;
  torch::manual_seed(0);
  n.all.push_back(BenchNet::torch_float_classic());
  torch::manual_seed(0);
  n.all.push_back(BenchNet::torch_float_classic(/*input_grad=*/true));
  torch::manual_seed(0);
  n.all.push_back(BenchNet::torch_float_classic(/*input_grad=*/false, /*exact_fc=*/true));
  torch::manual_seed(0);
  n.all.push_back(BenchNet::from_project("classic", load_example(o.examples, "classic")));
  return n;
}

void run_one(BenchNet& net, Mode m, const torch::Tensor& x, const torch::Tensor& y) {
  if (m == Mode::Eval)
    net.eval_forward(x);
  else
    net.train_step(x, y);
}

/// Times one group (mode, batch, threads) over the selected nets; nets[0] is the reference.
/// `max_steps` > 0 caps the calls per net (statistics phase budget).
std::vector<Row> run_group(const Options& o, std::vector<BenchNet*> nets, Mode m, int64_t batch,
                           int threads, int max_steps) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(uint64_t(batch) * 7919u + 17u);
  const torch::Tensor x = torch::randn({batch, 1, 32, 32}, gen);
  const torch::Tensor y = torch::randint(0, 10, {batch}, gen, torch::kInt64);
  for (BenchNet* n : nets) n->set_training(m != Mode::Eval);

  const int warmup = 2;
  for (BenchNet* n : nets)
    for (int i = 0; i < warmup; ++i) run_one(*n, m, x, y);
  // Steps per window from the reference's step time (nets[0] has no statistics).
  const auto tc = Clock::now();
  for (int i = 0; i < 3; ++i) run_one(*nets[0], m, x, y);
  const double ref_step = seconds_since(tc) / 3.0;
  int k = std::max(1, int(std::lround(o.window_ms / 1000.0 / ref_step)));
  if (max_steps > 0) k = std::max(1, std::min(k, (max_steps - warmup) / o.windows));

  std::vector<std::vector<double>> secs(nets.size(), std::vector<double>(size_t(o.windows)));
  for (int r = 0; r < o.windows; ++r) {
    for (size_t j = 0; j < nets.size(); ++j) {
      const size_t i = (j + size_t(r)) % nets.size();  // rotate the order per round
      const auto t0 = Clock::now();
      for (int s = 0; s < k; ++s) run_one(*nets[i], m, x, y);
      secs[i][size_t(r)] = seconds_since(t0);
    }
  }
  for (BenchNet* n : nets) n->set_training(true);

  std::vector<Row> rows;
  size_t dx = 0, fc = 0;  // index of the reference's "_dx" / "_fc" twin in this group, 0 = absent
  for (size_t i = 1; i < nets.size(); ++i) {
    if (nets[i]->name == nets[0]->name + "_dx") dx = i;
    if (nets[i]->name == nets[0]->name + "_fc") fc = i;
  }
  for (size_t i = 0; i < nets.size(); ++i) {
    Row row;
    row.mode = mode_name(m);
    row.model = nets[i]->name;
    row.batch = batch;
    row.threads = threads;
    row.steps = k;
    const double imgs = double(k) * double(batch);
    row.ips = imgs / median(secs[i]);
    row.ips_min = imgs / *std::max_element(secs[i].begin(), secs[i].end());
    row.ips_max = imgs / *std::min_element(secs[i].begin(), secs[i].end());
    std::vector<double> ratios;
    for (int r = 0; r < o.windows; ++r) ratios.push_back(secs[i][size_t(r)] / secs[0][size_t(r)]);
    row.ratio = median(ratios);
    if (dx > 0) {
      std::vector<double> r_dx;
      for (int r = 0; r < o.windows; ++r) r_dx.push_back(secs[i][size_t(r)] / secs[dx][size_t(r)]);
      row.ratio_dx = median(r_dx);
    }
    if (fc > 0) {
      std::vector<double> r_fc;
      for (int r = 0; r < o.windows; ++r) r_fc.push_back(secs[i][size_t(r)] / secs[fc][size_t(r)]);
      row.ratio_fc = median(r_fc);
    }
    row.target = target_for(m, row.model);
    row.reference = i == 0;
    row.dx_twin = dx > 0 && i == dx;
    row.fc_twin = fc > 0 && i == fc;
    rows.push_back(row);
  }
  return rows;
}

void print_header() {
  std::printf("| mode | batch | thr | model | img/s median | img/s min-max | ms/step | QAT/float | target | vs float_dx "
              "| vs float_fc |\n");
  std::printf("|---|---:|---:|---|---:|---:|---:|---:|---|---:|---:|\n");
}

void print_row(const Row& r) {
  std::string target = "-";
  if (r.target > 0) {
    char b[48];
    std::snprintf(b, sizeof b, "<= %.2f %s", r.target, r.ratio <= r.target ? "met" : "MISSED");
    target = b;
  }
  char dx[32] = "-";
  if (r.ratio_dx > 0 && !r.reference && !r.dx_twin)
    std::snprintf(dx, sizeof dx, "%.2f", r.ratio_dx);
  char fc[48] = "-";
  if (r.ratio_fc > 0 && !r.reference && !r.dx_twin && !r.fc_twin) {
    if (r.target > 0)
      std::snprintf(fc, sizeof fc, "%.2f (%s)", r.ratio_fc, r.ratio_fc <= r.target ? "met" : "missed");
    else
      std::snprintf(fc, sizeof fc, "%.2f", r.ratio_fc);
  }
  std::printf("| %s | %lld | %d | %s | %.0f | %.0f-%.0f | %.2f | %s%.2f | %s | %s | %s |\n", r.mode.c_str(),
              static_cast<long long>(r.batch), r.threads, r.model.c_str(), r.ips, r.ips_min, r.ips_max,
              1000.0 * double(r.batch) / r.ips, r.reference ? "(ref) " : "", r.ratio,
              target.c_str(), dx, fc);
  std::fflush(stdout);
}

std::string case_name(Mode m, const std::string& model, int64_t batch, int threads) {
  return std::string(mode_name(m)) + "/" + model + "/b" + std::to_string(batch) + "/t" +
         std::to_string(threads);
}

/// Whether any case of a family is selected by the filter (as `select` in run_family decides).
bool family_selected(const Options& o, const Family& f) {
  for (const int threads : o.threads)
    for (const Mode m : {Mode::TrainStats, Mode::TrainLearned, Mode::Eval})
      for (const int64_t b : o.batches)
        for (size_t i = 0; i < f.models.size(); ++i) {
          if (m == Mode::Eval && i == 1) continue;  // the "_dx" twin does not run in eval
          if (matches(o, case_name(m, f.models[i], b, threads))) return true;
        }
  return false;
}

struct Tally {
  int met = 0, missed = 0;
  int met_fc = 0, missed_fc = 0;  ///< the same targets against the "_fc" twin
};

/// Runs the selected cases of one family (fresh nets per thread count; nets[0] is the
/// reference of every ratio) and prints a row per net and case.
void run_family(const Options& o, const Family& f, Tally& tally) {
  for (const int threads : o.threads) {
    torch::set_num_threads(threads);
    Nets nets = f.build(o);
    const std::string dx_name = nets.all[0]->name + "_dx";
    const auto select = [&](Mode m, int64_t b) {
      std::vector<BenchNet*> v{nets.all[0].get()};
      for (size_t i = 1; i < nets.all.size(); ++i) {
        const std::string& name = nets.all[i]->name;
        if (m == Mode::Eval && name == dx_name) continue;  // same as the reference without grad
        if (matches(o, case_name(m, name, b, threads))) v.push_back(nets.all[i].get());
      }
      if (v.size() == 1 && !matches(o, case_name(m, nets.all[0]->name, b, threads))) v.clear();
      return v;
    };
    std::vector<int64_t> stats_batches;
    for (const int64_t b : o.batches)
      if (!select(Mode::TrainStats, b).empty()) stats_batches.push_back(b);
    const int budget = stats_batches.empty() ? 0 : 290 / int(stats_batches.size());
    const auto emit = [&](const std::vector<Row>& rows) {
      for (const Row& r : rows) {
        print_row(r);
        if (r.target > 0) (r.ratio <= r.target ? tally.met : tally.missed)++;
        if (r.target > 0 && r.ratio_fc > 0) (r.ratio_fc <= r.target ? tally.met_fc : tally.missed_fc)++;
      }
    };
    for (const Mode m : {Mode::TrainStats, Mode::TrainLearned, Mode::Eval}) {
      if (m == Mode::TrainLearned) {
        // Leave the statistics phase by real training steps (batch 64), as training does.
        auto gen = at::make_generator<at::CPUGeneratorImpl>(4242);
        const torch::Tensor x = torch::randn({64, 1, 32, 32}, gen);
        const torch::Tensor y = torch::randint(0, 10, {64}, gen, torch::kInt64);
        for (auto& n : nets.all)
          while (n->in_stats_phase()) n->train_step(x, y);
      }
      for (const int64_t b : o.batches) {
        std::vector<BenchNet*> v = select(m, b);
        if (v.empty()) continue;
        if (m == Mode::TrainStats)
          for (BenchNet* n : v)
            if (n->has_stats() && !n->in_stats_phase())
              throw ConfigError("internal: " + n->name + " left the statistics phase too early");
        emit(run_group(o, v, m, b, threads, m == Mode::TrainStats ? budget : 0));
        if (m == Mode::TrainStats)
          for (BenchNet* n : v)
            if (n->has_stats() && !n->in_stats_phase())
              std::printf("(warning: %s reached the learned phase inside train-stats)\n", n->name.c_str());
      }
    }
  }
}

int run_steps(const Options& o) {
  const Family lenet{{"torch_float", "torch_float_dx", "float", "weights3", "lowprec", "w4a4_int32bias"},
                     build_nets};
  const Family classic{{"torch_float_classic", "torch_float_classic_dx", "classic"}, build_classic_nets};
  const bool run_classic = family_selected(o, classic);
  std::printf("qnn_bench: LibTorch %s, %u hardware threads, load average %s\n", TORCH_VERSION,
              std::thread::hardware_concurrency(), load_average().c_str());
  std::printf("windows %d x ~%.0f ms (train-stats: capped so all of it stays in the first 300 calls)\n\n",
              o.windows, o.window_ms);
  Tally issue13, issue11;
  // The LeNet table is printed unless only classic cases are selected.
  if (!run_classic || family_selected(o, lenet)) {
    print_header();
    run_family(o, lenet, issue13);
  }
  if (run_classic) {
    std::printf("\nClassic LeNet-5 (lenet5_classic.qnn.json) against its float twin torch_float_classic "
                "(tanh, average pools); issue 11 target: QAT step <= 1.3x\n\n");
    print_header();
    run_family(o, classic, issue11);
  }
  if (run_classic)
    std::printf("\nclassic LeNet-5 targets (issue 11) met: %d, missed: %d (against torch_float_classic_fc: "
                "met %d, missed %d)",
                issue11.met, issue11.missed, issue11.met_fc, issue11.missed_fc);
  std::printf("\nLeNet targets (issue 13) met: %d, missed: %d (against torch_float_fc: met %d, missed %d); "
              "load average at the end %s\n",
              issue13.met, issue13.missed, issue13.met_fc, issue13.missed_fc, load_average().c_str());
  return 0;
}

// ------------------------------------------------------------------ full epoch

int run_epoch(const Options& o) {
  std::printf("qnn_bench --epoch: one Fashion-MNIST epoch per model, %d threads, load average %s\n\n",
              o.epoch_threads, load_average().c_str());
  std::printf("| model | threads | load data s | train s | test eval s | total s | test acc |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (const std::string name : {"lowprec", "float", "weights3", "w4a4_int32bias", "classic"}) {
    const std::string cname = "epoch/" + name + "/t" + std::to_string(o.epoch_threads);
    if (o.filter.empty() ? (name != "lowprec" && name != "float") : !matches(o, cname)) continue;
    const Project p = load_example(o.examples, name);
    const auto t0 = Clock::now();
    const Dataset train = load_dataset(p.dataset, true);
    const Dataset test = load_dataset(p.dataset, false);
    const double t_load = seconds_since(t0);
    torch::manual_seed(p.training.seed);
    QuantModel model = build_model(p);
    TrainOptions opt;
    opt.spec = p.training;
    opt.spec.epochs = 1;
    opt.spec.threads = o.epoch_threads;
    opt.max_batches_per_epoch = 0;
    opt.progress_interval_ms = 1000;
    double t_train = 0.0;
    const auto t1 = Clock::now();
    const ProgressFn progress = [&](const TrainProgress& pr) {
      if (pr.phase == TrainProgress::Phase::Evaluating) t_train = seconds_since(t1);
    };
    std::atomic<bool> cancel{false};
    const TrainResult r = train_model(model, train, test, opt, progress, cancel);
    const double t_all = seconds_since(t1);
    std::printf("| %s | %d | %.2f | %.2f | %.2f | %.2f | %.4f |\n", name.c_str(), o.epoch_threads, t_load,
                t_train, t_all - t_train, t_load + t_all, r.test.accuracy);
    std::fflush(stdout);
  }
  std::printf("\nload average at the end %s\n", load_average().c_str());
  return 0;
}

// ------------------------------------------------------------------ profiling loop

/// Runs STEPS steps of one case without timing windows (a steady target for
/// `perf record` or `valgrind --tool=callgrind`). MODE train-learned first leaves the
/// statistics phase with batch-64 steps; train-stats stays below 300 calls.
int run_loop(const Options& o) {
  std::stringstream in(o.loop);
  std::string model, mode, batch, steps;
  std::getline(in, model, ',');
  std::getline(in, mode, ',');
  std::getline(in, batch, ',');
  std::getline(in, steps, ',');
  if (steps.empty()) throw ConfigError("--loop needs MODEL,MODE,BATCH,STEPS");
  torch::set_num_threads(o.threads.front());
  torch::manual_seed(0);
  auto net = model == "torch_float"              ? BenchNet::torch_float()
             : model == "torch_float_dx"         ? BenchNet::torch_float(true)
             : model == "torch_float_fc"         ? BenchNet::torch_float(false, true)
             : model == "torch_float_classic_fc" ? BenchNet::torch_float_classic(false, true)
             : model == "torch_float_classic"    ? BenchNet::torch_float_classic()
             : model == "torch_float_classic_dx" ? BenchNet::torch_float_classic(true)
                                                 : BenchNet::from_project(model, load_example(o.examples, model));
  const int64_t b = std::stoll(batch);
  const int n = std::stoi(steps);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(99);
  const torch::Tensor x = torch::randn({b, 1, 32, 32}, gen);
  const torch::Tensor y = torch::randint(0, 10, {b}, gen, torch::kInt64);
  Mode m = Mode::Eval;
  if (mode == "train-stats") m = Mode::TrainStats;
  else if (mode == "train-learned") m = Mode::TrainLearned;
  else if (mode != "eval") throw ConfigError("unknown mode '" + mode + "'");
  if (m != Mode::TrainStats)
    while (net->in_stats_phase()) net->train_step(x.narrow(0, 0, std::min<int64_t>(b, 64)), y.narrow(0, 0, std::min<int64_t>(b, 64)));
  net->set_training(m != Mode::Eval);
  const auto t0 = Clock::now();
  const std::clock_t c0 = std::clock();
  if (!o.profile.empty()) {
    // LibTorch's profiler: every op and autograd node with its CPU time, as a Chrome
    // trace (chrome://tracing, or count the events by name).
    torch::autograd::profiler::RecordProfile guard(o.profile);
    for (int i = 0; i < n; ++i) run_one(*net, m, x, y);
  } else {
    for (int i = 0; i < n; ++i) run_one(*net, m, x, y);
  }
  const double t = seconds_since(t0);
  const double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
  // CPU time is far less sensitive than wall time to other processes on a loaded machine.
  std::printf("%s %s b%lld t%d: %d steps in %.3f s wall, %.3f s CPU; %.0f img/s, %.3f CPU ms/step\n",
              model.c_str(), mode.c_str(), static_cast<long long>(b), o.threads.front(), n, t, cpu,
              double(n) * double(b) / t, 1000.0 * cpu / n);
  return 0;
}

// ------------------------------------------------------------------ digest

/// Trains every example for `digest_steps` steps on synthetic batches (crossing the
/// switch to learned scales at 300 calls) and prints digests of the final state, of
/// the losses and of an eval forward. Equal output before and after a change means
/// bit-identical numerics. With the Fashion-MNIST files present, also trains 400 steps
/// through train_model (trainer path) on a 6,400-image subset.
int run_digest(const Options& o) {
  // The LeNet projects first, then the classic LeNet-5 (its lines come last, so the
  // output for the LeNet projects reads as before the classic one was added).
  const std::vector<std::vector<std::string>> families{o.projects, {"classic"}};
  for (const int threads : o.threads) {
    torch::set_num_threads(threads);
    for (const auto& projects : families) {
      for (const std::string& name : projects) {
        torch::manual_seed(0);
        auto net = BenchNet::from_project(name, load_example(o.examples, name));
        auto gen = at::make_generator<at::CPUGeneratorImpl>(1234);
        std::vector<torch::Tensor> losses;
        for (int s = 0; s < o.digest_steps; ++s) {
          const torch::Tensor x = torch::randn({64, 1, 32, 32}, gen) * (1.0 + 0.01 * s);
          const torch::Tensor y = torch::randint(0, 10, {64}, gen, torch::kInt64);
          losses.push_back(net->train_step(x, y));
        }
        net->set_training(false);
        const torch::Tensor logits = net->eval_forward(torch::randn({256, 1, 32, 32}, gen));
        std::printf("digest t%d %-16s state %s losses %s eval %s\n", threads, name.c_str(),
                    digest(net->module()).c_str(), digest(torch::stack(losses)).c_str(),
                    digest(logits).c_str());
        std::fflush(stdout);
      }
      for (const std::string& name : projects) {
        Project p = load_example(o.examples, name);
        Dataset train, test;
        try {
          train = load_dataset(p.dataset, true, 6400);
          test = load_dataset(p.dataset, false, 1000);
        } catch (const std::exception& e) {
          std::printf("digest t%d %-16s trainer: skipped (%s)\n", threads, name.c_str(), e.what());
          continue;
        }
        torch::manual_seed(p.training.seed);
        QuantModel model = build_model(p);
        TrainOptions opt;
        opt.spec = p.training;
        opt.spec.epochs = 4;
        opt.spec.threads = threads;
        std::atomic<bool> cancel{false};
        const TrainResult r = train_model(model, train, test, opt, nullptr, cancel);
        std::printf("digest t%d %-16s trainer state %s loss %.9g acc %.6f\n", threads, name.c_str(),
                    digest(*model).c_str(), r.epochs.back().train_loss, r.test.accuracy);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace qnn::bench

int main(int argc, char** argv) {
  try {
    const qnn::bench::Options o = qnn::bench::parse(argc, argv);
    if (!o.default_malloc) qnn::bench::use_training_allocator_settings();
    if (o.digest) return qnn::bench::run_digest(o);
    if (!o.loop.empty()) return qnn::bench::run_loop(o);
    if (o.epoch) return qnn::bench::run_epoch(o);
    // The sweep (core/analysis) only runs when the filter names it: --filter=sweep.
    if (o.filter.find("sweep") != std::string::npos && std::regex_search("sweep/lowprec/t" + std::to_string(o.threads.back()), std::regex(o.filter)))
      return qnn::bench::run_sweep_bench(o.examples, o.threads.back());
    const int rc = qnn::bench::run_steps(o);
    if (o.all && rc == 0) {
      std::printf("\n");
      for (const int t : o.threads) {
        qnn::bench::Options e = o;
        e.epoch_threads = t;
        if (qnn::bench::run_epoch(e) != 0) return 1;
        std::printf("\n");
      }
    }
    return rc;
  } catch (const std::exception& e) {
    std::cerr << "qnn_bench: " << e.what() << "\n";
    return 1;
  }
}
