// SPDX-License-Identifier: GPL-3.0-or-later
// The example networks beyond LeNet (issue 11 item 5): each validates, trains a few
// batches (Fashion-MNIST from the Debian package; CNV on CIFAR-10-shaped random data,
// since Debian ships no CIFAR-10), and its QCDQ export agrees with the app in ONNX
// Runtime. The GUI's File > New from Template menu lists each one.
#include <torch/torch.h>

#include <atomic>
#include <filesystem>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/export/export.h"
#include "core/export/verify.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/graph/validate.h"
#include "core/train/trainer.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace qnn;

namespace {

Project example(const std::string& name) {
  return load_project(std::string(QNN_SOURCE_DIR) + "/resources/examples/" + name + ".qnn.json");
}

std::string errors(const ValidationResult& v) {
  std::string s;
  for (const Diagnostic& d : v.diagnostics) s += diagnostic_line(d) + "\n";
  return s;
}

/// A random labelled set of the project's input shape (for CNV: no CIFAR-10 in Debian).
Dataset random_set(const Project& p, int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  Dataset d;
  std::vector<int64_t> shape{n};
  shape.insert(shape.end(), p.input_shape.begin(), p.input_shape.end());
  d.images = torch::randn(shape);
  d.labels = torch::randint(0, 10, {n}, torch::kLong);
  return d;
}

}  // namespace

class TestExamples : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

  /// Validates, trains `batches` batches of 64 on `train`, checks the weights moved and
  /// the loss is finite, then exports QCDQ and runs it in ONNX Runtime on `test`.
  void trainAndExport(const std::string& name, const Dataset& train, const Dataset& test, int64_t batches) {
    const Project p = example(name);
    const ValidationResult v = validate(p);
    QVERIFY2(v.ok(), (name + ":\n" + errors(v)).c_str());
    QCOMPARE(std::vector<int64_t>(train.images.sizes().begin() + 1, train.images.sizes().end()), p.input_shape);
    torch::manual_seed(0);
    QuantModel m = build_model(p);
    std::vector<torch::Tensor> before;
    for (const auto& t : m->parameters()) before.push_back(t.detach().clone());
    TrainOptions o;
    o.spec = p.training;
    o.spec.epochs = 1;
    o.spec.threads = 2;
    o.max_batches_per_epoch = batches;
    std::atomic<bool> cancel{false};
    const TrainResult r = train_model(m, train, test, o, {}, cancel);
    QCOMPARE(int(r.epochs.size()), 1);
    QVERIFY2(std::isfinite(r.epochs[0].train_loss), name.c_str());
    QVERIFY(r.test.accuracy >= 0.0 && r.test.accuracy <= 1.0);
    bool moved = false;
    const auto after = m->parameters();
    for (size_t i = 0; i < before.size(); ++i) moved = moved || !torch::equal(before[i], after[i].detach());
    QVERIFY2(moved, (name + ": training left every parameter unchanged").c_str());
    const std::string file = m_dir.filePath(QString::fromStdString(name + ".onnx")).toStdString();
    export_model(m, ExportFormat::Qcdq, file);
    const VerifyResult vr = verify_export(m, ExportFormat::Qcdq, file, test.images);
    QVERIFY2(vr.passed && vr.agreement >= 0.999, (name + ": " + vr.text()).c_str());
    // Only the network with QuantTanh is verified without the output-step bound, and says why.
    const bool tanh = name == "lenet5_classic";
    QVERIFY2(vr.note.empty() != tanh, (name + ": " + vr.text()).c_str());
    if (tanh) QVERIFY2(vr.text().find("tanh1 (QuantTanh) runs on ONNX Runtime's own kernel") != std::string::npos, vr.text().c_str());
  }

 private Q_SLOTS:
  void classicLeNet5() {
    const Project p = example("lenet5_classic");
    trainAndExport("lenet5_classic", load_dataset(p.dataset, true, 64 * 12), load_dataset(p.dataset, false, 1000), 12);
  }

  void tfcMlp() {
    const Project p = example("tfc_w2a2");
    trainAndExport("tfc_w2a2", load_dataset(p.dataset, true, 64 * 12), load_dataset(p.dataset, false, 1000), 12);
  }

  void resnet8() {
    const Project p = example("resnet8_w4a4");
    trainAndExport("resnet8_w4a4", load_dataset(p.dataset, true, 64 * 6), load_dataset(p.dataset, false, 500), 6);
  }

  void cnvOnCifarShapedData() {
    const Project p = example("cnv_w2a2");
    QCOMPARE(p.dataset.name, std::string("cifar10"));
    trainAndExport("cnv_w2a2", random_set(p, 64 * 3, 1), random_set(p, 300, 2), 3);
  }
};

QTEST_GUILESS_MAIN(TestExamples)
#include "test_examples.moc"
