// SPDX-License-Identifier: GPL-3.0-or-later
// `qnn launch`: a local launcher of data-parallel ranks (POSIX fork/exec; no Qt).
#include "app/cli/cli_launch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace qnn::cli {
namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_launch_signal = 0;
void on_launch_signal(int sig) { g_launch_signal = sig; }

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("cannot open a socket to find a free port: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const std::string e = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("cannot find a free TCP port on 127.0.0.1: " + e);
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string self_executable() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot find the qnn executable (/proc/self/exe)");
  return std::string(buf, size_t(n));
}

struct Rank {
  int index = 0;
  pid_t pid = -1;
  int err_fd = -1;        ///< read end of its stderr
  bool running = true;
  int status = 0;         ///< waitpid status once it ended
  std::string pending;    ///< stderr text after the last newline
  std::string last_line;  ///< last non-empty stderr line
};

void keep_lines(Rank& r, const char* data, size_t n) {
  r.pending.append(data, n);
  size_t nl;
  while ((nl = r.pending.find('\n')) != std::string::npos) {
    std::string line = r.pending.substr(0, nl);
    r.pending.erase(0, nl + 1);
    const size_t cr = line.rfind('\r');  // a progress bar redraws with \r
    if (cr != std::string::npos) line.erase(0, cr + 1);
    if (line.find_first_not_of(" \t") != std::string::npos) r.last_line = line;
  }
}

/// Reads what is available from the rank's stderr; false at end of file.
bool drain(Rank& r) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(r.err_fd, buf, sizeof buf);
    if (n > 0) {
      if (r.index == 0) {
        const ssize_t ignored = ::write(STDERR_FILENO, buf, size_t(n));
        (void)ignored;
      }
      keep_lines(r, buf, size_t(n));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return true;  // EAGAIN: nothing more for now
  }
}

/// Exit status 130 after a Ctrl-C the launcher also got is a stop, not a failure.
bool failed(const Rank& r) {
  if (!WIFEXITED(r.status)) return true;
  const int code = WEXITSTATUS(r.status);
  return code != 0 && !(code == kExitInterrupted && g_launch_signal != 0);
}

std::string cause(const Rank& r) {
  if (WIFSIGNALED(r.status)) {
    const int s = WTERMSIG(r.status);
    const char* name = ::strsignal(s);
    return "was killed by signal " + std::to_string(s) + (name ? " (" + std::string(name) + ")" : std::string());
  }
  std::string text = "exited with status " + std::to_string(WEXITSTATUS(r.status));
  if (!r.last_line.empty()) text += ": " + r.last_line;
  return text;
}

/// A failure caused by another rank's (a lost connection, a timeout) says less than the
/// one that started it.
bool consequential(const Rank& r) {
  return WIFEXITED(r.status) && (r.last_line.find("lost the connection") != std::string::npos ||
                                 r.last_line.find("timed out") != std::string::npos ||
                                 r.last_line.find("Timed out") != std::string::npos ||
                                 r.last_line.find("did not answer") != std::string::npos ||
                                 r.last_line.find("Connection closed by peer") != std::string::npos);
}

}  // namespace

const std::vector<std::string>& launch_options(const std::string& command) {
  const auto make = [](const std::string& c) {
    std::vector<std::string> o;
    for (const std::string& name : command_options(c))
      if (name != "dist") o.push_back(name);
    o.push_back("nproc");
    return o;
  };
  static const std::vector<std::string> train = make("train"), sweep = make("sweep");
  return command == "sweep" ? sweep : train;
}

std::string take_launch_command(std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a.size() > 1 && a[0] == '-') {
      const std::string name = a.rfind("--", 0) == 0 ? a.substr(2) : a.substr(1);
      // An option without "=VALUE" that is not a flag of train or sweep takes the next word.
      if (name.find('=') == std::string::npos && name != "h" && name != "help" && !is_flag_option("train", name) &&
          !is_flag_option("sweep", name))
        ++i;
      continue;
    }
    if (a == "train" || a == "sweep") {
      const std::string command = a;
      args.erase(args.begin() + long(i));
      return command;
    }
    break;  // the PROJECT: train, the default
  }
  return "train";
}

