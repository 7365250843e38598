// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/node_editor/node_content.h"

#include <QObject>

#include "core/graph/layer_rules.h"
#include "core/layers/layer_descriptor.h"
#include "widgets/document/layer_edits.h"

namespace qnn {

NodeKind nodeKind(LayerType type) {
  switch (descriptor(type).family) {
    case LayerFamily::InputOutput: return NodeKind::InputOutput;
    case LayerFamily::QuantLayer: return NodeKind::QuantLayer;
    case LayerFamily::QuantActivation: return NodeKind::QuantActivation;
    case LayerFamily::FloatLayer: return NodeKind::FloatLayer;
    case LayerFamily::FloatActivation: return NodeKind::FloatActivation;
    case LayerFamily::ShapeOp: break;
  }
  return NodeKind::ShapeOp;
}

QString nodeKindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::InputOutput: return QObject::tr("input / output");
    case NodeKind::QuantLayer: return QObject::tr("quant layer");
    case NodeKind::QuantActivation: return QObject::tr("quant activation");
    case NodeKind::FloatLayer: return QObject::tr("float layer");
    case NodeKind::FloatActivation: return QObject::tr("float activation");
    case NodeKind::ShapeOp: return QObject::tr("shape op");
  }
  return {};
}

QString shapeText(const std::vector<int64_t>& shape) {
  if (shape.empty()) return QStringLiteral("?");
  QStringList parts;
  for (int64_t d : shape) parts << QString::number(d);
  return parts.join(QChar(0x00D7));
}

QString quantSummary(const LayerSpec& layer) {
  QStringList parts;
  if (auto w = effective_weight_quant(layer)) parts << QString::fromStdString(w->summary());
  if (is_quant_wbiol(layer.type) && layer_has_bias(layer)) {
    if (auto b = effective_bias_quant(layer))
      parts << QStringLiteral("Int%1Bias").arg(b->bit_width);
    else
      parts << QObject::tr("float bias");
  }
  if (auto a = effective_act_quant(layer)) parts << QString::fromStdString(a->summary());
  return parts.join(QStringLiteral(" · "));
}

QString paramSummary(const LayerSpec& layer) {
  const auto text = descriptor(layer.type).param_text;
  return text ? QString::fromStdString(text(layer)) : QString();
}

QString edgeLabel(const NodeInfo* info) {
  if (!info || info->shape.empty()) return {};
  QString label = shapeText(info->shape);
  if (info->quantized)
    label += QStringLiteral(" · %1%2").arg(info->is_signed ? QLatin1Char('s') : QLatin1Char('u')).arg(info->bit_width);
  return label;
}

QString bitWidthSummary(const LayerSpec& layer) {
  QStringList parts;
  if (auto w = effective_weight_quant(layer)) parts << QStringLiteral("W%1").arg(w->bit_width);
  if (auto b = effective_bias_quant(layer)) parts << QStringLiteral("B%1").arg(b->bit_width);
  if (auto a = effective_act_quant(layer)) parts << QStringLiteral("A%1").arg(a->bit_width);
  return parts.join(QStringLiteral(" / "));
}

NodeContent describeLayer(const LayerSpec& layer, const ValidationResult& validation) {
  NodeContent c;
  c.layerType = layer.type;
  c.inputPorts = input_port_count(layer);
  c.outputPort = hasOutputPort(layer.type);
  c.bits = bitWidthSummary(layer);
  c.id = QString::fromStdString(layer.id);
  c.type = QString::fromStdString(to_string(layer.type));
  c.params = paramSummary(layer);
  c.kind = nodeKind(layer.type);
  c.quant = quantSummary(layer);
  const auto it = validation.nodes.find(layer.id);
  if (it != validation.nodes.end()) {
    c.shape = shapeText(it->second.shape);
    if (it->second.quantized)
      c.outputQuant = QStringLiteral("%1%2").arg(it->second.is_signed ? QLatin1Char('s') : QLatin1Char('u'))
                          .arg(it->second.bit_width);
  } else {
    c.shape = QStringLiteral("?");
  }
  for (const Diagnostic& d : validation.diagnostics) {
    if (d.node != layer.id) continue;
    QString line = QString::fromStdString(d.message);
    if (!d.hint.empty()) line += QStringLiteral(" (%1)").arg(QString::fromStdString(d.hint));
    (d.severity == Diagnostic::Severity::Error ? c.errors : c.warnings) << line;
  }
  return c;
}

}  // namespace qnn
