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
//       4-5 SG_M, SG_N: subgroups along tokens and rows; 6-7 FRAG_M, FRAG_N: fragments per subgroup;
//       8 STEP_K: K values per pipeline step, 64 where two buffers of the tile fit shared memory,
//       else 32 (FK divides 32).
// Tile: TILE_M = SG_M * FRAG_M * FM tokens x TILE_N = SG_N * FRAG_N * FN weight rows. Grid: linear
// workgroup g < groups; row tile g % row_groups, token tile g / row_groups.
//
// Pipeline (two shared buffers of each tile, one barrier per step):
//   prologue: fetch step 0 (global -> registers), store it to buffer 0, barrier;
//   step s:   fetch step s + 1 into registers (its loads are in flight during the multiply-adds),
//             multiply-add step s from buffer s % 2, store the registers to buffer (s + 1) % 2
//             (free: its readers finished step s - 1 before the barrier that ended it), barrier.
// Barriers per 64 K values: before this layout 2 (tile loaded -> barrier -> multiply-adds ->
// barrier, every global load waited for in the open); now 1 with 64-K steps and 2 with 32-K steps
// (48 KiB devices), and none between a load and the multiply-adds it overlaps. Each barrier
// separates STEP_K / FK x FRAG_M x FRAG_N unit multiply-adds per subgroup (16 at the default tile).
// Fetch: x as 16-byte texel pairs (8 consecutive k of one token, k fastest across invocations),
// rounded to f16 at once and held packed (a uvec4 per 8 values: half the registers of f32); weights
// as their 16-byte texels with their (scale, bias), dequantized at the store. Store: whole uvec4
// (8 halves) per 16-byte shared store, no 16-bit stores; rows are STEP_K + 8 halves (9 or 5 uvec4,
// odd: the 8 rows of a unit fragment load start in 8 different 16-byte bank groups) and the items
// of a store phase are arranged (tileItem) so that its 8 invocations hit 8 different groups too.
// Out: the accumulators leave through a per-subgroup staging fragment (inside the weight buffers,
// after the K loop), so edge tiles (M, rows not multiples of the tile) and the soft-cap are handled
// element by element.
//
// Geometry with the default plan (16x16x16 units, subgroup 32; SG 2x2, FRAG 2x4: 128 invocations,
// tile 64 tokens x 128 rows) at a 512-token prefill; the plan halves the tile (64x64, then 32x64)
// while a product has fewer than 2 workgroups per compute unit (pinned by tests/ops/
// launch_geometry_test.cpp, CoopMatPrefillProductsFillTheGpu):
//   E2B  hidden 1536 rows (q/o/kv-sized, K 1536 or 2048): tile 32x64 -> 24 x 16 = 384 workgroups
//        FFN 6144 rows:  64x128 -> 48 x 8 = 384;  FFN 12288 rows: 96 x 8 = 768
//   31B  hidden 5376 rows: 42 x 8 = 336 workgroups (K 5376; K 21504 for the down projection);
//        FFN 21504 rows: 168 x 8 = 1344 workgroups
//   vocabulary 262144 rows: 2048 x 8 = 16384 workgroups
// Shared memory: 2 x (TILE_M + TILE_N) x (STEP_K + 8) halves. H100/H200 (NVIDIA's Vulkan limit is
// 48 KiB a workgroup): 64x128 at 64-K steps would need 54 KiB, so 32-K steps, 30 KiB; 64x64 and
// 32x64 tiles at 64-K steps, 36 and 27 KiB. Mid-range AMD (RDNA 2/3: 64 KiB of LDS a workgroup,
// subgroup 64: 256 invocations) and Intel Arc (64 KiB): 64x128 at 64-K steps, 54 KiB.
// Registers per invocation (subgroup 32, default tile): accumulators 2 x 4 fragments x 8 f32 = 64,
// A/B fragments 12, prefetch: x 2 uvec4 (8), weights 1-4 texels (q4_0 4 + scale, f16 16), indices
// ~20: about 110-125, so 4 workgroups (16 subgroups, 4 per matrix-unit partition) per H100/H200 SM
// by registers (64k / (128 x 128)) with 4 x 30 KiB of its 228 KiB shared memory; each partition
// interleaves 4 subgroups' multiply-adds with their own in-flight loads. On a 132-SM H200 the
// products above launch 336-16384 workgroups (2.5-124 per SM, 43k+ invocations). On a 32-64-CU
// AMD/Intel GPU the same grids are 5-500 workgroups per CU (wave64: 256 invocations, 2 per SIMD).
// Per 32-K step an invocation reads 2 x 8-value x chunks (4 texels) and 1 (q4_0), 2 (q8_0) or 4
// (f16/bf16) weight texels and writes 2 + 4 uvec4; each subgroup issues 2 x 4 x 2 = 16 unit
// multiply-adds from 2 x (2 + 4) fragment loads. Every weight byte loaded serves TILE_M (64)
// tokens, so at 512 tokens a q4_0 weight is read 8 times (E2B FFN: 8 x 5.3 MB, far below the
// arithmetic time at matrix-unit rates).
// Numerics: x is rounded to f16 (values past 65504 would become infinities: Gemma's product inputs
// are normalized activations, well inside), weights to f16 after dequantization (bf16 loses its
// wider exponent: |w| < 6e-5 becomes subnormal); products and sums are f32. The f16 rounding is
// float16_t()'s, as before the packing (the op tests compare against f16-rounded inputs at 1e-10).
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
layout(constant_id = 8) const uint STEP_K = 32;  // K values per step: 32 or 64

