// SPDX-License-Identifier: GPL-3.0-or-later
// `qnn calibrate | analyze | sweep | suggest` (issue 12: choose bit widths with
// evidence), over core/analysis/analysis.h. Results go to stdout (tables, then a last
// line a script may parse), progress to stderr; PNGs are the GUI's analysis views
// rendered offscreen (as `qnn inspect` does).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/cli/cli.h"
#include "app/cli/cli_dist.h"
#include "core/analysis/analysis.h"
#include "core/data/dataset.h"
#include "core/dist/process_group.h"
#include "core/errors.h"
#include "core/graph/json_field.h"
#include "core/graph/project.h"
#include "core/graph/sweep_record_json.h"
#include "core/graph/model.h"
#include "core/quant/quantizers.h"
#include "core/train/checkpoint.h"
#include "core/train/trainer.h"
#include "core/train/weights.h"

#include <QApplication>
#include <QDir>

#include "widgets/analysis/analysis_format.h"
#include "widgets/analysis/analyzer_view.h"
#include "widgets/analysis/pareto_view.h"
#include "widgets/analysis/sweep_curves_view.h"
#include "widgets/analysis/sweep_heatmap_view.h"
#include "widgets/plots/plot_export.h"

namespace qnn::cli {
namespace {

constexpr int kPngWidth = 1000, kPngHeight = 600;

std::string fixed(double v, int decimals) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream o;
  o << std::fixed << std::setprecision(decimals) << v;
  return o.str();
}

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

/// "12 s", "3 min 5 s" ("?" while unknown).
std::string eta_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int64_t t = std::llround(s);
  return t < 60 ? std::to_string(t) + " s" : std::to_string(t / 60) + " min " + std::to_string(t % 60) + " s";
}

/// One stderr line per progress report ("sweep 12/42  conv1 at 3 bits  ETA 35 s").
analysis::ProgressFn progress_lines(const std::string& what) {
  return [what](const analysis::Progress& p) {
    std::cerr << what << " " << p.done << "/" << p.total << (p.what.empty() ? "" : "  " + p.what)
              << "  ETA " << eta_text(p.eta_seconds) << std::endl;
  };
}

/// Sweep progress on stderr: "sweep base model", then "sweep point 3/35  conv1.weight
/// at 4 bits  ETA 35 s" (the base evaluation is not one of the points), last "sweep
/// 35/35 points done (+ base)".
analysis::ProgressFn sweep_progress_lines() {
  return [](const analysis::Progress& p) {
    const int64_t points = p.total - 1;  // core counts the base evaluation as the first unit
    if (p.done == 0) {
      std::cerr << "sweep base model (the trained model as given)" << std::endl;
    } else if (p.done >= p.total) {
      std::cerr << "sweep " << points << "/" << points << " points done (+ base)" << std::endl;
    } else {
      std::cerr << "sweep point " << p.done << "/" << points << (p.what.empty() ? "" : "  " + p.what) << "  ETA "
                << eta_text(p.eta_seconds) << std::endl;
    }
  };
}

/// "note: FILE was trained on a different network (FIRST DIFFERENCE); ..." when FILE is
/// a QNN Studio checkpoint whose network differs from `p`'s (a state dict has no network).
void note_other_network(const Project& p, const std::string& weights) {
  Project trained;
  try {
    trained = read_checkpoint_project(weights);
  } catch (const std::exception&) {
    return;  // a state dict (or unreadable: load_weights says so)
  }
  const std::string diff = network_difference(p, trained);
  if (!diff.empty())
    std::cout << "note: " << weights << " was trained on a different network (" << diff
              << "); its tensors are loaded by name and shape\n";
}

/// The warning of analysis_format::nearChanceWarning for `accuracy` on `p`'s dataset
/// (nothing when the number of classes is unknown).
void warn_if_near_chance(const Project& p, double accuracy) {
  int64_t classes = 0;
  try {
    classes = int64_t(dataset_info(p).class_names.size());
  } catch (const std::exception&) {
    return;
  }
  const QString w = analysis_format::nearChanceWarning(accuracy, classes);
  if (!w.isEmpty()) std::cout << w.toStdString() << "\n";
}

