// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/train/checkpoint.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <sys/stat.h>
#include <zlib.h>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/io/atomic_file.h"
#include "core/train/checkpoint_entries.h"
#include "core/train/checkpoint_steps.h"
#include "core/train/pickle_scan.h"

namespace qnn {
namespace {

// Keys of the archive's own entries. Module tensor names never start with "qnn."
// because layer ids are identifiers without dots.
constexpr const char* kFormatKey = "qnn.format";
constexpr const char* kFormatName = "qnn-studio-checkpoint";
constexpr const char* kVersionKey = "qnn.version";
constexpr const char* kProjectKey = "qnn.project";
constexpr const char* kStepsKey = "qnn.optimizer_steps";  // optional (core/train/checkpoint_steps.h)
// Optional (checkpoints written before it have none): one line "<name> <crc32 hex>" for
// the project JSON, the step count and every tensor. Version 1 readers ignore it.
constexpr const char* kChecksumsKey = "qnn.checksums";
constexpr int64_t kVersion = 1;
/// A checkpoint larger than this is not read (a model of this app is far smaller; a
/// device or a huge unrelated file would otherwise be read into memory first).
constexpr int64_t kMaxCheckpointBytes = int64_t(4) << 30;

uint32_t crc_of(const void* data, size_t n, uint32_t crc = 0) {
  const auto* p = static_cast<const Bytef*>(data);
  if (crc == 0) crc = uint32_t(::crc32(0L, Z_NULL, 0));
  while (n > 0) {  // zlib's length is a uInt
    const uInt chunk = uInt(std::min<size_t>(n, size_t(1) << 30));
    crc = uint32_t(::crc32(crc, p, chunk));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

uint32_t crc_of(const std::string& s) { return crc_of(s.data(), s.size()); }

/// CRC-32 of a tensor's dtype, shape and bytes (contiguous, on the CPU).
uint32_t tensor_crc(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
  std::string head = std::string(c10::toString(c.scalar_type())) + "[";
  for (int64_t d : c.sizes()) head += std::to_string(d) + ",";
  head += "]";
  uint32_t crc = crc_of(head);
  return crc_of(c.data_ptr(), size_t(c.numel()) * c.element_size(), crc);
}

/// Whether a tensor's storage holds every element its sizes, strides and offset reach.
/// A damaged archive can pair a shape with a shorter (or missing) storage; reading such
/// a tensor would run past its data.
bool storage_covers(const torch::Tensor& t) {
  if (!t.defined() || t.numel() == 0) return true;
  if (!t.has_storage() || t.data_ptr() == nullptr) return false;
  int64_t last = t.storage_offset();
  for (int64_t i = 0; i < t.dim(); ++i) {
    int64_t reach = 0;
    if (t.stride(i) < 0 || __builtin_mul_overflow(t.size(i) - 1, t.stride(i), &reach) ||
        __builtin_add_overflow(last, reach, &last))
      return false;
  }
  int64_t bytes = 0;
  return last >= 0 && !__builtin_mul_overflow(last + 1, int64_t(t.element_size()), &bytes) &&
         bytes <= int64_t(t.storage().nbytes());
}

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

std::string damaged(const std::string& path, const std::string& what) {
  return "checkpoint " + path + " is damaged: " + what +
         " does not match its checksum (the file changed after it was saved: a disk or copy error; use "
         "another copy)";
}

/// The checksums a checkpoint records (empty: written before they were recorded).
/// Throws DamagedCheckpointError when the entry is there but unreadable.
std::map<std::string, std::string> read_checksums(torch::serialize::InputArchive& ar, const std::string& path) {
  std::map<std::string, std::string> out;
  c10::IValue v;
  bool found = false;
  try {
    found = ar.try_read(kChecksumsKey, v);
  } catch (const std::exception&) {
    throw DamagedCheckpointError(damaged(path, "the list of checksums"));
  }
  if (!found) return out;
  if (!v.isString()) throw DamagedCheckpointError(damaged(path, "the list of checksums"));
  std::istringstream lines(v.toStringRef());
  std::string name, crc;
  while (lines >> name >> crc) {
    if (crc.size() != 8 || crc.find_first_not_of("0123456789abcdef") != std::string::npos || out.count(name))
      throw DamagedCheckpointError(damaged(path, "the list of checksums"));
    out[name] = crc;
  }
  if (out.empty() || !lines.eof()) throw DamagedCheckpointError(damaged(path, "the list of checksums"));
  return out;
}

std::string shape_string(at::IntArrayRef s) {
  std::ostringstream o;
  o << '[';
  for (size_t i = 0; i < s.size(); ++i) o << (i ? "," : "") << s[i];
  o << ']';
  return o.str();
}

/// First line of a LibTorch error, without the C++ backtrace.
std::string reason(const c10::Error& e) {
  std::string m = e.what_without_backtrace();
  const auto nl = m.find('\n');
  return nl == std::string::npos ? m : m.substr(0, nl);
}

/// First non-empty line of another library error (TorchScript's unpickler throws
/// torch::jit::ErrorReport and std::runtime_error, not c10::Error, on a damaged archive).
std::string reason(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return reason(*c);
  if (dynamic_cast<const std::bad_alloc*>(&e)) return "it asks for more memory than this machine has";
  std::istringstream lines(e.what());
  std::string m;
  while (std::getline(lines, m) && m.find_first_not_of(" \t") == std::string::npos) {
  }
  const auto nl = m.find('\n');
  return nl == std::string::npos ? m : m.substr(0, nl);
}

// ---- The archive's own integrity, checked before LibTorch parses a byte of it.
// LibTorch's zip reader skips the CRC-32 every zip entry records, and its TorchScript
// unpickler can crash on a damaged file; so every entry (the pickle, the code, each
// tensor's data) is checked against its CRC-32 here first. Checkpoints of every
// version have these CRCs (miniz writes them), so old files are checked too.

uint64_t le(const std::string& b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | uint8_t(b[at + size_t(i)]);
  return v;
}

/// CRC-32 of what the deflated `size` bytes at `at` inflate to; any other value than
/// the entry's CRC when they do not inflate to exactly `usize` bytes.
uint32_t inflated_crc(const std::string& b, size_t at, size_t size, uint64_t usize) {
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return 0;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(b.data() + at));
  z.avail_in = uInt(size);
  uint32_t crc = uint32_t(::crc32(0L, Z_NULL, 0));
  uint64_t total = 0;
  unsigned char out[1 << 15];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = out;
    z.avail_out = sizeof out;
    rc = inflate(&z, Z_NO_FLUSH);
    const size_t got = sizeof out - z.avail_out;
    crc = uint32_t(::crc32(crc, out, uInt(got)));
    total += got;
    if (rc == Z_BUF_ERROR && got > 0) rc = Z_OK;
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END && total == usize ? crc : ~crc;
}

/// Throws DamagedCheckpointError when the zip structure of `b` is broken or an entry
/// does not match its CRC-32; IoError when it is no zip archive at all. Tensor data
/// entries (".../data/<n>": raw bytes LibTorch does not parse) that do not match are
/// returned instead, so the tensor checksums can name the tensor.
std::vector<std::string> verify_zip(const std::string& b, const std::string& path) {
  std::vector<std::string> bad_data;
  const auto broken = [&](const std::string& what) {
    return DamagedCheckpointError("checkpoint " + path + " is damaged: " + what +
                                  " (the file changed after it was saved: a disk or copy error; use another copy)");
  };
  const size_t n = b.size();
  if (n < 22 || b.compare(0, 2, "PK") != 0)
    throw IoError("cannot read checkpoint " + path + ": it is not a LibTorch archive (no zip header)");
  // End of central directory: the last "PK\5\6" whose comment reaches the end of the file.
  size_t eocd = std::string::npos;
  for (size_t i = n - 22 + 1; i-- > 0 && n - i <= 22 + 65535;)
    if (le(b, i, 4) == 0x06054b50 && i + 22 + le(b, i + 20, 2) == n) {
      eocd = i;
      break;
    }
  if (eocd == std::string::npos) throw broken("the archive's directory is missing");
  uint64_t count = le(b, eocd + 10, 2), cd_size = le(b, eocd + 12, 4), cd_offset = le(b, eocd + 16, 4);
  if (count == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {  // zip64
    if (eocd < 20 || le(b, eocd - 20, 4) != 0x07064b50) throw broken("the archive's directory is missing");
    const uint64_t z = le(b, eocd - 20 + 8, 8);
    if (z + 56 > n || le(b, size_t(z), 4) != 0x06064b50) throw broken("the archive's directory is missing");
    count = le(b, size_t(z) + 32, 8);
    cd_size = le(b, size_t(z) + 40, 8);
    cd_offset = le(b, size_t(z) + 48, 8);
  }
  if (cd_offset > n || cd_size > n - cd_offset || count == 0 || count > cd_size / 46)
    throw broken("the archive's directory is broken");
  size_t at = size_t(cd_offset);
  for (uint64_t k = 0; k < count; ++k) {
    if (at + 46 > n || le(b, at, 4) != 0x02014b50) throw broken("the archive's directory is broken");
    const uint64_t method = le(b, at + 10, 2), crc = le(b, at + 16, 4);
    uint64_t size = le(b, at + 20, 4), usize = le(b, at + 24, 4);
    const size_t name_len = size_t(le(b, at + 28, 2)), extra_len = size_t(le(b, at + 30, 2)),
                 comment_len = size_t(le(b, at + 32, 2));
    uint64_t offset = le(b, at + 42, 4);
    if (at + 46 + name_len + extra_len + comment_len > n) throw broken("the archive's directory is broken");
    const std::string name = b.substr(at + 46, name_len);
    // zip64 sizes and offset, in this order, for the fields that hold 0xffffffff
    for (size_t e = at + 46 + name_len; e + 4 <= at + 46 + name_len + extra_len;) {
      const uint64_t id = le(b, e, 2), len = le(b, e + 2, 2);
      if (e + 4 + len > at + 46 + name_len + extra_len) throw broken("the archive's directory is broken");
      if (id == 0x0001) {
        size_t f = e + 4;
        const size_t end = f + size_t(len);
        for (uint64_t* v : {&usize, &size, &offset})
          if (*v == 0xffffffff) {
            if (f + 8 > end) throw broken("the archive's directory is broken");
            *v = le(b, f, 8);
            f += 8;
          }
      }
      e += 4 + size_t(len);
    }
    if ((method != 0 && method != 8) || (method == 0 && size != usize))
      throw broken("entry " + name + " has an unknown compression");
    // The pickles LibTorch's unpickler reads (data.pkl, constants.pkl) are stored.
    const bool is_pickle = name.size() >= 3 && name.compare(name.size() - 3, 3, "pkl") == 0;  // also *.debug_pkl
    if (is_pickle && method != 0)  // a zip tool re-packed it
      throw IoError("cannot read checkpoint " + path + ": its entry " + name +
                    " is compressed (deflate; a zip tool re-packed the file), and LibTorch reads only stored "
                    "pickles: use the file as torch.save wrote it, or re-save it with torch.save");
    if (offset + 30 > n || le(b, size_t(offset), 4) != 0x04034b50) throw broken("entry " + name + " is broken");
    const size_t lname = size_t(le(b, size_t(offset) + 26, 2)), lextra = size_t(le(b, size_t(offset) + 28, 2));
    const uint64_t data = offset + 30 + lname + lextra;
    if (data > n || size > n - data || b.compare(size_t(offset) + 30, lname, name) != 0)
      throw broken("entry " + name + " is broken");
    if ((method == 0 ? crc_of(b.data() + data, size_t(size)) : inflated_crc(b, size_t(data), size_t(size), usize)) != crc) {
      const size_t slash = name.find('/');
      if (method == 0 && slash != std::string::npos && name.compare(slash, 6, "/data/") == 0 &&
          name.find_first_not_of("0123456789", slash + 6) == std::string::npos)
        bad_data.push_back(name);
      else
        throw broken("entry " + name + " does not match its CRC-32");
    }
    // A length inside a pickle that runs past its end would make LibTorch's unpickler
    // allocate it first (pickle_scan.h).
    if (is_pickle && !pickle_lengths_fit(reinterpret_cast<const unsigned char*>(b.data() + data), size_t(size)))
      throw broken("entry " + name + " is broken");
    at += 46 + name_len + extra_len + comment_len;
  }
  // The entries fill the directory exactly: a count that disagrees with the directory's
  // size would let LibTorch's zip reader see entries this check never saw.
  if (at != cd_offset + cd_size) throw broken("the archive's directory is broken");
  return bad_data;
}

/// ar.try_read(key, out): false when the entry is absent; IoError ("the file is
/// damaged (...)") when LibTorch fails to read it.
bool read_entry(torch::serialize::InputArchive& ar, const char* key, c10::IValue& out, const std::string& path) {
  try {
    return ar.try_read(key, out);
  } catch (const std::exception& e) {
    throw IoError("cannot read checkpoint " + path + ": the file is damaged (" + reason(e) + ")");
  }
}

/// CheckpointBytesOverride's files (path -> bytes).
std::mutex g_override_mutex;
std::map<std::string, std::shared_ptr<const std::string>> g_overrides;

std::shared_ptr<const std::string> override_of(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_override_mutex);
  const auto it = g_overrides.find(path);
  return it == g_overrides.end() ? nullptr : it->second;
}

/// Opens a checkpoint and checks its marker. Throws IoError / ConfigError.
torch::serialize::InputArchive open_archive(const std::string& path) {
  const std::shared_ptr<const std::string> given = override_of(path);
  struct stat st {};
  if (given) {
    st.st_mode = S_IFREG;
    st.st_size = off_t(given->size());
  } else if (::stat(path.c_str(), &st) != 0) {
    throw IoError("cannot read checkpoint " + path + ": " +
                  (errno == ENOENT ? std::string("file not found") : std::string(std::strerror(errno))));
  }
  if (S_ISDIR(st.st_mode)) throw IoError("cannot read checkpoint " + path + ": it is a folder, not a file");
  if (!S_ISREG(st.st_mode))
    throw IoError("cannot read checkpoint " + path + ": it is not a regular file (a device, pipe or socket)");
  if (int64_t(st.st_size) > kMaxCheckpointBytes)
    throw IoError("cannot read checkpoint " + path + ": it is " + std::to_string(int64_t(st.st_size) >> 20) +
                  " MB, more than any checkpoint of this app (" + std::to_string(kMaxCheckpointBytes >> 20) +
                  " MB at most)");
  std::string bytes(size_t(st.st_size), '\0');
  if (given) {
    bytes = *given;
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in || !in.read(bytes.data(), std::streamsize(bytes.size())))
      throw IoError("cannot read checkpoint " + path + ": " + std::strerror(errno));
  }
  const std::vector<std::string> bad_data = verify_zip(bytes, path);
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(bytes.data(), bytes.size());
  } catch (const std::exception& e) {
    throw IoError("cannot read checkpoint " + path + ": the file is damaged or not a LibTorch archive (" +
                  reason(e) + ")");
  }
  if (!bad_data.empty()) {  // with checksums, load_checkpoint names the tensor
    c10::IValue sums;
    bool has_sums = false;
    try {
      has_sums = ar.try_read(kChecksumsKey, sums);
    } catch (const std::exception&) {
    }
    if (!has_sums) throw DamagedCheckpointError(damaged(path, "entry " + bad_data.front()));
  }
  c10::IValue format, version;
  if (!read_entry(ar, kFormatKey, format, path) || !format.isString() || format.toStringRef() != kFormatName)
    throw ConfigError(path + " is not a QNN Studio checkpoint");
  if (!read_entry(ar, kVersionKey, version, path) || !version.isInt())
    throw ConfigError(path + " is not a QNN Studio checkpoint (no format version)");
  if (version.toInt() > kVersion)
    throw ConfigError(path + " has checkpoint format version " + std::to_string(version.toInt()) +
                      "; this QNN Studio reads up to version " + std::to_string(kVersion));
  return ar;
}

struct Entry {
  std::string name;
  torch::Tensor tensor;
  bool buffer = false;
};

std::vector<Entry> model_tensors(QuantModel& model) {
  std::vector<Entry> out;
  for (const auto& kv : model->named_parameters(true)) out.push_back({kv.key(), kv.value(), false});
  for (const auto& kv : model->named_buffers(true)) out.push_back({kv.key(), kv.value(), true});
  return out;
}

}  // namespace

