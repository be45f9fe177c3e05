#version 460
// matvec: decode matrix-vector product, y[row_offset + r] = sum_k W[r][k] * x[k] for the rows
// r < rows of one weight chunk; f32 accumulation whatever the weight type.
// Variants (-D): WEIGHT_<FMT> for every weight format (shaders/weight_formats.cmake; the format
// table host/formats/format_traits.h; the ggml block formats: see below), and two fusions of
// the gated feed-forward's gelu_tanh(gate) * up (each: one dispatch, one barrier and one trip of an
// activation through memory fewer):
//   GELU_PAIRS=1: the [gate | up] product writes y[j] = gelu(gate row j . x) * (up row j . x), the
//     gate and up rows of an output in the same subgroup (rows j and j + p.n of one chunk; p.rows
//     = outputs; ROWS_PER_SUBGROUP = 2 x outputs per subgroup): one gelu per output.
//   X_GELU_MUL=1: the input is x = gelu_tanh(gate) * up, computed as it is read (K % 4 == 0). Every
//     row block recomputes the gelu of all K inputs, so it is used only where K is small (the
//     per-layer-input projection, K = 256).
// And END_BLOCK=1 (alone or with X_GELU_MUL; one token, one chunk): the product also ends its block,
//   x = (x + rmsnorm(y, w_out)) * scale, a = rmsnorm(x, w_next), done by the workgroup that
//   finishes last (shaders/common/end_block.glsl: bindings 5-11, EndBlockParams after MatMulParams):
//   o_proj, down and the per-layer-input projection at decode, one dispatch and barrier fewer each.
// Bindings: 0: x [K] f32 storage, read (only K values are read, never past them); X_GELU_MUL: gate
//           1: y [N] f32 storage, write (only [row_offset, row_offset + rows))
//           2: the same X as RGBA32UI texels (all whole texels; binding 0 serves the partial last
//              one); X_GELU_MUL: up [K] f32 storage, read
//           3: W data [rows][row_texels] RGBA32UI uniform texel buffer (host/device/weight_matrix.h layout)
//           4: W scales [rows][row_scales] f16 packed in RGBA32UI texels (q8_0 / q4_0 / q6_k; q4_k and
//              q5_k: one 16-byte head texel per super-block)
// Push: MatMulParams (params/matmul_params.h; m_tokens: columns of X/Y, 1 for one token).
// Spec: 0 workgroup size; 1 ROWS_PER_SUBGROUP (rows one subgroup reduces at once, x reused across
//       them); 2 ROWS_PER_WORKGROUP (a multiple of ROWS_PER_SUBGROUP); 3 COLS (default 1).
// Columns (batched decode, host/batch): X is [m_tokens][K] and Y [m_tokens][n] (K % 4 == 0 when
// m_tokens > 1); workgroup z takes columns z * COLS .. z * COLS + COLS - 1 and every weight texel
// it loads serves all of them, so a continuous-batching step of up to COLS sequences reads the
// weights once. Each column's per-lane sums and subgroupAdd run in exactly the order of COLS = 1
// (the column loop sits inside each texel step and only selects the accumulator), so every column
// is bit-identical to the same x evaluated alone. A partial last group repeats its last column
// (no branch in the texel loop) and writes only the real ones. Geometry: the row grid of the
// one-column plan below, x ceil(m_tokens / COLS) in z; at 16 E2B sequences (COLS 8) every launch
// below doubles its workgroups, each lane's serial work grows 8x in FMAs but not in weight bytes.
// Design: weights through texel views (16-byte loads), each subgroup takes ROWS_PER_SUBGROUP rows
// with its lanes striding along K one texel at a time, two texels per step (2 x ROWS_PER_SUBGROUP
// independent 16-byte weight loads in flight per lane; consecutive lanes read consecutive texels of
// a row: coalesced), one subgroupAdd per row at the end, no shared memory. Correct for any subgroup
// size (lanes are counted with subgroup arithmetic, so even partial subgroups work) and any number
// of subgroups per workgroup.
// Launch geometry (host/ops/plans/matvec_plan.cpp; tests/ops/launch_geometry_test.cpp pins it): rows per
// subgroup x subgroups per workgroup = the largest of 4x4, 2x4, 1x4, 1x2, 1x1 that still gives 4
// workgroups per compute unit (GELU_PAIRS: planned on outputs, each reading 2 rows). On a 132-SM GPU
// (subgroup 32), q4_0: E2B o_proj 1536 rows -> 1x2, 768 workgroups of 64; E2B gate|up pairs, 6144
// outputs -> 2x4, 768 of 128 (4 weight rows per subgroup), 12288 on the double-wide layers -> 4x4,
// 768; 31B gate|up pairs, 21504 outputs -> 4x4, 1344 (8 weight rows per subgroup); 31B down 5376
// rows -> 2x4, 672; the 262144-row head -> 4x4, 16384. Serial work of a lane: ceil(row texels / 32)
// texels per row (31B down, K = 21504 q4_0: 21 texels = 336 bytes of each of its rows).
// K-quants (host/device/weight_matrix.h): a lane's texel step is one 32-value sub-block: its 16-byte
// nibble texel (consecutive lanes: consecutive texels of the super-block, coalesced), for Q5_K one
// u32 of high bits and for Q6_K 8 bytes of high bits and 2 scale bytes (from texels that 2-8
// neighbouring lanes share), and the super-block's head texel (Q6_K: its f16 d) shared by 8 lanes
// through the cache: 16 + 16/8 (Q4_K) .. 16 + 8 + 2 + 2/8 (Q6_K) bytes of distinct memory per 32
// values, the 144 / 176 / 210 bytes per 256 of the format. The min is folded as q4_0's offset:
// sum((scale q + bias) x) = scale sum(q x) + bias sum(x). Same geometry as q4_0 (32 values a
// texel): 31B down (K = 21504): 21 texel steps per lane and row.
// ggml's other block formats (the format table's ggml_block rows beyond the K-quants;
// host/formats/ggml_small_blocks.h) take the same path and
// geometry (weight_texel.glsl unpacks their 32-value texels; Q2_K, with two mins per texel, returns
// decoded values and bias 0); the launch-geometry test pins all of them at the E2B and 31B shapes.
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
layout(constant_id = 3) const uint COLS = 1;

