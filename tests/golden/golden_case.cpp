// SPDX-License-Identifier: GPL-3.0-or-later
#include "golden_case.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace qnn::golden {

const torch::Tensor& Case::t(const std::string& key) const {
  auto it = tensors.find(key);
  if (it == tensors.end()) throw std::runtime_error(name + ": missing tensor '" + key + "'");
  return it->second;
}

double Case::s(const std::string& key) const {
  auto it = scalars.find(key);
  if (it == scalars.end()) throw std::runtime_error(name + ": missing scalar '" + key + "'");
  return it->second;
}

Case parse_case(const std::string& text, const std::string& path) {
  Case c;
  c.path = path;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON: " + e.what());
  }
  try {
    c.name = j.at("name").get<std::string>();
    c.kind = j.at("kind").get<std::string>();
    c.description = j.value("description", "");
    c.config = j.at("config");
    for (auto& [key, v] : j.at("tensors").items()) {
      const auto shape = v.at("shape").get<std::vector<int64_t>>();
      const auto& data = v.at("data");
      int64_t numel = 1;
      for (int64_t d : shape) numel *= d;
      if (static_cast<int64_t>(data.size()) != numel)
        throw std::runtime_error("tensor '" + key + "' has " + std::to_string(data.size()) +
                                 " values for shape of " + std::to_string(numel));
      const bool all_int = std::all_of(data.begin(), data.end(), [](const nlohmann::json& e) {
        return e.is_number_integer();
      });
      torch::Tensor t;
      if (all_int && numel > 0) {
        std::vector<int64_t> d = data.get<std::vector<int64_t>>();
        t = torch::tensor(d, torch::kInt64).reshape(shape);
      } else {
        std::vector<float> d;
        d.reserve(data.size());
        for (const auto& e : data) d.push_back(static_cast<float>(e.get<double>()));
        t = torch::from_blob(d.data(), {numel}, torch::kFloat32).clone().reshape(shape);
      }
      c.tensors[key] = t;
    }
    for (auto& [key, v] : j.at("scalars").items()) c.scalars[key] = v.get<double>();
    c.abs_tol = j.at("tolerance").at("abs").get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": malformed golden case: " + e.what());
  }
  return c;
}

Case load_case(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_case(ss.str(), path);
}

std::vector<std::string> list_cases(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------- Checker

bool Checker::same_numel(const std::string& what, const torch::Tensor& got, const torch::Tensor& want) {
  ++m_checks;
  if (!got.defined()) {
    fail(what + ": not produced");
    return false;
  }
  try {
    // Broadcasting equal shapes ([] vs [1], [1,C,1,1] vs [C]) is accepted; the element
    // counts must agree.
    if (got.numel() != want.numel()) {
      std::ostringstream s;
      s << what << ": shape " << got.sizes() << " vs expected " << want.sizes();
      fail(s.str());
      return false;
    }
  } catch (const std::exception& e) {
    fail(what + ": " + e.what());
    return false;
  }
  return true;
}

void Checker::exact(const std::string& what, const torch::Tensor& got, const torch::Tensor& want) {
  if (!same_numel(what, got, want)) return;
  torch::Tensor g = got.detach().reshape({-1}).to(torch::kFloat64);
  torch::Tensor w = want.reshape({-1}).to(torch::kFloat64);
  torch::Tensor bad = (g - w).abs() > 0;
  const int64_t n = bad.sum().item<int64_t>();
  if (n > 0) {
    const int64_t i = bad.nonzero()[0][0].item<int64_t>();
    std::ostringstream s;
    s << what << ": " << n << " of " << g.numel() << " integer values differ (first at " << i
      << ": got " << g[i].item<double>() << ", expected " << w[i].item<double>() << ")";
    fail(s.str());
  }
}

void Checker::exact(const std::string& what, double got, double want) {
  ++m_checks;
  if (got != want) {
    std::ostringstream s;
    s << what << ": got " << got << ", expected " << want;
    fail(s.str());
  }
}

void Checker::scale(const std::string& what, const torch::Tensor& got, const torch::Tensor& want) {
  if (!same_numel(what, got, want)) return;
  torch::Tensor g = got.detach().reshape({-1}).to(torch::kFloat64);
  torch::Tensor w = want.reshape({-1}).to(torch::kFloat64);
  torch::Tensor err = (g - w).abs();
  torch::Tensor bad = err > 1e-6 * w.abs() + 1e-30;
  if (bad.any().item<bool>()) {
    const int64_t i = bad.nonzero()[0][0].item<int64_t>();
    std::ostringstream s;
    s.precision(9);
    s << what << ": got " << g[i].item<double>() << ", expected " << w[i].item<double>()
      << " (relative tolerance 1e-6)";
    fail(s.str());
  }
}

void Checker::scale(const std::string& what, double got, double want) {
  scale(what, torch::tensor({got}, torch::kFloat64), torch::tensor({want}, torch::kFloat64));
}

void Checker::close(const std::string& what, const torch::Tensor& got, const torch::Tensor& want) {
  if (!same_numel(what, got, want)) return;
  torch::Tensor g = got.detach().reshape({-1}).to(torch::kFloat64);
  torch::Tensor w = want.reshape({-1}).to(torch::kFloat64);
  torch::Tensor err = (g - w).abs();
  const double worst = err.numel() ? err.max().item<double>() : 0.0;
  m_worst = std::max(m_worst, worst);
  if (worst > m_case.abs_tol) {
    const int64_t i = err.argmax().item<int64_t>();
    std::ostringstream s;
    s.precision(9);
    s << what << ": max |error| " << worst << " > tolerance " << m_case.abs_tol << " (at " << i
      << ": got " << g[i].item<double>() << ", expected " << w[i].item<double>() << ")";
    fail(s.str());
  }
}

void Checker::fail(const std::string& what) { m_failures.push_back(what); }

void Checker::absorb(const Checker& other) {
  m_checks += other.m_checks;
  m_worst = std::max(m_worst, other.m_worst);
  m_failures.insert(m_failures.end(), other.m_failures.begin(), other.m_failures.end());
  m_notes.insert(m_notes.end(), other.m_notes.begin(), other.m_notes.end());
}

}  // namespace qnn::golden
