// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/graph/edge_routing.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qnn {
namespace {

constexpr double kEps = 1e-6;
/// Heights tried for a horizontal run below a source / above a target, in order.
constexpr double kStubs[] = {18.0, 26.0, 12.0, 34.0, 8.0, 42.0};

struct Lane {
  double x, lo, hi;
};

double route_length(const std::vector<LayoutPoint>& p) {
  double len = 0.0;
  for (size_t i = 1; i < p.size(); ++i) len += std::abs(p[i].x - p[i - 1].x) + std::abs(p[i].y - p[i - 1].y);
  return len;
}

/// Drops repeated points and points in the middle of a straight run.
std::vector<LayoutPoint> simplified(const std::vector<LayoutPoint>& in) {
  std::vector<LayoutPoint> out;
  for (const LayoutPoint& p : in) {
    if (!out.empty() && std::abs(out.back().x - p.x) < kEps && std::abs(out.back().y - p.y) < kEps) continue;
    if (out.size() >= 2) {
      const LayoutPoint& a = out[out.size() - 2];
      const LayoutPoint& b = out.back();
      const bool vertical = std::abs(a.x - b.x) < kEps && std::abs(b.x - p.x) < kEps;
      const bool horizontal = std::abs(a.y - b.y) < kEps && std::abs(b.y - p.y) < kEps;
      if (vertical || horizontal) out.pop_back();
    }
    out.push_back(p);
  }
  return out;
}

class Router {
 public:
  Router(const std::vector<RouteNode>& nodes, const RouteOptions& o) : m_nodes(nodes), m_o(o) {}

  /// Whether `p` stays clear of every node box (grown by a hair, so a line grazing a
  /// box counts as hidden), except where it leaves its source and enters its target.
  bool clear(const std::vector<LayoutPoint>& p, const RouteEdge& e) const {
    for (size_t i = 1; i < p.size(); ++i)
      for (const RouteNode& n : m_nodes) {
        const bool own_end = (i == 1 && n.id == e.source) || (i + 1 == p.size() && n.id == e.target);
        const LayoutRect box = own_end ? n.box : n.box.grown(2.0);
        if (segment_crosses(p[i - 1], p[i], box)) return false;
      }
    return true;
  }

  bool direct(const RouteEdge& e, std::vector<LayoutPoint>& out) const {
    const LayoutPoint a = e.from, b = e.to;
    if (b.y <= a.y + 2 * kStubs[4]) return false;
    if (std::abs(a.x - b.x) < 0.5) {
      out = {a, {a.x, b.y}};
      out.back() = b;
      return clear(out, e);
    }
    for (double ym : {b.y - kStubs[0], (a.y + b.y) / 2, a.y + kStubs[0], b.y - kStubs[2], a.y + kStubs[2]}) {
      if (ym <= a.y || ym >= b.y) continue;
      out = {a, {a.x, ym}, {b.x, ym}, b};
      if (clear(out, e)) return true;
    }
    return false;
  }

  /// The lane route of least length (right side on ties) that stays clear; false when
  /// none does (`out` then holds the right-side lane anyway).
  bool lane(const RouteEdge& e, std::vector<Lane>& lanes, std::vector<LayoutPoint>& out) const {
    const LayoutPoint a = e.from, b = e.to;
    bool found = false;
    double best = std::numeric_limits<double>::infinity();
    Lane best_lane{};
    std::vector<LayoutPoint> fallback;
    Lane fallback_lane{};
    for (int side : {+1, -1})
      for (double s1 : kStubs)
        for (double s2 : kStubs) {
          const double y1 = a.y + s1, y2 = b.y - s2;
          const double lo = std::min(y1, y2), hi = std::max(y1, y2);
          // Beyond every box the vertical run passes, and beyond both ports.
          double x = side > 0 ? std::max(a.x, b.x) : std::min(a.x, b.x);
          for (const RouteNode& n : m_nodes)
            if (n.box.y < hi + m_o.clearance && n.box.bottom() > lo - m_o.clearance)
              x = side > 0 ? std::max(x, n.box.right()) : std::min(x, n.box.x);
          x += side * m_o.clearance;
          // Next to earlier lanes whose runs overlap this one, never on them.
          for (bool moved = true; moved;) {
            moved = false;
            for (const Lane& l : lanes)
              if (l.lo < hi + m_o.lane_gap && l.hi > lo - m_o.lane_gap && std::abs(l.x - x) < m_o.lane_gap - kEps) {
                x = l.x + side * m_o.lane_gap;
                moved = true;
              }
          }
          std::vector<LayoutPoint> p = {a, {a.x, y1}, {x, y1}, {x, y2}, {b.x, y2}, b};
          if (fallback.empty()) {
            fallback = p;
            fallback_lane = {x, lo, hi};
          }
          const double len = route_length(p) + (side < 0 ? 1.0 : 0.0);
          if (len < best && clear(p, e)) {
            best = len;
            out = p;
            best_lane = {x, lo, hi};
            found = true;
          }
        }
    if (!found) {
      out = fallback;
      best_lane = fallback_lane;
    }
    lanes.push_back(best_lane);
    return found;
  }

