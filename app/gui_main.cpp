// SPDX-License-Identifier: GPL-3.0-or-later
// qnn-studio: the QNN Studio desktop application.
//   qnn-studio [project.qnn.json | model.onnx] [--train-limit N] [--test-limit N] [--max-batches N]
//              [--epochs N] [--train-on-start]
// Without a project it opens the bundled low-precision LeNet example; an .onnx file is
// imported (File > Import Model).
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "app/gui/main_window.h"
#include "app/gui/project_files.h"
#include "widgets/document/example_projects.h"
#include "widgets/input/wheel_guard.h"

namespace {

struct Options {
  QString project;
  qint64 trainLimit = 0, testLimit = 0, maxBatches = 0, epochs = 0;
  bool trainOnStart = false;
};

bool readCount(const QCommandLineParser& parser, const QString& name, qint64& out) {
  if (!parser.isSet(name)) return true;
  bool ok = false;
  const qint64 v = parser.value(name).toLongLong(&ok);
  if (!ok || v < 0) {
    std::fprintf(stderr, "qnn-studio: --%s expects a non-negative integer, got '%s'\n", qPrintable(name),
                 qPrintable(parser.value(name)));
    return false;
  }
  out = v;
  return true;
}

/// argv without the options QGuiApplication consumes itself (-platform offscreen,
/// -style fusion, ...), for the display-less parse.
std::vector<char*> withoutQtGuiOptions(int argc, char* argv[]) {
  static const char* const withValue[] = {"platform", "platformpluginpath", "platformtheme", "plugin",
                                          "style", "stylesheet", "qwindowgeometry", "geometry",
                                          "qwindowtitle", "qwindowicon", "display", "session"};
  static const char* const flags[] = {"reverse", "nograb", "dograb", "sync"};
  std::vector<char*> out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    const std::string name = a.rfind("--", 0) == 0 ? a.substr(2) : a.rfind('-', 0) == 0 ? a.substr(1) : std::string();
    bool skip = false;
    for (const char* n : withValue)
      if (i > 0 && name == n) {
        skip = true;
        ++i;  // and its value
      }
    for (const char* n : flags)
      if (i > 0 && name == n) skip = true;
    if (!skip) out.push_back(argv[i]);
  }
  out.push_back(nullptr);
  return out;
}

void setApplicationNames() {
  QCoreApplication::setApplicationName(QStringLiteral("QNN Studio"));
  QCoreApplication::setOrganizationName(QStringLiteral("QNN Studio"));
  QCoreApplication::setApplicationVersion(QStringLiteral(QNN_VERSION));
}

/// Parses the command line; returns an exit code when the program should stop.
/// --help and --version exit from QCommandLineParser::process().
std::optional<int> parseOptions(const QCoreApplication& app, Options& o) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      QStringLiteral("Design and train quantized neural networks (Brevitas-compatible QAT)."));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("project"),
                               QStringLiteral("Project file to open, or an ONNX model to import (default: the %1 example).")
                                   .arg(QLatin1String(qnn::kDefaultExampleProject)),
                               QStringLiteral("[project.qnn.json | model.onnx]"));
  parser.addOption({QStringLiteral("train-limit"), QStringLiteral("Train on the first <N> samples only."), QStringLiteral("N")});
  parser.addOption({QStringLiteral("test-limit"), QStringLiteral("Evaluate on the first <N> test samples only."), QStringLiteral("N")});
  parser.addOption({QStringLiteral("max-batches"), QStringLiteral("Stop every epoch after <N> batches."), QStringLiteral("N")});
  parser.addOption({QStringLiteral("epochs"), QStringLiteral("Epochs of the run (default: the project's)."), QStringLiteral("N")});
  parser.addOption({QStringLiteral("train-on-start"), QStringLiteral("Start training as soon as the window is shown.")});
  parser.process(app);

  if (!readCount(parser, QStringLiteral("train-limit"), o.trainLimit) ||
      !readCount(parser, QStringLiteral("test-limit"), o.testLimit) ||
      !readCount(parser, QStringLiteral("max-batches"), o.maxBatches) ||
      !readCount(parser, QStringLiteral("epochs"), o.epochs))
    return 2;
  o.trainOnStart = parser.isSet(QStringLiteral("train-on-start"));

  const QStringList positional = parser.positionalArguments();
  if (positional.size() > 1) {
    std::fprintf(stderr, "qnn-studio: expected at most one project file\n");
    return 2;
  }
  if (!positional.isEmpty()) {
    o.project = QFileInfo(positional.first()).absoluteFilePath();
  } else {
    o.project = qnn::findExampleProject();
    if (o.project.isEmpty())
      std::fprintf(stderr, "qnn-studio: the example %s was not found in: %s\n", qnn::kDefaultExampleProject,
                   qPrintable(qnn::exampleProjectDirs().join(QStringLiteral(", "))));
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char* argv[]) {
  // A file size limit (ulimit -f) makes a write fail with EFBIG, which the save paths
  // report, instead of killing the window with every unsaved edit (as in the CLI).
  std::signal(SIGXFSZ, SIG_IGN);
  Options options;
  {
    // Parse without a display first, so --help, --version and option errors work
    // headless (and before any window appears).
    std::vector<char*> args = withoutQtGuiOptions(argc, argv);
    int count = int(args.size()) - 1;
    QCoreApplication parsing(count, args.data());
    setApplicationNames();
    if (const std::optional<int> rc = parseOptions(parsing, options)) return *rc;
  }

  QApplication app(argc, argv);
  setApplicationNames();
  qnn::WheelGuard::install();  // every panel and dialog: the wheel changes only a focused field
  qnn::MainWindow window;
  window.setRunLimits(options.trainLimit, options.testLimit, options.maxBatches);
  // The window as it was left (QSettings); else 90 % of the screen, maximised on small ones.
  if (!window.restoreSavedLayout() && qnn::prefersMaximized(window.screen()))
    window.showMaximized();
  else
    window.show();
  const bool onnx = options.project.endsWith(QStringLiteral(".onnx"), Qt::CaseInsensitive);
  if (onnx) window.importModel(options.project);
  const bool opened = !onnx && !options.project.isEmpty() && window.openProject(options.project);
  if (opened && options.epochs > 0) window.setEpochs(int(options.epochs));
  if (opened && options.trainOnStart) QTimer::singleShot(300, &window, &qnn::MainWindow::startTraining);
  // After a crash: offer the autosaved project (not in scripted --train-on-start runs).
  // The autosave timer starts once that question is answered.
  if (!options.trainOnStart)
    QTimer::singleShot(0, &window, [&window] { window.fileActions()->offerRecovery(); });
  else
    window.fileActions()->startAutosave();
  return app.exec();
}