void save_checkpoint(QuantModel& model, const std::string& path) { save_checkpoint(model, path, -1); }

std::string checkpoint_bytes(QuantModel& model, int64_t optimizer_steps, const std::string& path) {
  return checkpoint_bytes_with_entries(model, optimizer_steps, path, {});
}

namespace {
torch::Tensor bytes_tensor(const std::string& bytes) {
  auto t = torch::empty({int64_t(bytes.size())}, torch::kUInt8);
  if (!bytes.empty()) std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  return t;
}
}  // namespace

std::string checkpoint_bytes_with_entries(QuantModel& model, int64_t optimizer_steps, const std::string& path,
                                          const std::vector<std::pair<std::string, std::string>>& entries) {
  torch::serialize::OutputArchive ar;
  std::ostringstream bytes;
  try {
    const std::string project = project_to_json(model->project());
    std::string sums = std::string(kProjectKey) + " " + hex(crc_of(project)) + "\n";
    ar.write(kFormatKey, c10::IValue(std::string(kFormatName)));
    ar.write(kVersionKey, c10::IValue(kVersion));
    ar.write(kProjectKey, c10::IValue(project));
    if (optimizer_steps >= 0) {
      ar.write(kStepsKey, c10::IValue(optimizer_steps));
      sums += std::string(kStepsKey) + " " + hex(crc_of(std::to_string(optimizer_steps))) + "\n";
    }
    torch::NoGradGuard no_grad;
    for (const auto& e : model_tensors(model)) {
      ar.write(e.name, e.tensor.detach(), e.buffer);
      sums += e.name + " " + hex(tensor_crc(e.tensor)) + "\n";
    }
    for (const auto& [name, bytes] : entries) {
      const torch::Tensor t = bytes_tensor(bytes);
      ar.write(name, t, true);
      sums += name + " " + hex(tensor_crc(t)) + "\n";
    }
    ar.write(kChecksumsKey, c10::IValue(sums));
    // In memory: LibTorch's file writer cannot report a full disk (it aborts the
    // process from a destructor); the bytes are written by replace_files_atomically.
    ar.save_to(bytes);
  } catch (const c10::Error& e) {
    throw IoError("cannot write checkpoint " + path + ": " + reason(e));
  }
  return bytes.str();
}

