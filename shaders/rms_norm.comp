#version 460
// rms_norm: Gemma 4 RMSNorm over rows: y = x * (mean(x^2) + eps)^-0.5 [* w], weight used as stored.
// One workgroup per row. Rows of the per-head Q/K/V norms are (token, head) pairs of head_dim.
// binding 0: x [rows][dim] f32, read.  binding 1: w [dim] f32, read (ignored when has_weight = 0).
// binding 2: y [rows][dim] f32, write (may alias x).
// push: RowParams.  spec 0: workgroup size.  dispatched by host/ops/rms_norm.cpp
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "params/norm_params.h"
#include "reduce.glsl"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { RowParams p; };

void main() {
  const uint row = linearGroup();
  if (row >= p.rows) return;  // uniform per workgroup: safe before the reduction
  const uint base = row * p.dim;
  float ss = 0.0;
  for (uint i = gl_LocalInvocationID.x; i < p.dim; i += gl_WorkGroupSize.x) ss += x[base + i] * x[base + i];
  const float inv = inversesqrt(workgroupSum(ss) / float(p.dim) + p.eps);
  for (uint i = gl_LocalInvocationID.x; i < p.dim; i += gl_WorkGroupSize.x) {
    const float v = x[base + i] * inv;
    y[base + i] = p.has_weight != 0 ? v * w[i] : v;
  }
}
