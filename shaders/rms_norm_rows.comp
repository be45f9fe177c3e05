#version 460
// rms_norm_rows: RMSNorm shaped for GPUs (the GPU kernel family; rms_norm.comp serves CPU devices):
// y = x * (mean(x^2) + eps)^-0.5 [* w], one workgroup per row, every value read from memory once
// into registers (at most kPer elements per invocation), one whole-workgroup reduction (subgroup
// adds, then shared memory across subgroups), then the row written from the registers.
// Variants: VEC4 = 1 (16-byte vec4 loads and stores; dim and offsets multiples of 4) or floats.
// Launch geometry (host/ops/rms_norm.cpp, PlanRow): S = clamp(pow2ceil(dim / VW), 32, 256)
// invocations, kPer = ceil(dim / VW / S), workgroups = rows:
//   E2B final norm, 1536 wide: 256 x 2 vec4 (384 of 512 slots busy), 1 workgroup per token;
//   31B, 5376 wide: 256 x 6 vec4, 1 workgroup per token;
//   E2B per-layer-input slices (35 layers x 256 wide): 64 x 1 vec4, 35 workgroups per token;
//   MoE weightless router norm, 2816 wide (26B): 256 x 3 vec4.
// One token is one workgroup: at decode the row's ~6-21 KB are read by 256 lanes at once (each
// with all its kPer loads in flight), so the dispatch costs one memory latency plus one
// reduction, instead of rms_norm.comp's 64 lanes reading scalars three times over.
// binding 0: x [rows][dim] f32, read.  binding 1: w [dim] f32, read (ignored when has_weight = 0).
// binding 2: y [rows][dim] f32, write (may alias x: each invocation writes only what it read).
// push: RowParams.  spec 0: workgroup size S.  spec 1: kPer.  dispatched by host/ops/rms_norm.cpp
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "params/norm_params.h"
#include "reduce.glsl"
#include "row_vec.glsl"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(constant_id = 1) const uint kPer = 1;
layout(std430, binding = 0) readonly buffer X { ROW_T x[]; };
layout(std430, binding = 1) readonly buffer W { ROW_T w[]; };
layout(std430, binding = 2) writeonly buffer Y { ROW_T y[]; };
layout(push_constant) uniform Push { RowParams p; };

void main() {
  const uint row = linearGroup();
  if (row >= p.rows) return;  // uniform per workgroup: safe before the reduction
  const uint n = p.dim / ROW_VW, base = row * n, lid = gl_LocalInvocationID.x;
  ROW_T v[kPer];
  float ss = 0.0;
  for (uint k = 0; k < kPer; ++k) {
    const uint i = lid + k * gl_WorkGroupSize.x;
    v[k] = i < n ? x[base + i] : ROW_T(0.0);
    ss += rowSumSq(v[k]);
  }
  const float inv = inversesqrt(workgroupSum(ss) / float(p.dim) + p.eps);
  for (uint k = 0; k < kPer; ++k) {
    const uint i = lid + k * gl_WorkGroupSize.x;
    if (i < n) y[base + i] = p.has_weight != 0u ? v[k] * inv * w[i] : v[k] * inv;
  }
}
