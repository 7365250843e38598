// SPDX-License-Identifier: GPL-3.0-or-later
// Crash-safe file replacement: write a temporary file beside the target, flush it to
// disk, rename it over the target, flush the folder. A reader sees either the old
// file or the complete new one; a failure leaves the old file untouched and removes
// the temporary file.
#pragma once

#include <functional>
#include <string>

namespace qnn {

/// Replaces `path` with what `write_to(tmp_path)` writes into a fresh temporary file
/// `<path>.tmp-XXXXXX` (created exclusively). `what` names the file in messages
/// ("project file", "checkpoint"). Throws IoError ("cannot write <what> <path>: <reason>")
/// when the temporary cannot be created, written (disk full), synced or renamed, or
/// when `write_to` throws; in every case the temporary is removed first.
void replace_file_atomically(const std::string& path, const std::string& what,
                             const std::function<void(const std::string& tmp_path)>& write_to);

/// replace_file_atomically for text content.
void write_text_atomically(const std::string& path, const std::string& what, const std::string& text);

}  // namespace qnn
