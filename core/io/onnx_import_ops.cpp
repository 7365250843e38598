// SPDX-License-Identifier: GPL-3.0-or-later
// The ONNX import's node mapping: the dispatch over op types and the layer builders
// of the float ops (Conv, Gemm, MatMul, activations, pools, BatchNormalization,
// Flatten, Reshape, Concat, the affine Add/Sub/Mul/Div chain); see core/io/onnx_import.h.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <locale>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/io/onnx_import_detail.h"

namespace qnn::onnx_import_detail {

namespace {

const std::set<std::string> kQonnxDomains{"qonnx.custom_op.general", "onnx.brevitas", "finn.custom_op.general"};

// A float32 attribute as the decimal it was most likely written as: rounded to 7
// significant digits (1e-5f is 9.99999974e-06 in double, 0.99f 0.99000001).
// Locale-independent (the GUI runs under the user's locale).
double float_value(double v) {
  std::ostringstream s;
  s.imbue(std::locale::classic());
  s << std::setprecision(7) << v;
  std::istringstream in(s.str());
  in.imbue(std::locale::classic());
  double out = v;
  in >> out;
  return out;
}

}  // namespace

// Conv / Gemm / MatMul with a constant (possibly quantized) weight.
void Importer::weight_layer(const onnx::NodeProto& n, int index, const std::string& x, const Value& w_in,
                            bool transpose_w, const Value* bias, bool conv) {
  torch::Tensor w = w_in.t.to(torch::kFloat32);
  std::optional<QuantInfo> q = w_in.q;
  if (transpose_w) {
    if (w.dim() != 2) fail(n, "the weight must be a matrix");
    w = w.t().contiguous();
    if (q) transpose_quant(*q);
  }
  const bool quant = q.has_value();
  if (!torch::isfinite(w).all().item<bool>())
    fail(n, "the weight holds " + std::to_string((~torch::isfinite(w)).sum().item<int64_t>()) + " NaN or infinite value(s)");
  if (bias && !torch::isfinite(bias->t).all().item<bool>()) fail(n, "the bias holds NaN or infinite values");
  if (conv ? w.dim() < 3 : w.dim() != 2)
    fail(n, "the weight has shape " + shape_text(w.sizes().vec()) + (conv ? "; a convolution needs [C_out, C_in/groups, k...]" : "; a matrix is needed"));
  const int64_t spatial = w.dim() - 2;
  LayerType type;
  if (!conv) {
    type = quant ? LayerType::QuantLinear : LayerType::Linear;
  } else if (spatial == 2) {
    type = quant ? LayerType::QuantConv2d : LayerType::Conv2d;
  } else if (spatial == 1) {
    type = quant ? LayerType::QuantConv1d : LayerType::Conv1d;
  } else {
    unsupported(n, std::to_string(spatial) + "-D convolution");
    return;
  }
  LayerSpec& l = add_layer(type, id_from_node(n, index), {x});
  const std::string id = l.id;
  if (conv) {
    const int64_t groups = int_attr(n, "group", 1);
    l.set_param("in_channels", double(w.size(1) * groups));
    l.set_param("out_channels", double(w.size(0)));
    l.set_param("groups", double(groups));
    std::vector<int64_t> k(w.sizes().begin() + 2, w.sizes().end());
    std::vector<int64_t> strides = ints_attr(n, "strides"), pads = ints_attr(n, "pads"),
                         dil = ints_attr(n, "dilations");
    const std::string auto_pad = str_attr(n, "auto_pad", "NOTSET");
    if (auto_pad != "NOTSET" && auto_pad != "VALID") fail(n, "auto_pad " + auto_pad + " is not supported; write explicit pads");
    if (strides.empty()) strides.assign(size_t(spatial), 1);
    if (dil.empty()) dil.assign(size_t(spatial), 1);
    if (pads.empty()) pads.assign(size_t(2 * spatial), 0);
    if (int64_t(strides.size()) != spatial || int64_t(dil.size()) != spatial || int64_t(pads.size()) != 2 * spatial)
      fail(n, "strides, dilations and pads must have " + std::to_string(spatial) + ", " + std::to_string(spatial) +
                  " and " + std::to_string(2 * spatial) + " entries for a " + std::to_string(w.dim()) + "-D weight");
    for (int64_t d = 0; d < spatial; ++d)
      if (pads[size_t(d)] != pads[size_t(d + spatial)]) fail(n, "asymmetric padding is not supported");
    auto put = [&](const char* name, int64_t a, int64_t b) {
      if (spatial == 1 || a == b)
        l.set_param(name, double(a));
      else
        l.set_pair(name, double(a), double(b));
    };
    put("kernel_size", k[0], spatial == 2 ? k[1] : k[0]);
    put("stride", strides[0], spatial == 2 ? strides[1] : strides[0]);
    put("padding", pads[0], spatial == 2 ? pads[1] : pads[0]);
    put("dilation", dil[0], spatial == 2 ? dil[1] : dil[0]);
  } else {
    l.set_param("in_features", double(w.size(1)));
    l.set_param("out_features", double(w.size(0)));
  }
  l.set_param("bias", 0);
  m_tensors[id + ".weight"] = w.contiguous();
  if (quant) {
    std::string error;
    const torch::Tensor cs = channel_scale(q->scale, w, error);
    if (!cs.defined()) fail(n, "weight quantizer " + q->node + " has " + error);
    q->scale = cs;
    l.weight_quant = weight_spec(*q, n);
    m_tensors[id + ".weight_quant.value"] =
        (torch::clamp_min(cs.to(torch::kFloat64), kMinScale) * l.weight_quant->int_threshold()).to(torch::kFloat32);
    const int64_t tiny = (cs < kMinScale).sum().item<int64_t>();
    if (tiny > 0)
      m_report.notes.push_back(id + ": " + std::to_string(tiny) + " weight scale(s) of " + q->node +
                               " below 1e-10 (dead channels) raised to 1e-10, Brevitas's scaling_min_val");
    // Statistics of the file's weight quantizer, from the constants alone.
    try {
      WeightQuantizer wq(*l.weight_quant, w.size(0));
      {
        torch::NoGradGuard g;
        wq->value.copy_(m_tensors[id + ".weight_quant.value"]);
      }
      wq->eval();
      m_weights.push_back(inspect::weight_stats(id, to_string(type), w, *wq));
    } catch (const ConfigError& e) {
      fail(n, e.what());
    }
  }
  if (bias) bias_into(l, *bias);
  set_runtime(n, id);
  m_layer_output[id] = n.output(0);
}

void Importer::affine(const onnx::NodeProto& n, const std::string& op, int index) {
  const Value& v0 = input(n, 0);
  const Value& v1 = input(n, 1);
  const bool c0 = v0.kind == Value::Const && !v0.q, c1 = v1.kind == Value::Const && !v1.q;
  if (c0 && c1) {  // constant folding
    Value r;
    const torch::Tensor a = v0.t.to(torch::kFloat32), b = v1.t.to(torch::kFloat32);
    r.t = op == "Add" ? a + b : op == "Sub" ? a - b : op == "Mul" ? a * b : a / b;
    m_values[n.output(0)] = r;
    return;
  }
  const int ri = c1 ? 0 : 1;
  const Value& rv = ri == 0 ? v0 : v1;
  const torch::Tensor c = (ri == 0 ? v1 : v0).t.to(torch::kFloat32);
  auto runtime = [](const Value& v) { return v.kind == Value::Runtime || v.kind == Value::Affine; };
  if (!(c0 || c1) || !runtime(rv)) {
    if (op == "Add" && runtime(v0) && runtime(v1)) {
      const std::string a = runtime_layer(n, 0), b = runtime_layer(n, 1);
      LayerSpec& l = add_layer(LayerType::Add, id_from_node(n, index), {a, b});
      set_runtime(n, l.id);
      m_layer_output[l.id] = n.output(0);
      return;
    }
    unsupported(n, op + " of two runtime tensors");
    return;
  }
  // y = a * x + b with a, b per channel.
  Value r;
  r.kind = Value::Affine;
  if (rv.kind == Value::Affine) {
    r = rv;
  } else {
    r.layer = rv.layer;
    r.a = torch::ones({1});
    r.b = torch::zeros({1});
  }
  const std::vector<int64_t> shape = shape_of(r.layer);
  const int64_t channels = shape.empty() ? 0 : shape[0];
  // The constant must be a scalar or vary only along the channel axis.
  torch::Tensor cc;
  if (c.numel() == 1) {
    cc = c.reshape({1});
  } else if (channels > 0 && c.numel() == channels) {
    std::vector<int64_t> s = c.sizes().vec();
    const size_t rank = shape.size() + 1;  // with batch
    while (s.size() < rank) s.insert(s.begin(), 1);
    if (s.size() != rank || s[1] != channels) {
      unsupported(n, op + " by a constant that does not vary along channels only");
      return;
    }
    cc = c.reshape({-1});
  } else {
    unsupported(n, op + " by a constant of shape " + shape_text(c.sizes().vec()));
    return;
  }
  if (op == "Mul") {
    r.a = r.a * cc;
    r.b = r.b * cc;
  } else if (op == "Div") {
    if (ri != 0) {
      unsupported(n, "a constant divided by a runtime tensor");
      return;
    }
    r.a = r.a / cc;
    r.b = r.b / cc;
  } else if (op == "Add") {
    r.b = r.b + cc;
  } else if (ri == 0) {  // x - c
    r.b = r.b - cc;
  } else {  // c - x
    r.a = -r.a;
    r.b = cc - r.b;
  }
  r.nodes.push_back(n.name());
  m_values[n.output(0)] = r;
}

void Importer::node(const onnx::NodeProto& n, int index) {
  const std::string& op = n.op_type();
  const std::string& domain = n.domain();
  const bool custom = !(domain.empty() || domain == "ai.onnx");
  if (custom && !kQonnxDomains.count(domain))
    fail(n, "unknown domain '" + domain + "' (import reads the standard ops and the QONNX domains "
            "qonnx.custom_op.general, onnx.brevitas, finn.custom_op.general)");
  if (n.output_size() < 1) fail(n, "the node has no output");
  auto all_const = [&] {
    for (int i = 0; i < n.input_size(); ++i) {
      if (n.input(i).empty()) continue;
      const Value* v = value(n.input(i));
      if (!v || v->kind != Value::Const || v->q) return false;
    }
    return true;
  };
  auto any_shape = [&] {
    for (int i = 0; i < n.input_size(); ++i) {
      const Value* v = n.input(i).empty() ? nullptr : value(n.input(i));
      if (v && v->kind == Value::Shape) return true;
    }
    return false;
  };
  auto pass_through = [&](int i) { m_values[n.output(0)] = input(n, i); };

  if (custom) {
    qonnx_node(n, index);
    return;
  }

  if (op == "Constant") {
    const auto* a = attr(n, "value");
    if (!a || !a->has_t()) fail(n, "only tensor constants (attribute 'value') are read");
    Value r;
    r.t = tensor_of(a->t());
    m_values[n.output(0)] = r;
    return;
  }
  if (op == "Identity" || op == "Dropout" || (op == "Cast" && !any_shape())) {
    pass_through(0);
    return;
  }
  if (any_shape() || op == "Shape") {
    // The flatten chain: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
    if (op == "Reshape") {
      const std::string src = runtime_layer(n, 0);
      LayerSpec& l = add_layer(LayerType::Flatten, id_from_node(n, index), {src});
      set_runtime(n, l.id);
      m_layer_output[l.id] = n.output(0);
      return;
    }
    Value r;
    r.kind = Value::Shape;
    m_values[n.output(0)] = r;
    return;
  }
  if (op == "QuantizeLinear" || op == "DequantizeLinear") m_qcdq = true;
  if (op == "Transpose" && all_const()) {
    Value r = input(n, 0);
    std::vector<int64_t> perm = ints_attr(n, "perm");
    if (perm.empty())
      for (int64_t d = r.t.dim() - 1; d >= 0; --d) perm.push_back(d);
    r.t = r.t.permute(perm).contiguous();
    m_values[n.output(0)] = r;
    return;
  }
  if (op == "Transpose" && input(n, 0).kind == Value::Const && input(n, 0).q) {
    // A transposed quantized weight (Brevitas QONNX: Quant -> Transpose -> MatMul).
    Value r = input(n, 0);
    std::vector<int64_t> perm = ints_attr(n, "perm");
    if (r.t.dim() != 2 || (!perm.empty() && perm != std::vector<int64_t>{1, 0}))
      fail(n, "only a matrix transpose of a quantized constant is read");
    r.t = r.t.t().contiguous();
    transpose_quant(*r.q);
    m_values[n.output(0)] = r;
    return;
  }
  if (op == "DequantizeLinear") {
    dequantize_linear(n, index);
    return;
  }
  if (op == "QuantizeLinear") {
    quantize_linear(n);
    return;
  }
  if (op == "Clip") {
    const Value& x = input(n, 0);
    double lo = -INFINITY, hi = INFINITY;
    if (attr(n, "min")) lo = float_attr(n, "min", lo);
    if (attr(n, "max")) hi = float_attr(n, "max", hi);
    auto bound = [&](int i, const char* what) {
      const torch::Tensor t = const_input(n, i, what);
      if (t.numel() != 1) fail(n, std::string("the ") + what + " bound must be a single number");
      return t.to(torch::kFloat64).item<double>();
    };
    if (n.input_size() > 1 && !n.input(1).empty()) lo = bound(1, "min");
    if (n.input_size() > 2 && !n.input(2).empty()) hi = bound(2, "max");
    if (std::isnan(lo) || std::isnan(hi) || lo > hi) fail(n, "the bounds [" + number_text(lo) + ", " + number_text(hi) + "] are empty");
    if (x.kind == Value::QuantizeLinear || (x.kind == Value::Const && !x.q && !x.t.is_floating_point())) {
      Value r = x;
      const int64_t type_lo = x.kind == Value::QuantizeLinear ? x.clip_lo : INT32_MIN;
      const int64_t type_hi = x.kind == Value::QuantizeLinear ? x.clip_hi : INT32_MAX;
      r.clip_lo = std::isfinite(lo) ? std::max(type_lo, int64_t(std::ceil(lo))) : type_lo;
      r.clip_hi = std::isfinite(hi) ? std::min(type_hi, int64_t(std::floor(hi))) : type_hi;
      if (x.kind == Value::Const) r.q = QuantInfo{};  // marks "bounds recorded" for DequantizeLinear
      m_values[n.output(0)] = r;
      return;
    }
    if (x.kind == Value::Const) {
      Value r = x;
      r.t = torch::clamp(x.t, lo, hi);
      m_values[n.output(0)] = r;
      return;
    }
    const std::string src = runtime_layer(n, 0);
    if (lo == 0 && std::isinf(hi)) {
      LayerSpec& l = add_layer(LayerType::ReLU, id_from_node(n, index), {src});
      set_runtime(n, l.id);
      m_layer_output[l.id] = n.output(0);
      return;
    }
    LayerSpec& l = add_layer(LayerType::HardTanh, id_from_node(n, index), {src});
    l.set_param("min_val", lo);
    l.set_param("max_val", hi);
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  if (all_const() && (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow" || op == "Sqrt" ||
                      op == "Reshape" || op == "Unsqueeze" || op == "Squeeze")) {
    Value r;
    const torch::Tensor a = input(n, 0).t.to(torch::kFloat32);
    if (op == "Pow") r.t = torch::pow(a, input(n, 1).t.to(torch::kFloat32));
    else if (op == "Sqrt") r.t = torch::sqrt(a);
    else if (op == "Reshape") {
      const torch::Tensor shape = input(n, 1).t.to(torch::kInt64).contiguous();
      r.t = a.reshape(std::vector<int64_t>(shape.data_ptr<int64_t>(), shape.data_ptr<int64_t>() + shape.numel()));
    }
    else if (op == "Unsqueeze" || op == "Squeeze") r.t = input(n, 0).t;  // shape of a broadcast constant
    else {
      affine(n, op, index);
      return;
    }
    m_values[n.output(0)] = r;
    return;
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    // Add(x, bias) right after a MatMul: the Linear's bias.
    if (op == "Add") {
      const Value& v0 = input(n, 0);
      const Value& v1 = input(n, 1);
      const Value* rt = v0.kind == Value::Runtime ? &v0 : v1.kind == Value::Runtime ? &v1 : nullptr;
      const Value* cv = v0.kind == Value::Const ? &v0 : v1.kind == Value::Const ? &v1 : nullptr;
      if (rt && cv && !rt->layer.empty()) {
        LayerSpec& l = layer(rt->layer);
        const bool from_matmul = (l.type == LayerType::Linear || l.type == LayerType::QuantLinear) &&
                                 l.param("bias", 1) == 0 && m_layer_output[l.id] == (rt == &v0 ? n.input(0) : n.input(1)) &&
                                 consumers(m_layer_output[l.id]) == 1 && cv->t.numel() == l.param("out_features", 0);
        if (from_matmul) {
          bias_into(l, *cv);
          set_runtime(n, l.id);
          m_layer_output[l.id] = n.output(0);
          return;
        }
      }
    }
    affine(n, op, index);
    return;
  }
  if (op == "Conv") {
    const std::string x = runtime_layer(n, 0);
    const Value& w = input(n, 1);
    if (w.kind != Value::Const) fail(n, "the weight must be a constant (or a Quant / DequantizeLinear of one)");
    const Value* b = n.input_size() > 2 && !n.input(2).empty() ? &input(n, 2) : nullptr;
    weight_layer(n, index, x, w, false, b, true);
    return;
  }
  if (op == "Gemm") {
    const std::string x = runtime_layer(n, 0);
    if (float_attr(n, "alpha", 1.0) != 1.0 || float_attr(n, "beta", 1.0) != 1.0 || int_attr(n, "transA", 0) != 0)
      fail(n, "Gemm with alpha/beta other than 1 or transA is not read");
    const Value& w = input(n, 1);
    if (w.kind != Value::Const) fail(n, "the weight must be a constant");
    const Value* b = n.input_size() > 2 && !n.input(2).empty() ? &input(n, 2) : nullptr;
    weight_layer(n, index, x, w, int_attr(n, "transB", 0) == 0, b, false);
    return;
  }
  if (op == "MatMul") {
    const std::string x = runtime_layer(n, 0);
    const Value& w = input(n, 1);
    if (w.kind != Value::Const) {
      unsupported(n, "MatMul of two runtime tensors");
      return;
    }
    weight_layer(n, index, x, w, true, nullptr, false);
    return;
  }
  if (op == "Relu" || op == "Tanh" || op == "Sigmoid") {
    const std::string src = runtime_layer(n, 0);
    LayerSpec& l = add_layer(op == "Relu" ? LayerType::ReLU : op == "Tanh" ? LayerType::Tanh : LayerType::Sigmoid,
                             id_from_node(n, index), {src});
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  if (op == "MaxPool" || op == "AveragePool") {
    const std::string src = runtime_layer(n, 0);
    std::vector<int64_t> k = ints_attr(n, "kernel_shape"), s = ints_attr(n, "strides"), p = ints_attr(n, "pads");
    if (k.size() != 2) {
      unsupported(n, "pooling over " + std::to_string(k.size()) + " axes (import reads 2-D pools)");
      return;
    }
    if (s.empty()) s = {1, 1};
    const std::vector<int64_t> dil = ints_attr(n, "dilations");
    const std::string auto_pad = str_attr(n, "auto_pad", "NOTSET");
    if (s.size() != 2 || (!p.empty() && p.size() != 4)) fail(n, "strides and pads must have 2 and 4 entries");
    if (auto_pad != "NOTSET" && auto_pad != "VALID") {
      unsupported(n, "auto_pad " + auto_pad);
      return;
    }
    for (int64_t v : dil)
      if (v != 1) {
        unsupported(n, "dilated pooling");
        return;
      }
    if (op == "AveragePool" && int_attr(n, "count_include_pad", 0) != 0) {
      unsupported(n, "count_include_pad");
      return;
    }
    for (int64_t v : p)
      if (v != 0) {
        unsupported(n, "padded pooling");
        return;
      }
    if (int_attr(n, "ceil_mode", 0) != 0) {
      unsupported(n, "ceil_mode");
      return;
    }
    LayerSpec& l = add_layer(op == "MaxPool" ? LayerType::MaxPool2d : LayerType::AvgPool2d, id_from_node(n, index), {src});
    if (k[0] == k[1]) l.set_param("kernel_size", double(k[0])); else l.set_pair("kernel_size", double(k[0]), double(k[1]));
    if (s[0] == s[1]) l.set_param("stride", double(s[0])); else l.set_pair("stride", double(s[0]), double(s[1]));
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  if (op == "GlobalAveragePool") {
    const std::string src = runtime_layer(n, 0);
    const std::vector<int64_t> shape = shape_of(src);
    if (shape.size() != 3) {
      unsupported(n, "the input shape is unknown or not [C, H, W]");
      return;
    }
    // A Trunc right after it makes it a TruncAdaptiveAvgPool2d (see Trunc).
    bool trunc_follows = false;
    for (const auto& m : m_model.graph().node())
      if (m.op_type() == "Trunc" && m.input_size() > 0 && m.input(0) == n.output(0)) trunc_follows = true;
    LayerSpec& l = add_layer(trunc_follows ? LayerType::TruncAdaptiveAvgPool2d : LayerType::AvgPool2d,
                             id_from_node(n, index), {src});
    if (trunc_follows) {
      l.set_param("output_size", 1);
    } else if (shape[1] == shape[2]) {
      l.set_param("kernel_size", double(shape[1]));
    } else {
      l.set_pair("kernel_size", double(shape[1]), double(shape[2]));
    }
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  if (op == "BatchNormalization") {
    const std::string src = runtime_layer(n, 0);
    const std::vector<int64_t> shape = shape_of(src);
    const torch::Tensor gamma = const_input(n, 1, "scale"), beta = const_input(n, 2, "bias"),
                        mean = const_input(n, 3, "mean"), var = const_input(n, 4, "var");
    for (const torch::Tensor& t : {gamma, beta, mean, var})
      if (t.numel() != gamma.numel() || !torch::isfinite(t).all().item<bool>())
        fail(n, "scale, bias, mean and var must be finite and of one length");
    if ((var < 0).any().item<bool>()) fail(n, "a running variance is negative");
    LayerSpec& l = add_layer(shape.size() == 3 ? LayerType::BatchNorm2d : LayerType::BatchNorm1d, id_from_node(n, index), {src});
    l.set_param("num_features", double(gamma.numel()));
    l.set_param("eps", float_value(float_attr(n, "epsilon", 1e-5)));
    const double momentum = float_attr(n, "momentum", 0.9);
    // ONNX: running = running * momentum + batch * (1 - momentum); PyTorch's momentum is
    // the batch's share.
    l.set_param("momentum", float_value(1.0 - float_value(momentum)));
    m_tensors[l.id + ".weight"] = gamma.reshape({-1}).to(torch::kFloat32);
    m_tensors[l.id + ".bias"] = beta.reshape({-1}).to(torch::kFloat32);
    m_tensors[l.id + ".running_mean"] = mean.reshape({-1}).to(torch::kFloat32);
    m_tensors[l.id + ".running_var"] = var.reshape({-1}).to(torch::kFloat32);
    m_tensors[l.id + ".num_batches_tracked"] = torch::ones({}, torch::kLong);  // trained statistics
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  if (op == "Flatten") {
    if (int_attr(n, "axis", 1) != 1) {
      unsupported(n, "Flatten with axis other than 1");
      return;
    }
    const std::string src = runtime_layer(n, 0);
    LayerSpec& l = add_layer(LayerType::Flatten, id_from_node(n, index), {src});
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  if (op == "Reshape") {
    // Reshape to [N, -1] / [1, features] after a runtime value: a Flatten.
    const std::string src = runtime_layer(n, 0);
    const torch::Tensor target = const_input(n, 1, "shape").to(torch::kInt64);
    if (target.numel() == 2) {
      LayerSpec& l = add_layer(LayerType::Flatten, id_from_node(n, index), {src});
      set_runtime(n, l.id);
      m_layer_output[l.id] = n.output(0);
      return;
    }
    unsupported(n, "Reshape to " + shape_text(std::vector<int64_t>(target.data_ptr<int64_t>(),
                                                                    target.data_ptr<int64_t>() + target.numel())));
    return;
  }
  if (op == "Concat") {
    if (int_attr(n, "axis", 1) != 1) {
      unsupported(n, "Concat along an axis other than channels (1)");
      return;
    }
    std::vector<std::string> srcs;
    for (int i = 0; i < n.input_size(); ++i) srcs.push_back(runtime_layer(n, i));
    LayerSpec& l = add_layer(LayerType::Concat, id_from_node(n, index), srcs);
    l.set_param("num_inputs", double(srcs.size()));
    set_runtime(n, l.id);
    m_layer_output[l.id] = n.output(0);
    return;
  }
  unsupported(n, "");
  // Later nodes reading its output are reported too, but the walk goes on so every
  // weight quantizer is still found.
  Value r;
  r.kind = Value::Runtime;
  for (int i = 0; i < n.output_size(); ++i) m_values[n.output(i)] = r;
}

}  // namespace qnn::onnx_import_detail
