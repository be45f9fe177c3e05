#version 460
// moe_combine: out[t][i] = sum_j weights[t][j] * expert_out[t * top_k + j][i], the routed experts'
// outputs weighted by the router (ascending choice order, f32).
// binding 0: expert_out [T * top_k][dim] f32, read.  binding 1: weights [T][top_k] f32, read.
// binding 2: out [T][dim] f32, write.
// push: MoeCombineParams.  spec 0: workgroup size.  dispatched by host/ops/experts.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/moe_params.h"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(std430, binding = 0) readonly buffer E { float expert_out[]; };
layout(std430, binding = 1) readonly buffer W { float weights[]; };
layout(std430, binding = 2) writeonly buffer O { float out_[]; };
layout(push_constant) uniform Push { MoeCombineParams p; };

void main() {
  const uint id = linearInvocation();  // one invocation per (token, i)
  if (id >= p.n_tokens * p.dim) return;
  const uint t = id / p.dim, i = id % p.dim;
  float acc = 0.0;
  for (uint j = 0; j < p.top_k; ++j) acc += weights[t * p.top_k + j] * expert_out[(t * p.top_k + j) * p.dim + i];
  out_[id] = acc;
}
