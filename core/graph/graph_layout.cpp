// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/graph/graph_layout.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

namespace qnn {
namespace {

/// Columns for one row: targets `want` (in row order), consecutive entries at least
/// 1 apart, least squared shift. With q_k = col_k - k the constraint is "q does not
/// decrease": isotonic regression of want_k - k by pooling adjacent violators.
std::vector<double> spread_row(const std::vector<double>& want) {
  struct Block {
    double sum;
    size_t count;
    double mean() const { return sum / double(count); }
  };
  std::vector<Block> blocks;
  for (size_t k = 0; k < want.size(); ++k) {
    blocks.push_back({want[k] - double(k), 1});
    while (blocks.size() > 1 && blocks[blocks.size() - 2].mean() > blocks.back().mean()) {
      blocks[blocks.size() - 2].sum += blocks.back().sum;
      blocks[blocks.size() - 2].count += blocks.back().count;
      blocks.pop_back();
    }
  }
  std::vector<double> out;
  for (const Block& b : blocks)
    for (size_t i = 0; i < b.count; ++i) out.push_back(b.mean() + double(out.size()));
  return out;
}

}  // namespace

bool LayoutRect::overlaps(const LayoutRect& o) const {
  return x < o.right() && o.x < right() && y < o.bottom() && o.y < bottom();
}

std::map<std::string, std::pair<double, double>> auto_layout_positions(const std::vector<LayerSpec>& layers, double column_pitch,
                                                                       double row_pitch) {
  const size_t n = layers.size();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index[layers[i].id] = i;
  // Longest path from a source; capped at n so cycles terminate.
  std::vector<size_t> rank(n, 0);
  for (size_t pass = 0; pass < n; ++pass) {
    bool moved = false;
    for (size_t i = 0; i < n; ++i)
      for (const std::string& in : layers[i].inputs) {
        const auto it = index.find(in);
        if (it == index.end() || it->second == i) continue;
        const size_t r = std::min(n, rank[it->second] + 1);
        if (r > rank[i]) {
          rank[i] = r;
          moved = true;
        }
      }
    if (!moved) break;
  }
  std::map<size_t, std::vector<size_t>> rows;
  for (size_t i = 0; i < n; ++i) rows[rank[i]].push_back(i);
  std::vector<double> column(n, 0.0);
  std::map<std::string, std::pair<double, double>> out;
  for (auto& [r, members] : rows) {
    std::vector<std::pair<double, size_t>> keyed;
    for (size_t i : members) {
      double sum = 0.0;
      int count = 0;
      for (const std::string& in : layers[i].inputs) {
        const auto it = index.find(in);
        if (it != index.end() && rank[it->second] < r) {
          sum += column[it->second];
          ++count;
        }
      }
      keyed.emplace_back(count ? sum / count : 0.0, i);
    }
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<double> want;
    for (const auto& k : keyed) want.push_back(k.first);
    const std::vector<double> cols = spread_row(want);
    for (size_t k = 0; k < keyed.size(); ++k) {
      const size_t i = keyed[k].second;
      column[i] = cols[k];
      out[layers[i].id] = {column[i] * column_pitch, double(r) * row_pitch};
    }
  }
  return out;
}

std::vector<LayoutRect> nominal_boxes(const std::vector<LayerSpec>& layers) {
  std::vector<LayoutRect> out;
  out.reserve(layers.size());
  for (const LayerSpec& l : layers) out.push_back({l.x, l.y, kLayoutNodeWidth, kLayoutNodeHeight});
  return out;
}

std::pair<double, double> free_offset(const std::vector<LayoutRect>& occupied, const std::vector<LayoutRect>& group,
                                      double want_dx, double want_dy, double gap, double step) {
  auto free_at = [&](double dx, double dy) {
    for (const LayoutRect& g : group) {
      const LayoutRect moved = LayoutRect{g.x + dx, g.y + dy, g.w, g.h}.grown(gap);
      for (const LayoutRect& o : occupied)
        if (moved.overlaps(o)) return false;
    }
    return true;
  };
  if (free_at(want_dx, want_dy)) return {want_dx, want_dy};
  constexpr int kRings = 60;
  for (int ring = 1; ring <= kRings; ++ring) {
    // Candidates on the square ring, nearest first; ties prefer below, then right.
    std::vector<std::tuple<double, int, int>> ring_cells;
    for (int i = -ring; i <= ring; ++i)
      for (int j = -ring; j <= ring; ++j) {
        if (std::max(std::abs(i), std::abs(j)) != ring) continue;
        ring_cells.emplace_back(std::hypot(double(i), double(j)), -j, -i);
      }
    std::sort(ring_cells.begin(), ring_cells.end());
    for (const auto& [dist, nj, ni] : ring_cells) {
      const double dx = want_dx - ni * step, dy = want_dy - nj * step;
      if (free_at(dx, dy)) return {dx, dy};
    }
  }
  // Everything near is taken: below the lowest box.
  double bottom = -std::numeric_limits<double>::infinity(), top = std::numeric_limits<double>::infinity();
  for (const LayoutRect& o : occupied) bottom = std::max(bottom, o.bottom());
  for (const LayoutRect& g : group) top = std::min(top, g.y);
  if (occupied.empty() || group.empty()) return {want_dx, want_dy};
  return {want_dx, bottom + gap + 1.0 - top};
}

}  // namespace qnn
