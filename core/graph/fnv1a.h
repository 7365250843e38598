// SPDX-License-Identifier: GPL-3.0-or-later
// The digest of the project's fingerprints (network_fingerprint, sweep_fingerprint):
// 64-bit FNV-1a of a text, as 16 lower-case hex digits. Internal to core.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace qnn::detail {

inline std::string fnv1a64_hex(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

}  // namespace qnn::detail
