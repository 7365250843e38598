// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/data/dataset.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>
#include <fstream>
#include <limits>

#include <zlib.h>

#include "core/data/dataset_shape.h"
#include "core/data/image_folder.h"
#include "core/errors.h"

namespace qnn {
namespace {

namespace fs = std::filesystem;

using Bytes = std::vector<uint8_t>;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw DataError(path + ": " + problem);
}

bool is_gzip(const Bytes& b) { return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b; }

/// Inflates a (possibly multi-member) gzip stream held in memory.
Bytes gunzip(const Bytes& in, const std::string& path) {
  // The trailer's ISIZE (size mod 2^32 of the last member) is a good first guess;
  // deflate cannot exceed ~1032:1, which bounds a corrupt value.
  size_t guess = in.size() * 4;
  if (in.size() >= 18) {
    const uint8_t* t = in.data() + in.size() - 4;
    const size_t isize = size_t(t[0]) | size_t(t[1]) << 8 | size_t(t[2]) << 16 | size_t(t[3]) << 24;
    // A corrupt trailer must not drive a huge first allocation: the buffer doubles as needed.
    guess = std::min({isize, in.size() * 1032, size_t(256) << 20});
  }
  Bytes out;
  try {
    out.resize(std::max<size_t>(guess, 64));
  } catch (const std::bad_alloc&) {
    fail(path, "out of memory while decompressing");
  }

  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) fail(path, "cannot initialise zlib");
  size_t in_pos = 0, out_pos = 0;
  int ret = Z_OK;
  for (;;) {
    if (out_pos == out.size()) {
      try {
        out.resize(out.size() * 2);
      } catch (const std::bad_alloc&) {
        inflateEnd(&zs);
        fail(path, "out of memory while decompressing");
      }
    }
    const size_t in_chunk = std::min<size_t>(in.size() - in_pos, std::numeric_limits<uInt>::max());
    const size_t out_chunk = std::min<size_t>(out.size() - out_pos, std::numeric_limits<uInt>::max());
    zs.next_in = const_cast<Bytef*>(in.data() + in_pos);
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = out.data() + out_pos;
    zs.avail_out = static_cast<uInt>(out_chunk);
    ret = inflate(&zs, Z_NO_FLUSH);
    in_pos += in_chunk - zs.avail_in;
    out_pos += out_chunk - zs.avail_out;
    if (ret == Z_STREAM_END) {
      // Another gzip member may follow (concatenated files); trailing zeros are padding.
      const bool more = in.size() - in_pos >= 2 && in[in_pos] == 0x1f && in[in_pos + 1] == 0x8b;
      if (!more) break;
      inflateReset(&zs);
      continue;
    }
    if (ret == Z_BUF_ERROR && zs.avail_out != 0) {  // no progress with room to write: input ran out
      inflateEnd(&zs);
      fail(path, "corrupt gzip: the compressed stream is truncated");
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) {
      const std::string msg = zs.msg ? zs.msg : "error " + std::to_string(ret);
      inflateEnd(&zs);
      fail(path, "corrupt gzip: " + msg);
    }
  }
  inflateEnd(&zs);
  out.resize(out_pos);
  return out;
}

/// Reads a whole file into memory, inflating it when it starts with the gzip magic.
Bytes read_file(const std::string& path) {
  std::error_code ec;
  // A file that cannot be read at all is an IoError; one whose content is wrong, a DataError.
  if (!fs::exists(path, ec)) throw IoError(path + ": file not found");
  if (fs::is_directory(path, ec)) throw IoError(path + ": is a folder, not a file");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError(path + ": cannot open: " + std::strerror(errno));
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  f.seekg(0, std::ios::beg);
  if (size < 0) fail(path, "cannot determine the file size");
  Bytes data(static_cast<size_t>(size));
  if (size > 0 && !f.read(reinterpret_cast<char*>(data.data()), size))
    fail(path, std::string("read error: ") + std::strerror(errno));
  return is_gzip(data) ? gunzip(data, path) : data;
}

uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

