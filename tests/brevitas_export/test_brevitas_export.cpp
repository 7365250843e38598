// SPDX-License-Identifier: GPL-3.0-or-later
// Export to Brevitas (issue 10 item 3; core/export/brevitas_export.h, core/io/
// state_dict_writer.h): the torch.save writer read back by our reader and by Python's
// own pickle machine; the Brevitas state dict of the shared golden LeNet (saved by
// Brevitas itself) re-exported with the same keys in the same order and the same
// tensors; exported state dicts loaded by load_weights into freshly built models giving
// the source model's eval logits bit for bit (LeNet, ResNet-8, a concat/residual net);
// the lines of model.py; Python parses it; refusals name the layer; `qnn export`.
#include <torch/torch.h>

#include <caffe2/serialize/inline_container.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "core/export/brevitas_export.h"
#include "core/export/export.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/io/state_dict.h"
#include "core/io/state_dict_writer.h"
#include "core/quant/quantizers.h"
#include "core/train/checkpoint.h"
#include "core/train/weights.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/thrown_message.h"

using namespace qnn;

namespace {

const std::string kGoldenPt = QNN_SOURCE_DIR "/tests/data/golden/lowprec_lenet_brevitas_state_dict.pt";

Project example(const std::string& name) {
  return load_project(QNN_SOURCE_DIR "/resources/examples/" + name + ".qnn.json");
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

#define VERIFY_LINE(text, line) QVERIFY2(has_line(text, line), ("missing line: " + std::string(line) + "\nin:\n" + text).c_str())

// Moves the model off its initial state: training-mode forwards (BatchNorm running
// statistics, activation statistics buffers), then one activation quantizer into its
// learned phase with a value different from its buffer.
void exercise(QuantModel& m, int64_t batch = 4) {
  torch::manual_seed(11);
  std::vector<int64_t> shape{batch};
  for (int64_t d : m->project().input_shape) shape.push_back(d);
  m->train();
  {
    torch::NoGradGuard g;
    for (int i = 0; i < 3; ++i) m->forward(torch::randn(shape));
  }
  for (const auto& mod : m->named_modules())
    if (auto* a = dynamic_cast<ActQuantizerImpl*>(mod.value().get())) {
      a->load_threshold(2.5);
      torch::NoGradGuard g;
      a->value.fill_(2.75);
      break;
    }
  m->eval();
}

torch::Tensor eval_logits(QuantModel& m) {
  torch::manual_seed(12);
  std::vector<int64_t> shape{8};
  for (int64_t d : m->project().input_shape) shape.push_back(d);
  m->eval();
  torch::NoGradGuard g;
  return m->forward(torch::randn(shape));
}

LayerSpec layer(const std::string& id, LayerType t, std::vector<std::string> inputs,
                std::map<std::string, double> params = {}) {
  LayerSpec l;
  l.id = id;
  l.type = t;
  l.inputs = std::move(inputs);
  l.params = std::move(params);
  return l;
}

// A small network with a residual QuantEltwiseAdd, a float Add, a Concat, a tuple
// kernel, per-channel weights, BatchNorm, QuantHardTanh and an Int32Bias.
Project concat_net() {
  Project p;
  p.name = "concat residual demo";
  p.input_shape = {1, 8, 8};
  p.layers.push_back(layer("input", LayerType::Input, {}));
  LayerSpec qi = layer("qi", LayerType::QuantIdentity, {"input"});
  qi.return_quant_tensor = true;
  p.layers.push_back(qi);
  LayerSpec c1 = layer("c1", LayerType::QuantConv2d, {"qi"},
                       {{"in_channels", 1}, {"out_channels", 4}, {"kernel_size", 3}, {"padding", 1}, {"bias", 1}});
  c1.bias_quant = presets::Int8Bias();
  p.layers.push_back(c1);
  p.layers.push_back(layer("bn1", LayerType::BatchNorm2d, {"c1"}, {{"num_features", 4}}));
  LayerSpec r1 = layer("r1", LayerType::QuantReLU, {"bn1"});
  r1.act_quant = presets::Uint8ActPerTensorFloat();
  r1.act_quant->bit_width = 4;
  p.layers.push_back(r1);
  LayerSpec c2 = layer("c2", LayerType::QuantConv2d, {"qi"}, {{"in_channels", 1}, {"out_channels", 4}, {"bias", 0}});
  c2.set_pair("kernel_size", 3, 1);
  c2.set_pair("padding", 1, 0);
  c2.weight_quant = presets::Int8WeightPerChannelFloat();
  c2.weight_quant->bit_width = 4;
  p.layers.push_back(c2);
  p.layers.push_back(layer("r2", LayerType::QuantHardTanh, {"c2"}, {{"min_val", -2.0}, {"max_val", 2.0}}));
  p.layers.push_back(layer("add1", LayerType::QuantEltwiseAdd, {"r1", "r2"}));
  p.layers.push_back(layer("sum", LayerType::Add, {"r1", "r2"}));
  p.layers.push_back(layer("cat", LayerType::Concat, {"add1", "sum"}));
  p.layers.push_back(layer("mp", LayerType::MaxPool2d, {"cat"}, {{"kernel_size", 2}}));
  p.layers.push_back(layer("fl", LayerType::Flatten, {"mp"}));
  LayerSpec qf = layer("qf", LayerType::QuantIdentity, {"fl"});
  qf.return_quant_tensor = true;
  p.layers.push_back(qf);
  LayerSpec fc = layer("fc", LayerType::QuantLinear, {"qf"}, {{"in_features", 128}, {"out_features", 10}, {"bias", 1}});
  fc.bias_quant = presets::Int32Bias();
  p.layers.push_back(fc);
  p.layers.push_back(layer("output", LayerType::Output, {"fc"}));
  return p;
}

// Exports `m` (exercised) to a folder, loads model.pt into a fresh model of the same
// project and checks the report and the logits (bit for bit). Returns model.py.
std::string round_trip(QuantModel& m, const QTemporaryDir& dir) {
  const std::string out = dir.filePath("brevitas").toStdString();
  const ExportResult r = export_model(m, ExportFormat::Brevitas, out);
  if (r.files.size() != 2 || !std::filesystem::exists(out + "/model.py") || !std::filesystem::exists(out + "/model.pt"))
    throw std::runtime_error("export did not write model.py and model.pt: " + r.summary);
  torch::manual_seed(99);  // other initial weights
  QuantModel fresh = build_model(m->project());
  const WeightsReport w = load_weights(fresh, out + "/model.pt");
  if (!w.unexpected.empty() || !w.statistics.empty()) throw std::runtime_error("load_weights: " + w.text());
  size_t quantizers = 0;
  for (const auto& mod : m->named_modules())
    if (dynamic_cast<ActQuantizerImpl*>(mod.value().get())) ++quantizers;
  if (w.thresholds.size() != quantizers) throw std::runtime_error("not every quantizer got its value: " + w.text());
  if (!torch::equal(eval_logits(m), eval_logits(fresh))) throw std::runtime_error("logits differ after the round trip");
  return read_text(out + "/model.py");
}

QString python3(const QStringList& args, int* exit_code) {
  QProcess p;
  p.start(QStringLiteral("python3"), args);
  if (!p.waitForFinished(60000)) {
    *exit_code = -1;
    return QStringLiteral("python3 did not run (scripts/install-deps installs it): ") + p.errorString();
  }
  *exit_code = p.exitCode();
  return QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
}

}  // namespace

class TestBrevitasExport : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void writerRoundTripsThroughTheReader() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("sd.pt").toStdString();
    torch::manual_seed(1);
    const StateDict sd{{"conv1.weight", torch::randn({6, 1, 5, 5})},
                       {"scalar", torch::full({}, 0.625f)},
                       {"bn.num_batches_tracked", torch::full({}, 300, torch::kLong)},
                       {"transposed", torch::randn({3, 4}).t()},
                       {"big", torch::randn({70000})},
                       {"double", torch::randn({2}, torch::kDouble)},
                       {"bytes", torch::tensor({1, 200, 3}, torch::kUInt8)},
                       {"empty", torch::empty({0, 3})}};
    write_state_dict(path, sd);
    const StateDict back = read_state_dict(path);
    QCOMPARE(back.size(), sd.size());
    for (size_t i = 0; i < sd.size(); ++i) {
      QCOMPARE(back[i].first, sd[i].first);
      QCOMPARE(back[i].second.scalar_type(), sd[i].second.scalar_type());
      QVERIFY2(torch::equal(back[i].second, sd[i].second), sd[i].first.c_str());
    }
    caffe2::serialize::PyTorchStreamReader zip(path);  // the records torch.save writes
    QVERIFY(zip.hasRecord("data.pkl") && zip.hasRecord("byteorder") && zip.hasRecord("data/7"));
    QVERIFY(zip.hasRecord("version") || zip.hasRecord(".data/version"));
    QVERIFY(thrown_message<ConfigError>([] {
              state_dict_bytes({{"a", torch::zeros({1})}, {"a", torch::zeros({1})}});
            }).contains("appears twice"));
  }

  void pythonsPickleReadsTheFile() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("sd.pt").toStdString();
    write_state_dict(path, {{"conv1.weight", torch::zeros({6, 1, 5, 5})},
                            {"relu1.act_quant.fused_activation_quant_proxy.tensor_quant.scaling_impl.value",
                             torch::full({}, 3.0f)},
                            {"bn1.num_batches_tracked", torch::zeros({}, torch::kLong)}});
    // Python's own unpickler with torch's globals stubbed: the file is a zip archive whose
    // data.pkl is an OrderedDict of _rebuild_tensor_v2 calls on existing storages.
    const char* script = R"PY(
