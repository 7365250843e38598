// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#include "core/errors.h"

namespace qnn {
namespace {

namespace fs = std::filesystem;

/// Interleaved 8-bit pixels [h, w, c] (stb's layout).
struct Pixels {
  int64_t h = 0, w = 0, c = 0;
  std::vector<uint8_t> data;
};

constexpr int64_t kMaxPixels = int64_t(1) << 26;  // 67 M pixels: a photo is far below

bool hidden(const fs::path& p) {
  const std::string n = p.filename().string();
  return !n.empty() && n[0] == '.';
}

bool image_extension(const fs::path& p) {
  std::string e = p.extension().string();
  for (char& ch : e) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return e == ".png" || e == ".jpg" || e == ".jpeg";
}

std::string shown(const fs::path& p) { return p.generic_string(); }

/// A file below a class folder.
struct Entry {
  std::string rel;  ///< relative to the dataset folder
  std::string key;  ///< "<class>/<path in the class folder>": split_rank()'s input
  uint64_t rank = 0;
  int64_t label = 0;
  uintmax_t size = 0;
  int64_t mtime = 0;
  bool operator<(const Entry& o) const { return rank != o.rank ? rank < o.rank : key < o.key; }
};

/// Non-hidden subfolders of `dir`, sorted; an image file directly in `dir` is an error.
std::vector<std::string> subfolders(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw IoError(shown(dir) + ": cannot list the folder: " + ec.message());
  for (const fs::directory_entry& e : it) {
    if (hidden(e.path())) continue;
    if (e.is_directory(ec)) {
      out.push_back(e.path().filename().string());
    } else if (image_extension(e.path())) {
      throw DataError(shown(e.path()) + ": an image outside the class folders; put each image into the folder "
                      "of its class (" + shown(dir) + "/<class>/), or remove it");
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Every non-hidden file below `dir` (recursively), as entries of `label`.
void collect_class(const fs::path& root, const fs::path& dir, const std::string& class_name, int64_t label,
                   std::vector<Entry>& out) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec);
  if (ec) throw IoError(shown(dir) + ": cannot list the class folder: " + ec.message());
  const size_t before = out.size();
  for (auto i = fs::begin(it); i != fs::end(it); i.increment(ec)) {
    if (ec) throw IoError(shown(dir) + ": cannot list the class folder: " + ec.message());
    const fs::directory_entry& e = *i;
    if (hidden(e.path())) {
      if (e.is_directory(ec)) i.disable_recursion_pending();
      continue;
    }
    if (e.is_directory(ec)) continue;
    if (!e.is_regular_file(ec))
      throw DataError(shown(e.path()) + ": not a regular file (a broken link?); the class folders must hold "
                      "only PNG or JPEG images");
    Entry en;
    en.rel = fs::relative(e.path(), root).generic_string();
    en.key = class_name + "/" + fs::relative(e.path(), dir).generic_string();
    en.rank = split_rank(en.key);
    en.label = label;
    en.size = e.file_size(ec);
    const auto t = e.last_write_time(ec);
    en.mtime = ec ? 0 : int64_t(t.time_since_epoch().count());
    out.push_back(std::move(en));
  }
  if (out.size() == before)
    throw DataError(shown(dir) + ": the class folder '" + class_name +
                    "' has no images; every class needs at least one PNG or JPEG file (remove the folder "
                    "if the class is not wanted)");
}

std::string fnv_hex(const std::string& s) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(split_rank(s)));
  return buf;
}

bool is_png(const std::vector<uint8_t>& b) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return b.size() >= 8 && std::memcmp(b.data(), sig, 8) == 0;
}
bool is_jpeg(const std::vector<uint8_t>& b) { return b.size() >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff; }

