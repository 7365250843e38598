// SPDX-License-Identifier: GPL-3.0-or-later
// The quantization analyzer: enable-one / disable-one evaluations per layer (AIMET's
// QuantAnalyzer, per-layer sensitivity), plus the output SQNR of every quantized layer.
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "core/analysis/analysis_detail.h"
#include "core/errors.h"

namespace qnn::analysis {

double LayerSensitivity::gain() const { return all_but_this_accuracy - quantized_accuracy; }

namespace {

// 10 log10(sum f^2 / sum (f - q)^2) summed in double; +inf when equal, NaN with a NaN.
double sqnr(const torch::Tensor& f, const torch::Tensor& q) {
  const torch::Tensor a = f.detach().to(torch::kFloat64);
  const torch::Tensor b = q.detach().to(torch::kFloat64);
  const double s = a.pow(2).sum().item<double>();
  const double n = (a - b).pow(2).sum().item<double>();
  if (std::isnan(s) || std::isnan(n)) return std::numeric_limits<double>::quiet_NaN();
  if (n == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(s / n);
}

std::map<std::string, torch::Tensor> layer_outputs(QuantModelImpl& m, const torch::Tensor& x) {
  std::map<std::string, torch::Tensor> out;
  try {
    detail::run_graph(m, x, [&](const std::string& id, torch::nn::Module&, const std::vector<QuantTensor>&,
                                const QuantTensor& y) {
      out[id] = y.value;
      return false;
    });
  } catch (const c10::Error& e) {
    throw ConfigError("analyzer: the SQNR pass failed: " + detail::torch_message(e));
  }
  return out;
}

std::string type_name(QuantModelImpl& m, const std::string& id) {
  const LayerSpec* l = m.project().find(id);
  return l ? to_string(l->type) : std::string();
}

}  // namespace

AnalyzerReport analyze(QuantModel& model, const Dataset& test, const AnalyzerOptions& options,
                       const ProgressFn& progress, const std::atomic<bool>* cancel) {
  QuantModelImpl& m = *model;
  detail::check_images(m, test, "analyzer");
  if (options.batch_size < 1)
    throw ConfigError("analyzer: the batch size must be at least 1 (got " + std::to_string(options.batch_size) + ")");
  if (options.holdout < 0 || options.sqnr_samples < 0)
    throw ConfigError("analyzer: the number of held-out and SQNR images must not be negative");
  const std::vector<std::string> layers = quantized_layers(m, QuantKind::Both);
  if (layers.empty())
    throw ConfigError("analyzer: the network has no quantizer (\"" + m.project().name +
                      "\" is a float network); there is nothing to analyze");

  const int64_t n = options.holdout == 0 ? test.size() : std::min(options.holdout, test.size());
  const torch::Tensor images = test.images.narrow(0, 0, n);
  const torch::Tensor labels = test.labels.narrow(0, 0, n);

  AnalyzerReport r;
  r.samples = n;
  const int64_t total = 4 + 2 * int64_t(layers.size()) + 1;
  int64_t done = 0;
  const auto start = std::chrono::steady_clock::now();
  auto report = [&](const std::string& what) {
    if (!progress) return;
    Progress p;
    p.done = done;
    p.total = total;
    p.what = what;
    p.eta_seconds = detail::eta(detail::seconds_since(start), done, total);
    progress(p);
  };

  detail::ModelStateGuard guard(m);
  m.eval();
  torch::NoGradGuard no_grad;
  // One configuration: returns false when cancelled.
  auto run = [&](const std::string& what, double& accuracy) {
    if (cancel && cancel->load()) return false;
    report(what);
    const detail::Eval e = detail::evaluate_images(m, images, labels, options.batch_size, cancel, "analyzer, " + what);
    if (e.cancelled) return false;
    accuracy = e.accuracy;
    ++done;
    return true;
  };
  auto set_all = [&](QuantKind kind, bool on) {
    for (const std::string& id : layers) set_layer_quant_enabled(m, id, kind, on);
  };

  set_all(QuantKind::Both, false);
  if (!run("float network", r.float_accuracy)) return r.cancelled = true, r;
  set_all(QuantKind::Weights, true);
  if (!run("weights only", r.weights_only_accuracy)) return r.cancelled = true, r;
  set_all(QuantKind::Both, false);
  set_all(QuantKind::Activations, true);
  if (!run("activations only", r.activations_only_accuracy)) return r.cancelled = true, r;
  set_all(QuantKind::Both, true);
  if (!run("quantized network", r.quantized_accuracy)) return r.cancelled = true, r;

  // The SQNR pass: every layer's output in the quantized and in the float network.
  if (cancel && cancel->load()) return r.cancelled = true, r;
  report("output SQNR");
  const torch::Tensor sq = test.images.narrow(0, 0, std::min(std::max<int64_t>(options.sqnr_samples, 1), test.size()));
  const std::map<std::string, torch::Tensor> quant_out = layer_outputs(m, sq);
  set_all(QuantKind::Both, false);
  const std::map<std::string, torch::Tensor> float_out = layer_outputs(m, sq);
  ++done;

  for (const std::string& id : layers) {
    LayerSensitivity s;
    s.layer = id;
    s.type = type_name(m, id);
    s.output_sqnr_db = sqnr(float_out.at(id), quant_out.at(id));
    s.quantized_accuracy = r.quantized_accuracy;
    set_all(QuantKind::Both, false);
    set_layer_quant_enabled(m, id, QuantKind::Both, true);
    if (!run(id + ": only this layer quantized", s.only_this_accuracy)) return r.cancelled = true, r;
    set_all(QuantKind::Both, true);
    set_layer_quant_enabled(m, id, QuantKind::Both, false);
    if (!run(id + ": every layer quantized but this one", s.all_but_this_accuracy)) return r.cancelled = true, r;
    r.layers.push_back(s);
  }

  std::vector<const LayerSensitivity*> ranked;
  for (const LayerSensitivity& s : r.layers)
    if (s.gain() > 0.005 + 1e-9)  // 0.5 points; a gain of exactly 0.5 (up to rounding) does not count
      ranked.push_back(&s);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const LayerSensitivity* a, const LayerSensitivity* b) { return a->gain() > b->gain(); });
  for (const LayerSensitivity* s : ranked) r.keep_higher.push_back(s->layer);
  done = total;
  report("analysis done");
  return r;
}

std::string analyzer_csv(const AnalyzerReport& report) {
  using detail::num;
  std::ostringstream o;
  o << "layer,type,only_this_accuracy,all_but_this_accuracy,gain,output_sqnr_db\n";
  for (const LayerSensitivity& s : report.layers)
    o << s.layer << ',' << s.type << ',' << num(s.only_this_accuracy) << ',' << num(s.all_but_this_accuracy) << ','
      << num(s.gain()) << ',' << num(s.output_sqnr_db) << '\n';
  o << "(float),," << num(report.float_accuracy) << ",,,\n";
  o << "(weights only),," << num(report.weights_only_accuracy) << ",,,\n";
  o << "(activations only),," << num(report.activations_only_accuracy) << ",,,\n";
  o << "(quantized),," << num(report.quantized_accuracy) << ",,,\n";
  return o.str();
}

}  // namespace qnn::analysis
