#version 460
// residual_norm_rows: the block end of residual_norm.comp shaped for GPUs (the GPU kernel family):
//   x = (x + rmsnorm(y, w_out)) * scale   in place;   a = rmsnorm(x, w_next)   when has_next
// One workgroup per row; x and y are read from memory once into registers (kPer elements per
// invocation), the new x is kept there for the second reduction and the writes, so each value is
// read once (residual_norm.comp reads y three times and x twice). Same operation order per value.
// Variants: VEC4 = 1 (vec4 loads/stores; dim and offsets multiples of 4) or floats.
// Launch geometry (host/ops/rms_norm.cpp, PlanRow): S = clamp(pow2ceil(dim / VW), 32, 256), kPer =
// ceil(dim / VW / S), workgroups = rows (tokens). E2B (1536): 256 x 2 vec4; 31B (5376): 256 x 6
// vec4; 3 per layer at decode (105 per E2B token), each reading 2 x 6-21 KB plus the weights with
// every lane's loads in flight at once: one memory latency and two reductions per dispatch.
// QUANT = 1 (with VEC4; host/ops/rms_norm.h ResidualRmsNormInt8): the row it ends with (a with
// has_next, else the new x) is also written as the int8 activations of the integer-dot products
// (quantize_activations.comp's layout and float operations, so the bytes are the same as that
// dispatch's), folding the separate quantize dispatch and its barrier into this one. A 32-value
// block is 8 vec4 held by 8 neighbouring invocations (S is a multiple of 8): their block maximum
// and quant sum go through shared memory (2 x S words, three workgroup barriers per kPer step).
// binding 0: x [rows][dim] f32, read-write.  binding 1: y [rows][dim] f32, read.
// binding 2: w_out [dim] f32, read.  binding 3: w_next [dim] f32, read (ignored without has_next).
// binding 4: a [rows][dim] f32, write (ignored without has_next; must not alias x or y).
// QUANT only: binding 5: Q [rows][blocks][8] uint, write; binding 6: S [rows][blocks] vec2, write.
// push: ResidualNormParams.  spec 0: workgroup size S.  spec 1: kPer.  dispatched by host/ops/rms_norm.cpp
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "params/norm_params.h"
#include "reduce.glsl"
#include "row_vec.glsl"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(constant_id = 1) const uint kPer = 1;
layout(std430, binding = 0) buffer X { ROW_T x[]; };
layout(std430, binding = 1) readonly buffer Y { ROW_T y[]; };
layout(std430, binding = 2) readonly buffer WOut { ROW_T w_out[]; };
layout(std430, binding = 3) readonly buffer WNext { ROW_T w_next[]; };
layout(std430, binding = 4) writeonly buffer A { ROW_T a[]; };
layout(push_constant) uniform Push { ResidualNormParams p; };
#if QUANT
#include "quant_block.glsl"
#endif

void main() {
  const uint row = linearGroup();
  if (row >= p.rows) return;  // uniform per workgroup: safe before the reductions
  const uint n = p.dim / ROW_VW, base = row * n, lid = gl_LocalInvocationID.x;
  ROW_T xv[kPer], yv[kPer];
  float ss = 0.0;
  for (uint k = 0; k < kPer; ++k) {
    const uint i = lid + k * gl_WorkGroupSize.x;
    xv[k] = i < n ? x[base + i] : ROW_T(0.0);
    yv[k] = i < n ? y[base + i] : ROW_T(0.0);
    ss += rowSumSq(yv[k]);
  }
  const float inv_y = inversesqrt(workgroupSum(ss) / float(p.dim) + p.eps);
  float ssx = 0.0;
  for (uint k = 0; k < kPer; ++k) {
    const uint i = lid + k * gl_WorkGroupSize.x;
    precise const ROW_T xn = i < n ? (xv[k] + yv[k] * inv_y * w_out[i]) * p.scale : ROW_T(0.0);
    xv[k] = xn;
    ssx += rowSumSq(xn);
  }
  float inv_x = 0.0;
  if (p.has_next != 0u) inv_x = inversesqrt(workgroupSum(ssx) / float(p.dim) + p.eps);  // uniform branch
  for (uint k = 0; k < kPer; ++k) {
    const uint i = lid + k * gl_WorkGroupSize.x;
#if QUANT
    // Uniform loop (every invocation reaches quantStore's barriers); lanes past the row quantize
    // zeros, the padding of the last block.
    ROW_T out_v = xv[k];
    if (i < n) {
      x[base + i] = xv[k];
      if (p.has_next != 0u) {
        out_v = xv[k] * inv_x * w_next[i];
        a[base + i] = out_v;
      }
    }
    quantStore(row, i, i < n ? out_v : ROW_T(0.0), (p.dim + 31u) / 32u);
#else
    if (i >= n) continue;
    x[base + i] = xv[k];
    if (p.has_next != 0u) a[base + i] = xv[k] * inv_x * w_next[i];
#endif
  }
}
