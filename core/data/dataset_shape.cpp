// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/data/dataset_shape.h"

#include <cctype>

namespace qnn {
namespace {

std::string size_text(int64_t h, int64_t w) { return std::to_string(h) + "x" + std::to_string(w); }

/// The built-in datasets with `channels` channels, for the hint ("" when none).
std::string datasets_with(int64_t channels) {
  if (channels == 1) return "fashion-mnist or mnist";
  if (channels == 3) return "cifar10";
  return "";
}

}  // namespace

std::string canonical_dataset_name(const std::string& name) {
  std::string n;
  for (char c : name)
    if (c != '_' && c != '-' && c != ' ') n += char(std::tolower(static_cast<unsigned char>(c)));
  if (n == "fashionmnist") return "fashion-mnist";
  if (n == "mnist") return "mnist";
  if (n == "cifar10") return "cifar10";
  if (n == "imagefolder") return "image-folder";
  return "";
}

std::vector<int64_t> dataset_image_shape(const std::string& name) {
  const std::string n = canonical_dataset_name(name);
  if (n == "fashion-mnist" || n == "mnist") return {1, 28, 28};
  if (n == "cifar10") return {3, 32, 32};
  return {};
}

std::vector<int64_t> dataset_sample_shape(const DatasetSpec& spec) {
  std::vector<int64_t> s = dataset_image_shape(spec.name);
  if (s.empty() || spec.pad < 0) return {};
  s[1] += 2 * int64_t(spec.pad);
  s[2] += 2 * int64_t(spec.pad);
  return s;
}

std::optional<Diagnostic> dataset_input_mismatch(const Project& p) {
  const std::vector<int64_t> image = dataset_image_shape(p.dataset.name);
  const std::vector<int64_t> sample = dataset_sample_shape(p.dataset);
  const std::vector<int64_t>& input = p.input_shape;
  if (sample.empty() || input == sample) return std::nullopt;
  std::string input_id;
  for (const LayerSpec& l : p.layers)
    if (l.type == LayerType::Input) {
      input_id = l.id;
      break;
    }
  const std::string pad = std::to_string(p.dataset.pad);
  const std::string what = std::to_string(image[0]) + "-channel " + size_text(image[1], image[2]) + " images padded by " +
                           pad + " on each side";
  std::string message = "the Input layer" + (input_id.empty() ? std::string() : " '" + input_id + "'") +
                        " takes samples of shape " + shape_text(input) + " but the dataset " + p.dataset.name +
                        " gives " + shape_text(sample) + " (" + what + ")";
  std::string hint;
  if (input.size() != 3) {
    message += ": the Input needs a [C, H, W] shape for image data";
    hint = "set the Input shape to " + shape_text(sample) + " (a Flatten layer after it makes a vector)";
  } else {
    const bool channels = input[0] != sample[0];
    const bool size = input[1] != sample[1] || input[2] != sample[2];
    if (channels)
      message += ": " + std::to_string(input[0]) + " channel(s) in the Input, " + std::to_string(sample[0]) +
                 " in the dataset";
    if (size)
      message += std::string(channels ? " and " : ": ") + size_text(input[1], input[2]) + " in the Input, " +
                 size_text(sample[1], sample[2]) + " after padding";
    // The fix: a padding that gives the Input's size, else the Input shape that fits.
    const int64_t dh = input[1] - image[1], dw = input[2] - image[2];
    // (an Input far larger than any image, e.g. from a typo, gets no padding advice)
    constexpr int64_t kLargestPaddedSide = 4096;
    const bool pad_fits = dh >= 0 && dh == dw && dh % 2 == 0 && input[1] <= kLargestPaddedSide;
    std::vector<int64_t> fitted = sample;
    if (size && pad_fits) {
      hint = "set the dataset padding to " + std::to_string(dh / 2) + " (" + std::to_string(image[1]) + " + 2 x " +
             std::to_string(dh / 2) + " = " + std::to_string(input[1]) + ")";
      fitted = {sample[0], input[1], input[2]};
      if (channels) hint += " and ";
    }
    if (channels) {
      const std::string others = datasets_with(input[0]);
      hint += "set the Input shape to " + shape_text(fitted) + " (and the first layer's in_channels to " +
              std::to_string(sample[0]) + ")" + (others.empty() ? "" : ", or choose a " + std::to_string(input[0]) +
                                                                          "-channel dataset (" + others + ")");
    } else if (!pad_fits) {
      hint = "set the Input shape to " + shape_text(sample) + ", or the dataset padding so that " +
             std::to_string(image[1]) + " + 2 x pad matches the Input";
    } else {
      hint += ", or set the Input shape to " + shape_text(sample);
    }
  }
  return Diagnostic{Diagnostic::Severity::Error, input_id.empty() ? "dataset" : input_id, message, hint,
                    "dataset-input"};
}

}  // namespace qnn
