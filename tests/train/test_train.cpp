// SPDX-License-Identifier: GPL-3.0-or-later
// Training, evaluation and checkpoints on real Fashion-MNIST with small quantized
// networks: learning happens, cancel works, metrics agree, checkpoints round-trip
// bit-exactly (quantizer state included) and fail cleanly.
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/train/checkpoint.h"
#include "core/train/trainer.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/thrown_message.h"

namespace {

qnn::LayerSpec layer(const std::string& id, qnn::LayerType type, const std::string& input) {
  qnn::LayerSpec l;
  l.id = id;
  l.type = type;
  if (!input.empty()) l.inputs = {input};
  return l;
}

/// Input [1, 28, 28] -> QuantIdentity (8 bit) -> Flatten -> QuantLinear 784->hidden
/// -> QuantReLU (4 bit) -> QuantLinear hidden->10 -> Output: two activation
/// quantizers with statistics buffers, learned values and counters.
qnn::Project mlp_project(int64_t hidden = 32) {
  qnn::Project p;
  p.name = "test MLP";
  p.input_shape = {1, 28, 28};
  p.dataset.pad = 0;
  p.layers.push_back(layer("input", qnn::LayerType::Input, ""));
  auto inp = layer("quant_inp", qnn::LayerType::QuantIdentity, "input");
  inp.act_quant = qnn::presets::Int8ActPerTensorFloat();
  inp.return_quant_tensor = true;
  p.layers.push_back(inp);
  p.layers.push_back(layer("flatten", qnn::LayerType::Flatten, "quant_inp"));
  auto fc1 = layer("fc1", qnn::LayerType::QuantLinear, "flatten");
  fc1.params = {{"in_features", 784}, {"out_features", double(hidden)}, {"bias", 1}};
  fc1.weight_quant = qnn::presets::Int8WeightPerTensorFloat();
  p.layers.push_back(fc1);
  auto relu = layer("relu1", qnn::LayerType::QuantReLU, "fc1");
  relu.act_quant = qnn::presets::Uint8ActPerTensorFloat();
  relu.act_quant->bit_width = 4;
  relu.return_quant_tensor = true;
  p.layers.push_back(relu);
  auto fc2 = layer("fc2", qnn::LayerType::QuantLinear, "relu1");
  fc2.params = {{"in_features", double(hidden)}, {"out_features", 10}, {"bias", 1}};
  fc2.weight_quant = qnn::presets::Int8WeightPerTensorFloat();
  p.layers.push_back(fc2);
  p.layers.push_back(layer("output", qnn::LayerType::Output, "fc2"));
  return p;
}

qnn::TrainOptions quick_options(int64_t max_batches, int64_t epochs = 1) {
  qnn::TrainOptions o;
  o.spec.optimizer = "adam";
  o.spec.learning_rate = 2e-3;
  o.spec.batch_size = 64;
  o.spec.epochs = epochs;
  o.spec.seed = 7;
  o.spec.threads = 1;  // ctest runs tests in parallel on few cores: no oversubscription
  o.max_batches_per_epoch = max_batches;
  return o;
}

int64_t counter_of(qnn::QuantModel& m, const std::string& name) {
  for (const auto& kv : m->named_buffers(true))
    if (kv.key() == name) return kv.value().item<int64_t>();
  return -1;
}

}  // namespace

class TestTrain : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void badSettingsAreConfigErrors();
  void trainingLearns();
  void sgdAlsoLearns();
  void zeroEpochsOnlyEvaluates();
  void sameSeedSameResult();
  void cancelFromProgressStopsEarly();
  void confusionMatrixMatchesAccuracy();
  void checkpointRoundTripIsExact();
  void checkpointOfAnotherNetworkIsRefused();
  void corruptCheckpointsFailCleanly();
  void unwritableCheckpointPath();
  void lenetExampleTrainsAndRoundTrips();

 private:
  qnn::QuantModel trained_model(int64_t batches);
  qnn::Dataset m_train, m_test;
  QTemporaryDir m_dir;
};

