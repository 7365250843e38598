// SPDX-License-Identifier: GPL-3.0-or-later
// The project document: the network graph with per-layer quantizer settings, the
// dataset and the training settings. Plain data (no LibTorch, no Qt); saved as
// versioned JSON ("qnn-studio-project", version 2: layers plus a "connections" list;
// version 1 files, with per-layer "inputs", are migrated when loaded). It is the
// single source of truth: the model builder, the CLI and the widgets all read it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/graph/sweep_record.h"
#include "core/quant/quant_spec.h"

namespace qnn {

/// Layer types a graph can hold: the key of the layer registry, where each type's
/// descriptor says everything about it (core/layers/layer_descriptor.h). Quant* types
/// carry quantizers; Conv2d, Linear, ReLU, HardTanh, Identity are their float
/// counterparts. Append-only (new types go last).
enum class LayerType {
  Input, Output,
  QuantIdentity, QuantReLU, QuantHardTanh, QuantConv2d, QuantLinear,
  Conv2d, Linear, ReLU, HardTanh,
  MaxPool2d, AvgPool2d, Flatten, Dropout,
  BatchNorm2d,      ///< torch::nn::BatchNorm2d: params num_features, eps (1e-5), momentum (0.1)
  Identity,         ///< float counterpart of QuantIdentity: passes its input (and its grid) on
  Add,              ///< elementwise sum of ports 0 and 1 (Brevitas QuantTensor __add__ rules)
  QuantEltwiseAdd,  ///< Brevitas QuantEltwiseAdd: input_quant on both inputs, sum, act_quant (output)
  QuantConv1d,      ///< Brevitas QuantConv1d: [C, L] -> [C_out, L_out] (params as QuantConv2d)
  Conv1d,           ///< torch::nn::Conv1d, the float counterpart
  BatchNorm1d,      ///< torch::nn::BatchNorm1d on [C] or [C, L]: num_features, eps, momentum
  QuantTanh,        ///< Brevitas QuantTanh: tanh, then act_quant (Int8ActPerTensorFloat)
  QuantSigmoid,     ///< Brevitas QuantSigmoid: sigmoid, then act_quant (Uint8ActPerTensorFloat)
  Tanh,             ///< torch.nn.Tanh (float)
  Sigmoid,          ///< torch.nn.Sigmoid (float)
  TruncAvgPool2d,   ///< Brevitas TruncAvgPool2d: kernel_size, stride, bit_width (8), floor (0)
  TruncAdaptiveAvgPool2d,  ///< Brevitas TruncAdaptiveAvgPool2d: output_size (1), bit_width, floor
  Concat,           ///< torch.cat along channels of num_inputs (2) ports (Brevitas QuantTensor cat rule)
  Upsample,         ///< nearest-neighbour upsampling by scale_factor (2)
  DepthToSpace,     ///< torch.nn.PixelShuffle / ONNX DepthToSpace CRD by block_size (2)
};
std::string to_string(LayerType t);
/// Throws ConfigError listing the known type names.
LayerType layer_type_from_string(const std::string& s);
/// Every layer type, in declaration order (palettes, tests).
const std::vector<LayerType>& all_layer_types();
/// Number of input ports of a layer of type `t` with default parameters: 0 (Input),
/// 2 (Add, QuantEltwiseAdd) or 1.
int input_port_count(LayerType t);
struct LayerSpec;
/// Number of input ports of a layer (its descriptor's input_ports).
int input_port_count(const LayerSpec& l);

/// One node of the graph.
struct LayerSpec {
  std::string id;                 ///< unique, [A-Za-z_][A-Za-z0-9_]*; names the module in checkpoints
  LayerType type = LayerType::Input;
  /// Port-indexed sources: inputs[port] is the id of the layer feeding input port
  /// `port`, "" when that port is not connected (allowed in the document so an editor
  /// can hold half-built graphs; validation reports it). Loading sizes the list to at
  /// least input_port_count(type). Trailing "" entries are insignificant (operator==
  /// ignores them; they are not saved).
  std::vector<std::string> inputs;
  /// Integer/real parameters by name: in_channels, out_channels, kernel_size, stride,
  /// padding, in_features, out_features, bias (0/1), p (dropout), min_val, max_val.
  /// A parameter is either here (one number) or in `pairs`, never in both.
  std::map<std::string, double> params;
  /// Parameters written as a pair [h, w] (PyTorch/Brevitas tuple form, e.g. kernel_size
  /// (3, 1)): the project file's `"kernel_size": [3, 1]`. Entries are kept as read (not
  /// necessarily whole or positive: validation reports that on the node).
  std::map<std::string, std::array<double, 2>> pairs;
  std::optional<QuantSpec> weight_quant;  ///< QuantConv2d / QuantLinear
  std::optional<QuantSpec> bias_quant;    ///< QuantConv2d / QuantLinear with a bias; nullopt: float bias
  std::optional<QuantSpec> act_quant;     ///< QuantIdentity / QuantReLU / QuantHardTanh; output quantizer of QuantEltwiseAdd
  bool return_quant_tensor = false;
  double x = 0.0, y = 0.0;                ///< position in the editor (scene units)
  std::optional<QuantSpec> input_quant;   ///< QuantEltwiseAdd: quantizer applied to both inputs (default Int8ActPerTensorFloat)

