#version 460
// residual_norm: a block's output norm, its residual add and, optionally, the next block's input
// norm, in one pass over each row (docs/model.md §2.5-§2.8), instead of three dispatches with the
// normalised output and the new residual going through memory in between:
//   x = (x + rmsnorm(y, w_out)) * scale          in place
//   a = rmsnorm(x, w_next)                        when has_next
// Same operation order as RmsNorm then AddScaled then RmsNorm. One workgroup per row; each
// invocation recomputes its own x values in the last pass instead of keeping a row of up to 5376
// floats in shared memory, so the results written are bit-identical to the ones summed.
// binding 0: x [rows][dim] f32, read-write.  binding 1: y [rows][dim] f32, read.
// binding 2: w_out [dim] f32, read.  binding 3: w_next [dim] f32, read (ignored without has_next).
// binding 4: a [rows][dim] f32, write (ignored without has_next; must not alias x or y).
// push: ResidualNormParams.  spec 0: workgroup size.  dispatched by host/ops/residual_norm.cpp
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "params/norm_params.h"
#include "reduce.glsl"
layout(local_size_x_id = 0) in;
#include "indexing.glsl"

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer WOut { float w_out[]; };
layout(std430, binding = 3) readonly buffer WNext { float w_next[]; };
layout(std430, binding = 4) writeonly buffer A { float a[]; };
layout(push_constant) uniform Push { ResidualNormParams p; };

void main() {
  const uint row = linearGroup();
  if (row >= p.rows) return;  // uniform per workgroup: safe before the reductions
  const uint base = row * p.dim;
  float ss = 0.0;
  for (uint i = gl_LocalInvocationID.x; i < p.dim; i += gl_WorkGroupSize.x) ss += y[base + i] * y[base + i];
  const float inv_y = inversesqrt(workgroupSum(ss) / float(p.dim) + p.eps);

  float inv_x = 0.0;
  if (p.has_next != 0u) {  // uniform: every invocation reaches the reduction
    float ssx = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < p.dim; i += gl_WorkGroupSize.x) {
      precise const float xn = (x[base + i] + y[base + i] * inv_y * w_out[i]) * p.scale;
      ssx += xn * xn;
    }
    inv_x = inversesqrt(workgroupSum(ssx) / float(p.dim) + p.eps);
  }
  for (uint i = gl_LocalInvocationID.x; i < p.dim; i += gl_WorkGroupSize.x) {
    precise const float xn = (x[base + i] + y[base + i] * inv_y * w_out[i]) * p.scale;
    x[base + i] = xn;
    if (p.has_next != 0u) a[base + i] = xn * inv_x * w_next[i];
  }
}
