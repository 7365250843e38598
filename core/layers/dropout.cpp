// SPDX-License-Identifier: GPL-3.0-or-later
// Dropout (probability p in training, identity in eval; vanishes from exports).
#include "core/export/packed_model.h"
#include "core/layers/layer_kit.h"
#include "core/nn/shape_layers.h"

namespace qnn::layers {

using namespace layer_kit;

LayerDescriptor dropout() {
  LayerDescriptor d;
  d.type = LayerType::Dropout;
  d.name = "Dropout";
  d.id_base = "dropout";
  d.family = LayerFamily::ShapeOp;
  d.tooltip = "Dropout: zeroes inputs with probability p while training; identity in eval";
  d.input_ports = one_port;
  d.passes_quant_facts = true;
  d.params = {real_param("p", 0.5, 0.5, "probability of zeroing an element while training, in [0, 1)")};
  d.check = [](const LayerSpec& l, LayerReporter& r) {
    const double p = l.param("p", 0.5);
    if (!(p >= 0.0 && p < 1.0)) r.error(l.id + ": dropout probability p must be in [0, 1), got " + num_text(p), "");
  };
  d.build = [](const LayerSpec& l) { return built(DropoutLayer(l.param("p", 0.5))); };
  d.param_text = [](const LayerSpec& l) { return "p=" + num_text(l.param("p", 0.5)); };
  d.export_rules.packed_forward = [](const PackedRunContext& c) { return c.inputs.at(0); };
  return d;
}

}  // namespace qnn::layers
