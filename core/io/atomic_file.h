// SPDX-License-Identifier: GPL-3.0-or-later
// Crash-safe file replacement: write a temporary file beside the target, flush it to
// disk, rename it over the target, flush the folder. A reader sees either the old
// file or the complete new one; a failure (disk full, no permission, a file size
// limit) leaves the old file untouched and removes the temporary file.
//
// The file replaced keeps what the user set up around it: a symbolic link stays a link
// (the file it points to is replaced, its temporary written beside that file), and the
// new file gets the old one's permission bits (and, when running as root, its owner).
//
// Temporary files are named `.<name>.qnn-tmp-<pid>-<n>` in the target's folder
// (hidden; <name> is the target's file name, <pid> the writing process, <n> a
// counter). A save that is killed (kill -9, power loss) can leave one behind: the
// next save to the same path first removes every `.<name>.qnn-tmp-<pid>-*` whose
// process <pid> no longer runs. A temporary of a live process (a save under way in
// another window or command) is left alone.
//
// Test hook: when the environment variable QNN_TEST_FULL_DISK names a folder, every
// file that write_bytes_atomically / replace_files_atomically write into that folder
// is written to /dev/full instead of its temporary file, so the kernel reports a real "no space left on device"
// (ENOSPC) there; the temporary is still created and must be removed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qnn {

/// Why a write failed, in words a user can act on: ENOSPC "the disk is full",
/// EDQUOT "the disk quota is used up", EFBIG "the file is larger than this process
/// may write (file size limit)", EROFS "the file system is read-only",
/// EACCES/EPERM "permission denied", ENOENT "the folder does not exist",
/// EIO "input/output error (a failing disk or a removed drive)"; else strerror().
std::string write_error_reason(int err);

/// Replaces `path` with `bytes` (text or binary): written with write(2) into a fresh
/// temporary file (created exclusively, named as above), checked byte for byte, synced
/// and renamed over `path`; as replace_files_atomically with one file. `what` names the
/// file in messages ("project file", "checkpoint"). Throws IoError ("cannot write
/// <what> <path>: <reason>", the reason from write_error_reason); the temporary is
/// removed first and `path` is left as it was.
void write_bytes_atomically(const std::string& path, const std::string& what, const std::string& bytes);

/// write_bytes_atomically (the historical name, for text content).
void write_text_atomically(const std::string& path, const std::string& what, const std::string& text);

/// One file of a replace_files_atomically group.
struct PendingFile {
  std::string path;   ///< target
  std::string what;   ///< its name in messages ("C header", "checkpoint")
  std::string bytes;  ///< the complete new content
};

/// Replaces several files as one (each target must be a regular file or not exist: a
/// folder or a device such as /dev/null is refused, never replaced): every temporary is written and synced first, and
/// only when all of them are complete are they renamed over their targets. A failure
/// leaves every target as it was (old files intact, no new file created, no
/// temporary left); should a rename fail after others succeeded, the files already
/// replaced get their old content back (or are removed when they were new). Throws
/// IoError naming the first file that failed, as write_bytes_atomically.
void replace_files_atomically(const std::vector<PendingFile>& files);

/// The common start of the temporary files' paths for `path`
/// ("<folder>/.<name>.qnn-tmp-"); for tests and cleanup.
std::string temporary_prefix(const std::string& path);

/// Removes the temporaries of `path` left by processes that no longer run; returns how
/// many were removed. Called by every save above; never throws.
int remove_stale_temporaries(const std::string& path);

/// Before reading a whole file into memory: throws IoError ("cannot read <what> '<path>':
/// <reason>") unless `path` is a regular file of at most `max_bytes` bytes, so a
/// folder, a device (/dev/zero), a pipe or a huge file is refused at once with its
/// name instead of being read until memory runs out. Returns the file's size.
int64_t check_readable_file(const std::string& path, const std::string& what, int64_t max_bytes);

}  // namespace qnn
