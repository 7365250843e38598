// SPDX-License-Identifier: GPL-3.0-or-later
// Internal part of validate(): the checks of the training and dataset settings.
#pragma once

#include <vector>

#include "core/graph/project.h"
#include "core/graph/validate.h"

namespace qnn {

/// Diagnostics of project.training (node "training": optimizer, learning rate,
/// batch size, epochs, momentum, weight decay, threads) and project.dataset (node
/// "dataset": known name, padding; a warning when the folder does not exist). Code
/// "settings".
std::vector<Diagnostic> settings_diagnostics(const Project& project);

}  // namespace qnn
