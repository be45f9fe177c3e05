#version 460
// matmul_coopmat: prefill product on matrix units (VK_KHR_cooperative_matrix),
// Y[m][row_offset + r] = sum_k W[r][k] * X[m][k] for the rows r < rows of one weight chunk and the
// tokens m < M; weights and x rounded to f16 in shared memory, f32 accumulation.
// Variants (-D): WEIGHT_<FMT> for every weight format but F32 (shaders/weight_formats.cmake; f32
// weights stay on matmul_tiled.comp); with COOPMAT_EMULATED=1 the same kernel on emulated fragments
// (common/coopmat_fragment.glsl), so lavapipe tests everything but the matrix-unit intrinsics.
// Bindings (as matmul_tiled.comp): 0: X [M][K] f32 storage, read (the partial last quad of a row only)
//           1: Y [M][N] f32 storage, write (only columns [row_offset, row_offset + rows))
//           2: the same X as RGBA32UI texels
//           3: W data [rows][row_texels] RGBA32UI uniform texel buffer (host/device/weight_matrix.h layout)
//           4: W scales [rows][row_scales] f16 packed in RGBA32UI texels (q8_0 / q4_0 only)
// Push: MatMulParams (params/matmul_params.h).
// Spec: 0 workgroup size = SG_M * SG_N * lanes (lanes: the device's subgroup size; 8 emulated);
//       1-3 FM, FN, FK: the unit's shape (tokens x rows x K), from the device's reported f16 x f16
//       -> f32 subgroup shapes (host/ops/plans/matmul_coopmat_plan.cpp; 16x16x16 where listed);
//       4-5 SG_M, SG_N: subgroups along tokens and rows; 6-7 FRAG_M, FRAG_N: fragments per subgroup.
// Tile: TILE_M = SG_M * FRAG_M * FM tokens x TILE_N = SG_N * FRAG_N * FN weight rows; K in steps of
// STEP_K = 64 (two quantization blocks). Grid: linear workgroup g < groups; row tile g % row_groups,
// token tile g / row_groups.
// Per step every invocation converts its share of the x tile (f32 -> f16, 16-byte texel loads, k
// fastest across neighbouring invocations) and dequantizes its share of the weight tile (one 16-byte
// texel at a time: 32 q4_0 values, 16 q8_0, 8 f16/bf16) into shared memory; after a barrier each
// subgroup multiplies its FRAG_M x FRAG_N accumulator fragments with STEP_K / FK unit steps
// (FRAG_M A and FRAG_N B fragments loaded from shared per step, reused across the other side).
// The accumulators leave through a per-subgroup staging fragment in shared memory, so edge tiles
// (M, rows not multiples of the tile) and the soft-cap are handled element by element.
//
// Geometry with the default plan (16x16x16 units, subgroup 32; SG 2x2, FRAG 2x4: 128 invocations,
// tile 64 tokens x 128 rows) at a 512-token prefill; the plan halves the tile (64x64, then 32x64)
// while a product has fewer than 2 workgroups per compute unit:
//   E2B  hidden 1536 rows (q/o/kv-sized, K 1536 or 2048): tile 32x64 -> 24 x 16 = 384 workgroups
//        FFN 6144 rows:  64x128 -> 48 x 8 = 384;  FFN 12288 rows: 96 x 8 = 768;  K = 1536: 24 steps
//   31B  hidden 5376 rows: 42 x 8 = 336 workgroups (K 5376: 84 steps; K 21504 for the down
//        projection: 336 steps);  FFN 21504 rows: 168 x 8 = 1344 workgroups
//   vocabulary 262144 rows: 2048 x 8 = 16384 workgroups
// Per step an invocation reads 8 x texels (64 tokens x 64 K / 4 per texel / 128) and 2 (q4_0), 4
// (q8_0) or 8 (f16/bf16) weight texels, and each subgroup issues 2 x 2 x 4 = 16 unit
// multiply-adds (16x16x16) from 2 + 4 fragment loads per 16-K step.
// Shared memory (16x16 units, default tile): A 64 x 72 f16 (9 KiB) + B 128 x 72 f16 (18 KiB) +
// staging 4 x 256 f32 (4 KiB) = 31 KiB: with 228 KiB per H100/H200 SM, several workgroups fit, so
// one SM's 4 matrix-unit partitions see 8-28 subgroups, enough to overlap one workgroup's tile loads
// with another's multiply-adds. On a 132-SM H200: 31B's products launch 336-1344 workgroups
// (2.5-10 per SM, 43k-172k invocations), E2B's 384-768. Every weight byte loaded serves TILE_M (64)
// tokens, so at 512 tokens a q4_0 weight is read 8 times (E2B FFN: 8 x 5.3 MB, far below the
// arithmetic time at matrix-unit rates).
// Numerics: x is rounded to f16 (values past 65504 would become infinities: Gemma's product inputs
// are normalized activations, well inside), weights to f16 after dequantization (bf16 loses its
// wider exponent: |w| < 6e-5 becomes subnormal); products and sums are f32.
// Dispatched by host/ops/matmul_coopmat.cpp, once per weight chunk.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#include "params/matmul_params.h"
#include "math.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FM = 16;
layout(constant_id = 2) const uint FN = 16;
layout(constant_id = 3) const uint FK = 16;
layout(constant_id = 4) const uint SG_M = 2;
layout(constant_id = 5) const uint SG_N = 2;
layout(constant_id = 6) const uint FRAG_M = 2;
layout(constant_id = 7) const uint FRAG_N = 4;

