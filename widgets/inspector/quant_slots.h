// SPDX-License-Identifier: GPL-3.0-or-later
// The quantizer slots of a layer as the layer inspector edits them: weight_quant,
// bias_quant, act_quant and input_quant (QuantEltwiseAdd's), named by the field prefix
// of their editors ("weight", "bias", "act", "input": "<slot>_bit_width", ...).
#pragma once

#include <QString>
#include <optional>

#include "core/graph/project.h"
#include "core/layers/layer_descriptor.h"

namespace qnn {

/// The layer's own quantizer of `slot` (nullopt: the type's default, or none).
std::optional<QuantSpec>& quantOf(LayerSpec& l, QuantSlot slot);
/// The layer has the slot to edit: its type uses it (and for the bias slot, the layer
/// has a bias).
bool editsQuantSlot(const LayerSpec& l, QuantSlot slot);
/// The quantizer the layer uses in `slot`: its own or the type's Brevitas default
/// (nullopt: float; see core/graph/layer_rules.h).
std::optional<QuantSpec> effectiveQuant(const LayerSpec& l, QuantSlot slot);
/// "weight", "bias", "act", "input".
QString quantSlotField(QuantSlot slot);
/// The slot of a field prefix (quantSlotField()); anything else: QuantSlot::Act.
QuantSlot quantSlotFromField(const QString& prefix);

}  // namespace qnn
