// SPDX-License-Identifier: GPL-3.0-or-later
// Shared helpers of the graph test executable: every test class of tests/graph/
// registers itself here and graph_main.cpp's main() runs them all.
#pragma once

#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <QObject>

#include "core/graph/project.h"
#include "core/graph/validate.h"

using GraphTestFactory = std::function<std::unique_ptr<QObject>()>;

/// The registered test classes (defined in graph_main.cpp).
std::vector<GraphTestFactory>& graph_test_factories();

#define QNN_REGISTER_GRAPH_TEST(Class)                                                              \
  static const bool Class##_registered = (graph_test_factories().push_back([] {                     \
                                            return std::unique_ptr<QObject>(new Class);             \
                                          }),                                                       \
                                          true)

namespace gt {

inline std::string source_path(const std::string& relative) { return std::string(QNN_SOURCE_DIR) + "/" + relative; }

inline std::string example(const std::string& name) {
  return source_path("resources/examples/" + name + ".qnn.json");
}

inline std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The diagnostic on `node` with `code` (any severity), or nullptr.
inline const qnn::Diagnostic* find(const qnn::ValidationResult& r, const std::string& node, const std::string& code) {
  for (const qnn::Diagnostic& d : r.diagnostics)
    if (d.node == node && d.code == code) return &d;
  return nullptr;
}

inline std::string dump(const qnn::ValidationResult& r) {
  std::string s;
  for (const qnn::Diagnostic& d : r.diagnostics) s += "[" + d.code + "] " + qnn::diagnostic_line(d) + "\n";
  return s;
}

inline int errors(const qnn::ValidationResult& r) {
  int n = 0;
  for (const qnn::Diagnostic& d : r.diagnostics) n += d.severity == qnn::Diagnostic::Severity::Error;
  return n;
}

/// A layer for in-memory test graphs.
inline qnn::LayerSpec layer(const std::string& id, qnn::LayerType type, std::vector<std::string> inputs,
                            std::map<std::string, double> params = {}) {
  qnn::LayerSpec l;
  l.id = id;
  l.type = type;
  l.inputs = std::move(inputs);
  l.params = std::move(params);
  return l;
}

}  // namespace gt
