#version 460
// bias_act: x = act(x + bias[column]) in place, act = identity or SiLU (x * sigmoid(x)). The audio
// tower's feed-forward and light-conv activations (SiLU, no bias) and output_proj's bias (no act).
// binding 0: x [n / cols][cols] f32, read-write.  binding 1: bias [cols] f32 (any buffer when
// has_bias is 0).  push: BiasActParams.  spec 0: workgroup size (kElementwiseWorkgroup).
// Launch geometry: one invocation per value, Grid1D(n / 64): a 30 s feed-forward activation
// (750 x 4096) is 48k workgroups; coalesced, one dispatch, no barrier inside.
#extension GL_GOOGLE_include_directive : require
#include "params/audio_params.h"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Bias { float bias[]; };
layout(push_constant) uniform Push { BiasActParams p; };

void main() {
  const uint i = linearInvocation();
  if (i >= p.n) return;
  float v = x[i];
  if (p.has_bias != 0) v += bias[i % p.cols];
  if (p.silu != 0) v = v / (1.0 + exp(-v));
  x[i] = v;
}
