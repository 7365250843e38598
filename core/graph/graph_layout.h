// SPDX-License-Identifier: GPL-3.0-or-later
// Automatic placement of a graph's nodes (Edit -> Auto-layout, imported models) and
// free spots for new ones (palette adds, paste, duplicate). Plain geometry in scene
// units (the node editor's coordinates: x to the right, y downwards); no Qt.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/graph/project.h"

namespace qnn {

/// Size of a node box in the editor (NodeItem: 210 wide, 43 or 58 high): the size
/// placement assumes for a layer it has no box for.
inline constexpr double kLayoutNodeWidth = 210.0;
inline constexpr double kLayoutNodeHeight = 58.0;

/// An axis-aligned rectangle: top-left corner (x, y), width w, height h.
struct LayoutRect {
  double x = 0.0, y = 0.0, w = 0.0, h = 0.0;
  double right() const { return x + w; }
  double bottom() const { return y + h; }
  /// Whether the interiors overlap (rectangles that only touch do not).
  bool overlaps(const LayoutRect& o) const;
  /// This rectangle grown by `d` on every side.
  LayoutRect grown(double d) const { return {x - d, y - d, w + 2 * d, h + 2 * d}; }
};

/// Top-down layered layout: a layer's row is the longest path from a source (a layer
/// without connected inputs). Within a row a layer goes to the mean column of its
/// inputs (a chain stays in one column; a residual block's main path and shortcut sit
/// side by side), layers of a row at least one column apart with the least total
/// shift (file order breaks ties). Returns id -> (x, y) of each node's top-left
/// corner, in scene units (`column_pitch` / `row_pitch` apart). Cycles terminate
/// (ranks capped).
std::map<std::string, std::pair<double, double>> auto_layout_positions(const std::vector<LayerSpec>& layers,
                                                                       double column_pitch, double row_pitch);

/// Where to put new boxes without covering existing ones: a shift (dx, dy) such that
/// every rectangle of `group` moved by it keeps at least `gap` from every rectangle
/// of `occupied`. (want_dx, want_dy) itself when that is free, else the first free
/// one on square rings of `step` around it (nearest first within a ring, ties below,
/// then right); after 60 rings without a free spot, just below everything occupied.
std::pair<double, double> free_offset(const std::vector<LayoutRect>& occupied, const std::vector<LayoutRect>& group,
                                      double want_dx, double want_dy, double gap = 14.0, double step = 20.0);

/// The nominal boxes (kLayoutNodeWidth x kLayoutNodeHeight at each layer's x, y).
std::vector<LayoutRect> nominal_boxes(const std::vector<LayerSpec>& layers);

}  // namespace qnn
