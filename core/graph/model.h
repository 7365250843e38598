// SPDX-License-Identifier: GPL-3.0-or-later
// The model built from a project graph: one LibTorch module per layer, registered
// under the layer id (so checkpoints say "conv1.weight",
// "relu1.act_quant.value", ...), run in topological order. Nodes may take several
// inputs (Add, QuantEltwiseAdd: ports 0 and 1).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/graph/project.h"
#include "core/nn/layer.h"
#include "core/quant/quant_tensor.h"

namespace qnn {

class QuantModelImpl : public torch::nn::Module {
 public:
  /// Builds the modules. Throws ConfigError with the validator's messages when the
  /// graph is invalid. Parameters are initialised from the global torch seed.
  explicit QuantModelImpl(const Project& project);

  /// x: [N, C, H, W] float -> logits [N, classes] (the Output node's value).
  torch::Tensor forward(const torch::Tensor& x);
  /// Like forward, keeping the QuantTensor of the output node.
  QuantTensor forward_quant(const torch::Tensor& x);
  /// Runs the graph and returns every node's output by layer id (inspection, tests).
  std::map<std::string, QuantTensor> forward_trace(const torch::Tensor& x);

  /// Turns every quantizer on or off (off = the same network in float).
  void set_quant_enabled(bool on);

  /// Layer ids in execution order (Input and Output excluded).
  const std::vector<std::string>& order() const { return m_order; }
  /// The module of a layer, or nullptr.
  std::shared_ptr<torch::nn::Module> layer(const std::string& id) const;
  const Project& project() const { return m_project; }

 private:
  struct Node {
    std::string id;
    std::vector<std::string> inputs;  ///< the feeding layer ids in port order (two for Add)
    LayerBase* layer = nullptr;
    std::shared_ptr<torch::nn::Module> module;
  };
  QuantTensor run(const torch::Tensor& x, std::map<std::string, QuantTensor>* trace);

  Project m_project;
  std::vector<Node> m_nodes;
  std::vector<std::string> m_order;
  std::string m_input_id, m_output_source;
};
TORCH_MODULE(QuantModel);

/// Builds a model from a project (validates first; throws ConfigError).
QuantModel build_model(const Project& project);

/// Every parameter and buffer of `model` by its checkpoint name ("conv1.weight",
/// "relu1.act_quant.value", "bn1.running_mean", ...). The tensors are the model's own
/// (writing one writes the model); an undefined one (a layer without bias) is absent.
std::map<std::string, torch::Tensor> named_tensors(QuantModelImpl& model);

/// Copies every parameter and buffer of `from` into the tensor of the same name in `to`
/// (e.g. "conv1.weight", "relu1.act_quant.value"); names `to` lacks are skipped and
/// tensors `from` lacks keep their value. Throws ConfigError naming a tensor whose
/// shapes differ. No gradient is recorded.
void copy_model_state(QuantModelImpl& from, QuantModelImpl& to);

/// An independent copy of `model`: built from its project, with its state
/// (copy_model_state) and training flag; quantizer switches are on. Lets a worker
/// thread read a model (inspection) while the original stays in use.
QuantModel clone_model(QuantModel& model);

}  // namespace qnn
