// SPDX-License-Identifier: GPL-3.0-or-later
// For tests: runs the `qnn` command line (QNN_CLI_PATH) as a child process and keeps its
// exit status and output. Shared by the cli, numerics and resume tests.
#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>

namespace qnn_test {

struct CliRun {
  int code = -1;  ///< exit status; -1 when the process crashed or timed out
  QString out, err;
  QString text() const { return "exit " + QString::number(code) + "\nstdout:\n" + out + "\nstderr:\n" + err; }
};

/// `qnn args...`; killed after `timeoutMs` (err then reads "timed out").
inline CliRun runQnn(const QStringList& args, int timeoutMs) {
  QProcess p;
  p.start(QStringLiteral(QNN_CLI_PATH), args);
  CliRun r;
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished();
    r.err = "timed out";
    return r;
  }
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

}  // namespace qnn_test
