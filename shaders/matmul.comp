#version 460
// matmul: prefill product, Y[m][row_offset + r] = sum_k W[r][k] * X[m][k] for the rows r < rows of
// one weight chunk and the tokens m < M; f32 accumulation whatever the weight type.
// Variants (-D): WEIGHT_F32, WEIGHT_F16, WEIGHT_BF16, WEIGHT_Q8_0, WEIGHT_Q4_0.
// Bindings: 0: X [M][K] f32 storage, read (rows K floats apart; never read past column K)
//           1: Y [M][N] f32 storage, write (only columns [row_offset, row_offset + rows))
//           2: W data [rows][row_texels] RGBA32UI uniform texel buffer (host/weight_matrix.h layout)
//           3: W scales [rows][row_scales] f16 packed in RGBA32UI texels (q8_0 / q4_0 only)
// Push: MatMulParams (params/matmul_params.h).
// Spec: 0 workgroup size; 1 ROWS_PER_SUBGROUP; 2 ROWS_PER_WORKGROUP (a multiple of it);
//       3 TOKENS (tokens per workgroup).
// Grid: linear workgroup index g = x + y * gridX < groups; rows block g % row_groups, tokens block
// g / row_groups, so any M fits a 2-D grid.
// Design (shared/design/LAVAPIPE.md, item 8): register blocking, no shared memory. A subgroup takes
// ROWS_PER_SUBGROUP weight rows x TOKENS tokens; its lanes stride along K one texel at a time, each
// weight value is decoded once and used TOKENS times, each x value is loaded once and used
// ROWS_PER_SUBGROUP times; one subgroupAdd per output at the end. Correct for any subgroup size.
// Dispatched by host/ops/matmul.cpp (MatMul with M > 1), once per weight chunk.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
#include "params/matmul_params.h"
#include "types.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS_PER_SUBGROUP = 4;
layout(constant_id = 2) const uint ROWS_PER_WORKGROUP = 32;
layout(constant_id = 3) const uint TOKENS = 8;

