// SPDX-License-Identifier: GPL-3.0-or-later
// Edit > Deployment Target: None / ONNX Runtime / FINN, the project's
// Project::deployment_target. Choosing one is an undoable edit of the document
// (ProjectDocument::setDeploymentTarget; to FINN it also turns on FLOOR truncation in the
// average pools); with FINN the graph shows FINN's dataflow rules as warnings on the
// nodes at fault (core/graph/finn_rules.h).
#pragma once

#include <QMenu>

namespace qnn {

class ProjectDocument;

/// The submenu, its three checkable actions named deploymentTargetNoneAction,
/// deploymentTargetOnnxRuntimeAction and deploymentTargetFinnAction; the checked one
/// follows the document (undo, another project).
QMenu* createDeploymentTargetMenu(ProjectDocument* document, QWidget* parent);

}  // namespace qnn
