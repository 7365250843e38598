// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/inspector/quant_slots.h"

#include "core/graph/layer_rules.h"

namespace qnn {

std::optional<QuantSpec>& quantOf(LayerSpec& l, QuantSlot slot) {
  switch (slot) {
    case QuantSlot::Weight: return l.weight_quant;
    case QuantSlot::Bias: return l.bias_quant;
    case QuantSlot::Input: return l.input_quant;
    case QuantSlot::Act: break;
  }
  return l.act_quant;
}

bool editsQuantSlot(const LayerSpec& l, QuantSlot slot) {
  return descriptor(l.type).uses(slot) && (slot != QuantSlot::Bias || layer_has_bias(l));
}

std::optional<QuantSpec> effectiveQuant(const LayerSpec& l, QuantSlot slot) {
  switch (slot) {
    case QuantSlot::Weight: return effective_weight_quant(l);
    case QuantSlot::Bias: return effective_bias_quant(l);
    case QuantSlot::Input: return effective_input_quant(l);
    case QuantSlot::Act: break;
  }
  return effective_act_quant(l);
}

QString quantSlotField(QuantSlot slot) {
  switch (slot) {
    case QuantSlot::Weight: return QStringLiteral("weight");
    case QuantSlot::Bias: return QStringLiteral("bias");
    case QuantSlot::Input: return QStringLiteral("input");
    case QuantSlot::Act: break;
  }
  return QStringLiteral("act");
}

QuantSlot quantSlotFromField(const QString& prefix) {
  for (QuantSlot s : {QuantSlot::Weight, QuantSlot::Bias, QuantSlot::Input})
    if (prefix == quantSlotField(s)) return s;
  return QuantSlot::Act;
}

}  // namespace qnn
