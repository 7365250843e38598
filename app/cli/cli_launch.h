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
/// (and --threads cores / nproc unless --threads is given). Rank 0's stdout and stderr
/// are passed through; the other ranks' stdout is dropped and their stderr kept (its
/// last line names a failure). When a rank fails (exit status other than 0, or killed
/// by a signal) the others get SIGTERM, then SIGKILL 3 s later, and the launcher prints
/// "qnn launch: rank 1 (pid 4242) was killed by signal 9 (Killed); the other ranks were
/// stopped" or "... exited with status 1: <its last error line>" and returns kExitFailed.
/// Returns kExitOk when every rank succeeded, kExitInterrupted when rank 0 was stopped
/// with Ctrl-C. Throws UsageError for a bad --nproc.
int run_launch(const CommandArgs& args);

}  // namespace qnn::cli
