// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/dist/data_parallel.h"
#include "core/dist/dist_agreement.h"
#include "core/errors.h"
#include "core/graph/validate.h"
#include "core/quant/quantizers.h"
#include "core/train/checkpoint.h"
#include "core/train/resume_state.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace qnn {
namespace {

using Clock = std::chrono::steady_clock;

std::string shape_string(at::IntArrayRef s) {
  std::ostringstream o;
  o << '[';
  for (size_t i = 0; i < s.size(); ++i) o << (i ? "," : "") << s[i];
  o << ']';
  return o.str();
}

void check_spec(const TrainingSpec& s) {
  if (s.batch_size < 1)
    throw ConfigError("training.batch_size must be at least 1 (got " + std::to_string(s.batch_size) + ")");
  if (s.epochs < 0)
    throw ConfigError("training.epochs must be 0 or more (got " + std::to_string(s.epochs) + ")");
  if (!(s.learning_rate > 0.0))
    throw ConfigError("training.learning_rate must be positive (got " + std::to_string(s.learning_rate) + ")");
  if (!(s.weight_decay >= 0.0))
    throw ConfigError("training.weight_decay must be 0 or more (got " + std::to_string(s.weight_decay) + ")");
  if (s.optimizer == "sgd" && !(s.momentum >= 0.0))
    throw ConfigError("training.momentum must be 0 or more (got " + std::to_string(s.momentum) + ")");
  if (s.optimizer != "adam" && s.optimizer != "sgd")
    throw ConfigError("training.optimizer '" + s.optimizer + "' is unknown (use \"adam\" or \"sgd\")");
  if (s.threads < 0)
    throw ConfigError("training.threads must be 0 (all cores) or more (got " + std::to_string(s.threads) + ")");
}

/// Checks that a dataset is well formed and matches the model's declared input.
void check_data(const QuantModel& model, const Dataset& d, const char* which) {
  if (!d.images.defined() || !d.labels.defined() || d.images.dim() != 4 ||
      d.images.size(0) != d.labels.size(0))
    throw DataError(std::string("the ") + which + " set is malformed (images must be [N, C, H, W] "
                    "with one label per image)");
  const auto& want = model->project().input_shape;
  const auto got = d.images.sizes().slice(1);
  if (!want.empty() && std::vector<int64_t>(got.begin(), got.end()) != want)
    throw ConfigError(std::string("the model expects inputs of shape ") + shape_string(want) +
                      " but the " + which + " set has samples of shape " + shape_string(got) +
                      " (check the dataset padding and the Input layer)");
}

int64_t class_count(const Dataset& d) {
  if (!d.class_names.empty()) return int64_t(d.class_names.size());
  return d.size() > 0 ? d.labels.max().item<int64_t>() + 1 : 0;
}

void check_logits(const torch::Tensor& logits, int64_t classes, int64_t batch) {
  if (logits.dim() != 2 || logits.size(0) != batch)
    throw ConfigError("the model output must be logits [N, classes]; got shape " +
                      shape_string(logits.sizes()));
  if (logits.size(1) < classes)
    throw ConfigError("the model has " + std::to_string(logits.size(1)) + " outputs but the dataset has " +
                      std::to_string(classes) + " classes");
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(QuantModel& model, const TrainingSpec& s) {
  if (s.optimizer == "sgd")
    return std::make_unique<torch::optim::SGD>(
        model->parameters(),
        torch::optim::SGDOptions(s.learning_rate).momentum(s.momentum).weight_decay(s.weight_decay));
  return std::make_unique<torch::optim::Adam>(
      model->parameters(), torch::optim::AdamOptions(s.learning_rate).weight_decay(s.weight_decay));
}

/// A training step frees and re-allocates the same megabyte-sized activation and
/// gradient buffers every step. glibc's malloc adapts its mmap and trim thresholds at
/// run time, and depending on where they settle it hands those buffers back to the
/// kernel after every step and page-faults them in again on the next one (measured:
/// 12 vs 15 ms per LeNet step at batch 64, varying from run to run). Fixing the
/// thresholds keeps freed blocks below 32 MiB in the heap for reuse and lets the heap
/// keep up to 128 MiB of free memory instead of trimming it. Process-wide, set once;
/// numbers are unaffected.
void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
  });
