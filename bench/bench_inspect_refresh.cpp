// SPDX-License-Identifier: GPL-3.0-or-later
// qnn_bench_inspect: how long does the UI thread spend refreshing the Inspection dock?
// Builds the low-precision LeNet (resources/examples/lenet_lowprec.qnn.json), trains it
// briefly on Fashion-MNIST (so every activation quantizer is in its learned phase),
// computes an inspection report on the 256-image calibration batch, then times
// InspectionPanel::setReport — setting the data of every view and replotting them,
// including the paint of the visible tab — median of 20 runs, offscreen.
//   qnn_bench_inspect [--runs=N] [--train-batches=N] [--threads=N]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/inspect/inspect.h"
#include "core/train/trainer.h"

#include <QApplication>
#include <QTabWidget>

#include "widgets/inspect/inspection_panel.h"
#include "widgets/plots/activation_range_plot.h"
#include "widgets/plots/quant_error_view.h"
#include "widgets/plots/scale_plot.h"
#include "widgets/plots/weight_histogram_plot.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Stats {
  double median, min, max;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return {median, v.front(), v.back()};
}

long option(int argc, char** argv, const char* name, long fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return std::atol(argv[i] + prefix.size());
  return fallback;
}

void flush() {
  QCoreApplication::sendPostedEvents();
  QCoreApplication::processEvents();
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  const long runs = std::max(1L, option(argc, argv, "runs", 20));
  const long trainBatches = option(argc, argv, "train-batches", 320);
  const int threads = int(option(argc, argv, "threads", 2));

  using namespace qnn;
  Project p = load_project(QNN_SOURCE_DIR "/resources/examples/lenet_lowprec.qnn.json");
  set_thread_count(threads);
  torch::manual_seed(0);
  QuantModel model = build_model(p);
  torch::Tensor batch;
  int64_t step = 0;
  try {
    const Dataset train = load_dataset(p.dataset, true, trainBatches * p.training.batch_size);
    const Dataset test = load_dataset(p.dataset, false, 1000);
    if (trainBatches > 0) {
      TrainOptions o;
      o.spec = p.training;
      o.spec.epochs = 1;
      o.spec.threads = threads;
      const std::atomic<bool> cancel{false};
      const auto t0 = Clock::now();
      train_model(model, train, test, o, [&](const TrainProgress& pr) { step = pr.global_step; }, cancel);
      std::printf("trained %ld batches of %ld in %.1f s\n", trainBatches, long(p.training.batch_size),
                  ms(t0, Clock::now()) / 1000.0);
    }
    batch = inspect::calibration_batch(test, 256);
  } catch (const std::exception& e) {
    std::printf("dataset unavailable (%s): untrained model, random calibration batch\n", e.what());
    batch = torch::randn({256, 1, 32, 32});
  }

  std::vector<double> inspectMs;
  inspect::Report report;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = Clock::now();
    report = inspect::inspect_model(model, batch, step);
    inspectMs.push_back(ms(t0, Clock::now()));
  }
  const Stats si = stats(inspectMs);
  std::printf("inspect_model (worker thread, 256 images): median %.1f ms (min %.1f, max %.1f)\n", si.median, si.min,
              si.max);
  std::printf("report: %zu weight layers, %zu activation quantizers, %zu layers, worst %s\n", report.weights.size(),
              report.activations.size(), report.errors.size(), report.worst_layer.c_str());

  InspectionPanel panel;
  panel.resize(1200, 800);
  panel.show();
  flush();
  auto fresh = [&] { return std::make_shared<const inspect::Report>(report); };
  for (int i = 0; i < 3; ++i) {  // warm-up: fonts, layouts, paint buffers
    panel.setReport(fresh());
    flush();
  }
  // Every view of the dock, one after the other, with the tab on top painted.
  for (int tab = 0; tab < panel.tabs()->count(); ++tab) {
    panel.tabs()->setCurrentIndex(tab);
    flush();
    std::vector<double> times;
    for (long r = 0; r < runs; ++r) {
      InspectionReportPtr next = fresh();  // a new report each time, as during training
      const auto t0 = Clock::now();
      panel.setReport(next);
      flush();
      times.push_back(ms(t0, Clock::now()));
    }
    const Stats s = stats(times);
    std::printf("refresh all views, tab \"%s\" visible: median %.1f ms (min %.1f, max %.1f) over %ld runs\n",
                qPrintable(panel.tabs()->tabText(tab).remove(QLatin1Char('&'))), s.median, s.min, s.max, runs);
  }
  // Per view (setReport + immediate replot), for the breakdown.
  panel.tabs()->setCurrentIndex(0);
  flush();
  InspectionReportPtr shared = fresh();
  const QString layer = QString::fromStdString(report.weights.empty() ? std::string() : report.weights.front().layer);
  struct View {
    const char* name;
    std::function<void()> refresh;
  };
  const std::vector<View> views{
      {"WeightHistogramPlot", [&] { panel.weightPlot()->setReport(shared, layer); }},
      {"ScalePlot", [&] { panel.scalePlot()->setReport(fresh(), layer); }},
      {"ActivationRangePlot", [&] { panel.activationPlot()->setReport(shared, QString()); }},
      {"QuantErrorView", [&] { panel.errorView()->setReport(shared); }},
  };
  for (const View& v : views) {
    std::vector<double> times;
    for (long r = 0; r < runs; ++r) {
      const auto t0 = Clock::now();
      v.refresh();
      flush();
      times.push_back(ms(t0, Clock::now()));
    }
    const Stats s = stats(times);
    std::printf("  %-20s median %.2f ms (min %.2f, max %.2f)\n", v.name, s.median, s.min, s.max);
  }
  return 0;
}
