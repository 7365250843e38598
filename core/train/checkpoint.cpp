// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/train/checkpoint.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>
#include <vector>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/io/atomic_file.h"
#include "core/train/checkpoint_steps.h"

namespace qnn {
namespace {

// Keys of the archive's own entries. Module tensor names never start with "qnn."
// because layer ids are identifiers without dots.
constexpr const char* kFormatKey = "qnn.format";
constexpr const char* kFormatName = "qnn-studio-checkpoint";
constexpr const char* kVersionKey = "qnn.version";
constexpr const char* kProjectKey = "qnn.project";
constexpr const char* kStepsKey = "qnn.optimizer_steps";  // optional (core/train/checkpoint_steps.h)
constexpr int64_t kVersion = 1;

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

/// Opens a checkpoint and checks its marker. Throws IoError / ConfigError.
torch::serialize::InputArchive open_archive(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw IoError("cannot read checkpoint " + path + ": file not found");
  if (std::filesystem::is_directory(path, ec))
    throw IoError("cannot read checkpoint " + path + ": it is a folder, not a file");
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(path);
  } catch (const c10::Error& e) {
    throw IoError("cannot read checkpoint " + path + ": not a readable LibTorch archive (" +
                  reason(e) + ")");
  }
  c10::IValue format, version;
  try {
    if (!ar.try_read(kFormatKey, format) || !format.isString() ||
        format.toStringRef() != kFormatName)
      throw ConfigError(path + " is not a QNN Studio checkpoint");
    if (!ar.try_read(kVersionKey, version) || !version.isInt())
      throw ConfigError(path + " is not a QNN Studio checkpoint (no format version)");
  } catch (const c10::Error& e) {
    throw IoError("cannot read checkpoint " + path + ": " + reason(e));
  }
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

void save_checkpoint(QuantModel& model, const std::string& path, int64_t optimizer_steps) {
  torch::serialize::OutputArchive ar;
  try {
    ar.write(kFormatKey, c10::IValue(std::string(kFormatName)));
    ar.write(kVersionKey, c10::IValue(kVersion));
    ar.write(kProjectKey, c10::IValue(project_to_json(model->project())));
    if (optimizer_steps >= 0) ar.write(kStepsKey, c10::IValue(optimizer_steps));
    torch::NoGradGuard no_grad;
    for (const auto& e : model_tensors(model)) ar.write(e.name, e.tensor.detach(), e.buffer);
  } catch (const c10::Error& e) {
    throw IoError("cannot write checkpoint " + path + ": " + reason(e));
  }

  replace_file_atomically(path, "checkpoint", [&](const std::string& tmp) {
    try {
      ar.save_to(tmp);
    } catch (const c10::Error& e) {
      throw IoError(reason(e));
    }
  });
}

Project read_checkpoint_project(const std::string& path) {
  auto ar = open_archive(path);
  c10::IValue text;
  try {
    if (!ar.try_read(kProjectKey, text) || !text.isString())
      throw ConfigError(path + " is not a QNN Studio checkpoint (no project)");
  } catch (const c10::Error& e) {
    throw IoError("cannot read checkpoint " + path + ": " + reason(e));
  }
  return project_from_json(text.toStringRef(), path);
}

int64_t read_checkpoint_optimizer_steps(const std::string& path) {
  auto ar = open_archive(path);
  c10::IValue steps;
  try {
    if (!ar.try_read(kStepsKey, steps) || !steps.isInt()) return -1;
  } catch (const c10::Error& e) {
    throw IoError("cannot read checkpoint " + path + ": " + reason(e));
  }
  return steps.toInt();
}

void load_checkpoint(QuantModel& model, const std::string& path) {
  // Tensor shapes alone do not tell a 3-bit from a 4-bit network: compare the graphs.
  const std::string diff = network_difference(read_checkpoint_project(path), model->project());
  if (!diff.empty())
    throw ConfigError("the checkpoint " + path + " was trained on a different network (" + diff +
                      "); open the project it was saved from");
  auto ar = open_archive(path);
  const auto entries = model_tensors(model);
  // Read and check everything first so a failed load leaves the model untouched.
  std::vector<torch::Tensor> values;
  values.reserve(entries.size());
  for (const auto& e : entries) {
    torch::Tensor t;  // must be undefined: try_read into a defined tensor reinterprets storage
    bool found = false;
    try {
      found = ar.try_read(e.name, t, e.buffer);
    } catch (const c10::Error& err) {
      throw IoError("cannot read checkpoint " + path + ": " + e.name + ": " + reason(err));
    }
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

}  // namespace qnn
