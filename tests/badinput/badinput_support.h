// SPDX-License-Identifier: GPL-3.0-or-later
// The bad-input table's parts (tests/badinput): a row, running `qnn` as a child
// process, the files a row compares before and after. Shared by test_badinput.cpp (the
// save/export/read rows) and input_rows.cpp (the project, dataset and checkpoint rows).
#pragma once

#include <torch/torch.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <sys/stat.h>
#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/io/atomic_file.h"
#include "core/io/state_dict_writer.h"
#include "core/train/checkpoint.h"
#include "tests/thrown_message.h"

namespace badinput {

inline QString example(const char* name) {
  return QStringLiteral(QNN_SOURCE_DIR) + "/resources/examples/" + name + ".qnn.json";
}

struct Outcome {
  int code = -1;  // exit status of `qnn`; -1: an in-process call (threw or not)
  QString message;  // stderr, or the exception's message
  QString out;      // stdout
  QString text() const { return "exit " + QString::number(code) + "\nstdout:\n" + out + "\nmessage:\n" + message; }
};

/// `qnn args...` as a child process; `env` adds variables, `fsize_limit` > 0 sets
/// RLIMIT_FSIZE (bytes) in the child.
inline Outcome run_qnn(const QStringList& args, const QStringList& env = {}, rlim_t fsize_limit = 0,
            const QString& cwd = {}) {
  QProcess p;
  QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
  for (const QString& kv : env) e.insert(kv.section('=', 0, 0), kv.section('=', 1));
  p.setProcessEnvironment(e);
  if (!cwd.isEmpty()) p.setWorkingDirectory(cwd);
  if (fsize_limit > 0)
    p.setChildProcessModifier([fsize_limit] {
      ::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal (qnn ignores it too)
      const rlimit lim{fsize_limit, fsize_limit};
      ::setrlimit(RLIMIT_FSIZE, &lim);
    });
  p.start(QStringLiteral(QNN_CLI_PATH), args);
  Outcome o;
  if (!p.waitForFinished(180000)) {
    p.kill();
    p.waitForFinished();
    o.message = "timed out";
    return o;
  }
  o.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : 1000 + p.exitCode();
  o.out = QString::fromUtf8(p.readAllStandardOutput());
  o.message = QString::fromUtf8(p.readAllStandardError());
  return o;
}

/// A short training run's arguments (seconds, not minutes).
inline QStringList quick_train(const QString& checkpoint) {
  return {"train", example("lenet_lowprec"), "--epochs", "1", "--train-limit", "64", "--test-limit", "32",
          "--batch-size", "32", "--max-batches", "1", "--checkpoint", checkpoint};
}

inline QByteArray bytes_of(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

inline void write_bytes(const QString& path, const QByteArray& b) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  f.write(b);
}

/// Every leftover temporary under `dir` (any depth).
inline QStringList temporaries(const QString& dir) {
  QStringList found;
  QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
  while (it.hasNext()) {
    const QString f = it.next();
    if (f.contains(".qnn-tmp-") || f.contains(".probe-")) found << f;
  }
  return found;
}

/// One row: `setup` writes the old files into the row's own folder, `run` does the bad
/// thing; the row then expects `code` (-1: in process), every fragment in the message,
/// the old files unchanged, the `absent` files missing and no temporary left.
struct Row {
  const char* name;
  std::function<void(const QString& dir)> setup;
  std::function<Outcome(const QString& dir)> run;
  int code;
  std::function<QStringList(const QString& dir)> fragments;
  QStringList absent;  // relative to the row's folder
  std::function<void(const QString& dir, const Outcome&)> extra;  // more checks, or null
};

/// A small trained-looking model's checkpoint (random initial weights, seed 7) and the
/// project it is of; written from the test, not a fixture, so it is of this build.
inline const char* kOldBytes = "old bytes that must survive\n";

inline void old_file(const QString& path) { write_bytes(path, kOldBytes); }

inline Outcome in_process(const std::function<void()>& f) {
  Outcome o;
  try {
    f();
    o.message = "NOTHING THROWN";
  } catch (const qnn::Error& e) {
    o.message = e.what();
  } catch (const std::exception& e) {
    o.message = QStringLiteral("NOT A QNN ERROR: ") + e.what();
  }
  return o;
}

/// Sets QNN_TEST_FULL_DISK for the scope of an in-process call.
struct FullDisk {
  explicit FullDisk(const QString& dir) { ::setenv("QNN_TEST_FULL_DISK", dir.toUtf8().constData(), 1); }
  ~FullDisk() { ::unsetenv("QNN_TEST_FULL_DISK"); }
};

/// The checkpoint every export row reads (trained for one batch once, in initTestCase).
inline QString g_checkpoint;
inline QString g_rescue_dir;

/// The project, dataset and checkpoint rows (input_rows.cpp).
std::vector<Row> input_rows();

}  // namespace badinput
