// SPDX-License-Identifier: GPL-3.0-or-later
// The ONNX import's quantizers: QONNX Quant / BipolarQuant / Trunc, QCDQ
// QuantizeLinear / DequantizeLinear, and the weight, activation and bias quantizer
// specs made from them (Brevitas semantics; see core/io/onnx_import.h).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/io/onnx_import_detail.h"

namespace qnn::onnx_import_detail {

namespace {

// The integer grid of a QCDQ Clip [lo, hi] (quantization.md section 1): signed when
// lo < 0; the bit width and narrow range whose [min_int, max_int] equal the bounds
// exactly. False when the bounds are no such grid.
bool grid_from_bounds(double lo, double hi, int& bits, bool& is_signed, bool& narrow) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo != std::floor(lo) || hi != std::floor(hi) || hi < 1) return false;
  is_signed = lo < 0;
  for (int b = 1; b <= 32; ++b)
    for (bool n : {false, true}) {
      if (b == 1 && n) continue;
      const IntRange r = int_range(b, is_signed, n);
      if (double(r.min_int) == lo && double(r.max_int) == hi) {
        bits = b;
        narrow = n;
        return true;
      }
    }
  return false;
}

}  // namespace

QuantInfo Importer::quant_info(const onnx::NodeProto& n, bool bipolar) {
  QuantInfo q;
  q.node = n.name();
  auto constant = [&](int i, const char* what) -> torch::Tensor {
    const Value& v = input(n, i);
    if (v.kind != Value::Const || v.q)
      fail(n, std::string(what) + " '" + n.input(i) + "' is not a constant; import needs a static " + what);
    return v.t.to(torch::kFloat32);
  };
  q.scale = constant(1, "scale");
  if (q.scale.numel() == 0 || !torch::isfinite(q.scale).all().item<bool>() || (q.scale < 0).any().item<bool>())
    fail(n, "the scale must be finite and not negative");
  if (bipolar) {
    q.binary = true;
    q.bit_width = 1;
    q.zero_point = torch::zeros({});
    return q;
  }
  q.zero_point = constant(2, "zero point");
  const torch::Tensor bits = constant(3, "bit width");
  if (bits.numel() != 1) fail(n, "the bit width must be a single number");
  if (q.zero_point.numel() != 1 && q.zero_point.numel() != q.scale.numel())
    fail(n, "the zero point has " + std::to_string(q.zero_point.numel()) + " values for " +
                std::to_string(q.scale.numel()) + " scales");
  const double b = bits.item<double>();
  if (!(b == std::floor(b) && b >= 1 && b <= 32)) fail(n, "bit width " + number_text(b) + " is outside 1..32 or not a whole number");
  q.bit_width = int(b);
  q.is_signed = int_attr(n, "signed", 1) != 0;
  q.narrow = int_attr(n, "narrow", 0) != 0;
  std::string mode = str_attr(n, "rounding_mode", "ROUND");
  std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char c) { return char(std::toupper(c)); });
  if (mode != "ROUND")
    fail(n, "rounding_mode " + mode + " is not supported (only ROUND, round half to even, as Brevitas computes it)");
  if (!torch::equal(q.zero_point, torch::round(q.zero_point))) fail(n, "the zero point must hold whole numbers");
  return q;
}

// A quantizer of a matrix whose rows and columns are swapped: its per-axis scale and
// zero point move to the other axis.
void transpose_quant(QuantInfo& q) {
  for (torch::Tensor* t : {&q.scale, &q.zero_point}) {
    if (t->numel() <= 1) continue;
    while (t->dim() < 2) *t = t->unsqueeze(0);
    *t = t->t().contiguous();
  }
}

