// SPDX-License-Identifier: GPL-3.0-or-later
// The layer registry (core/layers): one complete descriptor per LayerType, read by
// the type-name lookup, the parameter names, the quantizer defaults and the editor.
#include <set>

#include "core/errors.h"
#include "core/graph/layer_rules.h"
#include "core/graph/project.h"
#include "core/layers/layer_descriptor.h"
#include "tests/graph/graph_tests.h"

#include <QtTest>

using namespace qnn;

class TestRegistry : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void everyTypeHasOneDescriptor();
  void namesRoundTrip();
  void schemaCoversKnownParams();
  void hooksPresentWhereNeeded();
  void quantizerDefaultsAreBrevitas();
  void exportRefusalsComeFromTheDescriptor();
};

void TestRegistry::everyTypeHasOneDescriptor() {
  // 19 types today; the enum is append-only, so every value below the count is a type.
  const auto& types = all_layer_types();
  QCOMPARE(int(types.size()), int(all_descriptors().size()));
  QVERIFY(types.size() >= 19);
  for (size_t i = 0; i < types.size(); ++i) {
    QCOMPARE(int(types[i]), int(i));
    QCOMPARE(int(descriptor(types[i]).type), int(i));
  }
  QVERIFY_THROWS_EXCEPTION(std::logic_error, descriptor(static_cast<LayerType>(types.size())));
}

void TestRegistry::namesRoundTrip() {
  std::set<std::string> names;
  for (const LayerDescriptor& d : all_descriptors()) {
    QVERIFY2(!d.name.empty(), std::to_string(int(d.type)).c_str());
    QVERIFY2(names.insert(d.name).second, d.name.c_str());
    QCOMPARE(to_string(d.type), d.name);
    QCOMPARE(int(layer_type_from_string(d.name)), int(d.type));
    QCOMPARE(find_descriptor(d.name), &d);
    QVERIFY2(!d.id_base.empty() && !d.tooltip.empty(), d.name.c_str());
  }
  QVERIFY(find_descriptor("Conv3d") == nullptr);
  QVERIFY_THROWS_EXCEPTION(ConfigError, layer_type_from_string("Conv3d"));
  QCOMPARE(to_string(LayerType::QuantConv2d), std::string("QuantConv2d"));
  QCOMPARE(descriptor(LayerType::QuantLinear).id_base, std::string("fc"));
}

void TestRegistry::schemaCoversKnownParams() {
  for (const LayerDescriptor& d : all_descriptors()) {
    const auto& known = known_params(d.type);
    QCOMPARE(known.size(), d.params.size());
    for (size_t i = 0; i < known.size(); ++i) {
      QCOMPARE(known[i], d.params[i].name);
      QVERIFY(d.param(known[i]) == &d.params[i]);
      QVERIFY2(!d.params[i].help.empty(), (d.name + "." + known[i]).c_str());
      // A parameter is either required or has a default (a number or another parameter).
      if (!d.params[i].default_from.empty()) QVERIFY(d.param(d.params[i].default_from) != nullptr);
    }
  }
  const std::vector<std::string> conv{"in_channels", "out_channels", "kernel_size", "stride",
                                      "padding",     "dilation",     "groups",      "bias"};
  QCOMPARE(known_params(LayerType::Conv2d), conv);
  QCOMPARE(known_params(LayerType::QuantConv2d), conv);
  QVERIFY(known_params(LayerType::Flatten).empty());
  // Defaults: the values validation and the model builder use when a file leaves them out.
  LayerSpec pool;
  pool.type = LayerType::MaxPool2d;
  pool.params["kernel_size"] = 3;
  QCOMPARE(param_value(pool, "stride"), 3.0);  // torch: stride defaults to kernel_size
  LayerSpec bn;
  bn.type = LayerType::BatchNorm2d;
  QCOMPARE(param_value(bn, "eps"), 1e-5);
  QCOMPARE(param_value(bn, "momentum"), 0.1);
}

void TestRegistry::hooksPresentWhereNeeded() {
  for (const LayerDescriptor& d : all_descriptors()) {
    QVERIFY2(d.input_ports != nullptr, d.name.c_str());
    const bool end = d.family == LayerFamily::InputOutput;
    QCOMPARE(d.build == nullptr, end);  // every layer but Input / Output builds a module
  }
  LayerSpec add;
  add.type = LayerType::Add;
  QCOMPARE(input_port_count(add), 2);
  QCOMPARE(input_port_count(LayerType::Input), 0);
  QCOMPARE(input_port_count(LayerType::QuantReLU), 1);
  QVERIFY(!descriptor(LayerType::Output).has_output);
}

void TestRegistry::quantizerDefaultsAreBrevitas() {
  auto act = [](LayerType t) {
    LayerSpec l;
    l.type = t;
    return effective_act_quant(l);
  };
  QCOMPARE(act(LayerType::QuantReLU)->preset, std::string("Uint8ActPerTensorFloat"));
  QCOMPARE(act(LayerType::QuantIdentity)->preset, std::string("Int8ActPerTensorFloat"));
  QCOMPARE(act(LayerType::QuantHardTanh)->preset, std::string("Int8ActPerTensorFloatMinMaxInit"));
  QVERIFY(!act(LayerType::ReLU).has_value());
  LayerSpec conv;
  conv.type = LayerType::QuantConv2d;
  QCOMPARE(effective_weight_quant(conv)->preset, std::string("Int8WeightPerTensorFloat"));
  QVERIFY(!effective_bias_quant(conv).has_value());  // Brevitas: bias_quant=None
  conv.bias_quant = presets::Int32Bias();
  QCOMPARE(effective_bias_quant(conv)->bit_width, 32);
  conv.params["bias"] = 0;
  QVERIFY(!effective_bias_quant(conv).has_value());
  LayerSpec eadd;
  eadd.type = LayerType::QuantEltwiseAdd;
  QCOMPARE(effective_input_quant(eadd)->preset, std::string("Int8ActPerTensorFloat"));
}

void TestRegistry::exportRefusalsComeFromTheDescriptor() {
  QVERIFY(descriptor(LayerType::BatchNorm2d).export_rules.packed_refusal.find("packed") != std::string::npos);
  QVERIFY(descriptor(LayerType::BatchNorm2d).export_rules.qcdq_refusal.empty());
  QVERIFY(descriptor(LayerType::BatchNorm2d).export_rules.packed_forward == nullptr);
  QVERIFY(descriptor(LayerType::Dropout).export_rules.freeze == nullptr);  // vanishes in eval
  for (const LayerDescriptor& d : all_descriptors())  // packed refuses exactly what it cannot recompute
    if (d.type != LayerType::Input)
      QCOMPARE(d.export_rules.packed_forward == nullptr, !d.export_rules.packed_refusal.empty());
}

QNN_REGISTER_GRAPH_TEST(TestRegistry);
#include "test_registry.moc"
