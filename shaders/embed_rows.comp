#version 460
// embed_rows: out[t][i] = table[ids[t]][i] * scale, for GPUs: a workgroup per (token, 64 texels
// of its row); each invocation reads ONE whole 16-byte texel of the row (f32 4, f16/bf16 8,
// q8_0 16, q4_0 32 values, the block scale beside it), decodes it and writes it as vec4 stores,
// so a row travels in one coalesced pass of full-width loads (embed.comp reads every texel once
// per value it holds: 8-32 fetches of the same 16 bytes). Tokens whose row lies outside this
// weight chunk (rows row_begin .. row_begin + chunk_rows - 1) leave the workgroup at once: the
// branch is uniform over the workgroup, so the chunks' dispatches cost nothing for them.
// Variants per table dtype: -DWEIGHT_<FMT> for every weight format (shaders/weight_formats.cmake).
// binding 0: weights (texel view of the chunk).  binding 1: scales (texel view; q8_0/q4_0 only,
// the data view again otherwise).  binding 2: ids [n_tokens] int32, read.
// binding 3: out [n_tokens][dim] f32 as vec4, write (dim % 4 == 0; host/ops/embed.cpp keeps
// embed.comp otherwise).
// push: EmbedParams.  spec 0: workgroup size (64).
// Grid: x = ceil(row_texels / 64), y = n_tokens (<= 65535; prompt chunks are <= 512 tokens).
// Geometry: E2B decode (1536 columns): q4_0 48 texels -> 1 workgroup of 64 per token; bf16 192
// texels -> 3; a 512-token prompt chunk 512 / 1536 workgroups. 31B (5376 columns) bf16: 11
// workgroups per token. The op reads one row per token (3 KB q4_0 .. 6 KB f32 for E2B), so it is
// latency-bound at decode: one round trip of independent 16-byte loads, no serial loop.
// Dispatched by host/ops/embed.cpp (GPU kernel family).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "params/embed_params.h"

layout(local_size_x_id = 0) in;
#define WEIGHT_DATA_BINDING 0
#define WEIGHT_SCALES_BINDING 1
#define WEIGHT_TEXEL_NO_X 1
#include "weight_texel.glsl"
layout(std430, binding = 2) readonly buffer Ids { int ids[]; };
layout(std430, binding = 3) writeonly buffer Out { vec4 out4_[]; };
layout(push_constant) uniform Push { EmbedParams p; };

void main() {
  const uint t = gl_WorkGroupID.y;
  const uint row = uint(ids[t]) - p.row_begin;  // wraps to a huge value below the chunk
  if (row >= p.chunk_rows) return;              // uniform over the workgroup
  const uint i = gl_WorkGroupID.x * gl_WorkGroupSize.x + gl_LocalInvocationID.x;  // texel of the row
  if (i >= p.cols_padded / VPT || i * VPT >= p.dim) return;
  const WTexel texel = weightTexel(int(row * weightRowTexels(p.cols_padded)), i);
  const uint out_base = (t * p.dim) / 4u + i * QPT;
#ifdef WEIGHT_KQUANT
  // (scale * code + bias) * embedding scale: scale * code is exact, so the value rounds once as
  // the reference's (d * sc) * q - dmin * m does; bit-exact.
  const vec2 a = weightAffine(row, i, weightRowScales(p.cols_padded));
  [[unroll]] for (uint q = 0; q < QPT; ++q) {
    if (i * VPT + 4u * q < p.dim) out4_[out_base + q] = (weightQuad(texel, q) * a.x + a.y) * p.scale;
  }
#else
  // (value * block scale) * embedding scale, in that order: the reference's roundings, bit-exact.
  const float d = weightScale(row, i, p.cols_padded / 32u);
  [[unroll]] for (uint q = 0; q < QPT; ++q) {
    if (i * VPT + 4u * q < p.dim) out4_[out_base + q] = (weightQuad(texel, q) * d) * p.scale;
  }
#endif
}
