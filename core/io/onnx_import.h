// SPDX-License-Identifier: GPL-3.0-or-later
// Import of ONNX models into a project plus the tensors of a checkpoint, so that a
// model trained elsewhere (Brevitas QONNX, FINN, a QCDQ or plain float ONNX export)
// evaluates, inspects, fine-tunes and re-exports like one drawn here.
//
// What is read (the mapping, node by node, in the file's topological order):
//  - QONNX `Quant`, `BipolarQuant`, `Trunc` in the domains qonnx.custom_op.general,
//    onnx.brevitas and finn.custom_op.general (QONNX spec: github.com/fastmachinelearning/
//    qonnx docs/qonnx-custom-ops). On a constant (weights, biases) a Quant becomes the
//    layer's weight or bias quantizer; on a runtime value an activation quantizer
//    (fused with a preceding Relu / Tanh / Sigmoid into QuantReLU / QuantTanh /
//    QuantSigmoid, else a QuantIdentity; a Clip stays a HardTanh, since QuantHardTanh
//    is the quantizer alone, as in Brevitas). Scales, zero
//    points and bit widths must be constants (float or integer tensors; per tensor or
//    one axis of any broadcast shape). rounding_mode ROUND is executed (round half to
//    even, as Brevitas); every other mode is refused by name. Trunc after an average
//    pool: ROUND or FLOOR (TruncAvgPool2d / TruncAdaptiveAvgPool2d).
//  - QCDQ: QuantizeLinear -> optional Clip -> DequantizeLinear on activations;
//    integer constants -> optional Clip -> DequantizeLinear on weights (per axis with
//    `axis`) and int32 biases. The bit width and narrow range come from the Clip
//    bounds (INT8/UINT8 without one).
//  - Float ops: Conv (1-D, 2-D, grouped), Gemm, MatMul (+ Add of a constant bias),
//    Relu, Clip, Tanh, Sigmoid, MaxPool, AveragePool, GlobalAveragePool,
//    BatchNormalization, Add, Concat (axis 1), Flatten, the Shape/Gather/Unsqueeze/
//    Concat/Reshape flatten chain, Transpose of constants, Dropout and Identity.
//    A chain of Add/Sub/Mul/Div with constant operands (input preprocessing such as
//    x * 2 - 1, or a BatchNorm written out as Sub/Div/Mul/Add) becomes one
//    frozen BatchNorm1d / BatchNorm2d holding that affine map within float rounding,
//    in training too (reported).
// Imported quantizers use ParameterScaling with the file's scale as the learned value
// (Brevitas scaling_impl_type PARAMETER): evaluation reproduces the file; fine-tuning
// trains the scales.
//
// Ids: the first component of the ONNX node name ("conv1/quant" -> conv1), sanitised
// to [A-Za-z_][A-Za-z0-9_]* and made unique.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/inspect/inspect.h"

namespace qnn {

/// What the import found beside the layers.
struct ImportReport {
  std::string format;                    ///< "QONNX", "QCDQ" or "float ONNX"
  /// Things kept in another form, each naming the nodes, e.g. "preprocessing Mul_7,
  /// Sub_9 (x * 2 - 1) kept as BatchNorm1d 'Mul_7'".
  std::vector<std::string> notes;
  /// Nodes no layer maps to: "not supported: DepthToSpace at node /conv4/DepthToSpace
  /// (...)". When non-empty the project cannot run; it opens for inspection only.
  std::vector<std::string> unsupported;
  bool runnable() const { return unsupported.empty(); }
  /// Every line of unsupported, then of notes, one per line.
  std::string text() const;
};

/// An imported model.
struct ImportedModel {
  Project project;                              ///< layers, connections, positions (auto-layout)
  std::map<std::string, torch::Tensor> tensors; ///< checkpoint names ("conv1.weight", "relu1.act_quant.value")
  ImportReport report;
  /// Every weight quantizer of the file, computed from its constants alone (grid
  /// histogram, scale per channel, zero point, bit width, saturation, SQNR), also when
  /// the graph cannot run. Layer execution order.
  std::vector<inspect::WeightStats> weights;
};

/// Reads and maps an ONNX file. Throws IoError (unreadable file) or DataError naming
/// the file and the node: not an ONNX protobuf (e.g. truncated), an unknown custom-op
/// domain, a Quant whose scale, zero point or bit width is not a constant, an
/// unsupported rounding_mode, an impossible quantizer (bit width outside 1..32, a
/// non-integer zero point, Clip bounds that are no integer grid, a zero activation
/// scale), a scale of more than one broadcast axis or of the wrong length, NaN or
/// infinite weights, malformed attributes (pads, strides, axis); tensors that do not
/// fit together are reported on their node too (never as a raw library message).
/// Our own exports' "qnn.preprocessing" metadata sets the dataset (pad, normalisation,
/// dataset by its class names). Unsupported standard ops are not errors: they are
/// listed in report.unsupported.
ImportedModel import_onnx(const std::string& path);
/// The same from the bytes of a model; `source` names the file in messages.
ImportedModel import_onnx_bytes(const std::string& bytes, const std::string& source);

/// Builds the imported model (runnable imports only) and loads its tensors; the model is
/// in eval mode. Throws ConfigError listing report.unsupported when it cannot run.
QuantModel build_imported_model(const ImportedModel& imported);

}  // namespace qnn