#endif
}


// ---------------------------------------------------------------- numerics guard

/// True when no float32 in p[0, n) is NaN or Inf (exponent bits all ones). Branch-free,
/// so the compiler vectorises it: one pass at memory speed.
bool all_finite_f32(const float* p, int64_t n) {
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, p + i, sizeof u);
    bad |= uint32_t((u & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

bool all_finite(const torch::Tensor& t) {
  if (!t.defined() || !t.is_floating_point()) return true;
  if (t.scalar_type() == torch::kFloat32 && t.is_contiguous() && t.device().is_cpu())
    return all_finite_f32(t.data_ptr<float>(), t.numel());
  return torch::isfinite(t.detach()).all().item<bool>();
}

/// "NaN in 3 of 2400 values", "Inf in 1 of 10 values", "NaN and Inf in 5 of 8 values".
std::string non_finite_text(const torch::Tensor& t) {
  const torch::Tensor d = t.detach();
  const int64_t nan = torch::isnan(d).sum().item<int64_t>();
  const int64_t inf = torch::isinf(d).sum().item<int64_t>();
  const std::string kind = nan && inf ? "NaN and Inf" : nan ? "NaN" : "Inf";
  return kind + " in " + std::to_string(nan + inf) + " of " + std::to_string(d.numel()) + " values";
}

std::string number_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// Watches every parameter and buffer of a model during training: keeps a copy of the
/// state before each step (plain memcpy into preallocated tensors) and checks loss,
/// gradients, buffers and parameters after it. Tensors are kept in the execution order of
/// their layers, so the first one found non-finite belongs to the layer closest to the input.
class NumericsGuard {
 public:
  explicit NumericsGuard(QuantModelImpl& model) {
    std::map<std::string, size_t> rank;
    for (size_t i = 0; i < model.order().size(); ++i) rank[model.order()[i]] = i;
    const auto rank_of = [&](const std::string& name) {
      const auto it = rank.find(name.substr(0, name.find('.')));
      return it == rank.end() ? rank.size() : it->second;
    };
    for (const auto& kv : model.named_parameters(true))
      if (kv.value().defined()) m_entries.push_back({kv.key(), kv.value(), true, {}, rank_of(kv.key())});
    for (const auto& kv : model.named_buffers(true))
      if (kv.value().defined()) m_entries.push_back({kv.key(), kv.value(), false, {}, rank_of(kv.key())});
    std::stable_sort(m_entries.begin(), m_entries.end(),
                     [](const Entry& a, const Entry& b) { return a.rank < b.rank; });
    for (Entry& e : m_entries) e.backup = torch::empty_like(e.tensor, torch::MemoryFormat::Contiguous);
  }

  /// Copies the current state (before a step).
  void save() {
    for (Entry& e : m_entries) {
      if (e.tensor.is_contiguous() && e.tensor.device().is_cpu())
        std::memcpy(e.backup.data_ptr(), e.tensor.data_ptr(), size_t(e.tensor.nbytes()));
      else
        e.backup.copy_(e.tensor.detach());
    }
  }

  /// Puts the state of the last save() back.
  void restore() {
    torch::NoGradGuard no_grad;
    for (Entry& e : m_entries) e.tensor.copy_(e.backup);
  }

  /// After a step: "" when the loss, the gradients, the buffers and the parameters are
  /// all finite, else what went wrong first (no trailing period).
  std::string check(const torch::Tensor& loss) const {
    const double loss_value = loss.item<double>();
    const bool loss_ok = std::isfinite(loss_value);
    const Entry* grad = nullptr;
    for (const Entry& e : m_entries)
      if (e.parameter && e.tensor.grad().defined() && !all_finite(e.tensor.grad())) {
        grad = &e;
        break;
      }
    if (loss_ok && !grad) {
      const Entry* buffer = nullptr;
      const Entry* param = nullptr;
      for (const Entry& e : m_entries) {
        if (e.parameter || all_finite(e.tensor)) continue;
        buffer = &e;
        break;
      }
      if (buffer)
        return buffer->name + " (" + buffer_kind(buffer->name) + ") holds " + non_finite_text(buffer->tensor) +
               " after the forward pass, while the loss (" + number_text(loss_value) + ") and the gradients are finite";
      for (const Entry& e : m_entries) {
        if (!e.parameter || all_finite(e.tensor)) continue;
        param = &e;
        break;
      }
      if (!param) return "";
      return "the optimizer step made " + param->name + " non-finite (" + non_finite_text(param->tensor) +
             ") from finite gradients (loss " + number_text(loss_value) + ")";
    }
    std::string text;
    if (!loss_ok) text = "the loss is " + number_text(loss_value);
    if (grad) {
      text += text.empty() ? "the gradient of " + grad->name + " holds " + non_finite_text(grad->tensor.grad())
                           : "; the first non-finite gradient is that of " + grad->name + " (" +
                                 non_finite_text(grad->tensor.grad()) + ")";
    } else {
      for (const Entry& e : m_entries)
        if (!e.parameter && !all_finite(e.tensor)) {
          text += "; the first non-finite buffer is " + e.name + " (" + buffer_kind(e.name) + ", " +
                  non_finite_text(e.tensor) + ")";
          break;
        }
    }
    return text;
  }

 private:
  struct Entry {
    std::string name;
    torch::Tensor tensor;
    bool parameter = false;
    torch::Tensor backup;
    size_t rank = 0;
  };

  static std::string buffer_kind(const std::string& name) {
    const auto ends = [&](const char* s) {
      const size_t n = std::strlen(s);
      return name.size() >= n && name.compare(name.size() - n, n, s) == 0;
    };
    if (ends("running_mean") || ends("running_var")) return "a BatchNorm running statistic";
    if (ends("scaling_buffer") || ends("zero_point_buffer")) return "an activation quantizer statistic";
    return "a buffer";
  }

  std::vector<Entry> m_entries;
};

}  // namespace

void set_thread_count(int threads) {
  int n = threads;
  if (n <= 0) n = int(std::thread::hardware_concurrency());
  torch::set_num_threads(std::max(1, n));
}

namespace {

EvalResult run_evaluation(QuantModel& model, const Dataset& data, int64_t batch_size,
                          const std::atomic<bool>* cancel) {
  if (batch_size < 1)
    throw ConfigError("evaluation batch size must be at least 1 (got " + std::to_string(batch_size) + ")");
  keep_freed_memory_for_reuse();
  model->eval();
  torch::NoGradGuard no_grad;
  EvalResult r;
  int64_t classes = class_count(data);
  const int64_t n = data.size();
  torch::Tensor loss_sum = torch::zeros({}, torch::kFloat64);
  torch::Tensor counts;  // flattened confusion, [classes * classes] int64
  for (int64_t start = 0; start < n; start += batch_size) {
    if (cancel && cancel->load()) break;
    const int64_t len = std::min(batch_size, n - start);
    const auto x = data.images.narrow(0, start, len);
    const auto y = data.labels.narrow(0, start, len);
    const auto logits = model->forward(x);
    if (!counts.defined()) {
      check_logits(logits, classes, len);
      classes = std::max(classes, logits.size(1));  // keep predictions of extra outputs
      counts = torch::zeros({classes * classes}, torch::kInt64);
    }
    loss_sum += torch::nn::functional::cross_entropy(
        logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    const auto pred = logits.argmax(1);
    counts += torch::bincount(y * classes + pred, {}, classes * classes);
    r.samples += len;
  }
  r.confusion.assign(size_t(classes), std::vector<int64_t>(size_t(classes), 0));
  if (r.samples == 0) return r;
  const auto c = counts.contiguous();
  const int64_t* p = c.data_ptr<int64_t>();
  int64_t correct = 0;
  for (int64_t t = 0; t < classes; ++t)
    for (int64_t q = 0; q < classes; ++q) {
      r.confusion[size_t(t)][size_t(q)] = p[t * classes + q];
      if (t == q) correct += p[t * classes + q];
    }
  r.loss = loss_sum.item<double>() / double(r.samples);
  r.accuracy = double(correct) / double(r.samples);
  return r;
}

/// Batches per epoch in data-parallel training: full global batches only (every rank
/// then holds batch_size samples, so the averaged gradient is the global batch's).
int64_t dist_batches(int64_t samples, int64_t global_batch, int64_t max_batches) {
  int64_t b = samples / global_batch;
  if (max_batches > 0) b = std::min(b, max_batches);
  if (b == 0 && samples > 0)
    throw DataError("the training set holds " + std::to_string(samples) + " samples, fewer than one global batch of " +
                    std::to_string(global_batch) + " (batch size x number of ranks)");
  return b;
}

TrainResult run_training(QuantModel& model, const Dataset& train_set, const Dataset& test_set,
                         const TrainOptions& options, const ProgressFn& progress,
                         const std::atomic<bool>& cancel) {
  const TrainingSpec& spec = options.spec;
  check_spec(spec);
  check_data(model, train_set, "training");
  if (test_set.size() > 0) check_data(model, test_set, "test");
  if (train_set.size() == 0 && spec.epochs > 0) throw DataError("the training set is empty");

  set_thread_count(spec.threads);
  keep_freed_memory_for_reuse();
  torch::manual_seed(spec.seed);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(spec.seed);
  auto optimizer = make_optimizer(model, spec);
  const auto params = model->parameters();
  const int64_t classes = class_count(train_set);
  const int64_t n = train_set.size();
  const int64_t bs = spec.batch_size;
  const BatchPlan plan = plan_batches(model, n, options);
  // Data parallel (core/dist/data_parallel.h): rank r takes the r-th slice of batch_size
  // samples of every global batch of batch_size x world samples.
  DataParallel* const dp = active_data_parallel();
  const int64_t world = dp ? dp->world_size() : 1, shard = dp ? dp->rank() : 0;
  const int64_t batches = dp ? dist_batches(n, bs * world, options.max_batches_per_epoch) : plan.batches;
  const std::string& dataset_name = model->project().dataset.name;
  const uint32_t train_crc = labels_crc(train_set.labels);

  // ---- resume: everything is checked before the model changes
  TrainingState resumed;
  const bool resuming = !options.resume_path.empty();
  if (resuming) {
    const std::string& from = options.resume_path;
    resumed = read_training_state(from);
    const TrainingCheckpointInfo& i = resumed.info;
    std::string diff = training_spec_difference(i, spec);
    if (diff.empty() && dataset_name != i.dataset)
      diff = "the dataset is " + dataset_name + ", the checkpoint's run used " + i.dataset;
    if (diff.empty() && n != i.train_samples)
      diff = "the training set holds " + std::to_string(n) + " samples, the checkpoint's run had " +
             std::to_string(i.train_samples) + " (use the same train limit)";
    if (diff.empty() && train_crc != resumed.train_labels_crc)
      diff = "the training labels differ from those of the checkpoint's run (another dataset or another order)";
    if (diff.empty() && i.world_size != world) {
      const auto ranks = [](int64_t w) { return std::to_string(w) + (w == 1 ? " process" : " ranks"); };
      diff = "the checkpoint's run trained on " + ranks(i.world_size) + " (global batch " +
             std::to_string(i.batch_size * i.world_size) + "), this run on " + ranks(world) + " (global batch " +
             std::to_string(bs * world) + "); its position counts global batches and each rank trains its own " +
             "slice of them, so resume on " + ranks(i.world_size) +
             (i.world_size == 1 ? std::string(" (without --dist)")
                                : " (qnn launch --nproc " + std::to_string(i.world_size) + ")");
    }
    if (diff.empty() && (options.max_batches_per_epoch != i.max_batches_per_epoch || batches != i.batches_per_epoch))
      diff = "an epoch has " + std::to_string(batches) + " batches, the checkpoint's run had " +
             std::to_string(i.batches_per_epoch) + " (use the same max batches per epoch)";
    if (!diff.empty())
      throw ConfigError("cannot resume from " + from + ": " + diff +
                        "; resume with the same training settings and data (only epochs may change)");
    // The optimizer state first (it refuses a damaged one; the generator states were
    // checked by read_training_state), then the model, which is all or nothing.
    load_optimizer_state(*optimizer, resumed.optimizer_state, from);
    gen.set_state(resumed.shuffle_rng);
    load_checkpoint(model, from);  // checks the network first
    {
      auto global = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(global.mutex());
      global.set_state(resumed.global_rng);
    }
  }
  const double seconds_before = resuming ? resumed.info.seconds : 0.0;
  dp_broadcast_model(*model);  // rank 0's weights and buffers everywhere (no-op single-process)
  const auto grad_sync = dp_gradient_sync(params);  // averages during backward (nullptr single-process)

  const auto t0 = Clock::now();
  const auto elapsed = [&] {
    return seconds_before + std::chrono::duration<double>(Clock::now() - t0).count();
  };
  const auto interval = std::chrono::milliseconds(std::max(0, options.progress_interval_ms));
  auto last_report = t0 - interval;  // the first batch reports at once
  const auto report = [&](const TrainProgress& p) {
    if (progress) progress(p);
  };

  TrainResult result;
  if (!plan.note.empty()) result.notes.push_back(plan.note);
  TrainProgress p;
  p.epochs = spec.epochs;
  p.batches_per_epoch = batches;
  bool stale_test = true;  // the weights changed since result.test was computed
  bool checked_logits = false;
  NumericsGuard guard(*model);
  int64_t first_epoch = 1, first_batch = 0;
  if (resuming) {
    result.epochs = resumed.info.history;
    p.global_step = resumed.info.global_step;
    first_epoch = resumed.info.epochs_done + 1;
    first_batch = resumed.info.batch_in_epoch;
  }

  // ---- autosave (TrainOptions::autosave_path)
  const bool autosaving = !options.autosave_path.empty();
  const auto autosave_interval = std::chrono::duration<double>(std::max(0.0, options.autosave_minutes) * 60.0);
  auto last_save = Clock::now();
  int64_t saved_step = -1;  // global step of the last autosave written
  bool autosave_failed = false;
  torch::Tensor epoch_rng;  // the shuffling generator before this epoch's randperm
  const auto autosave = [&](int64_t epochs_done, int64_t batch_in_epoch, double loss_sum, int64_t correct,
                            int64_t seen, const torch::Tensor& shuffle_rng) {
    TrainingState st;
    TrainingCheckpointInfo& i = st.info;
    i.epochs_done = epochs_done;
    i.batch_in_epoch = batch_in_epoch;
    i.batches_per_epoch = batches;
    i.global_step = p.global_step;
    i.epochs_planned = spec.epochs;
    i.seconds = elapsed();
    i.history = result.epochs;
    i.optimizer = spec.optimizer;
    i.learning_rate = spec.learning_rate;
    i.momentum = spec.momentum;
    i.weight_decay = spec.weight_decay;
    i.batch_size = spec.batch_size;
    i.seed = spec.seed;
    i.threads = torch::get_num_threads();
    i.dataset = dataset_name;
    i.train_samples = n;
    i.max_batches_per_epoch = options.max_batches_per_epoch;
    i.world_size = world;
    st.epoch_loss_sum = loss_sum;
    st.epoch_correct = correct;
    st.epoch_seen = seen;
    st.train_labels_crc = train_crc;
    st.optimizer_state = optimizer_state_bytes(*optimizer);
    st.shuffle_rng = shuffle_rng;
    {
      auto global = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(global.mutex());
      st.global_rng = global.get_state();
    }
    try {
      write_training_checkpoint(model, st, options.autosave_path);
      saved_step = p.global_step;
    } catch (const IoError& e) {
      if (!autosave_failed)
        result.notes.push_back(std::string("autosave failed: ") + e.what() + "; training goes on without it");
      autosave_failed = true;
    }
    last_save = Clock::now();
  };
  if (autosaving && !(resuming && options.autosave_path == options.resume_path))
    autosave(first_epoch - 1, first_batch, resumed.epoch_loss_sum, resumed.epoch_correct, resumed.epoch_seen,
             resuming ? resumed.shuffle_rng : gen.get_state());
  else if (resuming)
    saved_step = p.global_step;  // the file resumed from holds this position

  for (int64_t epoch = first_epoch; epoch <= spec.epochs && !result.cancelled; ++epoch) {
    model->train();
    p.phase = TrainProgress::Phase::Training;
    p.epoch = epoch;
    p.batch = 0;
    p.train_loss = p.train_accuracy = 0.0;
    // Metrics accumulate as tensors; they are read back only when reported.
    auto loss_sum = torch::zeros({}, torch::kFloat64);
    auto correct = torch::zeros({}, torch::kInt64);
    int64_t seen = 0;
    int64_t b0 = 0;
    if (epoch == first_epoch && first_batch > 0) {  // the epoch under way when the checkpoint was written
      loss_sum.fill_(resumed.epoch_loss_sum);
      correct.fill_(resumed.epoch_correct);
      seen = resumed.epoch_seen;
      b0 = p.batch = first_batch;
      if (seen > 0) {
        p.train_loss = resumed.epoch_loss_sum / double(seen);
        p.train_accuracy = double(resumed.epoch_correct) / double(seen);
      }
    }
    if (autosaving) epoch_rng = gen.get_state();
    last_report = Clock::now() - interval;  // the first batch of every epoch reports at once
    const auto perm = torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kInt64));

    for (int64_t b = b0; b < batches; ++b) {
      // Data parallel: a stop request on any rank stops every rank before the same step
      // (dp_any: one 1-element all-reduce per step); single process: the flag alone.
      if (dp_any(cancel.load())) {
        result.cancelled = true;
        break;
      }
      // Data parallel: Dropout draws from the global generator, seeded per step and rank
      // (independent masks on the ranks' slices; a resumed run draws the same ones).
      if (dp) torch::manual_seed(dp_dropout_seed(spec.seed, p.global_step, int(shard)));
      const int64_t start = (b * world + shard) * bs, len = std::min(bs, n - start);
      const auto idx = perm.narrow(0, start, len);
      const auto x = train_set.images.index_select(0, idx);
      const auto y = train_set.labels.index_select(0, idx);
      for (auto& t : params) t.mutable_grad().reset();  // zero_grad(set_to_none)
      guard.save();
      const auto logits = model->forward(x);
      if (!checked_logits) {
        check_logits(logits, classes, len);
        checked_logits = true;
      }
      const auto loss = torch::nn::functional::cross_entropy(logits, y);
      loss.backward();
      if (grad_sync) grad_sync->finish();
      optimizer->step();
      dp_average_batchnorm(*model);
      dp_check_identical(*model, p.global_step + 1);
      stale_test = true;
      const std::string bad = guard.check(loss);
      if (!bad.empty()) {
        guard.restore();
        const int64_t step = p.global_step + 1;
        char lr[32];
        std::snprintf(lr, sizeof lr, "%g", spec.learning_rate);
        throw NumericsError("Training stopped at epoch " + std::to_string(epoch) + ", step " + std::to_string(step) +
                                " (batch " + std::to_string(b + 1) + " of " + std::to_string(batches) + "; " +
                                spec.optimizer + ", learning rate " + lr + "): " + bad + ". " +
                                (step == 1 ? std::string("The weights the run started from were kept")
                                           : "The weights after step " + std::to_string(step - 1) + " were kept") +
                                "; lower the learning rate (or check the data for NaN/Inf) and train again.",
                            epoch, step);
      }
      {
        torch::NoGradGuard no_grad;
        loss_sum += loss.detach() * double(len);
        correct += logits.argmax(1).eq(y).sum();
      }
      seen += len;
      ++p.global_step;
      p.batch = b + 1;
      const auto now = Clock::now();
      if (progress && now - last_report >= interval) {
        last_report = now;
        p.train_loss = loss_sum.item<double>() / double(seen);
        p.train_accuracy = double(correct.item<int64_t>()) / double(seen);
        p.seconds = elapsed();
        report(p);
      }
      // Within the epoch only: the last batch's position is saved after the evaluation.
      if (autosaving && b + 1 < batches && now - last_save >= autosave_interval)
        autosave(epoch - 1, b + 1, loss_sum.item<double>(), correct.item<int64_t>(), seen, epoch_rng);
    }
    if (seen > 0) {
      p.train_loss = loss_sum.item<double>() / double(seen);
      p.train_accuracy = double(correct.item<int64_t>()) / double(seen);
    }
    // Data parallel: not here (a rank's own flag would part the ranks); a request during
    // the epoch's last step stops the ranks together before the next epoch's first step.
    if (!result.cancelled && !dp && cancel.load()) result.cancelled = true;
    if (result.cancelled) {
      // Keep the exact position the cancel stopped at (resumable), unless already saved.
      if (autosaving && p.global_step != saved_step && p.batch < batches)
        autosave(epoch - 1, p.batch, loss_sum.item<double>(), correct.item<int64_t>(), seen, epoch_rng);
      break;
    }

    p.phase = TrainProgress::Phase::Evaluating;
    p.seconds = elapsed();
    report(p);
    result.test = run_evaluation(model, test_set, std::max<int64_t>(bs, 256), nullptr);
    stale_test = false;
    EpochRecord rec;
    rec.epoch = epoch;
    rec.train_loss = p.train_loss;
    rec.train_accuracy = p.train_accuracy;
    rec.test_loss = result.test.loss;
    rec.test_accuracy = result.test.accuracy;
    rec.seconds = elapsed();
    result.epochs.push_back(rec);
    if (autosaving) autosave(epoch, 0, 0.0, 0, 0, gen.get_state());
    p.phase = TrainProgress::Phase::EpochDone;
    p.test_loss = rec.test_loss;
    p.test_accuracy = rec.test_accuracy;
    p.seconds = rec.seconds;
    last_report = Clock::now();
    report(p);
  }

  // After a cancel mid-epoch (or with no epochs) the last evaluation is missing or stale.
  if (stale_test) result.test = run_evaluation(model, test_set, std::max<int64_t>(bs, 256), nullptr);
  model->eval();
  p.phase = result.cancelled ? TrainProgress::Phase::Cancelled : TrainProgress::Phase::Finished;
  p.test_loss = result.test.loss;
  p.test_accuracy = result.test.accuracy;
  p.seconds = elapsed();
  report(p);
  return result;
}

/// Leaves the model in eval mode however training ends (also on an exception).
struct EvalModeOnExit {
  QuantModel& model;
  ~EvalModeOnExit() { model->eval(); }
};

/// LibTorch errors carry a C++ backtrace; users get the first line, as a ConfigError
/// (a failing forward pass means the graph and the data do not fit together).
[[noreturn]] void rethrow_torch_error(const c10::Error& e, const char* during) {
  std::string m = e.what_without_backtrace();
  const auto nl = m.find('\n');
  if (nl != std::string::npos) m.resize(nl);
  throw ConfigError(std::string(during) + " failed: " + m);
}

}  // namespace

