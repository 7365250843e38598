// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/train/resume.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <limits>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <zlib.h>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/io/atomic_file.h"
#include "core/train/checkpoint.h"
#include "core/train/checkpoint_entries.h"
#include "core/train/resume_state.h"

namespace qnn {
namespace {

using json = nlohmann::ordered_json;

// Entries of a training checkpoint (checkpoint_entries.h).
constexpr const char* kTrainingKey = "qnn.training";        // JSON: position, history, settings
constexpr const char* kOptimizerKey = "qnn.optimizer";      // optimizer.save() archive bytes
constexpr const char* kShuffleRngKey = "qnn.rng.shuffle";   // at::Generator::get_state()
constexpr const char* kGlobalRngKey = "qnn.rng.global";
constexpr int kTrainingVersion = 1;

const std::vector<std::string>& entry_names() {
  static const std::vector<std::string> names{kTrainingKey, kOptimizerKey, kShuffleRngKey, kGlobalRngKey};
  return names;
}

std::string tensor_bytes(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
  return c.numel() == 0 ? std::string()
                        : std::string(static_cast<const char*>(c.data_ptr()), size_t(c.nbytes()));
}

torch::Tensor rng_tensor(const std::string& bytes) {
  auto t = torch::empty({int64_t(bytes.size())}, torch::kUInt8);
  if (!bytes.empty()) std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  return t;
}

/// rng_tensor(bytes), checked to be a CPU generator state of this LibTorch build (its
/// size is fixed), so that a resume refuses it before anything changes.
torch::Tensor rng_state(const std::string& bytes, const std::string& path, const char* entry) {
  torch::Tensor t = rng_tensor(bytes);
  try {
    auto probe = at::make_generator<at::CPUGeneratorImpl>();
    probe.set_state(t);
  } catch (const std::exception&) {
    throw DamagedCheckpointError("cannot resume from " + path + ": its entry " + entry + " (" +
                                 std::to_string(bytes.size()) +
                                 " bytes) is not a random generator state of this build");
  }
  return t;
}

/// A double as JSON: a number, or a string for NaN/Inf (JSON has none).
json number(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
}

double number_of(const json& j) {
  if (j.is_number()) return j.get<double>();
  const std::string s = j.get<std::string>();
  if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  throw std::runtime_error("bad number");
}

std::string state_json(const TrainingState& s) {
  const TrainingCheckpointInfo& i = s.info;
  json j;
  j["version"] = kTrainingVersion;
  j["epochs_done"] = i.epochs_done;
  j["batch_in_epoch"] = i.batch_in_epoch;
  j["batches_per_epoch"] = i.batches_per_epoch;
  j["global_step"] = i.global_step;
  j["epochs_planned"] = i.epochs_planned;
  j["seconds"] = number(i.seconds);
  json h = json::array();
  for (const EpochRecord& r : i.history)
    h.push_back({{"epoch", r.epoch},
                 {"train_loss", number(r.train_loss)},
                 {"train_accuracy", number(r.train_accuracy)},
                 {"test_loss", number(r.test_loss)},
                 {"test_accuracy", number(r.test_accuracy)},
                 {"seconds", number(r.seconds)}});
  j["history"] = h;
  j["epoch_loss_sum"] = number(s.epoch_loss_sum);
  j["epoch_correct"] = s.epoch_correct;
  j["epoch_seen"] = s.epoch_seen;
  j["optimizer"] = i.optimizer;
  j["learning_rate"] = number(i.learning_rate);
  j["momentum"] = number(i.momentum);
  j["weight_decay"] = number(i.weight_decay);
  j["batch_size"] = i.batch_size;
  j["seed"] = i.seed;
  j["threads"] = i.threads;
  j["dataset"] = i.dataset;
  j["train_samples"] = i.train_samples;
  j["train_labels_crc"] = s.train_labels_crc;
  j["max_batches_per_epoch"] = i.max_batches_per_epoch;
  j["world_size"] = i.world_size;
  return j.dump();
}

TrainingState state_from_json(const std::string& text, const std::string& path) {
  TrainingState s;
  TrainingCheckpointInfo& i = s.info;
  try {
    const json j = json::parse(text);
    if (j.at("version").get<int>() > kTrainingVersion)
      throw ConfigError(path + " holds training state of version " + std::to_string(j.at("version").get<int>()) +
                        "; this QNN Studio reads up to version " + std::to_string(kTrainingVersion));
    i.epochs_done = j.at("epochs_done").get<int64_t>();
    i.batch_in_epoch = j.at("batch_in_epoch").get<int64_t>();
    i.batches_per_epoch = j.at("batches_per_epoch").get<int64_t>();
    i.global_step = j.at("global_step").get<int64_t>();
    i.epochs_planned = j.at("epochs_planned").get<int64_t>();
    i.seconds = number_of(j.at("seconds"));
    for (const json& r : j.at("history")) {
      EpochRecord e;
      e.epoch = r.at("epoch").get<int64_t>();
      e.train_loss = number_of(r.at("train_loss"));
      e.train_accuracy = number_of(r.at("train_accuracy"));
      e.test_loss = number_of(r.at("test_loss"));
      e.test_accuracy = number_of(r.at("test_accuracy"));
      e.seconds = number_of(r.at("seconds"));
      i.history.push_back(e);
    }
    s.epoch_loss_sum = number_of(j.at("epoch_loss_sum"));
    s.epoch_correct = j.at("epoch_correct").get<int64_t>();
    s.epoch_seen = j.at("epoch_seen").get<int64_t>();
    i.optimizer = j.at("optimizer").get<std::string>();
    i.learning_rate = number_of(j.at("learning_rate"));
    i.momentum = number_of(j.at("momentum"));
    i.weight_decay = number_of(j.at("weight_decay"));
    i.batch_size = j.at("batch_size").get<int64_t>();
    i.seed = j.at("seed").get<uint64_t>();
    i.threads = j.at("threads").get<int>();
    i.dataset = j.at("dataset").get<std::string>();
    i.train_samples = j.at("train_samples").get<int64_t>();
    s.train_labels_crc = j.at("train_labels_crc").get<uint32_t>();
    i.max_batches_per_epoch = j.at("max_batches_per_epoch").get<int64_t>();
    i.world_size = j.contains("world_size") ? j.at("world_size").get<int64_t>() : 1;  // absent before --dist
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception&) {
    // Checksummed, so written so by some other program: not a file of this app's making.
    throw ConfigError("cannot resume from " + path + ": its training state is malformed");
  }
  if (i.epochs_done < 0 || i.batch_in_epoch < 0 || i.global_step < 0 || i.world_size < 1 ||
      int64_t(i.history.size()) != i.epochs_done ||
      (i.batches_per_epoch > 0 && i.batch_in_epoch > i.batches_per_epoch))
    throw ConfigError("cannot resume from " + path + ": its training state is inconsistent (position epoch " +
                      std::to_string(i.epochs_done) + ", batch " + std::to_string(i.batch_in_epoch) + ", " +
                      std::to_string(i.history.size()) + " epoch records)");
  return s;
}

std::string g(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

uint32_t labels_crc(const torch::Tensor& labels) {
  if (!labels.defined()) return 0;
  const torch::Tensor c = labels.detach().to(torch::kInt64).contiguous();
  uLong crc = ::crc32(0L, Z_NULL, 0);
  const auto* p = static_cast<const Bytef*>(c.data_ptr());
  size_t n = size_t(c.nbytes());
  while (n > 0) {
    const uInt chunk = uInt(std::min<size_t>(n, size_t(1) << 30));
    crc = ::crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return uint32_t(crc);
}

std::string optimizer_state_bytes(torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive ar;
  optimizer.save(ar);
  std::ostringstream out;
  ar.save_to(out);
  return out.str();
}

void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::string& bytes, const std::string& path) {
  try {
    torch::serialize::InputArchive ar;
    ar.load_from(bytes.data(), bytes.size());
    optimizer.load(ar);
  } catch (const std::exception& e) {
    std::string m = e.what();
    if (const auto* c = dynamic_cast<const c10::Error*>(&e)) m = c->what_without_backtrace();
    m = m.substr(0, m.find('\n'));
    throw DamagedCheckpointError("cannot resume from " + path + ": its optimizer state does not fit this model's "
                                 "optimizer (" + m + ")");
  }
}

void write_training_checkpoint(QuantModel& model, const TrainingState& state, const std::string& path) {
  if (path.empty()) throw IoError("cannot write the training checkpoint: no file name given");
  const std::vector<std::pair<std::string, std::string>> entries{
      {kTrainingKey, state_json(state)},
      {kOptimizerKey, state.optimizer_state},
      {kShuffleRngKey, tensor_bytes(state.shuffle_rng)},
      {kGlobalRngKey, tensor_bytes(state.global_rng)},
  };
  write_bytes_atomically(path, "training checkpoint",
                         checkpoint_bytes_with_entries(model, state.info.global_step, path, entries));
}

TrainingState read_training_state(const std::string& path) {
  const auto entries = read_checkpoint_entries(path, entry_names());
  for (const std::string& name : entry_names())
    if (!entries.count(name))
      throw ConfigError(path + " is a checkpoint of a finished model, not of a training run (it holds no optimizer "
                        "state and position to resume from)");
  TrainingState s = state_from_json(entries.at(kTrainingKey), path);
  s.optimizer_state = entries.at(kOptimizerKey);
  s.shuffle_rng = rng_state(entries.at(kShuffleRngKey), path, kShuffleRngKey);
  s.global_rng = rng_state(entries.at(kGlobalRngKey), path, kGlobalRngKey);
  return s;
}

TrainingCheckpointInfo read_training_checkpoint_info(const std::string& path) {
  return read_training_state(path).info;
}

bool is_training_checkpoint(const std::string& path) {
  try {
    read_training_state(path);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

std::string training_spec_difference(const TrainingCheckpointInfo& info, const TrainingSpec& spec) {
  if (spec.optimizer != info.optimizer)
    return "the optimizer is " + spec.optimizer + ", the checkpoint's run used " + info.optimizer;
  if (spec.learning_rate != info.learning_rate)
    return "the learning rate is " + g(spec.learning_rate) + ", the checkpoint's run used " + g(info.learning_rate);
  if (spec.optimizer == "sgd" && spec.momentum != info.momentum)
    return "the momentum is " + g(spec.momentum) + ", the checkpoint's run used " + g(info.momentum);
  if (spec.weight_decay != info.weight_decay)
    return "the weight decay is " + g(spec.weight_decay) + ", the checkpoint's run used " + g(info.weight_decay);
  if (spec.batch_size != info.batch_size)
    return "the batch size is " + std::to_string(spec.batch_size) + ", the checkpoint's run used " +
           std::to_string(info.batch_size);
  if (spec.seed != info.seed)
    return "the seed is " + std::to_string(spec.seed) + ", the checkpoint's run used " + std::to_string(info.seed);
  const int64_t need = info.epochs_done + (info.batch_in_epoch > 0 ? 1 : 0);
  if (spec.epochs < need)
    return "epochs is " + std::to_string(spec.epochs) + ", but the checkpoint already holds " +
           std::to_string(info.epochs_done) + " complete epoch(s)" +
           (info.batch_in_epoch > 0 ? " and epoch " + std::to_string(need) + " under way" : std::string()) +
           " (use " + std::to_string(need) + " or more)";
  return "";
}

std::string default_autosave_path(const std::string& checkpoint_path) {
  std::string base = checkpoint_path;
  if (base.size() > 3 && base.compare(base.size() - 3, 3, ".pt") == 0) base.resize(base.size() - 3);
  return base + ".resume.pt";
}

}  // namespace qnn
