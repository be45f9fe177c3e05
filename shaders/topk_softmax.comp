#version 460
// topk_softmax: expert routing per token. Picks the k largest of n_experts logits (ties: lower
// id first) and writes their softmax (equal to softmax over all experts, top-k, renormalise),
// times per_expert_scale[id] when has_scale. One workgroup per token: the logits are staged in
// shared memory and one invocation does the k selection passes (k * n_experts compares: 1024 for
// Gemma 4's 8 of 128, negligible beside the expert products).
// binding 0: logits [rows][n_experts] f32, read.  binding 1: per_expert_scale [n_experts] f32, read.
// binding 2: ids [rows][k] int32, write.  binding 3: weights [rows][k] f32, write.
// push: TopKParams.  spec 0: workgroup size.  dispatched by host/ops/topk.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/topk_params.h"

#define MAX_EXPERTS 512
#define MAX_K 32
layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(std430, binding = 0) readonly buffer L { float logits[]; };
layout(std430, binding = 1) readonly buffer S { float expert_scale[]; };
layout(std430, binding = 2) writeonly buffer I { int ids[]; };
layout(std430, binding = 3) writeonly buffer W { float weights[]; };
layout(push_constant) uniform Push { TopKParams p; };

shared float s_logits[MAX_EXPERTS];

void main() {
  const uint row = linearGroup();
  if (row >= p.rows) return;
  for (uint e = gl_LocalInvocationID.x; e < p.n_experts; e += gl_WorkGroupSize.x) {
    s_logits[e] = logits[row * p.n_experts + e];
  }
  barrier();
  if (gl_LocalInvocationID.x != 0) return;
  uint chosen[MAX_K];
  float value[MAX_K];
  for (uint j = 0; j < p.k; ++j) {
    uint best = 0xffffffffu;
    for (uint e = 0; e < p.n_experts; ++e) {
      bool taken = false;
      for (uint q = 0; q < j; ++q) taken = taken || chosen[q] == e;
      if (!taken && (best == 0xffffffffu || s_logits[e] > s_logits[best])) best = e;
    }
    chosen[j] = best;
    value[j] = s_logits[best];
  }
  float sum = 0.0;
  for (uint j = 0; j < p.k; ++j) sum += exp(value[j] - value[0]);  // value[0] is the maximum
  for (uint j = 0; j < p.k; ++j) {
    float w = exp(value[j] - value[0]) / sum;
    if (p.has_scale != 0) w *= expert_scale[chosen[j]];
    ids[row * p.k + j] = int(chosen[j]);
    weights[row * p.k + j] = w;
  }
}