/// The project's network with FILE's trained state (load_weights: a checkpoint or a
/// state dict; prints what it loaded, and a note when FILE is a checkpoint of a network
/// other than `network`'s, `p`'s by default).
QuantModel load_model(const Project& p, const std::string& weights, const Project* network = nullptr) {
  note_other_network(network ? *network : p, weights);
  set_thread_count(p.training.threads);
  torch::manual_seed(p.training.seed);
  QuantModel model = build_model(p);
  try {
    const WeightsReport w = load_weights(model, weights);
    std::cout << "weights: " << w.text() << "\n";
  } catch (const c10::Error& e) {
    throw IoError("cannot read weights '" + weights + "': " + e.what_without_backtrace());
  }
  return model;
}

std::string require(const CommandArgs& args, const std::string& name, const std::string& why) {
  const std::string v = args.text(name);
  if (v.empty()) throw UsageError("'qnn " + args.command + "' needs --" + name + " " + why);
  return v;
}

void make_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError("cannot create the output folder " + dir + ": " + ec.message());
}

void write_text(const std::string& path, const std::string& text) {
  QString error;
  if (!saveText(QString::fromStdString(path), QString::fromStdString(text), &error)) throw IoError(error.toStdString());
}

void write_png(QWidget* view, const std::string& path) {
  view->resize(kPngWidth, kPngHeight);
  view->show();  // offscreen: lays out the tables and plots before rendering
  QApplication::processEvents();
  QString error;
  if (!saveViewPng(view, QString::fromStdString(path), &error, kPngWidth, kPngHeight))
    throw IoError(error.toStdString());
}

/// Layers whose RuntimeStats activation quantizer never saw a batch (a float warm
/// start): their scale is the initial statistic, meaningless until calibrated.
std::vector<std::string> uncalibrated_layers(QuantModel& model) {
  std::vector<std::string> out;
  for (const auto& item : model->named_modules()) {
    auto* q = dynamic_cast<ActQuantizerImpl*>(item.value().get());
    if (!q || q->spec().scaling != ScalingKind::RuntimeStats || q->learned_phase() || q->counter() > 0) continue;
    const std::string layer = item.key().substr(0, item.key().find('.'));
    if (std::find(out.begin(), out.end(), layer) == out.end()) out.push_back(layer);
  }
  return out;
}

/// The analyses need a calibrated or trained model: quantizers without a scale are
/// calibrated first (16 x 64 training images), the others are left as trained.
void calibrate_if_needed(QuantModel& model, const Project& p) {
  const std::vector<std::string> layers = uncalibrated_layers(model);
  if (layers.empty()) return;
  analysis::CalibrationOptions options;
  options.only = layers;
  const Dataset train = load_dataset(p, true, options.batches * options.batch_size);
  const analysis::CalibrationResult c = analysis::calibrate(model, train, options, {}, &interrupt_flag());
  std::cout << "calibrated first (no scale in the weights, " << c.samples
            << " training images): " << join(c.calibrated) << "\n";
}

// ---------------------------------------------------------------- sweep.json

nlohmann::ordered_json sweep_file_json(const SweepRecord& r, const std::string& project) {
  nlohmann::ordered_json j;
  j["format"] = "qnn-sweep";
  j["version"] = 1;
  j["project"] = project;
  j["sweep"] = detail::sweep_to_json(r);
  return j;
}

/// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
std::string json_message(const nlohmann::json::exception& e) {
  std::string what = e.what();
  const auto close = what.find("] ");
  if (what.rfind("[json.exception", 0) == 0 && close != std::string::npos) what = what.substr(close + 2);
  // "parse error at line 3, column 1: syntax error while parsing ..." -> after the position.
  const auto colon = what.find(": ");
  if (what.rfind("parse error", 0) == 0 && colon != std::string::npos) what = what.substr(colon + 2);
  return what;
}

