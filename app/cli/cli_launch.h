// SPDX-License-Identifier: GPL-3.0-or-later
// `qnn launch --nproc N [train] PROJECT [train options]`: N local ranks of `qnn train
// --dist`, and `qnn launch --nproc N sweep PROJECT [sweep options]`: N local ranks of
// `qnn sweep --dist` (app/cli/cli_launch.cpp), like `torchrun --standalone
// --nproc-per-node N`.
#pragma once

#include <string>
#include <vector>

#include "app/cli/cli_args.h"

namespace qnn::cli {

/// The options of `qnn launch [COMMAND]`: those of `qnn COMMAND` ("train", the default,
/// or "sweep") without --dist, which it adds, plus --nproc.
const std::vector<std::string>& launch_options(const std::string& command = "train");
/// `qnn launch --nproc N [train|sweep] PROJECT ...`: removes the command word from
/// `args` (the arguments after "launch") and returns it; "train" when there is none.
/// The command word is the first argument that is neither an option nor an option's
/// value.
std::string take_launch_command(std::vector<std::string>& args);
/// `qnn launch --help`.
std::string launch_usage();

/// Starts `nproc` processes of this executable as `qnn train PROJECT --dist [options]`
/// (`qnn sweep PROJECT --dist [options]` when args.command is "launch sweep")
/// with MASTER_ADDR=127.0.0.1, a free MASTER_PORT, WORLD_SIZE=nproc and RANK=0..nproc-1
/// (and --threads cores / nproc unless --threads is given), each in its own process
/// group. Rank 0's stdout and stderr are passed through; the other ranks' stdout is
/// dropped and their stderr kept (its error line names a failure).
///
/// Whom to blame is decided by each rank's exit status or signal alone: the first rank
/// that ends with a status other than 0, 130 and kExitPeerLost (3), or by a signal the
/// launcher did not send, is the cause; the others are then stopped (SIGTERM, SIGKILL
/// 3 s later) and one line is printed: "qnn launch: the run failed: rank 1 was killed
/// by signal 9 (Killed); the other ranks were stopped" or "... rank 1 exited with status
/// 2: <its error line>; ..."; rank 0's own error lines are held back from its passed-
/// through stderr and dropped when this line carries the same error, so it shows once.
/// A rank that exits with kExitPeerLost lost another: when no cause shows within a
/// second, the ranks still running are stopped and named as hung ("rank 1 did not
/// answer (still running, hung or stopped) and was stopped; rank 0 exited with status
/// 3: ...").
///
/// The port is released before rank 0 listens on it: when another program took it
/// meanwhile (rank 0's error carries kPortInUseWords, core/dist/process_group.h), the
/// launcher says so ("qnn launch: port P of 127.0.0.1 was taken (by another program)
/// before rank 0 could listen on it; starting the ranks again on port Q") and starts
/// every rank again on another free port, at most twice.
///
/// Test aids (environment): QNN_LAUNCH_FIRST_PORT=P makes the first attempt use port
/// P; QNN_LAUNCH_LOG_DIR=DIR appends each rank's whole stderr and a last line "qnn
/// launch: rank R exited with status S" (or "was killed by signal S") to
/// DIR/rank<R>.stderr.
///
/// Ctrl-C (SIGINT to the launcher, from a terminal or sent to it alone): every rank
/// gets one SIGINT; a second Ctrl-C a second SIGINT and SIGKILL 3 s later. SIGTERM to
/// the launcher: every rank gets one SIGTERM.
///
/// Returns kExitOk when every rank succeeded; kExitInterrupted (130) after a Ctrl-C or
/// SIGTERM passed on, or when a rank ended with 130 itself (e.g. SIGTERM sent to rank 0
/// alone) and no rank failed; kExitUsage when the causing rank exited with 2;
/// kExitFailed otherwise. Throws UsageError for a missing --nproc or one outside 1..64,
/// and std::runtime_error when no free port, pipe or process can be had (the message
/// names which).
int run_launch(const CommandArgs& args);

}  // namespace qnn::cli