std::string launch_usage() {
  return R"USAGE(Usage: qnn launch --nproc N [train] PROJECT [TRAIN OPTIONS]
       qnn launch --nproc N sweep PROJECT [SWEEP OPTIONS]

Data-parallel training on this machine: starts N processes (ranks) of
`qnn train PROJECT --dist [TRAIN OPTIONS]`, like `torchrun --standalone
--nproc-per-node N`, with MASTER_ADDR=127.0.0.1, a free MASTER_PORT,
WORLD_SIZE=N and RANK=0..N-1. --batch-size is the batch of one rank: the global
batch is N x batch size (2 ranks x 32 see the same 64 samples per step as 1 rank x
64). Without --threads each rank uses cores / N LibTorch threads (at least 1).
`qnn train --help` says what is combined across the ranks and how.

Rank 0's output (epoch lines, progress, checkpoint) is passed through; the other
ranks are quiet. It prints "qnn launch: rank R pid P" for every rank to stderr.
When a rank fails (an error, a crash, a kill) the others are stopped (SIGTERM,
then SIGKILL after 3 s) and the launcher exits with 1 and a message naming the
rank and the cause, e.g. "qnn launch: rank 1 (pid 4242) was killed by signal 9
(Killed); the other ranks were stopped". A rank that hangs is ended by the others'
--dist-timeout (default 60 s). The last checkpoint and autosave written by rank 0
stay intact (files are replaced atomically).

A distributed sensitivity sweep: `qnn launch --nproc N sweep PROJECT --weights FILE
--bits LO-HI --out DIR [SWEEP OPTIONS]` starts N ranks of `qnn sweep PROJECT --dist
...`: point i of the sweep is evaluated by rank i mod N, rank 0 gathers the results
after every round of N points and prints and writes what one process would (the
same points, bit for bit with 1 thread per rank). `qnn sweep --help` says more.
Faults end the sweep as they end a training run (above).

On several machines, run on each machine (torchrun's variables):
  MASTER_ADDR=<rank 0's host> MASTER_PORT=29500 WORLD_SIZE=<ranks> RANK=<r> \
    qnn train PROJECT --dist [TRAIN OPTIONS]
(or qnn sweep PROJECT --dist [SWEEP OPTIONS]).

Options:
  --nproc N          number of local ranks (1..64)
  (any option of `qnn train`, or of `qnn sweep` after "sweep", except --dist)
  -h, --help         show this help
)USAGE";
}