BatchPlan plan_batches(const QuantModel& model, int64_t samples, const TrainOptions& options) {
  BatchPlan plan;
  const int64_t bs = options.spec.batch_size;
  if (bs < 1) return plan;  // check_spec reports it
  // BatchNorm layers whose input holds one value per channel per sample.
  std::string single;
  std::vector<int64_t> single_shape;
  const Project& project = model->project();
  const ValidationResult v = validate(project);
  for (const std::string& id : v.order) {
    const LayerSpec* l = project.find(id);
    if (!l || to_string(l->type).rfind("BatchNorm", 0) != 0 || l->inputs.empty()) continue;
    const auto in = v.nodes.find(l->inputs[0]);
    if (in == v.nodes.end() || in->second.shape.empty()) continue;
    int64_t per_channel = 1;
    for (size_t d = 1; d < in->second.shape.size(); ++d) per_channel *= in->second.shape[d];
    if (per_channel == 1) {
      single = id;
      single_shape = in->second.shape;
      break;
    }
  }
  int64_t full = samples / bs, rest = samples % bs;
  if (!single.empty() && bs == 1)
    throw ConfigError("training.batch_size is 1, but BatchNorm layer " + single + " sees one value per channel (input " +
                      shape_text(single_shape) + ") and cannot compute batch statistics from one sample; "
                      "use a batch size of 2 or more");
  if (!single.empty() && rest == 1) {
    rest = 0;
    plan.drops_last = true;
    plan.note = "the last training batch of each epoch holds 1 sample (" + std::to_string(samples) + " = " +
                std::to_string(full) + " x " + std::to_string(bs) + " + 1) and is left out: BatchNorm layer " +
                single + " sees one value per channel (input " + shape_text(single_shape) +
                ") and needs at least 2 samples in training";
  }
  plan.batches = full + (rest > 0 ? 1 : 0);
  if (plan.batches == 0 && samples > 0)
    throw DataError("the training set holds 1 sample, but BatchNorm layer " + single +
                    " sees one value per channel (input " + shape_text(single_shape) +
                    ") and needs at least 2 samples per batch in training");
  if (options.max_batches_per_epoch > 0 && options.max_batches_per_epoch < plan.batches) {
    plan.batches = options.max_batches_per_epoch;
    if (plan.batches <= full) {  // the short batch is never reached
      plan.drops_last = false;
      plan.note.clear();
    }
  }
  return plan;
}