SweepRecord read_sweep_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read " + path + ": " + std::strerror(errno));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(detail::json_parse_error_message(path, text, e));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(path + ": not valid JSON: " + json_message(e));
  }
  if (!j.is_object() || !j.contains("format") || j["format"] != "qnn-sweep" || !j.contains("sweep"))
    throw ConfigError(path + ": not a sweep file of `qnn sweep` (expected \"format\": \"qnn-sweep\")");
  if (!j["version"].is_number_integer() || j["version"].get<int64_t>() != 1)
    throw ConfigError(path + ": sweep file version " + j["version"].dump() + " needs a newer QNN Studio");
  try {
    return detail::sweep_from_json(detail::Field(j["sweep"], "sweep", path));
  } catch (const nlohmann::json::exception& e) {  // the Field checks should name it; never nlohmann's prefix
    throw ConfigError(path + ": " + json_message(e));
  }
}

// ---------------------------------------------------------------- tables

std::string slot_name(const SweepSlot& s) { return s.layer + (s.kind == "act" ? ".act" : ".weight"); }

/// Drop (points) per slot and bits; "-" for a missing point.
void print_drop_table(const SweepRecord& r) {
  size_t w = 4;
  for (const SweepSlot& s : r.slots) w = std::max(w, slot_name(s).size());
  std::cout << "accuracy drop (points) vs bit_width:\n" << std::left << std::setw(int(w)) << "slot" << std::right;
  for (int b = r.min_bits; b <= r.max_bits; ++b) std::cout << std::setw(8) << b;
  std::cout << "\n";
  for (const SweepSlot& s : r.slots) {
    std::cout << std::left << std::setw(int(w)) << slot_name(s) << std::right;
    for (int b = r.min_bits; b <= r.max_bits; ++b) {
      std::string cell = "-";
      for (const SweepPoint& p : r.points)
        if (p.layer == s.layer && p.kind == s.kind && p.bits == b) cell = fixed((r.base_accuracy - p.accuracy) * 100, 2);
      std::cout << std::setw(8) << cell;
    }
    std::cout << "\n";
  }
}

std::string bits_text(const SweepRecord& r, const analysis::MixedConfig& c) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < r.slots.size() && i < c.bits.size(); ++i)
    parts.push_back(slot_name(r.slots[i]) + "=" + std::to_string(c.bits[i]));
  return join(parts, " ");
}

/// (min, max) of "--bits LO-HI" or "--bits N".
std::pair<int, int> parse_bits(const std::string& text) {
  static const std::regex range(R"(^\s*(\d{1,3})\s*(?:-\s*(\d{1,3}))?\s*$)");
  std::smatch m;
  if (!std::regex_match(text, m, range))
    throw UsageError("--bits expects a range LO-HI such as 2-8 (or one bit width), got '" + text + "'");
  const int lo = std::stoi(m[1].str());
  const int hi = m[2].matched ? std::stoi(m[2].str()) : lo;
  for (int b : {lo, hi})
    if (b < 2 || b > 16)
      throw UsageError("--bits " + text + ": bit widths must be within 2..16 (" + std::to_string(b) + " is not)");
  if (lo > hi) throw UsageError("--bits " + text + ": the range is reversed; did you mean " + std::to_string(hi) + "-" +
                                std::to_string(lo) + "?");
  return {lo, hi};
}

}  // namespace

// ---------------------------------------------------------------- calibrate