layout(std430, binding = 0) readonly buffer X { float x_[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4_[]; };  // the same X, by quads
layout(std430, binding = 1) writeonly buffer Y { float y_[]; };
layout(push_constant) uniform Push { MatMulParams p; };

#define X_TEXEL_BINDING 2
#define WEIGHT_DATA_BINDING 3
#define WEIGHT_SCALES_BINDING 4
#include "weight_texel.glsl"  // x texels at 2, weight views at 3 (data) and 4 (scales)

const uint WG = gl_WorkGroupSize.x;
const uint CHUNKS = STEP_K / 8u;         // 16-byte chunks (8 halves) per tile row and step
const uint ROW_U4 = CHUNKS + 1u;         // uvec4 per shared row: 16 bytes of padding
const uint A_STRIDE = ROW_U4 * 8u;       // halves per shared row (the fragment API's unit)
const uint B_STRIDE = A_STRIDE;
const uint TILE_M = SG_M * FRAG_M * FM;  // tokens per workgroup
const uint TILE_N = SG_N * FRAG_N * FN;  // weight rows per workgroup
const uint SUBGROUPS = SG_M * SG_N;
const uint A_BUF = TILE_M * ROW_U4;      // uvec4 per x buffer
const uint B_BUF = TILE_N * ROW_U4;      // uvec4 per weight buffer

#define COOPMAT_A_PACKED 1
#define COOPMAT_B_PACKED 1
#define COOPMAT_STAGE_IN_B 1
shared uvec4 a_sh[2 * A_BUF];  // x tiles (two buffers), row-major [token][k], f16 pairs
shared uvec4 b_sh[2 * B_BUF];  // weight tiles, [row][k] = B column-major; after the K loop one
                               // FM x FN f32 staging fragment per subgroup (fragStore, fragStaged)

#include "coopmat_fragment.glsl"

// The fragment loops unroll on the matrix units (the accumulators must stay in registers); the
// emulation keeps them rolled: unrolled, its inlined multiply-adds take lavapipe minutes to compile.
#ifdef COOPMAT_EMULATED
#define FRAG_LOOP [[dont_unroll]]
#else
#define FRAG_LOOP [[unroll]]
#endif

// Tile item i (of rows x IPR items, IPR items of CPI chunks per row and step) -> (row, item of the
// row), arranged so that the 8 invocations of a 16-byte-store phase write 8 different 16-byte bank
// groups. With 64-K steps a row is 9 uvec4 (9 = 1 mod 8): rows in order already do. With 32-K steps
// a row is 5 uvec4: two neighbouring rows would meet (5r + c: rows 0 and 1 both reach group 0), so
// a phase takes rows {r, r + 4} (x, f16), {r, r + 1, r + 4, r + 5} (q8_0) or r .. r + 7 (one item a
// row), whose 5r mod 8 offsets interleave. Tiles have multiples of 8 rows.
uvec2 tileItem(uint i, uint ipr) {
  if (STEP_K != 32u) return uvec2(i / ipr, i % ipr);
  const uint j = i & 7u, g = i >> 3u, half_rows = 4u / ipr, jr = j / ipr;
  const uint row = (g / ipr) * 8u + (g % ipr) * half_rows + (jr < half_rows ? jr : jr + 4u - half_rows);
  return uvec2(row, j % ipr);
}

uint packF16(vec2 v) { return packFloat2x16(f16vec2(v)); }  // f32 -> f16 as float16_t() rounds

// ---- the x tile: TILE_M tokens x CHUNKS chunks of 8 values, f16 in registers ----
const uint X_ITEMS = (TILE_M * CHUNKS + WG - 1u) / WG;
uvec4 xr[X_ITEMS];

void fetchX(uint tok0, uint k0) {
  [[unroll]] for (uint j = 0; j < X_ITEMS; ++j) {
    const uint i = gl_LocalInvocationIndex + j * WG;
    const uvec2 it = tileItem(i, CHUNKS);
    const uint m = it.x, k = k0 + 8u * it.y;
    vec4 lo = vec4(0.0), hi = vec4(0.0);
    if (i < TILE_M * CHUNKS && tok0 + m < p.m_tokens && k < p.k) {
      lo = loadX4((tok0 + m) * p.k, k, p.k);  // repeats x[K-1] past column K: zero those
      hi = k + 4u < p.k ? loadX4((tok0 + m) * p.k, k + 4u, p.k) : vec4(0.0);
      [[unroll]] for (uint c = 0; c < 4; ++c) {
        lo[c] = k + c < p.k ? lo[c] : 0.0;
        hi[c] = k + 4u + c < p.k ? hi[c] : 0.0;
      }
    }
    xr[j] = uvec4(packF16(lo.xy), packF16(lo.zw), packF16(hi.xy), packF16(hi.zw));
  }
}

void storeX(uint buf) {
  [[unroll]] for (uint j = 0; j < X_ITEMS; ++j) {
    const uint i = gl_LocalInvocationIndex + j * WG;
    const uvec2 it = tileItem(i, CHUNKS);
    if (i < TILE_M * CHUNKS) a_sh[buf * A_BUF + it.x * ROW_U4 + it.y] = xr[j];
  }
}

// ---- the weight tile: TILE_N rows x W_IPR texels, as loaded (dequantized when stored) ----
const uint W_IPR = STEP_K / VPT;                // texels per row and step (VPT <= 32 <= STEP_K)
const uint W_CPI = VPT / 8u;                    // 16-byte chunks per texel
const uint W_ITEMS = (TILE_N * W_IPR + WG - 1u) / WG;
WTexel wr[W_ITEMS];
vec2 ws[W_ITEMS];  // (scale, bias) of the texel; 0 for rows past the chunk and texels past the row

void fetchW(uint row0, uint s) {
  [[unroll]] for (uint j = 0; j < W_ITEMS; ++j) {
    const uint i = gl_LocalInvocationIndex + j * WG;
    const uvec2 it = tileItem(i, W_IPR);
    const uint n = it.x, t = s * W_IPR + it.y;  // texel of the row
    // Rows past the chunk and texels past the padded row (last step) read a real texel and
    // scale it by zero. K-quant row_texels counts data texels (more than the row's 32-value
    // texels), and their rows are padded to 256 values, a whole number of steps.
    const bool real = i < TILE_N * W_IPR && row0 + n < p.rows && t * VPT < p.k + VPT - 1u;
    wr[j] = weightTexel(int(min(row0 + n, p.rows - 1u) * p.row_texels), real ? t : 0u);
    vec2 scale = vec2(0.0);
    if (real) {
#ifdef WEIGHT_KQUANT
      scale = weightAffine(row0 + n, t, p.row_scales);
#else
      scale.x = weightScale(row0 + n, t, p.row_scales);
#endif
    }
    ws[j] = scale;
  }
}

void storeW(uint buf) {
  [[unroll]] for (uint j = 0; j < W_ITEMS; ++j) {
    const uint i = gl_LocalInvocationIndex + j * WG;
    const uvec2 it = tileItem(i, W_IPR);
    if (i >= TILE_N * W_IPR) continue;
    [[unroll]] for (uint c = 0; c < W_CPI; ++c) {
      const vec4 v0 = weightQuad(wr[j], 2u * c) * ws[j].x + ws[j].y;
      const vec4 v1 = weightQuad(wr[j], 2u * c + 1u) * ws[j].x + ws[j].y;
      b_sh[buf * B_BUF + it.x * ROW_U4 + it.y * W_CPI + c] =
          uvec4(packF16(v0.xy), packF16(v0.zw), packF16(v1.xy), packF16(v1.zw));
    }
  }
}

void main() {
  const uint g = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (g >= p.groups) return;  // uniform per workgroup: safe before the barriers
  const uint row0 = (g % p.row_groups) * TILE_N, tok0 = (g / p.row_groups) * TILE_M;
  const uint sg = fragSubgroup();
  const uint sg_tok = (sg / SG_N) * FRAG_M * FM, sg_row = (sg % SG_N) * FRAG_N * FN;  // within the tile
  const uint steps = (p.k + STEP_K - 1u) / STEP_K;

  FragC acc[FRAG_M][FRAG_N];
  FRAG_LOOP for (uint i = 0; i < FRAG_M; ++i)
    FRAG_LOOP for (uint j = 0; j < FRAG_N; ++j) acc[i][j] = fragZero();

  // Prologue: step 0 into buffer 0.
  fetchX(tok0, 0u);
  fetchW(row0, 0u);
  storeX(0u);
  storeW(0u);
  barrier();
  for (uint s = 0; s < steps; ++s) {
    const uint cur = s & 1u;
    const bool more = s + 1u < steps;  // uniform
    // Step s + 1's loads are issued before step s's multiply-adds and land in registers meanwhile.
    if (more) {
      fetchX(tok0, (s + 1u) * STEP_K);
      fetchW(row0, s + 1u);
    }
    FRAG_LOOP for (uint kk = 0; kk < STEP_K; kk += FK) {
      FragA a[FRAG_M];
      FRAG_LOOP for (uint i = 0; i < FRAG_M; ++i) a[i] = fragLoadA(cur * A_BUF * 8u + (sg_tok + i * FM) * A_STRIDE + kk);
      FRAG_LOOP for (uint j = 0; j < FRAG_N; ++j) {
        const FragB b = fragLoadB(cur * B_BUF * 8u + (sg_row + j * FN) * B_STRIDE + kk);
        FRAG_LOOP for (uint i = 0; i < FRAG_M; ++i) acc[i][j] = fragMulAdd(a[i], b, acc[i][j]);
      }
    }
    // The other buffer's last readers were step s - 1's multiply-adds, which every invocation
    // finished before the barrier that ended step s - 1: it is free without a barrier of its own.
    if (more) {
      storeX(cur ^ 1u);
      storeW(cur ^ 1u);
    }
    barrier();  // buffer cur ^ 1 complete for step s + 1; buffer cur free for step s + 2
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
          const float v = fragStaged(stage + e);
          y_[m * p.n + p.row_offset + r] = p.softcap > 0.0 ? p.softcap * safeTanh(v / p.softcap) : v;
        }
      }
      barrier();  // the staging fragment is rewritten next
    }
  }
}
