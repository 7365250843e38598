// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/cli_dist.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "core/dist/process_group.h"
#include "core/errors.h"

namespace qnn::cli {
namespace {

/// FNV-1a 64 of the project file's bytes.
uint64_t file_digest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path + " to compare it with rank 0's");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

DistSession::~DistSession() { set_active_data_parallel(nullptr); }
int DistSession::rank() const { return m_dp->rank(); }
int DistSession::world_size() const { return m_dp->world_size(); }

std::string DistSession::header(int64_t per_rank_batch) const {
  std::ostringstream o;
  o << "dist: " << world_size() << (world_size() == 1 ? " rank" : " ranks") << " (Gloo over TCP, " << m_where << "); batch " << per_rank_batch
    << " per rank, global batch " << per_rank_batch * world_size() << "; timeout " << m_timeout << " s"
    << (m_check ? "; checking every step" : "");
  return o.str();
}

std::string DistSession::check_line() const {
  if (!m_check) return "";
  return "dist-check: " + std::to_string(dp_checked_steps()) + " steps identical on " +
         std::to_string(world_size()) + " ranks";
}

std::unique_ptr<DistSession> start_dist(const CommandArgs& args, const std::string& project_path, bool for_training) {
  if (!args.has("dist")) {
    if (args.has("dist-timeout") || args.has("dist-check"))
      throw UsageError(std::string("--") + (args.has("dist-timeout") ? "dist-timeout" : "dist-check") +
                       " needs --dist");
    return nullptr;
  }
  auto s = std::unique_ptr<DistSession>(new DistSession);
  if (args.has("dist-timeout")) {
    const std::string text = args.text("dist-timeout");
    char* end = nullptr;
    errno = 0;
    const double t = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(t) || t < kMinDistTimeout ||
        t > kMaxDistTimeout)
      throw UsageError("--dist-timeout expects seconds from 0.1 to 1000000, got '" + text + "'");
    s->m_timeout = t;
  }
  s->m_check = args.has("dist-check");
  DistEnv env;
  try {
    env = read_dist_env();
  } catch (const ConfigError& e) {
    // A torchrun variable missing or out of range: the rank was started without the
    // environment a --dist run needs, a bad command line (exit status 2), not a failed run.
    throw UsageError(e.what());
  }
  s->m_where = env.master_addr + ":" + std::to_string(env.master_port);
  s->m_dp = join_process_group(env, s->m_timeout, s->m_check);
  if (for_training) set_active_data_parallel(s->m_dp.get());
  check_same_project(*s->m_dp, file_digest(project_path), project_path);
  return s;
}

}  // namespace qnn::cli
