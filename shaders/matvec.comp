#version 460
// matvec: decode matrix-vector product, y[row_offset + r] = sum_k W[r][k] * x[k] for the rows
// r < rows of one weight chunk; f32 accumulation whatever the weight type.
// Variants (-D): WEIGHT_F32, WEIGHT_F16, WEIGHT_BF16, WEIGHT_Q8_0, WEIGHT_Q4_0, and two fusions of
// the gated feed-forward's gelu_tanh(gate) * up (each: one dispatch, one barrier and one trip of an
// activation through memory fewer):
//   GELU_PAIRS=1: the [gate | up] product writes y[j] = gelu(gate row j . x) * (up row j . x), the
//     gate and up rows of an output in the same subgroup (rows j and j + p.n of one chunk; p.rows
//     = outputs; ROWS_PER_SUBGROUP = 2 x outputs per subgroup): one gelu per output.
//   X_GELU_MUL=1: the input is x = gelu_tanh(gate) * up, computed as it is read (K % 4 == 0). Every
//     row block recomputes the gelu of all K inputs, so it is used only where K is small (the
//     per-layer-input projection, K = 256).
// Bindings: 0: x [K] f32 storage, read (only K values are read, never past them); X_GELU_MUL: gate
//           1: y [N] f32 storage, write (only [row_offset, row_offset + rows))
//           2: the same X as RGBA32UI texels (all whole texels; binding 0 serves the partial last
//              one); X_GELU_MUL: up [K] f32 storage, read
//           3: W data [rows][row_texels] RGBA32UI uniform texel buffer (host/weight_matrix.h layout)
//           4: W scales [rows][row_scales] f16 packed in RGBA32UI texels (q8_0 / q4_0 only)
// Push: MatMulParams (params/matmul_params.h; m_tokens is 1).
// Spec: 0 workgroup size; 1 ROWS_PER_SUBGROUP (rows one subgroup reduces at once, x reused across
//       them); 2 ROWS_PER_WORKGROUP (a multiple of ROWS_PER_SUBGROUP).
// Design: weights through texel views (16-byte loads), each subgroup takes ROWS_PER_SUBGROUP rows
// with its lanes striding along K one texel at a time, two texels per step (2 x ROWS_PER_SUBGROUP
// independent 16-byte weight loads in flight per lane; consecutive lanes read consecutive texels of
// a row: coalesced), one subgroupAdd per row at the end, no shared memory. Correct for any subgroup
// size (lanes are counted with subgroup arithmetic, so even partial subgroups work) and any number
// of subgroups per workgroup.
// Launch geometry (host/ops/matvec_plan.cpp; tests/ops/launch_geometry_test.cpp pins it): rows per
// subgroup x subgroups per workgroup = the largest of 4x4, 2x4, 1x4, 1x2, 1x1 that still gives 4
// workgroups per compute unit (GELU_PAIRS: planned on outputs, each reading 2 rows). On a 132-SM GPU
// (subgroup 32), q4_0: E2B o_proj 1536 rows -> 1x2, 768 workgroups of 64; E2B gate|up pairs, 6144
// outputs -> 2x4, 768 of 128 (4 weight rows per subgroup), 12288 on the double-wide layers -> 4x4,
// 768; 31B gate|up pairs, 21504 outputs -> 4x4, 1344 (8 weight rows per subgroup); 31B down 5376
// rows -> 2x4, 672; the 262144-row head -> 4x4, 16384. Serial work of a lane: ceil(row texels / 32)
// texels per row (31B down, K = 21504 q4_0: 21 texels = 336 bytes of each of its rows).
// Dispatched by host/ops/matmul.cpp (MatMul with M == 1), once per weight chunk.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
#include "params/matmul_params.h"
#include "math.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS_PER_SUBGROUP = 4;
layout(constant_id = 2) const uint ROWS_PER_WORKGROUP = 32;

