#version 460
// matmul_tiled: prefill product for GPUs, Y[m][row_offset + r] = sum_k W[r][k] * X[m][k] for the
// rows r < rows of one weight chunk and the tokens m < M; f32 accumulation whatever the weight type.
// Variants (-D): WEIGHT_<FMT> for every weight format (shaders/weight_formats.cmake; the format
// table host/formats/format_traits.h), each decoded by common/weight_texel.glsl: the float and
// q8_0 / q4_0 texels directly, the ggml block formats on the affine-texel path (value = scale * code
// + bias per 32-value texel, the bias from the sub-block min) with q4_0's geometry.
// Bindings (as matmul.comp): 0: X [M][K] f32 storage, read (the partial last quad of a row only)
//           1: Y [M][N] f32 storage, write (only columns [row_offset, row_offset + rows))
//           2: the same X as RGBA32UI texels
//           3: W data [rows][row_texels] RGBA32UI uniform texel buffer (host/device/weight_matrix.h layout)
//           4: W scales [rows][row_scales] f16 packed in RGBA32UI texels (q8_0 / q4_0 only)
// Push: MatMulParams (params/matmul_params.h).
// Spec: 0 workgroup size, must be (TILE_M / THREAD_M) * (TILE_N / THREAD_N) = 256.
// Grid: linear workgroup index g < groups; row tile g % row_groups, token tile g / row_groups.
// Design: the classic shared-memory tiling. A workgroup owns a tile of TILE_M tokens x TILE_N
// weight rows and walks K in steps of one quantization block (32 values): all invocations first
// decode the step's weight tile and load its x tile into shared memory (both stored k-major, so
// neighbouring invocations touch neighbouring words), then each invocation accumulates
// THREAD_M x THREAD_N outputs from it. Every weight value is decoded once per token tile instead of
// once per 8 tokens (matmul.comp), so weights travel TILE_M / 8 times less often. For devices with
// plentiful shared memory bandwidth (GPUs); lavapipe prefers matmul.comp (docs/lavapipe.md).
// Launch geometry: 256 invocations (16 x 16, 2 tokens x 4 rows each); ceil(N / 64) x ceil(M / 32)
// workgroups; 12 KiB of shared memory; per invocation K / 32 steps of 256 FMAs (8 accumulators),
// one x quad and one weight texel fetched, two barriers. A 512-token prompt (M = 512, 16 token
// tiles): E2B gate|up (N = 12288) 3072 workgroups, down (N = 1536, K = 6144: 192 steps) 384, about
// 3 per SM of a 132-SM GPU; 31B gate|up (N = 43008) 10752, down (N = 5376, K = 21504: 672 steps)
// 1344. Short prompts are few token tiles: GPUs with matrix units take matmul_coopmat.comp.
// Dispatched by host/ops/matmul.cpp, once per weight chunk.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "params/matmul_params.h"
#include "math.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x_[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4_[]; };  // the same X, by quads
layout(std430, binding = 1) writeonly buffer Y { float y_[]; };
layout(push_constant) uniform Push { MatMulParams p; };

#define X_TEXEL_BINDING 2
#define WEIGHT_DATA_BINDING 3
#define WEIGHT_SCALES_BINDING 4
#include "weight_texel.glsl"  // x texels at 2, weight views at 3 (data) and 4 (scales)

const uint TILE_M = 32;   // tokens per workgroup
const uint TILE_N = 64;   // weight rows per workgroup
const uint STEP_K = 32;   // K values per step: one quantization block
const uint THREAD_M = 2;  // tokens per invocation (strided by TILE_M / THREAD_M)
const uint THREAD_N = 4;  // rows per invocation (strided by TILE_N / THREAD_N)
const uint THREADS = (TILE_M / THREAD_M) * (TILE_N / THREAD_N);  // 256
const uint TEXELS_PER_STEP = STEP_K / VPT;                         // weight texels per row and step

