// SPDX-License-Identifier: GPL-3.0-or-later
// The report as CSV tables: a header row, one record per line ("\n"), comma separated.
// Numbers are written with std::to_chars: the shortest text that reads back to the same
// double, always with a '.' decimal point (to_chars ignores the C locale, which a
// QApplication sets from the environment: "%g" would write "0,125" under de_DE);
// infinities and NaN as "inf", "-inf", "nan"; booleans as 0/1.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <system_error>

#include "core/errors.h"
#include "core/inspect/inspect.h"
#include "core/inspect/inspect_detail.h"
#include "core/io/atomic_file.h"

namespace qnn::inspect {
namespace {

std::string num(double v) { return detail::number_text(v); }
std::string num(int64_t v) { return std::to_string(v); }
std::string flag(bool b) { return b ? "1" : "0"; }

// Quotes a text field when it holds a separator, a quote or a line break (RFC 4180).
std::string text(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

class Table {
 public:
  explicit Table(std::initializer_list<const char*> header) {
    std::vector<std::string> h(header.begin(), header.end());
    row(h);
  }
  void row(const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i) m_out << ',';
      m_out << fields[i];
    }
    m_out << '\n';
  }
  std::string str() const { return m_out.str(); }

 private:
  std::ostringstream m_out;
};

// "6x1x5x5" (the CSV form of a weight shape).
std::string shape_cell(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

std::string layer_error_csv(const Report& r) {
  Table t({"layer", "type", "weight_mse", "weight_sqnr_db", "act_mse", "act_sqnr_db",
           "local_sqnr_db", "output_mse", "output_sqnr_db"});
  for (const LayerError& e : r.errors)
    t.row({text(e.layer), text(e.type), num(e.weight_mse), num(e.weight_sqnr_db), num(e.act_mse),
           num(e.act_sqnr_db), num(e.local_sqnr_db()), num(e.output_mse), num(e.output_sqnr_db)});
  return t.str();
}

std::string weights_csv(const Report& r) {
  Table t({"layer", "type", "shape", "bit_width", "signed", "narrow_range", "min_int", "max_int",
           "per_channel", "scale_count", "scale_min", "scale_max", "zero_point", "counted",
           "unused_levels", "saturated_low", "saturated_high", "float_min", "float_max", "mse",
           "sqnr_db"});
  for (const WeightStats& w : r.weights) {
    double smin = w.scales.empty() ? 0.0 : w.scales.front(), smax = smin;
    for (double s : w.scales) {
      smin = std::fmin(smin, s);
      smax = std::fmax(smax, s);
    }
    t.row({text(w.layer), text(w.type), shape_cell(w.shape), num(w.grid.bit_width),
           flag(w.grid.is_signed), flag(w.grid.narrow_range), num(w.grid.min_int),
           num(w.grid.max_int), flag(w.per_channel), num(static_cast<int64_t>(w.scales.size())),
           num(smin), num(smax), num(w.zero_points.empty() ? 0.0 : w.zero_points.front()),
           num(w.levels.total()), num(w.levels.unused_levels()), num(w.levels.saturated_low),
           num(w.levels.saturated_high), num(w.float_histogram.lo), num(w.float_histogram.hi),
           num(w.mse), num(w.sqnr_db)});
  }
  return t.str();
}

void level_rows(Table& t, const std::string& layer, const std::string* channel,
                const LevelHistogram& h) {
  for (size_t i = 0; i < h.counts.size(); ++i) {
    std::vector<std::string> f{text(layer)};
    if (channel) f.push_back(*channel);
    f.push_back(num(h.min_int + static_cast<int64_t>(i)));
    f.push_back(num(h.counts[i]));
    t.row(f);
  }
}

std::string weight_levels_csv(const Report& r) {
  Table t({"layer", "channel", "code", "count"});
  for (const WeightStats& w : r.weights) {
    const std::string whole = "-1";
    level_rows(t, w.layer, &whole, w.levels);
    for (size_t c = 0; c < w.channel_levels.size(); ++c) {
      const std::string ch = std::to_string(c);
      level_rows(t, w.layer, &ch, w.channel_levels[c]);
    }
  }
  return t.str();
}

void histogram_rows(Table& t, const std::string& layer, const Histogram& h) {
  const double w = h.bin_width();
  const size_t n = h.counts.size();
  for (size_t i = 0; i < n; ++i) {
    const double lo = h.lo + static_cast<double>(i) * w;
    const double hi = i + 1 == n ? h.hi : h.lo + static_cast<double>(i + 1) * w;
    t.row({text(layer), num(static_cast<int64_t>(i)), num(lo), num(hi), num(h.counts[i])});
  }
}

std::string weight_histogram_csv(const Report& r) {
  Table t({"layer", "bin", "lo", "hi", "count"});
  for (const WeightStats& w : r.weights) histogram_rows(t, w.layer, w.float_histogram);
  return t.str();
}

// The row key of an activation quantizer: the layer id, "<id>.input_quant" for the
// input quantizer of a QuantEltwiseAdd (layer ids hold no '.').
std::string act_label(const ActivationStats& a) {
  return a.quantizer == "input" ? a.layer + ".input_quant" : a.layer;
}

std::string activations_csv(const Report& r) {
  Table t({"layer", "type", "bit_width", "signed", "narrow_range", "min_int", "max_int", "scale",
           "zero_point", "range_lo", "range_hi", "learned_phase", "input_min", "input_max",
           "counted", "unused_levels", "saturated_low", "saturated_high", "clipped_share", "mse",
           "sqnr_db"});
  for (const ActivationStats& a : r.activations)
    t.row({text(act_label(a)), text(a.type), num(a.grid.bit_width), flag(a.grid.is_signed),
           flag(a.grid.narrow_range), num(a.grid.min_int), num(a.grid.max_int), num(a.scale),
           num(a.zero_point), num(a.range_lo), num(a.range_hi), flag(a.learned_phase),
           num(a.input_min), num(a.input_max), num(a.levels.total()),
           num(a.levels.unused_levels()), num(a.levels.saturated_low),
           num(a.levels.saturated_high), num(a.clipped_share), num(a.mse), num(a.sqnr_db)});
  return t.str();
}

std::string activation_histogram_csv(const Report& r) {
  Table t({"layer", "bin", "lo", "hi", "count"});
  for (const ActivationStats& a : r.activations) histogram_rows(t, act_label(a), a.input_histogram);
  return t.str();
}

std::string activation_levels_csv(const Report& r) {
  Table t({"layer", "code", "count"});
  for (const ActivationStats& a : r.activations) level_rows(t, act_label(a), nullptr, a.levels);
  return t.str();
}

std::string scales_csv(const Report& r) {
  Table t({"step", "layer", "quantizer", "channel", "scale"});
  // Channel numbers for per-channel weight quantizers, also with one output channel;
  // activation quantizers are per tensor (-1). A weight entry without WeightStats (a
  // hand-made report) is per channel when it has several scales.
  std::map<std::string, bool> weight_per_channel;
  for (const WeightStats& w : r.weights) weight_per_channel[w.layer] = w.per_channel;
  for (const ScaleSnapshot::Entry& e : r.scales.entries) {
    bool per_channel = false;
    if (e.quantizer == "weight") {
      const auto it = weight_per_channel.find(e.layer);
      per_channel = it != weight_per_channel.end() ? it->second : e.scales.size() > 1;
    }
    for (size_t i = 0; i < e.scales.size(); ++i)
      t.row({num(r.scales.step), text(e.layer), text(e.quantizer),
             per_channel ? num(static_cast<int64_t>(i)) : std::string("-1"), num(e.scales[i])});
  }
  return t.str();
}

std::string biases_csv(const Report& r) {
  Table t({"layer", "type", "quantizer", "bit_width", "per_channel", "scale_min", "scale_max", "min_code",
           "max_code", "clipped", "total", "clipped_share"});
  for (const BiasStats& b : r.biases) {
    double lo = b.scales.empty() ? 0.0 : b.scales.front(), hi = lo;
    for (double s : b.scales) {
      lo = std::min(lo, s);
      hi = std::max(hi, s);
    }
    t.row({text(b.layer), text(b.type), text(b.quantizer), num(b.grid.bit_width), flag(b.per_channel), num(lo),
           num(hi), num(b.min_code), num(b.max_code), num(b.clipped()), num(b.total), num(b.clipped_share())});
  }
  return t.str();
}

std::string summary_csv(const Report& r) {
  Table t({"calibration_samples", "logits_sqnr_db", "top1_agreement", "worst_layer", "step"});
  t.row({num(r.calibration_samples), num(r.logits_sqnr_db), num(r.top1_agreement),
         text(r.worst_layer), num(r.scales.step)});
  return t.str();
}

using TableFn = std::string (*)(const Report&);
const std::vector<std::pair<std::string, TableFn>>& tables() {
  static const std::vector<std::pair<std::string, TableFn>> t{
      {"layer_error", layer_error_csv},
      {"weights", weights_csv},
      {"weight_levels", weight_levels_csv},
      {"weight_histogram", weight_histogram_csv},
      {"activations", activations_csv},
      {"activation_histogram", activation_histogram_csv},
      {"activation_levels", activation_levels_csv},
      {"scales", scales_csv},
      {"biases", biases_csv},
      {"summary", summary_csv},
  };
  return t;
}

}  // namespace

std::string table_csv(const Report& report, const std::string& table) {
  std::string known;
  for (const auto& [name, fn] : tables()) {
    if (name == table) return fn(report);
    known += (known.empty() ? "" : ", ") + name;
  }
  throw ConfigError("unknown inspection table \"" + table + "\"; known tables: " + known);
}

std::vector<std::string> write_report_csv(const Report& report, const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path folder(dir.empty() ? "." : dir);
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec || !fs::is_directory(folder))
    throw IoError("cannot create the report folder " + folder.string() + ": " +
                  (ec ? ec.message() : std::string("a file of that name exists")));
  std::vector<std::string> written;
  for (const auto& [name, fn] : tables()) {
    const std::string path = (folder / (name + ".csv")).string();
    write_text_atomically(path, "inspection table", fn(report));
    written.push_back(path);
  }
  return written;
}

}  // namespace qnn::inspect
