// SPDX-License-Identifier: GPL-3.0-or-later
// `qnn train --dist`: joins the torchrun-style process group (core/dist) for one run.
#pragma once

#include <memory>
#include <string>

#include "app/cli/cli_args.h"
#include "core/dist/data_parallel.h"

namespace qnn::cli {

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

 private:
  friend std::unique_ptr<DistSession> start_dist(const CommandArgs&, const std::string&);
  std::unique_ptr<DataParallel> m_dp;
  std::string m_where;
  double m_timeout = 60.0;
  bool m_check = false;
};

/// nullptr without --dist. With --dist: reads MASTER_ADDR, MASTER_PORT, WORLD_SIZE and
/// RANK, joins the group within --dist-timeout seconds (default 60) and refuses a project
/// whose bytes differ from rank 0's (ConfigError naming the rank, on every rank).
/// --dist-timeout / --dist-check without --dist: UsageError.
std::unique_ptr<DistSession> start_dist(const CommandArgs& args, const std::string& project_path);

}  // namespace qnn::cli
