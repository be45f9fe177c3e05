#version 460
// gelu_mul: out = gelu_tanh(gate) * up, elementwise (the gated feed-forward of Gemma 4).
// binding 0: gate [n] f32, read.  binding 1: up [n] f32, read.  binding 2: out [n] f32, write (may alias).
// push: ElementwiseParams.  spec 0: workgroup size.  dispatched by host/ops/elementwise.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/elementwise_params.h"
#include "math.glsl"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(std430, binding = 0) readonly buffer G { float gate[]; };
layout(std430, binding = 1) readonly buffer U { float up[]; };
layout(std430, binding = 2) writeonly buffer O { float out_[]; };
layout(push_constant) uniform Push { ElementwiseParams p; };

void main() {
  const uint i = linearInvocation();
  if (i < p.n) out_[i] = geluTanh(gate[i]) * up[i];
}
