#version 460
// matmul_int8_tiled: prefill product on int8 activations, Y[m][row_offset + r] = sum_k W[r][k] X[m][k]
// for the rows r < rows of one q8_0 / q4_0 weight chunk and the tokens m < M, with X quantized per
// 32-value block (quantize_activations.comp): per block an exact int32 sum of int8 x int8 products
// (dotPacked4x8EXT, 4 values per instruction), then acc += float(sum) * dw * dx in f32.
// Variants (-D): WEIGHT_Q8_0, WEIGHT_Q4_0.
// Bindings: 0: XQ [M][blocks][2] uvec4 storage, read: the int8 activations
//           1: Y [M][N] f32 storage, write (only columns [row_offset, row_offset + rows))
//           2: XS [M][blocks] vec2 storage, read: (dx, dx * sum qx) per block
//           3: W data [rows][row_texels] RGBA32UI uniform texel buffer (host/device/weight_matrix.h layout)
//           4: W scales [rows][row_scales] f16 packed in RGBA32UI texels
// Push: MatMulParams (params/matmul_params.h; row_scales = blocks per row of W and X).
// Spec: 0 workgroup size, must be (TILE_M / THREAD_M) * (TILE_N / THREAD_N) = 256.
// Grid: linear workgroup index g < groups; row tile g % row_groups, token tile g / row_groups.
// Design: matmul_tiled.comp's shared-memory tiling on int8. A workgroup owns TILE_M = 32 tokens x
// TILE_N = 64 weight rows and walks K two blocks (64 values) per step: its 256 invocations load
// the step's int8 x tile (32 tokens x 2 blocks x 32 bytes: 128 16-byte loads) and weight tile (64
// rows x 2 blocks: q8_0 256 texels, q4_0 128 texels whose nibbles become signed int8 bytes here,
// once per tile instead of once per token) with their scales into shared memory (word-major, so
// neighbouring invocations read neighbouring words), then each invocation adds THREAD_M x
// THREAD_N = 2 x 4 outputs: per block 8 packed-word dot products per output, 64 per block, exact
// in int32, and 8 f32 multiply-adds. Every weight byte loaded serves 32 tokens, every x byte 64 rows.
// Shared memory: 4 KiB weights + 2 KiB x + 0.75 KiB scales.
// Launch geometry (host/ops/matmul_int8.cpp): workgroups = ceil(rows / 64) x ceil(M / 32), 256
// invocations each. A 512-token chunk: E2B o_proj (1536 rows) 24 x 16 = 384 workgroups, E2B
// gate|up (12288 rows) 3072, 31B q|k|v (16384 rows) 4096, 31B down (5376 rows) 1344: several per
// SM of a 132-SM GPU; 64 tokens (the default batch): 1/8 of those. Serial work of an invocation:
// ceil(K / 64) steps (E2B K = 1536: 24; 31B down K = 21504: 336) of 128 dot products each.
// Dispatched by host/ops/matmul_int8.cpp, once per weight chunk.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_integer_dot_product : require
#include "params/matmul_params.h"
#include "math.glsl"
#include "int8_weights.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 1) writeonly buffer Y { float y_[]; };
layout(push_constant) uniform Push { MatMulParams p; };

const uint TILE_M = 32;      // tokens per workgroup
const uint TILE_N = 64;      // weight rows per workgroup
const uint STEP_BLOCKS = 2;  // quantization blocks per step (64 values of K)
const uint WORDS = 8;        // packed int8 words per block
const uint THREAD_M = 2;     // tokens per invocation (strided by TILE_M / THREAD_M)
const uint THREAD_N = 4;     // rows per invocation (strided by TILE_N / THREAD_N)
const uint THREADS = (TILE_M / THREAD_M) * (TILE_N / THREAD_N);  // 256

shared uint x_tile[STEP_BLOCKS * WORDS][TILE_M];  // x_tile[word][m]: 2 KiB
shared uint w_tile[STEP_BLOCKS * WORDS][TILE_N];  // w_tile[word][n], signed int8: 4 KiB
shared float xd_tile[STEP_BLOCKS][TILE_M];        // dx per token and block
shared float wd_tile[STEP_BLOCKS][TILE_N];        // dw per row and block

