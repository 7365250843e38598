// SPDX-License-Identifier: GPL-3.0-or-later
// For test executables made of several Qt Test classes (tests/graph, tests/inspect,
// tests/gui_editor, tests/gui_inspect):
// runs each class with the command line arguments and combines the results.
#pragma once

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <QObject>
#include <QtTest>

namespace qnn_test {

using TestFactory = std::function<std::unique_ptr<QObject>()>;

/// The `-o` argument "file[,format]" for one class: the class name is inserted before
/// the file's extension ("out.xml,junitxml" -> "out.TestGraph.xml,junitxml"; "out" ->
/// "out.TestGraph"), so the classes do not overwrite each other's result files. "-"
/// (standard output) is kept.
inline std::string per_class_output(const std::string& spec, const std::string& cls) {
  const size_t comma = spec.rfind(',');
  std::string file = comma == std::string::npos ? spec : spec.substr(0, comma);
  const std::string format = comma == std::string::npos ? std::string() : spec.substr(comma);
  if (file.empty() || file == "-") return spec;
  const size_t slash = file.find_last_of('/');
  const size_t dot = file.rfind('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash + 1))
    file.insert(dot, "." + cls);
  else
    file += "." + cls;
  return file + format;
}

/// Whether `test` should run: the command line names no test function, or names one of
/// `test`'s ("name" or "name:tag"). Options that take a value are skipped with it.
inline bool names_test_of(const QObject& test, int argc, char** argv) {
  static const std::vector<std::string> with_value = {"-o", "-maxwarnings", "-eventdelay", "-keydelay",
                                                      "-mousedelay", "-seed", "-platform", "-repeat"};
  bool named = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (std::find(with_value.begin(), with_value.end(), arg) != with_value.end()) {
      ++i;
      continue;
    }
    if (arg.empty() || arg[0] == '-') continue;
    named = true;
    const std::string method = arg.substr(0, arg.find(':')) + "()";
    if (test.metaObject()->indexOfMethod(method.c_str()) >= 0) return true;
  }
  return !named;
}

/// Runs QTest::qExec on every class `tests` makes, in order, each with argv (its `-o`
/// files renamed by per_class_output); when the command line names test functions,
/// only the classes that have them run. A QCoreApplication (QApplication for widget
/// tests) must exist. Returns 0 when every class passed, 1 otherwise (usable as the
/// exit status).
inline int run_test_classes(int argc, char** argv, const std::vector<TestFactory>& tests) {
  bool failed = false, ran = false;
  for (const TestFactory& make : tests) {
    std::unique_ptr<QObject> test = make();
    if (!names_test_of(*test, argc, argv)) continue;
    ran = true;
    const std::string cls = test->metaObject()->className();
    std::vector<std::string> args(argv, argv + argc);
    for (size_t i = 1; i + 1 < args.size(); ++i)
      if (args[i] == "-o") {
        args[i + 1] = per_class_output(args[i + 1], cls);
        ++i;
      }
    std::vector<char*> ptrs;
    for (std::string& a : args) ptrs.push_back(a.data());
    ptrs.push_back(nullptr);
    if (QTest::qExec(test.get(), argc, ptrs.data()) != 0) failed = true;
  }
  if (!ran) {
    std::fprintf(stderr, "no test class has the test functions named on the command line\n");
    return 1;
  }
  return failed ? 1 : 0;
}

}  // namespace qnn_test
