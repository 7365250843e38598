// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/errors.h"

namespace qnn {
namespace {

std::string random_suffix() {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string s(6, 'x');
  for (auto& c : s) c = kChars[rng() % (sizeof kChars - 1)];
  return s;
}

// fsync of a file or folder; returns errno or 0.
int sync_path(const std::string& p, bool directory) {
  const int fd = ::open(p.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd);
  const int err = rc != 0 ? errno : 0;
  ::close(fd);
  return err;
}

}  // namespace

void replace_file_atomically(const std::string& path, const std::string& what,
                             const std::function<void(const std::string&)>& write_to) {
  const std::string prefix = "cannot write " + what + " " + path + ": ";
  std::string tmp;
  for (int attempt = 0;; ++attempt) {
    tmp = path + ".tmp-" + random_suffix();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd >= 0) {
      ::close(fd);
      break;
    }
    if (errno != EEXIST || attempt >= 16) throw IoError(prefix + std::strerror(errno));
  }
  const auto fail = [&](const std::string& why) {
    std::remove(tmp.c_str());
    throw IoError(prefix + why);
  };
  try {
    write_to(tmp);
  } catch (const IoError& e) {
    fail(e.what());
  } catch (const std::exception& e) {
    fail(e.what());
  }
  if (const int err = sync_path(tmp, false)) fail(std::strerror(err));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail(std::strerror(errno));
  // Make the rename itself durable; the new file is complete either way.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  sync_path(dir.empty() ? std::string(".") : dir.string(), true);
}

void write_text_atomically(const std::string& path, const std::string& what, const std::string& text) {
  replace_file_atomically(path, what, [&](const std::string& tmp) {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw IoError(std::strerror(errno));
    const size_t n = std::fwrite(text.data(), 1, text.size(), f);
    const int werr = n != text.size() ? errno : 0;
    const int cerr = std::fclose(f) != 0 ? errno : 0;
    if (werr || cerr) throw IoError(std::strerror(werr ? werr : cerr));
  });
}

}  // namespace qnn
