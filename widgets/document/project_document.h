// SPDX-License-Identifier: GPL-3.0-or-later
// The open project: the core Project (single source of truth), its file, its
// validation, its undo stack and its modified flag (= the undo stack is not clean).
// Views (graph scene, inspector, training settings) observe it and never write it:
// every edit goes through the edit functions below, which push an undo command
// (widgets/document/commands.h); the commands apply their LayerDelta through
// applyDelta(), which re-validates and emits the fine-grained signals.
#pragma once

#include <QObject>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/graph/project.h"
#include "core/graph/validate.h"
#include "widgets/document/commands.h"

class QUndoStack;

namespace qnn {

class ProjectDocument : public QObject {
  Q_OBJECT
 public:
  explicit ProjectDocument(QObject* parent = nullptr);

  /// Reads and validates `path`, then replaces the project. Throws qnn::Error
  /// (IoError / ConfigError with the core message); the document is unchanged then.
  void load(const QString& path);
  /// Replaces the project (clears the undo stack, not modified) and re-validates.
  void setProject(const Project& project, const QString& filePath = QString());
  /// Writes the project atomically (core save_project) to `path` (default: filePath()),
  /// then marks the document unmodified and remembers the path. Throws IoError.
  void save(const QString& path = QString());

  const Project& project() const { return m_project; }
  /// The validation of project() (shapes per node, diagnostics).
  const ValidationResult& validation() const { return m_validation; }
  QString filePath() const { return m_filePath; }
  /// The project name, or the file name when the project has none.
  QString displayName() const;
  bool isEmpty() const { return m_project.layers.empty(); }
  QUndoStack* undoStack() const { return m_undoStack; }
  /// Whether there are edits since the last load or save.
  bool isModified() const;
  const LayerSpec* layer(const QString& id) const { return m_project.find(id.toStdString()); }

  // ---- edits: each pushes one undo command; an edit that changes nothing pushes none
  /// Adds a layer of `type` with the palette defaults at `pos` (top-left corner);
  /// returns its new id (layerIdBase + number, see layer_edits.h).
  QString addLayer(LayerType type, QPointF pos);
  /// Adds complete layers (ids must be unused). Returns false when nothing was added.
  bool addLayers(const std::vector<LayerSpec>& layers);
  /// Removes layers with their connections, and disconnects `ports`, as one step.
  bool removeLayers(const QStringList& ids, const QList<PortRef>& ports = {});
  /// Connects `from`'s output to `to`'s input port `port`.
  bool connectLayers(const QString& from, const QString& to, int port);
  bool disconnectPorts(const QList<PortRef>& ports);
  /// Moves layers (top-left corners); the same `mergeKey` merges into one undo step.
  bool moveLayers(const std::map<std::string, QPointF>& positions, int mergeKey);
  /// Replaces the layers `oldIds` by `after` (see ChangeLayersCommand); edits of the
  /// same `field` in the same `session` merge.
  bool changeLayers(const std::vector<std::string>& oldIds, const std::vector<LayerSpec>& after,
                    const QString& field, int session);
  /// Changes layer `id` to `type` in place (ChangeLayerTypeCommand; meant for
  /// typeTwin(type of the layer)): one undo step. False when there is no such layer
  /// or it has that type already.
  bool changeLayerType(const QString& id, LayerType type);
  /// Pastes copied layers shifted by `offset`; returns the new ids.
  QStringList pasteLayers(const std::vector<LayerSpec>& clip, QPointF offset, bool keepExternal = false,
                          const QString& text = QString());
  bool autoLayout(double columnPitch, double rowPitch);
  /// Replaces the layer list by `after` as one undo step named `text` (ReplaceLayersCommand).
  bool replaceLayers(const std::vector<LayerSpec>& after, const QString& text);
  /// Replaces the training settings; `field` names the edit ("epochs", ...) and
  /// consecutive edits of one field merge into one undo step.
  bool changeTraining(const TrainingSpec& after, const QString& field);
  /// Replaces the dataset settings (ChangeDatasetCommand); `field` names the edit
  /// ("dataset folder", ...) and consecutive edits of one field merge.
  bool changeDataset(const DatasetSpec& after, const QString& field);
  /// Stores `record` as the project's sweep (Project::sweep, saved with the project), or
  /// removes it (nullopt), as one undo step named `text` (SetSweepCommand).
  bool setSweep(const std::optional<SweepRecord>& record, const QString& text);
  /// Sets Project::deployment_target as one undo step ("Deployment target FINN"). To FINN,
  /// the same step sets floor 1 on every TruncAvgPool2d / TruncAdaptiveAvgPool2d that
  /// rounds half to even (FINN truncates with FLOOR: what it builds then computes what
  /// the app trains and shows); switching away leaves the pools as they are. False when
  /// `target` is the current one.
  bool setDeploymentTarget(DeploymentTarget target);
  /// "None", "ONNX Runtime", "FINN": the target as menus and undo steps name it.
  static QString deploymentTargetName(DeploymentTarget target);

  /// Applies an undo command's delta (forward = redo). For the commands only.
  void applyDelta(const LayerDelta& delta, bool forward);
  /// Sets the training settings and emits trainingChanged(). For the commands only.
  void applyTraining(const TrainingSpec& spec);
  /// Sets the dataset settings and emits datasetChanged(). For the commands only.
  void applyDataset(const DatasetSpec& spec);
  /// Sets Project::sweep and emits sweepChanged(). For the commands only.
  void applySweep(const std::optional<SweepRecord>& record);
  /// Sets Project::deployment_target, re-validates (the FINN rules) and emits changed().
  /// For the commands only.
  void applyDeploymentTarget(DeploymentTarget target);

 Q_SIGNALS:
  /// A different project was loaded or set.
  void projectReplaced();
  /// Fine-grained edit signals, emitted after the project and its validation are updated.
  void layerAdded(const QString& id);
  void layerRemoved(const QString& id);
  void layerRenamed(const QString& oldId, const QString& newId);
  /// Any field of the layer changed (parameters, quantizers, position, inputs).
  void layerChanged(const QString& id);
  void connectionsChanged();
  /// The training settings changed (an edit, its undo or redo).
  void trainingChanged();
  /// The dataset settings changed (an edit, its undo or redo).
  void datasetChanged();
  /// The saved sweep (Project::sweep) was set or removed (an edit, its undo or redo).
  void sweepChanged();
  /// The project content changed (after every edit, also emitted after projectReplaced()).
  void changed();
  void modifiedChanged(bool modified);
  /// The file path changed (Save As).
  void filePathChanged(const QString& path);

 private:
  bool push(LayerEditCommand* command);
  Project m_project;
  ValidationResult m_validation;
  QString m_filePath;
  QUndoStack* m_undoStack = nullptr;
};

}  // namespace qnn