int run_calibrate(const CommandArgs& args) {
  const std::string weights = require(args, "weights", "FILE (the trained weights to calibrate)");
  const std::string out = require(args, "out", "CKPT (the calibrated checkpoint to write)");
  analysis::CalibrationOptions options;
  options.batches = args.integer("batches", 1, 16);
  options.batch_size = args.integer("batch-size", 1, 64);
  options.bias_correction = args.has("bias-correction");
  const bool per_channel = args.has("per-channel");
  const std::string save_project_path = args.text("save-project");
  const int64_t test_limit = args.integer("test-limit", 1, 0);
  Project p = load_valid_project(args.project);
  p.training.threads = static_cast<int>(args.integer("threads", 0, p.training.threads));
  const Project as_given = p;
  bool per_channel_changed = false;
  if (per_channel) {
    const Project changed = analysis::with_per_channel_weights(p);
    std::vector<std::string> layers;
    for (const LayerSpec& l : changed.layers) {
      const LayerSpec* before = p.find(l.id);
      if (before && before->weight_quant && l.weight_quant && !(*before->weight_quant == *l.weight_quant))
        layers.push_back(l.id);
    }
    std::cout << "per-channel weights: " << (layers.empty() ? "no per-tensor float weight quantizer to change"
                                                             : join(layers) + " now per output channel")
              << "; the checkpoint holds this per-channel project\n";
    p = changed;
    per_channel_changed = !layers.empty();
  }
  if (!options.bias_correction && !per_channel_changed) {
    // Nothing to do: no activation quantizer takes its scale from runtime statistics.
    QuantModel probe = build_model(p);
    bool any = false;
    for (const auto& item : probe->named_modules())
      if (auto* q = dynamic_cast<ActQuantizerImpl*>(item.value().get()))
        any = any || q->spec().scaling == ScalingKind::RuntimeStats;
    if (!any)
      throw ConfigError("nothing to calibrate: " + args.project +
                        " has no activation quantizer with runtime statistics (calibration sets their scales; "
                        "weight scales come from the weights, parameter scales are learned in training)");
  }
  check_writable(out, "checkpoint");
  if (!save_project_path.empty()) check_writable(save_project_path, "project");

  QuantModel model = load_model(p, weights, &as_given);
  const Dataset train = load_dataset(p, true, options.batches * options.batch_size);
  const Dataset test = load_dataset(p, false, test_limit);
  InterruptGuard interrupts;
  const int64_t eval_batch = std::max<int64_t>(p.training.batch_size, 256);

  // Before: only meaningful when every activation quantizer already has a scale.
  const std::vector<std::string> unscaled = uncalibrated_layers(model);
  if (unscaled.empty()) {
    const EvalResult before = evaluate(model, test, eval_batch, &interrupt_flag());
    std::cout << "before: accuracy=" << fixed(before.accuracy, 4) << " on " << before.samples << " test images\n";
  } else {
    std::cout << "before: not evaluated (no activation scale yet in " << join(unscaled) << ": a float warm start)\n";
  }
  const analysis::CalibrationResult c =
      analysis::calibrate(model, train, options, progress_lines("calibrate"), &interrupt_flag());
  if (c.cancelled) {
    std::cerr << "qnn calibrate: interrupted; nothing written" << std::endl;
    return kExitInterrupted;
  }
  std::cout << "calibrated " << c.calibrated.size() << " activation quantizer(s) on " << c.samples
            << " training images (" << c.batches << " batches): " << join(c.calibrated) << "\n";
  if (options.bias_correction)
    std::cout << "bias corrected: " << (c.bias_corrected.empty() ? "none" : join(c.bias_corrected)) << "\n";
  for (const std::string& n : c.notes) std::cout << "note: " << n << "\n";
  const EvalResult after = evaluate(model, test, eval_batch, &interrupt_flag());
  if (interrupt_flag()) {
    std::cerr << "qnn calibrate: interrupted; nothing written" << std::endl;
    return kExitInterrupted;
  }
  save_checkpoint(model, out);
  std::cout << "saved checkpoint " << out << (per_channel ? " (of the per-channel project)" : "") << "\n";
  if (!save_project_path.empty()) {
    save_project(p, save_project_path);
    std::cout << "saved project " << save_project_path << "\n";
  }
  std::cout << "after: accuracy=" << fixed(after.accuracy, 4) << " on " << after.samples << " test images\n";
  std::cout << "test_accuracy=" << fixed(after.accuracy, 4) << std::endl;
  return kExitOk;
}

