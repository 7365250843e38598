// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/graph/validate_settings.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/data/dataset.h"
#include "core/errors.h"

namespace qnn {

std::vector<Diagnostic> settings_diagnostics(const Project& p) {
  std::vector<Diagnostic> out;
  auto add = [&](Diagnostic::Severity sev, const char* node, std::string msg, std::string hint) {
    out.push_back({sev, node, std::move(msg), std::move(hint), "settings"});
  };
  const auto error = Diagnostic::Severity::Error;
  auto number = [](double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  };
  const TrainingSpec& t = p.training;
  if (t.optimizer != "adam" && t.optimizer != "sgd")
    add(error, "training", "unknown optimizer '" + t.optimizer + "'", "use \"adam\" or \"sgd\"");
  if (!(t.learning_rate > 0.0) || !std::isfinite(t.learning_rate))
    add(error, "training", "learning_rate must be a positive number, got " + number(t.learning_rate), "e.g. 0.001");
  if (t.batch_size < 1)
    add(error, "training", "batch_size must be at least 1, got " + std::to_string(t.batch_size), "e.g. 64");
  if (t.epochs < 1) add(error, "training", "epochs must be at least 1, got " + std::to_string(t.epochs), "e.g. 5");
  if (!(t.momentum >= 0.0 && t.momentum < 1.0))
    add(error, "training", "momentum must be in [0, 1), got " + number(t.momentum), "e.g. 0.9");
  if (!(t.weight_decay >= 0.0)) add(error, "training", "weight_decay must not be negative", "use 0 for none");
  if (t.threads < 0) add(error, "training", "threads must be 0 (all cores) or more", "use 0");
  const DatasetSpec& d = p.dataset;
  const bool images = is_image_folder_dataset(d.name);
  if (!images) {
    try {
      dataset_classes(d.name);
    } catch (const ConfigError& e) {
      add(error, "dataset", e.what(), "use fashion-mnist, mnist, cifar10 or image-folder");
    }
  }
  if (d.pad < 0)
    add(error, "dataset", "pad must not be negative, got " + std::to_string(d.pad), "use 2 for 28x28 -> 32x32");
  if (std::find(kDatasetFits.begin(), kDatasetFits.end(), d.fit) == kDatasetFits.end())
    add(error, "dataset", "unknown fit '" + d.fit + "'", "use \"resize\", \"pad\" or \"none\"");
  if (!(d.test_fraction > 0.0 && d.test_fraction < 1.0))
    add(error, "dataset", "test_fraction must be between 0 and 1 (exclusive), got " + number(d.test_fraction),
        "e.g. 0.2");
  const auto& s = p.input_shape;
  if (images && (s.size() != 3 || (s[0] != 1 && s[0] != 3)))
    add(error, "dataset", "the image-folder dataset needs an input shape [C, H, W] with C = 1 or 3, got " +
        shape_text(s), "set the Input layer's shape to [1, H, W] (grayscale) or [3, H, W] (RGB)");
  else if (images && d.pad >= 0 && (s[1] - 2 * d.pad < 1 || s[2] - 2 * d.pad < 1))
    add(error, "dataset", "pad " + std::to_string(d.pad) + " leaves no room for the image in the " +
        std::to_string(s[1]) + "x" + std::to_string(s[2]) + " input", "use pad 0");
  std::error_code ec;
  if (!std::filesystem::is_directory(d.path, ec))
    add(Diagnostic::Severity::Warning, "dataset", "the dataset folder " + d.path + " does not exist",
        images ? "set dataset.path to a folder with one subfolder of PNG/JPEG images per class"
               : "install dataset-fashion-mnist (scripts/install-deps) or set dataset.path");
  return out;
}

bool ValidationResult::ok() const {
  return std::none_of(diagnostics.begin(), diagnostics.end(),
                      [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::Error; });
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::ostringstream o;
  o << '[';
  for (size_t i = 0; i < shape.size(); ++i) o << (i ? ", " : "") << shape[i];
  o << ']';
  return o.str();
}

std::string diagnostic_line(const Diagnostic& d) {
  std::string line = d.severity == Diagnostic::Severity::Error ? "error: " : "warning: ";
  if (!d.node.empty()) line += d.node + ": ";
  line += d.message;
  if (!d.hint.empty()) line += " (hint: " + d.hint + ")";
  return line;
}

std::string ValidationResult::error_text() const {
  std::string text;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity != Diagnostic::Severity::Error) continue;
    if (!text.empty()) text += '\n';
    text += (d.node.empty() ? std::string() : d.node + ": ") + d.message;
    if (!d.hint.empty()) text += " (hint: " + d.hint + ")";
  }
  return text;
}

}  // namespace qnn