// Shape of the learned `value` of a weight quantizer from a file scale: [] or [C_out].
// Returns the scale per output channel (or one), or fails for any other broadcast axis.
torch::Tensor channel_scale(const torch::Tensor& scale, const torch::Tensor& w, std::string& error) {
  if (scale.numel() == 1) return scale.reshape({});
  // Align the scale's shape to the weight's trailing dims (numpy broadcasting).
  std::vector<int64_t> s = scale.sizes().vec();
  while (int64_t(s.size()) < w.dim()) s.insert(s.begin(), 1);
  int64_t axis = -1;
  for (int64_t d = 0; d < int64_t(s.size()); ++d)
    if (s[d] != 1) {
      if (axis >= 0) {
        error = "a scale varying along more than one axis";
        return {};
      }
      axis = d;
    }
  if (axis != 0 || s.size() != size_t(w.dim()) || s[0] != w.size(0)) {
    error = "a scale per input channel or per element (import keeps one scale per output channel)";
    return {};
  }
  return scale.reshape({-1});
}

QuantSpec Importer::weight_spec(const QuantInfo& q, const onnx::NodeProto& n) {
  QuantSpec s = q.binary ? presets::SignedBinaryWeightPerTensorConst() : presets::Int8WeightPerTensorFloat();
  s.scaling = ScalingKind::Parameter;
  if (!q.binary) {
    s.bit_width = q.bit_width;
    s.is_signed = q.is_signed;
    s.narrow_range = q.narrow;
  }
  if ((q.zero_point != 0).any().item<bool>())
    fail(n, "a weight zero point other than 0 is not supported (import keeps symmetric weight quantizers)");
  s.per_channel = q.scale.numel() > 1;
  if (s.per_channel && !q.binary) s.preset = "Int8WeightPerChannelFloat";
  if (!q.binary && (s.bit_width < 2 || s.bit_width > 16))
    fail(n, "weight bit width " + std::to_string(s.bit_width) + " is outside 2..16");
  const double thr = s.int_threshold();
  const double m = std::max(q.scale.max().item<double>(), kMinScale) * thr;
  if (!(m <= std::numeric_limits<float>::max()))  // also NaN; the quantizer keeps it as float32
    fail(n, "the weight scale " + std::to_string(q.scale.max().item<double>()) + " times " + std::to_string(thr) +
                " is not a finite float32 value");
  s.min_val = -m;
  s.max_val = m;
  try {
    s.validate("node " + n.name());
  } catch (const ConfigError& e) {
    fail(n, e.what());
  }
  return s;
}

QuantSpec Importer::act_spec(const QuantInfo& q, const onnx::NodeProto& n) {
  if (q.scale.numel() != 1) fail(n, "a per-channel activation scale is not supported (activation quantizers are per tensor)");
  if (!(q.scale.item<double>() > 0.0)) fail(n, "the activation scale is 0: every value would quantize to the zero point");
  QuantSpec s = q.binary ? presets::SignedBinaryActPerTensorConst() : presets::Int8ActPerTensorFloatMinMaxInit();
  if (!q.binary) {
    s.bit_width = q.bit_width;
    s.is_signed = q.is_signed;
    s.narrow_range = q.narrow;
    s.preset = q.is_signed ? "Int8ActPerTensorFloatMinMaxInit" : "Uint8ActPerTensorFloat";
    s.scaling = ScalingKind::Parameter;
    const double z = q.zero_point.reshape({-1})[0].item<double>();
    if (z != 0.0) {
      if (q.is_signed) fail(n, "a signed activation quantizer with zero point " + std::to_string(z) + " is not supported");
      s.shifted = true;
      s.preset = "ShiftedUint8ActPerTensorFloat";
    }
    if (s.bit_width < 2 || s.bit_width > 16)
      fail(n, "activation bit width " + std::to_string(s.bit_width) + " is outside 2..16");
  }
  const double v = std::max(q.scale.item<double>(), kMinScale) * s.int_threshold();
  if (!(v <= std::numeric_limits<float>::max()))  // also NaN/Inf; the quantizer keeps it as float32
    fail(n, "the activation scale " + std::to_string(q.scale.item<double>()) + " times " +
                std::to_string(s.int_threshold()) + " is not a finite float32 value");
  s.min_val = s.is_signed ? -v : 0.0;
  s.max_val = v;
  try {
    s.validate("node " + n.name());
  } catch (const ConfigError& e) {
    fail(n, e.what());
  }
  return s;
}

