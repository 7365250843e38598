// SPDX-License-Identifier: GPL-3.0-or-later
// BatchNorm folding (issue 11 item 3, core/graph/fold_batch_norm.h): the rewritten
// graph, the folded weights against the BatchNorm formula worked out per element in
// the test, the float network's output before and after, the weight quantizer's scale
// on the folded weights, the refusals (no running statistics, a BatchNorm after an
// activation, a conv that also feeds a skip, a learned weight scale), and the folded
// TFC example trained on Fashion-MNIST: QCDQ in ONNX Runtime, packed (which refuses the
// unfolded model) and `qnn export --fold-bn`.
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/export/export.h"
#include "core/export/export_plan.h"
#include "core/export/verify.h"
#include "core/graph/fold_batch_norm.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/nn/quant_wbiol.h"
#include "core/train/checkpoint.h"
#include "core/train/trainer.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/layer_spec.h"
#include "tests/thrown_message.h"

using namespace qnn;

namespace {

// Input [2, 6, 6] -> QuantConv2d (no bias, per-channel Int8 weights) -> BatchNorm2d ->
// QuantReLU -> Flatten -> QuantLinear (bias) -> BatchNorm1d -> Output.
Project conv_linear_project() {
  Project p;
  p.name = "fold";
  p.input_shape = {2, 6, 6};
  LayerSpec conv = layer("conv1", LayerType::QuantConv2d, {"input"},
                         {{"in_channels", 2}, {"out_channels", 3}, {"kernel_size", 3}, {"bias", 0}});
  conv.weight_quant = presets::Int8WeightPerChannelFloat();
  LayerSpec relu = layer("relu1", LayerType::QuantReLU, {"bn1"});
  relu.act_quant = presets::Uint8ActPerTensorFloat();
  LayerSpec fc = layer("fc1", LayerType::QuantLinear, {"flatten"}, {{"in_features", 48}, {"out_features", 4}});
  fc.weight_quant = presets::Int8WeightPerTensorFloat();
  p.layers = {layer("input", LayerType::Input, {}),
              conv,
              layer("bn1", LayerType::BatchNorm2d, {"conv1"}, {{"num_features", 3}, {"eps", 1e-3}}),
              relu,
              layer("flatten", LayerType::Flatten, {"relu1"}),
              fc,
              layer("bn2", LayerType::BatchNorm1d, {"fc1"}, {{"num_features", 4}}),
              layer("output", LayerType::Output, {"bn2"})};
  return p;
}

torch::Tensor param(QuantModel& m, const std::string& name) {
  for (const auto& p : m->named_parameters(true))
    if (p.key() == name) return p.value();
  for (const auto& b : m->named_buffers(true))
    if (b.key() == name) return b.value();
  return {};
}

// Gives the BatchNorm layers statistics and affine parameters far from the identity.
void set_statistics(QuantModel& m, const std::string& bn, int64_t c) {
  torch::NoGradGuard g;
  param(m, bn + ".weight").copy_(torch::linspace(0.5, 2.0, c));
  param(m, bn + ".bias").copy_(torch::linspace(-0.3, 0.4, c));
  param(m, bn + ".running_mean").copy_(torch::linspace(-0.2, 0.25, c));
  param(m, bn + ".running_var").copy_(torch::linspace(0.3, 3.0, c));
  param(m, bn + ".num_batches_tracked").fill_(7);
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
bool has(const QString& text, const std::string& part) { return text.contains(QString::fromStdString(part)); }

}  // namespace

class TestFold : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void rewritesTheGraph() {
    const Project p = conv_linear_project();
    const std::vector<BatchNormFold> folds = batch_norm_folds(p);
    QCOMPARE(int(folds.size()), 2);
    QCOMPARE(folds[0].batch_norm, std::string("bn1"));
    QCOMPARE(folds[0].into, std::string("conv1"));
    QCOMPARE(folds[1].into, std::string("fc1"));
    const Project f = fold_batch_norm_project(p);
    QCOMPARE(int(f.layers.size()), int(p.layers.size()) - 2);
    QVERIFY(!f.find("bn1") && !f.find("bn2"));
    QCOMPARE(f.find("relu1")->inputs.at(0), std::string("conv1"));
    QCOMPARE(f.find("output")->inputs.at(0), std::string("fc1"));
    QCOMPARE(f.find("conv1")->int_param("bias", 0), int64_t(1));
    QCOMPARE(f.find("conv1")->weight_quant->per_channel, true);
    // The folded biases keep the layers' bias quantizer (none here: float biases).
    QVERIFY(!f.find("conv1")->bias_quant);
    QVERIFY(!f.find("fc1")->bias_quant);
    QCOMPARE(batch_norm_layers(p), (std::vector<std::string>{"bn1", "bn2"}));
  }

