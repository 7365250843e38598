// SPDX-License-Identifier: GPL-3.0-or-later
// Corpus replay driver: the CI side of the fuzz targets (CTest test `fuzz_replay`).
// Built with the normal compiler and no libFuzzer; every fuzz_<target>.cpp is compiled
// with its LLVMFuzzerTestOneInput renamed to qnn_fuzz_<target> (fuzz/CMakeLists.txt),
// and this main() runs each file of fuzz/corpus/<target>/ and fuzz/regressions/<target>/
// through it. A target aborts on a finding (fuzz/fuzz_support.h), so the test fails and
// the last "replay <file>" line on stderr names the input.
//
//   fuzz_replay [TARGET...]   (default: every target)
//
// Memory is capped at 2 GiB of data (RLIMIT_DATA, as libFuzzer's default -rss_limit_mb
// of 2048), so an input that makes a reader allocate gigabytes from a small file fails
// here as it does under libFuzzer (std::bad_alloc escapes: a finding). Under
// AddressSanitizer (scripts/sanitize) RLIMIT_DATA would starve ASan's own mappings
// ("ERROR: Failed to mmap" before the first input), so the cap is ASan's instead:
// max_allocation_size_mb=2048, and an allocation above it is a finding of its own.
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#define QNN_REPLAY_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QNN_REPLAY_UNDER_ASAN 1
#endif
#endif

#ifdef QNN_REPLAY_UNDER_ASAN
// ASan reads this before main(); ASAN_OPTIONS in the environment still win.
extern "C" const char* __asan_default_options() { return "max_allocation_size_mb=2048"; }
#endif

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#define QNN_FUZZ_TARGETS(X) \
  X(project_loader)         \
  X(idx_reader)             \
  X(cifar_reader)           \
  X(checkpoint_loader)      \
  X(weights_loader)         \
  X(packed_model)           \
  X(onnx_import)

#define QNN_DECLARE(name) extern "C" int qnn_fuzz_##name(const uint8_t*, size_t);
QNN_FUZZ_TARGETS(QNN_DECLARE)
#undef QNN_DECLARE

namespace fs = std::filesystem;

namespace {

struct Target {
  const char* name;
  int (*run)(const uint8_t*, size_t);
};

// Runs every regular file of `dir` (sorted, so failures reproduce in order); returns
// the number of files.
int replay_folder(const Target& t, const fs::path& dir) {
  if (!fs::is_directory(dir)) return 0;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "replay %s\n", f.c_str());
    t.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  return int(files.size());
}

}  // namespace

int main(int argc, char** argv) {
#ifndef QNN_REPLAY_UNDER_ASAN
  const rlimit cap{rlim_t(2) << 30, rlim_t(2) << 30};
  if (setrlimit(RLIMIT_DATA, &cap) != 0) std::perror("fuzz_replay: setrlimit(RLIMIT_DATA)");
#endif
#define QNN_ENTRY(name) Target{#name, &qnn_fuzz_##name},
  const std::vector<Target> targets{QNN_FUZZ_TARGETS(QNN_ENTRY)};
#undef QNN_ENTRY
  std::vector<std::string> wanted(argv + 1, argv + argc);
  for (const auto& w : wanted) {
    if (std::none_of(targets.begin(), targets.end(), [&](const Target& t) { return w == t.name; })) {
      std::fprintf(stderr, "fuzz_replay: unknown target '%s'\n", w.c_str());
      return 2;
    }
  }
  const fs::path root = QNN_FUZZ_SOURCE_DIR "/fuzz";
  int failures = 0;
  for (const auto& t : targets) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), t.name) == wanted.end()) continue;
    const auto start = std::chrono::steady_clock::now();
    const int corpus = replay_folder(t, root / "corpus" / t.name);
    const int regressions = replay_folder(t, root / "regressions" / t.name);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-18s %3d corpus + %3d regression inputs  %.2fs\n", t.name, corpus, regressions, s);
    // An empty corpus means the seeds were lost: the smoke run would test nothing.
    if (corpus == 0) {
      std::fprintf(stderr, "fuzz_replay: no seed in %s\n", (root / "corpus" / t.name).c_str());
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}
