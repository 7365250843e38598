// SPDX-License-Identifier: GPL-3.0-or-later
// The c10d process group behind `qnn train --dist` and `qnn sweep --dist`: a TCPStore
// rendezvous (rank 0 is the server) and ProcessGroupGloo over TCP, configured from
// torchrun's environment (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK) and, as in
// PyTorch, GLOO_SOCKET_IFNAME.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/dist/data_parallel.h"
#include "core/errors.h"

namespace qnn {

/// A rendezvous or collective failed because of another rank: it did not join, ended,
/// crashed, was killed, or did not answer within the timeout. The rank that reports it
/// is not the cause (`qnn` then exits with status 3, app/cli/cli_dist.h, so that `qnn
/// launch` blames the rank that is).
class PeerLostError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

/// --dist-timeout's range in seconds (the millisecond count must fit every timer).
inline constexpr double kMinDistTimeout = 0.1;
inline constexpr double kMaxDistTimeout = 1e6;

/// The words of rank 0's error when MASTER_PORT is in use ("rank 0 of 2: cannot listen
/// at MASTER_ADDR:MASTER_PORT 127.0.0.1:29500: the port is in use (another run or
/// program); choose another MASTER_PORT"): `qnn launch` recognises them in rank 0's
/// error line and starts the ranks again on another port.
inline constexpr const char* kPortInUseWords = ": the port is in use (another run or program)";

/// torchrun's variables, checked.
struct DistEnv {
  std::string master_addr;
  int master_port = 0;
  int world_size = 1;
  int rank = 0;
};

/// Reads MASTER_ADDR, MASTER_PORT (1..65535), WORLD_SIZE (1..4096), RANK (0..WORLD_SIZE-1).
/// Throws ConfigError naming the variable when one is missing or invalid.
DistEnv read_dist_env();

/// Joins the process group. `timeout_seconds` (kMinDistTimeout..kMaxDistTimeout)
/// bounds the rendezvous (every rank must join within it) and each collective
/// afterwards (a dead or stuck peer ends it with an error).
///
/// Gloo's network device: one per interface named in GLOO_SOCKET_IFNAME (comma list)
/// when it is set; else 127.0.0.1 (::1) for a loopback MASTER_ADDR (localhost, 127.x,
/// ::1); else the address this machine's hostname resolves to (PyTorch's default).
/// Lowers glog's level to FATAL for the rest of the process (c10d's and Gloo's own log
/// lines), unless GLOG_minloglevel is set in the environment.
///
/// Every rank sets the store key joined/<rank> and waits for all of them, so a timeout
/// names the ranks that are missing. Throws:
///  - ConfigError: `timeout_seconds` out of range; GLOO_SOCKET_IFNAME names an
///    interface this machine does not have, or one without an address; no usable
///    address of this machine; MASTER_ADDR does not resolve (any rank, at once); on
///    rank 0, at once: MASTER_ADDR is not an address of this machine ("rank 0 of 2:
///    MASTER_ADDR is '192.0.2.1', which is not an address of this machine; ..."); rank 0
///    cannot listen at MASTER_ADDR:MASTER_PORT (the port is in use: "... choose another
///    MASTER_PORT"; a privileged port), or cannot connect to its own store there
///    (refused, or not within the timeout). Each in our words, naming MASTER_ADDR /
///    MASTER_PORT, without the library's text.
///  - PeerLostError (a ConfigError): a rank other than 0 cannot reach rank 0 within the
///    timeout; "rank 1 of 2 did not join within --dist-timeout (30 s) at
///    127.0.0.1:29500 ..." (on every rank that waited); the connection to rank 0's
///    store was lost while joining; the Gloo connections between the ranks failed.
std::unique_ptr<DataParallel> join_process_group(const DistEnv& env, double timeout_seconds, bool check_every_step);

/// True once join_process_group() or a collective of its group threw PeerLostError in
/// this process.
bool dist_peer_lost();

/// The collectives of the returned DataParallel throw PeerLostError when another rank
/// did not answer within the timeout or the connection to it was lost, and ConfigError
/// ("rank 0 of 2: the all-reduce with the other ranks failed (...)") otherwise.

/// Start-up check: rank 0 broadcasts `digest` (e.g. a hash of the project file's bytes);
/// every rank compares it with its own. Throws ConfigError on every rank naming the
/// lowest rank whose digest differs ("rank 1 has a different project than rank 0 ..."),
/// and the collectives' errors (above).
void check_same_project(DataParallel& dp, uint64_t digest, const std::string& project_path);

/// Every rank's `bytes`, in rank order (two all-gathers: the lengths, then the bytes
/// padded to the longest as uint8 tensors). A collective: every rank calls it.
/// `qnn sweep --dist` gathers its points' results with it. Throws the collectives'
/// errors (above), and ConfigError when a rank sent a malformed length.
std::vector<std::string> all_gather_bytes(DataParallel& dp, const std::string& bytes);

}  // namespace qnn
