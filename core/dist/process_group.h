// SPDX-License-Identifier: GPL-3.0-or-later
// The c10d process group behind `qnn train --dist`: a TCPStore rendezvous (rank 0 is
// the server) and ProcessGroupGloo over TCP, configured from torchrun's environment.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/dist/data_parallel.h"

namespace qnn {

/// torchrun's variables, checked.
struct DistEnv {
  std::string master_addr;
  int master_port = 0;
  int world_size = 1;
  int rank = 0;
};

/// Reads MASTER_ADDR, MASTER_PORT (1..65535), WORLD_SIZE (>= 1), RANK (0..WORLD_SIZE-1).
/// Throws ConfigError naming the variable when one is missing or invalid.
DistEnv read_dist_env();

/// Joins the process group. `timeout_seconds` bounds the rendezvous (all ranks must
/// join within it) and every collective afterwards (a dead or stuck peer ends it with
/// an error). Throws ConfigError ("rendezvous with MASTER_ADDR:MASTER_PORT timed out
/// after N s: ...") when the group cannot be formed.
std::unique_ptr<DataParallel> join_process_group(const DistEnv& env, double timeout_seconds, bool check_every_step);

/// Start-up check: rank 0 broadcasts `digest` (e.g. a hash of the project file's bytes);
/// every rank compares it with its own. Throws ConfigError on every rank naming the
/// lowest rank whose digest differs ("rank 1 has a different project than rank 0 ...").
void check_same_project(DataParallel& dp, uint64_t digest, const std::string& project_path);

/// Every rank's `bytes`, in rank order (two all-gathers: the lengths, then the bytes
/// padded to the longest as uint8 tensors). A collective: every rank calls it.
/// `qnn sweep --dist` gathers its points' results with it.
std::vector<std::string> all_gather_bytes(DataParallel& dp, const std::string& bytes);

}  // namespace qnn
