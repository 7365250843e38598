// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/dist/dist_agreement.h"

#include <atomic>
#include <chrono>

#include "core/dist/process_group.h"
#include "core/errors.h"

namespace qnn {
namespace {

std::atomic<int64_t> g_calls{0};
std::atomic<int64_t> g_nanoseconds{0};

/// "name\0value\0" per field.
std::string encode(const std::vector<AgreedField>& fields) {
  std::string out;
  for (const AgreedField& f : fields) {
    out += f.name;
    out += '\0';
    out += f.value;
    out += '\0';
  }
  return out;
}

std::vector<AgreedField> decode(const std::string& bytes) {
  std::vector<AgreedField> out;
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t a = bytes.find('\0', at);
    if (a == std::string::npos) break;
    const size_t b = bytes.find('\0', a + 1);
    if (b == std::string::npos) break;
    out.push_back({bytes.substr(at, a - at), bytes.substr(a + 1, b - a - 1)});
    at = b + 1;
  }
  return out;
}

}  // namespace

bool dp_any(bool local) {
  DataParallel* dp = active_data_parallel();
  if (!dp) return local;
  const auto t0 = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  auto flag = torch::full({1}, local ? 1.0f : 0.0f, torch::kFloat32);
  dp->max(flag);
  const bool any = flag.item<float>() > 0.0f;
  g_nanoseconds += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  ++g_calls;
  return any;
}

uint64_t dp_dropout_seed(uint64_t seed, int64_t step, int rank) {
  const auto splitmix64 = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  };
  return splitmix64(splitmix64(seed) ^ splitmix64((uint64_t(step) << 16) ^ uint64_t(rank)));
}

AgreementStats dp_agreement_stats() {
  AgreementStats s;
  s.calls = g_calls.load();
  s.seconds = double(g_nanoseconds.load()) * 1e-9;
  return s;
}

void check_same_fields(DataParallel& dp, const std::vector<AgreedField>& fields, const std::string& advice,
                       const std::string& local_note) {
  const std::vector<std::string> all = all_gather_bytes(dp, encode(fields));
  std::vector<std::vector<AgreedField>> ranks;
  for (const std::string& bytes : all) ranks.push_back(decode(bytes));
  const std::vector<AgreedField>& first = ranks.front();
  const std::string note = local_note.empty() ? std::string() : " (" + local_note + ")";
  // Field by field, so every rank names the same first difference.
  for (size_t i = 0; i < first.size(); ++i)
    for (size_t r = 1; r < ranks.size(); ++r) {
      const std::vector<AgreedField>& other = ranks[r];
      if (i >= other.size() || other[i].name != first[i].name)
        throw ConfigError("rank " + std::to_string(r) + " compares other start-up settings than rank 0 (" +
                          first[i].name + " is not its field " + std::to_string(i + 1) +
                          "): run the same qnn version on every rank" + note);
      if (other[i].value != first[i].value)
        throw ConfigError("rank " + std::to_string(r) + "'s " + first[i].name + " is " + other[i].value +
                          ", rank 0's is " + first[i].value + ": " + advice + note);
    }
  for (size_t r = 1; r < ranks.size(); ++r)
    if (ranks[r].size() != first.size())
      throw ConfigError("rank " + std::to_string(r) + " compares other start-up settings than rank 0 (" +
                        std::to_string(ranks[r].size()) + " fields, rank 0 " + std::to_string(first.size()) +
                        "): run the same qnn version on every rank" + note);
}

}  // namespace qnn
