// SPDX-License-Identifier: GPL-3.0-or-later
// Resume of an interrupted training run (issue 16 item 5): a run autosaved at the end of
// an epoch or mid-epoch and resumed ends with bit-identical weights, history and test
// numbers to the uninterrupted run (1 thread); a resume with other settings, another
// network or a finished model's checkpoint is refused by name; `qnn train` killed with
// SIGKILL mid-training resumes to the same final checkpoint; SIGKILL during a checkpoint
// write leaves the old or a complete new file, never a broken one, and the next save
// removes the stale temporary.
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/io/atomic_file.h"
#include "core/train/checkpoint.h"
#include "core/train/resume.h"
#include "core/train/resume_state.h"
#include "core/train/trainer.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/thrown_message.h"
#include "tests/cli_run.h"

namespace fs = std::filesystem;

namespace {

qnn::LayerSpec layer(const std::string& id, qnn::LayerType type, const std::string& input) {
  qnn::LayerSpec l;
  l.id = id;
  l.type = type;
  if (!input.empty()) l.inputs = {input};
  return l;
}

/// Input [1, S, S] -> QuantIdentity (8 bit) -> Flatten -> QuantLinear S*S->hidden ->
/// QuantReLU (4 bit) -> Dropout (LibTorch's global generator) -> QuantLinear hidden->10.
/// Quantizer statistics (counters, scaling buffers), Adam/SGD state and Dropout masks all
/// take part in what a resume must restore.
qnn::Project mlp_project(int64_t side, int64_t hidden, int relu_bits = 4) {
  qnn::Project p;
  p.name = "resume MLP";
  p.input_shape = {1, side, side};
  p.dataset.pad = 0;
  p.layers.push_back(layer("input", qnn::LayerType::Input, ""));
  auto inp = layer("quant_inp", qnn::LayerType::QuantIdentity, "input");
  inp.act_quant = qnn::presets::Int8ActPerTensorFloat();
  inp.return_quant_tensor = true;
  p.layers.push_back(inp);
  p.layers.push_back(layer("flatten", qnn::LayerType::Flatten, "quant_inp"));
  auto fc1 = layer("fc1", qnn::LayerType::QuantLinear, "flatten");
  fc1.params = {{"in_features", double(side * side)}, {"out_features", double(hidden)}, {"bias", 1}};
  fc1.weight_quant = qnn::presets::Int8WeightPerTensorFloat();
  p.layers.push_back(fc1);
  auto relu = layer("relu1", qnn::LayerType::QuantReLU, "fc1");
  relu.act_quant = qnn::presets::Uint8ActPerTensorFloat();
  relu.act_quant->bit_width = relu_bits;
  p.layers.push_back(relu);
  auto drop = layer("drop", qnn::LayerType::Dropout, "relu1");
  drop.params = {{"p", 0.25}};
  p.layers.push_back(drop);
  auto fc2 = layer("fc2", qnn::LayerType::QuantLinear, "drop");
  fc2.params = {{"in_features", double(hidden)}, {"out_features", 10}, {"bias", 1}};
  fc2.weight_quant = qnn::presets::Int8WeightPerTensorFloat();
  p.layers.push_back(fc2);
  p.layers.push_back(layer("output", qnn::LayerType::Output, "fc2"));
  return p;
}

qnn::Dataset random_set(int64_t n, int64_t side, uint64_t seed) {
  torch::manual_seed(seed);
  qnn::Dataset d;
  d.images = torch::randn({n, 1, side, side});
  d.labels = torch::randint(0, 10, {n}, torch::kInt64);
  for (int c = 0; c < 10; ++c) d.class_names.push_back("c" + std::to_string(c));
  return d;
}

qnn::TrainOptions options(const std::string& optimizer, int64_t epochs) {
  qnn::TrainOptions o;
  o.spec.optimizer = optimizer;
  o.spec.learning_rate = optimizer == "sgd" ? 0.05 : 0.01;
  o.spec.momentum = 0.9;
  o.spec.weight_decay = 1e-4;
  o.spec.batch_size = 32;
  o.spec.epochs = epochs;
  o.spec.seed = 7;
  o.spec.threads = 1;
  o.progress_interval_ms = 0;
  return o;
}

/// The first tensor whose value differs between the models ("" when all are equal).
std::string first_difference(qnn::QuantModel& a, qnn::QuantModel& b) {
  const auto tb = qnn::named_tensors(*b);
  const auto ta = qnn::named_tensors(*a);
  if (ta.size() != tb.size()) return "(tensor count)";
  for (const auto& [name, t] : ta) {
    const auto it = tb.find(name);
    if (it == tb.end() || !torch::equal(t, it->second)) return name;
  }
  return "";
}

/// The history without the wall times, exactly.
QString history_text(const std::vector<qnn::EpochRecord>& h) {
  QString s;
  for (const auto& r : h)
    s += QString::asprintf("%lld %.17g %.17g %.17g %.17g\n", static_cast<long long>(r.epoch), r.train_loss,
                           r.train_accuracy, r.test_loss, r.test_accuracy);
  return s;
}

using Run = qnn_test::CliRun;

/// Runs `qnn train ARGS`.
Run qnn_cli(const QStringList& args) { return qnn_test::runQnn(QStringList{"train"} + args, 120000); }

/// The epoch lines of `qnn train` without their wall time ("epoch 2/3  train_loss=... test_acc=...").
QStringList epoch_lines(const QString& out) {
  QStringList lines;
  for (QString l : out.split('\n'))
    if (l.startsWith("epoch ")) {
      l.remove(QRegularExpression("\\s+[0-9.]+s$"));
      lines << l;
    }
  return lines;
}

/// Temporary files of atomic saves to `path` (core/io/atomic_file.h), of process `pid` if > 0.
int temporaries_of(const std::string& path, qint64 pid = 0) {
  const std::string prefix = qnn::temporary_prefix(path) + (pid > 0 ? std::to_string(pid) + "-" : std::string());
  const fs::path folder = fs::path(path).parent_path();
  int n = 0;
  for (const auto& e : fs::directory_iterator(folder))
    if (e.path().string().rfind(prefix, 0) == 0) ++n;
  return n;
}

/// The global step of the training checkpoint at `path`, -1 while none is readable.
int64_t autosaved_step(const std::string& path) {
  try {
    return qnn::read_training_checkpoint_info(path).global_step;
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

class TestResume : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void resumeAtEpochEndIsBitIdentical_data();
  void resumeAtEpochEndIsBitIdentical();
  void resumeMidEpochIsBitIdentical_data();
  void resumeMidEpochIsBitIdentical();
  void trainingCheckpointIsAnOrdinaryCheckpoint();
  void mismatchedResumeIsRefusedByName();
  void finishedModelIsRefusedForResume();
  void damagedRunStateLeavesTheModelUnchanged();
  void failedAutosaveIsNotFatal();
  void cliKilledRunResumesToTheSameCheckpoint();
  void cliRefusesMismatchedResume();
  void killDuringSaveLeavesOldOrNewFile();

 private:
  /// The uninterrupted 3-epoch run of `optimizer`: model, history, final test numbers.
  struct Reference {
    qnn::QuantModel model{nullptr};
    qnn::TrainResult result;
  };
  Reference& reference(const std::string& optimizer);
  qnn::QuantModel fresh_model(uint64_t init_seed = 1) {
    torch::manual_seed(init_seed);
    return qnn::build_model(mlp_project(8, 16));
  }
  std::string path(const QString& name) const { return m_dir.filePath(name).toStdString(); }
  void write_cli_project();

  qnn::Dataset m_train, m_test;
  std::map<std::string, Reference> m_reference;
  QTemporaryDir m_dir;
  QString m_project;  // Fashion-MNIST project for the CLI
};

void TestResume::initTestCase() {
  QVERIFY(m_dir.isValid());
  qnn::set_thread_count(1);
  m_train = random_set(256, 8, 21);  // 8 batches of 32
  m_test = random_set(64, 8, 22);
  write_cli_project();
}

TestResume::Reference& TestResume::reference(const std::string& optimizer) {
  auto it = m_reference.find(optimizer);
  if (it != m_reference.end()) return it->second;
  Reference r;
  r.model = fresh_model();
  std::atomic<bool> cancel{false};
  r.result = qnn::train_model(r.model, m_train, m_test, options(optimizer, 3), nullptr, cancel);
  return m_reference.emplace(optimizer, std::move(r)).first->second;
}

void TestResume::resumeAtEpochEndIsBitIdentical_data() {
  QTest::addColumn<QString>("optimizer");
  QTest::newRow("adam") << "adam";
  QTest::newRow("sgd") << "sgd";
}

void TestResume::resumeAtEpochEndIsBitIdentical() {
  QFETCH(QString, optimizer);
  const std::string opt = optimizer.toStdString();
  Reference& ref = reference(opt);
  QCOMPARE(int(ref.result.epochs.size()), 3);

  // A 1-epoch run with autosave, then a resume raised to 3 epochs into a model built
  // with another initialisation (everything must come from the file).
  const std::string autosave = path("epoch-end-" + optimizer + ".resume.pt");
  std::atomic<bool> cancel{false};
  auto first = fresh_model();
  qnn::TrainOptions o1 = options(opt, 1);
  o1.autosave_path = autosave;
  o1.autosave_minutes = 1000;  // only the start and the end of the epoch
  qnn::train_model(first, m_train, m_test, o1, nullptr, cancel);
  const qnn::TrainingCheckpointInfo info = qnn::read_training_checkpoint_info(autosave);
  QCOMPARE(info.epochs_done, int64_t(1));
  QCOMPARE(info.batch_in_epoch, int64_t(0));
  QCOMPARE(info.global_step, int64_t(8));
  QCOMPARE(info.epochs_planned, int64_t(1));
  QCOMPARE(info.batches_per_epoch, int64_t(8));
  QCOMPARE(QString::fromStdString(info.optimizer), optimizer);
  QCOMPARE(history_text(info.history), history_text({ref.result.epochs[0]}));

  auto resumed = fresh_model(99);
  QVERIFY(!first_difference(resumed, ref.model).empty());
  qnn::TrainOptions o2 = options(opt, 3);
  o2.resume_path = autosave;
  std::vector<qnn::TrainProgress> reports;
  const auto r = qnn::train_model(resumed, m_train, m_test, o2,
                                  [&](const qnn::TrainProgress& p) { reports.push_back(p); }, cancel);
  QCOMPARE(QString::fromStdString(first_difference(resumed, ref.model)), QString());
  QCOMPARE(history_text(r.epochs), history_text(ref.result.epochs));
  QCOMPARE(r.test.loss, ref.result.test.loss);
  QCOMPARE(r.test.accuracy, ref.result.test.accuracy);
  QVERIFY(!r.cancelled);
  // The numbering goes on: the first report is epoch 2, step 9.
  QVERIFY(!reports.empty());
  QCOMPARE(reports.front().epoch, int64_t(2));
  QCOMPARE(reports.front().global_step, int64_t(9));
  QCOMPARE(reports.back().global_step, int64_t(24));
}

void TestResume::resumeMidEpochIsBitIdentical_data() { resumeAtEpochEndIsBitIdentical_data(); }

void TestResume::resumeMidEpochIsBitIdentical() {
  QFETCH(QString, optimizer);
  const std::string opt = optimizer.toStdString();
  Reference& ref = reference(opt);

  // Autosave after every batch; cancelled after step 11 (epoch 2, batch 3 of 8).
  const std::string autosave = path("mid-" + optimizer + ".resume.pt");
  std::atomic<bool> cancel{false};
  auto first = fresh_model();
  qnn::TrainOptions o = options(opt, 3);
  o.autosave_path = autosave;
  o.autosave_minutes = 0;
  const auto r1 = qnn::train_model(first, m_train, m_test, o,
                                   [&](const qnn::TrainProgress& p) {
                                     if (p.phase == qnn::TrainProgress::Phase::Training && p.global_step == 11)
                                       cancel = true;
                                   },
                                   cancel);
  QVERIFY(r1.cancelled);
  const qnn::TrainingCheckpointInfo info = qnn::read_training_checkpoint_info(autosave);
  QCOMPARE(info.epochs_done, int64_t(1));
  QCOMPARE(info.batch_in_epoch, int64_t(3));
  QCOMPARE(info.global_step, int64_t(11));
  QCOMPARE(int(info.history.size()), 1);

  // Resumed into another initialisation, autosaving into the same file as it goes.
  cancel = false;
  auto resumed = fresh_model(42);
  qnn::TrainOptions o2 = options(opt, 3);
  o2.resume_path = autosave;
  o2.autosave_path = autosave;
  o2.autosave_minutes = 0;
  std::vector<qnn::TrainProgress> reports;
  const auto r = qnn::train_model(resumed, m_train, m_test, o2,
                                  [&](const qnn::TrainProgress& p) { reports.push_back(p); }, cancel);
  QCOMPARE(QString::fromStdString(first_difference(resumed, ref.model)), QString());
  QCOMPARE(history_text(r.epochs), history_text(ref.result.epochs));
  QCOMPARE(r.test.loss, ref.result.test.loss);
  QCOMPARE(r.test.accuracy, ref.result.test.accuracy);
  QCOMPARE(reports.front().epoch, int64_t(2));
  QCOMPARE(reports.front().batch, int64_t(4));
  QCOMPARE(reports.front().global_step, int64_t(12));
  // train_model never deletes the autosave; it ends at the finished run's position.
  const qnn::TrainingCheckpointInfo end = qnn::read_training_checkpoint_info(autosave);
  QCOMPARE(end.epochs_done, int64_t(3));
  QCOMPARE(end.global_step, int64_t(24));
  QCOMPARE(temporaries_of(autosave), 0);
}

void TestResume::trainingCheckpointIsAnOrdinaryCheckpoint() {
  const std::string autosave = path("ordinary.resume.pt");
  std::atomic<bool> cancel{false};
  auto model = fresh_model();
  qnn::TrainOptions o = options("adam", 1);
  o.autosave_path = autosave;
  qnn::train_model(model, m_train, m_test, o, nullptr, cancel);
  QVERIFY(qnn::is_training_checkpoint(autosave));
  auto loaded = fresh_model(3);
  qnn::load_checkpoint(loaded, autosave);  // the model's tensors, nothing else needed
  QCOMPARE(QString::fromStdString(first_difference(loaded, model)), QString());
  QVERIFY(qnn::read_checkpoint_project(autosave) == model->project());
  QCOMPARE(QString::fromStdString(qnn::default_autosave_path("runs/lenet.pt")), QString("runs/lenet.resume.pt"));
  QCOMPARE(QString::fromStdString(qnn::default_autosave_path("m.ckpt")), QString("m.ckpt.resume.pt"));
}

void TestResume::mismatchedResumeIsRefusedByName() {
  const std::string autosave = path("mismatch.resume.pt");
  std::atomic<bool> cancel{false};
  {
    auto model = fresh_model();
    qnn::TrainOptions o = options("adam", 1);
    o.autosave_path = autosave;
    qnn::train_model(model, m_train, m_test, o, nullptr, cancel);
  }
  const QString prefix = "cannot resume from " + QString::fromStdString(autosave) + ": ";
  const QString suffix = "; resume with the same training settings and data (only epochs may change)";
  const auto refused = [&](qnn::QuantModel& model, const qnn::TrainOptions& o, const qnn::Dataset& train) {
    const auto before = qnn::named_tensors(*model);
    std::map<std::string, torch::Tensor> copy;
    for (const auto& [n, t] : before) copy[n] = t.clone();
    const QString m = thrown_message<qnn::ConfigError>([&] { qnn::train_model(model, train, m_test, o, nullptr, cancel); });
    for (const auto& [n, t] : qnn::named_tensors(*model))
      if (!torch::equal(t, copy.at(n))) return "MODEL CHANGED (" + QString::fromStdString(n) + "): " + m;
    return m;
  };
  auto model = fresh_model();
  qnn::TrainOptions o = options("adam", 3);
  o.resume_path = autosave;

  o.spec.learning_rate = 0.02;
  QCOMPARE(refused(model, o, m_train), prefix + "the learning rate is 0.02, the checkpoint's run used 0.01" + suffix);
  o.spec.learning_rate = 0.01;
  o.spec.optimizer = "sgd";
  QCOMPARE(refused(model, o, m_train), prefix + "the optimizer is sgd, the checkpoint's run used adam" + suffix);
  o.spec.optimizer = "adam";
  o.spec.batch_size = 64;
  QCOMPARE(refused(model, o, m_train), prefix + "the batch size is 64, the checkpoint's run used 32" + suffix);
  o.spec.batch_size = 32;
  o.spec.seed = 8;
  QCOMPARE(refused(model, o, m_train), prefix + "the seed is 8, the checkpoint's run used 7" + suffix);
  o.spec.seed = 7;
  o.spec.weight_decay = 0;
  QCOMPARE(refused(model, o, m_train), prefix + "the weight decay is 0, the checkpoint's run used 0.0001" + suffix);
  o.spec.weight_decay = 1e-4;
  o.spec.epochs = 0;
  QCOMPARE(refused(model, o, m_train),
           prefix + "epochs is 0, but the checkpoint already holds 1 complete epoch(s) (use 1 or more)" + suffix);
  o.spec.epochs = 3;
  QCOMPARE(refused(model, o, random_set(224, 8, 21)),
           prefix + "the training set holds 224 samples, the checkpoint's run had 256 (use the same train limit)" +
               suffix);
  QCOMPARE(refused(model, o, random_set(256, 8, 23)),
           prefix + "the training labels differ from those of the checkpoint's run (another dataset or another order)" +
               suffix);
  o.max_batches_per_epoch = 4;
  QCOMPARE(refused(model, o, m_train),
           prefix + "an epoch has 4 batches, the checkpoint's run had 8 (use the same max batches per epoch)" + suffix);
  o.max_batches_per_epoch = 0;

  // Another network (4-bit -> 3-bit ReLU): the checkpoint's tensors would fit, the graph does not.
  torch::manual_seed(1);
  auto other = qnn::build_model(mlp_project(8, 16, 3));
  const QString m = refused(other, o, m_train);
  QVERIFY2(m.startsWith("the checkpoint " + QString::fromStdString(autosave) + " was trained on a different network ("),
           qPrintable(m));
  QVERIFY2(m.contains("relu1"), qPrintable(m));

  // The same settings resume.
  qnn::train_model(model, m_train, m_test, o, nullptr, cancel);
}

void TestResume::finishedModelIsRefusedForResume() {
  const std::string finished = path("finished.pt");
  auto model = fresh_model();
  qnn::save_checkpoint(model, finished);
  QVERIFY(!qnn::is_training_checkpoint(finished));
  QVERIFY(!qnn::is_training_checkpoint(path("missing.pt")));
  const QString expected = QString::fromStdString(finished) +
                           " is a checkpoint of a finished model, not of a training run (it holds no optimizer state "
                           "and position to resume from)";
  QCOMPARE(thrown_message<qnn::ConfigError>([&] { qnn::read_training_checkpoint_info(finished); }), expected);
  qnn::TrainOptions o = options("adam", 1);
  o.resume_path = finished;
  std::atomic<bool> cancel{false};
  QCOMPARE(thrown_message<qnn::ConfigError>([&] { qnn::train_model(model, m_train, m_test, o, nullptr, cancel); }),
           expected);
  QVERIFY(thrown_message<qnn::IoError>([&] { qnn::read_training_checkpoint_info(path("missing.pt")); })
              .contains("file not found"));
}

// A training checkpoint whose entries pass their checksums but do not fit (written so by
// hand): refused as damaged, naming the file, before the model changes.
void TestResume::damagedRunStateLeavesTheModelUnchanged() {
  const std::string autosave = path("damaged-source.resume.pt");
  std::atomic<bool> cancel{false};
  auto trained = fresh_model();
  qnn::TrainOptions first = options("adam", 1);
  first.autosave_path = autosave;
  qnn::train_model(trained, m_train, m_test, first, nullptr, cancel);
  const qnn::TrainingState good = qnn::read_training_state(autosave);

  qnn::TrainOptions o = options("adam", 2);
  const auto model_after_refusal = [&](const std::string& file, QString& message) {
    auto model = fresh_model(5);
    std::map<std::string, torch::Tensor> copy;
    for (const auto& [n, t] : qnn::named_tensors(*model)) copy[n] = t.clone();
    o.resume_path = file;
    message = thrown_message<qnn::DamagedCheckpointError>(
        [&] { qnn::train_model(model, m_train, m_test, o, nullptr, cancel); });
    for (const auto& [n, t] : qnn::named_tensors(*model))
      if (!torch::equal(t, copy.at(n))) return false;
    return true;
  };

  qnn::TrainingState bad_optimizer = good;
  bad_optimizer.optimizer_state = "not an optimizer archive";
  const std::string optimizer_file = path("damaged-optimizer.resume.pt");
  qnn::write_training_checkpoint(trained, bad_optimizer, optimizer_file);
  QString message;
  QVERIFY2(model_after_refusal(optimizer_file, message), qPrintable(message));
  QVERIFY2(message.startsWith("cannot resume from " + QString::fromStdString(optimizer_file) + ": its optimizer state"),
           qPrintable(message));

  qnn::TrainingState bad_rng = good;
  bad_rng.shuffle_rng = torch::zeros({10}, torch::kUInt8);  // a CPU generator state is ~5 KB
  const std::string rng_file = path("damaged-rng.resume.pt");
  qnn::write_training_checkpoint(trained, bad_rng, rng_file);
  QVERIFY2(model_after_refusal(rng_file, message), qPrintable(message));
  QVERIFY2(message.contains(QString::fromStdString(rng_file)) &&
               message.contains("(10 bytes) is not a random generator state of this build"),
           qPrintable(message));
  QVERIFY(!message.contains("c10"));
  QVERIFY_THROWS_EXCEPTION(qnn::DamagedCheckpointError, qnn::read_training_checkpoint_info(rng_file));
}

void TestResume::failedAutosaveIsNotFatal() {
  const std::string nowhere = path("no-such-folder/run.resume.pt");
  auto model = fresh_model();
  qnn::TrainOptions o = options("adam", 2);
  o.autosave_path = nowhere;
  o.autosave_minutes = 0;
  std::atomic<bool> cancel{false};
  const auto r = qnn::train_model(model, m_train, m_test, o, nullptr, cancel);
  QCOMPARE(int(r.epochs.size()), 2);
  QCOMPARE(history_text(r.epochs).count('\n'), 2);
  QStringList autosave_notes;
  for (const auto& n : r.notes)
    if (QString::fromStdString(n).startsWith("autosave")) autosave_notes << QString::fromStdString(n);
  QCOMPARE(autosave_notes,
           QStringList{"autosave failed: cannot write training checkpoint " + QString::fromStdString(nowhere) +
                       ": the folder does not exist; training goes on without it"});
}

// ---------------------------------------------------------------- CLI

void TestResume::write_cli_project() {
  qnn::Project p = mlp_project(28, 64);
  p.name = "resume CLI";
  p.training.threads = 1;
  p.training.batch_size = 32;
  p.training.learning_rate = 0.005;
  p.training.seed = 3;
  m_project = m_dir.filePath("mlp.qnn.json");
  qnn::save_project(p, m_project.toStdString());
}

void TestResume::cliKilledRunResumesToTheSameCheckpoint() {
  const QStringList common{m_project, "--epochs", "3", "--train-limit", "1024", "--test-limit", "200"};
  const QString ref = m_dir.filePath("cli-ref.pt");
  const Run reference = qnn_cli(QStringList(common) << "--checkpoint" << ref << "--no-autosave");
  QVERIFY2(reference.code == 0, qPrintable(reference.text()));
  QVERIFY2(!reference.out.contains("autosave:"), qPrintable(reference.text()));

  // The run to kill: autosaved after every batch (32 per epoch, 96 in all).
  const QString out = m_dir.filePath("cli-out.pt");
  const std::string autosave = m_dir.filePath("cli-out.resume.pt").toStdString();
  QProcess child;
  child.start(QStringLiteral(QNN_CLI_PATH), QStringList{"train"} + common << "--checkpoint" << out << "--autosave-minutes" << "0");
  QVERIFY(child.waitForStarted());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int64_t step = -1;
  while ((step = autosaved_step(autosave)) < 45 && child.state() == QProcess::Running &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  QVERIFY2(child.state() == QProcess::Running, qPrintable("the run ended before it was killed:\n" +
                                                          QString::fromUtf8(child.readAllStandardOutput()) +
                                                          QString::fromUtf8(child.readAllStandardError())));
  child.kill();  // SIGKILL
  child.waitForFinished();
  const QString killed_out = QString::fromUtf8(child.readAllStandardOutput());
  QVERIFY2(killed_out.contains("autosave: " + QString::fromStdString(autosave) +
                               " (after every batch and every epoch)"),
           qPrintable(killed_out));
  QVERIFY(!QFile::exists(out));
  const qnn::TrainingCheckpointInfo info = qnn::read_training_checkpoint_info(autosave);
  QVERIFY2(info.global_step >= 45 && info.global_step < 96, qPrintable(QString::number(info.global_step)));

  const Run resumed = qnn_cli(QStringList(common) << "--resume" << QString::fromStdString(autosave) << "--checkpoint" << out);
  QVERIFY2(resumed.code == 0, qPrintable(resumed.text()));
  const QString line = QString("resuming from %1: epoch %2 of 3, batch %3 of 32, step %4")
                           .arg(QString::fromStdString(autosave))
                           .arg(info.epochs_done + 1)
                           .arg(info.batch_in_epoch)
                           .arg(info.global_step);
  QVERIFY2(resumed.out.contains(line), qPrintable(line + "\n" + resumed.text()));
  // The interrupted epoch's time includes its part before the kill.
  const QRegularExpression epoch_time(
      QString("epoch %1/3  train_loss=.*  (\\d+\\.\\d)s\n").arg(info.epochs_done + 1));
  const QRegularExpressionMatch interrupted = epoch_time.match(resumed.out);
  QVERIFY2(interrupted.hasMatch(), qPrintable(resumed.text()));
  const double before_kill = info.seconds - (info.history.empty() ? 0.0 : info.history.back().seconds);
  QVERIFY2(interrupted.captured(1).toDouble() >= before_kill - 0.05,
           qPrintable(QString("%1 s before the kill, epoch line %2").arg(before_kill).arg(interrupted.captured(0))));
  // Only the new epochs' lines, equal to the uninterrupted run's (but for the wall time).
  const QStringList ref_lines = epoch_lines(reference.out), new_lines = epoch_lines(resumed.out);
  QCOMPARE(ref_lines.size(), 3);
  QCOMPARE(new_lines, ref_lines.mid(int(info.epochs_done)));
  QVERIFY2(resumed.out.contains("saved checkpoint " + out + " (96 optimizer steps)"), qPrintable(resumed.text()));
  QCOMPARE(resumed.out.section("test_accuracy=", 1), reference.out.section("test_accuracy=", 1));
  QVERIFY2(!fs::exists(autosave), "the autosave stays after the final checkpoint was written");
  QCOMPARE(temporaries_of(autosave), 0);

  // Every tensor of the two final checkpoints is equal.
  const qnn::Project p = qnn::load_project(m_project.toStdString());
  auto a = qnn::build_model(p);
  auto b = qnn::build_model(p);
  qnn::load_checkpoint(a, ref.toStdString());
  qnn::load_checkpoint(b, out.toStdString());
  QCOMPARE(QString::fromStdString(first_difference(a, b)), QString());
}

void TestResume::cliRefusesMismatchedResume() {
  const QString autosave = m_dir.filePath("cli-mismatch.resume.pt");
  const QStringList common{m_project, "--train-limit", "256", "--test-limit", "50"};
  const Run first = qnn_cli(QStringList(common) << "--epochs" << "1" << "--autosave" << autosave);
  QVERIFY2(first.code == 0, qPrintable(first.text()));
  QVERIFY2(first.out.contains("autosave: " + autosave + " (every 5 min and every epoch)"), qPrintable(first.text()));
  QVERIFY(qnn::is_training_checkpoint(autosave.toStdString()));  // no --checkpoint: kept

  const Run lr = qnn_cli(QStringList(common) << "--epochs" << "2" << "--lr" << "0.01" << "--resume" << autosave);
  QCOMPARE(lr.code, 1);
  QVERIFY2(!lr.out.contains("resuming from"), qPrintable(lr.text()));  // refused: it does not resume
  QVERIFY2(lr.err.contains("qnn train: error: cannot resume from " + autosave +
                           ": the learning rate is 0.01, the checkpoint's run used 0.005; resume with the same "
                           "training settings and data (only epochs may change)"),
           qPrintable(lr.text()));
  const Run limit = qnn_cli({m_project, "--train-limit", "128", "--epochs", "2", "--resume", autosave});
  QCOMPARE(limit.code, 1);
  QVERIFY2(limit.err.contains("the training set holds 128 samples, the checkpoint's run had 256"), qPrintable(limit.text()));

  const QString finished = m_dir.filePath("cli-finished.pt");
  const Run done = qnn_cli(QStringList(common) << "--epochs" << "1" << "--max-batches" << "1" << "--checkpoint" << finished);
  QVERIFY2(done.code == 0, qPrintable(done.text()));
  const Run refused = qnn_cli(QStringList(common) << "--resume" << finished);
  QCOMPARE(refused.code, 1);
  QVERIFY2(refused.err.contains(finished + " is a checkpoint of a finished model, not of a training run"),
           qPrintable(refused.text()));

  const Run both = qnn_cli(QStringList(common) << "--resume" << autosave << "--weights" << finished);
  QCOMPARE(both.code, 2);
  QVERIFY2(both.err.contains("--weights cannot be combined with --resume"), qPrintable(both.text()));
  const Run minutes = qnn_cli(QStringList(common) << "--autosave" << autosave << "--autosave-minutes" << "-1");
  QCOMPARE(minutes.code, 2);
  QVERIFY2(minutes.err.contains("--autosave-minutes expects 0 (after every batch) or a positive number of minutes, got '-1'"),
           qPrintable(minutes.text()));
}

void TestResume::killDuringSaveLeavesOldOrNewFile() {
  // A child that does little but write checkpoints: one every batch into `target`.
  const std::string target = m_dir.filePath("killed.resume.pt").toStdString();
  const QStringList args{m_project, "--epochs", "50", "--train-limit", "512", "--test-limit", "10",
                         "--autosave", QString::fromStdString(target), "--autosave-minutes", "0"};
  const qnn::Project p = qnn::load_project(m_project.toStdString());
  std::mt19937 rng(12345);
  int kills = 0, loaded = 0, left_temporaries = 0;
  bool existed = false;
  while (kills < 15 || (left_temporaries == 0 && kills < 40)) {
    QProcess child;
    child.start(QStringLiteral(QNN_CLI_PATH), QStringList{"train"} + args);
    QVERIFY(child.waitForStarted());
    // Wait for the first temporary of this child (its first save under way), then a
    // random further delay of 0-40 ms: saves every few ms, so kills land at every stage.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (temporaries_of(target, child.processId()) == 0 && child.state() == QProcess::Running &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 40000)(rng)));
    QVERIFY2(child.state() == QProcess::Running, "the child ended before it was killed");
    child.kill();
    child.waitForFinished();
    ++kills;
    if (temporaries_of(target) > 0) ++left_temporaries;
    // The target is always complete: it loads, every checksum passes; once written it
    // never disappears (the old file stays until the new one is complete).
    QVERIFY2(!existed || fs::exists(target), qPrintable(QString("after kill %1 the checkpoint is gone").arg(kills)));
    if (fs::exists(target)) {
      existed = true;
      auto m = qnn::build_model(p);
      try {
        qnn::load_checkpoint(m, target);
        qnn::read_training_checkpoint_info(target);
        ++loaded;
      } catch (const std::exception& e) {
        QFAIL(qPrintable(QString("after kill %1 the checkpoint is broken: %2").arg(kills).arg(e.what())));
      }
    }
  }
  QVERIFY2(loaded >= kills / 2, qPrintable(QString("the checkpoint existed after only %1 of %2 kills").arg(loaded).arg(kills)));
  // Some kills hit a save between creating its temporary and the rename.
  QVERIFY2(left_temporaries > 0, qPrintable(QString("no kill of %1 left a temporary").arg(kills)));
  qInfo("%d kills: %d left a temporary file, the checkpoint loaded after %d", kills, left_temporaries, loaded);

  // The next save removes the stale temporaries of the killed processes.
  const Run last = qnn_cli({m_project, "--epochs", "1", "--max-batches", "1", "--train-limit", "64", "--test-limit",
                            "10", "--autosave", QString::fromStdString(target)});
  QVERIFY2(last.code == 0, qPrintable(last.text()));
  QCOMPARE(temporaries_of(target), 0);
  QCOMPARE(qnn::read_training_checkpoint_info(target).global_step, int64_t(1));
}

QTEST_GUILESS_MAIN(TestResume)
#include "test_resume.moc"