// ---------------------------------------------------------------- analyze

int run_analyze(const CommandArgs& args) {
  const std::string weights = require(args, "weights", "FILE (the analyzer needs a trained model)");
  analysis::AnalyzerOptions options;
  options.holdout = args.integer("holdout", 0, 2000);
  const std::string out = args.text("out");
  Project p = load_valid_project(args.project);
  p.training.threads = static_cast<int>(args.integer("threads", 0, p.training.threads));
  if (!out.empty()) make_dir(out);
  QuantModel model = load_model(p, weights);
  InterruptGuard interrupts("evaluation");
  calibrate_if_needed(model, p);
  const Dataset test = load_dataset(p, false, options.holdout);
  const analysis::AnalyzerReport r = analysis::analyze(model, test, options, progress_lines("analyze"), &interrupt_flag());

  size_t wl = 5, wt = 4;
  for (const analysis::LayerSensitivity& l : r.layers) {
    wl = std::max(wl, l.layer.size());
    wt = std::max(wt, l.type.size());
  }
  std::cout << std::left << std::setw(int(wl)) << "layer" << "  " << std::setw(int(wt)) << "type" << std::right
            << std::setw(12) << "only_this" << std::setw(14) << "all_but_this" << std::setw(8) << "gain"
            << std::setw(16) << "output_sqnr_db" << "\n";
  for (const analysis::LayerSensitivity& l : r.layers)
    std::cout << std::left << std::setw(int(wl)) << l.layer << "  " << std::setw(int(wt)) << l.type << std::right
              << std::setw(12) << fixed(l.only_this_accuracy * 100, 2) << std::setw(14)
              << fixed(l.all_but_this_accuracy * 100, 2) << std::setw(8) << fixed(l.gain() * 100, 2) << std::setw(16)
              << fixed(l.output_sqnr_db, 2) << "\n";
  std::cout << "samples=" << r.samples << " float=" << fixed(r.float_accuracy, 4)
            << " weights_only=" << fixed(r.weights_only_accuracy, 4)
            << " activations_only=" << fixed(r.activations_only_accuracy, 4)
            << " quantized=" << fixed(r.quantized_accuracy, 4) << "\n";
  // An untrained model: its gains are noise (a trained float model that quantization
  // breaks is what the analyzer is for, so the better of the two is judged).
  if (!r.cancelled) warn_if_near_chance(p, std::max(r.float_accuracy, r.quantized_accuracy));
  if (!out.empty()) {
    const std::string csv = (std::filesystem::path(out) / "analyzer.csv").string();
    const std::string png = (std::filesystem::path(out) / "analyzer.png").string();
    write_text(csv, analysis::analyzer_csv(r));
    const std::unique_ptr<QApplication> app = make_offscreen_app();
    AnalyzerView view;
    view.setReport(r);
    write_png(&view, png);
    std::cout << "wrote " << csv << " and " << png << "\n";
  }
  if (r.cancelled) {
    std::cerr << "qnn analyze: interrupted after " << r.layers.size() << " layer(s)" << std::endl;
    return kExitInterrupted;
  }
  std::cout << "keep_higher=" << join(r.keep_higher, ",") << std::endl;
  return kExitOk;
}

// ---------------------------------------------------------------- sweep