layout(std430, binding = 0) readonly buffer X { float x_[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4_[]; };  // the same X, by quads
#if END_BLOCK
// The block end's last workgroup reads y back (shaders/common/end_block.glsl): coherent writes.
#include "params/norm_params.h"
layout(std430, binding = 1) coherent writeonly buffer Y { float y_[]; };
layout(push_constant) uniform Push { MatMulParams p; EndBlockParams e; };
#include "end_block.glsl"
#else
layout(std430, binding = 1) writeonly buffer Y { float y_[]; };
layout(push_constant) uniform Push { MatMulParams p; };
#endif

uint xq0[COLS];  // first x quad of each column of the group (column * K / 4)
uint xcol[COLS]; // the column itself (a partial group repeats its last)

#ifdef X_GELU_MUL
layout(std430, binding = 2) readonly buffer Up { vec4 up4_[]; };
// Quad i of x (values 4i..4i+3, i counted from the column's first quad), made from gate and up as
// the separate gelu_mul op makes them.
vec4 xQuad(uint c, uint i) {
  const vec4 g = x4_[xq0[c] + i];
  return vec4(geluTanh(g.x), geluTanh(g.y), geluTanh(g.z), geluTanh(g.w)) * up4_[xq0[c] + i];
}
#else
#define X_TEXEL_BINDING 2
#endif
#define WEIGHT_DATA_BINDING 3
#define WEIGHT_SCALES_BINDING 4
#include "weight_texel.glsl"  // x texels at 2 (unless X_GELU_MUL), weight views at 3 (data) and 4 (scales)
#ifndef X_GELU_MUL
vec4 xQuad(uint c, uint i) { return uintBitsToFloat(texelFetch(x_tex, int(xq0[c] + i))); }
#endif

const uint R = ROWS_PER_SUBGROUP;
int base[R];  // first texel of each row of the block; rows past the chunk repeat the last
uint wrow[R]; // the weight row (in the chunk) of each row of the block
float acc[COLS * R];  // column c, row r at c * R + r
#ifdef WEIGHT_KQUANT
#define WScale vec2  // (scale, bias) of a K-quant texel
#else
#define WScale float
#endif

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

// Block scale of texel t of each row (1 for unquantized weights), fetched once for all columns.
void texelScales(uint t, out WScale sc[R]) {
#ifdef WEIGHT_KQUANT
  [[unroll]] for (uint r = 0; r < R; ++r) sc[r] = weightAffine(wrow[r], t, p.row_scales);
#else
  [[unroll]] for (uint r = 0; r < R; ++r) sc[r] = weightScale(wrow[r], t, p.row_scales);
#endif
}

// Adds texel t of each row of the block (w: the R weight texels, fetched by the caller so that
// several are in flight; sc: their scales) times column c's x (xq: the texel's x values) to acc.
void accumulateTexel(uint c, const WTexel w[R], const WScale sc[R], const vec4 xq[QPT]) {
#if defined(WEIGHT_KQUANT)
  // K-quants: sum((a q + b) x) = a sum(q x) + b sum(x), the x sum shared by every row.
  vec4 xs = vec4(0.0);
  [[unroll]] for (uint q = 0; q < QPT; ++q) xs += xq[q];
  const float xsum = xs.x + xs.y + xs.z + xs.w;
  [[unroll]] for (uint r = 0; r < R; ++r) {
    float d = 0.0;
    [[unroll]] for (uint q = 0; q < QPT; ++q) d += dot(weightQuad(w[r], q), xq[q]);
    acc[c * R + r] += d * sc[r].x + sc[r].y * xsum;
  }
#else
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
    acc[c * R + r] += d * sc[r];
  }
#endif
}

