// SPDX-License-Identifier: GPL-3.0-or-later
// The "image-folder" dataset: a user's own PNG and JPEG files, one subfolder per class,
// decoded with stb_image and fitted to the project's input (Debian's libstb).
//
// Layout (DatasetSpec::path):
//  - `path/<class>/...` : one folder per class; the test set is a deterministic share
//    of each class (DatasetSpec::test_fraction, see split_rank());
//  - `path/train/<class>/...` and `path/test/<class>/...` : exactly these two folders
//    (and no other) give the split; test/ may lack classes but has none of its own.
// Class names are the folder names sorted by byte value (Python's sorted(), as
// torchvision's ImageFolder); the label is the index in that list. Every file below a
// class folder (subfolders included) must be a PNG or JPEG image; names starting with
// '.' are ignored everywhere; other files beside the class folders are ignored, except
// images there, which are an error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/graph/project.h"

namespace qnn {

/// The files of an image folder, as found on disk (not decoded).
struct ImageFolderLayout {
  std::vector<std::string> classes;  ///< sorted class folder names
  bool split_folders = false;        ///< train/ and test/ subfolders give the split
  /// Relative paths ("cat/a.png", or "train/cat/a.png" with split folders, '/'
  /// separated) and labels of each split, in sample order: ascending split_rank()
  /// of the path below the class's parent folder, then by path. A fixed mix of the
  /// classes, so a sample limit takes some of each.
  std::vector<std::string> train_files, test_files;
  std::vector<int64_t> train_labels, test_labels;
  /// A digest of the training files' names, sizes and modification times (cache key).
  std::string train_fingerprint;
};

/// FNV-1a 64-bit hash of `name` (e.g. "cat/img3.png"): the order of the samples and,
/// without split folders, the held-out test images: in each class of n images the
/// round(n * test_fraction) with the smallest (hash, name) are the test set (at most
/// n - 1, so each class keeps a training image). Stable from run to run and machine
/// to machine; independent of file dates and directory order.
uint64_t split_rank(const std::string& name);

/// Scans spec.path (see the layout above). Throws IoError when the folder does not
/// exist or cannot be listed, DataError naming the folder or file for: no class
/// folders, an empty class folder, an image outside the class folders, a test/ class
/// that train/ lacks, train/ and test/ beside other folders; ConfigError for a
/// test_fraction outside (0, 1).
ImageFolderLayout scan_image_folder(const DatasetSpec& spec);

/// Decodes one PNG or JPEG file (by content, not by extension) into uint8 [C, H, W]
/// with C = `channels` (1 or 3): stb_image's conversions (RGB -> gray is
/// (77 R + 150 G + 29 B) >> 8, gray -> RGB repeats the value, alpha is dropped,
/// 16-bit PNG keeps the high byte). Throws DataError naming `path`: unreadable, empty,
/// not a PNG or JPEG (naming the format when it is a common one), a JPEG without its
/// end marker (truncated), or stb_image's own failure, explained.
torch::Tensor decode_image(const std::string& path, int channels);

/// Fits uint8 [C, h, w] to [C, height, width]: "resize" stretches it with stb_image_resize's
/// triangle filter (bilinear when enlarging; a tent as wide as the source pixels of an
/// output pixel when shrinking; edges clamped; linear colour space, rounded to uint8),
/// "pad" centres it on zeros (offset floor((height - h) / 2), the same for w), "none"
/// keeps it. Throws DataError naming `path` when "pad" gets a larger image or "none"
/// an image of another size; ConfigError for an unknown `fit`.
torch::Tensor fit_image(const torch::Tensor& image, int64_t height, int64_t width, const std::string& fit,
                        const std::string& path);

/// One split decoded and fitted.
struct ImageFolderSplit {
  torch::Tensor images;  ///< uint8 [N, C, H, W]
  torch::Tensor labels;  ///< int64 [N]
  std::vector<std::string> files;  ///< relative paths, as in ImageFolderLayout
  /// Per-channel sums of the pixel values in [0, 1] and of their squares over the
  /// images' own pixels (after resizing; the black border of "pad" excluded), and
  /// the count of pixels per channel.
  std::vector<double> sum, sum_sq;
  double pixels = 0.0;
};

/// Decodes the train (`train` = true) or test files of `layout` and fits them to
/// `shape` = [C, H, W] (C 1 or 3). `limit` > 0 decodes only the first `limit` samples.
/// Files are decoded in parallel; the error of the first bad file in sample order is
/// thrown (DataError naming it, plus how many other files failed).
ImageFolderSplit read_image_folder(const DatasetSpec& spec, const ImageFolderLayout& layout,
                                   const std::vector<int64_t>& shape, bool train, int64_t limit = 0);

/// Per-channel mean and (population) standard deviation of the training split's
/// pixels in [0, 1], as fitted to `shape` (the black border of "pad" excluded); a
/// channel with std 0 gets std 1. Cached per folder, settings and training file
/// fingerprint, so the test set of a run does not decode the training set again.
/// `full_train`: the whole training split when the caller has decoded it already.
void image_folder_statistics(const DatasetSpec& spec, const ImageFolderLayout& layout,
                             const std::vector<int64_t>& shape, std::vector<float>& mean,
                             std::vector<float>& stdev, const ImageFolderSplit* full_train = nullptr);
/// Whether image_folder_statistics() has these statistics cached.
bool cached_image_folder_statistics(const DatasetSpec& spec, const ImageFolderLayout& layout,
                                    const std::vector<int64_t>& shape);
/// Mean and std from a split's sums (the formula above).
void statistics_of(const ImageFolderSplit& split, std::vector<float>& mean, std::vector<float>& stdev);

}  // namespace qnn
