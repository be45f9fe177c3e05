#version 460
// matmul: prefill product, Y[m][row_offset + r] = sum_k W[r][k] * X[m][k] for the rows r < rows of
// one weight chunk and the tokens m < M; f32 accumulation whatever the weight type.
// Variants (-D): WEIGHT_<FMT> for every weight format (shaders/weight_formats.cmake; the format
// table host/formats/format_traits.h), each decoded by common/weight_texel.glsl: the float and
// q8_0 / q4_0 texels directly, the ggml block formats on the affine-texel path (value = scale * code
// + bias per 32-value texel, the bias from the sub-block min) with q4_0's geometry.
// Bindings: 0: X [M][K] f32 storage, read (rows K floats apart; never read past column K)
//           1: Y [M][N] f32 storage, write (only columns [row_offset, row_offset + rows))
//           2: the same X as RGBA32UI texels (read instead of binding 0 when K % 4 == 0)
//           3: W data [rows][row_texels] RGBA32UI uniform texel buffer (host/device/weight_matrix.h layout)
//           4: W scales [rows][row_scales] f16 packed in RGBA32UI texels (q8_0 / q4_0 only)
// Push: MatMulParams (params/matmul_params.h).
// Spec: 0 workgroup size; 1 ROWS_PER_SUBGROUP; 2 ROWS_PER_WORKGROUP (a multiple of it);
//       3 TOKENS (tokens per workgroup).
// Grid: linear workgroup index g = x + y * gridX < groups; rows block g % row_groups, tokens block
// g / row_groups, so any M fits a 2-D grid.
// Design (docs/lavapipe.md, item 8): register blocking, no shared memory. A subgroup takes
// ROWS_PER_SUBGROUP weight rows x TOKENS tokens; its lanes stride along K one texel at a time, each
// weight value is decoded once and used TOKENS times, each x value is loaded once and used
// ROWS_PER_SUBGROUP times; one subgroupAdd per output at the end. Correct for any subgroup size.
// Dispatched by host/ops/matmul.cpp (MatMul with M > 1), once per weight chunk.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
#include "params/matmul_params.h"
#include "math.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS_PER_SUBGROUP = 4;
layout(constant_id = 2) const uint ROWS_PER_WORKGROUP = 32;
layout(constant_id = 3) const uint TOKENS = 8;

layout(std430, binding = 0) readonly buffer X { float x_[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4_[]; };  // the same X, by quads
layout(std430, binding = 1) writeonly buffer Y { float y_[]; };
layout(push_constant) uniform Push { MatMulParams p; };

#define X_TEXEL_BINDING 2
#define WEIGHT_DATA_BINDING 3
#define WEIGHT_SCALES_BINDING 4
#include "weight_texel.glsl"  // x texels at 2, weight views at 3 (data) and 4 (scales)

uint xbase[TOKENS];  // first element of each token's X row; tokens past M repeat the last
uint rows[ROWS_PER_SUBGROUP];  // the subgroup's chunk rows; rows past the chunk repeat the last
float acc[ROWS_PER_SUBGROUP * TOKENS];

// Adds texel t of every row times the tokens' x values to acc. direct (a constant at each call):
// x quads straight from the texel view (rows of X start on a texel and the texel lies inside K),
// else through loadX4's per-column checks. Two call sites instead of a branch per quad: a
// non-uniform branch in this loop cost lavapipe 1.5x in the decode kernels.
#ifdef WEIGHT_KQUANT
#define LOAD_X4 loadX4Zero  // K-quant padding values need not be zero: they meet zeros of x
#else
#define LOAD_X4 loadX4
#endif
void accumulateTexel(uint t, const bool direct) {
  WTexel w[ROWS_PER_SUBGROUP];
  float scale[ROWS_PER_SUBGROUP];
#ifdef WEIGHT_KQUANT
  float bias[ROWS_PER_SUBGROUP];  // value = scale * code + bias
#endif
  [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) {
    w[r] = weightTexel(int(rows[r] * p.row_texels), t);
#ifdef WEIGHT_KQUANT
    const vec2 a = weightAffine(rows[r], t, p.row_scales);
    scale[r] = a.x;
    bias[r] = a.y;
#else
    scale[r] = weightScale(rows[r], t, p.row_scales);
#endif
  }
  [[unroll]] for (uint q = 0; q < QPT; ++q) {
    vec4 wq[ROWS_PER_SUBGROUP];
    [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) {
#if defined(WEIGHT_KQUANT)
      wq[r] = weightQuad(w[r], q) * scale[r] + bias[r];
#elif defined(WEIGHT_QUANTIZED)
      wq[r] = weightQuad(w[r], q) * scale[r];
#else
      wq[r] = weightQuad(w[r], q);
#endif
    }
    [[unroll]] for (uint j = 0; j < TOKENS; ++j) {
      const vec4 xv = direct ? uintBitsToFloat(texelFetch(x_tex, int((xbase[j] + t * VPT) / 4u + q)))
                             : LOAD_X4(xbase[j], t * VPT + 4u * q, p.k);
      [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) acc[r * TOKENS + j] += dot(wq[r], xv);
    }
  }
}

void main() {
  const uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (wg >= p.groups) return;  // whole workgroups only: the grid rounds up
  const uint row_group = wg % p.row_groups;
  const uint tok0 = (wg / p.row_groups) * TOKENS;
  const uint lane = subgroupExclusiveAdd(1u);
  const uint lanes = subgroupAdd(1u);
  const uint texels = (p.k + VPT - 1u) / VPT;  // texels holding real columns; the rest is padding
  const uint blocks = ROWS_PER_WORKGROUP / ROWS_PER_SUBGROUP;

  [[unroll]] for (uint j = 0; j < TOKENS; ++j) xbase[j] = min(tok0 + j, p.m_tokens - 1u) * p.k;
  const uint whole = (p.k & 3u) == 0u ? p.k / VPT : 0u;  // texels read straight from x's texel view

  for (uint b = gl_SubgroupID; b < blocks; b += gl_NumSubgroups) {
    const uint row0 = row_group * ROWS_PER_WORKGROUP + b * ROWS_PER_SUBGROUP;
    if (row0 >= p.rows) break;
    [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) rows[r] = min(row0 + r, p.rows - 1u);
    [[unroll]] for (uint i = 0; i < ROWS_PER_SUBGROUP * TOKENS; ++i) acc[i] = 0.0;
    for (uint t = lane; t < whole; t += lanes) accumulateTexel(t, true);
    for (uint t = whole + lane; t < texels; t += lanes) accumulateTexel(t, false);
    [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) {
      [[unroll]] for (uint j = 0; j < TOKENS; ++j) {
        const float s = subgroupAdd(acc[r * TOKENS + j]);
        if (lane == 0u && row0 + r < p.rows && tok0 + j < p.m_tokens) {
          y_[(tok0 + j) * p.n + p.row_offset + row0 + r] = p.softcap > 0.0 ? p.softcap * safeTanh(s / p.softcap) : s;
        }
      }
    }
  }
}
