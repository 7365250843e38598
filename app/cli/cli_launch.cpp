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
#include <cstdlib>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/cli/cli_dist.h"
#include "core/dist/process_group.h"

namespace qnn::cli {
namespace {

using Clock = std::chrono::steady_clock;

/// Ctrl-C (SIGINT) presses and SIGTERMs the launcher received; passed on by its loop.
volatile std::sig_atomic_t g_launch_ints = 0;
volatile std::sig_atomic_t g_launch_terms = 0;
extern "C" void on_launch_signal(int sig) {
  if (sig == SIGINT) g_launch_ints = g_launch_ints + 1;
  else g_launch_terms = g_launch_terms + 1;
}

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
  int log_fd = -1;        ///< QNN_LAUNCH_LOG_DIR/rank<R>.stderr (a test aid), else -1
  bool running = true;
  int status = 0;         ///< waitpid status once it ended
  bool signalled = false;  ///< the launcher sent it a signal (its death by one is no fault)
  std::string pending;     ///< stderr text after the last newline
  std::string last_line;   ///< last non-empty stderr line
  std::string error_line;  ///< last "qnn CMD: error: ..." line, else last "qnn CMD: ..." line
  // Rank 0's stderr is passed through line by line, except its error lines: held until
  // the run ends, then dropped when the launcher's summary line carries the error (it
  // is shown once), else passed through. A "qnn CMD: ..." line waits for the next line,
  // which may be "Try 'qnn CMD --help'." (then both are a usage error).
  std::vector<std::string> held;
  std::optional<std::string> lookbehind;
};

void pass_through(const std::string& line) {
  const std::string text = line + "\n";
  const ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
}

void flush_lookbehind(Rank& r) {
  if (r.lookbehind) pass_through(*r.lookbehind);
  r.lookbehind.reset();
}

/// Rank 0's line `raw` (as written) whose text is `line` (after the last \r).
void route_rank0_line(Rank& r, const std::string& raw, const std::string& line) {
  if (line.find(": error: ") != std::string::npos) {
    flush_lookbehind(r);
    r.held.push_back(raw);
  } else if (line.rfind("Try 'qnn ", 0) == 0) {
    if (r.lookbehind) r.held.push_back(*r.lookbehind);
    r.lookbehind.reset();
    r.held.push_back(raw);
  } else if (line.rfind("qnn ", 0) == 0) {
    flush_lookbehind(r);
    r.lookbehind = raw;
  } else {
    flush_lookbehind(r);
    pass_through(raw);
  }
}

void keep_lines(Rank& r, const char* data, size_t n) {
  r.pending.append(data, n);
  size_t nl;
  while ((nl = r.pending.find('\n')) != std::string::npos) {
    std::string line = r.pending.substr(0, nl);
    r.pending.erase(0, nl + 1);
    if (r.index == 0) route_rank0_line(r, line, line.substr(line.rfind('\r') == std::string::npos ? 0 : line.rfind('\r') + 1));
    const size_t cr = line.rfind('\r');  // a progress bar redraws with \r
    if (cr != std::string::npos) line.erase(0, cr + 1);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    r.last_line = line;
    // "qnn sweep: --bits ...\nTry 'qnn sweep --help'.": the error, not the hint.
    if (line.find(": error: ") != std::string::npos ||
        (line.rfind("qnn ", 0) == 0 && r.error_line.find(": error: ") == std::string::npos))
      r.error_line = line;
  }
}

/// Reads what is available from the rank's stderr; false at end of file.
bool drain(Rank& r) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(r.err_fd, buf, sizeof buf);
    if (n > 0) {
      if (r.log_fd >= 0) {
        const ssize_t ignored = ::write(r.log_fd, buf, size_t(n));
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

/// How a rank ended, decided by its exit status or signal alone.
enum class End {
  Ok,           ///< exit status 0
  Interrupted,  ///< 130: stopped by Ctrl-C / SIGTERM (passed on by the launcher, or sent to the rank)
  PeerLost,     ///< kExitPeerLost: it ended because another rank was lost (a consequence)
  Failed,       ///< any other exit status: an error of its own (a cause)
  Killed,       ///< a signal the launcher did not send (a crash, a kill: a cause)
  Stopped       ///< a signal after the launcher signalled it
};

End end_of(const Rank& r) {
  if (WIFSIGNALED(r.status)) return r.signalled ? End::Stopped : End::Killed;
  const int code = WEXITSTATUS(r.status);
  if (code == kExitOk) return End::Ok;
  if (code == kExitInterrupted) return End::Interrupted;
  if (code == kExitPeerLost) return End::PeerLost;
  return End::Failed;
}

/// "was killed by signal 9 (Killed)", "exited with status 2: qnn sweep: --bits ...".
std::string cause(const Rank& r) {
  if (WIFSIGNALED(r.status)) {
    const int s = WTERMSIG(r.status);
    const char* name = ::strsignal(s);
    return "was killed by signal " + std::to_string(s) + (name ? " (" + std::string(name) + ")" : std::string());
  }
  std::string text = "exited with status " + std::to_string(WEXITSTATUS(r.status));
  const std::string& line = r.error_line.empty() ? r.last_line : r.error_line;
  if (!line.empty()) text += ": " + line;
  return text;
}

std::string rank_list(const std::vector<int>& ranks) {
  std::string s;
  for (size_t i = 0; i < ranks.size(); ++i) s += (i ? ", " : "") + std::to_string(ranks[i]);
  return s;
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
--nproc-per-node N`, with MASTER_ADDR=127.0.0.1, a free MASTER_PORT (when another
program takes it before rank 0 listens on it, the ranks are started again on
another), WORLD_SIZE=N and RANK=0..N-1. --batch-size is the batch of one rank:
the global batch is N x batch size (2 ranks x 32 see the same 64 samples per step as
1 rank x 64). Without --threads each rank uses cores / N LibTorch threads (at least 1).
`qnn train --help` says what is combined across the ranks and how. --nproc 1 starts
one rank on the same distributed path (world size 1: the TCPStore and Gloo on
127.0.0.1): it trains the same numbers, bit for bit, as `qnn train PROJECT` with the
same --threads, and so checks a --dist setup without a second process.

Rank 0's output (epoch lines, progress, checkpoint) is passed through; the other
ranks are quiet. It prints "qnn launch: N ranks on 127.0.0.1:PORT: rank R pid P; ..."
to stderr. A rank that fails on its own (an exit status other than 0, 3 and 130,
or a signal the launcher did not send) is the cause: the others are stopped
(SIGTERM, then SIGKILL after 3 s) and the launcher prints one line naming it,
e.g. "qnn launch: the run failed: rank 1 was killed by signal 9 (Killed); the other
ranks were stopped", and exits with 1 (2 when that rank's error was a bad command
line or an unreadable file, exit status 2); the rank's error is in that line (and
not repeated from rank 0's output). A rank that exits with status 3 ended
because it lost another rank (which did not join, died, or did not answer within
--dist-timeout, default 60 s): a consequence, not the cause; the ranks still running
a second later are hung or stopped, and are stopped and named. The last checkpoint
and autosave written by rank 0 stay intact (files are replaced atomically).

Ctrl-C (or SIGINT sent to the launcher alone) is passed on to every rank once, as
SIGINT: each stops after its batch, rank 0 evaluates and saves, and the launcher
exits with 130. A second Ctrl-C aborts the ranks (a second SIGINT, SIGKILL 3 s
later). A SIGTERM of the launcher is passed on as one SIGTERM (also a stop, 130).

A distributed sensitivity sweep: `qnn launch --nproc N sweep PROJECT --weights FILE
--bits LO-HI --out DIR [SWEEP OPTIONS]` starts N ranks of `qnn sweep PROJECT --dist
...`: point i of the sweep is evaluated by rank i mod N, rank 0 gathers the results
after every round of N points and prints and writes what one process would (the
same points, bit for bit with 1 thread per rank). `qnn sweep --help` says more.
Faults end the sweep as they end a training run (above).

On several machines, run on each machine (torchrun's variables; GLOO_SOCKET_IFNAME
names the network interface the machines reach each other on, as in PyTorch):
  MASTER_ADDR=<rank 0's host> MASTER_PORT=29500 WORLD_SIZE=<ranks> RANK=<r> \
    GLOO_SOCKET_IFNAME=eth0 qnn train PROJECT --dist [TRAIN OPTIONS]
(or qnn sweep PROJECT --dist [SWEEP OPTIONS]). README "Several machines" says more.

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
  // A test aid: the first attempt's MASTER_PORT (e.g. a port the test holds, to see the
  // launcher start again on another).
  const char* first_port = std::getenv("QNN_LAUNCH_FIRST_PORT");
  int port = first_port && *first_port ? std::atoi(first_port) : free_port();
  // A test aid: each rank's whole stderr, and how it ended, in DIR/rank<R>.stderr.
  const char* log_dir = std::getenv("QNN_LAUNCH_LOG_DIR");

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

  const pid_t launcher = ::getpid();
  // The handler is in place before any rank starts: a Ctrl-C (or a SIGINT/SIGTERM sent to
  // the launcher) that comes while the ranks start up is kept and passed on as soon as
  // they run, not lost (a launcher started in the background of a script inherits
  // SIGINT ignored) and not fatal to the launcher alone.
  g_launch_ints = 0;
  g_launch_terms = 0;
  struct sigaction action {}, old_int{}, old_term{};
  action.sa_handler = on_launch_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, &old_int);
  ::sigaction(SIGTERM, &action, &old_term);
  // free_port() released the port before rank 0 binds it: when another program took it
  // meanwhile, rank 0 says so and the ranks are started again on another port (twice).
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {  // restored after the previous attempt's ranks ended
      ::sigaction(SIGINT, &action, nullptr);
      ::sigaction(SIGTERM, &action, nullptr);
    }
    if (g_launch_ints > 0 || g_launch_terms > 0) {
      ::sigaction(SIGINT, &old_int, nullptr);
      ::sigaction(SIGTERM, &old_term, nullptr);
      std::cerr << "qnn launch: interrupted before the ranks started; nothing was trained\n";
      return kExitInterrupted;
    }
    std::cout.flush();
    std::cerr.flush();
    std::vector<Rank> ranks(static_cast<size_t>(nproc));
    for (int r = 0; r < int(nproc); ++r) {
      int fds[2];
      if (::pipe(fds) != 0) throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
      // SIGINT/SIGTERM stay blocked from before the fork until the child has set them to
      // their default actions: one that comes in between is then neither lost in the
      // child's copy of the launcher's handler nor missed by the launcher.
      sigset_t stop_signals, old_mask;
      sigemptyset(&stop_signals);
      sigaddset(&stop_signals, SIGINT);
      sigaddset(&stop_signals, SIGTERM);
      ::sigprocmask(SIG_BLOCK, &stop_signals, &old_mask);
      const pid_t pid = ::fork();
      if (pid != 0) ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
      if (pid < 0) throw std::runtime_error(std::string("cannot start rank ") + std::to_string(r) + ": " + std::strerror(errno));
      if (pid == 0) {
        // The child: dies with the launcher; stderr to the pipe; only rank 0 keeps stdout.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != launcher) ::_exit(127);
        // Its own process group: the terminal's Ctrl-C reaches the launcher alone, which
        // passes it on once (below). Writing to the terminal from that background group
        // is allowed even with `stty tostop`.
        ::setpgid(0, 0);
        std::signal(SIGTTOU, SIG_IGN);
        std::signal(SIGINT, SIG_DFL);  // not the launcher's handler, nor an inherited SIG_IGN
        std::signal(SIGTERM, SIG_DFL);
        ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
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
      ::setpgid(pid, pid);  // also here: no Ctrl-C can reach it before the child's own call
      ::close(fds[1]);
      ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
      ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
      ranks[size_t(r)].index = r;
      ranks[size_t(r)].pid = pid;
      ranks[size_t(r)].err_fd = fds[0];
      if (log_dir && *log_dir)
        ranks[size_t(r)].log_fd = ::open((std::string(log_dir) + "/rank" + std::to_string(r) + ".stderr").c_str(),
                                         O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    {
      std::string started = "qnn launch: " + std::to_string(nproc) + (nproc == 1 ? " rank" : " ranks") + " on 127.0.0.1:" + std::to_string(port) + ":";
      for (const Rank& r : ranks) started += " rank " + std::to_string(r.index) + " pid " + std::to_string(r.pid) + ";";
      started.back() = '\n';
      std::cerr << started << std::flush;
    }

    // The ranks run in their own process groups: a Ctrl-C (of the terminal, or SIGINT
    // sent to the launcher alone) reaches only the launcher, which sends every rank one
    // SIGINT (each stops after its batch; the ranks agree on the step); a second Ctrl-C
    // sends a second SIGINT (a rank's second Ctrl-C aborts it at once) and SIGKILL 3 s
    // later. A SIGTERM of the launcher is passed on as one SIGTERM.
    const auto signal_all = [&](int sig) {
      for (Rank& r : ranks)
        if (r.running) {
          r.signalled = true;
          ::kill(r.pid, sig);
        }
    };

    const Rank* failure = nullptr;      // the first rank that ended by a fault of its own
    const Rank* consequence = nullptr;  // the first rank that ended because it lost another
    Clock::time_point consequence_at{};
    std::vector<int> still_running;  // when `consequence` ended: the ranks that had not
    bool rank_interrupted = false;   // a rank ended with 130 (e.g. SIGTERM sent to rank 0 alone)
    int ints_passed = 0, terms_passed = 0;
    Clock::time_point kill_at = Clock::time_point::max();
    bool stopping = false;
    const auto stop_all = [&] {
      if (stopping) return;
      stopping = true;
      signal_all(SIGTERM);
      kill_at = std::min(kill_at, Clock::now() + std::chrono::seconds(3));
    };
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
      const int ints = g_launch_ints, terms = g_launch_terms;
      if (ints > ints_passed) {
        if (ints_passed == 0) signal_all(SIGINT);
        if (ints >= 2 && ints_passed < 2) {
          signal_all(SIGINT);
          kill_at = std::min(kill_at, Clock::now() + std::chrono::seconds(3));
        }
        ints_passed = std::min(ints, 2);
      }
      if (terms > terms_passed) {
        if (terms_passed == 0) signal_all(SIGTERM);
        terms_passed = terms;
      }
      // Every rank that ended since the last look, in the order waitpid() reports them.
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
            if (r.log_fd >= 0) {
              const std::string end = "qnn launch: rank " + std::to_string(r.index) +
                                      (WIFSIGNALED(status) ? " was killed by signal " + std::to_string(WTERMSIG(status))
                                                           : " exited with status " + std::to_string(WEXITSTATUS(status))) +
                                      "\n";
              const ssize_t ignored = ::write(r.log_fd, end.data(), end.size());
              (void)ignored;
              ::close(r.log_fd);
              r.log_fd = -1;
            }
            if (r.index == 0 && attempt < 2 && WIFEXITED(status) && WEXITSTATUS(status) == kExitFailed &&
                r.error_line.find(kPortInUseWords) != std::string::npos)
              r.lookbehind.reset();  // rank 0 could not have its port: started again (below)
            flush_lookbehind(r);  // a last "qnn CMD: ..." line not followed by a usage hint
            const End e = end_of(r);
            if (!failure && (e == End::Failed || e == End::Killed)) failure = &r;
            if (e == End::Interrupted) rank_interrupted = true;
            if (!consequence && e == End::PeerLost) {
              consequence = &r;
              consequence_at = Clock::now();
              for (const Rank& o : ranks)
                if (o.running) still_running.push_back(o.index);
            }
          }
      }
      const bool interrupted = ints_passed > 0 || terms_passed > 0 || rank_interrupted;
      if (failure) stop_all();
      // A rank lost another: the cause may still be ending (its error, its exit); the
      // ranks left after a second are hung or stopped.
      if (consequence && !interrupted && Clock::now() - consequence_at >= std::chrono::seconds(1)) stop_all();
      if (Clock::now() >= kill_at) signal_all(SIGKILL);
    }
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);

    Rank& rank0 = ranks.front();
    if (failure == &rank0 && attempt < 2 && ints_passed == 0 && terms_passed == 0 && WIFEXITED(rank0.status) &&
        WEXITSTATUS(rank0.status) == kExitFailed && rank0.error_line.find(kPortInUseWords) != std::string::npos) {
      const int taken = port;
      port = free_port();
      std::cerr << "qnn launch: port " << taken << " of 127.0.0.1 was taken (by another program) before rank 0 could "
                << "listen on it; starting the ranks again on port " << port << std::endl;
      continue;
    }
    const auto line_of = [](const Rank& r) { return r.error_line.empty() ? r.last_line : r.error_line; };
    // Rank 0's held error lines: dropped when the summary carries the same error, else shown.
    const auto settle_rank0 = [&](const Rank* summarized) {
      const bool same = summarized && WIFEXITED(summarized->status) && !line_of(*summarized).empty() &&
                        (summarized == &rank0 || line_of(*summarized) == line_of(rank0));
      if (!same)
        for (const std::string& line : rank0.held) pass_through(line);
      rank0.held.clear();
    };
    if (failure) {
      settle_rank0(failure);
      std::string text = "qnn launch: the run failed: rank " + std::to_string(failure->index) + " " + cause(*failure);
      if (nproc > 1) text += "; the other ranks were stopped";
      std::cerr << text << std::endl;
      return WIFEXITED(failure->status) && WEXITSTATUS(failure->status) == kExitUsage ? kExitUsage : kExitFailed;
    }
    if (ints_passed > 0 || terms_passed > 0 || rank_interrupted) {
      settle_rank0(nullptr);
      std::cerr << "qnn launch: interrupted: "
                << (ints_passed > 0   ? "Ctrl-C was passed on to every rank"
                    : terms_passed > 0 ? "SIGTERM was passed on to every rank"
                                       : "a rank was stopped (SIGINT or SIGTERM), the others ended with it")
                << std::endl;
      return kExitInterrupted;
    }
    if (consequence) {
      settle_rank0(consequence);
      std::string text = "qnn launch: the run failed: ";
      if (!still_running.empty()) {
        // It gave up waiting for a rank that had neither ended nor answered (hung, stopped).
        text += std::string(still_running.size() > 1 ? "ranks " : "rank ") + rank_list(still_running) +
                " did not answer (still running, hung or stopped) and " + (still_running.size() > 1 ? "were" : "was") +
                " stopped; rank " + std::to_string(consequence->index) + " " + cause(*consequence);
      } else {
        text += "rank " + std::to_string(consequence->index) + " " + cause(*consequence);
      }
      std::cerr << text << std::endl;
      return kExitFailed;
    }
    settle_rank0(nullptr);
    for (const Rank& r : ranks)
      if (end_of(r) != End::Ok) {
        std::cerr << "qnn launch: the run failed: rank " << r.index << " " << cause(r) << std::endl;
        return kExitFailed;
      }
    return kExitOk;
  }  // attempts
}

}  // namespace qnn::cli
