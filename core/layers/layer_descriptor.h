// SPDX-License-Identifier: GPL-3.0-or-later
// The layer registry: ONE descriptor per layer type holds everything the rest of the
// program needs to know about that type (in the spirit of ONNX's OpSchema registry and
// QtNodes' node-model registry). Validation, the model builder, the summary, the
// exporters, the palette, the inspector and the node editor read it; none of them
// switches over LayerType.
//
// Adding a layer type (e.g. QuantTanh):
//   1. append an enumerator to `enum class LayerType` (core/graph/project.h; the
//      registry key, append-only so old numbering never changes);
//   2. write core/layers/<name>.cpp defining `LayerDescriptor layers::<name>()`:
//      JSON name, id base, family (palette group), tooltip, parameter schema,
//      quantizer slots with their Brevitas presets, checks, shape inference, module
//      builder, cost and export rules (copy the closest existing file, e.g.
//      activations.cpp for an activation, conv2d.cpp for a layer with weights);
//   3. add one line `X(<name>)` to QNN_LAYERS in core/layers/registry.cpp.
// tests/graph/test_registry.cpp then checks the new descriptor is complete.
//
// Descriptors are built by plain functions listed explicitly in registry.cpp (no
// static self-registration: the linker drops unreferenced objects of a static
// library). Every hook is a plain function pointer; nullptr means "not applicable"
// as documented per field.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/graph/project.h"
#include "core/graph/validate.h"
#include "core/quant/quant_spec.h"

namespace torch::nn {
class Module;
}
namespace at {
class Tensor;
}

