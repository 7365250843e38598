// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to core/analysis: the graph walk the analyses share (the executor of
// QuantModelImpl::run, op for op, with a hook after every node and the float-bias rule
// of set_layer_quant_enabled), the evaluation loop (the numbers of qnn::evaluate), a
// guard that puts back training flags and quantizer switches, and small helpers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "core/analysis/analysis.h"
#include "core/graph/summary.h"
#include "core/nn/layer.h"
#include "core/quant/quantizers.h"

namespace qnn::analysis::detail {

/// Called after each node with its id, module, inputs (port order) and output;
/// returns true to stop the walk there.
using NodeHook = std::function<bool(const std::string& id, torch::nn::Module& module,
                                    const std::vector<QuantTensor>& inputs, const QuantTensor& output)>;

/// Runs `model` on x [N, ...] as QuantModelImpl::forward does (same modules, same
/// calls, same order), except where a switched-off quantizer leaves a layer an
/// unquantized input that it would refuse: a QuantConv/QuantLinear with a bias
/// quantizer adds its float bias, and a TruncAvgPool2d / TruncAdaptiveAvgPool2d averages
/// the float values (as Brevitas's calibration_mode, which disables truncation too). Returns the Output node's value (or the stopping node's
/// output). c10::Error and ConfigError pass through.
QuantTensor run_graph(QuantModelImpl& model, const torch::Tensor& x, const NodeHook& hook = {});

/// Accuracy and loss as qnn::evaluate computes them (eval mode is the caller's).
struct Eval {
  double accuracy = 0.0;
  double loss = 0.0;
  int64_t samples = 0;
  bool cancelled = false;
};
/// Evaluates the first `n` images of `images`/`labels` in batches, without gradient,
/// through run_graph. `what` names the configuration in a ConfigError wrapping a
/// LibTorch error.
Eval evaluate_images(QuantModelImpl& model, const torch::Tensor& images, const torch::Tensor& labels,
                     int64_t batch_size, const std::atomic<bool>* cancel, const std::string& what);

/// Every weight / activation quantizer module of a layer module (itself included).
std::vector<WeightQuantizerImpl*> weight_quantizers(torch::nn::Module& layer);
/// (name within the layer, quantizer): "act_quant", "input_quant", "output_quant".
std::vector<std::pair<std::string, ActQuantizerImpl*>> act_quantizers(torch::nn::Module& layer);

/// Records every module's training flag and every quantizer's switch; puts them back
/// when destroyed (pre-order, as inspect's guard).
class ModelStateGuard {
 public:
  explicit ModelStateGuard(QuantModelImpl& model);
  ~ModelStateGuard();
  ModelStateGuard(const ModelStateGuard&) = delete;
  ModelStateGuard& operator=(const ModelStateGuard&) = delete;

 private:
  std::vector<std::pair<std::shared_ptr<torch::nn::Module>, bool>> m_training, m_switches;
};

/// Throws ConfigError unless images are [N, <project input shape>] with N >= 1.
void check_images(const QuantModelImpl& model, const Dataset& data, const std::string& what);

/// Seconds since `start`.
double seconds_since(std::chrono::steady_clock::time_point start);
/// ETA from elapsed seconds and done/total units (NaN while done == 0).
double eta(double elapsed, int64_t done, int64_t total);

/// Locale-independent number text: integers as integers, else the shortest round trip;
/// "inf", "-inf", "nan".
std::string num(double v);

/// The first line of a LibTorch error, without its backtrace.
std::string torch_message(const c10::Error& e);

}  // namespace qnn::analysis::detail

namespace qnn::analysis::detail {

/// One layer's share of model_cost: storage bits (LayerSummary::storage_bits) and
/// BitOps per sample (MACs x weight bits x input bits, 32 for float).
struct LayerCost {
  std::string id;
  int64_t storage_bits = 0;
  double bitops = 0.0;
};
/// Per layer, summary order. Throws ConfigError for an invalid project.
std::vector<LayerCost> layer_costs(const Project& project);
/// Bytes for a total of storage bits (ModelSummary::size_bytes: ceil(bits / 8)); a
/// saturated count (kCountSaturated, core/graph/summary.h) stays saturated.
inline int64_t bytes_of(int64_t bits) { return bits >= kCountSaturated - 7 ? kCountSaturated : (bits + 7) / 8; }

}  // namespace qnn::analysis::detail
