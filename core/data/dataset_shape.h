// SPDX-License-Identifier: GPL-3.0-or-later
// What shape of sample a project's dataset gives, known without reading a file, and
// the check that the network's Input layer takes it. Pure core (no tensors, no Qt).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/graph/project.h"
#include "core/graph/validate.h"

namespace qnn {

/// The canonical spelling of dataset `name`: "fashion-mnist", "mnist", "cifar10" or
/// "image-folder", matched case-insensitively and ignoring '-', '_' and ' ' (as
/// load_dataset reads dataset names: "Fashion_MNIST" -> "fashion-mnist"); "" for a name
/// no build knows. Throws nothing.
std::string canonical_dataset_name(const std::string& name);

/// [C, H, W] of one image of the built-in dataset `name` as stored, before padding:
/// [1, 28, 28] for "fashion-mnist" and "mnist", [3, 32, 32] for "cifar10". Empty for
/// "image-folder" (its images are fitted to the Input layer) and for unknown names.
std::vector<int64_t> dataset_image_shape(const std::string& name);

/// [C, H + 2 * pad, W + 2 * pad]: the shape of one sample load_dataset() yields for
/// `spec` (zero padding of spec.pad pixels on each side). Empty when
/// dataset_image_shape() is, or when spec.pad is negative.
std::vector<int64_t> dataset_sample_shape(const DatasetSpec& spec);

/// The error when the Input layer of `project` (its input_shape) cannot take the
/// samples of its built-in dataset: another channel count, or another size after
/// padding (e.g. Input [3, 32, 32] with Fashion-MNIST [1, 28, 28] padded by 2, or
/// Input [1, 32, 32] with Fashion-MNIST and pad 0). The message names the Input layer,
/// the dataset, both shapes and the padding; the hint gives the fix (the pad or the
/// Input shape that fits). Diagnostic node: the Input layer's id ("dataset" when the
/// graph has none); code "dataset-input". Reads no file: `qnn validate` reports it,
/// and load_dataset(project, ...) throws it as a ConfigError before opening any file
/// (so `qnn train`, the GUI's training and every other reader refuse it first). nullopt when the shapes match or the dataset's shape is not known
/// without reading it (image-folder, an unknown name or a negative pad, which
/// validate() reports).
std::optional<Diagnostic> dataset_input_mismatch(const Project& project);

}  // namespace qnn
