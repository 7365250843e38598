// SPDX-License-Identifier: GPL-3.0-or-later
// `qnn train --dist`: joins the torchrun-style process group (core/dist) for one run.
#pragma once

#include <memory>
#include <string>

#include "app/cli/cli_args.h"
#include "core/dist/data_parallel.h"

namespace qnn::cli {

/// The exit status of a `qnn train --dist` / `qnn sweep --dist` rank whose run ended
/// because another rank was lost (did not join, ended, crashed, or did not answer
/// within --dist-timeout; PeerLostError): that rank is not the cause. `qnn launch`
/// blames the rank that exited otherwise (an error of its own, a signal).
inline constexpr int kExitPeerLost = 3;

/// The process group of a `qnn train --dist` run, active (set_active_data_parallel) while
/// this object lives.
class DistSession {
 public:
  ~DistSession();
  int rank() const;
  int world_size() const;
  bool is_rank0() const { return rank() == 0; }
  /// The header line rank 0 prints ("dist: 2 ranks (Gloo over TCP, 127.0.0.1:29500), ...").
  std::string header(int64_t per_rank_batch) const;
  /// "dist-check: N steps identical on W ranks" when --dist-check was given, else "".
  std::string check_line() const;
  /// The process group (collectives; `qnn sweep --dist` gathers its points through it).
  DataParallel& group() { return *m_dp; }
  /// "127.0.0.1:29500" (MASTER_ADDR:MASTER_PORT).
  const std::string& where() const { return m_where; }
  /// --dist-timeout in seconds.
  double timeout() const { return m_timeout; }

 private:
  friend std::unique_ptr<DistSession> start_dist(const CommandArgs&, const std::string&, bool);
  std::unique_ptr<DataParallel> m_dp;
  std::string m_where;
  double m_timeout = 60.0;
  bool m_check = false;
};

/// nullptr without --dist. With --dist: reads MASTER_ADDR, MASTER_PORT, WORLD_SIZE and
/// RANK, joins the group within --dist-timeout seconds (default 60) and refuses a project
/// whose bytes differ from rank 0's (ConfigError naming the rank, on every rank).
/// A command that then fails because a collective or the rendezvous threw PeerLostError
/// makes `qnn` exit with kExitPeerLost instead of 1 (cli::run, via dist_peer_lost()).
/// Throws UsageError: --dist-timeout / --dist-check without --dist; --dist-timeout not
/// a number of seconds from 0.1 to 1000000; a torchrun variable missing or invalid
/// (read_dist_env's message, naming every missing variable). ConfigError: the project
/// differs from rank 0's, and the errors of
/// join_process_group() (core/dist/process_group.h; PeerLostError among them).
/// IoError: the project file cannot be read for its digest.
/// `for_training` (the default, `qnn train --dist`) makes the group the active
/// data-parallel context (set_active_data_parallel: the trainer's hooks and the
/// statistics-phase percentiles combine across the ranks); `qnn sweep --dist` passes
/// false: each rank evaluates on its own, and only the sweep's own gathers communicate.
std::unique_ptr<DistSession> start_dist(const CommandArgs& args, const std::string& project_path,
                                        bool for_training = true);

}  // namespace qnn::cli
