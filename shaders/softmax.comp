#version 460
// softmax: row softmax in place, x = exp(x - max) / sum(exp(x - max)). One workgroup per row.
// binding 0: x [rows][dim] f32, read-write.  push: RowParams (eps, has_weight unused).
// spec 0: workgroup size.  dispatched by host/ops/softmax.cpp
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "params/norm_params.h"
#include "reduce.glsl"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(std430, binding = 0) buffer X { float x[]; };
layout(push_constant) uniform Push { RowParams p; };

void main() {
  const uint row = linearGroup();
  if (row >= p.rows) return;
  const uint base = row * p.dim;
  float m = -3.402823466e38;
  for (uint i = gl_LocalInvocationID.x; i < p.dim; i += gl_WorkGroupSize.x) m = max(m, x[base + i]);
  m = workgroupMax(m);
  float s = 0.0;
  for (uint i = gl_LocalInvocationID.x; i < p.dim; i += gl_WorkGroupSize.x) s += exp(x[base + i] - m);
  const float inv = 1.0 / workgroupSum(s);
  for (uint i = gl_LocalInvocationID.x; i < p.dim; i += gl_WorkGroupSize.x) x[base + i] = exp(x[base + i] - m) * inv;
}