int run_sweep(const CommandArgs& args) {
  const std::string weights =
      require(args, "weights", "FILE: a sweep needs a trained model (a checkpoint or state dict of this network)");
  const auto [lo, hi] = parse_bits(require(args, "bits", "LO-HI (e.g. --bits 2-8)"));
  const std::string out = require(args, "out", "DIR (the folder for sweep.csv, sweep.json and the PNGs)");
  analysis::SweepOptions options;
  options.min_bits = lo;
  options.max_bits = hi;
  const std::string what = args.text("what", "weights");
  try {
    options.what = analysis::quant_kind_from_string(what);
  } catch (const ConfigError& e) {
    throw UsageError(std::string("--what: ") + e.what());
  }
  options.holdout = args.integer("holdout", 0, 2000);
  options.calibration_batches = args.integer("calibration-batches", 1, 8);
  options.weights_file = weights;
  const bool save = args.has("save");
  Project p = load_valid_project(args.project);
  p.training.threads = static_cast<int>(args.integer("threads", 0, p.training.threads));
  // --dist: join the process group first (a missing rank fails before the data is read).
  // Not the trainer's data-parallel context: each rank evaluates its points on its own.
  const std::unique_ptr<DistSession> dist = start_dist(args, args.project, /*for_training=*/false);
  const bool quiet_rank = dist && !dist->is_rank0();
  if (quiet_rank) std::cout.setstate(std::ios::failbit);  // rank 0 alone prints and writes
  if (!quiet_rank) {
    if (save) check_writable(args.project, "project");
    make_dir(out);
  }

  QuantModel model = load_model(p, weights);
  const Dataset train = load_dataset(p, true, options.calibration_batches * options.calibration_batch_size);
  const Dataset test = load_dataset(p, false, options.holdout);
  const size_t total = analysis::sweep_slots(p, options.what).size() * size_t(hi - lo + 1);
  std::cout << "sweep of " << what << " at " << lo << ".." << hi << " bits: " << total << " points (after the base model) on "
            << test.size() << " held-out images" << std::endl;
  analysis::SweepShard shard;
  if (dist) {
    shard.rank = dist->rank();
    shard.world_size = dist->world_size();
    shard.all_gather = [&dist](const std::string& bytes) { return all_gather_bytes(dist->group(), bytes); };
    if (!quiet_rank)
      std::cerr << "dist: " << dist->world_size() << " ranks (Gloo over TCP, " << dist->where()
                << "); point i on rank i mod " << dist->world_size() << ", gathered on every rank after each round of "
                << dist->world_size() << " points; timeout " << dist->timeout() << " s" << std::endl;
  }
  InterruptGuard interrupts("point");
  const SweepRecord r = analysis::run_sweep(p, model, train, test, options,
                                            quiet_rank ? analysis::ProgressFn{} : sweep_progress_lines(),
                                            &interrupt_flag(), {}, dist ? &shard : nullptr);
  // An error at a point ends the record with it as the last note (the points done are written).
  const bool failed = !r.complete && !r.notes.empty() && r.notes.back().rfind("error: ", 0) == 0;
  if (quiet_rank) return r.complete ? kExitOk : failed ? kExitFailed : kExitInterrupted;  // rank 0 reports

  const std::filesystem::path dir(out);
  write_text((dir / "sweep.csv").string(), analysis::sweep_csv(r));
  write_text((dir / "sweep.json").string(), sweep_file_json(r, args.project).dump(2) + "\n");
  std::vector<std::string> written{"sweep.csv", "sweep.json", "heatmap.png", "curves.png"};
  {
    const std::unique_ptr<QApplication> app = make_offscreen_app();
    SweepHeatmapView heatmap;
    heatmap.setRecord(r);
    write_png(&heatmap, (dir / "heatmap.png").string());
    SweepCurvesView curves;
    curves.setRecord(r);
    write_png(&curves, (dir / "curves.png").string());
    if (r.complete) {
      // Activations do not change the model size: their front is of BitOps.
      const bool size_fixed = std::all_of(r.slots.begin(), r.slots.end(), [](const SweepSlot& s) { return s.kind == "act"; });
      const analysis::CostAxis axis = size_fixed ? analysis::CostAxis::BitOps : analysis::CostAxis::SizeBytes;
      ParetoView front;
      front.setFront(r, analysis::pareto_front(r, p, axis), axis);
      write_png(&front, (dir / "front.png").string());
      written.push_back("front.png");
    } else {
      std::cout << "front.png not written: the Pareto front needs a complete sweep\n";
    }
  }
  for (const std::string& n : r.notes) std::cout << "note: " << n << "\n";
  print_drop_table(r);
  if (r.points.size() > 0 || r.complete) warn_if_near_chance(p, r.base_accuracy);
  std::cout << "wrote " << join(written, " ") << " to " << out << " (" << fixed(r.seconds, 1) << " s)\n";
  if (save) {
    Project saved = load_project(args.project);  // as in the file (the thread override is not saved)
    saved.sweep = r;
    save_project(saved, args.project);
    std::cout << "saved the sweep in " << args.project << "\n";
  }
  if (failed)
    std::cerr << "qnn sweep: " << r.notes.back().substr(7) << " (" << r.points.size() << " of " << total
              << " points kept)" << std::endl;
  else if (!r.complete)
    std::cerr << "qnn sweep: interrupted: " << r.points.size() << " of " << total << " points" << std::endl;
  std::cout << "base_accuracy=" << fixed(r.base_accuracy, 4) << " points=" << r.points.size() << "/" << total
            << " (+ base)" << std::endl;
  return r.complete ? kExitOk : failed ? kExitFailed : kExitInterrupted;
}