/// What a file that is neither PNG nor JPEG looks like, for the message.
std::string looks_like(const std::vector<uint8_t>& b) {
  auto starts = [&](const char* s) {
    const size_t n = std::strlen(s);
    return b.size() >= n && std::memcmp(b.data(), s, n) == 0;
  };
  if (starts("BM")) return " (it looks like a BMP image)";
  if (starts("GIF8")) return " (it looks like a GIF image)";
  if (starts("RIFF") && b.size() >= 12 && std::memcmp(b.data() + 8, "WEBP", 4) == 0)
    return " (it looks like a WebP image)";
  if (starts("II*") || starts("MM")) return " (it looks like a TIFF image)";
  if (b.size() >= 12 && std::memcmp(b.data() + 4, "ftyp", 4) == 0) return " (it looks like a HEIC/AVIF image)";
  if (starts("P5") || starts("P6")) return " (it looks like a PGM/PPM image)";
  char buf[64];
  std::string hex;
  for (size_t i = 0; i < std::min<size_t>(4, b.size()); ++i) {
    std::snprintf(buf, sizeof buf, "%s%02X", i ? " " : "", b[i]);
    hex += buf;
  }
  return " (it starts with the bytes " + hex + ")";
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw DataError(path + ": cannot read the image: " + std::strerror(errno));
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw DataError(path + ": read error: " + std::strerror(errno));
  return b;
}

Pixels decode_pixels(const std::string& path, int channels) {
  const std::vector<uint8_t> b = read_bytes(path);
  if (b.empty()) throw DataError(path + ": empty file (0 bytes); not a PNG or JPEG image");
  const bool png = is_png(b), jpeg = is_jpeg(b);
  if (!png && !jpeg)
    throw DataError(path + ": not a PNG or JPEG image" + looks_like(b) +
                    "; only PNG and JPEG files are read: convert it or remove it");
  const char* kind = png ? "PNG" : "JPEG";
  if (jpeg) {  // stb_image fills a truncated JPEG with grey instead of failing
    size_t end = b.size();
    while (end > 0 && (b[end - 1] == 0 || b[end - 1] == '\n' || b[end - 1] == '\r' || b[end - 1] == ' ')) --end;
    if (end < 4 || b[end - 2] != 0xff || b[end - 1] != 0xd9)
      throw DataError(path + ": truncated JPEG: the end-of-image marker (FF D9) is missing at the end of the "
                      "file; re-save or remove it");
  }
  if (b.size() > size_t(std::numeric_limits<int>::max()))
    throw DataError(path + ": the file is too large (over 2 GiB) for an image");
  int w = 0, h = 0, comp = 0;
  const auto len = static_cast<int>(b.size());
  if (stbi_info_from_memory(b.data(), len, &w, &h, &comp) && int64_t(w) * int64_t(h) > kMaxPixels)
    throw DataError(path + ": the image is " + std::to_string(w) + "x" + std::to_string(h) +
                    " pixels, more than the 67 M pixels an image may have here; scale it down");
  unsigned char* px = stbi_load_from_memory(b.data(), len, &w, &h, &comp, channels);
  if (!px) {
    const char* why = stbi_failure_reason();
    throw DataError(path + ": cannot decode this " + kind + " image (stb_image: " + (why ? why : "unknown error") +
                    "): the file is corrupt or truncated, or uses a " + kind + " variant stb_image does not read" +
                    (jpeg ? " (12-bit, arithmetic-coded or lossless JPEG)" : "") +
                    "; re-save it as an 8-bit PNG or a baseline JPEG, or remove it");
  }
  Pixels p;
  p.h = h;
  p.w = w;
  p.c = channels;
  p.data.assign(px, px + size_t(h) * size_t(w) * size_t(channels));
  stbi_image_free(px);
  return p;
}

std::string size_text(int64_t w, int64_t h) { return std::to_string(w) + "x" + std::to_string(h); }