void main() {
  const uint g = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (g >= p.groups) return;  // uniform per workgroup: safe before the barriers
  const uint row0 = (g % p.row_groups) * TILE_N, tok0 = (g / p.row_groups) * TILE_M;
  const uint id = gl_LocalInvocationIndex;
  const uint tm = id / (TILE_N / THREAD_N), tn = id % (TILE_N / THREAD_N);
  const uint blocks = p.row_scales;
  const uint steps = (blocks + STEP_BLOCKS - 1u) / STEP_BLOCKS;

  float acc[THREAD_M][THREAD_N];
  [[unroll]] for (uint i = 0; i < THREAD_M; ++i)
    [[unroll]] for (uint j = 0; j < THREAD_N; ++j) acc[i][j] = 0.0;

  for (uint s = 0; s < steps; ++s) {
    const uint b0 = s * STEP_BLOCKS;
    // x tile: TILE_M tokens x STEP_BLOCKS blocks x 2 halves; item w -> token w % TILE_M.
    for (uint w = id; w < TILE_M * STEP_BLOCKS * 2u; w += THREADS) {
      const uint m = w % TILE_M, half_ = (w / TILE_M) % 2u, sb = w / (2u * TILE_M), b = b0 + sb;
      const bool real = tok0 + m < p.m_tokens && b < blocks;
      const uvec4 v = real ? xq_[((tok0 + m) * blocks + b) * 2u + half_] : uvec4(0u);
      [[unroll]] for (uint c = 0; c < 4; ++c) x_tile[sb * WORDS + 4u * half_ + c][m] = v[c];
      if (half_ == 0u) xd_tile[sb][m] = real ? xs_[(tok0 + m) * blocks + b].x : 0.0;
    }
    // w tile: TILE_N rows x STEP_BLOCKS blocks x TEXELS_PER_BLOCK texels; item w -> row w % TILE_N.
    for (uint w = id; w < TILE_N * STEP_BLOCKS * TEXELS_PER_BLOCK; w += THREADS) {
      const uint n = w % TILE_N, tx = (w / TILE_N) % TEXELS_PER_BLOCK, sb = w / (TILE_N * TEXELS_PER_BLOCK);
      const uint b = b0 + sb;
      const bool real = row0 + n < p.rows && b < blocks;
      const uvec4 t = real ? texelFetch(w_data, int((row0 + n) * p.row_texels + b * TEXELS_PER_BLOCK + tx)) : uvec4(0u);
#if defined(WEIGHT_Q8_0)
      [[unroll]] for (uint c = 0; c < 4; ++c) w_tile[sb * WORDS + 4u * tx + c][n] = t[c];
#else
      // Uint c holds values 8c .. 8c + 7 as nibbles: two words of signed int8. Rows and blocks
      // past the chunk are zeros (a zero texel would become -8s; their scale is 0 as well).
      [[unroll]] for (uint c = 0; c < 4; ++c) {
        w_tile[sb * WORDS + 2u * c][n] = real ? minus8(spreadNibbles(t[c] & 0xFFFFu)) : 0u;
        w_tile[sb * WORDS + 2u * c + 1u][n] = real ? minus8(spreadNibbles(t[c] >> 16)) : 0u;
      }
#endif
      if (tx == 0u) wd_tile[sb][n] = real ? blockScale(row0 + n, b, p.row_scales) : 0.0;
    }
    barrier();
    [[unroll]] for (uint sb = 0; sb < STEP_BLOCKS; ++sb) {
      int isum[THREAD_M][THREAD_N];
      [[unroll]] for (uint i = 0; i < THREAD_M; ++i)
        [[unroll]] for (uint j = 0; j < THREAD_N; ++j) isum[i][j] = 0;
      [[unroll]] for (uint k = 0; k < WORDS; ++k) {
        uint a[THREAD_M], bw[THREAD_N];
        [[unroll]] for (uint i = 0; i < THREAD_M; ++i) a[i] = x_tile[sb * WORDS + k][tm + i * (TILE_M / THREAD_M)];
        [[unroll]] for (uint j = 0; j < THREAD_N; ++j) bw[j] = w_tile[sb * WORDS + k][tn + j * (TILE_N / THREAD_N)];
        [[unroll]] for (uint i = 0; i < THREAD_M; ++i)
          [[unroll]] for (uint j = 0; j < THREAD_N; ++j) isum[i][j] += dot4(a[i], bw[j]);
      }
      [[unroll]] for (uint i = 0; i < THREAD_M; ++i) {
        const float dx = xd_tile[sb][tm + i * (TILE_M / THREAD_M)];
        [[unroll]] for (uint j = 0; j < THREAD_N; ++j)
          acc[i][j] += float(isum[i][j]) * (wd_tile[sb][tn + j * (TILE_N / THREAD_N)] * dx);
      }
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
