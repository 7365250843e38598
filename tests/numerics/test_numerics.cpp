// SPDX-License-Identifier: GPL-3.0-or-later
// Numerics guards (issue 16 item 4): NaN/Inf never reaches a result as if it were a
// number. Training stops at the first non-finite loss, gradient, buffer or weight with a
// message naming the step and the tensor, keeping the weights of the last good step;
// eval of a never-calibrated model warns; export refuses non-finite weights by name and
// verification reports NaN logits as such.
#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/export/export.h"
#include "core/export/export_plan.h"
#include "core/export/packed_model.h"
#include "core/export/verify.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/train/checkpoint.h"
#include "core/train/trainer.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/thrown_message.h"
#include "tests/cli_run.h"

namespace {

qnn::LayerSpec layer(const std::string& id, qnn::LayerType type, const std::string& input) {
  qnn::LayerSpec l;
  l.id = id;
  l.type = type;
  if (!input.empty()) l.inputs = {input};
  return l;
}

/// Input [1, 8, 8] -> QuantIdentity (8 bit) -> Flatten -> QuantLinear 64->16 -> QuantReLU
/// (4 bit) -> QuantLinear 16->3 -> Output: two activation quantizers with statistics.
qnn::Project mlp_project() {
  qnn::Project p;
  p.name = "numerics MLP";
  p.input_shape = {1, 8, 8};
  p.dataset.pad = 0;
  p.layers.push_back(layer("input", qnn::LayerType::Input, ""));
  auto inp = layer("quant_inp", qnn::LayerType::QuantIdentity, "input");
  inp.act_quant = qnn::presets::Int8ActPerTensorFloat();
  inp.return_quant_tensor = true;
  p.layers.push_back(inp);
  p.layers.push_back(layer("flatten", qnn::LayerType::Flatten, "quant_inp"));
  auto fc1 = layer("fc1", qnn::LayerType::QuantLinear, "flatten");
  fc1.params = {{"in_features", 64}, {"out_features", 16}, {"bias", 1}};
  fc1.weight_quant = qnn::presets::Int8WeightPerTensorFloat();
  p.layers.push_back(fc1);
  auto relu = layer("relu1", qnn::LayerType::QuantReLU, "fc1");
  relu.act_quant = qnn::presets::Uint8ActPerTensorFloat();
  relu.act_quant->bit_width = 4;
  relu.return_quant_tensor = true;
  p.layers.push_back(relu);
  auto fc2 = layer("fc2", qnn::LayerType::QuantLinear, "relu1");
  fc2.params = {{"in_features", 16}, {"out_features", 3}, {"bias", 1}};
  fc2.weight_quant = qnn::presets::Int8WeightPerTensorFloat();
  p.layers.push_back(fc2);
  p.layers.push_back(layer("output", qnn::LayerType::Output, "fc2"));
  return p;
}

/// Input [2, 4, 4] -> Conv2d 2->4 (k3) -> BatchNorm2d "bn" -> Flatten -> Linear 16->3 -> Output.
qnn::Project bn_project() {
  qnn::Project p;
  p.input_shape = {2, 4, 4};
  p.layers.push_back(layer("input", qnn::LayerType::Input, ""));
  auto conv = layer("conv", qnn::LayerType::Conv2d, "input");
  conv.params = {{"in_channels", 2}, {"out_channels", 4}, {"kernel_size", 3}, {"bias", 1}};
  p.layers.push_back(conv);
  auto bn = layer("bn", qnn::LayerType::BatchNorm2d, "conv");
  bn.params = {{"num_features", 4}};
  p.layers.push_back(bn);
  p.layers.push_back(layer("flatten", qnn::LayerType::Flatten, "bn"));
  auto fc = layer("fc", qnn::LayerType::Linear, "flatten");
  fc.params = {{"in_features", 16}, {"out_features", 3}, {"bias", 1}};
  p.layers.push_back(fc);
  p.layers.push_back(layer("output", qnn::LayerType::Output, "fc"));
  return p;
}

qnn::Dataset random_set(int64_t n, std::vector<int64_t> sample_shape, uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<int64_t> shape{n};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  qnn::Dataset d;
  d.images = torch::randn(shape);
  d.labels = torch::randint(0, 3, {n}, torch::kInt64);
  d.class_names = {"a", "b", "c"};
  return d;
}

qnn::TrainOptions options(const std::string& optimizer, double lr, int64_t max_batches = 0) {
  qnn::TrainOptions o;
  o.spec.optimizer = optimizer;
  o.spec.learning_rate = lr;
  o.spec.batch_size = 32;
  o.spec.epochs = 1;
  o.spec.seed = 5;
  o.spec.threads = 1;
  o.max_batches_per_epoch = max_batches;
  return o;
}

/// Every parameter and buffer of the model holds only finite values.
bool all_finite(qnn::QuantModel& m) {
  for (const auto& [name, t] : qnn::named_tensors(*m))
    if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>()) return false;
  return true;
}

