// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/errors.h"

namespace qnn {
namespace fs = std::filesystem;

namespace {

constexpr const char* kTmpTag = ".qnn-tmp-";

std::string folder_of(const std::string& path) {
  const fs::path dir = fs::path(path).parent_path();
  return dir.empty() ? std::string(".") : dir.string();
}

// fsync of a file or folder; returns errno or 0.
int sync_path(const std::string& p, bool directory) {
  const int fd = ::open(p.c_str(), directory ? (O_RDONLY | O_DIRECTORY | O_CLOEXEC) : (O_RDONLY | O_CLOEXEC));
  if (fd < 0) return errno;
  const int rc = ::fsync(fd);
  const int err = rc != 0 ? errno : 0;
  ::close(fd);
  return err;
}

/// Creates a fresh temporary for `path` exclusively; returns its fd (and name in `tmp`)
/// or -1 with errno set.
int create_temporary(const std::string& path, std::string& tmp) {
  static std::atomic<unsigned> counter{0};
  const std::string prefix = temporary_prefix(path) + std::to_string(::getpid()) + "-";
  for (int attempt = 0; attempt < 64; ++attempt) {
    tmp = prefix + std::to_string(counter++);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  errno = EEXIST;
  return -1;
}

/// Whether QNN_TEST_FULL_DISK names the folder `path` is written into.
bool simulated_full_disk(const std::string& path) {
  const char* dir = std::getenv("QNN_TEST_FULL_DISK");
  if (!dir || !*dir) return false;
  std::error_code ec1, ec2;
  const fs::path a = fs::weakly_canonical(fs::path(folder_of(path)), ec1);
  const fs::path b = fs::weakly_canonical(fs::path(dir), ec2);
  return !ec1 && !ec2 && a == b;
}

/// Writes all of `bytes` to `fd`; returns 0 or errno.
int write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    done += size_t(n);
  }
  return 0;
}

/// Writes `bytes` into the freshly created temporary `fd` (closed here) and syncs it;
/// returns 0 or errno.
int fill_temporary(int fd, const std::string& path, const std::string& bytes) {
  int err = 0;
  if (simulated_full_disk(path)) {
    const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    err = full < 0 ? ENOSPC : write_all(full, bytes.empty() ? std::string(1, '\0') : bytes);
    if (full >= 0) ::close(full);
    if (err == 0) err = ENOSPC;
  }
  if (err == 0) err = write_all(fd, bytes);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

/// The file a save to `path` must replace: `path` itself, or, when it is a symbolic
/// link (a chain of them), the file it finally points to, so the link stays a link.
/// A link that points nowhere yet gets its target created. Loops and chains longer
/// than 40 links (ELOOP) keep `path`: the write then fails or replaces the link, as
/// before.
std::string final_target(const std::string& path) {
  fs::path p(path);
  for (int hop = 0; hop < 40; ++hop) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(p, ec)) || ec) return p.string();
    const fs::path next = fs::read_symlink(p, ec);
    if (ec) return p.string();
    p = next.is_absolute() ? next : p.parent_path() / next;
  }
  return path;
}

bool process_alive(long pid) {
  if (pid <= 0) return true;  // not ours to judge
  return ::kill(pid_t(pid), 0) == 0 || errno != ESRCH;
}

}  // namespace

namespace {
const char* const kNotRegular =
    "it is not a regular file (a device, pipe or socket), and writing would replace it; choose a file name";
}  // namespace

std::string write_error_reason(int err) {
  switch (err) {
    case ENOSPC: return "the disk is full";
#ifdef EDQUOT
    case EDQUOT: return "the disk quota is used up";
#endif
    case EFBIG: return "the file is larger than this process may write (file size limit)";
    case EROFS: return "the file system is read-only";
    case EACCES:
    case EPERM: return "permission denied";
    case ENOENT: return "the folder does not exist";
    case ENOTDIR: return "a part of the path is a file, not a folder";
    case EISDIR: return "it is a folder, not a file";
    case EIO: return "input/output error (a failing disk or a removed drive)";
    case ENAMETOOLONG: return "the file name is too long";
    default: return std::strerror(err);
  }
}

int64_t check_readable_file(const std::string& path, const std::string& what, int64_t max_bytes) {
  const std::string prefix = "cannot read " + what + " '" + path + "': ";
  if (path.empty()) throw IoError("cannot read " + what + ": no file name given");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw IoError(prefix + std::strerror(errno));  // "No such file or directory", "Permission denied"
  if (S_ISDIR(st.st_mode)) throw IoError(prefix + "it is a folder, not a file");
  if (!S_ISREG(st.st_mode)) throw IoError(prefix + "it is not a regular file (a device, pipe or socket)");
  if (int64_t(st.st_size) > max_bytes)
    throw IoError(prefix + "it is " + std::to_string(int64_t(st.st_size) >> 20) + " MB, more than the " +
                  std::to_string(max_bytes >> 20) + " MB a " + what + " may have");
  return int64_t(st.st_size);
}