/// `in` fitted to height x width; `content` receives the pixels the statistics count
/// (the resized image, or the image itself for "pad" / "none").
Pixels fit_pixels(const Pixels& in, int64_t height, int64_t width, const std::string& fit, const std::string& path,
                  Pixels& content) {
  if (fit == "none") {
    if (in.h != height || in.w != width)
      throw DataError(path + ": the image is " + size_text(in.w, in.h) + " (width x height) but the input needs " +
                      size_text(width, height) + " (fit \"none\"); resize the file or set the dataset's fit to "
                      "\"resize\" or \"pad\"");
    content = in;
    return in;
  }
  if (fit == "resize") {
    if (in.h == height && in.w == width) {
      content = in;
      return in;
    }
    Pixels out;
    out.h = height;
    out.w = width;
    out.c = in.c;
    out.data.resize(size_t(height * width * in.c));
    const int ok = stbir_resize_uint8_generic(in.data.data(), int(in.w), int(in.h), 0, out.data.data(), int(width),
                                              int(height), 0, int(in.c), STBIR_ALPHA_CHANNEL_NONE, 0,
                                              STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR,
                                              nullptr);
    if (!ok) throw DataError(path + ": cannot resize the image (stb_image_resize ran out of memory)");
    content = out;
    return out;
  }
  if (fit == "pad") {
    if (in.h > height || in.w > width)
      throw DataError(path + ": the image is " + size_text(in.w, in.h) + " (width x height), larger than the " +
                      size_text(width, height) + " input it is padded to (fit \"pad\"); set the dataset's fit to "
                      "\"resize\" or make the image smaller");
    Pixels out;
    out.h = height;
    out.w = width;
    out.c = in.c;
    out.data.assign(size_t(height * width * in.c), 0);
    const int64_t top = (height - in.h) / 2, left = (width - in.w) / 2;
    for (int64_t y = 0; y < in.h; ++y)
      std::memcpy(out.data.data() + ((top + y) * width + left) * in.c, in.data.data() + y * in.w * in.c,
                  size_t(in.w * in.c));
    content = in;
    return out;
  }
  throw ConfigError("dataset.fit: unknown fit \"" + fit + "\"; use \"resize\", \"pad\" or \"none\"");
}

void check_shape(const std::vector<int64_t>& shape) {
  if (shape.size() != 3 || (shape[0] != 1 && shape[0] != 3) || shape[1] < 1 || shape[2] < 1)
    throw ConfigError("the image-folder dataset needs an input shape [C, H, W] with C = 1 (grayscale) or 3 (RGB) "
                      "and H, W at least 1 after the dataset's padding");
}

std::mutex g_stats_mutex;
std::map<std::string, std::pair<std::vector<float>, std::vector<float>>> g_stats;

std::string stats_key(const DatasetSpec& spec, const ImageFolderLayout& layout, const std::vector<int64_t>& shape) {
  std::error_code ec;
  const fs::path abs = fs::absolute(spec.path, ec);
  char frac[32];
  std::snprintf(frac, sizeof frac, "%.17g", spec.test_fraction);
  return (ec ? spec.path : abs.lexically_normal().string()) + "|" + spec.fit + "|" + frac + "|" +
         std::to_string(shape[0]) + "x" + std::to_string(shape[1]) + "x" + std::to_string(shape[2]) + "|" +
         layout.train_fingerprint;
}

}  // namespace

uint64_t split_rank(const std::string& name) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64-bit offset basis
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;  // FNV prime
  }
  return h;
}

ImageFolderLayout scan_image_folder(const DatasetSpec& spec) {
  if (!(spec.test_fraction > 0.0 && spec.test_fraction < 1.0))
    throw ConfigError("dataset.test_fraction must be between 0 and 1 (exclusive), got " +
                      std::to_string(spec.test_fraction));
  const fs::path root(spec.path);
  std::error_code ec;
  if (!fs::exists(root, ec)) throw IoError(spec.path + ": dataset folder not found");
  if (!fs::is_directory(root, ec)) throw IoError(spec.path + ": is a file, not a folder of class folders");
  ImageFolderLayout layout;
  const std::vector<std::string> top = subfolders(root);
  const bool has_train = std::count(top.begin(), top.end(), "train") > 0;
  const bool has_test = std::count(top.begin(), top.end(), "test") > 0;
  if (has_train && has_test && top.size() > 2) {
    std::string others;
    for (const std::string& t : top)
      if (t != "train" && t != "test") others += (others.empty() ? "" : ", ") + t;
    throw DataError(spec.path + ": has train/ and test/ folders beside other folders (" + others +
                    "); use either only train/ and test/ (each with one folder per class) or one folder per class");
  }
  layout.split_folders = has_train && has_test;
  std::vector<Entry> train, test;
  if (layout.split_folders) {
    layout.classes = subfolders(root / "train");
    if (layout.classes.empty())
      throw DataError(shown(root / "train") + ": no class folders (expected one subfolder per class, e.g. cat/ "
                      "and dog/, each holding PNG or JPEG images)");
    for (size_t c = 0; c < layout.classes.size(); ++c)
      collect_class(root, root / "train" / layout.classes[c], layout.classes[c], int64_t(c), train);
    const std::vector<std::string> test_classes = subfolders(root / "test");
    if (test_classes.empty())
      throw DataError(shown(root / "test") + ": no class folders (expected the class folders of train/)");
    for (const std::string& name : test_classes) {
      const auto it = std::find(layout.classes.begin(), layout.classes.end(), name);
      if (it == layout.classes.end())
        throw DataError(shown(root / "test" / name) + ": the class '" + name +
                        "' has no folder in train/; the test set can only hold classes the network is trained on");
      collect_class(root, root / "test" / name, name, int64_t(it - layout.classes.begin()), test);
    }
  } else {
    layout.classes = top;
    if (layout.classes.empty())
      throw DataError(spec.path + ": no class folders (expected one subfolder per class, e.g. cat/ and dog/, "
                      "each holding PNG or JPEG images, or train/ and test/ folders holding those)");
    for (size_t c = 0; c < layout.classes.size(); ++c) {
      std::vector<Entry> files;
      collect_class(root, root / layout.classes[c], layout.classes[c], int64_t(c), files);
      std::sort(files.begin(), files.end());
      const auto n = int64_t(files.size());
      const int64_t k = std::min<int64_t>(std::llround(double(n) * spec.test_fraction), n - 1);
      test.insert(test.end(), files.begin(), files.begin() + k);
      train.insert(train.end(), files.begin() + k, files.end());
    }
  }
  std::sort(train.begin(), train.end());
  std::sort(test.begin(), test.end());
  std::string digest;
  for (const Entry& e : train) {
    layout.train_files.push_back(e.rel);
    layout.train_labels.push_back(e.label);
    digest += e.rel + '\n' + std::to_string(e.size) + ' ' + std::to_string(e.mtime) + '\n';
  }
  for (const Entry& e : test) {
    layout.test_files.push_back(e.rel);
    layout.test_labels.push_back(e.label);
  }
  layout.train_fingerprint = std::to_string(train.size()) + ":" + fnv_hex(digest);
  return layout;
}