// Both tiles are stored k-major and grouped by the invocation that reads them: x_tile[k][tm] holds
// the THREAD_M tokens tm, tm + 16 and w_tile[k][tn] the THREAD_N rows tn, tn + 16, tn + 32, tn + 48
// (decoded and scaled), so the inner product step reads one vec2 and one vec4 (a 16-byte shared
// load; 16 invocations read 256 consecutive bytes) instead of six scalars: a third of the
// shared-memory instructions on GPUs, and far fewer per-lane gathers on CPU drivers (lavapipe
// spent 94% of this kernel's time in that inner loop). The stores, once per step, are 2-way
// bank-conflicted on 32-bank GPUs. The arithmetic and its order are unchanged.
shared vec2 x_tile[STEP_K][TILE_M / THREAD_M];  // 4 KiB
shared vec4 w_tile[STEP_K][TILE_N / THREAD_N];  // 8 KiB

void main() {
  const uint g = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (g >= p.groups) return;  // uniform per workgroup: safe before the barriers
  const uint row0 = (g % p.row_groups) * TILE_N, tok0 = (g / p.row_groups) * TILE_M;
  const uint id = gl_LocalInvocationIndex;
  const uint tm = id / (TILE_N / THREAD_N), tn = id % (TILE_N / THREAD_N);
  const uint steps = (p.k + STEP_K - 1u) / STEP_K;

  float acc[THREAD_M][THREAD_N];
  [[unroll]] for (uint i = 0; i < THREAD_M; ++i)
    [[unroll]] for (uint j = 0; j < THREAD_N; ++j) acc[i][j] = 0.0;

  for (uint s = 0; s < steps; ++s) {
    const uint k0 = s * STEP_K;
    // x tile: TILE_M tokens x 8 quads; quad item w -> token w % TILE_M, quad w / TILE_M.
    for (uint w = id; w < TILE_M * (STEP_K / 4u); w += THREADS) {
      const uint m = w % TILE_M, q = w / TILE_M, k = k0 + 4u * q;
      vec4 v = vec4(0.0);
      if (tok0 + m < p.m_tokens && k < p.k) {
        // loadX4 never reads past column K (it repeats x[K-1] there); zero those columns.
        v = loadX4((tok0 + m) * p.k, k, p.k);
        [[unroll]] for (uint c = 0; c < 4; ++c) v[c] = k + c < p.k ? v[c] : 0.0;
      }
      [[unroll]] for (uint c = 0; c < 4; ++c) x_tile[4u * q + c][m % (TILE_M / THREAD_M)][m / (TILE_M / THREAD_M)] = v[c];
    }
    // w tile: TILE_N rows x TEXELS_PER_STEP texels; item w -> row w % TILE_N, texel w / TILE_N.
    for (uint w = id; w < TILE_N * TEXELS_PER_STEP; w += THREADS) {
      const uint n = w % TILE_N, tx = w / TILE_N;
      const uint t = s * TEXELS_PER_STEP + tx;  // texel of the row
      const bool real = row0 + n < p.rows;
      WTexel data = weightTexel(int(min(row0 + n, p.rows - 1u) * p.row_texels), t);
      vec2 scale = vec2(0.0);  // (scale, bias); rows past the chunk: zeros
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
        [[unroll]] for (uint c = 0; c < 4; ++c)
          w_tile[tx * VPT + 4u * q + c][n % (TILE_N / THREAD_N)][n / (TILE_N / THREAD_N)] = v[c];
      }
    }
    barrier();
    [[unroll]] for (uint k = 0; k < STEP_K; ++k) {
      const vec2 a = x_tile[k][tm];
      const vec4 b = w_tile[k][tn];
      [[unroll]] for (uint i = 0; i < THREAD_M; ++i)
        [[unroll]] for (uint j = 0; j < THREAD_N; ++j) acc[i][j] += a[i] * b[j];
    }
    barrier();  // the tiles are rewritten by the next step
  }

  [[unroll]] for (uint i = 0; i < THREAD_M; ++i) {
    const uint m = tok0 + tm + i * (TILE_M / THREAD_M);
    if (m >= p.m_tokens) continue;
    [[unroll]] for (uint j = 0; j < THREAD_N; ++j) {
      const uint r = row0 + tn + j * (TILE_N / THREAD_N);
      if (r >= p.rows) continue;
      const float s = acc[i][j];
      y_[m * p.n + p.row_offset + r] = p.softcap > 0.0 ? p.softcap * safeTanh(s / p.softcap) : s;
    }
  }
}
