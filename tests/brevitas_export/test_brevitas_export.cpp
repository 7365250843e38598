// SPDX-License-Identifier: GPL-3.0-or-later
// Export to Brevitas (issue 10 item 3; core/export/brevitas_export.h, core/io/
// state_dict_writer.h): the torch.save writer read back by our reader and by Python's
// own pickle machine; the Brevitas state dict of the shared golden LeNet (saved by
// Brevitas itself) re-exported with the same keys in the same order and the same
// tensors; exported state dicts loaded by load_weights into freshly built models giving
// the source model's eval logits bit for bit (LeNet, ResNet-8, a concat/residual net);
// the lines of model.py; Python parses it; binary quantizers, learned (parameter) weight
// scales and power-of-two scales (log2 domain) with their Python keywords and state-dict
// values; refusals name the layer; `qnn export`.
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
#include "core/io/onnx_import.h"
#include "core/io/state_dict.h"
#include "core/io/state_dict_writer.h"
#include "core/quant/quantizers.h"
#include "core/train/checkpoint.h"
#include "core/train/weights.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/brevitas_export/brevitas_fixtures.h"
#include "tests/thrown_message.h"

using namespace qnn;
using namespace bx;

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

  void binaryQuantizersRoundTrip() {
    // Brevitas's binary presets are CONST; 'parameter' turns their scale into a
    // ParameterScaling value in the state dict (linear, the scale itself: ClampedBinaryQuant
    // passes no threshold), [] per tensor, [C_out, 1] per channel for a linear weight.
    QTemporaryDir dir;
    torch::manual_seed(7);
    QuantModel m = build_model(binary_net());
    exercise(m);
    set_value(quantizer<ActQuantizerImpl>(m, "qi.act_quant")->value, {0.75f});
    set_value(quantizer<ActQuantizerImpl>(m, "a1.act_quant")->value, {1.25f});
    set_value(quantizer<WeightQuantizerImpl>(m, "c1.weight_quant")->value, {0.3125f});
    std::vector<float> fc_scales;
    for (int i = 0; i < 10; ++i) fc_scales.push_back(0.125f * float(i + 1));
    set_value(quantizer<WeightQuantizerImpl>(m, "fc.weight_quant")->value, fc_scales);

    const StateDict sd = brevitas_state_dict(m);
    QCOMPARE(state_keys(sd),
             (std::vector<std::string>{"qi.act_quant" + kAct, "c1.weight", "c1" + kW, "bn1.weight", "bn1.bias",
                                       "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
                                       "a1.act_quant" + kAct, "fc.weight", "fc.bias", "fc" + kW}));
    QVERIFY(torch::equal(state_value(sd, "qi.act_quant" + kAct), torch::full({}, 0.75f)));
    QVERIFY(torch::equal(state_value(sd, "a1.act_quant" + kAct), torch::full({}, 1.25f)));
    QVERIFY(torch::equal(state_value(sd, "c1" + kW), torch::full({}, 0.3125f)));
    QVERIFY(torch::equal(state_value(sd, "fc" + kW), torch::tensor(fc_scales).reshape({10, 1})));

    std::string py;
    try {
      py = round_trip(m, dir);
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    VERIFY_LINE(py, "from brevitas.quant import SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst");
    VERIFY_LINE(py, "        self.qi = qnn.QuantIdentity(act_quant=SignedBinaryActPerTensorConst, "
                    "scaling_impl_type='parameter', return_quant_tensor=True)");
    VERIFY_LINE(py, "        self.c1 = qnn.QuantConv2d(1, 4, 3, padding=1, bias=False, "
                    "weight_quant=SignedBinaryWeightPerTensorConst, weight_scaling_impl_type='parameter')");
    VERIFY_LINE(py, "        self.fc = qnn.QuantLinear(256, 10, bias=True, weight_quant=SignedBinaryWeightPerTensorConst, "
                    "weight_scaling_per_output_channel=True, weight_scaling_impl_type='parameter')");
    int code = 0;
    const QString out = python3({QStringLiteral("-c"),
                                 QStringLiteral("import ast, sys; ast.parse(open(sys.argv[1]).read())"),
                                 dir.filePath(QStringLiteral("brevitas/model.py"))},
                                &code);
    QVERIFY2(code == 0, qPrintable(out));
  }

  void learnedWeightScalesRoundTrip() {
    // weight_scaling_impl_type='parameter' (ParameterScaling, FP restriction): the value is
    // the linear threshold, scale = value / int_threshold; [C_out, 1, 1, 1] per channel.
    QTemporaryDir dir;
    torch::manual_seed(8);
    QuantSpec conv_w = presets::Int8WeightPerChannelFloat();
    conv_w.scaling = ScalingKind::Parameter;
    conv_w.bit_width = 4;
    QuantSpec fc_w = presets::Int8WeightPerTensorFloat();
    fc_w.scaling = ScalingKind::Parameter;
    fc_w.bit_width = 3;
    QuantSpec relu_a = presets::Uint8ActPerTensorFloat();
    relu_a.bit_width = 4;
    QuantModel m = build_model(chain_net("learned weights", presets::Int8ActPerTensorFloat(), conv_w, relu_a, fc_w));
    exercise(m);
    set_value(quantizer<WeightQuantizerImpl>(m, "c1.weight_quant")->value, {0.5f, 0.25f, 1.5f, 2.0f});
    set_value(quantizer<WeightQuantizerImpl>(m, "fc.weight_quant")->value, {0.8125f});

    const StateDict sd = brevitas_state_dict(m);
    QCOMPARE(state_keys(sd), (std::vector<std::string>{"qi.act_quant" + kAct, "c1.weight", "c1" + kW,
                                                       "r1.act_quant" + kAct, "fc.weight", "fc.bias", "fc" + kW}));
    QVERIFY(torch::equal(state_value(sd, "c1" + kW), torch::tensor({0.5f, 0.25f, 1.5f, 2.0f}).reshape({4, 1, 1, 1})));
    QVERIFY(torch::equal(state_value(sd, "fc" + kW), torch::full({}, 0.8125f)));

    std::string py;
    try {
      py = round_trip(m, dir);
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    VERIFY_LINE(py, "        self.c1 = qnn.QuantConv2d(1, 4, 3, padding=1, bias=False, weight_quant=Int8WeightPerChannelFloat, "
                    "weight_bit_width=4, weight_scaling_impl_type='parameter', weight_scaling_const=1.0)");
    VERIFY_LINE(py, "        self.fc = qnn.QuantLinear(256, 10, bias=True, weight_bit_width=3, "
                    "weight_scaling_impl_type='parameter', weight_scaling_const=1.0)");
  }

  void powerOfTwoScalesRoundTrip() {
    // Fixed-point presets: Brevitas stores v = log2(threshold) and evaluates
    // 2^ceil(v) / int_threshold (int_threshold 2^(b-1) signed, 2^b unsigned).
    QTemporaryDir dir;
    torch::manual_seed(9);
    QuantSpec conv_w = presets::Int8WeightPerTensorFixedPoint();
    conv_w.scaling = ScalingKind::Parameter;
    conv_w.per_channel = true;
    conv_w.bit_width = 4;
    QuantSpec relu_a = presets::Uint8ActPerTensorFixedPoint();
    relu_a.bit_width = 5;
    QuantModel m = build_model(chain_net("fixed point", presets::Int8ActPerTensorFixedPoint(), conv_w, relu_a,
                                         presets::Int8WeightPerTensorFloat()));
    exercise(m);  // qi: learned phase, threshold 2.75
    auto* qi = quantizer<ActQuantizerImpl>(m, "qi.act_quant");
    auto* r1 = quantizer<ActQuantizerImpl>(m, "r1.act_quant");
    QVERIFY(qi->learned_phase() && qi->value.item<float>() == 2.75f);
    // r1 at 1 + 2^-23: log2(thr / 32) = -5 + 1.7e-7 rounds to -5 in float32, so the app's
    // scale is 2^-5 = 1/32, while log2(thr) = 1.7e-7 would give Brevitas 2^1 / 32.
    r1->load_threshold(1.0 + std::ldexp(1.0, -23));
    set_value(quantizer<WeightQuantizerImpl>(m, "c1.weight_quant")->value, {0.3f, 1.0f, 2.5f, 7.0f});

    const StateDict sd = brevitas_state_dict(m);
    QCOMPARE(state_keys(sd), (std::vector<std::string>{"qi.act_quant" + kAct, "c1.weight", "c1" + kW,
                                                       "r1.act_quant" + kAct, "fc.weight", "fc.bias"}));
    // qi: 8-bit signed, T = 128: scale 2^ceil(log2(2.75 / 128)) = 2^-5; v = log2(2.75) = 1.4594,
    // 2^ceil(v) / 128 = 4 / 128 = 2^-5.
    const float v_qi = state_value(sd, "qi.act_quant" + kAct).item<float>();
    QVERIFY(std::fabs(v_qi - 1.4594316f) < 1e-6f);
    QCOMPARE(qi->eval_scale().item<float>(), 0.03125f);
    QCOMPARE(std::ldexp(1.0f, int(std::ceil(v_qi))) / 128.0f, 0.03125f);
    // r1: the exported value is moved into (-1, 0] so that 2^ceil(v) / 32 = 1/32.
    QCOMPARE(r1->eval_scale().item<float>(), 0.03125f);
    QCOMPARE(state_value(sd, "r1.act_quant" + kAct).item<float>(), 0.0f);
    // c1: 4-bit signed, T = 8, thresholds 0.3, 1, 2.5, 7: the app's scales 1/16, 1/8, 1/2, 1;
    // v = log2(...) = -1.737, 0, 1.322, 2.807: ceil -1, 0, 2, 3: 2^ceil(v) / 8 the same.
    const torch::Tensor v_c1 = state_value(sd, "c1" + kW);
    QCOMPARE(v_c1.sizes().vec(), (std::vector<int64_t>{4, 1, 1, 1}));
    const std::vector<float> thr{0.3f, 1.0f, 2.5f, 7.0f};
    const std::vector<float> ceil_v{-1.0f, 0.0f, 2.0f, 3.0f};
    for (int i = 0; i < 4; ++i) {
      const float v = v_c1.flatten()[i].item<float>();
      QVERIFY2(std::fabs(v - std::log2(thr[size_t(i)])) < 1e-6f, std::to_string(v).c_str());
      QCOMPARE(std::ceil(v), ceil_v[size_t(i)]);
    }

    std::string py;
    try {
      py = round_trip(m, dir);
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    VERIFY_LINE(py, "from brevitas.quant import Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint, "
                    "Uint8ActPerTensorFixedPoint");
    VERIFY_LINE(py, "        self.qi = qnn.QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, return_quant_tensor=True)");
    VERIFY_LINE(py, "        self.c1 = qnn.QuantConv2d(1, 4, 3, padding=1, bias=False, "
                    "weight_quant=Int8WeightPerTensorFixedPoint, weight_bit_width=4, "
                    "weight_scaling_per_output_channel=True, weight_scaling_impl_type='parameter', "
                    "weight_scaling_const=1.0)");
    VERIFY_LINE(py, "        self.r1 = qnn.QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, bit_width=5, "
                    "return_quant_tensor=True)");
  }

  // An imported QONNX model goes on to Brevitas: its frozen affine maps become the
  // FrozenBatchNorm1d class model.py defines, and a project name with a line break
  // stays inside the comment.
  void importedModelGoesToBrevitas() {
    ImportedModel imported = import_onnx(QNN_SOURCE_DIR "/tests/data/models/TFC_2W2A.onnx");
    imported.project.name = "TFC\nimport os";
    QuantModel m = build_imported_model(imported);
    QTemporaryDir dir;
    std::string py;
    try {
      py = round_trip(m, dir);
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    QVERIFY2(py.rfind("# TFC import os\n", 0) == 0, py.substr(0, 80).c_str());
    VERIFY_LINE(py, "class FrozenBatchNorm1d(nn.BatchNorm1d):");
    VERIFY_LINE(py, "        self.Mul_7 = FrozenBatchNorm1d(784)");
    VERIFY_LINE(py, "        self.BatchNormalization_21 = nn.BatchNorm1d(64)");  // ONNX momentum 0.9 = torch 0.1
    QVERIFY(py.find("class FrozenBatchNorm2d") == std::string::npos);
    int code = 0;
    const QString out = python3({QStringLiteral("-c"), QStringLiteral("import ast, sys; ast.parse(open(sys.argv[1]).read())"),
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
    q.find("relu3")->act_quant = presets::Int8ActPerTensorFloatMinMaxInit();
    q.find("relu3")->act_quant->power_of_two = true;  // Brevitas's ...FixedPointMinMaxInit is not mapped
    QTemporaryDir dir;
    QuantModel m = build_model(q);
    const std::string out = dir.filePath("none").toStdString();
    QString msg = thrown_message<ExportError>([&] { export_model(m, ExportFormat::Brevitas, out); });
    QVERIFY2(msg.contains("relu3") && msg.contains("power-of-two"), qPrintable(msg));
    QVERIFY(!std::filesystem::exists(out));  // nothing written

    // A learned weight scale below 1e-10 x int_threshold: the app clamps the scale,
    // Brevitas the value before dividing; refused by quantizer name, nothing written.
    QuantSpec w = presets::Int8WeightPerChannelFloat();
    w.scaling = ScalingKind::Parameter;
    QuantModel dead = build_model(chain_net("dead", presets::Int8ActPerTensorFloat(), w,
                                            presets::Uint8ActPerTensorFloat(), presets::Int8WeightPerTensorFloat()));
    set_value(quantizer<WeightQuantizerImpl>(dead, "c1.weight_quant")->value, {1.0f, -0.5f, 1.0f, 1.0f});
    msg = thrown_message<ExportError>([&] { export_model(dead, ExportFormat::Brevitas, out); });
    QVERIFY2(msg.contains("c1.weight_quant") && msg.contains("channel 1"), qPrintable(msg));
    QVERIFY(!std::filesystem::exists(out));

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
