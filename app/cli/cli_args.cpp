// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/cli_args.h"
#include "app/cli/cli_launch.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace qnn::cli {

int64_t CommandArgs::integer(const std::string& name, int64_t min_value, int64_t fallback) const {
  const auto it = values.find(name);
  if (it == values.end()) return fallback;
  const std::string& s = it->second;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE || v < min_value)
    throw UsageError("--" + name + " expects a whole number" +
                     (min_value > 0 ? " of at least " + std::to_string(min_value)
                                    : min_value == 0 ? " (0 or more)" : "") +
                     ", got '" + s + "'");
  return v;
}

double CommandArgs::positive_real(const std::string& name, double fallback) const {
  const auto it = values.find(name);
  if (it == values.end()) return fallback;
  const std::string& s = it->second;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v) || v <= 0.0)
    throw UsageError("--" + name + " expects a positive number, got '" + s + "'");
  return v;
}

std::string CommandArgs::text(const std::string& name, const std::string& fallback) const {
  const auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

const std::vector<std::string>& command_options(const std::string& command) {
  static const std::vector<std::string> train{"epochs",     "threads",     "seed",        "batch-size", "lr",
                                              "checkpoint", "train-limit", "test-limit",  "max-batches", "weights",
                                              "resume",     "autosave",    "autosave-minutes", "no-autosave",
                                              "dist",       "dist-timeout", "dist-check", "progress-json"};
  static const std::vector<std::string> eval{"checkpoint", "weights", "test-limit", "threads"};
  static const std::vector<std::string> export_{"checkpoint", "format", "out", "verify", "verify-samples",
                                                "c-header", "threads", "fold-bn", "target"};
  static const std::vector<std::string> inspect{"checkpoint", "out", "samples", "test-limit", "threads"};
  static const std::vector<std::string> validate{"checkpoint", "target"};
  static const std::vector<std::string> import{"out", "checkpoint"};
  static const std::vector<std::string> calibrate{"weights", "batches", "batch-size", "bias-correction",
                                                  "per-channel", "out", "save-project", "test-limit", "threads"};
  static const std::vector<std::string> analyze{"weights", "holdout", "out", "threads"};
  static const std::vector<std::string> sweep{"weights", "bits", "what",  "holdout",     "calibration-batches",
                                              "out",     "save", "threads", "dist", "dist-timeout"};
  static const std::vector<std::string> suggest{"sweep", "max-bytes", "max-bitops", "max-drop", "axis",
                                                "out", "verify", "weights", "threads"};
  static const std::vector<std::string> summary{"pe", "simd", "clock-mhz", "target"};
  static const std::vector<std::string> none;
  if (command == "validate") return validate;
  if (command == "summary") return summary;
  if (command == "export") return export_;
  if (command == "train") return train;
  if (command == "eval") return eval;
  if (command == "inspect") return inspect;
  if (command == "import") return import;
  if (command == "calibrate") return calibrate;
  if (command == "analyze") return analyze;
  if (command == "sweep") return sweep;
  if (command == "suggest") return suggest;
  if (command == "launch") return launch_options();
  if (command == "launch sweep") return launch_options("sweep");
  return none;
}

bool is_flag_option(const std::string& command, const std::string& name) {
  if (command == "calibrate") return name == "bias-correction" || name == "per-channel";
  if (command == "sweep") return name == "save" || name == "dist";
  if (command == "launch sweep") return is_flag_option("sweep", name);
  if (command == "suggest") return name == "verify";
  if (command == "launch") return is_flag_option("train", name);
  if (command == "train")
    return name == "no-autosave" || name == "dist" || name == "dist-check" || name == "progress-json";
  return command == "export" && (name == "verify" || name == "fold-bn");
}

CommandArgs parse_command(const std::string& command, const std::vector<std::string>& args) {
  CommandArgs out;
  out.command = command;
  const auto& known = command_options(command);
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      out.help = true;
      continue;
    }
    if (a == "--") {  // everything after is positional
      positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a.size() > 1 && a[0] == '-') {
      std::string name = a.rfind("--", 0) == 0 ? a.substr(2) : a.substr(1);
      std::optional<std::string> value;
      if (const auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      if (std::find(known.begin(), known.end(), name) == known.end())
        throw UsageError("unknown option '" + a + "' for 'qnn " + command + "'");
      if (!value && is_flag_option(command, name)) value = "1";  // e.g. `qnn export --verify`
      if (!value) {
        if (i + 1 >= args.size()) throw UsageError("option --" + name + " needs a value");
        value = args[++i];
      }
      if (value->empty()) {  // `--checkpoint ''`: refused before any work, never read as "not given"
        static const std::vector<std::string> paths{"checkpoint", "out",   "c-header", "weights",
                                                    "save-project", "sweep", "resume",   "autosave"};
        const bool path = std::find(paths.begin(), paths.end(), name) != paths.end();
        throw UsageError("option --" + name + " needs " + (path ? "a file name" : "a value") +
                         ", got an empty string");
      }
      out.values[name] = *value;
      continue;
    }
    positional.push_back(a);
  }
  if (out.help) return out;
  if (positional.empty())
    throw UsageError("'qnn " + command + "' needs a " + std::string(command == "import" ? "MODEL.onnx" : "PROJECT") + " file");
  if (positional.size() > 1) throw UsageError("unexpected argument '" + positional[1] + "'");
  if (positional[0].empty())
    throw UsageError("'qnn " + command + "' needs a " + std::string(command == "import" ? "MODEL.onnx" : "PROJECT") +
                     " file name, got an empty string");
  out.project = positional[0];
  if (command == "summary") {
    // The FINN folding options describe FINN's estimate only. With an explicit other
    // --target they would be silently ignored: refused. (Without --target the project's
    // own target decides; the summary then says when they are not used.)
    const auto target = out.values.find("target");
    if (target != out.values.end() && target->second != "finn")
      for (const char* f : {"pe", "simd", "clock-mhz"})
        if (out.values.count(f))
          throw UsageError(std::string("--") + f + " sets the FINN folding, which only the FINN target uses; got --target " +
                           target->second + " (use --target finn, or leave out --" + f + ")");
    // The clock: the Model Summary's range (1 to 2000 MHz), so the throughput stays finite.
    if (out.values.count("clock-mhz")) {
      const double mhz = out.positive_real("clock-mhz", 100.0);
      if (mhz < 1.0 || mhz > 2000.0)
        throw UsageError("--clock-mhz expects a clock from 1 to 2000 MHz, got '" + out.values.at("clock-mhz") + "'");
    }
  }
  return out;
}

}  // namespace qnn::cli