// Makes `src` (a layer) quantized by q: a float activation with a single consumer
// becomes its Quant* twin; anything else gets a QuantIdentity. A Clip (HardTanh) keeps
// its own layer: QuantHardTanh is the quantizer alone (Brevitas switches its hardtanh
// off), so Clip -> Quant is a HardTanh and a QuantIdentity.
void Importer::act_quant(const onnx::NodeProto& n, const std::string& src, const QuantInfo& q, int index) {
  const QuantSpec spec = act_spec(q, n);
  LayerSpec* target = nullptr;
  LayerSpec* s = src.empty() ? nullptr : m_project.find(src);  // null below an unsupported node
  const std::string produced = m_layer_output.count(src) ? m_layer_output[src] : "";
  const bool single = s && !produced.empty() && consumers(produced) == 1 && !s->act_quant;
  const std::map<LayerType, LayerType> twin{{LayerType::ReLU, LayerType::QuantReLU},
                                            {LayerType::Tanh, LayerType::QuantTanh},
                                            {LayerType::Sigmoid, LayerType::QuantSigmoid},
                                            {LayerType::Identity, LayerType::QuantIdentity}};
  if (single && twin.count(s->type)) {
    s->type = twin.at(s->type);
    target = s;
  } else {
    target = &add_layer(LayerType::QuantIdentity, id_from_node(n, index), {src});
  }
  target->act_quant = spec;
  target->return_quant_tensor = true;
  m_tensors[target->id + ".act_quant.value"] = torch::full({}, spec.max_val);
  if (spec.shifted) {
    const double stat = -q.zero_point.reshape({-1})[0].item<double>() * q.scale.item<double>();
    if (!(std::abs(stat) <= std::numeric_limits<float>::max()))
      fail(n, "the activation zero point times its scale is not a finite float32 value");
    m_tensors[target->id + ".act_quant.zero_point_value"] = torch::full({}, stat);
    m_tensors[target->id + ".act_quant.zero_point_buffer"] = torch::full({}, stat);
  }
  m_shapes_valid = false;
  set_runtime(n, target->id);
  m_layer_output[target->id] = n.output(0);
}

void Importer::bias_into(LayerSpec& l, const Value& bias) {
  const std::string& id = l.id;
  l.set_param("bias", 1);
  if (!bias.q) {
    m_tensors[id + ".bias"] = bias.t.reshape({-1}).to(torch::kFloat32);
    return;
  }
  const QuantInfo& q = *bias.q;
  // A quantized bias keeps its codes: the dequantized value, and Int8/16/32Bias when
  // its scale is s_in * s_w as the app computes it (else a float bias holding the values).
  const torch::Tensor deq = ((torch::clamp(torch::round(bias.t / q.scale + q.zero_point),
                                           double(int_range(q.bit_width, q.is_signed, q.narrow).min_int),
                                           double(int_range(q.bit_width, q.is_signed, q.narrow).max_int)) -
                              q.zero_point) *
                             q.scale)
                                .reshape({-1})
                                .to(torch::kFloat32);
  m_tensors[id + ".bias"] = deq;
  const bool standard = (q.bit_width == 8 || q.bit_width == 16 || q.bit_width == 32) && q.is_signed && !q.narrow &&
                        (q.zero_point == 0).all().item<bool>();
  if (standard && l.weight_quant) {
    l.bias_quant = q.bit_width == 8 ? presets::Int8Bias() : q.bit_width == 16 ? presets::Int16Bias() : presets::Int32Bias();
  } else {
    m_report.notes.push_back("bias quantizer " + q.node + " of " + id +
                             " kept as a float bias holding its dequantized values (not Int8/16/32Bias on s_in * s_w)");
  }
}