EvalResult evaluate(QuantModel& model, const Dataset& data, int64_t batch_size,
                    const std::atomic<bool>* cancel) {
  try {
    return run_evaluation(model, data, batch_size, cancel);
  } catch (const c10::Error& e) {
    rethrow_torch_error(e, "evaluation");
  }
}

std::vector<std::string> uncalibrated_act_quantizers(QuantModelImpl& model) {
  std::map<std::string, size_t> rank;
  for (size_t i = 0; i < model.order().size(); ++i) rank[model.order()[i]] = i;
  std::vector<std::pair<size_t, std::string>> found;
  for (const auto& kv : model.named_modules("", false)) {
    const auto* q = dynamic_cast<const ActQuantizerImpl*>(kv.value().get());
    if (!q || !q->enabled() || q->spec().binary || q->spec().scaling != ScalingKind::RuntimeStats) continue;
    if (q->counter() != 0) continue;
    std::string name = kv.key();
    const std::string suffix = ".act_quant";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      name.resize(name.size() - suffix.size());
    const auto it = rank.find(kv.key().substr(0, kv.key().find('.')));
    found.emplace_back(it == rank.end() ? rank.size() : it->second, name);
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

std::string uncalibrated_warning(const std::vector<std::string>& names) {
  if (names.empty()) return "";
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
  if (names.size() == 1)
    return "Activation quantizer " + list + " was never calibrated (its scale is an initial value): "
           "run calibrate or train first.";
  return "Activation quantizers " + list + " were never calibrated (their scales are initial values): "
         "run calibrate or train first.";
}

TrainResult train_model(QuantModel& model, const Dataset& train_set, const Dataset& test_set,
                        const TrainOptions& options, const ProgressFn& progress,
                        const std::atomic<bool>& cancel) {
  EvalModeOnExit guard{model};
  try {
    return run_training(model, train_set, test_set, options, progress, cancel);
  } catch (const c10::Error& e) {
    rethrow_torch_error(e, "training");
  }
}

}  // namespace qnn
