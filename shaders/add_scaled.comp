#version 460
// add_scaled: out = (a + b) * scale, or a * scale when has_b = 0 (residual add, layer scalar).
// binding 0: a [n] f32, read.  binding 1: b [n] f32, read.  binding 2: out [n] f32, write (may alias).
// push: ElementwiseParams.  spec 0: workgroup size.  dispatched by host/ops/elementwise.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/elementwise_params.h"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer O { float out_[]; };
layout(push_constant) uniform Push { ElementwiseParams p; };

void main() {
  const uint i = linearInvocation();
  if (i < p.n) out_[i] = (p.has_b != 0 ? a[i] + b[i] : a[i]) * p.scale;
}
