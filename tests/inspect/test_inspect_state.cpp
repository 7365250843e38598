// SPDX-License-Identifier: GPL-3.0-or-later
// core/inspect, second test class (run by test_inspect.cpp's main): CSV numbers under a
// comma-decimal C locale (as a QApplication sets it from the environment), the training
// flag of each module kept through inspect_model / misclassified, misclassified's
// samples and errors, calibration_batch, and the channel numbers of a per-channel
// weight quantizer with one channel.
#include <torch/torch.h>

#include <charconv>
#include <cmath>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/inspect/inspect.h"
#include "core/nn/quant_wbiol.h"
#include "inspect_fixtures.h"

#include <QDir>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace qnn;
namespace ins = qnn::inspect;

namespace {

/// "%g" of 0.125 in the current C locale ("0,125" under de_DE).
std::string c_formatted(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// Switches LC_NUMERIC to a locale with a decimal comma for its lifetime and back
/// afterwards (LOCPATH too). Tries the installed locales first; without one, compiles
/// de_DE.UTF-8 with localedef into a temporary folder (glibc reads LOCPATH on every
/// setlocale call). `active()` is false when neither works.
class CommaLocale {
 public:
  CommaLocale() : m_old_numeric(std::setlocale(LC_NUMERIC, nullptr)) {
    if (const char* lp = std::getenv("LOCPATH")) m_old_locpath = lp;
    for (const char* name : {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "de_DE", "fr_FR",
                             "nl_NL.UTF-8", "es_ES.UTF-8", "it_IT.UTF-8", "ru_RU.UTF-8"})
      if (use(name)) return;
    const QString localedef = QStandardPaths::findExecutable("localedef");
    if (localedef.isEmpty() || !m_dir.isValid()) return;
    const QString out = QDir(m_dir.path()).filePath("de_DE.UTF-8");
    QProcess p;
    p.start(localedef, {"-i", "de_DE", "-f", "UTF-8", out});
    if (!p.waitForFinished(60000) || p.exitCode() != 0) return;
    setenv("LOCPATH", m_dir.path().toLocal8Bit().constData(), 1);
    if (!use("de_DE.UTF-8")) restore_locpath();
  }
  ~CommaLocale() {
    std::setlocale(LC_NUMERIC, m_old_numeric.c_str());
    restore_locpath();
  }
  CommaLocale(const CommaLocale&) = delete;
  CommaLocale& operator=(const CommaLocale&) = delete;
  bool active() const { return !m_name.empty(); }
  const std::string& name() const { return m_name; }

 private:
  bool use(const char* name) {
    if (!std::setlocale(LC_NUMERIC, name)) return false;
    if (c_formatted(0.125) != "0,125") {
      std::setlocale(LC_NUMERIC, m_old_numeric.c_str());
      return false;
    }
    m_name = name;
    return true;
  }
  void restore_locpath() {
    if (m_old_locpath)
      setenv("LOCPATH", m_old_locpath->c_str(), 1);
    else
      unsetenv("LOCPATH");
  }

  std::string m_old_numeric;
  std::optional<std::string> m_old_locpath;
  QTemporaryDir m_dir;
  std::string m_name;
};

/// std::from_chars (locale independent) of a whole field; NaN when it is not a number.
double parse(const std::string& s) {
  double v = 0.0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() ? v : std::nan("");
}

/// Every module's training flag by its qualified name ("" = the model).
std::map<std::string, bool> training_flags(QuantModel& model) {
  std::map<std::string, bool> flags{{"", model->is_training()}};
  for (const auto& item : model->named_modules("", /*include_self=*/false)) flags[item.key()] = item.value()->is_training();
  return flags;
}

}  // namespace

class TestInspectState : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }

  void csvNumbersIgnoreTheCLocale() {
    ins::Report r;
    r.calibration_samples = 16;
    r.logits_sqnr_db = 0.1;
    r.top1_agreement = 0.125;
    r.worst_layer = "conv1";
    r.scales.step = 3;
    ins::LayerError e;
    e.layer = "conv1";
    e.type = "QuantConv2d";
    e.weight_mse = 1.0 / 3.0;
    e.weight_sqnr_db = -2.5e-10;
    e.act_mse = 1e300;
    e.act_sqnr_db = 5e-324;  // the smallest subnormal
    e.output_mse = 1234567.875;
    e.output_sqnr_db = -0.0;
    r.errors.push_back(e);

    CommaLocale comma;
    if (comma.active())
      qInfo("LC_NUMERIC = %s: \"%%g\" of 0.125 gives \"%s\"", comma.name().c_str(), c_formatted(0.125).c_str());
    else
      qInfo("no comma-decimal locale available: checking the output in the current locale only");

    QCOMPARE(ins::table_csv(r, "summary"),
             std::string("calibration_samples,logits_sqnr_db,top1_agreement,worst_layer,step\n"
                         "16,0.1,0.125,conv1,3\n"));
    const std::vector<std::string> lines = it::split_lines(ins::table_csv(r, "layer_error"));
    QCOMPARE(lines.size(), size_t{2});
    QCOMPARE(lines[0], std::string("layer,type,weight_mse,weight_sqnr_db,act_mse,act_sqnr_db,local_sqnr_db,"
                                   "output_mse,output_sqnr_db"));
    const std::vector<std::string> f = it::split(lines[1]);
    QCOMPARE(f.size(), size_t{9});
    QCOMPARE(f[0], std::string("conv1"));
    // Shortest round trip, read back without the C library's locale.
    QCOMPARE(f[2], std::string("0.3333333333333333"));
    QCOMPARE(parse(f[2]), 1.0 / 3.0);
    QCOMPARE(parse(f[3]), -2.5e-10);
    QCOMPARE(parse(f[4]), 1e300);
    QCOMPARE(parse(f[5]), 5e-324);
    QCOMPARE(parse(f[6]), -2.5e-10);  // local = min(weight, act)
    QCOMPARE(f[7], std::string("1234567.875"));
    QCOMPARE(f[8], std::string("-0"));
  }

  void trainingFlagOfEachModuleIsKept() {
    torch::manual_seed(12);
    QuantModel model = build_model(it::mixed_project());
    it::train_forward(model, 1, {1, 4, 4});  // the whole model in train
    model->layer("conv")->eval();           // one submodule (and its quantizers) in eval
    const std::map<std::string, bool> before = training_flags(model);
    QVERIFY(before.at(""));
    QVERIFY(before.size() > 8);  // the layers and their quantizers
    QVERIFY(!model->layer("conv")->is_training());
    QVERIFY(model->layer("htanh")->is_training());

    ins::inspect_model(model, torch::randn({8, 1, 4, 4}));
    QCOMPARE(training_flags(model), before);
    QVERIFY(!model->layer("conv")->is_training());

    Dataset data;
    data.images = torch::randn({20, 1, 4, 4});
    data.labels = torch::randint(0, 4, {20}, torch::kInt64);
    ins::misclassified(model, data, 100);
    QCOMPARE(training_flags(model), before);

    // The opposite: the model in eval with one submodule training.
    model->eval();
    model->layer("fc")->train();
    const std::map<std::string, bool> mixed = training_flags(model);
    ins::inspect_model(model, torch::randn({8, 1, 4, 4}));
    ins::misclassified(model, data, 100);
    QCOMPARE(training_flags(model), mixed);
    QVERIFY(model->layer("fc")->is_training());
    QVERIFY(!model->is_training());
  }

  void misclassifiedSamples() {
    torch::manual_seed(8);
    QuantModel model = build_model(it::mixed_project());
    it::train_forward(model, 1, {1, 4, 4});
    Dataset data;
    data.images = torch::randn({300, 1, 4, 4});
    data.labels = torch::randint(0, 4, {300}, torch::kInt64);
    const std::string before = it::state_bytes(model);
    const std::vector<ins::Misclassified> all = ins::misclassified(model, data, 1000);
    QCOMPARE(it::state_bytes(model), before);
    QVERIFY(model->is_training());

    model->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor p = torch::softmax(model->forward(data.images).to(torch::kFloat64), 1);
    model->train();
    std::vector<ins::Misclassified> expect;
    for (int64_t i = 0; i < 300; ++i) {
      const int64_t pred = p[i].argmax().item<int64_t>();
      if (pred != data.labels[i].item<int64_t>())
        expect.push_back({i, data.labels[i].item<int64_t>(), pred, p[i][pred].item<double>()});
    }
    QVERIFY(expect.size() > 100);  // untrained: most are wrong, in both batches of 256
    QCOMPARE(all.size(), expect.size());
    for (size_t i = 0; i < all.size(); ++i) {
      QCOMPARE(all[i].index, expect[i].index);
      QCOMPARE(all[i].label, expect[i].label);
      QCOMPARE(all[i].predicted, expect[i].predicted);
      QVERIFY(std::fabs(all[i].confidence - expect[i].confidence) < 1e-6);
    }
    QCOMPARE(ins::misclassified(model, data, 5).size(), size_t{5});
    QCOMPARE(ins::misclassified(model, data, 5).back().index, expect[4].index);

    const torch::Tensor cal = ins::calibration_batch(data, 10);
    QCOMPARE(cal.sizes().vec(), (std::vector<int64_t>{10, 1, 4, 4}));
    QVERIFY(cal.equal(data.images.narrow(0, 0, 10)));
    QCOMPARE(ins::calibration_batch(data, 1000).size(0), int64_t{300});
    QVERIFY_THROWS_EXCEPTION(DataError, ins::calibration_batch(Dataset{}, 4));
  }

  void misclassifiedErrorsAreConfigErrors() {
    QuantModel model = build_model(it::mixed_project());
    model->train();
    Dataset data;
    data.images = torch::randn({10, 1, 5, 5});
    data.labels = torch::zeros({10}, torch::kInt64);
    try {
      ins::misclassified(model, data, 4);
      QFAIL("no ConfigError");
    } catch (const ConfigError& e) {
      QCOMPARE(std::string(e.what()),
               std::string("misclassified: the image tensor of the dataset has shape [10, 1, 5, 5] but the model "
                           "expects a float batch of shape [N, 1, 4, 4] with N >= 1"));
    }
    data.images = torch::randn({10, 1, 4, 4});
    data.labels = torch::zeros({9}, torch::kInt64);
    QVERIFY_THROWS_EXCEPTION(ConfigError, ins::misclassified(model, data, 4));

    // A failure inside the network (a weight of the wrong shape) is a ConfigError naming
    // the samples, and the model state is restored.
    data.labels = torch::zeros({10}, torch::kInt64);
    model->layer("conv")->eval();
    const std::map<std::string, bool> flags = training_flags(model);
    auto& fc = dynamic_cast<QuantLinearImpl&>(*model->layer("fc"));
    fc.weight.set_data(torch::randn({4, 13}));
    try {
      ins::misclassified(model, data, 4);
      QFAIL("no ConfigError");
    } catch (const ConfigError& e) {
      const std::string msg = e.what();
      QVERIFY2(msg.rfind("misclassified: the model cannot classify samples 0..9 of the dataset: ", 0) == 0,
               msg.c_str());
    }
    QCOMPARE(training_flags(model), flags);
    QVERIFY(model->is_training());
    QVERIFY(!model->layer("conv")->is_training());
  }

  void perChannelQuantizerWithOneChannel() {
    Project p = it::tiny_project();
    LayerSpec& fc = *p.find("fc");
    fc.params["out_features"] = 1;
    fc.weight_quant = presets::Int8WeightPerChannelFloat();
    fc.weight_quant->bit_width = 3;
    torch::manual_seed(13);
    QuantModel model = build_model(p);
    const ins::Report r = ins::inspect_model(model, torch::randn({4, 1, 2, 4}));
    QCOMPARE(r.weights.size(), size_t{1});
    QVERIFY(r.weights[0].per_channel);
    const torch::Tensor w = dynamic_cast<QuantLinearImpl&>(*model->layer("fc")).weight.detach();
    const double scale = static_cast<double>(w.abs().max().item<float>() / 3.0f);

    const std::vector<std::string> scales = it::split_lines(ins::table_csv(r, "scales"));
    QCOMPARE(scales.size(), size_t{3});
    QCOMPARE(scales[1].rfind("0,quant_inp,act,-1,", 0), size_t{0});  // activations: per tensor
    const std::vector<std::string> row = it::split(scales[2]);
    QCOMPARE(row.size(), size_t{5});
    QCOMPARE(row[2], std::string("weight"));
    QCOMPARE(row[3], std::string("0"));  // channel 0, not -1
    QCOMPARE(parse(row[4]), scale);

    // weight_levels: the whole tensor (-1) and channel 0, 7 codes each.
    const std::vector<std::string> levels = it::split_lines(ins::table_csv(r, "weight_levels"));
    QCOMPARE(levels.size(), size_t{1 + 2 * 7});
    QCOMPARE(levels[1].rfind("fc,-1,-3,", 0), size_t{0});
    QCOMPARE(levels[8].rfind("fc,0,-3,", 0), size_t{0});
    // The counted column: all 8 weights have a code.
    const std::vector<std::string> weights = it::split_lines(ins::table_csv(r, "weights"));
    QCOMPARE(it::cell(weights, "fc", "counted"), std::string("8"));
    QCOMPARE(it::cell(it::split_lines(ins::table_csv(r, "activations")), "quant_inp", "counted"),
             std::string("32"));
  }
};

std::unique_ptr<QObject> make_inspect_state_test() { return std::make_unique<TestInspectState>(); }

#include "test_inspect_state.moc"
