// SPDX-License-Identifier: GPL-3.0-or-later
// Internal helpers shared by the core/inspect/*.cpp files (not part of the API).
#pragma once

#include <charconv>
#include <cmath>
#include <sstream>
#include <string>
#include <system_error>

#include <torch/torch.h>

namespace qnn::inspect::detail {

/// A tensor's shape as libtorch prints it, e.g. "[256, 1, 32, 32]", for error messages.
inline std::string shape_text(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

/// `v` as the shortest text that reads back to the same double (std::to_chars is
/// independent of the C locale: always '.', never "0,125" as "%g" gives under de_DE);
/// "inf", "-inf" and "nan" for the special values.
inline std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];  // the longest shortest form of a double has 24 characters
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::string("?");
}

}  // namespace qnn::inspect::detail