std::string temporary_prefix(const std::string& path) {
  const fs::path p(path);
  const fs::path dir = p.parent_path();
  const std::string name = "." + p.filename().string() + kTmpTag;
  return dir.empty() ? name : (dir / name).string();
}

int remove_stale_temporaries(const std::string& path) {
  const std::string name = "." + fs::path(path).filename().string() + kTmpTag;
  int removed = 0;
  std::error_code ec;
  fs::directory_iterator it(folder_of(path), ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string f = it->path().filename().string();
    if (f.compare(0, name.size(), name) != 0) continue;
    // <pid>-<n> after the prefix
    const std::string rest = f.substr(name.size());
    const size_t dash = rest.find('-');
    if (dash == std::string::npos || dash == 0) continue;
    char* endp = nullptr;
    const long pid = std::strtol(rest.c_str(), &endp, 10);
    if (endp != rest.c_str() + dash || process_alive(pid)) continue;
    std::error_code rm;
    if (fs::remove(it->path(), rm)) ++removed;
  }
  return removed;
}

void write_bytes_atomically(const std::string& path, const std::string& what, const std::string& bytes) {
  replace_files_atomically({PendingFile{path, what, bytes}});
}

void write_text_atomically(const std::string& path, const std::string& what, const std::string& text) {
  write_bytes_atomically(path, what, text);
}

void replace_files_atomically(const std::vector<PendingFile>& files) {
  struct Slot {
    const PendingFile* file;
    std::string target;  ///< the file replaced: file->path, or the file a symbolic link points to
    std::string tmp, backup;
    bool existed = false, replaced = false;
  };
  std::vector<Slot> slots;
  slots.reserve(files.size());
  const auto cleanup = [&] {
    for (const Slot& s : slots) {
      if (!s.tmp.empty() && !s.replaced) ::unlink(s.tmp.c_str());
      if (!s.backup.empty()) ::unlink(s.backup.c_str());
    }
  };
  const auto fail = [&](const PendingFile& f, const std::string& why) {
    cleanup();
    throw IoError("cannot write " + f.what + " " + f.path + ": " + why);
  };
  for (const PendingFile& f : files) {
    if (f.path.empty()) fail(f, "no file name given");
    struct stat st {};
    if (::stat(f.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) fail(f, write_error_reason(EISDIR));
    // A rename over /dev/null or /dev/full would replace the device itself (as root).
    if (::stat(f.path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) fail(f, kNotRegular);
  }
  // 1. Every temporary complete and on disk, beside the file it replaces (a symbolic
  // link's target, so the link survives), with that file's permissions.
  for (const PendingFile& f : files) {
    const std::string target = final_target(f.path);
    remove_stale_temporaries(target);
    slots.push_back({&f, target, {}, {}});
    const int fd = create_temporary(target, slots.back().tmp);
    if (fd < 0) {
      const int err = errno;
      slots.back().tmp.clear();
      fail(f, write_error_reason(err));
    }
    struct stat old {};
    if (::stat(target.c_str(), &old) == 0 && S_ISREG(old.st_mode)) {
      // Best effort: the owner only as root (chown), the mode always (a 0600 file stays private).
      [[maybe_unused]] const int owned = ::geteuid() == 0 ? ::fchown(fd, old.st_uid, old.st_gid) : 0;
      [[maybe_unused]] const int moded = ::fchmod(fd, old.st_mode & 07777);
    }
    if (const int err = fill_temporary(fd, target, f.bytes)) fail(f, write_error_reason(err));
  }
  // 2. Keep a hard link to each old file, so a failed rename further down can put it back.
  for (Slot& s : slots) {
    struct stat st {};
    if (::lstat(s.target.c_str(), &st) != 0) continue;
    s.existed = true;
    if (!S_ISREG(st.st_mode)) continue;
    std::string b;
    const int fd = create_temporary(s.target, b);
    if (fd < 0) continue;
    ::close(fd);
    ::unlink(b.c_str());
    if (::link(s.target.c_str(), b.c_str()) == 0) s.backup = b;
  }
  // 3. Rename them all; roll back on the first failure.
  for (size_t i = 0; i < slots.size(); ++i) {
    if (std::rename(slots[i].tmp.c_str(), slots[i].target.c_str()) == 0) {
      slots[i].replaced = true;
      continue;
    }
    const int err = errno;
    for (size_t j = 0; j < i; ++j) {
      if (!slots[j].backup.empty()) {
        if (std::rename(slots[j].backup.c_str(), slots[j].target.c_str()) == 0) slots[j].backup.clear();
      } else if (!slots[j].existed) {
        ::unlink(slots[j].target.c_str());
      }  // an old file without a backup link keeps the new content: nothing is lost
    }
    fail(*slots[i].file, write_error_reason(err));
  }
  cleanup();  // the backups
  for (const Slot& s : slots) sync_path(folder_of(s.target), true);
}

}  // namespace qnn