/// The first tensor whose value differs between the models ("" when all are equal).
std::string first_difference(qnn::QuantModel& a, qnn::QuantModel& b) {
  const auto tb = qnn::named_tensors(*b);
  for (const auto& [name, t] : qnn::named_tensors(*a)) {
    const auto it = tb.find(name);
    if (it == tb.end() || !torch::equal(t, it->second)) return name;
  }
  return "";
}

struct Failure {
  QString message;
  int64_t epoch = -1, step = -1;
};

/// Trains and returns the NumericsError (message "NOTHING THROWN" when training finished).
Failure train_until_failure(qnn::QuantModel& model, const qnn::Dataset& train, const qnn::Dataset& test,
                            const qnn::TrainOptions& o) {
  std::atomic<bool> cancel{false};
  Failure f;
  try {
    qnn::train_model(model, train, test, o, nullptr, cancel);
    f.message = "NOTHING THROWN";
  } catch (const qnn::NumericsError& e) {
    f.message = QString::fromStdString(e.what());
    f.epoch = e.epoch();
    f.step = e.step();
  } catch (const std::exception& e) {
    f.message = QStringLiteral("WRONG EXCEPTION TYPE: ") + e.what();
  }
  return f;
}

using Run = qnn_test::CliRun;

Run qnn_cli(const QStringList& args) { return qnn_test::runQnn(args, 300000); }

QString example(const char* name) {
  return QStringLiteral(QNN_SOURCE_DIR) + "/resources/examples/" + name + ".qnn.json";
}

}  // namespace

class TestNumerics : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void divergingRunStopsAndKeepsLastGoodWeights();
  void nanInBatchNormBufferIsNamed();
  void nanInTrainingDataStopsAtOnce();
  void uncalibratedQuantizersAreListed();
  void exportRefusesNonFiniteWeights();
  void verifyReportsNonFiniteLogits();
  void packedCodeOutOfRangeNamesTheTensor();
  void cliTrainWithHugeLearningRateFails();
  void cliEvalWarnsAboutUncalibratedModel();

 private:
  qnn::Dataset m_train, m_test;
  QTemporaryDir m_dir;
};

void TestNumerics::initTestCase() {
  QVERIFY(m_dir.isValid());
  qnn::set_thread_count(1);
  m_train = random_set(512, {1, 8, 8}, 21);
  m_test = random_set(64, {1, 8, 8}, 22);
}

void TestNumerics::divergingRunStopsAndKeepsLastGoodWeights() {
  const qnn::TrainOptions o = options("sgd", 1e30);
  torch::manual_seed(1);
  auto model = qnn::build_model(mlp_project());
  const Failure f = train_until_failure(model, m_train, m_test, o);
  QVERIFY2(f.step >= 1, qPrintable(f.message));
  QCOMPARE(f.epoch, int64_t(1));
  const QString where = QString("Training stopped at epoch 1, step %1 (batch %1 of 16; sgd, learning rate 1e+30): ")
                            .arg(f.step);
  QVERIFY2(f.message.startsWith(where), qPrintable(f.message));
  const QString kept = f.step == 1 ? QString("The weights the run started from were kept")
                                   : QString("The weights after step %1 were kept").arg(f.step - 1);
  QVERIFY2(f.message.contains(kept), qPrintable(f.message));
  QVERIFY2(f.message.endsWith("lower the learning rate (or check the data for NaN/Inf) and train again."),
           qPrintable(f.message));
  QVERIFY(!f.message.contains("nan") && !f.message.contains("inf "));  // never a raw printf NaN
  QVERIFY(!model->is_training());
  QVERIFY(all_finite(model));

  // The kept state is exactly that of a run stopped after step - 1 batches.
  torch::manual_seed(1);
  auto reference = qnn::build_model(mlp_project());
  if (f.step > 1) {
    std::atomic<bool> cancel{false};
    qnn::train_model(reference, m_train, m_test, options("sgd", 1e30, f.step - 1), nullptr, cancel);
  }
  QCOMPARE(QString::fromStdString(first_difference(model, reference)), QString());

  // Reproducible: the same run stops at the same step with the same message.
  torch::manual_seed(1);
  auto again = qnn::build_model(mlp_project());
  const Failure g = train_until_failure(again, m_train, m_test, o);
  QCOMPARE(g.step, f.step);
  QCOMPARE(g.message, f.message);
}