layout(std430, binding = 0) readonly buffer X { float x_[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4_[]; };  // the same X, by quads
layout(std430, binding = 1) writeonly buffer Y { float y_[]; };
layout(push_constant) uniform Push { MatMulParams p; };

#define X_TEXEL_BINDING 2
#define WEIGHT_DATA_BINDING 3
#define WEIGHT_SCALES_BINDING 4
#include "weight_texel.glsl"  // x texels at 2, weight views at 3 (data) and 4 (scales)

const uint STEP_K = 64;               // K values per step: two quantization blocks
const uint A_STRIDE = STEP_K + 8;     // f16 per shared row: 16 bytes of padding against bank conflicts
const uint B_STRIDE = STEP_K + 8;
const uint TILE_M = SG_M * FRAG_M * FM;  // tokens per workgroup
const uint TILE_N = SG_N * FRAG_N * FN;  // weight rows per workgroup
const uint SUBGROUPS = SG_M * SG_N;

shared float16_t a_sh[TILE_M * A_STRIDE];  // x tile, row-major [token][k]
shared float16_t b_sh[TILE_N * B_STRIDE];  // weight tile, [row][k] = B column-major
shared float c_sh[SUBGROUPS * FM * FN];    // one staging fragment per subgroup

#include "coopmat_fragment.glsl"

// The fragment loops unroll on the matrix units (the accumulators must stay in registers); the
// emulation keeps them rolled: unrolled, its inlined multiply-adds take lavapipe minutes to compile.
#ifdef COOPMAT_EMULATED
#define FRAG_LOOP [[dont_unroll]]
#else
#define FRAG_LOOP [[unroll]]
#endif

void main() {
  const uint g = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (g >= p.groups) return;  // uniform per workgroup: safe before the barriers
  const uint row0 = (g % p.row_groups) * TILE_N, tok0 = (g / p.row_groups) * TILE_M;
  const uint id = gl_LocalInvocationIndex, threads = gl_WorkGroupSize.x;
  const uint sg = fragSubgroup();
  const uint sg_tok = (sg / SG_N) * FRAG_M * FM, sg_row = (sg % SG_N) * FRAG_N * FN;  // within the tile
  const uint steps = (p.k + STEP_K - 1u) / STEP_K;
  const uint TEXELS_PER_STEP = STEP_K / VPT;  // weight texels per row and step

  FragC acc[FRAG_M][FRAG_N];
  FRAG_LOOP for (uint i = 0; i < FRAG_M; ++i)
    FRAG_LOOP for (uint j = 0; j < FRAG_N; ++j) acc[i][j] = fragZero();

  for (uint s = 0; s < steps; ++s) {
    const uint k0 = s * STEP_K;
    // x tile: TILE_M tokens x STEP_K / 4 quads; item w -> token w / 16, quad w % 16 (k fastest).
    for (uint w = id; w < TILE_M * (STEP_K / 4u); w += threads) {
      const uint m = w / (STEP_K / 4u), q = w % (STEP_K / 4u), k = k0 + 4u * q;
      vec4 v = vec4(0.0);
      if (tok0 + m < p.m_tokens && k < p.k) {
        v = loadX4((tok0 + m) * p.k, k, p.k);  // repeats x[K-1] past column K: zero those
        [[unroll]] for (uint c = 0; c < 4; ++c) v[c] = k + c < p.k ? v[c] : 0.0;
      }
      [[unroll]] for (uint c = 0; c < 4; ++c) a_sh[m * A_STRIDE + 4u * q + c] = float16_t(v[c]);
    }
    // weight tile: TILE_N rows x TEXELS_PER_STEP texels; item w -> row w / TEXELS_PER_STEP.
    for (uint w = id; w < TILE_N * TEXELS_PER_STEP; w += threads) {
      const uint n = w / TEXELS_PER_STEP, tx = w % TEXELS_PER_STEP;
      const uint t = s * TEXELS_PER_STEP + tx;  // texel of the row
      // Rows past the chunk and texels past the padded row (last step) read a real texel and
      // scale it by zero. K-quant row_texels counts data texels (more than the row's 32-value
      // texels), and their rows are padded to 256 values, a whole number of steps.
      const bool real = row0 + n < p.rows && t * VPT < p.k + VPT - 1u;
      WTexel data = weightTexel(int(min(row0 + n, p.rows - 1u) * p.row_texels), real ? t : 0u);
      vec2 scale = vec2(0.0);  // (scale, bias)
      if (real) {
#ifdef WEIGHT_KQUANT
        scale = weightAffine(row0 + n, t, p.row_scales);
#else
        scale.x = weightScale(row0 + n, t, p.row_scales);
#endif
      }
      [[unroll]] for (uint q = 0; q < QPT; ++q) {
#ifdef WEIGHT_KQUANT
        const vec4 v = weightQuad(data, q) * scale.x + scale.y;
#else
        const vec4 v = weightQuad(data, q) * scale.x;
#endif
        [[unroll]] for (uint c = 0; c < 4; ++c) b_sh[n * B_STRIDE + tx * VPT + 4u * q + c] = float16_t(v[c]);
      }
    }
    barrier();
    FRAG_LOOP for (uint kk = 0; kk < STEP_K; kk += FK) {
      FragA a[FRAG_M];
      FRAG_LOOP for (uint i = 0; i < FRAG_M; ++i) a[i] = fragLoadA((sg_tok + i * FM) * A_STRIDE + kk);
      FRAG_LOOP for (uint j = 0; j < FRAG_N; ++j) {
        const FragB b = fragLoadB((sg_row + j * FN) * B_STRIDE + kk);
        FRAG_LOOP for (uint i = 0; i < FRAG_M; ++i) acc[i][j] = fragMulAdd(a[i], b, acc[i][j]);
      }
    }
    barrier();  // the tiles are rewritten by the next step
  }

  // Out through this subgroup's staging fragment: bounds and soft-cap element by element.
  const uint stage = sg * FM * FN;
  FRAG_LOOP for (uint i = 0; i < FRAG_M; ++i) {
    FRAG_LOOP for (uint j = 0; j < FRAG_N; ++j) {
      fragStore(acc[i][j], stage);
      barrier();  // uniform: every subgroup stores the same number of fragments
      for (uint e = fragLane(); e < FM * FN; e += fragLanes()) {
        const uint m = tok0 + sg_tok + i * FM + e / FN, r = row0 + sg_row + j * FN + e % FN;
        if (m < p.m_tokens && r < p.rows) {
          const float v = c_sh[stage + e];
          y_[m * p.n + p.row_offset + r] = p.softcap > 0.0 ? p.softcap * safeTanh(v / p.softcap) : v;
        }
      }
      barrier();  // the staging fragment is rewritten next
    }
  }
}