/// Parses an IDX header, checks magic and sizes; returns the dimensions and the
/// offset of the data.
std::vector<int64_t> idx_header(const Bytes& b, const std::string& path, uint32_t magic,
                                const char* what) {
  if (b.size() < 4)
    fail(path, "truncated header: expected at least 4 bytes, got " + std::to_string(b.size()));
  const uint32_t m = be32(b.data());
  if (m != magic)
    fail(path, "bad magic " + hex32(m) + " (expected " + hex32(magic) + " for an IDX " + what +
                   " file)");
  const size_t ndims = magic & 0xff;
  const size_t header = 4 + 4 * ndims;
  if (b.size() < header)
    fail(path, "truncated header: expected " + std::to_string(header) + " bytes, got " +
                   std::to_string(b.size()));
  std::vector<int64_t> dims(ndims);
  uint64_t count = 1;
  for (size_t i = 0; i < ndims; ++i) {
    dims[i] = be32(b.data() + 4 + 4 * i);
    if (i > 0 && dims[i] == 0) fail(path, "bad dimensions: dimension " + std::to_string(i) + " is 0");
    constexpr uint64_t kLimit = uint64_t(1) << 40;  // checked before multiplying: no wrap-around
    if (dims[i] != 0 && count > kLimit / uint64_t(dims[i])) fail(path, "bad dimensions: too large");
    count *= uint64_t(dims[i]);
  }
  const uint64_t got = b.size() - header;
  if (got < count)
    fail(path, "truncated: expected " + std::to_string(count) + " bytes of " + what +
                   " data after the header, got " + std::to_string(got));
  if (got > count)
    fail(path, "size mismatch: expected " + std::to_string(count) + " bytes of " + what +
                   " data after the header, got " + std::to_string(got));
  return dims;
}

/// Copies `count` bytes at `offset` into a new uint8 tensor of `shape` (one copy).
torch::Tensor bytes_to_tensor(const Bytes& b, size_t offset, at::IntArrayRef shape) {
  auto t = torch::empty(shape, torch::kUInt8);
  if (t.numel() > 0) std::memcpy(t.data_ptr<uint8_t>(), b.data() + offset, size_t(t.numel()));
  return t;
}

/// canonical_dataset_name(), or a ConfigError for an unknown name.
std::string canonical_name(const std::string& name) {
  std::string n = canonical_dataset_name(name);
  if (!n.empty()) return n;
  throw ConfigError("unknown dataset '" + name + "' (known: fashion-mnist, mnist, cifar10, image-folder)");
}

/// The built-in datasets only.
std::string builtin_name(const std::string& name) {
  const std::string n = canonical_name(name);
  if (n == "image-folder")
    throw ConfigError("the image-folder dataset takes its classes and statistics from its folder: load it "
                      "with the project (its input shape)");
  return n;
}

/// [C, H - 2 pad, W - 2 pad]: the size the images of an image folder are fitted to.
std::vector<int64_t> fitted_shape(const Project& p) {
  const auto& s = p.input_shape;
  const int64_t pad = p.dataset.pad;
  if (pad < 0) throw ConfigError("dataset.pad must be 0 or more (got " + std::to_string(pad) + ")");
  if (s.size() != 3 || (s[0] != 1 && s[0] != 3))
    throw ConfigError("the image-folder dataset needs an input shape [C, H, W] with C = 1 (grayscale) or 3 (RGB)");
  if (s[1] - 2 * pad < 1 || s[2] - 2 * pad < 1)
    throw ConfigError("dataset.pad " + std::to_string(pad) + " leaves no room for the image in the " +
                      std::to_string(s[1]) + "x" + std::to_string(s[2]) + " input");
  return {s[0], s[1] - 2 * pad, s[2] - 2 * pad};
}

/// `folder/base`, or `folder/base.gz` when only that exists.
std::string find_file(const std::string& folder, const std::string& base) {
  const fs::path raw = fs::path(folder) / base;
  const fs::path gz = fs::path(folder) / (base + ".gz");
  std::error_code ec;
  if (fs::exists(raw, ec)) return raw.string();
  if (fs::exists(gz, ec)) return gz.string();
  throw IoError(raw.string() + ": file not found (neither " + base + " nor " + base +
                  ".gz is in " + folder + ")");
}

void check_labels(const torch::Tensor& labels, int64_t classes, const std::string& path) {
  if (labels.numel() == 0) return;
  const auto bad = (labels >= classes).logical_or_(labels < 0).nonzero();
  if (bad.size(0) > 0) {
    const int64_t i = bad[0][0].item<int64_t>();
    fail(path, "label " + std::to_string(labels[i].item<int64_t>()) + " at index " +
                   std::to_string(i) + " is out of range [0, " + std::to_string(classes) + ")");
  }
}

