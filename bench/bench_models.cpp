// SPDX-License-Identifier: GPL-3.0-or-later
#include "bench/bench_models.h"

#include "core/nn/linear_kernel.h"

#include <cstdio>
#include <cstring>

namespace qnn::bench {

FloatLeNetImpl::FloatLeNetImpl(bool exact) : exact_fc(exact) {
  namespace nn = torch::nn;
  conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(1, 6, 5)));
  conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(6, 16, 5)));
  fc1 = register_module("fc1", nn::Linear(nn::LinearOptions(400, 120)));
  fc2 = register_module("fc2", nn::Linear(nn::LinearOptions(120, 84)));
  fc3 = register_module("fc3", nn::Linear(nn::LinearOptions(84, 10).bias(false)));
}

namespace {
torch::Tensor fc(torch::nn::Linear& l, const torch::Tensor& h, bool exact) {
  return exact ? detail::linear_exact(h, l->weight, l->bias) : l(h);
}
}  // namespace

torch::Tensor FloatLeNetImpl::forward(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  auto h = F::max_pool2d(torch::relu(conv1(x)), F::MaxPool2dFuncOptions(2));
  h = F::max_pool2d(torch::relu(conv2(h)), F::MaxPool2dFuncOptions(2));
  h = h.reshape({h.size(0), -1});
  h = torch::relu(fc(fc1, h, exact_fc));
  h = torch::relu(fc(fc2, h, exact_fc));
  return fc(fc3, h, exact_fc);
}

FloatClassicLeNetImpl::FloatClassicLeNetImpl(bool exact) : exact_fc(exact) {
  namespace nn = torch::nn;
  conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(1, 6, 5)));
  conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(6, 16, 5)));
  fc1 = register_module("fc1", nn::Linear(nn::LinearOptions(400, 120)));
  fc2 = register_module("fc2", nn::Linear(nn::LinearOptions(120, 84)));
  fc3 = register_module("fc3", nn::Linear(nn::LinearOptions(84, 10)));
}

torch::Tensor FloatClassicLeNetImpl::forward(const torch::Tensor& x) {
  auto h = torch::avg_pool2d(torch::tanh(conv1(x)), {2, 2});
  h = torch::avg_pool2d(torch::tanh(conv2(h)), {2, 2});
  h = h.reshape({h.size(0), -1});
  h = torch::tanh(fc(fc1, h, exact_fc));
  h = torch::tanh(fc(fc2, h, exact_fc));
  return fc(fc3, h, exact_fc);
}

namespace {
torch::optim::AdamOptions adam_options() { return torch::optim::AdamOptions(1e-3); }
}  // namespace

// A plain LibTorch net as a BenchNet; with `input_grad` its input requires grad in training.
template <typename Net>
std::unique_ptr<BenchNet> BenchNet::plain(const std::string& name, bool input_grad, bool exact_fc) {
  std::unique_ptr<BenchNet> n(new BenchNet());
  n->name = name + (exact_fc ? "_fc" : "") + (input_grad ? "_dx" : "");
  Net net(exact_fc);
  n->m_module = net.ptr();
  if (input_grad)
    n->m_forward = [net](const torch::Tensor& x) mutable {
      return net->forward(torch::GradMode::is_enabled() ? x.detach().requires_grad_(true) : x);
    };
  else
    n->m_forward = [net](const torch::Tensor& x) mutable { return net->forward(x); };
  n->m_params = net->parameters();
  n->m_optimizer = std::make_unique<torch::optim::Adam>(n->m_params, adam_options());
  return n;
}

std::unique_ptr<BenchNet> BenchNet::torch_float(bool input_grad, bool exact_fc) {
  return plain<FloatLeNet>("torch_float", input_grad, exact_fc);
}

std::unique_ptr<BenchNet> BenchNet::torch_float_classic(bool input_grad, bool exact_fc) {
  return plain<FloatClassicLeNet>("torch_float_classic", input_grad, exact_fc);
}

std::unique_ptr<BenchNet> BenchNet::from_project(const std::string& name, const Project& project) {
  std::unique_ptr<BenchNet> n(new BenchNet());
  n->name = name;
  QuantModel model = build_model(project);
  n->m_module = model.ptr();
  n->m_forward = [model](const torch::Tensor& x) mutable { return model->forward(x); };
  n->m_params = model->parameters();
  n->m_optimizer = std::make_unique<torch::optim::Adam>(n->m_params, adam_options());
  for (const auto& m : model->modules(/*include_self=*/false))
    if (auto* a = dynamic_cast<ActQuantizerImpl*>(m.get()))
      if (a->spec().scaling == ScalingKind::RuntimeStats) n->m_stats_quantizers.push_back(a);
  return n;
}

torch::Tensor BenchNet::train_step(const torch::Tensor& x, const torch::Tensor& y) {
  for (auto& p : m_params) p.mutable_grad().reset();  // zero_grad(set_to_none), as the trainer
  const torch::Tensor logits = m_forward(x);
  torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
  loss.backward();
  m_optimizer->step();
  return loss.detach();
}

torch::Tensor BenchNet::eval_forward(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  return m_forward(x);
}

void BenchNet::set_training(bool on) { m_module->train(on); }

bool BenchNet::in_stats_phase() const {
  for (const ActQuantizerImpl* a : m_stats_quantizers)
    if (!a->learned_phase()) return true;
  return false;
}

namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

void fnv(uint64_t& h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * kFnvPrime;
}

void fnv_tensor(uint64_t& h, const torch::Tensor& t) {
  const torch::Tensor c = t.detach().contiguous();
  fnv(h, c.data_ptr(), c.numel() * c.element_size());
}

std::string hex(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

std::string digest(const torch::nn::Module& m) {
  uint64_t h = kFnvOffset;
  for (const auto& p : m.named_parameters()) {
    fnv(h, p.key().data(), p.key().size());
    fnv_tensor(h, p.value());
  }
  for (const auto& b : m.named_buffers()) {
    fnv(h, b.key().data(), b.key().size());
    fnv_tensor(h, b.value());
  }
  return hex(h);
}

std::string digest(const torch::Tensor& t) {
  uint64_t h = kFnvOffset;
  fnv_tensor(h, t);
  return hex(h);
}

Project load_example(const std::string& examples_dir, const std::string& name) {
  if (name == "classic") return load_project(examples_dir + "/lenet5_classic.qnn.json");
  return load_project(examples_dir + "/lenet_" + name + ".qnn.json");
}

}  // namespace qnn::bench
