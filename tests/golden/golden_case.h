// SPDX-License-Identifier: GPL-3.0-or-later
// Loader and checker for Brevitas golden conformance cases (format: tests/data/golden/README.md).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace qnn::golden {

/// One case file: tensors (float32, or int64 when every element is a JSON integer),
/// scalars, config and tolerance.
struct Case {
  std::string path, name, kind, description;
  nlohmann::json config;
  std::map<std::string, torch::Tensor> tensors;
  std::map<std::string, double> scalars;
  double abs_tol = 1e-6;

  /// Throws std::runtime_error naming the missing tensor/scalar.
  const torch::Tensor& t(const std::string& key) const;
  torch::Tensor f(const std::string& key) const { return t(key).to(torch::kFloat32); }
  double s(const std::string& key) const;
  bool has_t(const std::string& key) const { return tensors.count(key) != 0; }
  bool has_s(const std::string& key) const { return scalars.count(key) != 0; }
};

/// Parses a case from JSON text. Throws std::runtime_error on a malformed case.
Case parse_case(const std::string& text, const std::string& path);
Case load_case(const std::string& path);
/// All *.json files of a folder, sorted.
std::vector<std::string> list_cases(const std::string& dir);

/// Collects mismatches while a case is checked.
class Checker {
 public:
  explicit Checker(const Case& c) : m_case(c) {}
  /// Integer codes, bit widths, signedness: must match exactly.
  void exact(const std::string& what, const torch::Tensor& got, const torch::Tensor& want);
  void exact(const std::string& what, double got, double want);
  /// Scales and zero points: within 1e-6 relative (broadcasting allowed).
  void scale(const std::string& what, const torch::Tensor& got, const torch::Tensor& want);
  void scale(const std::string& what, double got, double want);
  /// Float outputs: within the case's tolerance.abs (broadcasting allowed).
  void close(const std::string& what, const torch::Tensor& got, const torch::Tensor& want);
  /// Fails with a message.
  void fail(const std::string& what);
  /// Records something that was not compared strictly (and why); not a failure.
  void note(const std::string& what) { m_notes.push_back(what); }
  /// Takes over the checks and failures of `other` (a check done on the side).
  void absorb(const Checker& other);

  bool ok() const { return m_failures.empty(); }
  int checks() const { return m_checks; }
  double worst_abs() const { return m_worst; }
  const std::vector<std::string>& failures() const { return m_failures; }
  const std::vector<std::string>& notes() const { return m_notes; }

 private:
  bool same_numel(const std::string& what, const torch::Tensor& got, const torch::Tensor& want);
  const Case& m_case;
  std::vector<std::string> m_failures, m_notes;
  int m_checks = 0;
  double m_worst = 0.0;
};

/// Runs the case through QNN Studio's core and compares every recorded value.
/// Returns the checker (ok() tells the verdict). Unknown kinds fail.
Checker run_case(const Case& c);

}  // namespace qnn::golden
