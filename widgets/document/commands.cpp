// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/document/commands.h"

#include <set>

#include <QObject>

#include "core/graph/graph_layout.h"
#include "widgets/document/project_document.h"

namespace qnn {
namespace {

const std::vector<LayerSpec>& layersOf(ProjectDocument* d) { return d->project().layers; }

LayerDelta addDelta(ProjectDocument* d, const std::vector<LayerSpec>& layers) {
  LayerDraft draft(layersOf(d));
  for (const LayerSpec& l : layers) draft.append(l);
  return draft.delta();
}

LayerDelta removeDelta(ProjectDocument* d, const QStringList& ids, const QList<PortRef>& ports) {
  LayerDraft draft(layersOf(d));
  for (const PortRef& p : ports)
    if (LayerSpec* l = draft.find(p.layer.toStdString()))
      if (p.port >= 0 && size_t(p.port) < l->inputs.size()) l->inputs[size_t(p.port)].clear();
  for (const QString& id : ids) draft.remove(id.toStdString());
  return draft.delta();
}

LayerDelta connectDelta(ProjectDocument* d, const QString& from, const PortRef& to) {
  LayerDraft draft(layersOf(d));
  LayerSpec* target = draft.find(to.layer.toStdString());
  if (target && draft.has(from.toStdString()) && to.port >= 0) {
    if (target->inputs.size() <= size_t(to.port)) target->inputs.resize(size_t(to.port) + 1);
    target->inputs[size_t(to.port)] = from.toStdString();
  }
  return draft.delta();
}

LayerDelta moveDelta(ProjectDocument* d, const std::map<std::string, QPointF>& positions) {
  LayerDraft draft(layersOf(d));
  for (const auto& [id, pos] : positions)
    if (LayerSpec* l = draft.find(id)) {
      l->x = pos.x();
      l->y = pos.y();
    }
  return draft.delta();
}

LayerDelta changeDelta(ProjectDocument* d, const std::vector<std::string>& oldIds, const std::vector<LayerSpec>& after) {
  LayerDraft draft(layersOf(d));
  for (size_t i = 0; i < oldIds.size() && i < after.size(); ++i) {
    if (!draft.find(oldIds[i])) continue;
    draft.rename(oldIds[i], after[i].id);
    LayerSpec* l = draft.find(after[i].id);
    const std::vector<std::string> inputs = l->inputs;  // references may have been renamed
    *l = after[i];
    if (after[i].inputs.size() == inputs.size()) l->inputs = inputs;
  }
  return draft.delta();
}

LayerDelta replaceDelta(ProjectDocument* d, const std::vector<LayerSpec>& after) {
  LayerDraft draft(layersOf(d));
  std::set<std::string> kept;
  for (const LayerSpec& l : after) kept.insert(l.id);
  for (const LayerSpec& l : layersOf(d))
    if (!kept.count(l.id)) draft.remove(l.id);
  for (const LayerSpec& l : after) {
    if (LayerSpec* x = draft.find(l.id))
      *x = l;
    else
      draft.append(l);
  }
  return draft.delta();
}

}  // namespace

// ------------------------------------------------------------------ base

LayerEditCommand::LayerEditCommand(ProjectDocument* document, LayerDelta delta, const QString& text)
    : QUndoCommand(text), m_document(document), m_delta(std::move(delta)) {}

void LayerEditCommand::redo() { m_document->applyDelta(m_delta, true); }
void LayerEditCommand::undo() { m_document->applyDelta(m_delta, false); }

bool LayerEditCommand::mergeChanges(const LayerDelta& other) {
  if (!m_delta.removed.empty() || !m_delta.added.empty() || !other.removed.empty() || !other.added.empty())
    return false;
  for (const LayerDelta::Change& c : other.changed) {
    auto it = std::find_if(m_delta.changed.begin(), m_delta.changed.end(),
                           [&](const LayerDelta::Change& m) { return m.index == c.index; });
    if (it != m_delta.changed.end())
      it->after = c.after;
    else
      m_delta.changed.push_back(c);
  }
  // Back where it started (e.g. typed and deleted a digit): nothing left to undo.
  const bool noop = std::all_of(m_delta.changed.begin(), m_delta.changed.end(),
                                [](const LayerDelta::Change& c) { return c.before == c.after; });
  setObsolete(noop);
  return true;
}

// ------------------------------------------------------------------ commands

AddLayersCommand::AddLayersCommand(ProjectDocument* document, const std::vector<LayerSpec>& layers)
    : LayerEditCommand(document, addDelta(document, layers),
                       layers.size() == 1 ? QObject::tr("Add %1").arg(QString::fromStdString(layers[0].id))
                                          : QObject::tr("Add %n layer(s)", "", int(layers.size()))) {}

RemoveLayersCommand::RemoveLayersCommand(ProjectDocument* document, const QStringList& ids, const QList<PortRef>& ports)
    : LayerEditCommand(document, removeDelta(document, ids, ports),
                       ids.size() == 1 ? QObject::tr("Delete %1").arg(ids[0])
                       : ids.isEmpty() ? QObject::tr("Delete %n connection(s)", "", int(ports.size()))
                                       : QObject::tr("Delete %n layer(s)", "", int(ids.size()))) {}

ConnectCommand::ConnectCommand(ProjectDocument* document, const QString& from, const PortRef& to)
    : LayerEditCommand(document, connectDelta(document, from, to),
                       QObject::tr("Connect %1 → %2").arg(from, to.layer)) {}

DisconnectCommand::DisconnectCommand(ProjectDocument* document, const QList<PortRef>& ports)
    : LayerEditCommand(document, removeDelta(document, {}, ports),
                       QObject::tr("Delete %n connection(s)", "", int(ports.size()))) {}

MoveLayersCommand::MoveLayersCommand(ProjectDocument* document, const std::map<std::string, QPointF>& positions,
                                     int mergeKey)
    : LayerEditCommand(document, moveDelta(document, positions),
                       QObject::tr("Move %n layer(s)", "", int(positions.size()))),
      m_mergeKey(mergeKey) {
  for (const auto& [id, pos] : positions) m_ids.push_back(id);
}

bool MoveLayersCommand::mergeWith(const QUndoCommand* other) {
  const auto* o = dynamic_cast<const MoveLayersCommand*>(other);
  if (!o || o->m_mergeKey != m_mergeKey || o->m_ids != m_ids) return false;
  return mergeChanges(o->m_delta);
}

ChangeLayersCommand::ChangeLayersCommand(ProjectDocument* document, const std::vector<std::string>& oldIds,
                                         const std::vector<LayerSpec>& after, const QString& field, int session)
    : LayerEditCommand(document, changeDelta(document, oldIds, after),
                       after.size() == 1 ? QObject::tr("Change %1 of %2").arg(field, QString::fromStdString(after[0].id))
                                         : QObject::tr("Change %1 of %n layer(s)", "", int(after.size())).arg(field)),
      m_field(field), m_session(session) {
  for (const LayerSpec& l : after) m_ids.push_back(l.id);
}

bool ChangeLayersCommand::mergeWith(const QUndoCommand* other) {
  const auto* o = dynamic_cast<const ChangeLayersCommand*>(other);
  if (!o || o->m_field != m_field || o->m_session != m_session || o->m_ids != m_ids || m_field == QLatin1String("id"))
    return false;
  return mergeChanges(o->m_delta);
}

namespace {
LayerDelta changeTypeDelta(ProjectDocument* d, const QString& id, LayerType type) {
  const LayerSpec* l = d->layer(id);
  if (!l || l->type == type) return {};
  return changeDelta(d, {l->id}, {layerWithType(*l, type)});
}
}  // namespace

ChangeLayerTypeCommand::ChangeLayerTypeCommand(ProjectDocument* document, const QString& id, LayerType type)
    : LayerEditCommand(document, changeTypeDelta(document, id, type),
                       QObject::tr("Change %1 to %2").arg(id, QString::fromStdString(to_string(type)))) {}

PasteLayersCommand::PasteLayersCommand(ProjectDocument* document, const std::vector<LayerSpec>& clip, QPointF offset,
                                       bool keepExternal, const QString& text)
    : LayerEditCommand(document,
                       addDelta(document, pasteLayers(layersOf(document), clip, offset.x(), offset.y(), keepExternal)),
                       text) {
  for (const LayerSpec& l : m_delta.added) m_ids << QString::fromStdString(l.id);
}

ReplaceLayersCommand::ReplaceLayersCommand(ProjectDocument* document, const std::vector<LayerSpec>& after,
                                           const QString& text)
    : LayerEditCommand(document, replaceDelta(document, after), text) {}

AutoLayoutCommand::AutoLayoutCommand(ProjectDocument* document, double columnPitch, double rowPitch)
    : LayerEditCommand(document, LayerDelta{}, QObject::tr("Auto-layout")) {
  std::map<std::string, QPointF> positions;
  for (const auto& [id, xy] : auto_layout_positions(layersOf(document), columnPitch, rowPitch))
    positions[id] = QPointF(xy.first, xy.second);
  m_delta = moveDelta(document, positions);
}

ChangeTrainingCommand::ChangeTrainingCommand(ProjectDocument* document, const TrainingSpec& before,
                                             const TrainingSpec& after, const QString& field)
    : QUndoCommand(QObject::tr("Change %1").arg(field)), m_document(document), m_before(before), m_after(after),
      m_field(field) {}

void ChangeTrainingCommand::redo() { m_document->applyTraining(m_after); }
void ChangeTrainingCommand::undo() { m_document->applyTraining(m_before); }

bool ChangeTrainingCommand::mergeWith(const QUndoCommand* other) {
  const auto* o = dynamic_cast<const ChangeTrainingCommand*>(other);
  if (!o || o->m_field != m_field) return false;
  m_after = o->m_after;
  setObsolete(m_after == m_before);  // edited back to where it started: no undo step
  return true;
}

ChangeDatasetCommand::ChangeDatasetCommand(ProjectDocument* document, const DatasetSpec& before,
                                           const DatasetSpec& after, const QString& field)
    : QUndoCommand(QObject::tr("Change %1").arg(field)), m_document(document), m_before(before), m_after(after),
      m_field(field) {}

void ChangeDatasetCommand::redo() { m_document->applyDataset(m_after); }
void ChangeDatasetCommand::undo() { m_document->applyDataset(m_before); }

bool ChangeDatasetCommand::mergeWith(const QUndoCommand* other) {
  const auto* o = dynamic_cast<const ChangeDatasetCommand*>(other);
  if (!o || o->m_field != m_field) return false;
  m_after = o->m_after;
  setObsolete(m_after == m_before);  // edited back to where it started: no undo step
  return true;
}

SetSweepCommand::SetSweepCommand(ProjectDocument* document, std::optional<SweepRecord> before,
                                 std::optional<SweepRecord> after, const QString& text)
    : QUndoCommand(text), m_document(document), m_before(std::move(before)), m_after(std::move(after)) {}

void SetSweepCommand::redo() { m_document->applySweep(m_after); }
void SetSweepCommand::undo() { m_document->applySweep(m_before); }

SetDeploymentTargetCommand::SetDeploymentTargetCommand(ProjectDocument* document, DeploymentTarget before,
                                                       DeploymentTarget after, const QString& text)
    : QUndoCommand(text), m_document(document), m_before(before), m_after(after) {}

void SetDeploymentTargetCommand::redo() { m_document->applyDeploymentTarget(m_after); }
void SetDeploymentTargetCommand::undo() { m_document->applyDeploymentTarget(m_before); }

}  // namespace qnn
