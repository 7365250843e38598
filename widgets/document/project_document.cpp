// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/document/project_document.h"

#include <QFileInfo>
#include <QUndoStack>
#include <memory>
#include <set>

#include "core/graph/finn_rules.h"

namespace qnn {

ProjectDocument::ProjectDocument(QObject* parent)
    : QObject(parent), m_undoStack(new QUndoStack(this)) {
  connect(m_undoStack, &QUndoStack::cleanChanged, this, [this](bool clean) { Q_EMIT modifiedChanged(!clean); });
}

void ProjectDocument::load(const QString& path) {
  Project p = load_project(path.toStdString());  // throws; nothing changed yet
  setProject(p, path);
}

void ProjectDocument::setProject(const Project& project, const QString& filePath) {
  m_project = project;
  m_validation = validate(m_project);
  const bool pathChanged = filePath != m_filePath;
  m_filePath = filePath;
  m_undoStack->clear();
  m_undoStack->setClean();
  if (pathChanged) Q_EMIT filePathChanged(m_filePath);
  Q_EMIT projectReplaced();
  Q_EMIT changed();
}

void ProjectDocument::save(const QString& path) {
  const QString target = path.isEmpty() ? m_filePath : path;
  save_project(m_project, target.toStdString());  // atomic; throws IoError
  m_undoStack->setClean();
  if (target != m_filePath) {
    m_filePath = target;
    Q_EMIT filePathChanged(m_filePath);
  }
}

bool ProjectDocument::isModified() const { return !m_undoStack->isClean(); }

QString ProjectDocument::displayName() const {
  if (!m_project.name.empty()) return QString::fromStdString(m_project.name);
  if (!m_filePath.isEmpty()) return QFileInfo(m_filePath).completeBaseName();
  return tr("Untitled");
}

// ------------------------------------------------------------------ edits

bool ProjectDocument::push(LayerEditCommand* command) {
  std::unique_ptr<LayerEditCommand> owned(command);
  if (owned->isEmpty()) return false;
  m_undoStack->push(owned.release());
  return true;
}

QString ProjectDocument::addLayer(LayerType type, QPointF pos) {
  const LayerSpec l = defaultLayer(type, newLayerId(m_project.layers, type), pos.x(), pos.y());
  push(new AddLayersCommand(this, {l}));
  return QString::fromStdString(l.id);
}

bool ProjectDocument::addLayers(const std::vector<LayerSpec>& layers) {
  for (const LayerSpec& l : layers)
    if (m_project.find(l.id)) return false;
  return push(new AddLayersCommand(this, layers));
}

bool ProjectDocument::removeLayers(const QStringList& ids, const QList<PortRef>& ports) {
  return push(new RemoveLayersCommand(this, ids, ports));
}

bool ProjectDocument::connectLayers(const QString& from, const QString& to, int port) {
  if (from == to) return false;
  return push(new ConnectCommand(this, from, PortRef{to, port}));
}

bool ProjectDocument::disconnectPorts(const QList<PortRef>& ports) { return push(new DisconnectCommand(this, ports)); }

bool ProjectDocument::moveLayers(const std::map<std::string, QPointF>& positions, int mergeKey) {
  return push(new MoveLayersCommand(this, positions, mergeKey));
}

bool ProjectDocument::changeLayers(const std::vector<std::string>& oldIds, const std::vector<LayerSpec>& after,
                                   const QString& field, int session) {
  return push(new ChangeLayersCommand(this, oldIds, after, field, session));
}

bool ProjectDocument::changeLayerType(const QString& id, LayerType type) {
  return push(new ChangeLayerTypeCommand(this, id, type));
}

QStringList ProjectDocument::pasteLayers(const std::vector<LayerSpec>& clip, QPointF offset, bool keepExternal,
                                         const QString& text) {
  auto* command = new PasteLayersCommand(this, clip, offset, keepExternal, text.isEmpty() ? tr("Paste") : text);
  const QStringList ids = command->pastedIds();
  return push(command) ? ids : QStringList();
}

bool ProjectDocument::autoLayout(double columnPitch, double rowPitch) {
  return push(new AutoLayoutCommand(this, columnPitch, rowPitch));
}

bool ProjectDocument::replaceLayers(const std::vector<LayerSpec>& after, const QString& text) {
  return push(new ReplaceLayersCommand(this, after, text));
}

bool ProjectDocument::changeTraining(const TrainingSpec& after, const QString& field) {
  if (after == m_project.training) return false;
  m_undoStack->push(new ChangeTrainingCommand(this, m_project.training, after, field));
  return true;
}

void ProjectDocument::applyTraining(const TrainingSpec& spec) {
  m_project.training = spec;
  m_validation = validate(m_project);  // the settings are validated too
  Q_EMIT trainingChanged();
  Q_EMIT changed();
}

bool ProjectDocument::changeDataset(const DatasetSpec& after, const QString& field) {
  if (after == m_project.dataset) return false;
  m_undoStack->push(new ChangeDatasetCommand(this, m_project.dataset, after, field));
  return true;
}

void ProjectDocument::applyDataset(const DatasetSpec& spec) {
  m_project.dataset = spec;
  m_validation = validate(m_project);  // the settings are validated too
  Q_EMIT datasetChanged();
  Q_EMIT changed();
}

bool ProjectDocument::setSweep(const std::optional<SweepRecord>& record, const QString& text) {
  if (record == m_project.sweep) return false;
  m_undoStack->push(new SetSweepCommand(this, m_project.sweep, record, text));
  return true;
}

bool ProjectDocument::setDeploymentTarget(DeploymentTarget target) {
  if (target == m_project.deployment_target) return false;
  const QString name = deploymentTargetName(target);
  // The pools FINN needs FLOOR in: the same rule as the CLI's --target (core).
  Project chosen = m_project;
  const bool floored = !apply_deployment_target(chosen, target).empty();
  const std::vector<LayerSpec>& layers = chosen.layers;
  m_undoStack->beginMacro(tr("Deployment target %1").arg(name));
  m_undoStack->push(new SetDeploymentTargetCommand(this, m_project.deployment_target, target,
                                                   tr("Deployment target %1").arg(name)));
  if (floored) replaceLayers(layers, tr("FLOOR truncation in the average pools (FINN)"));
  m_undoStack->endMacro();
  return true;
}

QString ProjectDocument::deploymentTargetName(DeploymentTarget target) {
  switch (target) {
    case DeploymentTarget::None: return tr("None");
    case DeploymentTarget::OnnxRuntime: return tr("ONNX Runtime");
    case DeploymentTarget::Finn: return tr("FINN");
  }
  return QString();
}

void ProjectDocument::applyDeploymentTarget(DeploymentTarget target) {
  m_project.deployment_target = target;
  m_validation = validate(m_project);  // the FINN rules come and go with the target
  Q_EMIT changed();
}

void ProjectDocument::applySweep(const std::optional<SweepRecord>& record) {
  m_project.sweep = record;  // no re-validation: the network did not change
  Q_EMIT sweepChanged();
  Q_EMIT changed();
}

void ProjectDocument::applyDelta(const LayerDelta& delta, bool forward) {
  delta.apply(m_project.layers, forward);
  if (!delta.positionsOnly()) m_validation = validate(m_project);

  // Signals after the state is consistent, so observers read the new project.
  const auto& gone = forward ? delta.removed : std::vector<std::pair<size_t, LayerSpec>>{};
  for (const auto& r : gone) Q_EMIT layerRemoved(QString::fromStdString(r.second.id));
  if (!forward)
    for (const LayerSpec& l : delta.added) Q_EMIT layerRemoved(QString::fromStdString(l.id));
  for (const LayerDelta::Change& c : delta.changed) {
    const LayerSpec& from = forward ? c.before : c.after;
    const LayerSpec& to = forward ? c.after : c.before;
    if (from.id != to.id) Q_EMIT layerRenamed(QString::fromStdString(from.id), QString::fromStdString(to.id));
  }
  if (forward)
    for (const LayerSpec& l : delta.added) Q_EMIT layerAdded(QString::fromStdString(l.id));
  else
    for (const auto& r : delta.removed) Q_EMIT layerAdded(QString::fromStdString(r.second.id));
  for (const LayerDelta::Change& c : delta.changed)
    Q_EMIT layerChanged(QString::fromStdString((forward ? c.after : c.before).id));
  if (delta.touchesConnections()) Q_EMIT connectionsChanged();
  Q_EMIT changed();
}

}  // namespace qnn
