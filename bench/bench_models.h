// SPDX-License-Identifier: GPL-3.0-or-later
// The networks qnn_bench times: the example projects built by build_model, and the
// same LeNet-5 written with plain LibTorch float layers (the reference of every
// QAT/float ratio). Also a state digest used to check that an optimisation leaves
// the numbers bit-for-bit unchanged.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/quant/quantizers.h"

namespace qnn::bench {

/// LeNet-5 in plain LibTorch: x [N, 1, 32, 32] -> conv 6@5x5 -> relu -> maxpool 2 ->
/// conv 16@5x5 -> relu -> maxpool 2 -> flatten [N, 400] -> fc 120 -> relu -> fc 84 ->
/// relu -> fc 10 (no bias, as in the example projects) -> logits [N, 10].
/// `exact_fc`: the fully connected layers run through qnn::detail::linear_exact (the
/// kernel QuantLinear uses, core/nn/linear_kernel.h) instead of torch::nn::Linear's
/// forward, which calls the installed BLAS; same parameters, same results.
struct FloatLeNetImpl : torch::nn::Module {
  explicit FloatLeNetImpl(bool exact_fc = false);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
  bool exact_fc = false;
};
TORCH_MODULE(FloatLeNet);

/// The float twin of resources/examples/lenet5_classic.qnn.json (issue 11) in plain
/// LibTorch: x [N, 1, 32, 32] -> conv 6@5x5 -> tanh -> avg_pool 2 -> conv 16@5x5 -> tanh
/// -> avg_pool 2 -> flatten [N, 400] -> fc 120 -> tanh -> fc 84 -> tanh -> fc 10 ->
/// logits [N, 10]. Every layer has a bias, as in the project (there with Int32Bias).
/// The project's input QuantIdentity has no float counterpart (it is the identity).
/// `exact_fc` as in FloatLeNetImpl.
struct FloatClassicLeNetImpl : torch::nn::Module {
  explicit FloatClassicLeNetImpl(bool exact_fc = false);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
  bool exact_fc = false;
};
TORCH_MODULE(FloatClassicLeNet);

/// One benchmarked network with its own Adam optimizer (lr 1e-3, as the projects).
class BenchNet {
 public:
  /// The plain LibTorch float LeNet, named "torch_float". Initialised from the global seed.
  /// With `input_grad` ("torch_float_dx") its input requires grad in training, so conv1
  /// also computes the gradient of its input, as every net with an input quantizer
  /// must (the learned input scale is trained through it). With `exact_fc`
  /// ("torch_float_fc") the fully connected layers use QNN Studio's kernel (see
  /// FloatLeNetImpl): float LibTorch with the same fc layers as the projects.
  static std::unique_ptr<BenchNet> torch_float(bool input_grad = false, bool exact_fc = false);
  /// The float twin of the classic LeNet-5 (FloatClassicLeNet), named
  /// "torch_float_classic", "torch_float_classic_dx" with `input_grad` or
  /// "torch_float_classic_fc" with `exact_fc` (as above).
  static std::unique_ptr<BenchNet> torch_float_classic(bool input_grad = false, bool exact_fc = false);
  /// A project built with build_model (throws ConfigError for an invalid project).
  static std::unique_ptr<BenchNet> from_project(const std::string& name, const Project& project);

  /// One training step as the trainer does it: grads reset to none, forward,
  /// cross-entropy, backward, optimizer step. x [N, 1, 32, 32], y [N] int64 in [0, 10).
  /// Returns the loss (detached, shape []).
  torch::Tensor train_step(const torch::Tensor& x, const torch::Tensor& y);
  /// Eval forward under NoGradGuard; the caller puts the net in eval mode first.
  /// Returns the logits [N, 10].
  torch::Tensor eval_forward(const torch::Tensor& x);
  /// train(true) / eval() on the whole module.
  void set_training(bool on);
  /// True while at least one activation quantizer still collects runtime statistics
  /// (training calls < collect_stats_steps + 1); false for nets without any.
  bool in_stats_phase() const;
  /// Whether the net has activation quantizers with runtime statistics at all.
  bool has_stats() const { return !m_stats_quantizers.empty(); }
  /// The module (parameters and buffers) for digests.
  const torch::nn::Module& module() const { return *m_module; }

  std::string name;

 private:
  BenchNet() = default;
  template <typename Net>
  static std::unique_ptr<BenchNet> plain(const std::string& name, bool input_grad, bool exact_fc);
  std::shared_ptr<torch::nn::Module> m_module;
  std::function<torch::Tensor(const torch::Tensor&)> m_forward;
  std::unique_ptr<torch::optim::Adam> m_optimizer;
  std::vector<torch::Tensor> m_params;
  std::vector<ActQuantizerImpl*> m_stats_quantizers;
};

/// FNV-1a 64 over the bytes of every parameter and buffer (in registration order,
/// names included), as 16 hex digits. Equal digests mean bit-identical state.
std::string digest(const torch::nn::Module& m);
/// FNV-1a 64 of one tensor's bytes (made contiguous), 16 hex digits.
std::string digest(const torch::Tensor& t);

/// Loads resources/examples/lenet_<name>.qnn.json from `examples_dir`; the name
/// "classic" loads lenet5_classic.qnn.json. Throws IoError / ConfigError as load_project does.
Project load_example(const std::string& examples_dir, const std::string& name);

}  // namespace qnn::bench
