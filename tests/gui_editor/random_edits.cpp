// SPDX-License-Identifier: GPL-3.0-or-later
#include "random_edits.h"

#include <map>
#include <random>
#include <vector>

#include <QUndoStack>

#include "core/graph/layer_rules.h"
#include "widgets/document/project_document.h"

namespace qnn {
namespace {

const LayerType kTypes[] = {LayerType::Input, LayerType::Output, LayerType::QuantIdentity, LayerType::QuantReLU,
                            LayerType::QuantHardTanh, LayerType::QuantConv2d, LayerType::QuantLinear,
                            LayerType::Conv2d, LayerType::Linear, LayerType::ReLU, LayerType::MaxPool2d,
                            LayerType::AvgPool2d, LayerType::Flatten, LayerType::Dropout,
                            LayerType::BatchNorm2d, LayerType::Identity, LayerType::Add, LayerType::QuantEltwiseAdd};

QString describeDifference(const Project& a, const Project& b) {
  if (a.layers.size() != b.layers.size())
    return QStringLiteral("%1 layers vs %2").arg(a.layers.size()).arg(b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i)
    if (!(a.layers[i] == b.layers[i]))
      return QStringLiteral("layer %1 (%2 vs %3) differs").arg(i).arg(QString::fromStdString(a.layers[i].id),
                                                                       QString::fromStdString(b.layers[i].id));
  return QStringLiteral("non-layer fields differ");
}

}  // namespace

QString runRandomEdits(ProjectDocument& doc, uint64_t seed, int length, RandomEditStats& stats) {
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t n) { return size_t(std::uniform_int_distribution<size_t>(0, n - 1)(rng)); };
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  QUndoStack* stack = doc.undoStack();
  const Project start = doc.project();
  const int startIndex = stack->index();
  std::map<int, Project> states;  // undo-stack index -> project after that step
  states[startIndex] = start;
  int session = 0;

  for (int e = 0; e < length; ++e) {
    const auto& layers = doc.project().layers;
    const int kind = int(pick(10));
    ++stats.edits;
    bool changed = false;
    auto randomId = [&]() { return QString::fromStdString(layers[pick(layers.size())].id); };
    if (kind == 0 || layers.empty()) {
      changed = !doc.addLayer(kTypes[pick(std::size(kTypes))], QPointF(double(pick(800)), double(pick(800)))).isEmpty();
    } else if (kind == 1) {
      QStringList ids{randomId()};
      if (chance(0.3)) ids << randomId();
      ids.removeDuplicates();
      QList<PortRef> ports;
      if (chance(0.5)) ports << PortRef{randomId(), 0};
      changed = doc.removeLayers(ids, ports);
    } else if (kind == 2) {
      changed = doc.connectLayers(randomId(), randomId(), chance(0.9) ? 0 : 1);
    } else if (kind == 3) {
      changed = doc.disconnectPorts({PortRef{randomId(), 0}});
    } else if (kind == 4) {
      std::map<std::string, QPointF> pos;
      const std::string id = layers[pick(layers.size())].id;
      pos[id] = QPointF(double(pick(900)) - 100, double(pick(900)) - 100);
      // Half the time continue the previous drag (merges when it moved the same layer).
      changed = doc.moveLayers(pos, chance(0.5) ? 7 : 100 + e);
    } else if (kind == 5 || kind == 6) {
      std::vector<std::string> ids;
      std::vector<LayerSpec> after;
      for (const LayerSpec& l : layers) {
        if (!(chance(0.5) || ids.empty())) continue;
        LayerSpec next = l;
        if (kind == 5) {
          const auto& known = known_params(l.type);
          if (known.empty()) continue;
          next.params[known[pick(known.size())]] = double(1 + pick(20));
        } else {
          if (!is_quant_wbiol(l.type) && !uses_act_quant(l.type)) continue;
          std::optional<QuantSpec>& q = is_quant_wbiol(l.type) ? next.weight_quant : next.act_quant;
          if (!q) q = is_quant_wbiol(l.type) ? presets::Int8WeightPerTensorFloat() : presets::Int8ActPerTensorFloat();
          q->bit_width = int(2 + pick(7));
          if (chance(0.3)) next.return_quant_tensor = !next.return_quant_tensor;
          if (l.type == LayerType::QuantEltwiseAdd && chance(0.5)) {
            next.input_quant = presets::Int8ActPerTensorFloat();
            next.input_quant->bit_width = int(2 + pick(7));
          }
        }
        ids.push_back(l.id);
        after.push_back(next);
      }
      if (chance(0.5)) ++session;  // else may merge with the previous edit of the field
      if (!ids.empty()) changed = doc.changeLayers(ids, after, kind == 5 ? QStringLiteral("p") : QStringLiteral("q"), session);
    } else if (kind == 7) {
      std::vector<LayerSpec> clip;
      for (const LayerSpec& l : layers)
        if (chance(0.3)) clip.push_back(l);
      changed = !doc.pasteLayers(clip, QPointF(40, 40), chance(0.5)).isEmpty();
    } else if (kind == 8) {
      changed = doc.autoLayout(290, 104);
    } else {
      const LayerSpec& l = layers[pick(layers.size())];
      LayerSpec next = l;
      next.id = uniqueLayerId(layers, l.id + "_r");
      changed = doc.changeLayers({l.id}, {next}, QStringLiteral("id"), ++session);
    }
    if (changed) ++stats.kinds[kind];
    states[stack->index()] = doc.project();  // a merge overwrites the state of its step
    for (auto it = states.upper_bound(stack->index()); it != states.end();) it = states.erase(it);
  }
  const Project end = doc.project();
  const int endIndex = stack->index();
  stats.commands += endIndex - startIndex;

  while (stack->index() > startIndex) {
    stack->undo();
    const auto it = states.find(stack->index());
    if (it != states.end() && !(doc.project() == it->second))
      return QStringLiteral("seed %1: after undo to step %2: %3").arg(seed).arg(stack->index())
          .arg(describeDifference(doc.project(), it->second));
  }
  if (!(doc.project() == start))
    return QStringLiteral("seed %1: undo all: %2").arg(seed).arg(describeDifference(doc.project(), start));
  while (stack->canRedo()) stack->redo();
  if (stack->index() != endIndex || !(doc.project() == end))
    return QStringLiteral("seed %1: redo all: %2").arg(seed).arg(describeDifference(doc.project(), end));
  return {};
}

}  // namespace qnn
