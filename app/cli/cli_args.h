// SPDX-License-Identifier: GPL-3.0-or-later
// Command-line parsing of `qnn`: one command, one positional PROJECT, options of the
// form `--name VALUE` or `--name=VALUE`, and the help texts.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace qnn::cli {

/// Exit statuses of `qnn` (also listed in `qnn --help`).
enum ExitCode : int {
  kExitOk = 0,           ///< success
  kExitFailed = 1,       ///< invalid project or setting (ConfigError), bad data (DataError), failed run
  kExitUsage = 2,        ///< unreadable file (IoError) or bad command line
  kExitInterrupted = 130 ///< training stopped with Ctrl-C (results of the completed part printed)
};

/// Bad command line; the message says what is wrong. Exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One command's arguments after parsing.
struct CommandArgs {
  std::string command;                        ///< "train", "eval" or "validate"
  std::string project;                        ///< the PROJECT path
  std::map<std::string, std::string> values;  ///< option name without "--" -> value
  bool help = false;                          ///< -h / --help was given

  bool has(const std::string& name) const { return values.count(name) != 0; }
  /// Whole number >= min_value, or `fallback` when absent. Throws UsageError.
  int64_t integer(const std::string& name, int64_t min_value, int64_t fallback) const;
  /// Real number > 0, or `fallback` when absent. Throws UsageError.
  double positive_real(const std::string& name, double fallback) const;
  /// String value, or `fallback` when absent.
  std::string text(const std::string& name, const std::string& fallback = "") const;
};

/// Options (names without "--") that `command` accepts; each takes a value unless
/// is_flag_option() says otherwise.
const std::vector<std::string>& command_options(const std::string& command);

/// True for options that take no value (`qnn export --verify`).
bool is_flag_option(const std::string& command, const std::string& name);

/// Parses the arguments after the command name. Throws UsageError for an unknown
/// option, a missing value or a missing/extra PROJECT (unless --help is present).
CommandArgs parse_command(const std::string& command, const std::vector<std::string>& args);

/// `qnn --help` text.
std::string main_usage();
/// `qnn COMMAND --help` text; empty for an unknown command.
std::string command_usage(const std::string& command);

}  // namespace qnn::cli
