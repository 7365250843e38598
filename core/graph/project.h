// SPDX-License-Identifier: GPL-3.0-or-later
// The project document: the network graph with per-layer quantizer settings, the
// dataset and the training settings. Plain data (no LibTorch, no Qt); saved as
// versioned JSON ("qnn-studio-project", version 1). It is the single source of
// truth: the model builder, the CLI and the widgets all read it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/quant/quant_spec.h"

namespace qnn {

/// Layer types a graph can hold. Quant* types carry quantizers; Conv2d, Linear, ReLU,
/// HardTanh, Identity are their float counterparts.
enum class LayerType {
  Input, Output,
  QuantIdentity, QuantReLU, QuantHardTanh, QuantConv2d, QuantLinear,
  Conv2d, Linear, ReLU, HardTanh,
  MaxPool2d, AvgPool2d, Flatten, Dropout,
};
std::string to_string(LayerType t);
/// Throws ConfigError listing the known type names.
LayerType layer_type_from_string(const std::string& s);

/// One node of the graph.
struct LayerSpec {
  std::string id;                 ///< unique, [A-Za-z_][A-Za-z0-9_]*; names the module in checkpoints
  LayerType type = LayerType::Input;
  std::vector<std::string> inputs;  ///< ids of the layers feeding this one (one for every type but Input)
  /// Integer/real parameters by name: in_channels, out_channels, kernel_size, stride,
  /// padding, in_features, out_features, bias (0/1), p (dropout), min_val, max_val.
  std::map<std::string, double> params;
  std::optional<QuantSpec> weight_quant;  ///< QuantConv2d / QuantLinear
  std::optional<QuantSpec> bias_quant;    ///< QuantConv2d / QuantLinear with a bias; nullopt: float bias
  std::optional<QuantSpec> act_quant;     ///< QuantIdentity / QuantReLU / QuantHardTanh
  bool return_quant_tensor = false;
  double x = 0.0, y = 0.0;                ///< position in the editor (scene units)

  /// Parameter with a default when absent.
  double param(const std::string& name, double fallback) const;
  int64_t int_param(const std::string& name, int64_t fallback) const;
  bool operator==(const LayerSpec& o) const;
};

/// Which data to train and test on.
struct DatasetSpec {
  std::string name = "fashion-mnist";  ///< "fashion-mnist", "mnist" (IDX files) or "cifar10" (binary)
  std::string path = "/usr/share/datasets/fashion-mnist";  ///< folder holding the files
  int pad = 2;             ///< zero padding on each side (28 -> 32 for LeNet)
  bool normalize = true;   ///< (x - mean) / std with the dataset's channel statistics
  bool operator==(const DatasetSpec& o) const;
};

/// Training settings (defaults of the CLI and the GUI).
struct TrainingSpec {
  std::string optimizer = "adam";  ///< "adam" or "sgd" (with momentum)
  double learning_rate = 1e-3;
  double momentum = 0.9;           ///< SGD only
  double weight_decay = 0.0;
  int64_t batch_size = 64;
  int64_t epochs = 5;
  uint64_t seed = 0;
  int threads = 0;                 ///< 0: the number of cores
  bool operator==(const TrainingSpec& o) const;
};

struct Project {
  static constexpr int kFormatVersion = 1;
  std::string name;
  std::string description;
  std::vector<int64_t> input_shape{1, 32, 32};  ///< [C, H, W] of one sample
  std::vector<LayerSpec> layers;
  DatasetSpec dataset;
  TrainingSpec training;

  const LayerSpec* find(const std::string& id) const;
  LayerSpec* find(const std::string& id);
  bool operator==(const Project& o) const;
};

/// The first difference between the networks of two projects, e.g.
/// "layer conv1: weight_quant differs (W3 s narrow vs W4 s narrow)": layer ids, types,
/// connections, parameters, quantizers, return_quant_tensor and the input shape count;
/// names, positions, dataset and training settings do not. Empty when they are the same.
std::string network_difference(const Project& a, const Project& b);

/// Parses a project from JSON text. `source` names the file in messages.
/// Throws ConfigError for malformed JSON, a missing or mistyped field, an unknown
/// layer type or preset, or a version newer than kFormatVersion (message says which).
Project project_from_json(const std::string& text, const std::string& source = "project");
/// Serialises to pretty-printed JSON (stable key order, round-trips exactly).
std::string project_to_json(const Project& p);

/// Reads a project file. Throws IoError when the file cannot be read, ConfigError
/// when its content is invalid.
Project load_project(const std::string& path);
/// Writes atomically (temporary file in the same folder, then rename); the old file
/// is untouched on failure. Throws IoError.
void save_project(const Project& p, const std::string& path);

}  // namespace qnn