void TestNumerics::nanInBatchNormBufferIsNamed() {
  const qnn::Dataset train = random_set(128, {2, 4, 4}, 31), test = random_set(16, {2, 4, 4}, 32);
  torch::manual_seed(2);
  auto model = qnn::build_model(bn_project());
  {
    torch::NoGradGuard no_grad;
    qnn::named_tensors(*model).at("bn.running_var").fill_(std::numeric_limits<float>::quiet_NaN());
  }
  const torch::Tensor conv_before = qnn::named_tensors(*model).at("conv.weight").clone();
  const Failure f = train_until_failure(model, train, test, options("adam", 1e-3));
  QCOMPARE(f.step, int64_t(1));
  QVERIFY2(f.message.startsWith("Training stopped at epoch 1, step 1 (batch 1 of 4; adam, learning rate 0.001): "
                                "bn.running_var (a BatchNorm running statistic) holds NaN in 4 of 4 values after "
                                "the forward pass, while the loss ("),
           qPrintable(f.message));
  QVERIFY2(f.message.contains(") and the gradients are finite. The weights the run started from were kept; "),
           qPrintable(f.message));
  // Restored: the optimizer step that followed the forward pass is undone.
  QVERIFY(torch::equal(qnn::named_tensors(*model).at("conv.weight"), conv_before));
}

void TestNumerics::nanInTrainingDataStopsAtOnce() {
  qnn::Dataset train = random_set(64, {1, 8, 8}, 41);
  train.images.fill_(std::numeric_limits<float>::quiet_NaN());
  torch::manual_seed(3);
  auto model = qnn::build_model(mlp_project());
  const auto before = qnn::named_tensors(*model);
  std::map<std::string, torch::Tensor> copy;
  for (const auto& [name, t] : before) copy[name] = t.clone();
  const Failure f = train_until_failure(model, train, m_test, options("adam", 1e-3));
  QCOMPARE(f.step, int64_t(1));
  QVERIFY2(f.message.startsWith("Training stopped at epoch 1, step 1 (batch 1 of 2; adam, learning rate 0.001): "
                                "the loss is NaN; the first non-finite gradient is that of "),
           qPrintable(f.message));
  for (const auto& [name, t] : qnn::named_tensors(*model))
    QVERIFY2(torch::equal(t, copy.at(name)), name.c_str());  // counters and statistics too
}

void TestNumerics::uncalibratedQuantizersAreListed() {
  torch::manual_seed(4);
  auto model = qnn::build_model(mlp_project());
  const std::vector<std::string> names = qnn::uncalibrated_act_quantizers(*model);
  QCOMPARE(names, (std::vector<std::string>{"quant_inp", "relu1"}));
  QCOMPARE(QString::fromStdString(qnn::uncalibrated_warning(names)),
           QString("Activation quantizers quant_inp, relu1 were never calibrated (their scales are initial values): "
                   "run calibrate or train first."));
  QCOMPARE(QString::fromStdString(qnn::uncalibrated_warning({"relu1"})),
           QString("Activation quantizer relu1 was never calibrated (its scale is an initial value): "
                   "run calibrate or train first."));
  // One training step calibrates both; a float network has nothing to calibrate.
  std::atomic<bool> cancel{false};
  qnn::train_model(model, m_train, m_test, options("adam", 1e-3, 1), nullptr, cancel);
  QCOMPARE(qnn::uncalibrated_act_quantizers(*model), std::vector<std::string>{});
  auto plain = qnn::build_model(bn_project());
  QCOMPARE(qnn::uncalibrated_act_quantizers(*plain), std::vector<std::string>{});
}

void TestNumerics::exportRefusesNonFiniteWeights() {
  torch::manual_seed(5);
  auto model = qnn::build_model(mlp_project());
  std::atomic<bool> cancel{false};
  qnn::train_model(model, m_train, m_test, options("adam", 1e-3, 2), nullptr, cancel);
  {
    torch::NoGradGuard no_grad;
    auto w = qnn::named_tensors(*model).at("fc2.weight");
    w.view({-1}).narrow(0, 0, 3).fill_(std::numeric_limits<float>::quiet_NaN());
    qnn::named_tensors(*model).at("relu1.act_quant.value").fill_(std::numeric_limits<float>::infinity());
  }
  const QString expected =
      "Cannot export: relu1.act_quant.value contains Inf (1 of 1 values) (and 1 more tensor); the model diverged in "
      "training (learning rate too high) or its checkpoint is damaged: retrain with a lower learning rate";
  QCOMPARE(thrown_message<qnn::ExportError>([&] { qnn::make_export_plan(model); }), expected);
  const std::string path = QDir(m_dir.path()).filePath("nan.qnnpack").toStdString();
  QCOMPARE(thrown_message<qnn::ExportError>([&] { qnn::export_model(model, qnn::ExportFormat::Packed, path); }),
           expected);
  QVERIFY(!std::filesystem::exists(path));
  {
    torch::NoGradGuard no_grad;
    qnn::named_tensors(*model).at("relu1.act_quant.value").fill_(1.0);
  }
  QCOMPARE(thrown_message<qnn::ExportError>([&] { qnn::make_export_plan(model); }),
           QString("Cannot export: fc2.weight contains NaN (3 of 48 values); the model diverged in training "
                   "(learning rate too high) or its checkpoint is damaged: retrain with a lower learning rate"));
}

