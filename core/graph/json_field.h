// SPDX-License-Identifier: GPL-3.0-or-later
// Internal helper of the project reader (core/graph/project.cpp): a JSON value with
// its path in the document, so every complaint names the file and the JSON path,
// e.g. "p.qnn.json: layers[3].weight_quant.bit_width: expected an integer, got \"3\"".
// Every check throws ConfigError.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <system_error>

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

/// Marks a number too large for a double (e.g. 1e400) in the text given to the parser:
/// such a number becomes the string kOverflowMark + its text, so the reader can name
/// the field holding it instead of the parser stopping with "number overflow".
inline const std::string kOverflowMark = std::string("\x01qnn-number-overflow:");

/// For a number out of a double's range (text[begin, end)): true when it is too large,
/// false when it is too small (1e-400 reads as 0 and is fine). Compares the decimal
/// exponent of its first significant digit with 0.
inline bool number_too_large(const std::string& text, size_t begin, size_t end) {
  size_t k = begin < end && text[begin] == '-' ? begin + 1 : begin;
  int64_t int_digits = 0, zeros_after_point = 0;
  bool point = false, significant = false;
  for (; k < end && text[k] != 'e' && text[k] != 'E'; ++k) {
    const char c = text[k];
    if (c == '.') {
      point = true;
    } else if (!significant && c == '0') {
      if (point) ++zeros_after_point;
    } else {
      significant = true;
      if (!point) ++int_digits;
    }
  }
  int64_t exponent = 0;
  bool negative = false;
  if (k < end) ++k;  // 'e'
  if (k < end && (text[k] == '+' || text[k] == '-')) negative = text[k++] == '-';
  for (; k < end; ++k) exponent = std::min<int64_t>(exponent * 10 + (text[k] - '0'), int64_t(1) << 40);
  const int64_t lead = int_digits > 0 ? int_digits : -zeros_after_point;
  return lead + (negative ? -exponent : exponent) > 0;
}

/// `text` with every number outside strings that overflows a double replaced by a JSON
/// string holding kOverflowMark and the number's text. One linear pass.
inline std::string mark_overflowing_numbers(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 64);
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    if (c != '-' && !(c >= '0' && c <= '9')) {
      out += c;
      continue;
    }
    size_t end = i + 1;
    while (end < text.size() && ((text[end] >= '0' && text[end] <= '9') || text[end] == '.' || text[end] == 'e' ||
                                 text[end] == 'E' || text[end] == '+' || text[end] == '-'))
      ++end;
    double v = 0.0;
    const auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + end, v);
    if (ec == std::errc::result_out_of_range && ptr == text.data() + end && number_too_large(text, i, end))
      out += "\"\\u0001" + kOverflowMark.substr(1) + text.substr(i, end - i) + "\"";  // the mark, escaped
    else
      out.append(text, i, end - i);
    i = end - 1;
  }
  return out;
}

/// Parses a JSON document read from `source`; every parser complaint becomes a
/// ConfigError naming the file (no "[json.exception...]" text reaches the user).
/// Numbers too large for a double are kept as marked strings (mark_overflowing_numbers)
/// so Field can report them with their path.
inline json parse_document(const std::string& text, const std::string& source) {
  auto plain = [](const nlohmann::json::exception& e) {
    std::string what = e.what();
    const auto colon = what.find("] ");
    if (what.rfind("[json.exception", 0) == 0 && colon != std::string::npos) what = what.substr(colon + 2);
    return what;
  };
  try {
    return json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(json_parse_error_message(source, text, e));
  } catch (const nlohmann::json::out_of_range&) {
    // "number overflow": parse again with such numbers marked, below.
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(source + ": not valid JSON: " + plain(e));
  }
  const std::string marked = mark_overflowing_numbers(text);
  try {
    return json::parse(marked);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(json_parse_error_message(source, marked, e));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(source + ": not valid JSON: " + plain(e));
  }
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
  const std::string& source() const { return m_source; }

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

  /// The value is a number too large for a double (see kOverflowMark).
  bool overflowed() const {
    return m_value.is_string() && m_value.get_ref<const std::string&>().rfind(kOverflowMark, 0) == 0;
  }

  std::string str() const {
    if (!m_value.is_string() || overflowed()) fail("expected a string, got " + shown());
    return m_value.get<std::string>();
  }
  bool boolean() const {
    if (!m_value.is_boolean()) fail("expected true or false, got " + shown());
    return m_value.get<bool>();
  }
  double number() const {
    if (overflowed()) fail(shown() + " is not a valid number (too large: a number holds at most about 1.8e308)");
    if (!m_value.is_number()) fail("expected a number, got " + shown());
    const double v = m_value.get<double>();
    if (!std::isfinite(v)) fail("expected a finite number, got " + shown());
    return v;
  }
  int64_t integer() const {
    if (overflowed()) fail(shown() + " is not a valid integer (expected -2^63 … 2^63-1)");
    if (m_value.is_number_unsigned()) {
      const auto u = m_value.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail(shown() + " is not a valid integer (expected -2^63 … 2^63-1)");
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
    if (overflowed() || (m_value.is_number() && std::fabs(m_value.get<double>()) > 4.0e9))
      fail(shown() + " is not a valid integer (expected -2^31 … 2^31-1)");
    const int64_t v = integer();
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
      fail(shown() + " is not a valid integer (expected -2^31 … 2^31-1)");
    return static_cast<int>(v);
  }
  uint64_t unsigned_integer() const {
    if (overflowed()) fail(shown() + " is not a valid integer (expected 0 … 2^64-1)");
    if (m_value.is_number_unsigned()) return m_value.get<uint64_t>();
    const int64_t v = integer();
    if (v < 0) fail("expected a non-negative integer, got " + shown());
    return static_cast<uint64_t>(v);
  }

  std::string shown() const {
    std::string s = overflowed() ? m_value.get_ref<const std::string&>().substr(kOverflowMark.size()) : m_value.dump();
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
