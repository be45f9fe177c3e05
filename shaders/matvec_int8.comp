#version 460
// matvec_int8: decode product on int8 activations, y[row_offset + r] = sum_k W[r][k] * x[k] for the
// rows r < rows of one q8_0 / q4_0 weight chunk, with x quantized per 32-value block
// (quantize_activations.comp): per block an exact int32 sum of int8 x int8 (q4_0: x nibble)
// products by dotPacked4x8EXT, then one f32 multiply-add with the weight and activation scales:
//   q8_0: acc += float(sum qw qx) * dw * dx
//   q4_0: acc += dw * (float(sum n qx) * dx - 8 * sx)   (n = stored nibble, sx = dx * sum qx)
// Variants (-D): WEIGHT_Q8_0, WEIGHT_Q4_0, and GELU_PAIRS=1 as in matvec.comp: the [gate | up]
// product writes y[j] = gelu(gate row j . x) * (up row j . x), an output's gate and up rows in one
// subgroup (rows j and j + p.n of one chunk; p.rows = outputs; ROWS_PER_SUBGROUP = 2 x outputs per
// subgroup). No X_GELU_MUL variant: the per-layer-input projection (K = 256) stays on matvec.comp.
// END_BLOCK=1: the product also ends its block, as matvec.comp's (shaders/common/end_block.glsl),
// writing the next product's int8 input as it goes (no quantize dispatch after it).
// Bindings: 0: XQ [1][blocks][2] uvec4 storage, read: the int8 activations
//           1: y [N] f32 storage, write (only [row_offset, row_offset + rows))
//           2: XS [1][blocks] vec2 storage, read: (dx, dx * sum qx) per block
//           3: W data [rows][row_texels] RGBA32UI uniform texel buffer (host/device/weight_matrix.h layout)
//           4: W scales [rows][row_scales] f16 packed in RGBA32UI texels
// Push: MatMulParams (params/matmul_params.h; m_tokens is 1, row_scales = blocks per row of W and x).
// Spec: 0 workgroup size; 1 ROWS_PER_SUBGROUP; 2 ROWS_PER_WORKGROUP (a multiple of it).
// Design: matvec.comp's shape with a block, not a texel, as a lane's unit: a subgroup takes
// ROWS_PER_SUBGROUP rows, its lanes stride along the row's blocks (neighbouring lanes read
// neighbouring blocks: coalesced 16-byte texel loads), every load of a step issued before any is
// used: q8_0 one block (2 texels) per step, q4_0 two blocks (lane's block b and b + lanes), so two
// 16-byte weight loads per row, 2 x ROWS_PER_SUBGROUP per lane, in flight. The block's int8 x (32
// bytes) is loaded once per step and reused by all the subgroup's rows (q4_0: split into even and
// odd bytes once, for the weights' masked nibbles). One subgroupAdd per row at the end, no shared
// memory; correct for any subgroup size and partial subgroups (lanes counted by subgroup arithmetic).
// Launch geometry (host/ops/plans/matmul_int8_plan.cpp, pinned by tests/ops/launch_geometry_int8_test.cpp):
// PlanMatVec's GPU rows x subgroups, so the workgroup counts are matvec.comp's. On a 132-SM GPU
// (subgroup 32): E2B o_proj 1536 rows (K = 2048) -> 1 row x 2 subgroups, 768 workgroups of 64;
// E2B gate|up pairs, 6144 outputs -> 2x4, 768 of 128 (4 weight rows per subgroup), 12288 on the
// double-wide layers -> 4x4, 768; 31B q|k|v of a sliding layer, 16384 rows (K = 5376) -> 4x4, 1024
// of 128; 31B down 5376 rows (K = 21504) -> 2x4, 672; the 262144-row head -> 4x4, 16384. Serial
// work of a lane: ceil(blocks / 32) blocks per row (E2B K = 1536 or 2048: 2; 31B K = 21504: 21
// blocks = 672 bytes q8_0 / 336 bytes q4_0 of each of its rows).
// Dispatched by host/ops/matmul_int8.cpp, once per weight chunk.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_integer_dot_product : require
#include "params/matmul_params.h"
#include "math.glsl"
#include "int8_weights.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS_PER_SUBGROUP = 4;
layout(constant_id = 2) const uint ROWS_PER_WORKGROUP = 32;

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

const uint R = ROWS_PER_SUBGROUP;
#if defined(WEIGHT_Q8_0)
const uint BLOCKS_PER_STEP = 1;
#else
const uint BLOCKS_PER_STEP = 2;
#endif