import collections, io, pickle, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = z.namelist()
root = names[0].split('/')[0] + '/'
class U(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ('collections', 'OrderedDict'): return collections.OrderedDict
        if (module, name) == ('torch._utils', '_rebuild_tensor_v2'): return lambda s, o, size, stride, g, h: (s[1], size)
        if module == 'torch' and name.endswith('Storage'): return name
        raise pickle.UnpicklingError(module + '.' + name)
    def persistent_load(self, pid):
        assert pid[0] == 'storage' and root + 'data/' + pid[2] in names, pid
        return pid
d = U(io.BytesIO(z.read(root + 'data.pkl'))).load()
assert type(d) is collections.OrderedDict
for k, v in d.items(): print(k, v[0], list(v[1]))
)PY";
    int code = 0;
    const QString out = python3({QStringLiteral("-c"), QString::fromUtf8(script), QString::fromStdString(path)}, &code);
    QVERIFY2(code == 0, qPrintable(out));
    QCOMPARE(out, QStringLiteral("conv1.weight FloatStorage [6, 1, 5, 5]\n"
                                 "relu1.act_quant.fused_activation_quant_proxy.tensor_quant.scaling_impl.value "
                                 "FloatStorage []\n"
                                 "bn1.num_batches_tracked LongStorage []\n"));
  }

  void goldenBrevitasStateDictComesBackUnchanged() {
    // Brevitas state dict -> load -> our Brevitas export -> the same keys, order, tensors.
    QuantModel m = build_model(example("lenet_lowprec"));
    load_weights(m, kGoldenPt);
    const StateDict golden = read_state_dict(kGoldenPt);
    const StateDict ours = brevitas_state_dict(m);
    QCOMPARE(ours.size(), golden.size());
    for (size_t i = 0; i < ours.size(); ++i) {
      QCOMPARE(ours[i].first, golden[i].first);
      QVERIFY2(torch::equal(ours[i].second, golden[i].second), ours[i].first.c_str());
    }
  }

  void lenetRoundTripAndPython() {
    QTemporaryDir dir;
    torch::manual_seed(3);
    QuantModel m = build_model(example("lenet_lowprec"));
    exercise(m);
    std::string py;
    try {
      py = round_trip(m, dir);
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    VERIFY_LINE(py, "import torch.nn as nn");
    VERIFY_LINE(py, "import brevitas.nn as qnn");
    VERIFY_LINE(py, "from brevitas.quant import Int8Bias");
    VERIFY_LINE(py, "class LeNet5LowPrecisionIntegerOnly(nn.Module):");
    VERIFY_LINE(py, "        self.quant_inp = qnn.QuantIdentity(bit_width=4, return_quant_tensor=True)");
    VERIFY_LINE(py, "        self.conv1 = qnn.QuantConv2d(1, 6, 5, weight_bit_width=3, bias_quant=Int8Bias, "
                    "return_quant_tensor=True)");
    VERIFY_LINE(py, "        self.relu1 = qnn.QuantReLU(bit_width=4, return_quant_tensor=True)");
    VERIFY_LINE(py, "        self.pool1 = nn.MaxPool2d(2)");
    VERIFY_LINE(py, "        self.flatten = nn.Flatten()");
    VERIFY_LINE(py, "    def forward(self, x):");
    VERIFY_LINE(py, "        quant_inp = self.quant_inp(x)");
    VERIFY_LINE(py, "        conv1 = self.conv1(quant_inp)");
    VERIFY_LINE(py, "        relu1 = self.relu1(conv1)");
    VERIFY_LINE(py, "        pool1 = self.pool1(relu1)");
    VERIFY_LINE(py, "        return fc3");
    int code = 0;
    const QString out = python3({QStringLiteral("-c"),
                                 QStringLiteral("import ast, sys; ast.parse(open(sys.argv[1]).read())"),
                                 dir.filePath(QStringLiteral("brevitas/model.py"))},
                                &code);
    QVERIFY2(code == 0, qPrintable(out));
  }

  void resnetRoundTripAndPython() {
    QTemporaryDir dir;
    torch::manual_seed(4);
    QuantModel m = build_model(example("resnet8_w4a4"));
    exercise(m, 2);
    std::string py;
    try {
      py = round_trip(m, dir);
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    VERIFY_LINE(py, "class ResNet8ResidualStagesWithQuantEltwiseAddW4A4(nn.Module):");
    VERIFY_LINE(py, "        self.conv0 = qnn.QuantConv2d(1, 16, 3, padding=1, bias=False, weight_bit_width=4)");
    VERIFY_LINE(py, "        self.bn0 = nn.BatchNorm2d(16)");
    VERIFY_LINE(py, "        self.s1_add = qnn.QuantEltwiseAdd(return_quant_tensor=True)");
    VERIFY_LINE(py, "        self.pool = qnn.TruncAdaptiveAvgPool2d(output_size=1)");
    VERIFY_LINE(py, "        s1_add = self.s1_add(s1_bn2, relu0)");
    VERIFY_LINE(py, "        s2_add = self.s2_add(s2_bn2, s2_down_bn)");
    VERIFY_LINE(py, "        return fc");
  }

  void concatRoundTripAndPython() {
    QTemporaryDir dir;
    torch::manual_seed(5);
    QuantModel m = build_model(concat_net());
    exercise(m);
    std::string py;
    try {
      py = round_trip(m, dir);
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    VERIFY_LINE(py, "from brevitas.quant import Int32Bias, Int8Bias, Int8WeightPerChannelFloat");
    VERIFY_LINE(py, "class ConcatResidualDemo(nn.Module):");
    VERIFY_LINE(py, "        self.c2 = qnn.QuantConv2d(1, 4, (3, 1), padding=(1, 0), bias=False, "
                    "weight_quant=Int8WeightPerChannelFloat, weight_bit_width=4)");
    VERIFY_LINE(py, "        self.r2 = qnn.QuantHardTanh(min_val=-2.0, max_val=2.0)");
    VERIFY_LINE(py, "        self.add1 = qnn.QuantEltwiseAdd()");
    VERIFY_LINE(py, "        self.fc = qnn.QuantLinear(128, 10, bias=True, bias_quant=Int32Bias)");
    VERIFY_LINE(py, "        add1 = self.add1(r1, r2)");
    VERIFY_LINE(py, "        sum = r1 + r2");
    VERIFY_LINE(py, "        cat = torch.cat([add1, sum], dim=1)");
    VERIFY_LINE(py, "        return fc");
    QVERIFY(py.find("self.sum") == std::string::npos && py.find("self.cat") == std::string::npos);
    int code = 0;
    const QString out = python3({QStringLiteral("-c"),
                                 QStringLiteral("import ast, sys; ast.parse(open(sys.argv[1]).read())"),
                                 dir.filePath(QStringLiteral("brevitas/model.py"))},
                                &code);
    QVERIFY2(code == 0, qPrintable(out));
  }

  void refusalsNameTheLayer() {
    Project p = example("lenet_lowprec");
    p.find("relu2")->act_quant = presets::ShiftedUint8ActPerTensorFloat();
    const std::vector<ExportIssue> issues = preflight(p, ExportFormat::Brevitas);
    QCOMPARE(int(issues.size()), 1);
    QVERIFY(issues[0].error);
    QCOMPARE(issues[0].layer, std::string("relu2"));
    QVERIFY2(issues[0].message.find("zero point") != std::string::npos, issues[0].message.c_str());

    Project q = example("lenet_lowprec");
    q.find("relu3")->act_quant = presets::Uint8ActPerTensorFixedPoint();
    QTemporaryDir dir;
    QuantModel m = build_model(q);
    const std::string out = dir.filePath("none").toStdString();
    const QString msg = thrown_message<ExportError>([&] { export_model(m, ExportFormat::Brevitas, out); });
    QVERIFY2(msg.contains("relu3") && msg.contains("power-of-two"), qPrintable(msg));
    QVERIFY(!std::filesystem::exists(out));  // nothing written

    Project r = concat_net();
    r.find("mp")->id = "training";
    r.find("fl")->inputs = {"training"};
    bool named = false;
    for (const ExportIssue& i : preflight(r, ExportFormat::Brevitas))
      named = named || (i.error && i.layer == "training" && i.message.find("torch.nn.Module") != std::string::npos);
    QVERIFY(named);
  }

  void cliWritesTheFolder() {
    QTemporaryDir dir;
    torch::manual_seed(6);
    QuantModel m = build_model(example("lenet_lowprec"));
    exercise(m);
    const QString ckpt = dir.filePath(QStringLiteral("lenet.pt"));
    save_checkpoint(m, ckpt.toStdString());
    QProcess p;
    p.start(QStringLiteral(QNN_CLI_PATH),
            {QStringLiteral("export"), QStringLiteral(QNN_SOURCE_DIR "/resources/examples/lenet_lowprec.qnn.json"),
             QStringLiteral("--checkpoint"), ckpt, QStringLiteral("--format"), QStringLiteral("brevitas"),
             QStringLiteral("--out"), dir.filePath(QStringLiteral("out"))});
    QVERIFY(p.waitForFinished(120000));
    const QString text = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
    QVERIFY2(p.exitCode() == 0, qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("model.py")) && text.contains(QStringLiteral("model.pt")), qPrintable(text));
    QuantModel fresh = build_model(example("lenet_lowprec"));
    load_weights(fresh, dir.filePath(QStringLiteral("out/model.pt")).toStdString());
    QVERIFY(torch::equal(eval_logits(m), eval_logits(fresh)));
  }
};

QTEST_GUILESS_MAIN(TestBrevitasExport)
#include "test_brevitas_export.moc"
