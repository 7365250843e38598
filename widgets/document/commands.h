// SPDX-License-Identifier: GPL-3.0-or-later
// The editor's undo commands. Each one computes, when constructed, the LayerDelta
// of its edit on the document's current layers (before and after values of only the
// layers it touches) and applies it through ProjectDocument::applyDelta on redo and
// undo; the document then emits its fine-grained signals and re-validates. Commands
// touch only the document, never a view. Construct them through the ProjectDocument
// edit functions (which skip edits that change nothing).
#pragma once

#include <QPointF>
#include <QString>
#include <QStringList>
#include <QUndoCommand>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/graph/project.h"
#include "widgets/document/layer_edits.h"

namespace qnn {

class ProjectDocument;

/// Ids of the mergeable commands (QUndoCommand::id()).
enum CommandId { kMoveLayersId = 1001, kChangeLayersId = 1002, kChangeTrainingId = 1003, kChangeDatasetId = 1004 };

/// An input port: the layer it belongs to and its index.
struct PortRef {
  QString layer;
  int port = 0;
  bool operator==(const PortRef& o) const { return layer == o.layer && port == o.port; }
};

/// Base: a delta applied forward on redo and backward on undo.
class LayerEditCommand : public QUndoCommand {
 public:
  LayerEditCommand(ProjectDocument* document, LayerDelta delta, const QString& text);
  void redo() override;
  void undo() override;
  const LayerDelta& delta() const { return m_delta; }
  bool isEmpty() const { return m_delta.empty(); }

 protected:
  /// Merges another delta that only changes layers (no add/remove): this command's
  /// after values become the other's; returns false when it adds or removes layers.
  bool mergeChanges(const LayerDelta& other);
  ProjectDocument* m_document;
  LayerDelta m_delta;
};

/// Appends layers (e.g. one from the palette); ids must be unique already.
class AddLayersCommand : public LayerEditCommand {
 public:
  AddLayersCommand(ProjectDocument* document, const std::vector<LayerSpec>& layers);
};

/// Removes layers and the connections into and out of them, and disconnects `ports`.
class RemoveLayersCommand : public LayerEditCommand {
 public:
  RemoveLayersCommand(ProjectDocument* document, const QStringList& ids, const QList<PortRef>& ports = {});
};

/// Connects `from`'s output to input port `to.port` (replacing what was there).
class ConnectCommand : public LayerEditCommand {
 public:
  ConnectCommand(ProjectDocument* document, const QString& from, const PortRef& to);
};

/// Leaves the input ports unconnected.
class DisconnectCommand : public LayerEditCommand {
 public:
  DisconnectCommand(ProjectDocument* document, const QList<PortRef>& ports);
};

/// Moves layers to new positions (top-left corners, scene units). Consecutive moves
/// of the same layers with the same `mergeKey` (one drag) merge into one undo step.
class MoveLayersCommand : public LayerEditCommand {
 public:
  MoveLayersCommand(ProjectDocument* document, const std::map<std::string, QPointF>& positions, int mergeKey);
  int id() const override { return kMoveLayersId; }
  bool mergeWith(const QUndoCommand* other) override;

 private:
  std::vector<std::string> m_ids;
  int m_mergeKey;
};

/// Replaces layers by new values (parameters, quantizers, return_quant_tensor, id) —
/// `after` holds the new LayerSpecs, matched to the current layers by `oldIds`
/// (same order; an id edit renames every reference too). Consecutive edits of the
/// same `field` of the same layers in the same `session` merge (typing "16" in a
/// spin box is one undo step).
class ChangeLayersCommand : public LayerEditCommand {
 public:
  ChangeLayersCommand(ProjectDocument* document, const std::vector<std::string>& oldIds,
                      const std::vector<LayerSpec>& after, const QString& field, int session);
  int id() const override { return kChangeLayersId; }
  bool mergeWith(const QUndoCommand* other) override;

