#version 460
// layer_norm: y = LayerNorm(x [+ add]) * w + b over each row (torch's nn.LayerNorm: mean, biased
// variance, eps inside the root). gemma4_unified's image embedder: patch_ln1 over the 6912 raw
// values of a 48 x 48 patch, patch_ln2 and pos_norm over its mm_embed_dim (3840 on the 12B),
// pos_norm with the (x, y) position rows added first.
// Launch geometry (host/ops/layer_norm.cpp): one workgroup of 256 invocations per row, rows = the
// image's soft tokens (up to 1120 workgroups). Each invocation strides the row by 256, so every
// load is coalesced; three passes over the row (sum, centred sum of squares, write) each end in one
// workgroup reduction. A 6912-wide row is 27 KB and stays in cache between passes; the op is a
// rounding error beside patch_dense's product (S x 6912 x 3840), so one plain kernel serves both
// kernel families. Each invocation writes only values it read itself, so y may alias x.
// binding 0: x [rows][dim] f32, read.  binding 1: add [rows][dim] f32, read (x stands in when
// has_add = 0).  binding 2: w [dim], binding 3: b [dim] f32, read.  binding 4: y [rows][dim] f32, write.
// push: LayerNormParams.  spec 0: workgroup size (256).
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "params/norm_params.h"
#include "reduce.glsl"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Add { float add[]; };
layout(std430, binding = 2) readonly buffer W { float w[]; };
layout(std430, binding = 3) readonly buffer B { float b[]; };
layout(std430, binding = 4) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { LayerNormParams p; };

float value(uint i) { return p.has_add != 0u ? x[i] + add[i] : x[i]; }

void main() {
  const uint row = linearGroup();
  if (row >= p.rows) return;  // uniform per workgroup: safe before the reductions
  const uint base = row * p.dim, lid = gl_LocalInvocationID.x, S = gl_WorkGroupSize.x;
  float s = 0.0;
  for (uint i = lid; i < p.dim; i += S) s += value(base + i);
  const float mean = workgroupSum(s) / float(p.dim);
  float ss = 0.0;
  for (uint i = lid; i < p.dim; i += S) {
    const float d = value(base + i) - mean;
    ss += d * d;
  }
  const float inv = inversesqrt(workgroupSum(ss) / float(p.dim) + p.eps);
  for (uint i = lid; i < p.dim; i += S) y[base + i] = (value(base + i) - mean) * inv * w[i] + b[i];
}
