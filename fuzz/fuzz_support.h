// SPDX-License-Identifier: GPL-3.0-or-later
// Shared by the fuzz targets (fuzz/fuzz_*.cpp, see fuzz/CMakeLists.txt): the rule
// that a qnn::Error is the expected refusal of a bad file and anything else is a
// finding, a temporary file for readers that take a path, and the fixed network the
// checkpoint, weights and packed-model targets load into (fuzz/tiny.qnn.json).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>

#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"

#ifndef QNN_FUZZ_SOURCE_DIR
#error "QNN_FUZZ_SOURCE_DIR (the repository folder) must be defined by fuzz/CMakeLists.txt"
#endif

namespace qnn::fuzz {

/// Runs `body` on one input. qnn::Error (a specific refusal) is the expected outcome
/// for a bad file and is swallowed; any other exception (c10::Error, std::bad_alloc,
/// nlohmann::json exceptions, std::out_of_range ...) is a finding: its message is
/// printed and the process aborts so libFuzzer (or the replay driver) records it.
template <class Body>
int guarded(const char* target, Body&& body) {
  try {
    body();
  } catch (const qnn::Error&) {
    // Refused with a specific message: what a bad file should get.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FINDING in %s: an exception other than qnn::Error escaped: %s\n", target, e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "FINDING in %s: a non-std exception escaped\n", target);
    std::abort();
  }
  return 0;
}

/// The input written to a temporary file (for readers that only take a path); the
/// file is removed when this goes out of scope. One file per process and suffix.
class TempFile {
 public:
  TempFile(const uint8_t* data, size_t size, const std::string& suffix)
      : m_path("/tmp/qnn-fuzz-" + std::to_string(::getpid()) + suffix) {
    std::ofstream out(m_path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
    if (!out) {
      std::fprintf(stderr, "fuzz: cannot write the temporary file %s\n", m_path.c_str());
      std::abort();  // the harness, not the code under test: stop loudly
    }
  }
  ~TempFile() { std::remove(m_path.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
};

/// Path of a file of the repository (e.g. "fuzz/tiny.qnn.json").
inline std::string source_file(const std::string& relative) {
  return std::string(QNN_FUZZ_SOURCE_DIR) + "/" + relative;
}

/// The fixed network (fuzz/tiny.qnn.json): the project the checkpoint and weights
/// seeds were saved from. Loaded once; LibTorch limited to one thread.
inline const Project& tiny_project() {
  static const Project p = [] {
    torch::set_num_threads(1);
    return load_project(source_file("fuzz/tiny.qnn.json"));
  }();
  return p;
}

}  // namespace qnn::fuzz
