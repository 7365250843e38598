// SPDX-License-Identifier: GPL-3.0-or-later
// main() of test_graph: runs every test class registered with QNN_REGISTER_GRAPH_TEST
// (graph_tests.h). Exit status 0 when every class passes, 1 otherwise; `-o file,format`
// writes one file per class (tests/multi_test_main.h).
#include <QCoreApplication>

#include "tests/graph/graph_tests.h"
#include "tests/multi_test_main.h"

std::vector<GraphTestFactory>& graph_test_factories() {
  static std::vector<GraphTestFactory> factories;
  return factories;
}

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  return qnn_test::run_test_classes(argc, argv, graph_test_factories());
}
