// SPDX-License-Identifier: GPL-3.0-or-later
// Image classification datasets held in memory: IDX (MNIST / Fashion-MNIST, raw or
// gzip), CIFAR-10 binary batches and folders of PNG/JPEG images (core/data/image_folder.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/graph/project.h"

namespace qnn {

struct Dataset {
  torch::Tensor images;  ///< [N, C, H, W] float32, padded and normalised as loaded
  torch::Tensor labels;  ///< [N] int64 in [0, classes)
  std::vector<std::string> class_names;
  std::vector<float> mean, std;  ///< per-channel normalisation applied (empty: none)
  std::vector<std::string> files;  ///< image-folder: each sample's file, relative to the folder (else empty)
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

/// Reads an IDX image file (magic 0x00000803, uint8 [N, rows, cols]); gzip when the
/// file starts with the gzip magic. Returns uint8 [N, 1, rows, cols].
/// Throws IoError naming the file when it is missing or unreadable, DataError naming
/// the file when its content is wrong: bad magic, truncated, bad dimensions, corrupt gzip.
torch::Tensor read_idx_images(const std::string& path);
/// Reads an IDX label file (magic 0x00000801, uint8 [N]); returns int64 [N].
torch::Tensor read_idx_labels(const std::string& path);

/// Reads CIFAR-10 binary batches (records of 1 label byte + 3072 pixel bytes).
/// Returns images uint8 [N, 3, 32, 32] and labels int64 [N]. Throws IoError (missing or
/// unreadable file) or DataError (corrupt content).
void read_cifar10_batches(const std::vector<std::string>& paths, torch::Tensor& images,
                          torch::Tensor& labels);

/// Loads the train (`train` = true) or test split named by `spec`:
///  - "fashion-mnist" / "mnist": {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] in spec.path;
///  - "cifar10": data_batch_1..5.bin / test_batch.bin in spec.path.
/// Pixels are scaled to [0, 1], zero-padded by spec.pad on each side, then normalised
/// with the dataset's fixed per-channel mean/std when spec.normalize.
/// `limit` > 0 keeps only the first `limit` samples.
/// Throws IoError (a file missing or unreadable), DataError (corrupt data, image/label
/// count mismatch) or ConfigError (unknown name).
/// "image-folder" needs the input shape: use the Project overload (ConfigError here).
Dataset load_dataset(const DatasetSpec& spec, bool train, int64_t limit = 0);

/// Loads the split of `project.dataset` for `project`'s network: the datasets above as
/// load_dataset(spec, ...), and "image-folder" (core/data/image_folder.h): every image
/// decoded, converted to input_shape[0] channels (1 or 3), fitted (spec.fit) to the
/// input H x W minus 2 * spec.pad, then like the others scaled to [0, 1], zero-padded
/// by spec.pad and normalised with the per-channel mean/std of the training split
/// (image_folder_statistics). Throws as above; DataError naming the file for a bad
/// image, ConfigError for an input shape that is not [1 or 3, H, W].
Dataset load_dataset(const Project& project, bool train, int64_t limit = 0);

/// What load_dataset(project, ...) yields besides the tensors: the class names and
/// the normalisation (mean/std empty when !normalize). For "image-folder" the folder
/// is scanned and the statistics computed (cached): throws as load_dataset.
struct DatasetInfo {
  std::vector<std::string> class_names;
  std::vector<float> mean, std;
};
DatasetInfo dataset_info(const Project& project);

/// Fixed statistics and class names of the built-in datasets (ConfigError for an unknown
/// name and for "image-folder", whose classes and statistics come from its folder).
std::vector<float> dataset_mean(const std::string& name);
std::vector<float> dataset_std(const std::string& name);
std::vector<std::string> dataset_classes(const std::string& name);

}  // namespace qnn