/// uint8 [N, C, H, W] -> float [N, C, H+2p, W+2p]: /255, zero pad, (x - mean) / std.
/// One pass through a per-channel lookup table of v * a + b; padded zeros become
/// (0 - mean) / std exactly as with Pad-then-Normalize.
torch::Tensor to_float(const torch::Tensor& images, int64_t pad, const std::vector<float>& mean,
                       const std::vector<float>& stdv) {
  const auto u8 = images.contiguous();
  const int64_t n = u8.size(0), c = u8.size(1), h = u8.size(2), w = u8.size(3);
  const int64_t oh = h + 2 * pad, ow = w + 2 * pad;
  auto out = torch::empty({n, c, oh, ow}, torch::kFloat32);
  std::vector<std::array<float, 256>> lut(static_cast<size_t>(c));
  std::vector<float> border(static_cast<size_t>(c));
  for (size_t ch = 0; ch < lut.size(); ++ch) {
    float a = 1.0f / 255.0f, b = 0.0f;
    if (!mean.empty()) {
      a = 1.0f / (255.0f * stdv[ch]);
      b = -mean[ch] / stdv[ch];
    }
    for (int v = 0; v < 256; ++v) lut[ch][size_t(v)] = float(v) * a + b;
    border[ch] = b;
  }
  const uint8_t* src = u8.data_ptr<uint8_t>();
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, n * c, 256, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const auto ch = static_cast<size_t>(plane % c);
      const auto& table = lut[ch];
      const float fill = border[ch];
      const uint8_t* s = src + plane * h * w;
      float* o = dst + plane * oh * ow;
      std::fill(o, o + pad * ow, fill);
      for (int64_t y = 0; y < h; ++y) {
        float* row = o + (pad + y) * ow;
        std::fill(row, row + pad, fill);
        for (int64_t x = 0; x < w; ++x) row[pad + x] = table[s[y * w + x]];
        std::fill(row + pad + w, row + ow, fill);
      }
      std::fill(o + (pad + h) * ow, o + oh * ow, fill);
    }
  });
  return out;
}

}  // namespace

torch::Tensor read_idx_images(const std::string& path) {
  const Bytes b = read_file(path);
  const auto d = idx_header(b, path, 0x00000803, "image");
  return bytes_to_tensor(b, 16, {d[0], 1, d[1], d[2]});
}

torch::Tensor read_idx_labels(const std::string& path) {
  const Bytes b = read_file(path);
  const auto d = idx_header(b, path, 0x00000801, "label");
  return bytes_to_tensor(b, 8, {d[0]}).to(torch::kInt64);
}

void read_cifar10_batches(const std::vector<std::string>& paths, torch::Tensor& images,
                          torch::Tensor& labels) {
  constexpr int64_t kRecord = 1 + 3 * 32 * 32;
  std::vector<torch::Tensor> imgs, labs;
  for (const auto& path : paths) {
    const Bytes b = read_file(path);
    if (b.empty() || b.size() % kRecord != 0) {
      const size_t want = std::max<size_t>(1, (b.size() + kRecord - 1) / kRecord) * kRecord;
      fail(path, "truncated: expected " + std::to_string(want) + " bytes (records of " +
                     std::to_string(kRecord) + " bytes), got " + std::to_string(b.size()));
    }
    const int64_t n = int64_t(b.size()) / kRecord;
    auto rec = bytes_to_tensor(b, 0, {n, kRecord});
    auto lab = rec.select(1, 0).to(torch::kInt64);
    check_labels(lab, 10, path);
    imgs.push_back(rec.narrow(1, 1, kRecord - 1).reshape({n, 3, 32, 32}));
    labs.push_back(lab);
  }
  if (imgs.empty()) {
    images = torch::empty({0, 3, 32, 32}, torch::kUInt8);
    labels = torch::empty({0}, torch::kInt64);
    return;
  }
  images = imgs.size() == 1 ? imgs[0].contiguous() : torch::cat(imgs);
  labels = labs.size() == 1 ? labs[0] : torch::cat(labs);
}

std::vector<float> dataset_mean(const std::string& name) {
  const std::string n = builtin_name(name);
  if (n == "fashion-mnist") return {0.2860f};
  if (n == "mnist") return {0.1307f};
  return {0.4914f, 0.4822f, 0.4465f};
}

std::vector<float> dataset_std(const std::string& name) {
  const std::string n = builtin_name(name);
  if (n == "fashion-mnist") return {0.3530f};
  if (n == "mnist") return {0.3081f};
  return {0.2470f, 0.2435f, 0.2616f};
}