void save_checkpoint(QuantModel& model, const std::string& path, int64_t optimizer_steps) {
  if (path.empty()) throw IoError("cannot write the checkpoint: no file name given");
  write_bytes_atomically(path, "checkpoint", checkpoint_bytes(model, optimizer_steps, path));
}

Project read_checkpoint_project(const std::string& path) {
  auto ar = open_archive(path);
  c10::IValue text;
  if (!read_entry(ar, kProjectKey, text, path) || !text.isString())
    throw ConfigError(path + " is not a QNN Studio checkpoint (no project)");
  const auto sums = read_checksums(ar, path);
  if (!sums.empty()) {
    const auto it = sums.find(kProjectKey);
    if (it == sums.end() || it->second != hex(crc_of(text.toStringRef())))
      throw DamagedCheckpointError(damaged(path, "the project JSON"));
  }
  return project_from_json(text.toStringRef(), path);
}

int64_t read_checkpoint_optimizer_steps(const std::string& path) {
  auto ar = open_archive(path);
  c10::IValue steps;
  if (!read_entry(ar, kStepsKey, steps, path) || !steps.isInt()) steps = c10::IValue(int64_t(-1));
  const auto sums = read_checksums(ar, path);
  if (!sums.empty()) {
    const auto it = sums.find(kStepsKey);
    const bool recorded = it != sums.end();
    if (recorded != (steps.toInt() >= 0) ||
        (recorded && it->second != hex(crc_of(std::to_string(steps.toInt())))))
      throw DamagedCheckpointError(damaged(path, "the optimizer step count"));
  }
  return steps.toInt();
}

