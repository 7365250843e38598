// SPDX-License-Identifier: GPL-3.0-or-later
// Readable graphs (core/graph/edge_routing.h, graph_layout.h): after auto_layout_positions
// on residual graphs no connection passes behind a node it is not attached to, skip
// connections go round through lanes, labels cover no node and no other label; new
// boxes placed with free_offset never cover existing ones.
#include <set>

#include "core/graph/edge_routing.h"
#include "core/graph/graph_layout.h"
#include "core/graph/project.h"
#include "tests/graph/graph_tests.h"

#include <QtTest>

using namespace qnn;

namespace {

constexpr double kColumnPitch = 290.0, kRowPitch = 104.0;  // GraphScene's pitches

struct Routed {
  std::vector<RouteNode> nodes;
  std::vector<RouteEdge> edges;
  std::vector<EdgeRoute> routes;
};

/// Lays `layers` out as Edit -> Auto-layout does and routes every connection the way
/// GraphScene does (ports on the boxes' top / bottom edges, a label per edge).
Routed layOutAndRoute(std::vector<LayerSpec> layers) {
  const auto pos = auto_layout_positions(layers, kColumnPitch, kRowPitch);
  Routed r;
  std::map<std::string, const LayerSpec*> by_id;
  for (LayerSpec& l : layers) {
    std::tie(l.x, l.y) = pos.at(l.id);
    r.nodes.push_back({l.id, {l.x, l.y, kLayoutNodeWidth, kLayoutNodeHeight}});
    by_id[l.id] = &l;
  }
  for (const LayerSpec& l : layers) {
    const int n = std::max(1, input_port_count(l));
    for (size_t port = 0; port < l.inputs.size(); ++port) {
      if (l.inputs[port].empty()) continue;
      const LayerSpec& s = *by_id.at(l.inputs[port]);
      RouteEdge e{s.id, l.id, {s.x + kLayoutNodeWidth / 2, s.y + kLayoutNodeHeight},
                  {l.x + kLayoutNodeWidth * double(port + 1) / double(n + 1), l.y}, 112.0, 16.0};
      r.edges.push_back(e);
    }
  }
  r.routes = route_edges(r.nodes, r.edges);
  return r;
}

std::string where(const RouteEdge& e) { return e.source + " -> " + e.target; }

/// Checks the promises of route_edges on `r`; returns how many routes use a lane.
int checkReadable(const Routed& r) {
  int lanes = 0;
  std::vector<LayoutRect> labels;
  for (size_t i = 0; i < r.edges.size(); ++i) {
    const RouteEdge& e = r.edges[i];
    const EdgeRoute& route = r.routes[i];
    lanes += route.via_lane;
    const std::string at = where(e);
    if (route.points.size() < 2) {
      QTest::qFail(("no route for " + at).c_str(), __FILE__, __LINE__);
      return -1;
    }
    if (route.points.front().x != e.from.x || route.points.front().y != e.from.y ||
        route.points.back().x != e.to.x || route.points.back().y != e.to.y)
      QTest::qFail(("route of " + at + " does not join the ports").c_str(), __FILE__, __LINE__);
    for (size_t k = 1; k < route.points.size(); ++k) {
      const LayoutPoint a = route.points[k - 1], b = route.points[k];
      if (std::abs(a.x - b.x) > 1e-9 && std::abs(a.y - b.y) > 1e-9)
        QTest::qFail(("diagonal segment on " + at).c_str(), __FILE__, __LINE__);
      for (const RouteNode& n : r.nodes) {
        if (n.id == e.source || n.id == e.target) continue;
        if (segment_crosses(a, b, n.box))
          QTest::qFail((at + " passes behind node " + n.id).c_str(), __FILE__, __LINE__);
      }
    }
    const LayoutRect& label = route.label;
    if (label.w <= 0) QTest::qFail(("no label for " + at).c_str(), __FILE__, __LINE__);
    for (const RouteNode& n : r.nodes)
      if (label.overlaps(n.box)) QTest::qFail(("label of " + at + " covers node " + n.id).c_str(), __FILE__, __LINE__);
    for (size_t j = 0; j < labels.size(); ++j)
      if (label.overlaps(labels[j]))
        QTest::qFail(("label of " + at + " covers the label of " + where(r.edges[j])).c_str(), __FILE__, __LINE__);
    labels.push_back(label);
  }
  return lanes;
}

/// Whether the straight line between the ports of `e` passes behind a node (as the
/// editor's old edges did).
bool straightLineHidden(const Routed& r, const RouteEdge& e) {
  for (const RouteNode& n : r.nodes)
    if (n.id != e.source && n.id != e.target && segment_crosses(e.from, e.to, n.box)) return true;
  return false;
}

}  // namespace