layout(std430, binding = 0) readonly buffer X { float x_[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4_[]; };  // the same X, by quads
layout(std430, binding = 1) writeonly buffer Y { float y_[]; };
layout(push_constant) uniform Push { MatMulParams p; };

#ifdef X_GELU_MUL
layout(std430, binding = 2) readonly buffer Up { vec4 up4_[]; };
// Quad i of x (values 4i..4i+3), made from gate and up as the separate gelu_mul op makes them.
vec4 xQuad(uint i) {
  const vec4 g = x4_[i];
  return vec4(geluTanh(g.x), geluTanh(g.y), geluTanh(g.z), geluTanh(g.w)) * up4_[i];
}
#else
#define X_TEXEL_BINDING 2
#endif
#define WEIGHT_DATA_BINDING 3
#define WEIGHT_SCALES_BINDING 4
#include "weight_texel.glsl"  // x texels at 2 (unless X_GELU_MUL), weight views at 3 (data) and 4 (scales)
#ifndef X_GELU_MUL
vec4 xQuad(uint i) { return uintBitsToFloat(texelFetch(x_tex, int(i))); }
#endif

const uint R = ROWS_PER_SUBGROUP;
int base[R];  // first texel of each row of the block; rows past the chunk repeat the last
uint wrow[R]; // the weight row (in the chunk) of each row of the block
float acc[R];

#ifdef GELU_PAIRS
// Block rows r < R/2 are gate rows row0 + r, the others the matching up rows, p.n rows further
// (the [gate | up] stacking of the gate_up weight); each block writes R/2 outputs.
const uint OUT_PER_BLOCK = R / 2;
uint weightRow(uint row0, uint r) {
  const uint o = min(row0 + r % OUT_PER_BLOCK, p.rows - 1u);
  return r < OUT_PER_BLOCK ? o : o + p.n;
}
#else
const uint OUT_PER_BLOCK = R;
uint weightRow(uint row0, uint r) { return min(row0 + r, p.rows - 1u); }
#endif

// Adds texel t of each row of the block (w: the R weight texels, fetched by the caller so that
// several are in flight) times x (xq: the texel's x values) to acc.
void accumulateTexel(uint row0, uint t, const uvec4 w[R], const vec4 xq[QPT]) {
  // q4_0: sum((n - 8) x) = sum(n x) - 8 sum(x), the x sum shared by every row.
#if defined(WEIGHT_Q4_0)
  vec4 xs = vec4(0.0);
  [[unroll]] for (uint q = 0; q < QPT; ++q) xs += xq[q];
  const float offset = WEIGHT_OFFSET * (xs.x + xs.y + xs.z + xs.w);
#else
  const float offset = 0.0;
#endif
  [[unroll]] for (uint r = 0; r < R; ++r) {
    float d = -offset;
    [[unroll]] for (uint q = 0; q < QPT; ++q) d += dot(weightQuadRaw(w[r], q), xq[q]);
    acc[r] += d * weightScale(wrow[r], t, p.row_scales);
  }
}

void main() {
  const uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (wg >= p.groups) return;  // whole workgroups only: the grid rounds up
  const uint lane = subgroupExclusiveAdd(1u);
  const uint lanes = subgroupAdd(1u);
  const uint whole = p.k / VPT;  // texels whose x values are all real columns
  const uint blocks = ROWS_PER_WORKGROUP / R;

  for (uint b = gl_SubgroupID; b < blocks; b += gl_NumSubgroups) {
    const uint row0 = (wg * blocks + b) * OUT_PER_BLOCK;  // first output row of the block
    if (row0 >= p.rows) break;
    [[unroll]] for (uint r = 0; r < R; ++r) {
      wrow[r] = weightRow(row0, r);
      base[r] = int(wrow[r] * p.row_texels);
      acc[r] = 0.0;
    }
    // Whole texels take x from its texel view with no per-column checks (a branch per texel in
    // this loop cost lavapipe 1.5x); the partial last texel (K % VPT != 0) reads x through loadX4.
    // Two texels per step: all 2R weight loads are issued before any is used. Each lane still adds
    // its texels in ascending order, so the sums are those of a one-texel loop.
    uint t = lane;
    for (; t + lanes < whole; t += 2u * lanes) {
      uvec4 wa[R], wb[R];
      [[unroll]] for (uint r = 0; r < R; ++r) {
        wa[r] = texelFetch(w_data, base[r] + int(t));
        wb[r] = texelFetch(w_data, base[r] + int(t + lanes));
      }
      vec4 xq[QPT];
      [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = xQuad(t * QPT + q);
      accumulateTexel(row0, t, wa, xq);
      [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = xQuad((t + lanes) * QPT + q);
      accumulateTexel(row0, t + lanes, wb, xq);
    }
    if (t < whole) {
      uvec4 wa[R];
      [[unroll]] for (uint r = 0; r < R; ++r) wa[r] = texelFetch(w_data, base[r] + int(t));
      vec4 xq[QPT];
      [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = xQuad(t * QPT + q);
      accumulateTexel(row0, t, wa, xq);
    }
    if (whole * VPT < p.k && lane == 0u) {
      uvec4 wa[R];
      [[unroll]] for (uint r = 0; r < R; ++r) wa[r] = texelFetch(w_data, base[r] + int(whole));
      vec4 xq[QPT];
#ifdef X_GELU_MUL
      // K % 4 == 0: whole quads up to K, zeros past it (the weights' padding is zero too).
      [[unroll]] for (uint q = 0; q < QPT; ++q) {
        const uint k = whole * VPT + 4u * q;
        xq[q] = k < p.k ? xQuad(k >> 2) : vec4(0.0);
      }
#else
      [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = loadX4(0u, whole * VPT + 4u * q, p.k);
#endif
      accumulateTexel(row0, whole, wa, xq);
    }
#ifdef GELU_PAIRS
    [[unroll]] for (uint r = 0; r < OUT_PER_BLOCK; ++r) {
      const float g = subgroupAdd(acc[r]), u = subgroupAdd(acc[r + OUT_PER_BLOCK]);
      if (lane == 0u && row0 + r < p.rows) y_[p.row_offset + row0 + r] = geluTanh(g) * u;
    }
#else
    [[unroll]] for (uint r = 0; r < R; ++r) {
      const float s = subgroupAdd(acc[r]);
      if (lane == 0u && row0 + r < p.rows) y_[p.row_offset + row0 + r] = p.softcap > 0.0 ? p.softcap * safeTanh(s / p.softcap) : s;
    }
#endif
  }
}