std::map<std::string, std::string> read_checkpoint_entries(const std::string& path,
                                                           const std::vector<std::string>& names) {
  auto ar = open_archive(path);
  const auto sums = read_checksums(ar, path);
  std::map<std::string, std::string> out;
  for (const std::string& name : names) {
    torch::Tensor t;  // undefined: see load_checkpoint
    bool found = false;
    try {
      found = ar.try_read(name, t, true);
    } catch (const std::exception& err) {
      throw IoError("cannot read checkpoint " + path + ": " + name + ": " + reason(err));
    }
    const auto sum = sums.find(name);
    if (!found) {
      if (sum != sums.end()) throw DamagedCheckpointError(damaged(path, "entry " + name));
      continue;
    }
    if (!t.defined() || t.scalar_type() != torch::kUInt8 || t.dim() != 1 || !storage_covers(t) ||
        sum == sums.end() || sum->second != hex(tensor_crc(t)))
      throw DamagedCheckpointError(damaged(path, "entry " + name));
    const torch::Tensor c = t.contiguous();
    out[name] = c.numel() == 0 ? std::string() : std::string(static_cast<const char*>(c.data_ptr()), size_t(c.numel()));
  }
  return out;
}

void load_checkpoint(QuantModel& model, const std::string& path) {
  // Tensor shapes alone do not tell a 3-bit from a 4-bit network: compare the graphs.
  const std::string diff = network_difference(read_checkpoint_project(path), model->project());
  if (!diff.empty())
    throw ConfigError("the checkpoint " + path + " was trained on a different network (" + diff +
                      "); open the project it was saved from");
  auto ar = open_archive(path);
  const auto sums = read_checksums(ar, path);
  const auto entries = model_tensors(model);
  // Read and check everything first so a failed load leaves the model untouched.
  std::vector<torch::Tensor> values;
  values.reserve(entries.size());
  for (const auto& e : entries) {
    torch::Tensor t;  // must be undefined: try_read into a defined tensor reinterprets storage
    bool found = false;
    try {
      found = ar.try_read(e.name, t, e.buffer);
    } catch (const std::exception& err) {
      throw IoError("cannot read checkpoint " + path + ": " + e.name + ": " + reason(err));
    }
    if (found && !storage_covers(t))
      throw DamagedCheckpointError("checkpoint " + path + " is damaged: tensor " + e.name +
                                   " has less data than its shape needs (a disk or copy error; use another copy)");
    const auto sum = sums.find(e.name);
    if (!sums.empty() && (sum == sums.end() || !found || !t.defined() || sum->second != hex(tensor_crc(t))))
      throw DamagedCheckpointError(damaged(path, "tensor " + e.name));
    if (!found || !t.defined())
      throw ConfigError(e.name + " is missing from the checkpoint " + path + " (the model has it with shape " +
                        shape_string(e.tensor.sizes()) + ")");
    if (t.sizes() != e.tensor.sizes())
      throw ConfigError(e.name + " has shape " + shape_string(t.sizes()) + " in the checkpoint, " +
                        shape_string(e.tensor.sizes()) + " in the model");
    values.push_back(t);
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto dst = entries[i].tensor;
    dst.copy_(values[i]);
  }
}

CheckpointBytesOverride::CheckpointBytesOverride(std::string path, std::string bytes) : m_path(std::move(path)) {
  std::lock_guard<std::mutex> lock(g_override_mutex);
  g_overrides[m_path] = std::make_shared<const std::string>(std::move(bytes));
}

CheckpointBytesOverride::~CheckpointBytesOverride() {
  std::lock_guard<std::mutex> lock(g_override_mutex);
  g_overrides.erase(m_path);
}

}  // namespace qnn
