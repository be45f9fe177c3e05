#version 460
// clamp_copy: dst[i] = clamp(src[i], lo, hi), the input and output clamps of Gemma 4's "clippable"
// vision linears (host/reference/vision_tower.h ClippedLinear). dst may be src (in place).
// binding 0: src [n] f32, read.  binding 1: dst [n] f32, write.
// push: ClampParams.  spec 0: workgroup size (kElementwiseWorkgroup).
// Launch geometry: one invocation per 4 values (vec4 loads, coalesced), Grid1D(n / 4 / 64)
// workgroups: a tower activation of 10080 patches x 3072 values is 121k workgroups, far more than any
// GPU holds in flight; one dispatch, no barrier inside. Dispatched by host/ops/vision.cpp.
#extension GL_GOOGLE_include_directive : require
#include "params/vision_params.h"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"

layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) writeonly buffer Dst { float dst[]; };
layout(push_constant) uniform Push { ClampParams p; };

void main() {
  const uint i0 = linearInvocation() * 4;
  for (uint i = i0; i < min(i0 + 4, p.n); ++i) dst[i] = min(max(src[i], p.lo), p.hi);
}
