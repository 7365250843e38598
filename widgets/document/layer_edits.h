// SPDX-License-Identifier: GPL-3.0-or-later
// Plain functions the editor's undo commands are built from: a LayerDelta (what one
// edit changes in Project::layers, with before and after values so it can be undone
// exactly), a LayerDraft to compute it, and the editing rules (new layer defaults,
// unique ids, port counts, paste; auto-layout is core/graph/graph_layout.h). No Qt signals; unit-testable.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/graph/project.h"

namespace qnn {

/// The change one edit makes to Project::layers. Layout of the vectors:
/// after = (before without `removed`, in order, with `changed` applied) + `added`.
struct LayerDelta {
  /// Removed layers with their index in the layer list before the edit, ascending.
  std::vector<std::pair<size_t, LayerSpec>> removed;
  /// Kept layers that changed: index in the list after removals, before and after value.
  struct Change {
    size_t index = 0;
    LayerSpec before, after;
  };
  std::vector<Change> changed;
  /// Layers appended at the end, in order.
  std::vector<LayerSpec> added;

  bool empty() const { return removed.empty() && changed.empty() && added.empty(); }
  /// Only positions (x, y) change: validation need not run again.
  bool positionsOnly() const;
  /// Whether any connection (LayerSpec::inputs) or layer appears or disappears.
  bool touchesConnections() const;
  /// Applies the delta to `layers` (forward) or reverts it (backward). The layers must
  /// be in the state the delta starts from (resp. ends in); otherwise throws
  /// std::logic_error (release builds too), possibly half applied (edits in place).
  void apply(std::vector<LayerSpec>& layers, bool forward) const;
};

/// A working copy of the layer list that remembers where each layer came from, so
/// an edit can be written naturally and turned into a LayerDelta afterwards.
class LayerDraft {
 public:
  explicit LayerDraft(const std::vector<LayerSpec>& before);
  LayerSpec* find(const std::string& id);
  bool has(const std::string& id) const;
  std::vector<LayerSpec>& layers() { return m_layers; }
  /// Removes a layer and clears every input port that referenced it ("" = unconnected).
  void remove(const std::string& id);
  void append(const LayerSpec& layer);
  /// Renames a layer and every input reference to it.
  void rename(const std::string& from, const std::string& to);
  LayerDelta delta() const;

 private:
  const std::vector<LayerSpec>& m_before;
  std::vector<LayerSpec> m_layers;
  std::vector<long> m_origin;  ///< index in m_before, -1 for appended layers
};

/// Number of input ports of a layer type: core input_port_count (Input 0, Add and
/// QuantEltwiseAdd 2, else 1).
int inputPortCount(LayerType type);
/// Whether the type has an output port (every type but Output).
bool hasOutputPort(LayerType type);

/// The id base the editor gives new layers of `type` ("conv", "fc", "relu", "pool", ...).
std::string layerIdBase(LayerType type);
/// A new id for a layer of `type`: "input"/"output"/"flatten" when free, else the base
/// followed by the lowest free number ("conv1", "conv2", ...).
std::string newLayerId(const std::vector<LayerSpec>& layers, LayerType type);
/// `wanted` when free, else wanted_2, wanted_3, ... ("conv1" -> "conv1_2"; "conv1_2" -> "conv1_3").
std::string uniqueLayerId(const std::vector<LayerSpec>& layers, const std::string& wanted,
                          const std::vector<std::string>& alsoTaken = {});

/// A layer of `type` as the palette adds it: the Brevitas defaults of the type (e.g.
/// QuantConv2d: Int8WeightPerTensorFloat weights, float bias, in_channels 1,
/// out_channels 8, kernel_size 3; QuantReLU: Uint8ActPerTensorFloat), unconnected
/// input ports, return_quant_tensor false.
LayerSpec defaultLayer(LayerType type, const std::string& id, double x, double y);

/// Layers to append when pasting `clip` (copied layers) into `layers`: ids made unique,
/// connections between pasted layers renamed, connections to layers outside `clip`
/// kept when `keepExternal` and the source exists, else cleared; positions shifted by (dx, dy).
std::vector<LayerSpec> pasteLayers(const std::vector<LayerSpec>& layers, const std::vector<LayerSpec>& clip,
                                   double dx, double dy, bool keepExternal);

/// The type a layer of `type` can change to in place with its parameters carried
/// over: its float / quantized twin (Add <-> QuantEltwiseAdd, ReLU <-> QuantReLU,
/// Conv2d <-> QuantConv2d, Conv1d <-> QuantConv1d, Linear <-> QuantLinear,
/// Identity <-> QuantIdentity, HardTanh <-> QuantHardTanh, Tanh <-> QuantTanh,
/// Sigmoid <-> QuantSigmoid); nullopt for other types.
std::optional<LayerType> typeTwin(LayerType type);
/// `layer` as a layer of `type`: same id, position and input connections; the
/// parameters `type` knows (known_params) keep their values, others are dropped; the
/// quantizer slots get `type`'s Brevitas defaults as a palette layer does (none for a
/// float type; a float bias); return_quant_tensor is kept when `type` has the flag.
LayerSpec layerWithType(const LayerSpec& layer, LayerType type);

}  // namespace qnn
