// SPDX-License-Identifier: GPL-3.0-or-later
// The BatchNorm batch rule of the trainer (issue 11, numerical traps): a BatchNorm
// layer that sees one value per channel cannot train on a batch of one sample, so the
// trainer drops such a short last batch (and says so) or refuses batch size 1 up front.
#include <cmath>

#include "core/errors.h"
#include "core/graph/model.h"
#include "core/train/trainer.h"

#include <QtTest>

namespace {

qnn::LayerSpec layer(const std::string& id, qnn::LayerType type, const std::string& input) {
  qnn::LayerSpec l;
  l.id = id;
  l.type = type;
  if (!input.empty()) l.inputs = {input};
  return l;
}

/// Input [2, side, side] -> Conv2d 2->4 (k3) -> BatchNorm2d "bn" -> Flatten -> Linear -> Output.
/// side 3: the BatchNorm sees [4, 1, 1] (one value per channel); side 4: [4, 2, 2].
qnn::Project bn_project(int64_t side) {
  qnn::Project p;
  p.input_shape = {2, side, side};
  p.layers.push_back(layer("input", qnn::LayerType::Input, ""));
  auto conv = layer("conv", qnn::LayerType::Conv2d, "input");
  conv.params = {{"in_channels", 2}, {"out_channels", 4}, {"kernel_size", 3}, {"bias", 1}};
  p.layers.push_back(conv);
  auto bn = layer("bn", qnn::LayerType::BatchNorm2d, "conv");
  bn.params = {{"num_features", 4}};
  p.layers.push_back(bn);
  p.layers.push_back(layer("flatten", qnn::LayerType::Flatten, "bn"));
  const int64_t o = side - 2;
  auto fc = layer("fc", qnn::LayerType::Linear, "flatten");
  fc.params = {{"in_features", double(4 * o * o)}, {"out_features", 3}, {"bias", 1}};
  p.layers.push_back(fc);
  p.layers.push_back(layer("output", qnn::LayerType::Output, "fc"));
  return p;
}

qnn::TrainOptions options(int64_t batch_size) {
  qnn::TrainOptions o;
  o.spec.batch_size = batch_size;
  o.spec.epochs = 2;
  o.spec.threads = 1;
  o.spec.seed = 3;
  return o;
}

qnn::Dataset random_set(int64_t n, int64_t side) {
  torch::manual_seed(11);
  qnn::Dataset d;
  d.images = torch::randn({n, 2, side, side});
  d.labels = torch::randint(0, 3, {n}, torch::kInt64);
  d.class_names = {"a", "b", "c"};
  return d;
}

}  // namespace

class TestBatchPlan : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void shortBatchOfOneIsDroppedAndNamed() {
    qnn::QuantModel m = qnn::build_model(bn_project(3));
    const qnn::BatchPlan plan = qnn::plan_batches(m, 65, options(8));  // 65 = 8 x 8 + 1
    QCOMPARE(plan.batches, int64_t(8));
    QVERIFY(plan.drops_last);
    QVERIFY2(plan.note.find("BatchNorm layer bn") != std::string::npos, plan.note.c_str());
    QVERIFY2(plan.note.find("[4, 1, 1]") != std::string::npos, plan.note.c_str());
    QVERIFY2(plan.note.find("65 = 8 x 8 + 1") != std::string::npos, plan.note.c_str());
  }

  void otherRemaindersAndSpatialInputsKeepEveryBatch() {
    qnn::QuantModel single = qnn::build_model(bn_project(3));
    const qnn::BatchPlan two_left = qnn::plan_batches(single, 66, options(8));  // 8 x 8 + 2
    QCOMPARE(two_left.batches, int64_t(9));
    QVERIFY(!two_left.drops_last);
    QVERIFY(two_left.note.empty());
    // [4, 2, 2]: 4 values per channel even for one sample.
    qnn::QuantModel spatial = qnn::build_model(bn_project(4));
    const qnn::BatchPlan keep = qnn::plan_batches(spatial, 65, options(8));
    QCOMPARE(keep.batches, int64_t(9));
    QVERIFY(!keep.drops_last);
    // max_batches_per_epoch below the short batch: nothing to drop, nothing to say.
    qnn::TrainOptions o = options(8);
    o.max_batches_per_epoch = 3;
    const qnn::BatchPlan capped = qnn::plan_batches(single, 65, o);
    QCOMPARE(capped.batches, int64_t(3));
    QVERIFY(capped.note.empty());
  }

  void batchSizeOneIsRefusedNamingTheLayer() {
    qnn::QuantModel m = qnn::build_model(bn_project(3));
    try {
      qnn::plan_batches(m, 10, options(1));
      QFAIL("batch size 1 with a one-value-per-channel BatchNorm was accepted");
    } catch (const qnn::ConfigError& e) {
      const std::string what = e.what();
      QVERIFY2(what.find("bn") != std::string::npos && what.find("batch size of 2") != std::string::npos,
               what.c_str());
    }
    qnn::QuantModel spatial = qnn::build_model(bn_project(4));
    QCOMPARE(qnn::plan_batches(spatial, 10, options(1)).batches, int64_t(10));
  }

  /// The real trap: without the rule, the 65th sample trains alone through the BatchNorm
  /// (LibTorch refuses, or the running variance turns NaN). With it, training runs, the
  /// statistics stay finite and the result carries the note.
  void trainingKeepsRunningStatisticsFinite() {
    qnn::QuantModel m = qnn::build_model(bn_project(3));
    const qnn::Dataset train = random_set(65, 3), test = random_set(16, 3);
    std::atomic<bool> cancel{false};
    const qnn::TrainResult r = qnn::train_model(m, train, test, options(8), nullptr, cancel);
    QCOMPARE(r.epochs.size(), size_t(2));
    QCOMPARE(r.notes.size(), size_t(1));
    QVERIFY(std::isfinite(r.test.loss));
    for (const auto& kv : m->named_buffers(true)) {
      if (kv.key().find("running_") == std::string::npos) continue;
      QVERIFY2(torch::isfinite(kv.value()).all().item<bool>(), kv.key().c_str());
    }
    // 8 batches per epoch x 2 epochs: the BatchNorm counted exactly those.
    for (const auto& kv : m->named_buffers(true))
      if (kv.key().find("num_batches_tracked") != std::string::npos) QCOMPARE(kv.value().item<int64_t>(), int64_t(16));
  }
};

QTEST_MAIN(TestBatchPlan)
#include "test_batch_plan.moc"