void TestTrain::initTestCase() {
  QVERIFY(m_dir.isValid());
  qnn::set_thread_count(1);
  QCOMPARE(torch::get_num_threads(), 1);
  qnn::DatasetSpec spec;  // the installed Fashion-MNIST
  spec.pad = 0;
  const auto t0 = std::chrono::steady_clock::now();
  m_train = qnn::load_dataset(spec, true, 8000);
  m_test = qnn::load_dataset(spec, false, 2000);
  qInfo("loaded %lld train / %lld test images in %.2f s", (long long)m_train.size(),
        (long long)m_test.size(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  QCOMPARE(m_train.images.sizes().vec(), (std::vector<int64_t>{8000, 1, 28, 28}));
}

qnn::QuantModel TestTrain::trained_model(int64_t batches) {
  torch::manual_seed(1);
  auto model = qnn::build_model(mlp_project());
  std::atomic<bool> cancel{false};
  qnn::train_model(model, m_train, m_test, quick_options(batches), nullptr, cancel);
  return model;
}

void TestTrain::badSettingsAreConfigErrors() {
  auto model = qnn::build_model(mlp_project());
  std::atomic<bool> cancel{false};
  const auto run = [&](const qnn::TrainOptions& o) {
    qnn::train_model(model, m_train, m_test, o, nullptr, cancel);
  };
  auto o = quick_options(1);
  o.spec.batch_size = 0;
  QString msg = thrown_message<qnn::ConfigError>([&] { run(o); });
  QVERIFY2(msg.contains("batch_size"), qPrintable(msg));
  o = quick_options(1);
  o.spec.epochs = -1;
  msg = thrown_message<qnn::ConfigError>([&] { run(o); });
  QVERIFY2(msg.contains("epochs"), qPrintable(msg));
  o = quick_options(1);
  o.spec.learning_rate = 0.0;
  msg = thrown_message<qnn::ConfigError>([&] { run(o); });
  QVERIFY2(msg.contains("learning_rate"), qPrintable(msg));
  o = quick_options(1);
  o.spec.optimizer = "rmsprop";
  msg = thrown_message<qnn::ConfigError>([&] { run(o); });
  QVERIFY2(msg.contains("optimizer") && msg.contains("rmsprop"), qPrintable(msg));

  // Samples of the wrong shape are refused up front with both shapes named.
  auto padded = m_test;
  padded.images = torch::constant_pad_nd(m_test.images, {2, 2, 2, 2});
  msg = thrown_message<qnn::ConfigError>([&] { qnn::train_model(model, padded, m_test, quick_options(1), nullptr, cancel); });
  QVERIFY2(msg.contains("[1,28,28]") && msg.contains("[1,32,32]"), qPrintable(msg));

  // Fewer logits than classes: a ConfigError, and the model is left in eval mode.
  auto project = mlp_project();
  project.layers[5].params["out_features"] = 5;
  auto narrow = qnn::build_model(project);
  msg = thrown_message<qnn::ConfigError>([&] { qnn::train_model(narrow, m_train, m_test, quick_options(1), nullptr, cancel); });
  QVERIFY2(msg.contains("5 outputs") && msg.contains("10 classes"), qPrintable(msg));
  QVERIFY(!narrow->is_training());
  msg = thrown_message<qnn::ConfigError>([&] { qnn::evaluate(narrow, m_test); });
  QVERIFY2(msg.contains("5 outputs"), qPrintable(msg));
}

void TestTrain::sgdAlsoLearns() {
  torch::manual_seed(1);
  auto model = qnn::build_model(mlp_project());
  auto o = quick_options(60);
  o.spec.optimizer = "sgd";
  o.spec.learning_rate = 0.02;
  o.spec.momentum = 0.9;
  std::atomic<bool> cancel{false};
  const auto r = qnn::train_model(model, m_train, m_test, o, nullptr, cancel);
  qInfo("SGD, 60 batches: train loss %.3f, test acc %.3f", r.epochs[0].train_loss, r.test.accuracy);
  QVERIFY2(r.test.accuracy > 0.65, qPrintable(QString::number(r.test.accuracy)));
}

void TestTrain::zeroEpochsOnlyEvaluates() {
  torch::manual_seed(1);
  auto model = qnn::build_model(mlp_project());
  auto o = quick_options(10, 0);
  std::vector<qnn::TrainProgress> reports;
  std::atomic<bool> cancel{false};
  const auto r = qnn::train_model(model, m_train, m_test, o,
                                  [&](const qnn::TrainProgress& p) { reports.push_back(p); }, cancel);
  QVERIFY(!r.cancelled);
  QVERIFY(r.epochs.empty());
  QCOMPARE(r.test.samples, int64_t(2000));
  QCOMPARE(r.test.accuracy, qnn::evaluate(model, m_test).accuracy);
  QCOMPARE(reports.size(), size_t(1));
  QCOMPARE(reports[0].phase, qnn::TrainProgress::Phase::Finished);
  QCOMPARE(counter_of(model, "quant_inp.act_quant.counter"), int64_t(0));
}

void TestTrain::trainingLearns() {
  torch::manual_seed(1);
  auto model = qnn::build_model(mlp_project());
  const auto before = qnn::evaluate(model, m_test);
  std::atomic<bool> cancel{false};
  std::vector<qnn::TrainProgress> reports;
  auto o = quick_options(60, 2);  // 2 epochs x 60 batches x 64 = 7680 samples seen
  o.progress_interval_ms = 0;     // every batch: checks the running metrics
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = qnn::train_model(model, m_train, m_test, o,
                                  [&](const qnn::TrainProgress& p) { reports.push_back(p); }, cancel);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  qInfo("before: loss %.3f acc %.3f; after 120 batches (%.2f s): epoch1 train loss %.3f, "
        "epoch2 train loss %.3f acc %.3f, test loss %.3f acc %.3f",
        before.loss, before.accuracy, secs, r.epochs[0].train_loss, r.epochs[1].train_loss,
        r.epochs[1].train_accuracy, r.test.loss, r.test.accuracy);

  QVERIFY(!r.cancelled);
  QCOMPARE(r.epochs.size(), size_t(2));
  QCOMPARE(r.epochs[0].epoch, int64_t(1));
  QVERIFY(r.epochs[1].train_loss < r.epochs[0].train_loss);
  QVERIFY(r.test.loss < before.loss - 1.0);  // ~2.3 (chance) -> below ~0.8
  QVERIFY2(r.test.accuracy > 0.70, qPrintable(QString::number(r.test.accuracy)));
  QCOMPARE(r.test.samples, int64_t(2000));
  QCOMPARE(r.epochs[1].test_accuracy, r.test.accuracy);
  QVERIFY(!model->is_training());

  // Report sequence: Training x60, Evaluating, EpochDone, ... , Finished.
  QCOMPARE(reports.size(), size_t(2 * (60 + 2) + 1));
  QCOMPARE(reports[0].phase, qnn::TrainProgress::Phase::Training);
  QCOMPARE(reports[0].batch, int64_t(1));
  QCOMPARE(reports[0].batches_per_epoch, int64_t(60));
  QCOMPARE(reports[59].batch, int64_t(60));
  QCOMPARE(reports[60].phase, qnn::TrainProgress::Phase::Evaluating);
  QCOMPARE(reports[61].phase, qnn::TrainProgress::Phase::EpochDone);
  QCOMPARE(reports[61].test_accuracy, r.epochs[0].test_accuracy);
  QCOMPARE(reports[62].epoch, int64_t(2));
  QCOMPARE(reports[62].global_step, int64_t(61));
  QCOMPARE(reports.back().phase, qnn::TrainProgress::Phase::Finished);
  QCOMPARE(reports.back().global_step, int64_t(120));
  QCOMPARE(reports.back().test_accuracy, r.test.accuracy);
  QVERIFY(reports[59].train_loss < reports[0].train_loss);
  QVERIFY(reports[59].train_accuracy > 0.5);
  // 240 training calls of relu1's quantizer in 120 batches? No: one call per batch.
  QCOMPARE(counter_of(model, "relu1.act_quant.counter"), int64_t(120));

  // Throttled: 120 batches in well under 10 s produce far fewer reports at 10 s.
  std::vector<qnn::TrainProgress> few;
  o.progress_interval_ms = 10000;
  o.spec.epochs = 1;
  qnn::train_model(model, m_train, m_test, o, [&](const qnn::TrainProgress& p) { few.push_back(p); }, cancel);
  QVERIFY2(few.size() <= 4, qPrintable(QString::number(few.size())));  // first batch, Evaluating, EpochDone, Finished
  QCOMPARE(few.back().phase, qnn::TrainProgress::Phase::Finished);
}

void TestTrain::sameSeedSameResult() {
  auto a = trained_model(15);
  auto b = trained_model(15);
  const auto x = m_test.images.narrow(0, 0, 100);
  QVERIFY(torch::equal(a->forward(x), b->forward(x)));
}

void TestTrain::cancelFromProgressStopsEarly() {
  torch::manual_seed(1);
  auto model = qnn::build_model(mlp_project());
  std::atomic<bool> cancel{false};
  std::vector<qnn::TrainProgress> reports;
  auto o = quick_options(0, 3);  // full epochs of 125 batches: would take a while
  o.progress_interval_ms = 0;
  const auto r = qnn::train_model(model, m_train, m_test, o,
                                  [&](const qnn::TrainProgress& p) {
                                    reports.push_back(p);
                                    if (p.phase == qnn::TrainProgress::Phase::Training && p.batch == 20)
                                      cancel = true;
                                  },
                                  cancel);
  QVERIFY(r.cancelled);
  QVERIFY(r.epochs.empty());
  QCOMPARE(reports.back().phase, qnn::TrainProgress::Phase::Cancelled);
  QCOMPARE(reports.back().global_step, int64_t(20));  // the batch in progress finished, no more
  QCOMPARE(reports.size(), size_t(21));
  QVERIFY(!model->is_training());
  // A final evaluation of the model as it stands is in the result, and it learned.
  QCOMPARE(r.test.samples, int64_t(2000));
  const auto again = qnn::evaluate(model, m_test);
  QCOMPARE(again.accuracy, r.test.accuracy);
  QCOMPARE(reports.back().test_accuracy, r.test.accuracy);
  QVERIFY2(r.test.accuracy > 0.4, qPrintable(QString::number(r.test.accuracy)));

  // A flag already set before the start: no step at all, still a usable evaluation.
  auto fresh = qnn::build_model(mlp_project());
  const auto r2 = qnn::train_model(fresh, m_train, m_test, o, nullptr, cancel);
  QVERIFY(r2.cancelled);
  QCOMPARE(r2.test.samples, int64_t(2000));
  QCOMPARE(counter_of(fresh, "relu1.act_quant.counter"), int64_t(0));

  // evaluate() with a set flag covers no samples.
  QCOMPARE(qnn::evaluate(fresh, m_test, 256, &cancel).samples, int64_t(0));
}

void TestTrain::confusionMatrixMatchesAccuracy() {
  auto model = trained_model(40);
  const auto e = qnn::evaluate(model, m_test, 300);  // 2000 = 6 x 300 + 200: a ragged last batch
  QCOMPARE(e.samples, int64_t(2000));
  QCOMPARE(e.confusion.size(), size_t(10));
  int64_t total = 0, diag = 0;
  std::vector<int64_t> row_sums(10, 0);
  for (size_t t = 0; t < 10; ++t) {
    QCOMPARE(e.confusion[t].size(), size_t(10));
    for (size_t q = 0; q < 10; ++q) {
      total += e.confusion[t][q];
      row_sums[t] += e.confusion[t][q];
    }
    diag += e.confusion[t][t];
  }
  QCOMPARE(total, int64_t(2000));
  QCOMPARE(e.accuracy, double(diag) / 2000.0);
  const auto hist = torch::bincount(m_test.labels, {}, 10);
  for (int t = 0; t < 10; ++t) QCOMPARE(row_sums[size_t(t)], hist[t].item<int64_t>());

  // Independent reference: one full-batch forward.
  torch::NoGradGuard no_grad;
  const auto logits = model->forward(m_test.images);
  const double acc = logits.argmax(1).eq(m_test.labels).to(torch::kDouble).mean().item<double>();
  const double loss = torch::nn::functional::cross_entropy(logits, m_test.labels).item<double>();
  QCOMPARE(e.accuracy, acc);
  QVERIFY(std::abs(e.loss - loss) < 1e-5);
  QVERIFY(!model->is_training());
  // Batch size does not change the result (eval mode has no state).
  const auto e2 = qnn::evaluate(model, m_test, 2000);
  QCOMPARE(e2.confusion, e.confusion);
}

void TestTrain::checkpointRoundTripIsExact() {
  auto model = trained_model(30);
  const auto path = m_dir.filePath("mlp.qnnckpt").toStdString();
  qnn::save_checkpoint(model, path);
  QVERIFY(std::filesystem::exists(path));
  QCOMPARE(QDir(m_dir.path()).entryList({"*.qnn-tmp-*", "*.tmp-*"}, QDir::AllEntries | QDir::Hidden).size(), 0);

  // A freshly built model differs (new init, quantizers never trained) ...
  torch::manual_seed(99);
  auto fresh = qnn::build_model(qnn::read_checkpoint_project(path));
  QVERIFY(fresh->project() == model->project());
  model->eval();
  fresh->eval();
  const auto x = m_test.images.narrow(0, 0, 256);
  QVERIFY(!torch::equal(model->forward(x), fresh->forward(x)));
  QCOMPARE(counter_of(fresh, "relu1.act_quant.counter"), int64_t(0));
  // ... and equals the trained one bit for bit after loading.
  qnn::load_checkpoint(fresh, path);
  QCOMPARE(counter_of(fresh, "relu1.act_quant.counter"), int64_t(30));
  QCOMPARE(counter_of(fresh, "quant_inp.act_quant.counter"), int64_t(30));
  const auto a = model->named_buffers(true), b = fresh->named_buffers(true);
  QCOMPARE(a.size(), b.size());
  for (const auto& kv : a) QVERIFY2(torch::equal(kv.value(), b[kv.key()]), kv.key().c_str());
  for (const auto& kv : model->named_parameters(true))
    QVERIFY2(torch::equal(kv.value(), fresh->named_parameters(true)[kv.key()]), kv.key().c_str());
  QVERIFY(torch::equal(model->forward(x), fresh->forward(x)));

  // The whole training state is restored: both continue identically (same seed).
  std::atomic<bool> cancel{false};
  auto o = quick_options(5);
  o.spec.seed = 3;
  qnn::train_model(model, m_train, m_test, o, nullptr, cancel);
  qnn::train_model(fresh, m_train, m_test, o, nullptr, cancel);
  QVERIFY(torch::equal(model->forward(x), fresh->forward(x)));

  // Saving again over an existing file replaces it atomically.
  qnn::save_checkpoint(fresh, path);
  auto third = qnn::build_model(qnn::read_checkpoint_project(path));
  qnn::load_checkpoint(third, path);
  third->eval();
  QVERIFY(torch::equal(third->forward(x), fresh->forward(x)));
}

void TestTrain::checkpointOfAnotherNetworkIsRefused() {
  auto model = qnn::build_model(mlp_project(32));
  const auto path = m_dir.filePath("h32.qnnckpt").toStdString();
  qnn::save_checkpoint(model, path);

  auto wider = qnn::build_model(mlp_project(48));
  const auto before = wider->named_parameters(true)["fc1.weight"].clone();
  QString msg = thrown_message<qnn::ConfigError>([&] { qnn::load_checkpoint(wider, path); });
  QVERIFY2(msg.contains("different network") && msg.contains("layer fc1"), qPrintable(msg));
  QVERIFY(torch::equal(before, wider->named_parameters(true)["fc1.weight"]));  // untouched

  // Same tensor shapes, other quantizer: the case shapes alone cannot catch.
  auto project = mlp_project(32);
  project.find("fc1")->weight_quant->bit_width = 3;
  auto three_bit = qnn::build_model(project);
  msg = thrown_message<qnn::ConfigError>([&] { qnn::load_checkpoint(three_bit, path); });
  QVERIFY2(msg.contains("layer fc1: weight_quant") && msg.contains("W3"), qPrintable(msg));

  // A model with a layer the checkpoint does not have.
  project = mlp_project(32);
  auto extra = layer("relu2", qnn::LayerType::QuantReLU, "fc2");
  extra.act_quant = qnn::presets::Uint8ActPerTensorFloat();
  project.layers.back().inputs = {"relu2"};
  project.layers.insert(project.layers.end() - 1, extra);
  auto longer = qnn::build_model(project);
  msg = thrown_message<qnn::ConfigError>([&] { qnn::load_checkpoint(longer, path); });
  QVERIFY2(msg.contains("relu2") && msg.contains("one network only"), qPrintable(msg));

  // Positions, names and training settings do not matter.
  project = mlp_project(32);
  project.name = "renamed";
  project.training.epochs = 9;
  for (auto& l : project.layers) l.x += 10;
  auto moved = qnn::build_model(project);
  qnn::load_checkpoint(moved, path);
  QVERIFY(torch::equal(moved->named_parameters(true)["fc1.weight"], model->named_parameters(true)["fc1.weight"]));
}

void TestTrain::corruptCheckpointsFailCleanly() {
  auto model = qnn::build_model(mlp_project());
  const auto good = m_dir.filePath("good.qnnckpt").toStdString();
  qnn::save_checkpoint(model, good);
  std::string bytes;
  {
    std::ifstream f(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  QVERIFY(bytes.size() > 1000);
  for (double frac : {0.5, 0.9, 0.999}) {
    const auto cut = m_dir.filePath("cut.qnnckpt").toStdString();
    {
      std::ofstream f(cut, std::ios::binary | std::ios::trunc);
      f.write(bytes.data(), std::streamsize(bytes.size() * frac));
    }
    const QString msg = thrown_message<qnn::IoError>([&] { qnn::load_checkpoint(model, cut); });
    QVERIFY2(msg.contains("cut.qnnckpt"), qPrintable(msg));
    const QString msg2 = thrown_message<qnn::IoError>([&] { qnn::read_checkpoint_project(cut); });
    QVERIFY2(msg2.contains("cut.qnnckpt"), qPrintable(msg2));
  }

  const auto text = m_dir.filePath("text.qnnckpt").toStdString();
  std::ofstream(text) << "not a checkpoint\n";
  QString msg = thrown_message<qnn::IoError>([&] { qnn::read_checkpoint_project(text); });
  QVERIFY2(msg.contains("text.qnnckpt"), qPrintable(msg));
  msg = thrown_message<qnn::IoError>([&] { qnn::load_checkpoint(model, m_dir.filePath("none").toStdString()); });
  QVERIFY2(msg.contains("none") && msg.contains("not found"), qPrintable(msg));

  // A LibTorch archive that is not ours (e.g. torch::save of a plain module).
  const auto foreign = m_dir.filePath("foreign.pt").toStdString();
  torch::save(torch::nn::Linear(3, 2), foreign);
  msg = thrown_message<qnn::ConfigError>([&] { qnn::load_checkpoint(model, foreign); });
  QVERIFY2(msg.contains("not a QNN Studio checkpoint"), qPrintable(msg));
  msg = thrown_message<qnn::ConfigError>([&] { qnn::read_checkpoint_project(foreign); });
  QVERIFY2(msg.contains("not a QNN Studio checkpoint"), qPrintable(msg));
}

void TestTrain::unwritableCheckpointPath() {
  auto model = qnn::build_model(mlp_project());
  const auto missing = m_dir.filePath("no/such/folder/x.qnnckpt").toStdString();
  QString msg = thrown_message<qnn::IoError>([&] { qnn::save_checkpoint(model, missing); });
  QVERIFY2(msg.contains("no/such/folder/x.qnnckpt"), qPrintable(msg));

  // The target is a folder: writing the temp file works, the rename fails -> temp removed.
  QVERIFY(QDir(m_dir.path()).mkpath("target_is_dir.qnnckpt/child"));
  const auto dir_target = m_dir.filePath("target_is_dir.qnnckpt").toStdString();
  msg = thrown_message<qnn::IoError>([&] { qnn::save_checkpoint(model, dir_target); });
  QVERIFY2(msg.contains("target_is_dir.qnnckpt"), qPrintable(msg));
  QCOMPARE(QDir(m_dir.path()).entryList({"*.qnn-tmp-*", "*.tmp-*"}, QDir::AllEntries | QDir::Hidden).size(), 0);

  // A read-only folder (skipped by the kernel for root, so only checked when it bites).
  QVERIFY(QDir(m_dir.path()).mkpath("readonly"));
  const auto ro = m_dir.filePath("readonly");
  QFile::setPermissions(ro, QFileDevice::ReadOwner | QFileDevice::ExeOwner);
  const auto ro_target = (ro + "/x.qnnckpt").toStdString();
  try {
    qnn::save_checkpoint(model, ro_target);
    QVERIFY(std::filesystem::exists(ro_target));  // root ignores the permission bits
  } catch (const qnn::IoError& e) {
    QVERIFY2(QString(e.what()).contains("x.qnnckpt"), e.what());
  }
  QCOMPARE(QDir(ro).entryList({"*.qnn-tmp-*", "*.tmp-*"}, QDir::AllEntries | QDir::Hidden).size(), 0);
  QFile::setPermissions(ro, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
}

void TestTrain::lenetExampleTrainsAndRoundTrips() {
  // The shipped 4-bit LeNet (conv + QuantReLU + Int32 bias quantizers) on 32x32 inputs.
  const auto project =
      qnn::load_project(std::string(QNN_SOURCE_DIR) + "/resources/examples/lenet_w4a4_int32bias.qnn.json");
  QCOMPARE(project.dataset.pad, 2);
  const auto train = qnn::load_dataset(project.dataset, true, 6400);
  const auto test = qnn::load_dataset(project.dataset, false, 1000);
  torch::manual_seed(0);
  auto model = qnn::build_model(project);
  auto o = quick_options(100);
  o.spec.learning_rate = 1e-3;
  std::atomic<bool> cancel{false};
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = qnn::train_model(model, train, test, o, nullptr, cancel);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  qInfo("LeNet w4a4: 100 batches + eval of 1000 in %.2f s: train loss %.3f acc %.3f, test acc %.3f",
        secs, r.epochs[0].train_loss, r.epochs[0].train_accuracy, r.test.accuracy);
  QVERIFY2(r.test.accuracy > 0.60, qPrintable(QString::number(r.test.accuracy)));
  QCOMPARE(counter_of(model, "relu1.act_quant.counter"), int64_t(100));

  const auto path = m_dir.filePath("lenet.qnnckpt").toStdString();
  qnn::save_checkpoint(model, path);
  torch::manual_seed(5);
  auto loaded = qnn::build_model(qnn::read_checkpoint_project(path));
  QVERIFY(loaded->project() == project);
  qnn::load_checkpoint(loaded, path);
  loaded->eval();
  const auto x = test.images.narrow(0, 0, 200);
  QVERIFY(torch::equal(model->forward(x), loaded->forward(x)));
  QCOMPARE(qnn::evaluate(loaded, test).accuracy, r.test.accuracy);
}

QTEST_MAIN(TestTrain)
#include "test_train.moc"
