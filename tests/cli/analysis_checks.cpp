// SPDX-License-Identifier: GPL-3.0-or-later
// Core-side checks of the files `qnn calibrate | sweep | suggest` write, for test_cli.cpp
// (whose helper `qnn()` would be ambiguous next to namespace qnn).
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "core/analysis/analysis.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/quant/quantizers.h"
#include "core/train/checkpoint.h"

/// Activation quantizers of the model in `checkpoint` (`total`), how many are past the
/// statistics phase (returned), and whether each of those has counter ==
/// collect_stats_steps + 1 (`counters_at_end`).
int learned_act_quantizers(const std::string& checkpoint, int* total, bool* counters_at_end) {
  qnn::QuantModel model = qnn::build_model(qnn::read_checkpoint_project(checkpoint));
  qnn::load_checkpoint(model, checkpoint);
  int learned = 0;
  *total = 0;
  *counters_at_end = true;
  for (const auto& item : model->named_modules())
    if (auto* q = dynamic_cast<qnn::ActQuantizerImpl*>(item.value().get())) {
      ++*total;
      if (q->learned_phase()) {
        ++learned;
        *counters_at_end = *counters_at_end && q->counter() == q->spec().collect_stats_steps + 1;
      }
    }
  return learned;
}

/// True when the checkpoint's project has per-channel weights at `layer` and equals
/// the project file `project`.
bool per_channel_checkpoint(const std::string& checkpoint, const std::string& layer, const std::string& project) {
  const qnn::Project p = qnn::read_checkpoint_project(checkpoint);
  const qnn::LayerSpec* l = p.find(layer);
  return l && l->weight_quant && l->weight_quant->per_channel && qnn::load_project(project) == p;
}

/// Points of the sweep saved in `project` (-1 without one), its base size and completeness.
int saved_sweep_points(const std::string& project, int64_t* base_size_bytes, bool* complete) {
  const qnn::Project p = qnn::load_project(project);
  if (!p.sweep) return -1;
  *base_size_bytes = p.sweep->base_size_bytes;
  *complete = p.sweep->complete;
  return int(p.sweep->points.size());
}

/// The weight bit width of `layer` in `project` (-1 without a weight quantizer).
int weight_bit_width(const std::string& project, const std::string& layer) {
  const qnn::Project p = qnn::load_project(project);
  const qnn::LayerSpec* l = p.find(layer);
  return l && l->weight_quant ? l->weight_quant->bit_width : -1;
}

/// analysis::model_cost(project).size_bytes.
int64_t model_size_bytes(const std::string& project) {
  return qnn::analysis::model_cost(qnn::load_project(project)).size_bytes;
}
