#version 460
// audio_glu_conv: the Gemma 4 audio light-conv block's GLU and depthwise causal convolution in one
// pass (HF's Gemma4AudioLightConv1d: glu(linear_start(x)) then Gemma4AudioCausalConv1d, no bias):
//   g[r][i] = s[r][i] * sigmoid(s[r][Ha + i])
//   out[t][i] = sum_{j < Kc} w[i][j] * g[t - (Kc - 1) + j][i]     (rows before 0 read 0)
// binding 0: s [T][2 Ha] f32 (linear_start's output).  binding 1: w [Ha][Kc] f32.
// binding 2: out [T][Ha] f32.  push: AudioGluConvParams.  spec 0: workgroup size.
// Launch geometry: one invocation per output value, Grid1D(T * Ha / 64): 30 s at Ha 1024 is 12k
// workgroups; neighbouring invocations read neighbouring columns (coalesced), each Kc rows of s
// (the GLU is recomputed per tap rather than stored: Kc = 5 sigmoids cost less than a round trip
// through memory and a barrier). One dispatch per layer, no barrier inside.
#extension GL_GOOGLE_include_directive : require
#include "params/audio_params.h"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"

layout(std430, binding = 0) readonly buffer S { float s[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer Out { float dst[]; };
layout(push_constant) uniform Push { AudioGluConvParams p; };

void main() {
  const uint idx = linearInvocation();
  if (idx >= p.tokens * p.hidden) return;
  const uint t = idx / p.hidden, i = idx % p.hidden;
  float acc = 0.0;
  for (uint j = 0; j < p.kernel; ++j) {
    const int r = int(t + j) - int(p.kernel - 1);
    if (r < 0) continue;
    const uint row = uint(r) * 2 * p.hidden;
    const float a = s[row + i], b = s[row + p.hidden + i];
    acc += w[i * p.kernel + j] * (a / (1.0 + exp(-b)));
  }
  dst[idx] = acc;
}
