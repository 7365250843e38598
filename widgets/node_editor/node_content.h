// SPDX-License-Identifier: GPL-3.0-or-later
// What a graph node shows, derived from the project document and its validation.
// Pure functions from core data to display text: the scene and the node items use
// them; the future inspector can too.
#pragma once

#include <QString>
#include <QStringList>
#include <vector>

#include "core/graph/project.h"
#include "core/graph/validate.h"

namespace qnn {

/// Colour family of a node (the descriptor's LayerFamily, core/layers/layer_descriptor.h).
enum class NodeKind {
  InputOutput,      ///< Input, Output
  QuantLayer,       ///< QuantConv2d, QuantLinear
  QuantActivation,  ///< QuantIdentity, QuantReLU, QuantHardTanh
  FloatLayer,       ///< Conv2d, Linear
  FloatActivation,  ///< ReLU, HardTanh
  ShapeOp,          ///< MaxPool2d, AvgPool2d, Flatten, Dropout
};
NodeKind nodeKind(LayerType type);
QString nodeKindName(NodeKind kind);

/// "6×28×28" for [6, 28, 28]; "?" when empty.
QString shapeText(const std::vector<int64_t>& shape);
/// The quantizers a layer uses, e.g. "W3 s narrow · Int8Bias" or "A4 u"; "" for float
/// and shape layers. Uses the effective (defaulted) quantizers of core/graph/layer_rules.h.
QString quantSummary(const LayerSpec& layer);
/// Short parameter text for the type line (the descriptor's param_text), e.g. "k5"
/// (Conv2d), "→120" (Linear), "k2" (pool).
QString paramSummary(const LayerSpec& layer);
/// Label of an edge carrying `info`'s tensor, e.g. "6×14×14 · u4" ("" when unknown).
QString edgeLabel(const NodeInfo* info);
/// Bit widths of the quantizers in use, e.g. "W3 / B8" (QuantConv2d with Int8Bias),
/// "A4" (QuantReLU); "" for float and shape layers.
QString bitWidthSummary(const LayerSpec& layer);

struct NodeContent {
  QString id;
  QString type;          ///< "QuantConv2d"
  QString params;        ///< paramSummary()
  QString shape;         ///< output shape text, "?" when inference failed
  QString outputQuant;   ///< "u4" when the output is a QuantTensor
  QString quant;         ///< quantSummary()
  QString bits;          ///< bitWidthSummary()
  LayerType layerType = LayerType::Input;
  int inputPorts = 1;    ///< input ports drawn on the top edge
  bool outputPort = true;
  NodeKind kind = NodeKind::ShapeOp;
  QStringList errors;    ///< "message (hint)" lines, as validate() reports them
  QStringList warnings;
};

NodeContent describeLayer(const LayerSpec& layer, const ValidationResult& validation);

}  // namespace qnn