class TestEdgeRouting : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void segmentCrossesInteriorOnly();
  void resnet8SkipsGoAroundAndLabelsApart();
  void nestedAndLongSkips();
  void freeOffsetNeverCovers();
};

void TestEdgeRouting::segmentCrossesInteriorOnly() {
  const LayoutRect box{0, 0, 100, 50};
  QVERIFY(segment_crosses({50, -10}, {50, 60}, box));
  QVERIFY(segment_crosses({-10, 25}, {20, 25}, box));
  QVERIFY(!segment_crosses({0, -10}, {0, 60}, box));    // along the left border
  QVERIFY(!segment_crosses({50, 50}, {50, 90}, box));   // leaves from the bottom edge
  QVERIFY(!segment_crosses({110, -10}, {110, 60}, box));
}

void TestEdgeRouting::resnet8SkipsGoAroundAndLabelsApart() {
  const Project p = load_project(gt::example("resnet8_w4a4"));
  const Routed r = layOutAndRoute(p.layers);
  QVERIFY(r.edges.size() >= p.layers.size());
  // The identity shortcut of stage 1 (relu0 -> s1_add) would run straight behind the
  // block's main path: the case this is about.
  bool shortcutFound = false;
  for (size_t i = 0; i < r.edges.size(); ++i)
    if (r.edges[i].source == "relu0" && r.edges[i].target == "s1_add") {
      shortcutFound = true;
      QVERIFY2(straightLineHidden(r, r.edges[i]), "the layout no longer puts s1's main path between its ports");
      QVERIFY(r.routes[i].via_lane);
      QVERIFY(r.routes[i].points.size() >= 4);
    }
  QVERIFY(shortcutFound);
  const int lanes = checkReadable(r);
  QVERIFY(lanes >= 1);
}

void TestEdgeRouting::nestedAndLongSkips() {
  using gt::layer;
  // A chain a..g with skips a->d (Add d), a->g (Add g, around the inner block too),
  // and c->f (Add f): nested and crossing skips, three labels near each other.
  std::vector<LayerSpec> layers = {
      layer("in", LayerType::Input, {}),        layer("a", LayerType::ReLU, {"in"}),
      layer("b", LayerType::Conv2d, {"a"}),     layer("c", LayerType::ReLU, {"b"}),
      layer("d", LayerType::Add, {"c", "a"}),   layer("e", LayerType::Conv2d, {"d"}),
      layer("f", LayerType::Add, {"e", "c"}),   layer("g", LayerType::Add, {"f", "a"}),
      layer("out", LayerType::Flatten, {"g"}),
  };
  const Routed r = layOutAndRoute(layers);
  QCOMPARE(r.edges.size(), size_t(11));
  int hidden = 0;
  for (const RouteEdge& e : r.edges) hidden += straightLineHidden(r, e);
  QVERIFY(hidden >= 2);
  QVERIFY(checkReadable(r) >= hidden);
}

void TestEdgeRouting::freeOffsetNeverCovers() {
  // 20 boxes wanted at the same spot, each placed after the previous ones.
  std::vector<LayoutRect> occupied = {{0, 0, kLayoutNodeWidth, kLayoutNodeHeight}};
  for (int i = 0; i < 20; ++i) {
    const LayoutRect want{10, 5, kLayoutNodeWidth, kLayoutNodeHeight};
    const auto [dx, dy] = free_offset(occupied, {want}, 0, 0);
    const LayoutRect placed{want.x + dx, want.y + dy, want.w, want.h};
    for (const LayoutRect& o : occupied) QVERIFY2(!placed.overlaps(o.grown(13.9)), qPrintable(QString::number(i)));
    QVERIFY(std::abs(dx) + std::abs(dy) < 1000);  // near the wanted spot
    occupied.push_back(placed);
  }
  // A free spot is kept as it is.
  const auto [dx, dy] = free_offset(occupied, {{5000, 5000, 10, 10}}, 3, 4);
  QCOMPARE(dx, 3.0);
  QCOMPARE(dy, 4.0);
}

QNN_REGISTER_GRAPH_TEST(TestEdgeRouting);
#include "test_edge_routing.moc"