  /// Parameter with a default when absent (a pair gives its first entry, h).
  double param(const std::string& name, double fallback) const;
  int64_t int_param(const std::string& name, int64_t fallback) const;
  /// A parameter as [h, w]: the pair, or the one number for both axes, or `fallback`
  /// for both when absent (entries rounded to whole numbers).
  std::array<int64_t, 2> pair_param(const std::string& name, int64_t fallback) const;
  /// Whether the layer sets `name` (as a number or a pair).
  bool has_param(const std::string& name) const;
  /// Sets `name` to one number (removing a pair of that name).
  void set_param(const std::string& name, double value);
  /// Sets `name` to the pair [h, w] (removing a number of that name).
  void set_pair(const std::string& name, double h, double w);
  /// Removes `name` in either form.
  void erase_param(const std::string& name);
  bool operator==(const LayerSpec& o) const;
};

/// Which data to train and test on.
struct DatasetSpec {
  /// "fashion-mnist", "mnist" (IDX files), "cifar10" (binary) or "image-folder" (PNG/JPEG
  /// files, one subfolder per class: core/data/image_folder.h)
  std::string name = "fashion-mnist";
  std::string path = "/usr/share/datasets/fashion-mnist";  ///< folder holding the files
  int pad = 2;             ///< zero padding on each side (28 -> 32 for LeNet); file default 0 for image-folder
  bool normalize = true;   ///< (x - mean) / std with the dataset's channel statistics
  /// image-folder: how an image meets the input H x W (minus 2 * pad): "resize" (stretched,
  /// triangle/bilinear filter), "pad" (centred on black; larger images are an error) or
  /// "none" (every image must have exactly that size). One of kDatasetFits.
  std::string fit = "resize";
  /// image-folder without train/ and test/ subfolders: the share of each class's images
  /// held out as the test set, chosen by a hash of the file name; in (0, 1).
  double test_fraction = 0.2;
  bool operator==(const DatasetSpec& o) const;
};
/// The values of DatasetSpec::fit.
inline const std::vector<std::string> kDatasetFits{"resize", "pad", "none"};
/// Whether `name` is the image-folder dataset ("image-folder"; case, '-', '_' and ' ' ignored).
bool is_image_folder_dataset(const std::string& name);

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

/// Where the network is meant to run (project file "deployment_target": "none",
/// "onnxruntime" or "finn", format version 4; absent = None, and None is not written, so
/// older files stay byte for byte). Finn turns on FINN's dataflow rules as Warning
/// diagnostics on the nodes at fault (validate(), core/graph/finn_rules.h), and the QONNX
/// export pre-flight refuses a network that breaks one of them.
enum class DeploymentTarget { None, OnnxRuntime, Finn };
/// "none", "onnxruntime", "finn": the project file's and the CLI's spelling.
std::string to_string(DeploymentTarget t);
/// The inverse of to_string(DeploymentTarget); nullopt for any other text.
std::optional<DeploymentTarget> deployment_target_from_string(const std::string& s);

/// One edge of the graph: `from`'s output feeds input port `port` of `to`.
struct Connection {
  std::string from;
  std::string to;
  int port = 0;
  bool operator==(const Connection& o) const { return from == o.from && to == o.to && port == o.port; }
};

struct Project {
  /// 3: version 2 plus the optional "sweep" member; 4: plus "deployment_target". A file
  /// is written with the lowest version that holds it: without a sweep and a target, as
  /// version 2, byte for byte as before.
  static constexpr int kFormatVersion = 4;
  std::string name;
  std::string description;
  std::vector<int64_t> input_shape{1, 32, 32};  ///< [C, H, W] of one sample
  std::vector<LayerSpec> layers;
  DatasetSpec dataset;
  TrainingSpec training;
  /// The last sensitivity sweep run on this project (saved with it), if any.
  std::optional<SweepRecord> sweep;
  /// The deployment target (DeploymentTarget): a project setting, not a layer.
  DeploymentTarget deployment_target = DeploymentTarget::None;

  const LayerSpec* find(const std::string& id) const;
  LayerSpec* find(const std::string& id);
  /// Every connected port, in layer order then port order (the file's "connections").
  std::vector<Connection> connections() const;
  bool operator==(const Project& o) const;
};

/// The first difference between the networks of two projects, e.g.
/// "layer conv1: weight_quant differs (W3 s narrow vs W4 s narrow)": layer ids, types,
/// connections, parameters, quantizers, return_quant_tensor and the input shape count;
/// names, positions, dataset and training settings do not. Empty when they are the same.
std::string network_difference(const Project& a, const Project& b);

/// Parses a project from JSON text (format version 1 or 2; version 1 per-layer
/// "inputs" are migrated to ports). `source` names the file in messages.
/// Throws ConfigError for malformed or truncated JSON (with line and column), a
/// missing or mistyped field, an unknown field (naming its JSON path, e.g.
/// "layers[3].parmas: unknown field"), an unknown layer type or preset, a connection
/// to an unknown layer or a port used twice, or a version newer than kFormatVersion
/// ("needs a newer QNN Studio", naming the version).
Project project_from_json(const std::string& text, const std::string& source = "project");
/// Serialises to pretty-printed JSON, format version 2, or 3 with a sweep (stable key order,
/// one connection per line; load + save of a saved file reproduces it byte for byte).
std::string project_to_json(const Project& p);

/// Reads a project file (never writes it). Throws IoError when the file cannot be
/// read, ConfigError when its content is invalid.
Project load_project(const std::string& path);
/// Writes atomically (temporary file in the same folder, then rename); the old file
/// is untouched on failure. Throws IoError.
void save_project(const Project& p, const std::string& path);

}  // namespace qnn