  void foldedWeightsFollowTheFormula() {
    torch::manual_seed(3);
    const Project p = conv_linear_project();
    QuantModel m = build_model(p);
    set_statistics(m, "bn1", 3);
    set_statistics(m, "bn2", 4);
    {  // the activation quantizer leaves its statistics phase with a learned value
      torch::NoGradGuard g;
      param(m, "relu1.act_quant.value").fill_(3.25);
      param(m, "relu1.act_quant.counter").fill_(301);
    }
    m->eval();
    std::map<std::string, torch::Tensor> before;
    for (const auto& p : m->named_parameters(true)) before[p.key()] = p.value().clone();
    for (const auto& b : m->named_buffers(true)) before[b.key()] = b.value().clone();
    QuantModel f = fold_batch_norm(m);
    QVERIFY(!f->is_training());
    // The trained model is unchanged: every tensor, and no bias was added to it.
    QVERIFY(!param(m, "conv1.bias").defined());
    for (const auto& [name, t] : before) QVERIFY2(torch::equal(t, param(m, name)), name.c_str());
    // Every other layer's state is carried over, quantizer state included.
    for (const char* name : {"relu1.act_quant.value", "relu1.act_quant.counter", "relu1.act_quant.scaling_buffer"})
      QVERIFY2(torch::equal(before.at(name), param(f, name)), name);

    // Element by element, in double, from the tensors of the unfolded model.
    const auto w = param(m, "conv1.weight").to(torch::kDouble);
    const auto w2 = param(f, "conv1.weight").to(torch::kDouble);
    const auto b2 = param(f, "conv1.bias").to(torch::kDouble);
    for (int64_t c = 0; c < 3; ++c) {
      const double gamma = 0.5 + 0.75 * double(c), beta = -0.3 + 0.35 * double(c);
      const double mean = -0.2 + 0.225 * double(c), var = 0.3 + 1.35 * double(c);
      const double k = gamma / std::sqrt(var + 1e-3);
      QVERIFY(std::fabs(b2[c].item<double>() - (beta - mean * k)) < 1e-6);
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t y = 0; y < 3; ++y)
          QVERIFY(std::fabs(w2[c][i][y][1].item<double>() - w[c][i][y][1].item<double>() * k) < 1e-6);
    }
    const auto fb = param(m, "fc1.bias").to(torch::kDouble);
    const auto fb2 = param(f, "fc1.bias").to(torch::kDouble);
    for (int64_t c = 0; c < 4; ++c) {
      const double gamma = 0.5 + 0.5 * double(c), beta = -0.3 + 0.7 / 3.0 * double(c);
      const double mean = -0.2 + 0.15 * double(c), var = 0.3 + 0.9 * double(c);
      const double k = gamma / std::sqrt(var + 1e-5);
      QVERIFY(std::fabs(fb2[c].item<double>() - ((fb[c].item<double>() - mean) * k + beta)) < 1e-6);
    }

    // The float network computes the same function (quantizers off, eval mode).
    m->set_quant_enabled(false);
    f->set_quant_enabled(false);
    torch::NoGradGuard g;
    const torch::Tensor x = torch::randn({5, 2, 6, 6});
    const torch::Tensor y = m->forward(x), y2 = f->forward(x);
    QVERIFY2(torch::allclose(y, y2, 1e-5, 1e-5), "folded float output differs");
    QVERIFY(y.abs().max().item<double>() > 0.1);

