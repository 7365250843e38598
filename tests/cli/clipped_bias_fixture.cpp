// SPDX-License-Identifier: GPL-3.0-or-later
// A checkpoint with saturating Int8Bias codes for test_cli (a file of its own: test_cli.cpp
// names its process helper qnn(), which clashes with the namespace).
#include <string>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/nn/quant_wbiol.h"
#include "core/train/checkpoint.h"

void write_clipped_bias_checkpoint(const std::string& project, const std::string& out) {
  const qnn::Project p = qnn::load_project(project);
  torch::manual_seed(p.training.seed);
  qnn::QuantModel model = qnn::build_model(p);
  auto* fc1 = dynamic_cast<qnn::QuantLinearImpl*>(model->layer("fc1").get());
  if (!fc1) throw qnn::ConfigError(project + ": fc1 is not a QuantLinear");
  {
    torch::NoGradGuard no_grad;
    fc1->bias.zero_();
    fc1->bias[5] = 1000.0f;
    fc1->bias[9] = -1000.0f;
  }
  qnn::save_checkpoint(model, out);
}
