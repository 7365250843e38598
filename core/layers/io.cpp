// SPDX-License-Identifier: GPL-3.0-or-later
// Input and Output: the two ends of the graph. The executor (core/graph/model.cpp) and
// validation's end checks handle them; they build no module.
#include "core/export/packed_model.h"
#include "core/layers/layer_kit.h"

namespace qnn::layers {

using namespace layer_kit;

LayerDescriptor input() {
  LayerDescriptor d;
  d.type = LayerType::Input;
  d.name = "Input";
  d.id_base = "input";
  d.single_id = true;
  d.family = LayerFamily::InputOutput;
  d.tooltip = "The network input: one sample of the project's input shape [C, H, W]";
  d.input_ports = no_ports;
  return d;
}

LayerDescriptor output() {
  LayerDescriptor d;
  d.type = LayerType::Output;
  d.name = "Output";
  d.id_base = "output";
  d.single_id = true;
  d.family = LayerFamily::InputOutput;
  d.tooltip = "The network output: its input are the logits";
  d.input_ports = one_port;
  d.has_output = false;
  d.passes_quant_facts = true;
  d.export_rules.packed_forward = [](const PackedRunContext& c) { return c.inputs.at(0); };
  return d;
}

}  // namespace qnn::layers