    // The per-channel weight quantizer takes its scale from the folded weights:
    // max |W'[c]| / 127 (Int8WeightPerChannelFloat, narrow range).
    f->set_quant_enabled(true);
    auto* conv = dynamic_cast<QuantConv2dImpl*>(f->layer("conv1").get());
    QVERIFY(conv);
    const QuantTensor q = conv->quant_weight();
    const auto folded_max = w2.abs().amax({1, 2, 3});
    for (int64_t c = 0; c < 3; ++c)
      QVERIFY(std::fabs(q.scale.flatten()[c].item<double>() - folded_max[c].item<double>() / 127.0) < 1e-7);
  }

  void foldsDepthwiseAndConv1dPerOutputChannel() {
    // Depthwise QuantConv2d (groups = channels) and a grouped QuantConv1d: the weight's
    // dim 0 is the output channel whatever the groups; the float function is kept.
    for (const bool one_d : {false, true}) {
      Project p;
      p.input_shape = one_d ? std::vector<int64_t>{4, 10} : std::vector<int64_t>{3, 6, 6};
      const int64_t out = one_d ? 8 : 3;
      LayerSpec conv = layer("conv", one_d ? LayerType::QuantConv1d : LayerType::QuantConv2d, {"input"},
                             {{"in_channels", double(p.input_shape[0])}, {"out_channels", double(out)},
                              {"kernel_size", 3}, {"groups", one_d ? 4.0 : 3.0}, {"bias", 1}});
      conv.weight_quant = presets::Int8WeightPerChannelFloat();
      p.layers = {layer("input", LayerType::Input, {}), conv,
                  layer("bn", one_d ? LayerType::BatchNorm1d : LayerType::BatchNorm2d, {"conv"}, {{"num_features", double(out)}}),
                  layer("output", LayerType::Output, {"bn"})};
      torch::manual_seed(11);
      QuantModel m = build_model(p);
      set_statistics(m, "bn", out);
      m->eval();
      QuantModel f = fold_batch_norm(m);
      const auto w = param(m, "conv.weight").to(torch::kDouble), w2 = param(f, "conv.weight").to(torch::kDouble);
      const auto b = param(m, "conv.bias").to(torch::kDouble), b2 = param(f, "conv.bias").to(torch::kDouble);
      const double step = 1.0 / double(out - 1);
      for (int64_t c = 0; c < out; ++c) {
        const double gamma = 0.5 + 1.5 * step * double(c), beta = -0.3 + 0.7 * step * double(c);
        const double mean = -0.2 + 0.45 * step * double(c), var = 0.3 + 2.7 * step * double(c);
        const double k = gamma / std::sqrt(var + 1e-5);
        QVERIFY(std::fabs(b2[c].item<double>() - ((b[c].item<double>() - mean) * k + beta)) < 1e-6);
        QVERIFY(torch::allclose(w2[c], w[c] * k, 1e-6, 1e-7));
      }
      m->set_quant_enabled(false);
      f->set_quant_enabled(false);
      torch::NoGradGuard g;
      std::vector<int64_t> shape{3};
      shape.insert(shape.end(), p.input_shape.begin(), p.input_shape.end());
      const torch::Tensor x = torch::randn(shape);
      QVERIFY2(torch::allclose(m->forward(x), f->forward(x), 1e-5, 1e-5), one_d ? "Conv1d" : "depthwise Conv2d");
    }
  }

  void refusesWithoutRunningStatistics() {
    QuantModel m = build_model(conv_linear_project());  // never trained
    const QString msg = thrown_message<ConfigError>([&] { fold_batch_norm(m); });
    QVERIFY2(has(msg, "bn1, bn2 have no running statistics"), qPrintable(msg));  // every untrained one
    QVERIFY2(has(msg, "bn1 folds into conv1"), qPrintable(msg));
    set_statistics(m, "bn1", 3);
    const QString msg2 = thrown_message<ConfigError>([&] { check_batch_norm_statistics(m); });
    QVERIFY2(has(msg2, "bn2 has no running statistics"), qPrintable(msg2));
  }

  void refusesWhatCannotBeFolded() {
    // A BatchNorm after an activation.
    Project a = conv_linear_project();
    a.find("bn1")->inputs = {"relu1"};
    a.find("relu1")->inputs = {"conv1"};
    a.find("flatten")->inputs = {"bn1"};
    QString msg = thrown_message<ConfigError>([&] { batch_norm_folds(a); });
    QVERIFY2(has(msg, "bn1 cannot be folded: its input relu1 is a QuantReLU"), qPrintable(msg));

    // A conv whose output also goes elsewhere (a skip into an Add).
    Project b = conv_linear_project();
    b.layers.insert(b.layers.begin() + 3, layer("add1", LayerType::Add, {"bn1", "conv1"}));
    b.find("relu1")->inputs = {"add1"};
    msg = thrown_message<ConfigError>([&] { batch_norm_folds(b); });
    QVERIFY2(has(msg, "bn1 cannot be folded: conv1 also feeds add1"), qPrintable(msg));

    // An invalid graph: the validator's message.
    Project d = conv_linear_project();
    d.find("bn1")->set_param("num_features", 5);
    msg = thrown_message<ConfigError>([&] { batch_norm_folds(d); });
    QVERIFY2(has(msg, "bn1"), qPrintable(msg));
  }

  void foldedTfcExportsEverywhere() {
    // The TFC example, trained briefly on Fashion-MNIST, folded, then exported.
    Project p = load_project(QNN_SOURCE_DIR "/resources/examples/tfc_w2a2.qnn.json");
    const Dataset train = load_dataset(p.dataset, true, 3000);
    const Dataset test = load_dataset(p.dataset, false, 300);
    torch::manual_seed(0);
    QuantModel m = build_model(p);
    TrainOptions o;
    o.spec = p.training;
    o.spec.epochs = 1;
    o.spec.threads = 2;
    o.max_batches_per_epoch = 40;
    std::atomic<bool> cancel{false};
    train_model(m, train, test, o, {}, cancel);
    m->eval();

    // Packed refuses the BatchNorm layers of the unfolded network, not the folded one.
    bool refused = false;
    for (const ExportIssue& i : preflight(p, ExportFormat::Packed)) refused = refused || (i.error && i.layer == "bn1");
    QVERIFY(refused);
    QuantModel f = fold_batch_norm(m);
    for (const ExportIssue& i : preflight(f->project(), ExportFormat::Packed)) QVERIFY2(!i.error, i.text().c_str());
    // The folded biases keep the layers' bias quantizer: none, a float bias (merge_bn).
    for (const char* id : {"fc1", "fc2", "fc3"}) {
      QCOMPARE(f->project().find(id)->int_param("bias", 0), int64_t{1});
      QVERIFY(!f->project().find(id)->bias_quant);
    }

    // The quantized predictions: the 2-bit weight codes follow the folded weights, so a
    // few predictions may move; measured and bounded (the text is what the CLI prints).
    // TFC's weight quantizers are per tensor: one scale over channels BatchNorm scaled
    // differently, so 2-bit codes change and predictions move; the comparison says so.
    const FoldComparison cmp = compare_folded(m, f, test.images, test.labels);
    QCOMPARE(cmp.samples, int64_t{300});
    QCOMPARE(cmp.per_tensor, (std::vector<std::string>{"fc1", "fc2", "fc3"}));
    const torch::Tensor pred = app_logits(m, test.images).argmax(1), pred_f = app_logits(f, test.images).argmax(1);
    const torch::Tensor labels = test.labels.to(torch::kLong);
    QVERIFY(std::fabs(pred.eq(labels).to(torch::kDouble).mean().item<double>() - cmp.accuracy_before) < 1e-12);
    QVERIFY(std::fabs(pred_f.eq(labels).to(torch::kDouble).mean().item<double>() - cmp.accuracy_after) < 1e-12);
    QVERIFY(std::fabs(pred.eq(pred_f).to(torch::kDouble).mean().item<double>() - cmp.agreement) < 1e-12);
    QVERIFY2(cmp.agreement < 0.99 && has(cmp.text(), "per-channel weight quantizers fold without changing any code"),
             cmp.text().c_str());
    // With per-channel weight quantizers the scales absorb BatchNorm's factors: the same
    // codes, the same predictions.
    {
      Project pc = p;
      for (const char* id : {"fc1", "fc2", "fc3", "fc4"}) pc.find(id)->weight_quant->per_channel = true;
      torch::manual_seed(0);
      QuantModel mc = build_model(pc);
      train_model(mc, train, test, o, {}, cancel);
      mc->eval();
      QuantModel fc = fold_batch_norm(mc);
      const FoldComparison c2 = compare_folded(mc, fc, test.images, test.labels);
      QVERIFY2(c2.agreement >= 0.99 && c2.per_tensor.empty(), c2.text().c_str());
      auto* fc1 = dynamic_cast<QuantLinearImpl*>(mc->layer("fc1").get());
      auto* fc1f = dynamic_cast<QuantLinearImpl*>(fc->layer("fc1").get());
      const QuantTensor w = fc1->quant_weight(), wf = fc1f->quant_weight();
      const torch::Tensor codes = torch::round(w.value / w.scale.view({-1, 1}));
      const torch::Tensor codes_f = torch::round(wf.value / wf.scale.view({-1, 1}));
      const torch::Tensor sign = param(mc, "bn1.weight").sign().view({-1, 1});
      QVERIFY(torch::equal(codes * sign, codes_f));  // every code kept (sign of gamma aside)
    }

    // The folded float model predicts as the unfolded one.
    {
      torch::NoGradGuard g;
      m->set_quant_enabled(false);
      f->set_quant_enabled(false);
      const torch::Tensor x = test.images.slice(0, 0, 100);
      QVERIFY(torch::allclose(m->forward(x), f->forward(x), 1e-4, 1e-4));
      m->set_quant_enabled(true);
      f->set_quant_enabled(true);
    }

    QTemporaryDir dir;
    const std::string onnx = dir.filePath("tfc_folded.onnx").toStdString();
    export_model(f, ExportFormat::Qcdq, onnx);
    const VerifyResult v = verify_export(f, ExportFormat::Qcdq, onnx, test.images);
    QVERIFY2(v.passed && v.agreement >= 0.999, v.text().c_str());
    const std::string packed = dir.filePath("tfc_folded.qnnpk").toStdString();
    export_model(f, ExportFormat::Packed, packed);
    const VerifyResult vp = verify_export(f, ExportFormat::Packed, packed, test.images);
    QVERIFY2(vp.passed, vp.text().c_str());

    // The CLI: packed needs --fold-bn; with it the file is written and verified.
    const std::string ckpt = dir.filePath("tfc.pt").toStdString();
    save_checkpoint(m, ckpt);
    auto run = [](const QStringList& args) {
      QProcess proc;
      proc.start(QStringLiteral(QNN_CLI_PATH), args);
      proc.waitForFinished(300000);
      return std::make_pair(proc.exitCode(), QString::fromUtf8(proc.readAllStandardOutput() + proc.readAllStandardError()));
    };
    const QString project = QStringLiteral(QNN_SOURCE_DIR "/resources/examples/tfc_w2a2.qnn.json");
    const QString out = dir.filePath("cli.qnnpk");
    auto [code, text] = run({"export", project, "--checkpoint", QString::fromStdString(ckpt), "--format", "packed",
                             "--out", out});
    QVERIFY2(code == 1 && text.contains("bn1") && !QFile::exists(out), qPrintable(text));
    std::tie(code, text) = run({"export", project, "--checkpoint", QString::fromStdString(ckpt), "--format", "packed",
                                "--out", out, "--fold-bn", "--verify", "--verify-samples", "200"});
    QVERIFY2(code == 0 && text.contains("fold-bn: folded 3 BatchNorm layer(s)") && QFile::exists(out), qPrintable(text));
    QVERIFY2(text.contains("fold-bn: the folded model predicts as before on "), qPrintable(text));
    const QString folded_ckpt = dir.filePath("folded.pt");
    std::tie(code, text) = run({"export", project, "--checkpoint", QString::fromStdString(ckpt), "--format",
                                "checkpoint", "--out", folded_ckpt, "--fold-bn"});
    QVERIFY2(code == 0, qPrintable(text));
    const Project written = load_project(dir.filePath("folded.qnn.json").toStdString());
    QVERIFY(batch_norm_layers(written).empty());
    QCOMPARE(written.find("act1")->inputs.at(0), std::string("fc1"));
  }
};

QTEST_MAIN(TestFold)
#include "test_fold.moc"