std::vector<std::string> dataset_classes(const std::string& name) {
  const std::string n = builtin_name(name);
  if (n == "fashion-mnist")
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  if (n == "mnist") return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  return {"airplane", "automobile", "bird", "cat", "deer",
          "dog",      "frog",       "horse", "ship", "truck"};
}

Dataset load_dataset(const DatasetSpec& spec, bool train, int64_t limit) {
  const std::string name = builtin_name(spec.name);
  if (spec.pad < 0) throw ConfigError("dataset.pad must be 0 or more (got " + std::to_string(spec.pad) + ")");
  Dataset ds;
  ds.class_names = dataset_classes(name);
  const auto classes = int64_t(ds.class_names.size());
  torch::Tensor u8, labels;
  if (name == "cifar10") {
    std::vector<std::string> files;
    if (train) {
      for (int i = 1; i <= 5; ++i) {
        files.push_back(find_file(spec.path, "data_batch_" + std::to_string(i) + ".bin"));
        if (limit > 0 && int64_t(files.size()) * 10000 >= limit) break;  // enough records
      }
    } else {
      files.push_back(find_file(spec.path, "test_batch.bin"));
    }
    read_cifar10_batches(files, u8, labels);
  } else {
    const std::string prefix = train ? "train" : "t10k";
    const std::string img_path = find_file(spec.path, prefix + "-images-idx3-ubyte");
    const std::string lab_path = find_file(spec.path, prefix + "-labels-idx1-ubyte");
    u8 = read_idx_images(img_path);
    labels = read_idx_labels(lab_path);
    if (u8.size(0) != labels.size(0))
      throw DataError(img_path + " has " + std::to_string(u8.size(0)) + " images but " +
                      lab_path + " has " + std::to_string(labels.size(0)) +
                      " labels (image/label count mismatch)");
    check_labels(labels, classes, lab_path);
  }
  if (limit > 0 && limit < u8.size(0)) {
    u8 = u8.narrow(0, 0, limit);
    labels = labels.narrow(0, 0, limit).contiguous();
  }
  if (spec.normalize) {
    ds.mean = dataset_mean(name);
    ds.std = dataset_std(name);
  }
  ds.images = to_float(u8, spec.pad, ds.mean, ds.std);
  ds.labels = labels;
  return ds;
}

Dataset load_dataset(const Project& project, bool train, int64_t limit) {
  // A dataset the Input layer cannot take is refused before any file is opened.
  if (const auto mismatch = dataset_input_mismatch(project))
    throw ConfigError(mismatch->message + " (hint: " + mismatch->hint + ")");
  const DatasetSpec& spec = project.dataset;
  if (!is_image_folder_dataset(spec.name)) return load_dataset(spec, train, limit);
  const std::vector<int64_t> shape = fitted_shape(project);
  const ImageFolderLayout layout = scan_image_folder(spec);
  Dataset ds;
  ds.class_names = layout.classes;
  // The statistics need the whole training split: decode it once when they are not cached.
  const bool have_stats = !spec.normalize || cached_image_folder_statistics(spec, layout, shape);
  ImageFolderSplit split = read_image_folder(spec, layout, shape, train, train && !have_stats ? 0 : limit);
  if (spec.normalize) image_folder_statistics(spec, layout, shape, ds.mean, ds.std, train ? &split : nullptr);
  if (limit > 0 && limit < split.images.size(0)) {
    split.images = split.images.narrow(0, 0, limit);
    split.labels = split.labels.narrow(0, 0, limit).contiguous();
    split.files.resize(size_t(limit));
  }
  ds.images = to_float(split.images, spec.pad, ds.mean, ds.std);
  ds.labels = split.labels;
  ds.files = std::move(split.files);
  return ds;
}

DatasetInfo dataset_info(const Project& project) {
  const DatasetSpec& spec = project.dataset;
  DatasetInfo info;
  if (is_image_folder_dataset(spec.name)) {
    const std::vector<int64_t> shape = fitted_shape(project);
    const ImageFolderLayout layout = scan_image_folder(spec);
    info.class_names = layout.classes;
    if (spec.normalize) image_folder_statistics(spec, layout, shape, info.mean, info.std);
    return info;
  }
  info.class_names = dataset_classes(spec.name);
  if (spec.normalize) {
    info.mean = dataset_mean(spec.name);
    info.std = dataset_std(spec.name);
  }
  return info;
}

}  // namespace qnn