torch::Tensor decode_image(const std::string& path, int channels) {
  if (channels != 1 && channels != 3) throw ConfigError("decode_image: channels must be 1 or 3");
  const Pixels p = decode_pixels(path, channels);
  return torch::from_blob(const_cast<uint8_t*>(p.data.data()), {p.h, p.w, p.c}, torch::kUInt8)
      .permute({2, 0, 1})
      .clone(at::MemoryFormat::Contiguous);  // a copy even when C = 1 (the permute is then a view)
}

torch::Tensor fit_image(const torch::Tensor& image, int64_t height, int64_t width, const std::string& fit,
                        const std::string& path) {
  TORCH_CHECK(image.dim() == 3 && image.scalar_type() == torch::kUInt8, "fit_image: expected uint8 [C, H, W]");
  const auto hwc = image.permute({1, 2, 0}).contiguous();
  Pixels in;
  in.c = image.size(0);
  in.h = image.size(1);
  in.w = image.size(2);
  in.data.assign(hwc.data_ptr<uint8_t>(), hwc.data_ptr<uint8_t>() + hwc.numel());
  Pixels content;
  const Pixels out = fit_pixels(in, height, width, fit, path, content);
  return torch::from_blob(const_cast<uint8_t*>(out.data.data()), {out.h, out.w, out.c}, torch::kUInt8)
      .permute({2, 0, 1})
      .clone(at::MemoryFormat::Contiguous);  // a copy even when C = 1 (the permute is then a view)
}

