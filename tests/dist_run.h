// SPDX-License-Identifier: GPL-3.0-or-later
// For tests: ranks of `qnn ... --dist` started by hand on this machine, as torchrun
// would start them. Shared by the dist, dist_faults and dist_sweep tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QProcessEnvironment>
#include <QString>

namespace qnn_test {

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// This process's environment plus torchrun's variables for rank `rank` of `world`:
/// MASTER_ADDR `addr`, MASTER_PORT `port`, WORLD_SIZE, RANK.
inline QProcessEnvironment torchrun_env(int port, int rank, int world = 2,
                                        const QString& addr = QStringLiteral("127.0.0.1")) {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("MASTER_ADDR", addr);
  env.insert("MASTER_PORT", QString::number(port));
  env.insert("WORLD_SIZE", QString::number(world));
  env.insert("RANK", QString::number(rank));
  return env;
}

}  // namespace qnn_test