layout(std430, binding = 0) readonly buffer X { float x_[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4_[]; };  // the same X, by quads
layout(std430, binding = 1) writeonly buffer Y { float y_[]; };
layout(push_constant) uniform Push { MatMulParams p; };

// ---- Weight texels (this block is the same in matvec.comp and matmul.comp) ----
// Device layout from host/weight_matrix.h: row r of a chunk starts at texel r * row_texels; each
// RGBA32UI texel holds VPT values (f32 4, f16/bf16 8, q8_0 16 = half a block, q4_0 32 = one block).
// Padding columns (k >= K) hold zeros. Quantized rows have one f16 scale per 32 values: scale s of
// the chunk sits in scales texel s / 8, uint (s % 8) / 2, half s % 2.
#if defined(WEIGHT_F32)
const uint VPT = 4;
#elif defined(WEIGHT_F16) || defined(WEIGHT_BF16)
const uint VPT = 8;
#elif defined(WEIGHT_Q8_0)
const uint VPT = 16;
#define WEIGHT_QUANTIZED 1
#elif defined(WEIGHT_Q4_0)
const uint VPT = 32;
#define WEIGHT_QUANTIZED 1
#else
#error "define one of WEIGHT_F32, WEIGHT_F16, WEIGHT_BF16, WEIGHT_Q8_0, WEIGHT_Q4_0"
#endif
const uint QPT = VPT / 4;  // quads (vec4 of weights) per texel

layout(binding = 2) uniform usamplerBuffer w_data;
#ifdef WEIGHT_QUANTIZED
layout(binding = 3) uniform usamplerBuffer w_scales;
#endif

// Quad q (values 4q..4q+3) of a texel, before the block scale.
vec4 weightQuad(uvec4 t, uint q) {
#if defined(WEIGHT_F32)
  return uintBitsToFloat(t);
#elif defined(WEIGHT_F16)
  return vec4(unpackHalf2x16(t[2 * q]), unpackHalf2x16(t[2 * q + 1]));
#elif defined(WEIGHT_BF16)
  return vec4(unpackBf16x2(t[2 * q]), unpackBf16x2(t[2 * q + 1]));
#elif defined(WEIGHT_Q8_0)
  const int u = int(t[q]);  // four signed bytes, low byte first
  return vec4(bitfieldExtract(u, 0, 8), bitfieldExtract(u, 8, 8), bitfieldExtract(u, 16, 8), bitfieldExtract(u, 24, 8));
#else
  return (q & 1u) == 0u ? unpackQ4Lo(t[q >> 1]) : unpackQ4Hi(t[q >> 1]);
#endif
}

// Scale of texel t of chunk row r (1 for unquantized weights).
float weightScale(uint r, uint t) {
#ifdef WEIGHT_QUANTIZED
  const uint s = r * p.row_scales + t * VPT / 32u;
  const uvec4 v = texelFetch(w_scales, int(s >> 3));
  return unpackHalf2x16(v[(s >> 1) & 3u])[s & 1u];
#else
  return 1.0;
#endif
}

// x[base + k .. base + k + 3]. Whole quads inside the row come in one vec4 load when rows are
// 16-byte aligned (K % 4 == 0: every real model shape); otherwise k is clamped to K - 1: X has only
// K columns, and the weights past K are zero, so any finite value of the row works there.
vec4 loadX4(uint base, uint k) {
  if ((p.k & 3u) == 0u && k < p.k) return x4_[(base + k) >> 2];
  const uint last = p.k - 1u;
  return vec4(x_[base + min(k, last)], x_[base + min(k + 1u, last)], x_[base + min(k + 2u, last)],
              x_[base + min(k + 3u, last)]);
}
// ---- end of weight texels ----

void main() {
  const uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (wg >= p.groups) return;  // whole workgroups only: the grid rounds up
  const uint row_group = wg % p.row_groups;
  const uint tok0 = (wg / p.row_groups) * TOKENS;
  const uint lane = subgroupExclusiveAdd(1u);
  const uint lanes = subgroupAdd(1u);
  const uint texels = (p.k + VPT - 1u) / VPT;  // texels holding real columns; the rest is padding
  const uint blocks = ROWS_PER_WORKGROUP / ROWS_PER_SUBGROUP;

  uint xbase[TOKENS];  // first element of each token's X row; tokens past M repeat the last
  [[unroll]] for (uint j = 0; j < TOKENS; ++j) xbase[j] = min(tok0 + j, p.m_tokens - 1u) * p.k;

  for (uint b = gl_SubgroupID; b < blocks; b += gl_NumSubgroups) {
    const uint row0 = row_group * ROWS_PER_WORKGROUP + b * ROWS_PER_SUBGROUP;
    if (row0 >= p.rows) break;
    uint rows[ROWS_PER_SUBGROUP];  // rows past the chunk repeat the last (results dropped)
    float acc[ROWS_PER_SUBGROUP * TOKENS];
    [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) rows[r] = min(row0 + r, p.rows - 1u);
    [[unroll]] for (uint i = 0; i < ROWS_PER_SUBGROUP * TOKENS; ++i) acc[i] = 0.0;

    for (uint t = lane; t < texels; t += lanes) {
      uvec4 w[ROWS_PER_SUBGROUP];
      float scale[ROWS_PER_SUBGROUP];
      [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) {
        w[r] = texelFetch(w_data, int(rows[r] * p.row_texels + t));
        scale[r] = weightScale(rows[r], t);
      }
      [[unroll]] for (uint q = 0; q < QPT; ++q) {
        vec4 wq[ROWS_PER_SUBGROUP];
        [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) {
#ifdef WEIGHT_QUANTIZED
          wq[r] = weightQuad(w[r], q) * scale[r];
#else
          wq[r] = weightQuad(w[r], q);
#endif
        }
        [[unroll]] for (uint j = 0; j < TOKENS; ++j) {
          const vec4 xv = loadX4(xbase[j], t * VPT + 4u * q);
          [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) acc[r * TOKENS + j] += dot(wq[r], xv);
        }
      }
    }
    [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) {
      [[unroll]] for (uint j = 0; j < TOKENS; ++j) {
        const float s = subgroupAdd(acc[r * TOKENS + j]);
        if (lane == 0u && row0 + r < p.rows && tok0 + j < p.m_tokens) {
          y_[(tok0 + j) * p.n + p.row_offset + row0 + r] = s;
        }
      }
    }
  }
}
