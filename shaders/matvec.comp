#version 460
// matvec: decode matrix-vector product, y[row_offset + r] = sum_k W[r][k] * x[k] for the rows
// r < rows of one weight chunk; f32 accumulation whatever the weight type.
// Variants (-D): WEIGHT_F32, WEIGHT_F16, WEIGHT_BF16, WEIGHT_Q8_0, WEIGHT_Q4_0.
// Bindings: 0: x [K] f32 storage, read (only K values are read, never past them)
//           1: y [N] f32 storage, write (only [row_offset, row_offset + rows))
//           2: W data [rows][row_texels] RGBA32UI uniform texel buffer (host/weight_matrix.h layout)
//           3: W scales [rows][row_scales] f16 packed in RGBA32UI texels (q8_0 / q4_0 only)
// Push: MatMulParams (params/matmul_params.h; m_tokens is 1).
// Spec: 0 workgroup size; 1 ROWS_PER_SUBGROUP (rows one subgroup reduces at once, x reused across
//       them); 2 ROWS_PER_WORKGROUP (a multiple of ROWS_PER_SUBGROUP).
// Design (shared/design/LAVAPIPE.md): weights through texel views, each subgroup takes
// ROWS_PER_SUBGROUP rows with its lanes striding along K one texel at a time, one subgroupAdd per
// row at the end, no shared memory. Correct for any subgroup size (lanes are counted with
// subgroup arithmetic, so even partial subgroups work) and any number of subgroups per workgroup.
// Dispatched by host/ops/matmul.cpp (MatMul with M == 1), once per weight chunk.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
#include "params/matmul_params.h"
#include "types.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS_PER_SUBGROUP = 4;
layout(constant_id = 2) const uint ROWS_PER_WORKGROUP = 32;

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
  const uint lane = subgroupExclusiveAdd(1u);
  const uint lanes = subgroupAdd(1u);
  const uint texels = (p.k + VPT - 1u) / VPT;  // texels holding real columns; the rest is padding
  const uint blocks = ROWS_PER_WORKGROUP / ROWS_PER_SUBGROUP;

  for (uint b = gl_SubgroupID; b < blocks; b += gl_NumSubgroups) {
    const uint row0 = wg * ROWS_PER_WORKGROUP + b * ROWS_PER_SUBGROUP;
    if (row0 >= p.rows) break;
    int base[ROWS_PER_SUBGROUP];  // first texel of each row; rows past the chunk repeat the last
    float acc[ROWS_PER_SUBGROUP];
    [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) {
      base[r] = int(min(row0 + r, p.rows - 1u) * p.row_texels);
      acc[r] = 0.0;
    }
    for (uint t = lane; t < texels; t += lanes) {
      vec4 xq[QPT];
      [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = loadX4(0u, t * VPT + 4u * q);
      [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) {
        const uvec4 w = texelFetch(w_data, base[r] + int(t));
        float d = 0.0;
        [[unroll]] for (uint q = 0; q < QPT; ++q) d += dot(weightQuad(w, q), xq[q]);
#ifdef WEIGHT_QUANTIZED
        d *= weightScale(min(row0 + r, p.rows - 1u), t);
#endif
        acc[r] += d;
      }
    }
    [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) {
      const float s = subgroupAdd(acc[r]);
      if (lane == 0u && row0 + r < p.rows) y_[p.row_offset + row0 + r] = s;
    }
  }
}
