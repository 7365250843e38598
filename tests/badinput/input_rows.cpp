// SPDX-License-Identifier: GPL-3.0-or-later
// The bad-input table's project, dataset and checkpoint rows (issue 16 item 3): a project
// file with malformed JSON, wrong types, an unknown layer type, zero/negative/huge
// sizes, bit widths 0/1/33, a cycle, numbers and dimensions that overflow, a dataset
// folder that does not exist, images of the wrong size or channel count (caught by
// `qnn validate` before any data is read), a checkpoint of another network and 2 GB
// files. Each row runs `qnn` as a user would and asserts the exit status and the
// specific message (file, layer and field named); test_badinput.cpp's table() checks
// that the project file keeps its bytes and no temporary file is left.
// Very large graphs (50,000 layers, linear time) are tests/graph/test_bad_graphs.cpp's.
#include <nlohmann/json.hpp>

#include <QRegularExpression>

#include "tests/badinput/badinput_support.h"

namespace badinput {

namespace {

/// Writes the lenet_lowprec example to `dir`/p.qnn.json after `edit` changed it.
void project_with(const QString& dir, const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json p = nlohmann::json::parse(bytes_of(example("lenet_lowprec")).toStdString());
  edit(p);
  write_bytes(dir + "/p.qnn.json", QByteArray::fromStdString(p.dump(1)));
}

/// The layer `id` of a project JSON.
nlohmann::json& layer(nlohmann::json& p, const std::string& id) {
  for (auto& l : p["layers"])
    if (l["id"] == id) return l;
  throw std::runtime_error("no layer " + id);
}

/// `qnn validate` of the row's p.qnn.json. Its diagnostics are a report on stdout (a
/// failure to read the file goes to stderr): the row's message is both.
Outcome validate(const QString& dir) {
  Outcome o = run_qnn({"validate", dir + "/p.qnn.json"});
  o.message += o.out;
  return o;
}

/// `qnn validate` of the row's p.qnn.json expecting exit 1 and these fragments.
Row validate_row(const char* name, const std::function<void(nlohmann::json&)>& edit, QStringList fragments) {
  return {name, [edit](const QString& d) { project_with(d, edit); },
          validate, 1,
          [fragments](const QString&) { return fragments; }, {}, nullptr};
}

}  // namespace

std::vector<Row> input_rows() {
  std::vector<Row> rows;
  rows.push_back({"validate a truncated project file (malformed JSON)",
                  [](const QString& d) {
                    const QByteArray b = bytes_of(example("lenet_lowprec"));
                    write_bytes(d + "/p.qnn.json", b.left(b.size() / 2));
                  },
                  validate, 1,
                  [](const QString& d) {
                    return QStringList{d + "/p.qnn.json: not valid JSON at line ", "(the file ends early; is it truncated?)"};
                  },
                  {}, nullptr});
  rows.push_back(validate_row("validate: a string where a size belongs (wrong type)",
                              [](nlohmann::json& p) { layer(p, "conv1")["params"]["out_channels"] = "six"; },
                              {"layers[2] (conv1).params.out_channels: \"six\" is not a valid integer (expected 1 … 2^31-1)"}));
  rows.push_back(validate_row("validate: unknown layer type QuantConv3d",
                              [](nlohmann::json& p) { layer(p, "conv1")["type"] = "QuantConv3d"; },
                              {"layers[2] (conv1).type: unknown layer type 'QuantConv3d'; known types: Input,"}));
  rows.push_back(validate_row("validate: out_channels 0",
                              [](nlohmann::json& p) { layer(p, "conv1")["params"]["out_channels"] = 0; },
                              {"error: conv1:", "out_channels must be positive, got 0"}));
  rows.push_back(validate_row("validate: kernel_size -5",
                              [](nlohmann::json& p) { layer(p, "conv1")["params"]["kernel_size"] = -5; },
                              {"error: conv1:", "kernel_size must be positive, got -5"}));
  rows.push_back(validate_row("validate: out_channels 4e12 (huge)",
                              [](nlohmann::json& p) { layer(p, "conv1")["params"]["out_channels"] = int64_t(4000000000000); },
                              {"error: conv1:", "out_channels must be at most 2147483647 (2^31-1), got 4000000000000"}));
  rows.push_back(validate_row("validate: weight bit_width 0",
                              [](nlohmann::json& p) { layer(p, "conv1")["weight_quant"]["bit_width"] = 0; },
                              {"error: conv1: weight_quant: Int8WeightPerTensorFloat: bit_width must be in 2..16, got 0"}));
  rows.push_back(validate_row("validate: activation bit_width 1",
                              [](nlohmann::json& p) { layer(p, "relu1")["act_quant"]["bit_width"] = 1; },
                              {"error: relu1: act_quant: Uint8ActPerTensorFloat: bit_width must be in 2..16, got 1"}));
  rows.push_back(validate_row("validate: weight bit_width 33",
                              [](nlohmann::json& p) { layer(p, "conv1")["weight_quant"]["bit_width"] = 33; },
                              {"error: conv1: weight_quant: Int8WeightPerTensorFloat: bit_width must be in 2..16, got 33"}));
  rows.push_back({"validate: a number that overflows (1e400)",
                  [](const QString& d) {
                    QByteArray b = bytes_of(example("lenet_lowprec"));
                    QVERIFY(b.contains("\"out_channels\": 6"));
                    b.replace("\"out_channels\": 6", "\"out_channels\": 1e400");
                    write_bytes(d + "/p.qnn.json", b);
                  },
                  validate, 1,
                  [](const QString&) {
                    return QStringList{"(conv1).params.out_channels: 1e400 is not a valid integer (expected 1 … 2^31-1)"};
                  },
                  {},
                  [](const QString&, const Outcome& o) { QVERIFY2(!o.message.contains("json.exception"), qPrintable(o.text())); }});
  rows.push_back({"summary: an input dimension that overflows int64 when multiplied",
                  [](const QString& d) {
                    project_with(d, [](nlohmann::json& p) {
                      p["input"]["shape"] = {1, int64_t(1) << 62, int64_t(1) << 62};
                    });
                  },
                  [](const QString& d) { return run_qnn({"summary", d + "/p.qnn.json"}); }, 1,
                  [](const QString&) {
                    return QStringList{"the input shape [1, 4611686018427387904, 4611686018427387904] is too large: "
                                       "dimension 4611686018427387904 is above 2147483647 (2^31-1)"};
                  },
                  {},
                  [](const QString&, const Outcome& o) {
                    QVERIFY2(!o.out.contains("-9223372036854775808") && !o.message.contains("-9223372036854775808"),
                             qPrintable(o.text()));
                    // no padding advice for an Input no image can be padded to
                    QVERIFY2(!o.message.contains("set the dataset padding to 2305843009213693938"), qPrintable(o.text()));
                  }});
  rows.push_back({"summary: Linear layers of 2^31-1 x 2^31-1 weights (counts saturate, never negative)",
                  [](const QString& d) {
                    nlohmann::json p = nlohmann::json::parse(bytes_of(example("tfc_w2a2")).toStdString());
                    int linear = 0;
                    for (auto& l : p["layers"])
                      if (l["type"] == "QuantLinear" && linear++ < 2) {
                        l["params"]["in_features"] = 2147483647;
                        l["params"]["out_features"] = 2147483647;
                      }
                    write_bytes(d + "/p.qnn.json", QByteArray::fromStdString(p.dump(1)));
                  },
                  [](const QString& d) {
                    Outcome o = run_qnn({"summary", d + "/p.qnn.json"});
                    o.message += o.out;
                    return o;
                  },
                  1,
                  [](const QString&) {
                    // 2 x (2^31-1)^2 weights at 2 bits: more bits than an int64 holds
                    return QStringList{"more than 9223372036854775806 bytes at the chosen bit widths vs more than "
                                       "9223372036854775806 bytes float32\n"};
                  },
                  {},
                  [](const QString&, const Outcome& o) {
                    QVERIFY2(!o.out.contains(QRegularExpression(" -[0-9]")), qPrintable(o.text()));
                    QVERIFY2(o.out.contains("4611686014132420609"), qPrintable(o.text()));  // (2^31-1)^2, exact
                  }});
  rows.push_back({"validate: a cycle a -> b -> a",
                  [](const QString& d) {
                    write_bytes(d + "/p.qnn.json", R"({"format": "qnn-studio-project", "version": 2, "name": "cycle",
 "input": {"shape": [1, 28, 28]},
 "dataset": {"name": "fashion-mnist", "path": "/usr/share/datasets/fashion-mnist", "pad": 0},
 "layers": [{"id": "input", "type": "Input"}, {"id": "a", "type": "ReLU"}, {"id": "b", "type": "ReLU"},
            {"id": "output", "type": "Output"}],
 "connections": [{"from": "b", "to": "a", "port": 0}, {"from": "a", "to": "b", "port": 0},
                 {"from": "a", "to": "output", "port": 0}]})");
                  },
                  validate, 1,
                  [](const QString&) {
                    return QStringList{"error: a: a is part of a cycle: a -> b -> a (hint: remove one of the connections"};
                  },
                  {}, nullptr});
  rows.push_back({"train with a dataset folder that does not exist",
                  [](const QString& d) {
                    project_with(d, [&](nlohmann::json& p) { p["dataset"]["path"] = (d + "/no-such-folder").toStdString(); });
                  },
                  [](const QString& d) {
                    return run_qnn({"train", d + "/p.qnn.json", "--epochs", "1", "--max-batches", "1", "--checkpoint",
                                    d + "/out.pt"});
                  },
                  2,
                  [](const QString& d) {
                    return QStringList{"file not found (neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz is in " +
                                       d + "/no-such-folder)"};
                  },
                  {"out.pt"}, nullptr});
  rows.push_back({"validate: dataset folder that does not exist is named (a warning: the graph is still checked)",
                  [](const QString& d) {
                    project_with(d, [&](nlohmann::json& p) { p["dataset"]["path"] = (d + "/no-such-folder").toStdString(); });
                  },
                  validate, 0,
                  [](const QString& d) {
                    return QStringList{"warning: dataset: the dataset folder " + d + "/no-such-folder does not exist"};
                  },
                  {}, nullptr});
  // The dataset folder of these two rows is empty: validate answers from the dataset's
  // known image shape, without reading a byte of data.
  rows.push_back({"validate: Input of 3 channels for 1-channel Fashion-MNIST (no data read)",
                  [](const QString& d) {
                    QDir().mkpath(d + "/empty");
                    project_with(d, [&](nlohmann::json& p) {
                      p["input"]["shape"] = {3, 32, 32};
                      p["dataset"]["path"] = (d + "/empty").toStdString();
                    });
                  },
                  validate, 1,
                  [](const QString&) {
                    return QStringList{"error: input: the Input layer 'input' takes samples of shape [3, 32, 32] but the "
                                       "dataset fashion-mnist gives [1, 32, 32]",
                                       "3 channel(s) in the Input, 1 in the dataset"};
                  },
                  {}, nullptr});
  rows.push_back({"validate: 28x28 images (pad 0) for a 32x32 Input (no data read)",
                  [](const QString& d) {
                    QDir().mkpath(d + "/empty");
                    project_with(d, [&](nlohmann::json& p) {
                      p["dataset"]["pad"] = 0;
                      p["dataset"]["path"] = (d + "/empty").toStdString();
                    });
                  },
                  validate, 1,
                  [](const QString&) {
                    return QStringList{"32x32 in the Input, 28x28 after padding (hint: set the dataset padding to 2 "
                                       "(28 + 2 x 2 = 32), or set the Input shape to [1, 28, 28])"};
                  },
                  {}, nullptr});
  rows.push_back({"eval with a checkpoint of another network (tfc_w2a2 into lenet_lowprec)",
                  [](const QString& d) {
                    auto m = qnn::build_model(qnn::load_project(example("tfc_w2a2").toStdString()));
                    qnn::save_checkpoint(m, (d + "/tfc.pt").toStdString());
                  },
                  [](const QString& d) {
                    return run_qnn({"eval", example("lenet_lowprec"), "--checkpoint", d + "/tfc.pt", "--test-limit", "8"});
                  },
                  1,
                  [](const QString& d) {
                    return QStringList{"the checkpoint " + d + "/tfc.pt was trained on a different network (the input "
                                       "shapes differ); open the project it was saved from"};
                  },
                  {}, [](const QString&, const Outcome& o) { QVERIFY(!o.out.contains("test_accuracy")); }});
  rows.push_back({"validate a 2 GB project file (sparse)",
                  [](const QString& d) {
                    QFile f(d + "/p.qnn.json");
                    QVERIFY(f.open(QIODevice::WriteOnly));
                    QVERIFY(f.resize(qint64(2) << 30));
                  },
                  validate, 2,
                  [](const QString& d) {
                    return QStringList{"cannot read project file '" + d + "/p.qnn.json': it is 2048 MB, more than the 256 MB"};
                  },
                  {}, nullptr});
  rows.push_back({"eval with a checkpoint whose data.pkl a zip tool compressed (deflate)",
                  [](const QString& d) {
                    // Only the compression method of data.pkl's two zip records changes (8,
                    // deflate): it is refused by its method, before any inflating.
                    QByteArray b = bytes_of(g_checkpoint);
                    int marked = 0;
                    for (qsizetype at = b.indexOf("/data.pkl"); at >= 0; at = b.indexOf("/data.pkl", at + 1)) {
                      const qsizetype name = b.lastIndexOf('\0', at) + 1;  // the name follows the header
                      for (const auto& [sig, header, method] : {std::tuple{"PK\x03\x04", 30, 8}, {"PK\x01\x02", 46, 10}})
                        if (name >= header && b.mid(name - header, 4) == QByteArray(sig, 4)) {
                          b[name - header + method] = 8;
                          ++marked;
                        }
                    }
                    QCOMPARE(marked, 2);
                    write_bytes(d + "/deflated.pt", b);
                  },
                  [](const QString& d) {
                    return run_qnn({"eval", example("lenet_lowprec"), "--checkpoint", d + "/deflated.pt"});
                  },
                  2,
                  [](const QString& d) {
                    return QStringList{"cannot read checkpoint " + d + "/deflated.pt: its entry ",
                                       "/data.pkl is compressed (deflate; a zip tool re-packed the file), and LibTorch "
                                       "reads only stored pickles"};
                  },
                  {}, [](const QString&, const Outcome& o) { QVERIFY(!o.text().contains("is damaged")); }});
  rows.push_back({"eval with a 2 GB checkpoint (sparse zeros)",
                  [](const QString& d) {
                    QFile f(d + "/big.pt");
                    QVERIFY(f.open(QIODevice::WriteOnly));
                    QVERIFY(f.resize(qint64(2) << 30));
                  },
                  [](const QString& d) { return run_qnn({"eval", example("lenet_lowprec"), "--checkpoint", d + "/big.pt"}); },
                  2,
                  [](const QString& d) {
                    return QStringList{"cannot read checkpoint " + d + "/big.pt: it is not a LibTorch archive (no zip header)"};
                  },
                  {}, nullptr});
  return rows;
}

}  // namespace badinput