 private:
  std::vector<std::string> m_ids;  ///< ids after the edit
  QString m_field;
  int m_session;
};

/// Changes a layer's type in place to `type` (layerWithType: same id, position and
/// connections, parameters carried over, `type`'s default quantizers): one undo step
/// that restores the old layer exactly. Never merges.
class ChangeLayerTypeCommand : public LayerEditCommand {
 public:
  ChangeLayerTypeCommand(ProjectDocument* document, const QString& id, LayerType type);
};

/// Pastes copied layers: ids made unique, internal connections kept, positions shifted.
class PasteLayersCommand : public LayerEditCommand {
 public:
  PasteLayersCommand(ProjectDocument* document, const std::vector<LayerSpec>& clip, QPointF offset,
                     bool keepExternal, const QString& text);
  /// Ids of the pasted layers.
  QStringList pastedIds() const { return m_ids; }

 private:
  QStringList m_ids;
};

/// Replaces the whole layer list by `after` as one step: layers whose id is not in
/// `after` are removed, the others take their value from `after`, new ids are appended
/// (a graph rewrite such as Fold BatchNorm, core/graph/fold_batch_norm.h).
class ReplaceLayersCommand : public LayerEditCommand {
 public:
  ReplaceLayersCommand(ProjectDocument* document, const std::vector<LayerSpec>& after, const QString& text);
};

/// Lays the whole graph out top-down (autoLayoutPositions).
class AutoLayoutCommand : public LayerEditCommand {
 public:
  AutoLayoutCommand(ProjectDocument* document, double columnPitch, double rowPitch);
};

/// Changes the project's training settings (epochs, batch size, learning rate, ... as
/// edited in the Training Settings dock). Consecutive edits of the same `field`
/// merge (typing "0.01" in a spin box is one undo step).
class ChangeTrainingCommand : public QUndoCommand {
 public:
  ChangeTrainingCommand(ProjectDocument* document, const TrainingSpec& before, const TrainingSpec& after,
                        const QString& field);
  void redo() override;
  void undo() override;
  int id() const override { return kChangeTrainingId; }
  bool mergeWith(const QUndoCommand* other) override;

 private:
  ProjectDocument* m_document;
  TrainingSpec m_before, m_after;
  QString m_field;
};

/// Changes the project's dataset settings (name, folder, padding, fit, test share, as
/// edited in the Dataset dock). Consecutive edits of the same `field` merge.
class ChangeDatasetCommand : public QUndoCommand {
 public:
  ChangeDatasetCommand(ProjectDocument* document, const DatasetSpec& before, const DatasetSpec& after,
                       const QString& field);
  void redo() override;
  void undo() override;
  int id() const override { return kChangeDatasetId; }
  bool mergeWith(const QUndoCommand* other) override;

 private:
  ProjectDocument* m_document;
  DatasetSpec m_before, m_after;
  QString m_field;
};

/// Stores (or removes) the project's sensitivity sweep (Project::sweep, saved in the
/// project file): a finished or cancelled sweep of Analysis > Sensitivity Sweep…. One
/// undo step; the layers are not touched, so the trained model stays current.
class SetSweepCommand : public QUndoCommand {
 public:
  SetSweepCommand(ProjectDocument* document, std::optional<SweepRecord> before, std::optional<SweepRecord> after,
                  const QString& text);
  void redo() override;
  void undo() override;

 private:
  ProjectDocument* m_document;
  std::optional<SweepRecord> m_before, m_after;
};

/// Sets Project::deployment_target (ProjectDocument::setDeploymentTarget).
class SetDeploymentTargetCommand : public QUndoCommand {
 public:
  SetDeploymentTargetCommand(ProjectDocument* document, DeploymentTarget before, DeploymentTarget after,
                             const QString& text);
  void redo() override;
  void undo() override;

 private:
  ProjectDocument* m_document;
  DeploymentTarget m_before, m_after;
};

}  // namespace qnn
