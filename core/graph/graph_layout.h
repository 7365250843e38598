// SPDX-License-Identifier: GPL-3.0-or-later
// Automatic placement of a graph's nodes (Edit -> Auto-layout, imported models).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/graph/project.h"

namespace qnn {

/// Top-down layered layout: a layer's row is the longest path from a source (a layer
/// without connected inputs); within a row, layers are ordered by the mean column of
/// their inputs and centred. Returns id -> (x, y) of each node's top-left corner, in
/// scene units (`column_pitch` / `row_pitch` apart). Cycles terminate (ranks capped).
std::map<std::string, std::pair<double, double>> auto_layout_positions(const std::vector<LayerSpec>& layers,
                                                                       double column_pitch, double row_pitch);

}  // namespace qnn
