// SPDX-License-Identifier: GPL-3.0-or-later
// FINN's dataflow rules, checked while a network is designed (issue 15). FINN's
// QONNX-to-FINN conversion and streamlining refuse networks late, with messages about
// thresholds and partitions; these rules name the node a user drew instead. Sources: the
// FINN documentation and its users' reports, as listed in issue 15 and README.md
// ("Deployment target").
//
// Each broken rule is a Diagnostic of Severity::Warning (training is never blocked) on
// the node at fault, with a hint naming the fix:
//  - "finn-zero-point": a quantizer with a zero point (shifted, asymmetric): FINN needs 0;
//  - "finn-relu-quant": the activation quantizer after a ReLU (QuantReLU's own act_quant,
//    or a QuantIdentity fed by a float ReLU with only Dropout/Identity between: its Quant
//    directly follows the Relu node in the export) is signed or narrow: FINN's
//    QuantReluHandler needs it unsigned and not narrow;
//  - "finn-identity-signed": any other activation quantizer (a QuantIdentity not directly
//    after a ReLU, e.g. after a max pool or the input; QuantHardTanh, QuantTanh,
//    QuantSigmoid; QuantEltwiseAdd's act_quant and input_quant) is unsigned: FINN converts
//    it with its QuantIdentityHandler, which needs a signed Quant (FINN
//    src/finn/transformation/qonnx/qonnx_activation_handlers.py);
//  - "finn-act-bits": an activation quantizer above 8 bits: FINN leaves it unconverted
//    (no MultiThreshold);
//  - "finn-input-quant": a layer takes the float network input: FINN needs a quantized
//    input (a QuantIdentity after the Input; Flatten, Dropout and Identity may come
//    before it: FINN makes them reshapes). A QuantReLU, or a ReLU read only by
//    quantizers, at the input quantizes it too (FINN's QuantReluHandler makes Relu ->
//    Quant one MultiThreshold on the input); a float ReLU otherwise is
//    finn-unsupported-op's;
//  - "finn-trunc-floor": a TruncAvgPool2d / TruncAdaptiveAvgPool2d rounds half to even:
//    FINN truncates with FLOOR (param floor 1);
//  - "finn-join-scales": the inputs of an Add or a Concat are not on one activation
//    quantizer's grid (different quantizers, or a float input; traced back through max
//    pools, shape ops and ReLU): FINN needs one scale. Joins validation already refuses
//    ("add-scales", "concat-quant", both QuantTensors) are not reported twice.
//  - "finn-unsupported-op": a float op FINN has no hardware layer for: a Tanh, Sigmoid or
//    HardTanh (Clip), float or before a QuantTanh / QuantSigmoid / QuantHardTanh's Quant
//    (FINN's QuantIdentityHandler converts the Quant but leaves the node before it), and a
//    float ReLU not read only by activation quantizers (FINN removes a Relu only in its
//    QuantReluHandler, together with the Quant right after it). Sources:
//    src/finn/transformation/qonnx/quant_act_to_multithreshold.py and
//    qonnx_activation_handlers.py (_remove_activation_node); no streamlining or
//    convert_to_hw_layers transformation takes Tanh, Sigmoid, Clip or Relu.
//    A float AvgPool2d (an AveragePool without Trunc) too: FINN builds average pools only
//    from Brevitas's truncating pool (InferQuantAvgPool2d, then InferPool).
// Two rules of the list hold by construction here: bit widths are static (a QuantSpec's
// bit_width is a number, never a learned parameter) and a weight quantizer feeds exactly
// one layer (each layer owns its weight_quant).
#pragma once

#include <string>
#include <vector>

#include "core/graph/project.h"
#include "core/graph/validate.h"

namespace qnn {

/// The FINN rule diagnostics of `project`, given its validation `v` (shapes and scale
/// sources of the nodes that could be inferred), in layer order. Does not look at
/// project.deployment_target (validate() calls it only for DeploymentTarget::Finn).
/// Never throws.
std::vector<Diagnostic> finn_diagnostics(const Project& project, const ValidationResult& v);

/// Whether the Quant of `layer_id`'s activation quantizer directly follows a Relu node in
/// the QONNX export: a QuantReLU, or a QuantIdentity fed by a float ReLU through Dropout /
/// Identity only. FINN converts such a Quant with its QuantReluHandler and every other
/// activation Quant with its QuantIdentityHandler (signed Quant; a BipolarQuant only at a
/// per-tensor scale of 1). Never throws.
bool finn_quant_follows_relu(const Project& project, const std::string& layer_id);

/// Whether `d` is one of the diagnostics above (its code starts with "finn-").
bool is_finn_diagnostic(const Diagnostic& d);

/// Choosing a deployment target, as Edit > Deployment Target in the GUI and the CLI's
/// --target option both do it: sets project.deployment_target and, for FINN, also
/// `floor` 1 (FLOOR truncation, Brevitas TruncTo8bit) on every TruncAvgPool2d and
/// TruncAdaptiveAvgPool2d that rounds half to even, so training, evaluation and the
/// QONNX Trunc compute what FINN builds. Other targets change no layer (a FLOOR pool
/// stays FLOOR). Returns the ids of the pools it changed, in layer order. Never throws.
std::vector<std::string> apply_deployment_target(Project& project, DeploymentTarget target);

}  // namespace qnn
