// The audio tower's own ops (layer: host/ops): the subsampling convolution, the chunked local
// attention, the light-conv block's GLU + depthwise conv, and bias / SiLU. Semantics:
// host/reference/audio_tower.cpp; docs/model.md §5.5.
#pragma once
#include <cstdint>

#include "host/device/tensor.h"
#include "host/ops/op_context.h"

namespace vkg {

// One subsampling layer: 3x3 stride-2 conv (padding 1), LayerNorm over channels, ReLU.
// in: [t_in][f_in][c_in] (channel innermost; c_in * 9 <= 1152); w: [c_out][c_in][3][3];
// norm: [1][c_out]; out: [t_out][f_out][c_out] with t_out = (t_in - 1) / 2 + 1, the same for f.
// Tensors are f32 of exactly those element counts. shaders/audio_conv_norm.comp.
void AudioConvNorm(OpContext& ctx, const Tensor& in, uint32_t t_in, uint32_t f_in, uint32_t c_in, const Tensor& w,
                   const Tensor& norm, uint32_t c_out, float eps, const Tensor& out);

// Sliding-window attention with relative positions and a logit cap (see the shader):
// q, k, v, out: [T][NHa * Da]; rel: [W][NHa * Da]; qs: [1][Da]; W <= 32. shaders/audio_attention.comp.
void AudioAttention(OpContext& ctx, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& rel,
                    const Tensor& qs, uint32_t heads, uint32_t head_dim, float k_scale, float cap, const Tensor& out);

// out = depthwise_causal_conv(glu(s)): s [T][2 Ha], w [Ha][Kc], out [T][Ha]. shaders/audio_glu_conv.comp.
void AudioGluConv(OpContext& ctx, const Tensor& s, const Tensor& w, uint32_t kernel, const Tensor& out);

// x = act(x + bias) in place, bias [1][x.cols] or Tensor{} (none), act SiLU when `silu`.
// shaders/bias_act.comp.
void BiasAct(OpContext& ctx, const Tensor& x, const Tensor& bias, bool silu);

}  // namespace vkg
