// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/graph/graph_layout.h"

#include <algorithm>

namespace qnn {

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
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    const double centre = (double(keyed.size()) - 1.0) / 2.0;
    for (size_t k = 0; k < keyed.size(); ++k) {
      const size_t i = keyed[k].second;
      column[i] = double(k) - centre;
      out[layers[i].id] = {column[i] * column_pitch, double(r) * row_pitch};
    }
  }
  return out;
}

}  // namespace qnn