// A node of a QONNX domain (Importer::node checked the domain).
void Importer::qonnx_node(const onnx::NodeProto& n, int index) {
  const std::string& op = n.op_type();
  auto pass_through = [&](int i) { m_values[n.output(0)] = input(n, i); };
  if (op == "Quant" || op == "BipolarQuant") {
    m_qonnx = true;
    const QuantInfo q = quant_info(n, op == "BipolarQuant");
    const Value& x = input(n, 0);
    if (x.kind == Value::Const && !x.q) {
      Value r = x;
      r.q = q;
      m_values[n.output(0)] = r;
    } else {
      act_quant(n, runtime_layer(n, 0), q, index);
    }
    return;
  }
  if (op == "Trunc") {
    // QONNX Trunc: v1 (X, scale, zero point, in bit width, out bit width), v2 (X,
    // scale, zero point, in bit width, out scale, out bit width); rounding_mode
    // defaults to FLOOR.
    m_qonnx = true;
    if (n.input_size() != 5 && n.input_size() != 6) fail(n, "Trunc takes 5 or 6 inputs, got " + std::to_string(n.input_size()));
    const std::string src = runtime_layer(n, 0);
    std::string mode = str_attr(n, "rounding_mode", "FLOOR");
    std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char c) { return char(std::toupper(c)); });
    if (mode != "ROUND" && mode != "FLOOR")
      fail(n, "Trunc rounding_mode " + mode + " is not supported (ROUND or FLOOR, as Brevitas's truncating pools)");
    auto bit_width = [&](int i, const char* what) {
      const torch::Tensor t = const_input(n, i, what);
      if (t.numel() != 1) fail(n, std::string("the ") + what + " must be a single number");
      const double b = t.to(torch::kFloat64).item<double>();
      if (!(b == std::floor(b) && b >= 1 && b <= 32)) fail(n, std::string("the ") + what + " " + number_text(b) + " is outside 1..32");
      return b;
    };
    const double in_bits = bit_width(3, "input bit width");
    const double out_bits = bit_width(n.input_size() == 6 ? 5 : 4, "output bit width");
    if (src.empty()) {
      pass_through(0);
      return;
    }
    LayerSpec& l = layer(src);
    const bool drops = in_bits != out_bits || mode == "FLOOR";
    if (l.type == LayerType::TruncAdaptiveAvgPool2d && !drops) {
      // A global average pool on a grid that keeps its bits: a plain AvgPool2d over H x W.
      l.type = LayerType::AvgPool2d;
      l.erase_param("output_size");
      const std::vector<int64_t> shape = shape_of(l.inputs.at(0));
      if (shape.size() != 3) fail(n, "the input shape of the pool is unknown");
      if (shape[1] == shape[2]) l.set_param("kernel_size", double(shape[1]));
      else l.set_pair("kernel_size", double(shape[1]), double(shape[2]));
      m_shapes_valid = false;
      pass_through(0);
      return;
    }
    if (!drops) {
      pass_through(0);  // the grid only (an average pool on a quantized input keeps its bits)
      return;
    }
    if (l.type == LayerType::AvgPool2d) {
      l.type = LayerType::TruncAvgPool2d;
    } else if (l.type != LayerType::TruncAdaptiveAvgPool2d) {
      unsupported(n, "Trunc after " + to_string(l.type) + " (import reads it after an average pool)");
      return;
    }
    l.set_param("bit_width", out_bits);
    l.set_param("floor", mode == "FLOOR" ? 1 : 0);
    l.return_quant_tensor = true;
    m_shapes_valid = false;
    pass_through(0);
    return;
  }
  unsupported(n, "QONNX op without a layer");
  Value r;
  r.kind = Value::Runtime;
  m_values[n.output(0)] = r;
}