void TestNumerics::verifyReportsNonFiniteLogits() {
  const torch::Tensor ref = torch::tensor({{1.0f, 2.0f}, {3.0f, 0.0f}, {0.5f, 0.25f}, {2.0f, 1.0f}});
  torch::Tensor out = ref.clone();
  out[2][1] = std::numeric_limits<float>::quiet_NaN();
  const qnn::VerifyResult r = qnn::compare_logits(ref, out, torch::full({2}, 0.25f));
  QVERIFY(!r.passed);
  QCOMPARE(r.non_finite_exported, int64_t(1));
  QCOMPARE(r.non_finite_app, int64_t(0));
  QCOMPARE(QString::fromStdString(r.text()),
           QString("non-finite logits (NaN/Inf): 1 of 4 samples in the exported file's output, 0 in the app's "
                   "-> FAIL"));
  const qnn::VerifyResult fine = qnn::compare_logits(ref, ref.clone(), torch::full({2}, 0.25f));
  QVERIFY(fine.passed);
  QCOMPARE(fine.non_finite_exported + fine.non_finite_app, int64_t(0));
}

void TestNumerics::packedCodeOutOfRangeNamesTheTensor() {
  torch::manual_seed(6);
  auto model = qnn::build_model(mlp_project());
  std::atomic<bool> cancel{false};
  qnn::train_model(model, m_train, m_test, options("adam", 1e-3, 1), nullptr, cancel);
  qnn::ExportPlan plan = qnn::make_export_plan(model);
  bool changed = false;
  for (qnn::PlanNode& n : plan.nodes)
    if (n.id == "fc1") {
      n.weight_codes.view({-1})[0] = 1000;
      changed = true;
    }
  QVERIFY(changed);
  QCOMPARE(thrown_message<qnn::ExportError>([&] { qnn::packed_model_bytes(plan); }),
           QString("fc1.weight: code 1000 does not fit 8 bits"));
}

void TestNumerics::cliTrainWithHugeLearningRateFails() {
  const QString ckpt = QDir(m_dir.path()).filePath("diverged.qnnckpt");
  const QStringList args{"train", example("lenet_lowprec"), "--lr", "1e6", "--epochs", "2", "--train-limit", "256",
                         "--test-limit", "64", "--threads", "1", "--checkpoint", ckpt};
  const Run r = qnn_cli(args);
  QVERIFY2(r.code == 1, qPrintable(r.text()));
  QVERIFY2(r.err.contains("qnn train: error: Training stopped at epoch 1, step "), qPrintable(r.text()));
  QVERIFY2(r.err.contains("adam, learning rate 1e+06): the loss is "), qPrintable(r.text()));
  QVERIFY2(r.err.contains("qnn train: no checkpoint was written to " + ckpt), qPrintable(r.text()));
  QVERIFY2(!r.out.contains("test_accuracy="), qPrintable(r.text()));
  QVERIFY(!QFile::exists(ckpt));
  const Run again = qnn_cli(args);
  QCOMPARE(again.err, r.err);  // same step, same message
}

void TestNumerics::cliEvalWarnsAboutUncalibratedModel() {
  const std::string project_path = example("lenet5_classic").toStdString();
  const qnn::Project p = qnn::load_project(project_path);
  torch::manual_seed(0);
  auto model = qnn::build_model(p);
  const QString ckpt = QDir(m_dir.path()).filePath("untrained.qnnckpt");
  qnn::save_checkpoint(model, ckpt.toStdString());
  const Run r = qnn_cli({"eval", example("lenet5_classic"), "--checkpoint", ckpt, "--test-limit", "32",
                         "--threads", "1"});
  QVERIFY2(r.code == 0, qPrintable(r.text()));
  QVERIFY2(r.err.contains("qnn eval: warning: Activation quantizers quant_inp, tanh1, tanh2, tanh3, tanh4 were "
                          "never calibrated (their scales are initial values): run calibrate or train first.\n"),
           qPrintable(r.text()));
  QVERIFY2(r.out.contains("test_accuracy="), qPrintable(r.text()));  // eval still runs
}

QTEST_MAIN(TestNumerics)
#include "test_numerics.moc"