int run_launch(const CommandArgs& args) {
  if (!args.has("nproc")) throw UsageError("--nproc N is required (the number of ranks to start)");
  const int64_t nproc = args.integer("nproc", 1, 1);
  if (nproc > 64) throw UsageError("--nproc is " + std::to_string(nproc) + "; at most 64 local ranks");
  const std::string exe = self_executable();
  const int port = free_port();

  const std::string command = args.command == "launch sweep" ? "sweep" : "train";
  std::vector<std::string> child_args{exe, command, args.project, "--dist"};
  for (const auto& [name, value] : args.values) {
    if (name == "nproc") continue;
    child_args.push_back("--" + name);
    if (!is_flag_option(command, name)) child_args.push_back(value);
  }
  if (!args.has("threads")) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    child_args.push_back("--threads");
    child_args.push_back(std::to_string(std::max<int64_t>(1, int64_t(cores) / nproc)));
  }
  std::vector<char*> argv;
  for (std::string& a : child_args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::cout.flush();
  std::cerr.flush();
  const pid_t launcher = ::getpid();
  std::vector<Rank> ranks(static_cast<size_t>(nproc));
  for (int r = 0; r < int(nproc); ++r) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("cannot start rank ") + std::to_string(r) + ": " + std::strerror(errno));
    if (pid == 0) {
      // The child: dies with the launcher; stderr to the pipe; only rank 0 keeps stdout.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != launcher) ::_exit(127);
      ::dup2(fds[1], STDERR_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      if (r != 0) {
        const int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) ::dup2(null, STDOUT_FILENO);
      }
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("RANK", std::to_string(r).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::execv(exe.c_str(), argv.data());
      const std::string m = "qnn launch: cannot run " + exe + ": " + std::strerror(errno) + "\n";
      const ssize_t ignored = ::write(STDERR_FILENO, m.data(), m.size());
      (void)ignored;
      ::_exit(127);
    }
    ::close(fds[1]);
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    ranks[size_t(r)].index = r;
    ranks[size_t(r)].pid = pid;
    ranks[size_t(r)].err_fd = fds[0];
  }
  {
    std::string started = "qnn launch: " + std::to_string(nproc) + " ranks on 127.0.0.1:" + std::to_string(port) + ":";
    for (const Rank& r : ranks) started += " rank " + std::to_string(r.index) + " pid " + std::to_string(r.pid) + ";";
    started.back() = '\n';
    std::cerr << started << std::flush;
  }

  // Ctrl-C reaches the ranks through the terminal's process group; a SIGTERM sent to
  // the launcher alone is passed on to them.
  g_launch_signal = 0;
  auto old_int = std::signal(SIGINT, on_launch_signal);
  auto old_term = std::signal(SIGTERM, on_launch_signal);
  const auto signal_all = [&](int sig) {
    for (const Rank& r : ranks)
      if (r.running) ::kill(r.pid, sig);
  };

  const Rank* failure = nullptr;
  std::vector<int> still_running;  // when the failure was seen: the ranks that had not ended
  bool forwarded = false;
  Clock::time_point kill_at{};
  bool stopping = false;
  size_t running = ranks.size();
  while (running > 0) {
    std::vector<pollfd> polls;
    for (const Rank& r : ranks)
      if (r.err_fd >= 0) polls.push_back({r.err_fd, POLLIN, 0});
    if (!polls.empty()) ::poll(polls.data(), polls.size(), 20);
    else std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (Rank& r : ranks)
      if (r.err_fd >= 0 && !drain(r)) {
        ::close(r.err_fd);
        r.err_fd = -1;
      }
    if (g_launch_signal == SIGTERM && !forwarded) {
      signal_all(SIGTERM);
      forwarded = true;
    }
    // Every rank that ended since the last look; the first failure found is the cause.
    std::vector<Rank*> ended;
    for (;;) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      for (Rank& r : ranks)
        if (r.pid == pid && r.running) {
          r.running = false;
          r.status = status;
          --running;
          if (r.err_fd >= 0) {  // its last words
            drain(r);
            ::close(r.err_fd);
            r.err_fd = -1;
          }
          if (!r.pending.empty()) keep_lines(r, "\n", 1);
          ended.push_back(&r);
        }
    }
    if (!failure) {
      // Killed by a signal first, then an error of its own, then a consequence.
      const Rank* best = nullptr;
      const auto rank_of = [](const Rank* r) { return WIFSIGNALED(r->status) ? 0 : consequential(*r) ? 2 : 1; };
      for (const Rank* r : ended)
        if (failed(*r) && (!best || rank_of(r) < rank_of(best))) best = r;
      if (best) {
        failure = best;
        for (const Rank& r : ranks)
          if (r.running) still_running.push_back(r.index);
        std::cerr << "qnn launch: rank " << best->index << " (pid " << best->pid << ") " << cause(*best)
                  << "; stopping the other ranks" << std::endl;
        stopping = true;
        signal_all(SIGTERM);
        kill_at = Clock::now() + std::chrono::seconds(3);
      }
    }
    if (stopping && Clock::now() >= kill_at) signal_all(SIGKILL);
  }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);

  if (failure) {
    std::string text = "qnn launch: the run failed: rank " + std::to_string(failure->index) + " " + cause(*failure);
    if (consequential(*failure) && !still_running.empty()) {
      // It gave up waiting for a rank that had neither ended nor answered (hung, stopped).
      std::string list;
      for (size_t i = 0; i < still_running.size(); ++i)
        list += (i ? ", " : "") + std::to_string(still_running[i]);
      text += "; rank" + std::string(still_running.size() > 1 ? "s " : " ") + list +
              " did not answer (still running, hung or stopped) and " +
              (still_running.size() > 1 ? "were" : "was") + " stopped";
    } else if (nproc > 1) {
      text += "; the other ranks were stopped";
    }
    std::cerr << text << std::endl;
    return kExitFailed;
  }
  const Rank& first = ranks.front();
  return WIFEXITED(first.status) && WEXITSTATUS(first.status) == kExitInterrupted ? kExitInterrupted : kExitOk;
}

}  // namespace qnn::cli
