// SPDX-License-Identifier: GPL-3.0-or-later
// Internal helper of the project reader (core/graph/project.cpp): a JSON value with
// its path in the document, so every complaint names the file and the JSON path,
// e.g. "p.qnn.json: layers[3].weight_quant.bit_width: expected an integer, got \"3\"".
// Every check throws ConfigError.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "core/errors.h"

namespace qnn::detail {

using json = nlohmann::ordered_json;

/// "<source>: not valid JSON at line L, column C: <what went wrong>" for a parse error
/// of `text` (line and column 1-based, of the byte where parsing stopped; a text that
/// ends early says so, since a truncated file stops one past its end). Used by the
/// project reader and `qnn suggest`'s sweep-file reader.
inline std::string json_parse_error_message(const std::string& source, const std::string& text,
                                            const nlohmann::json::parse_error& e) {
  const size_t stop = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
  size_t line = 1, column = 1;
  for (size_t i = 0; i < stop; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  std::string what = e.what();
  const auto colon = what.find(": ");
  if (what.rfind("[json.exception", 0) == 0 && colon != std::string::npos) what = what.substr(colon + 2);
  return source + ": not valid JSON at line " + std::to_string(line) + ", column " + std::to_string(column) +
         (e.byte > text.size() ? " (the file ends early; is it truncated?)" : "") + ": " + what;
}

/// A JSON value together with where it sits in the document, so every complaint
/// names the file and the JSON path ("layers[3].weight_quant.bit_width").
class Field {
 public:
  Field(const json& value, std::string path, const std::string& source)
      : m_value(value), m_path(std::move(path)), m_source(source) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError(m_source + ": " + (m_path.empty() ? std::string() : m_path + ": ") + what);
  }
  const json& value() const { return m_value; }
  const std::string& path() const { return m_path; }

  bool has(const std::string& key) const { return m_value.contains(key); }
  /// A member; missing members are an error.
  Field at(const std::string& key) const {
    if (!m_value.contains(key)) child_path(key).fail_missing();
    return Field(m_value.at(key), child_path(key).m_path, m_source);
  }
  Field at(size_t i) const {
    return Field(m_value.at(i), m_path + "[" + std::to_string(i) + "]", m_source);
  }

  const Field& expect_object() const {
    if (!m_value.is_object()) fail("expected an object, got " + shown());
    return *this;
  }
  const Field& expect_array() const {
    if (!m_value.is_array()) fail("expected an array, got " + shown());
    return *this;
  }
  /// Rejects keys outside `known` (catches misspelt settings that would be ignored).
  void allow_keys(std::initializer_list<const char*> known) const {
    for (const auto& item : m_value.items()) {
      bool ok = false;
      std::string list;
      for (const char* k : known) {
        ok = ok || item.key() == k;
        list += (list.empty() ? "" : ", ") + std::string(k);
      }
      if (!ok) child_path(item.key()).fail("unknown field; known fields here: " + list);
    }
  }

  std::string str() const {
    if (!m_value.is_string()) fail("expected a string, got " + shown());
    return m_value.get<std::string>();
  }
  bool boolean() const {
    if (!m_value.is_boolean()) fail("expected true or false, got " + shown());
    return m_value.get<bool>();
  }
  double number() const {
    if (!m_value.is_number()) fail("expected a number, got " + shown());
    const double v = m_value.get<double>();
    if (!std::isfinite(v)) fail("expected a finite number, got " + shown());
    return v;
  }
  int64_t integer() const {
    if (m_value.is_number_unsigned()) {
      const auto u = m_value.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail("integer " + shown() + " is too large");
      return static_cast<int64_t>(u);
    }
    if (m_value.is_number_integer()) return m_value.get<int64_t>();
    if (m_value.is_number_float()) {
      const double v = m_value.get<double>();
      if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15) return static_cast<int64_t>(v);
    }
    fail("expected an integer, got " + shown());
  }
  int int32() const {
    const int64_t v = integer();
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
      fail("integer " + shown() + " is out of range");
    return static_cast<int>(v);
  }
  uint64_t unsigned_integer() const {
    if (m_value.is_number_unsigned()) return m_value.get<uint64_t>();
    const int64_t v = integer();
    if (v < 0) fail("expected a non-negative integer, got " + shown());
    return static_cast<uint64_t>(v);
  }

  std::string shown() const {
    std::string s = m_value.dump();
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
  }

 private:
  Field child_path(const std::string& key) const {
    return Field(m_value, m_path.empty() ? key : m_path + "." + key, m_source);
  }
  [[noreturn]] void fail_missing() const { fail("required field is missing"); }

  const json& m_value;
  std::string m_path;
  const std::string& m_source;
};

}  // namespace qnn::detail