ImageFolderSplit read_image_folder(const DatasetSpec& spec, const ImageFolderLayout& layout,
                                   const std::vector<int64_t>& shape, bool train, int64_t limit) {
  check_shape(shape);
  if (std::find(kDatasetFits.begin(), kDatasetFits.end(), spec.fit) == kDatasetFits.end())
    throw ConfigError("dataset.fit: unknown fit \"" + spec.fit + "\"; use \"resize\", \"pad\" or \"none\"");
  const auto& files = train ? layout.train_files : layout.test_files;
  const auto& labels = train ? layout.train_labels : layout.test_labels;
  int64_t n = int64_t(files.size());
  if (limit > 0) n = std::min(n, limit);
  const int64_t c = shape[0], h = shape[1], w = shape[2];
  ImageFolderSplit s;
  s.images = torch::empty({n, c, h, w}, torch::kUInt8);
  s.labels = torch::empty({n}, torch::kInt64);
  if (n > 0) std::memcpy(s.labels.data_ptr<int64_t>(), labels.data(), size_t(n) * sizeof(int64_t));
  s.files.assign(files.begin(), files.begin() + n);
  std::vector<std::string> errors(static_cast<size_t>(n));
  std::vector<double> sums(size_t(n * c * 2), 0.0), counts(size_t(n), 0.0);
  uint8_t* dst = s.images.data_ptr<uint8_t>();
  const fs::path root(spec.path);
  at::parallel_for(0, n, 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const std::string path = (root / files[size_t(i)]).generic_string();
      try {
        Pixels content;
        const Pixels out = fit_pixels(decode_pixels(path, int(c)), h, w, spec.fit, path, content);
        uint8_t* o = dst + i * c * h * w;
        for (int64_t ch = 0; ch < c; ++ch)
          for (int64_t p = 0; p < h * w; ++p) o[ch * h * w + p] = out.data[size_t(p * c + ch)];
        const int64_t pixels = content.h * content.w;
        for (int64_t ch = 0; ch < c; ++ch) {
          double sum = 0.0, sq = 0.0;
          for (int64_t p = 0; p < pixels; ++p) {
            const double v = content.data[size_t(p * c + ch)] / 255.0;
            sum += v;
            sq += v * v;
          }
          sums[size_t((i * c + ch) * 2)] = sum;
          sums[size_t((i * c + ch) * 2 + 1)] = sq;
        }
        counts[size_t(i)] = double(pixels);
      } catch (const std::exception& e) {
        errors[size_t(i)] = e.what();
      }
    }
  });
  int64_t bad = 0;
  std::string first;
  for (const std::string& e : errors)
    if (!e.empty() && bad++ == 0) first = e;
  if (bad > 0)
    throw DataError(first + (bad > 1 ? " (and " + std::to_string(bad - 1) + " more file" + (bad > 2 ? "s" : "") +
                                           " of the " + (train ? "training" : "test") + " set with problems)"
                                     : std::string()));
  s.sum.assign(size_t(c), 0.0);
  s.sum_sq.assign(size_t(c), 0.0);
  for (int64_t i = 0; i < n; ++i) {  // in sample order: the same sums on every run
    for (int64_t ch = 0; ch < c; ++ch) {
      s.sum[size_t(ch)] += sums[size_t((i * c + ch) * 2)];
      s.sum_sq[size_t(ch)] += sums[size_t((i * c + ch) * 2 + 1)];
    }
    s.pixels += counts[size_t(i)];
  }
  return s;
}

void statistics_of(const ImageFolderSplit& split, std::vector<float>& mean, std::vector<float>& stdev) {
  mean.assign(split.sum.size(), 0.0f);
  stdev.assign(split.sum.size(), 1.0f);
  if (split.pixels <= 0.0) return;
  for (size_t ch = 0; ch < split.sum.size(); ++ch) {
    const double m = split.sum[ch] / split.pixels;
    const double var = std::max(0.0, split.sum_sq[ch] / split.pixels - m * m);
    mean[ch] = float(m);
    const double sd = std::sqrt(var);
    stdev[ch] = sd > 1e-12 ? float(sd) : 1.0f;
  }
}

void image_folder_statistics(const DatasetSpec& spec, const ImageFolderLayout& layout,
                             const std::vector<int64_t>& shape, std::vector<float>& mean,
                             std::vector<float>& stdev, const ImageFolderSplit* full_train) {
  check_shape(shape);
  const std::string key = stats_key(spec, layout, shape);
  {
    const std::lock_guard<std::mutex> lock(g_stats_mutex);
    const auto it = g_stats.find(key);
    if (it != g_stats.end()) {
      mean = it->second.first;
      stdev = it->second.second;
      return;
    }
  }
  if (full_train && int64_t(full_train->files.size()) == int64_t(layout.train_files.size())) {
    statistics_of(*full_train, mean, stdev);
  } else {
    statistics_of(read_image_folder(spec, layout, shape, true), mean, stdev);
  }
  const std::lock_guard<std::mutex> lock(g_stats_mutex);
  g_stats[key] = {mean, stdev};
}

bool cached_image_folder_statistics(const DatasetSpec& spec, const ImageFolderLayout& layout,
                                    const std::vector<int64_t>& shape) {
  const std::lock_guard<std::mutex> lock(g_stats_mutex);
  return g_stats.count(stats_key(spec, layout, shape)) > 0;
}

}  // namespace qnn
