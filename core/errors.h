// SPDX-License-Identifier: GPL-3.0-or-later
// Typed errors thrown by qnn_core. Every message is meant to be shown to a user
// as it is: it names the thing at fault (file, layer, setting) and the problem.
#pragma once

#include <stdexcept>
#include <string>

namespace qnn {

/// Base of all QNN Studio errors.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An impossible or inconsistent setting: a quantizer, a layer, a graph, a
/// training option. The CLI exits with 1.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A dataset file is missing, corrupt or truncated. The message names the file.
class DataError : public Error {
 public:
  using Error::Error;
};

/// A file could not be read or written (missing, no permission, disk full).
/// The CLI exits with 2.
class IoError : public Error {
 public:
  using Error::Error;
};

/// An export cannot express the model, or writing it failed.
class ExportError : public Error {
 public:
  using Error::Error;
};

}  // namespace qnn