// Texel t of the block's rows (w, its scales sc) against every column's x.
void accumulateColumns(uint t, const WTexel w[R], const WScale sc[R]) {
  [[unroll]] for (uint c = 0; c < COLS; ++c) {
    vec4 xq[QPT];
    [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = xQuad(c, t * QPT + q);
    accumulateTexel(c, w, sc, xq);
  }
}

void main() {
  const uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (wg >= p.groups) return;  // whole workgroups only: the grid rounds up
  const uint lane = subgroupExclusiveAdd(1u);
  const uint lanes = subgroupAdd(1u);
  const uint whole = p.k / VPT;  // texels whose x values are all real columns
  const uint blocks = ROWS_PER_WORKGROUP / R;
  [[unroll]] for (uint c = 0; c < COLS; ++c) {
    xcol[c] = min(gl_WorkGroupID.z * COLS + c, p.m_tokens - 1u);
    xq0[c] = xcol[c] * (p.k >> 2);
  }

  for (uint b = gl_SubgroupID; b < blocks; b += gl_NumSubgroups) {
    const uint row0 = (wg * blocks + b) * OUT_PER_BLOCK;  // first output row of the block
    if (row0 >= p.rows) break;
    [[unroll]] for (uint r = 0; r < R; ++r) {
      wrow[r] = weightRow(row0, r);
      base[r] = int(wrow[r] * p.row_texels);
    }
    [[unroll]] for (uint i = 0; i < COLS * R; ++i) acc[i] = 0.0;
    // Whole texels take x from its texel view with no per-column checks (a branch per texel in
    // this loop cost lavapipe 1.5x); the partial last texel (K % VPT != 0) reads x through loadX4.
    // Two texels per step: all 2R weight loads are issued before any is used. Each lane still adds
    // its texels in ascending order, so the sums are those of a one-texel loop.
    uint t = lane;
    for (; t + lanes < whole; t += 2u * lanes) {
      WTexel wa[R], wb[R];
      [[unroll]] for (uint r = 0; r < R; ++r) {
        wa[r] = weightTexel(base[r], t);
        wb[r] = weightTexel(base[r], t + lanes);
      }
      WScale sa[R], sb[R];
      texelScales(t, sa);
      texelScales(t + lanes, sb);
      // Per column: texel t, then t + lanes, as the one-column kernel adds them.
      [[unroll]] for (uint c = 0; c < COLS; ++c) {
        vec4 xq[QPT];
        [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = xQuad(c, t * QPT + q);
        accumulateTexel(c, wa, sa, xq);
        [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = xQuad(c, (t + lanes) * QPT + q);
        accumulateTexel(c, wb, sb, xq);
      }
    }
    if (t < whole) {
      WTexel wa[R];
      [[unroll]] for (uint r = 0; r < R; ++r) wa[r] = weightTexel(base[r], t);
      WScale sa[R];
      texelScales(t, sa);
      accumulateColumns(t, wa, sa);
    }
    if (whole * VPT < p.k && lane == 0u) {
      WTexel wa[R];
      [[unroll]] for (uint r = 0; r < R; ++r) wa[r] = weightTexel(base[r], whole);
      WScale sa[R];
      texelScales(whole, sa);
      [[unroll]] for (uint c = 0; c < COLS; ++c) {
        vec4 xq[QPT];
#ifdef X_GELU_MUL
        // K % 4 == 0: whole quads up to K, zeros past it (the weights' padding is zero too).
        [[unroll]] for (uint q = 0; q < QPT; ++q) {
          const uint k = whole * VPT + 4u * q;
          xq[q] = k < p.k ? xQuad(c, k >> 2) : vec4(0.0);
        }
#elif defined(WEIGHT_KQUANT)
        [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = loadX4Zero(xcol[c] * p.k, whole * VPT + 4u * q, p.k);
#else
        [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = loadX4(xcol[c] * p.k, whole * VPT + 4u * q, p.k);
#endif
        accumulateTexel(c, wa, sa, xq);
      }
    }
    [[unroll]] for (uint c = 0; c < COLS; ++c) {
      const bool real = gl_WorkGroupID.z * COLS + c < p.m_tokens;  // not a repeated last column
      const uint y0 = xcol[c] * p.n + p.row_offset + row0;
#ifdef GELU_PAIRS
      [[unroll]] for (uint r = 0; r < OUT_PER_BLOCK; ++r) {
        const float g = subgroupAdd(acc[c * R + r]), u = subgroupAdd(acc[c * R + r + OUT_PER_BLOCK]);
        if (real && lane == 0u && row0 + r < p.rows) y_[y0 + r] = geluTanh(g) * u;
      }
#else
      [[unroll]] for (uint r = 0; r < R; ++r) {
        const float s = subgroupAdd(acc[c * R + r]);
        if (real && lane == 0u && row0 + r < p.rows) y_[y0 + r] = p.softcap > 0.0 ? p.softcap * safeTanh(s / p.softcap) : s;
      }
#endif
    }
  }
#if END_BLOCK
  endBlock(p.groups);
#endif
}