int base[R];   // first texel of each row of the block; rows past the chunk repeat the last
uint wrow[R];  // the weight row (in the chunk) of each row of the block
float acc[R];

#ifdef GELU_PAIRS
// Block rows r < R/2 are gate rows row0 + r, the others the matching up rows, p.n rows further.
const uint OUT_PER_BLOCK = R / 2;
uint weightRow(uint row0, uint r) {
  const uint o = min(row0 + r % OUT_PER_BLOCK, p.rows - 1u);
  return r < OUT_PER_BLOCK ? o : o + p.n;
}
#else
const uint OUT_PER_BLOCK = R;
uint weightRow(uint row0, uint r) { return min(row0 + r, p.rows - 1u); }
#endif

// Adds block b of every row (w: its texels, loaded by the caller) times the int8 x of block b.
void accumulateBlock(uint b, const uvec4 w[TEXELS_PER_BLOCK][R]) {
  const uvec4 xa = xq_[2u * b], xb = xq_[2u * b + 1u];
  const vec2 xs = xs_[b];
#if defined(WEIGHT_Q8_0)
  [[unroll]] for (uint r = 0; r < R; ++r) {
    int s = 0;
    [[unroll]] for (uint j = 0; j < 4; ++j) s += dot4(w[0][r][j], xa[j]);
    [[unroll]] for (uint j = 0; j < 4; ++j) s += dot4(w[1][r][j], xb[j]);
    acc[r] += float(s) * (blockScale(wrow[r], b, p.row_scales) * xs.x);
  }
#else
  // Weight uint j holds values 8j .. 8j + 7; x values 8j .. 8j + 7 are x uints 2j and 2j + 1.
  const uint xw[8] = uint[8](xa.x, xa.y, xa.z, xa.w, xb.x, xb.y, xb.z, xb.w);
  uint xe[4], xo[4];
  [[unroll]] for (uint j = 0; j < 4; ++j) {
    xe[j] = evenBytes(xw[2u * j], xw[2u * j + 1u]);
    xo[j] = oddBytes(xw[2u * j], xw[2u * j + 1u]);
  }
  [[unroll]] for (uint r = 0; r < R; ++r) {
    int s = 0;
    [[unroll]] for (uint j = 0; j < 4; ++j) {
      const uint u = w[0][r][j];
      s += dot4(u & 0x0F0F0F0Fu, xe[j]) + dot4((u >> 4) & 0x0F0F0F0Fu, xo[j]);
    }
    acc[r] += blockScale(wrow[r], b, p.row_scales) * (float(s) * xs.x - 8.0 * xs.y);
  }
#endif
}

void main() {
  const uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (wg >= p.groups) return;  // whole workgroups only: the grid rounds up
  const uint lane = subgroupExclusiveAdd(1u);
  const uint lanes = subgroupAdd(1u);
  const uint blocks = p.row_scales;
  const uint row_blocks = ROWS_PER_WORKGROUP / R;

  for (uint rb = gl_SubgroupID; rb < row_blocks; rb += gl_NumSubgroups) {
    const uint row0 = (wg * row_blocks + rb) * OUT_PER_BLOCK;  // first output row of the block
    if (row0 >= p.rows) break;
    [[unroll]] for (uint r = 0; r < R; ++r) {
      wrow[r] = weightRow(row0, r);
      base[r] = int(wrow[r] * p.row_texels);
      acc[r] = 0.0;
    }
    // BLOCKS_PER_STEP blocks per lane and step (b, b + lanes, ...): all their texels are fetched
    // before any is used. A block past the row is clamped to the last one and not added.
    for (uint b = lane; b < blocks; b += BLOCKS_PER_STEP * lanes) {
      uvec4 w[BLOCKS_PER_STEP][TEXELS_PER_BLOCK][R];
      [[unroll]] for (uint u = 0; u < BLOCKS_PER_STEP; ++u) {
        const uint bb = min(b + u * lanes, blocks - 1u);
        [[unroll]] for (uint t = 0; t < TEXELS_PER_BLOCK; ++t)
          [[unroll]] for (uint r = 0; r < R; ++r)
            w[u][t][r] = texelFetch(w_data, base[r] + int(bb * TEXELS_PER_BLOCK + t));
      }
      [[unroll]] for (uint u = 0; u < BLOCKS_PER_STEP; ++u)
        if (b + u * lanes < blocks) accumulateBlock(b + u * lanes, w[u]);
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
#if END_BLOCK
  endBlock(p.groups);
#endif
}
