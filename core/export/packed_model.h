// SPDX-License-Identifier: GPL-3.0-or-later
// The packed integer model: a small binary file holding the graph (project JSON) and
// every quantized tensor as integer codes bit-packed at its real bit width, with its
// scales and zero points; float tensors (unquantized weights or biases) as float32.
//
// File layout (all integers little-endian):
//   offset size  field
//   0      8     magic "QNNPACK\0"
//   8      4     u32 format version = 1
//   12     4     u32 flags: bit 0 set = the graph JSON is zlib-compressed (RFC 1950)
//   16     4     u32 J: bytes of the graph JSON as stored
//   20     4     u32 bytes of the graph JSON uncompressed
//   24     4     u32 D: bytes of the data section
//   28     4     u32 CRC-32 (zlib) of the JSON and data sections together
//   32     J     graph JSON (UTF-8): {"format":"qnn-packed","version":1,
//                "project":{...project file...},"preprocessing":{...},
//                "tensors":[...],"output":"<layer id>"}
//   32+J   D     data section; every offset in "tensors" is relative to its start
// A "tensors" entry describes one tensor:
//   {"name":"conv1.weight","layer":"conv1","role":"weight"|"bias"|"act"|"input",
//    "shape":[6,1,5,5],"kind":"codes"|"float32"|"quant",
//    codes:   "bit_width":3,"signed":true,"narrow":true,"min_int":-3,"max_int":3,
//             "channels":S (1 = per tensor, C_out = per channel along dim 0),
//             "codes_offset":o,"codes_bytes":n,"scale_offset":o,"zero_point_offset":o
//    float32: "offset":o,"bytes":n            (row-major float32)
//    quant:   an activation quantizer: bit_width/signed/narrow/min_int/max_int,
//             "channels":1,"scale_offset","zero_point_offset" (no codes); role "input":
//             the input grid of a truncating pool ("pool1.input")}
// Codes: each code q is stored as the unsigned u = q - min_int in b bits; codes follow
// the tensor's row-major order as one bit stream, least significant bit first (bit k
// of the stream is bit k % 8 of byte k / 8); the stream is padded with zero bits to a
// whole byte. Scales: S float32 (real units per step). Zero points: S int32.
// Dequantized value: (q - zero_point[c]) * scale[c], c = the index along dim 0 when
// per channel. Biases have zero point 0 and scale s_in * s_w.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/export/export_plan.h"
#include "core/graph/project.h"

namespace qnn {

/// One tensor read back from a packed file.
struct PackedTensor {
  std::string name, layer, role, kind;  ///< see the header comment
  std::vector<int64_t> shape;
  QuantPoint q;          ///< codes and quant kinds: scale [S] / [], zero point, range
  torch::Tensor codes;   ///< int64, `shape` (codes kind)
  torch::Tensor values;  ///< float32, `shape` (float32 kind)
};

struct PackedModel {
  Project project;
  std::string output;  ///< layer id whose value are the logits
  std::map<std::string, PackedTensor> tensors;  ///< by name ("conv1.weight", "relu1.act")
};

/// Sizes of a packed file.
/// What a layer descriptor's packed_forward hook (core/layers/layer_descriptor.h) reads
/// when the packed reader recomputes a layer.
struct PackedRunContext {
  const LayerSpec& layer;
  std::vector<torch::Tensor> inputs;  ///< one value per input port
  /// The dequantized (or float32) tensor `name` ("conv1.weight") with a per-channel
  /// scale broadcast along dim 0 of a `dims`-D tensor; undefined when absent.
  std::function<torch::Tensor(const std::string& name, int64_t dims)> param;
  /// The stored tensor `name` ("relu1.act"), or nullptr.
  std::function<const PackedTensor*(const std::string& name)> tensor;
};

struct PackedSize {
  int64_t file_bytes = 0;     ///< whole file
  int64_t payload_bytes = 0;  ///< codes + scales + zero points + float tensors (data section)
  int64_t float32_bytes = 0;  ///< 4 bytes per weight and bias element of the float model
};

/// Serialises `plan` into the packed layout above. Throws ExportError.
std::string packed_model_bytes(const ExportPlan& plan, PackedSize* size = nullptr);

/// A C header (C99) with the same content for microcontrollers: per tensor the
/// bit-packed codes as `static const uint8_t`, the scales and zero points, bit widths
/// and shapes as macros, and the preprocessing as comments.
std::string packed_c_header(const ExportPlan& plan);

/// Parses a packed file. Throws IoError (unreadable) or ExportError (not a packed
/// model, bad CRC, truncated, unknown version) naming the file.
PackedModel read_packed_model(const std::string& path);
PackedModel parse_packed_model(const std::string& bytes, const std::string& source);

/// Runs inference from the decoded codes: x [N, C, H, W] float32 (preprocessed as the
/// metadata says) -> logits [N, classes]. Weights are (q - z) * s, activations
/// fake-quantized with the stored scales, in the app's float32 operation order, so
/// the logits equal the app's eval forward exactly. Throws ExportError.
torch::Tensor run_packed_model(const PackedModel& m, const torch::Tensor& x);

/// Bit-packs codes (int64, any shape, values in [min_int, min_int + 2^bits - 1]).
std::string pack_codes(const torch::Tensor& codes, int bits, int64_t min_int);
/// Inverse of pack_codes: `count` codes. Throws ExportError when `bytes` is too short.
torch::Tensor unpack_codes(const std::string& bytes, int64_t count, int bits, int64_t min_int);

}  // namespace qnn