namespace qnn {

class LayerBase;
struct LayerSummary;
struct PlanNode;
struct FreezeContext;
struct PackedRunContext;

/// Colour family of a node and the palette group it is listed in.
enum class LayerFamily {
  InputOutput,      ///< "Input / output"
  QuantLayer,       ///< "Quantized layers": layers with quantized weights
  QuantActivation,  ///< "Quantized activations": layers with an activation quantizer
  FloatLayer,       ///< "Float layers"
  FloatActivation,  ///< "Float activations"
  ShapeOp,          ///< "Shape and other ops"
};
/// Every family in palette order.
const std::vector<LayerFamily>& all_families();
/// The palette group title of a family, e.g. "Quantized layers".
std::string family_title(LayerFamily f);

/// How a parameter is written and edited.
enum class ParamKind {
  Int,       ///< a whole number (JSON number)
  Real,      ///< a real number
  Bool,      ///< 0 or 1 (JSON false/true)
  IntTuple,  ///< `count` whole numbers: a JSON number (used for every entry) or an array of `count`
};

/// One parameter of a layer type (an entry of LayerSpec::params).
struct ParamSchema {
  std::string name;
  ParamKind kind = ParamKind::Int;
  int count = 1;                 ///< IntTuple: entries (2 for [h, w])
  bool required = false;         ///< validation reports a layer that leaves it out
  double default_value = 0.0;    ///< the value used when the layer leaves it out (not required)
  std::string default_from;      ///< when set: absent means "the value of this parameter" (pool stride = kernel_size)
  double minimum = 0.0;          ///< Int / IntTuple: smallest allowed entry (1: "must be positive")
  std::optional<double> initial; ///< the value a new layer from the palette starts with (absent: left out)
  std::string help;              ///< one line for tooltips
};

/// Quantizer slots of LayerSpec.
enum class QuantSlot { Weight, Bias, Act, Input };
/// The slot name in the project file and in messages: "weight_quant", ...
std::string slot_key(QuantSlot s);

/// A quantizer slot a type uses, with the Brevitas default when the project leaves it
/// out (nullopt: nothing; for the bias slot this means a float bias).
struct QuantSlotUse {
  QuantSlot slot;
  std::optional<QuantSpec> preset;
};

/// Where validation reports a node's problems (codes: see Diagnostic::code).
class LayerReporter {
 public:
  virtual ~LayerReporter() = default;
  virtual void error(std::string message, std::string hint, std::string code = "param") = 0;
  virtual void warning(std::string message, std::string hint, std::string code = "param") = 0;
};

/// What shape inference hands a descriptor: the inferred facts of each input port.
struct InferInput {
  std::string from;  ///< id of the producing layer
  NodeInfo info;
};
/// The reporter plus the graph (for hints that walk upstream).
class InferContext : public LayerReporter {
 public:
  virtual const Project& project() const = 0;
};

/// A built module: the LibTorch module (registered under the layer id) and its
/// executor interface (the same object).
struct BuiltLayer {
  std::shared_ptr<torch::nn::Module> module;
  LayerBase* layer = nullptr;
};

/// How each export format writes a type. An empty refusal means the format writes it;
/// otherwise it is the reason preflight() gives (the export is refused).
struct ExportRules {
  /// Fills a PlanNode (op and its fields) from the built module (core/export/export_plan.h).
  /// nullptr: the layer vanishes in eval (Dropout, Identity) and its consumers read its input.
  void (*freeze)(const FreezeContext& c, PlanNode& n) = nullptr;
  /// Recomputes the layer in the packed-model reader (core/export/packed_model.h);
  /// nullptr when the packed format refuses the type.
  at::Tensor (*packed_forward)(const PackedRunContext& c) = nullptr;
  std::string qcdq_refusal, qonnx_refusal, packed_refusal;
  /// Refusal that depends on the layer's inferred inputs (e.g. a per-channel grid a
  /// truncating pool cannot carry, uneven adaptive windows): the reason, or "" when the
  /// layer exports. preflight() asks it for every format but checkpoint, so the export
  /// is refused by name before anything is written. nullptr: nothing to check.
  std::string (*refusal)(const LayerSpec& l, const std::vector<InferInput>& in) = nullptr;
  /// The layer computes in float (exporters warn when it sits between quantized layers).
  bool float_compute = false;
  /// ONNX Runtime evaluates the layer's function (tanh, sigmoid) with its own kernel,
  /// whose last bit may differ from LibTorch's: export --verify then checks agreement only.
  bool runtime_kernel = false;
  /// Packed: its weights are stored as float32 (a warning).
  bool packed_float_weights = false;
};

struct LayerDescriptor {
  LayerType type = LayerType::Input;
  std::string name;          ///< JSON type name, e.g. "QuantConv2d"
  std::string id_base;       ///< new ids: "conv" -> conv1, conv2, ...
  bool single_id = false;    ///< the first layer gets the bare base ("input", "flatten")
  LayerFamily family = LayerFamily::ShapeOp;
  std::string tooltip;       ///< palette tooltip: what the layer computes (Brevitas / torch name)
  /// Input ports of a layer (a function of the spec so e.g. a Concat can have N).
  int (*input_ports)(const LayerSpec& l) = nullptr;
  bool has_output = true;    ///< false only for Output
  std::vector<ParamSchema> params;
  std::vector<QuantSlotUse> quant_slots;
  /// The return_quant_tensor flag means something for this type.
  bool returns_quant_tensor = false;
  /// Layers with weights and an optional bias (param "bias"): Conv2d, Linear and Quant*.
  bool has_weights = false;
  /// The output carries the input's QuantTensor facts unchanged or on a derived grid
  /// (a missing-scale hint looks above such layers).
  bool passes_quant_facts = false;
  /// Checks beyond the schema (e.g. groups divides the channels, min_val < max_val).
  void (*check)(const LayerSpec& l, LayerReporter& r) = nullptr;
  /// Shape and QuantTensor facts of the output from the inputs (one per port, all
  /// inferred). Returns false after reporting an error. nullptr: passes input 0 through.
  bool (*infer)(const LayerSpec& l, const std::vector<InferInput>& in, NodeInfo& out, InferContext& c) = nullptr;
  /// The module the model runs (nullptr: Input and Output, handled by the executor).
  BuiltLayer (*build)(const LayerSpec& l) = nullptr;
  /// Parameters, MACs and storage for the summary (core/graph/summary.h), given the
  /// output shape (nullptr when unknown). nullptr: no parameters, no MACs.
  void (*cost)(const LayerSpec& l, const std::vector<int64_t>* out_shape, LayerSummary& s) = nullptr;
  /// Short parameter text on the node, e.g. "k5 s2" (UTF-8). nullptr: none.
  std::string (*param_text)(const LayerSpec& l) = nullptr;
  ExportRules export_rules;

  /// The schema entry of `param`, or nullptr.
  const ParamSchema* param(const std::string& param) const;
  /// Whether the type uses `slot`; its preset (Brevitas default) when it does.
  bool uses(QuantSlot slot) const;
  std::optional<QuantSpec> slot_preset(QuantSlot slot) const;
};

/// The descriptor of `t`. Throws std::logic_error when the registry lacks it (a
/// programming error: registry.cpp must list every LayerType).
const LayerDescriptor& descriptor(LayerType t);
/// Every descriptor, in LayerType order.
const std::vector<LayerDescriptor>& all_descriptors();
/// The descriptor whose JSON name is `name`, or nullptr.
const LayerDescriptor* find_descriptor(const std::string& name);

/// A parameter's value on a layer as a number: its own (the first entry, h, of a pair),
/// else the schema default (or the value of `default_from`). 0 for unknown names.
double param_value(const LayerSpec& l, const std::string& name);
/// A parameter's value as [h, w] (ParamKind::IntTuple): its own pair, or its one number
/// for both axes, else the schema default (or `default_from`'s value) for both. {0, 0}
/// for unknown names.
std::array<int64_t, 2> pair_value(const LayerSpec& l, const std::string& name);

}  // namespace qnn
