#version 460
// ple_norm_combine: the per-layer inputs of E2B/E4B in one pass (docs/model.md §2.3), fusing the
// per-slice RMSNorm of the model projection with ple_combine.comp:
//   ple[l][t] = (rmsnorm(ctx[t][l], w) + tok[t][l]) * 2^-0.5
// instead of a norm writing ctx back to memory and a second dispatch reading it again. ctx is the
// projection of x0 (token-major [T][L * P]); tok the current tokens' rows of the per-layer
// embedding table, already scaled; the output is layer-major, each layer's block reads its rows
// as one tensor. One workgroup per (token, layer) row of P values held in registers (kPer
// elements per invocation), one whole-workgroup reduction. Same operation order as RmsNorm then
// PleCombine. Variants: VEC4 = 1 (16-byte loads and stores; P a multiple of 4) or floats.
// Launch geometry (host/ops/ple.cpp, PlanRow): S = clamp(pow2ceil(P / VW), 32, 256), kPer =
// ceil(P / VW / S), workgroups = T * L: E2B (P 256, L 35) 64 invocations x 1 vec4, 35 workgroups
// per token (2240 in a 64-token chunk); E4B (L 42) 42 per token. 31B has no per-layer inputs.
// binding 0: ple [L * ple_rows][P] f32, write (layer l's token t at row l * ple_rows + t).
// binding 1: tok [T][L * P] f32, read.  binding 2: ctx [T][L * P] f32, read.  binding 3: w [P] f32, read.
// push: PleNormParams.  spec 0: workgroup size S.  spec 1: kPer.  dispatched by host/ops/ple.cpp
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "params/ple_params.h"
#include "reduce.glsl"
#include "row_vec.glsl"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(constant_id = 1) const uint kPer = 1;
layout(std430, binding = 0) writeonly buffer Ple { ROW_T ple[]; };
layout(std430, binding = 1) readonly buffer Tok { ROW_T tok[]; };
layout(std430, binding = 2) readonly buffer Ctx { ROW_T ctx[]; };
layout(std430, binding = 3) readonly buffer W { ROW_T w[]; };
layout(push_constant) uniform Push { PleNormParams p; };

void main() {
  const uint row = linearGroup();  // token t, layer l
  if (row >= p.n_tokens * p.n_layers) return;  // uniform per workgroup: safe before the reduction
  const uint t = row / p.n_layers, l = row % p.n_layers;
  const uint n = p.dim / ROW_VW, src = row * n, dst = (l * p.ple_rows + t) * n, lid = gl_LocalInvocationID.x;
  ROW_T v[kPer];
  float ss = 0.0;
  for (uint k = 0; k < kPer; ++k) {
    const uint i = lid + k * gl_WorkGroupSize.x;
    v[k] = i < n ? ctx[src + i] : ROW_T(0.0);
    ss += rowSumSq(v[k]);
  }
  const float inv = inversesqrt(workgroupSum(ss) / float(p.dim) + p.eps);
  for (uint k = 0; k < kPer; ++k) {
    const uint i = lid + k * gl_WorkGroupSize.x;
    if (i < n) ple[dst + i] = (v[k] * inv * w[i] + tok[src + i]) * p.scale;
  }
}