void Importer::dequantize_linear(const onnx::NodeProto& n, int index) {
  const Value& x = input(n, 0);
  QuantInfo q;
  q.node = n.name();
  q.scale = const_input(n, 1, "scale").to(torch::kFloat32);
  q.zero_point = n.input_size() > 2 && !n.input(2).empty() ? const_input(n, 2, "zero point").to(torch::kFloat32)
                                                           : torch::zeros({});
  if (q.zero_point.numel() != 1 && q.zero_point.numel() != q.scale.numel())
    fail(n, "the zero point has " + std::to_string(q.zero_point.numel()) + " values for " +
                std::to_string(q.scale.numel()) + " scales");
  // The integer bounds the codes can take: the Clip's, within the integer type's.
  auto grid = [&](int64_t lo, int64_t hi) {
    if (!grid_from_bounds(double(lo), double(hi), q.bit_width, q.is_signed, q.narrow))
      fail(n, "the codes are clipped to [" + std::to_string(lo) + ", " + std::to_string(hi) +
                  "], which is no integer grid of a bit width (signed: [-2^(b-1) (+1 narrow), 2^(b-1) - 1], "
                  "unsigned: [0, 2^b - 1 (-1 narrow)])");
  };
  if (x.kind == Value::Const) {  // weight or bias codes (maybe clipped)
    const torch::Tensor codes = x.t;
    const auto type = codes.scalar_type();
    if (type != torch::kInt8 && type != torch::kUInt8 && type != torch::kInt32)
      fail(n, "the codes must be INT8, UINT8 or INT32");
    int64_t lo = type == torch::kInt8 ? -128 : type == torch::kUInt8 ? 0 : INT32_MIN;
    int64_t hi = type == torch::kInt8 ? 127 : type == torch::kUInt8 ? 255 : INT32_MAX;
    if (x.q) {  // a Clip recorded bounds
      lo = std::max(lo, x.clip_lo);
      hi = std::min(hi, x.clip_hi);
    }
    grid(lo, hi);
    if (q.scale.numel() > 1) {  // per axis: broadcast along `axis`
      int64_t axis = int_attr(n, "axis", 1);
      if (axis < 0) axis += codes.dim();
      if (axis < 0 || axis >= codes.dim()) fail(n, "axis " + std::to_string(int_attr(n, "axis", 1)) + " is outside the codes' " + std::to_string(codes.dim()) + " axes");
      if (codes.size(axis) != q.scale.numel())
        fail(n, std::to_string(q.scale.numel()) + " scales for axis " + std::to_string(axis) + " of size " +
                    std::to_string(codes.size(axis)));
      std::vector<int64_t> shape(size_t(codes.dim()), 1);
      shape[size_t(axis)] = q.scale.numel();
      q.scale = q.scale.reshape(shape);
      if (q.zero_point.numel() > 1) q.zero_point = q.zero_point.reshape(shape);
    }
    Value r;
    r.t = ((codes.to(torch::kFloat32) - q.zero_point) * q.scale).contiguous();
    r.q = q;
    m_values[n.output(0)] = r;
    return;
  }
  if (x.kind != Value::QuantizeLinear) fail(n, "DequantizeLinear of a runtime tensor that no QuantizeLinear produced");
  if (q.scale.numel() != 1) fail(n, "a per-axis activation scale is not supported (activation quantizers are per tensor)");
  grid(x.clip_lo, x.clip_hi);
  q.zero_point = x.q->zero_point;
  act_quant(n, x.layer, q, index);
}

void Importer::quantize_linear(const onnx::NodeProto& n) {
  const Value& x = input(n, 0);
  if (x.kind == Value::Const) fail(n, "QuantizeLinear of a constant is not read (QCDQ stores weight codes)");
  Value r;
  r.kind = Value::QuantizeLinear;
  r.layer = runtime_layer(n, 0);
  QuantInfo q;
  q.node = n.name();
  q.scale = const_input(n, 1, "scale").to(torch::kFloat32);
  q.zero_point = torch::zeros({});
  r.qtype_signed = false;  // ONNX default output type: UINT8
  if (n.input_size() > 2 && !n.input(2).empty()) {
    const torch::Tensor z = input(n, 2).t;
    r.qtype_signed = z.scalar_type() == torch::kInt8;
    q.zero_point = z.to(torch::kFloat32);
  }
  r.clip_lo = r.qtype_signed ? -128 : 0;
  r.clip_hi = r.qtype_signed ? 127 : 255;
  r.q = q;
  m_values[n.output(0)] = r;
}

}  // namespace qnn::onnx_import_detail