// ---------------------------------------------------------------- suggest

int run_suggest(const CommandArgs& args) {
  const std::string out = require(args, "out", "NEW_PROJECT (the project with the suggested bit widths)");
  analysis::Budget budget;
  budget.max_size_bytes = args.integer("max-bytes", 1, 0);
  if (args.has("max-bitops")) budget.max_bitops = args.positive_real("max-bitops", 0.0);
  if (args.has("max-drop")) {
    const std::string v = args.text("max-drop");
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(d) || d < 0.0)
      throw UsageError("--max-drop expects accuracy points (0 or more, e.g. 1.5), got '" + v + "'");
    budget.max_drop = d / 100.0;
  }
  if (budget.max_size_bytes <= 0 && budget.max_bitops <= 0.0 && std::isnan(budget.max_drop))
    throw UsageError("'qnn suggest' needs a budget: --max-bytes N, --max-bitops N or --max-drop POINTS");
  const bool only_bitops = budget.max_bitops > 0.0 && budget.max_size_bytes <= 0 && std::isnan(budget.max_drop);
  const std::string axis_text = args.text("axis", "auto");
  if (axis_text != "auto" && axis_text != "size" && axis_text != "bitops")
    throw UsageError("--axis expects auto, size or bitops, got '" + axis_text + "'");
  const bool verify = args.has("verify");
  const std::string weights = args.text("weights");
  if (verify && weights.empty()) throw UsageError("--verify needs --weights FILE (the trained weights to evaluate)");
  if (!verify && args.has("weights"))
    throw UsageError("--weights is only used by --verify (add --verify to evaluate the suggestion)");
  refuse_overwriting(args.project, out, "--out");

  Project p = load_valid_project(args.project);
  p.training.threads = static_cast<int>(args.integer("threads", 0, p.training.threads));
  SweepRecord r;
  if (args.has("sweep")) {
    r = read_sweep_file(args.text("sweep"));
  } else if (p.sweep) {
    r = *p.sweep;
  } else {
    throw UsageError(args.project + " holds no saved sweep: give --sweep DIR/sweep.json, or run `qnn sweep " +
                     args.project + " ... --save` first");
  }
  // An activations-only sweep does not change the model size: its size front is one point.
  const bool size_fixed = !r.slots.empty() && std::all_of(r.slots.begin(), r.slots.end(),
                                                         [](const SweepSlot& s) { return s.kind == "act"; });
  analysis::CostAxis axis = analysis::CostAxis::SizeBytes;
  if (axis_text == "bitops" || (axis_text == "auto" && only_bitops)) {
    axis = analysis::CostAxis::BitOps;
  } else if (axis_text == "auto" && size_fixed) {
    axis = analysis::CostAxis::BitOps;
    std::cout << "note: the sweep varies activations only, which do not change the model size: the front is of "
                 "BitOps (--axis size for the size)\n";
  } else if (size_fixed) {
    std::cout << "warning: the sweep varies activations only, which do not change the model size: the size front "
                 "has one point (--axis bitops ranks them by BitOps)\n";
  }
  const std::vector<analysis::MixedConfig> front = analysis::pareto_front(r, p, axis);
  std::cout << "Pareto front (" << front.size() << " configurations, base " << fixed(r.base_accuracy * 100, 2)
            << " % at " << r.base_size_bytes << " bytes, " << fixed(r.base_bitops, 0) << " BitOps):\n";
  std::cout << std::setw(4) << "#" << std::setw(12) << "size_bytes" << std::setw(16) << "bitops" << std::setw(11)
            << "predicted" << "  bits\n";
  for (size_t i = 0; i < front.size(); ++i)
    std::cout << std::setw(4) << i << std::setw(12) << front[i].size_bytes << std::setw(16)
              << fixed(front[i].bitops, 0) << std::setw(11) << fixed(front[i].predicted_accuracy * 100, 2) << "  "
              << bits_text(r, front[i]) << "\n";
  warn_if_near_chance(p, r.base_accuracy);
  budget.base_accuracy = r.base_accuracy;  // --max-drop is below the sweep's base, not the front's best
  const analysis::MixedConfig chosen = analysis::suggest(front, budget);
  std::cout << "chosen: " << bits_text(r, chosen) << "\n"
            << "predicted_accuracy=" << fixed(chosen.predicted_accuracy, 4) << " size_bytes=" << chosen.size_bytes
            << " bitops=" << fixed(chosen.bitops, 0) << "\n";
  Project applied = analysis::apply_config(p, r, chosen);
  applied.training.threads = load_project(args.project).training.threads;  // not the --threads override
  check_writable(out, "project");
  save_project(applied, out);
  std::cout << "wrote " << out << " (fine-tune it: qnn train " << out << " --weights FILE --epochs 2)\n";
  if (verify) {
    // As a sweep point: the base model (FILE on PROJECT's network), its never-calibrated
    // activation quantizers calibrated as the sweep did, its state copied into the
    // suggested configuration (activation thresholds kept), evaluated on the sweep's
    // held-out images.
    QuantModel base = load_model(p, weights);
    InterruptGuard interrupts;
    analysis::CalibrationOptions options;
    options.batches = r.calibration_batches > 0 ? r.calibration_batches : 8;
    options.batch_size = 64;
    const Dataset train = load_dataset(p, true, options.batches * options.batch_size);
    const analysis::CalibrationResult c =
        analysis::calibrate_uncalibrated(base, train, options, {}, &interrupt_flag());
    if (c.cancelled || interrupt_flag()) {
      std::cerr << "qnn suggest: interrupted; the suggested project is written, not verified" << std::endl;
      return kExitInterrupted;
    }
    QuantModel model = build_model(applied);
    copy_model_state(*base, *model);
    model->eval();
    const Dataset test = load_dataset(p, false, r.holdout);
    const EvalResult e = evaluate(model, test, 256, &interrupt_flag());
    if (interrupt_flag()) {
      std::cerr << "qnn suggest: interrupted; the suggested project is written, not verified" << std::endl;
      return kExitInterrupted;
    }
    std::cout << "verify: as a sweep point (" << weights << "'s trained state"
              << (c.calibrated.empty() ? std::string()
                                       : ", calibrated first on " + std::to_string(c.samples) +
                                             " training images: " + join(c.calibrated))
              << "), " << e.samples << " held-out images: measured " << fixed(e.accuracy * 100, 2)
              << " % vs predicted " << fixed(chosen.predicted_accuracy * 100, 2) << " % ("
              << fixed((e.accuracy - chosen.predicted_accuracy) * 100, 2) << " points)\n";
    std::cout << "measured_accuracy=" << fixed(e.accuracy, 4) << "\n";
  }
  std::cout << "suggested=" << bits_text(r, chosen) << std::endl;
  return kExitOk;
}

}  // namespace qnn::cli
