// SPDX-License-Identifier: GPL-3.0-or-later
// Routes of the node editor's connections: orthogonal polylines from a layer's output
// port (bottom centre) to an input port (top edge) that pass through no node box,
// and a place for each connection's label (the tensor it carries, "16×8×8 · s4")
// that covers no node and no other label. A connection whose direct path would be
// hidden behind a node (a residual block's skip connection) goes around through a
// lane beside the nodes it skips; parallel lanes keep apart. Plain geometry in scene
// units (x to the right, y downwards); no Qt. GraphScene draws the result.
#pragma once

#include <string>
#include <vector>

#include "core/graph/graph_layout.h"

namespace qnn {

struct LayoutPoint {
  double x = 0.0, y = 0.0;
};

/// A node box (obstacle) by layer id.
struct RouteNode {
  std::string id;
  LayoutRect box;
};

/// A connection to route: from the source's output port to the target's input port,
/// with the size of its label (0 x 0: no label).
struct RouteEdge {
  std::string source, target;
  LayoutPoint from, to;
  double label_width = 0.0, label_height = 0.0;
};

/// A route: the polyline from `from` to `to` (first and last points are the ports;
/// the last segment goes straight down into the input port) and the label's rectangle
/// (w = 0 when the edge has no label).
struct EdgeRoute {
  std::vector<LayoutPoint> points;
  LayoutRect label;
  /// The route goes around the nodes through a side lane.
  bool via_lane = false;
};

struct RouteOptions {
  double clearance = 10.0;  ///< distance kept from node boxes (lanes, jogs)
  double lane_gap = 18.0;   ///< distance between neighbouring lanes
  double label_gap = 3.0;   ///< distance between a label and its line, other labels and nodes
};

/// Routes every edge of `edges` (in order) among `nodes`: the direct path (straight
/// down, or down, across and down with the horizontal run just above the target)
/// when it crosses no node box; else a lane beside the boxes between source and
/// target (right side first), entered just below the source and left just above the
/// target. Labels go beside a segment of their own route, on the first spot found
/// that overlaps no node box, no other label and (if possible) no other route.
/// Returns one EdgeRoute per edge, same order.
std::vector<EdgeRoute> route_edges(const std::vector<RouteNode>& nodes, const std::vector<RouteEdge>& edges,
                                   const RouteOptions& options = {});

/// Whether the segment a-b passes through the interior of `r` (touching its border
/// or running along it does not count).
bool segment_crosses(LayoutPoint a, LayoutPoint b, const LayoutRect& r);

}  // namespace qnn
