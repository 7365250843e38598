// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/nn/scale_adjoint.h"

#include <stdexcept>

#include "core/nn/linear_kernel.h"
#include "core/quant/fake_quant_kernel.h"

namespace qnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

torch::Tensor run_layer(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                        const std::optional<ConvGeometry>& conv) {
  if (!conv) return detail::linear_exact(x, w, b);
  if (x.dim() == 3)
    return torch::conv1d(x, w, b, conv->stride, conv->padding, conv->dilation, conv->groups);
  return torch::conv2d(x, w, b, conv->stride, conv->padding, conv->dilation, conv->groups);
}

std::optional<ConvGeometry> geometry_of(AutogradContext* ctx) {
  if (!ctx->saved_data["conv"].toBool()) return std::nullopt;
  ConvGeometry g;
  g.stride = ctx->saved_data["stride"].toIntVector();
  g.padding = ctx->saved_data["padding"].toIntVector();
  g.dilation = ctx->saved_data["dilation"].toIntVector();
  g.groups = ctx->saved_data["groups"].toInt();
  return g;
}

// Inputs: weight, bias, scale, zero_point (the differentiable ones), then x.value
// detached and the quantizer's input (no gradient).
struct ScaleAdjointFunction : public torch::autograd::Function<ScaleAdjointFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& weight,
                               const torch::Tensor& bias, const torch::Tensor& scale,
                               const torch::Tensor& zero_point, const torch::Tensor& y,
                               const torch::Tensor& input, double min_int, double max_int,
                               const std::optional<ConvGeometry>& conv) {
    torch::NoGradGuard no_grad;
    ctx->save_for_backward({weight, scale, zero_point, y, input});
    // No bias comes as an empty placeholder: an undefined tensor input breaks the
    // autograd engine's input metadata ("tensor does not have a device").
    const bool has_bias = bias.numel() > 0;
    ctx->saved_data["bias"] = has_bias;
    ctx->saved_data["min_int"] = min_int;
    ctx->saved_data["max_int"] = max_int;
    ctx->saved_data["conv"] = conv.has_value();
    if (conv) {
      ctx->saved_data["stride"] = conv->stride;
      ctx->saved_data["padding"] = conv->padding;
      ctx->saved_data["dilation"] = conv->dilation;
      ctx->saved_data["groups"] = conv->groups;
    }
    return run_layer(y, weight, has_bias ? bias : torch::Tensor(), conv);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &weight = saved[0], &scale = saved[1], &zero_point = saved[2], &y = saved[3],
                        &input = saved[4];
    const torch::Tensor g = grad_outputs[0].contiguous();
    const bool has_bias = ctx->saved_data["bias"].toBool();
    const bool need_w = ctx->needs_input_grad(0), need_b = has_bias && ctx->needs_input_grad(1),
               need_s = ctx->needs_input_grad(2), need_z = ctx->needs_input_grad(3);
    const std::optional<ConvGeometry> conv = geometry_of(ctx);
    torch::NoGradGuard no_grad;

    // The element-wise d_s and d_z: the fake-quant backward terms for an upstream gradient of 1.
    detail::FakeQuantGradTerms d;
    if (need_s || need_z)
      d = detail::fused_fake_quant_backward(
          input, torch::ones_like(input, torch::MemoryFormat::Contiguous), scale, zero_point,
          ctx->saved_data["min_int"].toDouble(), ctx->saved_data["max_int"].toDouble(),
          /*masked=*/true, /*need_gx=*/false, need_s, need_z);

    torch::Tensor gw, gb, gs, gz;
    if (conv && conv->groups == 1) {
      // One weight-gradient convolution over [y, d_s, d_z] stacked along the input
      // channels: its first C_in channels are the weight gradient of y, and
      // <g, conv(d, W)> = <W, weight gradient for the input d> (the weight gradient is
      // linear in the input). oneDNN pads LeNet's single input channel to a block
      // anyway, so the extra channels cost far less than a second convolution.
      std::vector<torch::Tensor> parts{y};
      if (need_s) parts.push_back(d.gs_terms);
      if (need_z) parts.push_back(d.gz_terms);
      const int64_t k = static_cast<int64_t>(parts.size());
      std::vector<int64_t> reps(static_cast<size_t>(weight.dim()), 1);
      reps[1] = k;
      const std::vector<int64_t> output_padding(conv->stride.size(), 0);
      const std::vector<int64_t> bias_sizes{weight.size(0)};
      const bool any_w = need_w || need_s || need_z;
      auto r = at::convolution_backward(
          g, k == 1 ? y : torch::cat(parts, 1), k == 1 ? weight : weight.repeat(reps),
          has_bias ? at::OptionalIntArrayRef(bias_sizes) : c10::nullopt, conv->stride, conv->padding,
          conv->dilation, false, output_padding, 1, {false, any_w, need_b});
      const int64_t c_in = weight.size(1);
      const torch::Tensor& gw_all = std::get<1>(r);
      if (need_w) gw = k == 1 ? gw_all : gw_all.narrow(1, 0, c_in).contiguous();
      gb = std::get<2>(r);
      int64_t part = 1;
      if (need_s) gs = weight.mul(gw_all.narrow(1, c_in * part++, c_in)).sum().reshape(scale.sizes());
      if (need_z) gz = weight.mul(gw_all.narrow(1, c_in * part++, c_in)).sum().reshape(zero_point.sizes());
    } else {
      // Linear or grouped convolution: the plain weight and bias gradients, and the
      // adjoint as <g, layer(d, W)> with a forward pass of d.
      if (need_w || need_b) {
        if (conv) {
          const std::vector<int64_t> output_padding(conv->stride.size(), 0);
          const std::vector<int64_t> bias_sizes{weight.size(0)};
          auto r = at::convolution_backward(g, y, weight,
                                            has_bias ? at::OptionalIntArrayRef(bias_sizes) : c10::nullopt,
                                            conv->stride, conv->padding, conv->dilation, false,
                                            output_padding, conv->groups, {false, need_w, need_b});
          gw = std::get<1>(r);
          gb = std::get<2>(r);
        } else {
          const torch::Tensor g2 = g.reshape({-1, weight.size(0)});
          if (need_w) gw = detail::linear_weight_grad_exact(g2, y.reshape({-1, weight.size(1)}));
          if (need_b) gb = g2.sum(0);
        }
      }
      const torch::Tensor none;
      if (need_s) gs = g.mul(run_layer(d.gs_terms, weight, none, conv)).sum().reshape(scale.sizes());
      if (need_z) gz = g.mul(run_layer(d.gz_terms, weight, none, conv)).sum().reshape(zero_point.sizes());
    }
    return {gw, gb, gs, gz, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

bool scale_adjoint_applies(const QuantTensor& x) {
  const auto& src = x.scale_grad_source;
  return src && torch::GradMode::is_enabled() && x.value.defined() && x.value.is_same(src->of) &&
         src->of._version() == src->of_version && src->input._version() == src->input_version &&
         !src->input.requires_grad() && src->input.sizes() == x.value.sizes() &&
         detail::fused_fake_quant_supported(src->input, src->scale, src->zero_point);
}

torch::Tensor apply_with_scale_adjoint(const QuantTensor& x, const torch::Tensor& weight,
                                       const torch::Tensor& bias,
                                       const std::optional<ConvGeometry>& conv) {
  if (!scale_adjoint_applies(x))
    throw std::logic_error("apply_with_scale_adjoint: the input carries no usable ScaleGradSource");
  const ScaleGradSource& src = *x.scale_grad_source;
  const torch::Tensor b = bias.defined() ? bias : torch::empty({0}, weight.options());
  return ScaleAdjointFunction::apply(weight, b, src.scale, src.zero_point, x.value.detach(),
                                     src.input, src.min_int, src.max_int, conv);
}

}  // namespace qnn