 private:
  const std::vector<RouteNode>& m_nodes;
  const RouteOptions& m_o;
};

/// Candidate label rectangles beside the segments of `p`: vertical runs first (to the
/// right, then left), longest first, middle first; then horizontal runs (above, below).
std::vector<LayoutRect> label_candidates(const std::vector<LayoutPoint>& p, double w, double h, double gap) {
  struct Seg {
    LayoutPoint a, b;
    bool vertical;
    double len;
  };
  std::vector<Seg> segs;
  for (size_t i = 1; i < p.size(); ++i) {
    const bool vertical = std::abs(p[i].x - p[i - 1].x) < kEps;
    segs.push_back({p[i - 1], p[i], vertical, std::abs(p[i].x - p[i - 1].x) + std::abs(p[i].y - p[i - 1].y)});
  }
  std::stable_sort(segs.begin(), segs.end(), [](const Seg& s, const Seg& t) {
    if (s.vertical != t.vertical) return s.vertical;
    return s.len > t.len;
  });
  std::vector<LayoutRect> out;
  const double ts[] = {0.5, 0.35, 0.65, 0.2, 0.8, 0.08, 0.92};
  for (const Seg& s : segs)
    for (double t : ts) {
      const double cx = s.a.x + t * (s.b.x - s.a.x), cy = s.a.y + t * (s.b.y - s.a.y);
      if (s.vertical) {
        out.push_back({cx + gap + 2, cy - h / 2, w, h});
        out.push_back({cx - gap - 2 - w, cy - h / 2, w, h});
      } else {
        out.push_back({cx - w / 2, cy - gap - h, w, h});
        out.push_back({cx - w / 2, cy + gap, w, h});
      }
    }
  return out;
}

}  // namespace

bool segment_crosses(LayoutPoint a, LayoutPoint b, const LayoutRect& r) {
  // Liang-Barsky clipping against the open rectangle.
  const double xmin = r.x + kEps, xmax = r.right() - kEps, ymin = r.y + kEps, ymax = r.bottom() - kEps;
  if (xmin >= xmax || ymin >= ymax) return false;
  double t0 = 0.0, t1 = 1.0;
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {a.x - xmin, xmax - a.x, a.y - ymin, ymax - a.y};
  for (int i = 0; i < 4; ++i) {
    if (std::abs(p[i]) < 1e-12) {
      if (q[i] <= 0) return false;  // parallel and outside (or on the border)
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0)
      t0 = std::max(t0, t);
    else
      t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  return t1 - t0 > 1e-9;
}

std::vector<EdgeRoute> route_edges(const std::vector<RouteNode>& nodes, const std::vector<RouteEdge>& edges,
                                   const RouteOptions& options) {
  const Router router(nodes, options);
  std::vector<EdgeRoute> routes(edges.size());
  std::vector<size_t> around;
  for (size_t i = 0; i < edges.size(); ++i) {
    if (router.direct(edges[i], routes[i].points)) continue;
    around.push_back(i);
  }
  // Short skips take the inner lanes.
  std::stable_sort(around.begin(), around.end(), [&](size_t i, size_t j) {
    return std::abs(edges[i].to.y - edges[i].from.y) < std::abs(edges[j].to.y - edges[j].from.y);
  });
  std::vector<Lane> lanes;
  for (size_t i : around) {
    router.lane(edges[i], lanes, routes[i].points);
    routes[i].via_lane = true;
  }
  for (EdgeRoute& r : routes) r.points = simplified(r.points);

  // Labels: first free spot, with passes of decreasing strictness.
  std::vector<LayoutRect> placed;
  const double g = options.label_gap;
  for (size_t i = 0; i < edges.size(); ++i) {
    const RouteEdge& e = edges[i];
    if (e.label_width <= 0.0 || e.label_height <= 0.0 || routes[i].points.size() < 2) continue;
    const std::vector<LayoutRect> candidates =
        label_candidates(routes[i].points, e.label_width, e.label_height, g);
    auto hits_boxes = [&](const LayoutRect& c) {
      const LayoutRect grown = c.grown(g);
      for (const RouteNode& n : nodes)
        if (grown.overlaps(n.box)) return true;
      for (const LayoutRect& l : placed)
        if (grown.overlaps(l)) return true;
      return false;
    };
    auto hits_routes = [&](const LayoutRect& c) {
      for (const EdgeRoute& r : routes)
        for (size_t k = 1; k < r.points.size(); ++k)
          if (segment_crosses(r.points[k - 1], r.points[k], c)) return true;
      return false;
    };
    const LayoutRect* chosen = nullptr;
    for (const LayoutRect& c : candidates)
      if (!hits_boxes(c) && !hits_routes(c)) {
        chosen = &c;
        break;
      }
    if (!chosen)
      for (const LayoutRect& c : candidates)
        if (!hits_boxes(c)) {
          chosen = &c;
          break;
        }
    if (!chosen) chosen = &candidates.front();
    routes[i].label = *chosen;
    placed.push_back(*chosen);
  }
  return routes;
}

}  // namespace qnn
