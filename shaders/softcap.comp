#version 460
// softcap: x = cap * tanh(x / cap) in place (Gemma 4's final logit soft-cap, cap 30).
// binding 0: x [n] f32, read-write.  push: ElementwiseParams (scale = cap).
// spec 0: workgroup size.  dispatched by host/ops/elementwise.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/elementwise_params.h"
#include "math.glsl"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(std430, binding = 0) buffer X { float x[]; };
layout(push_constant) uniform Push { ElementwiseParams p; };

void main() {
  const uint i = linearInvocation();
  if (i < p.n) x[i] = p.scale * safeTanh(x[i] / p.scale);
}
