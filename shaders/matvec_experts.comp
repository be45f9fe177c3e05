#version 460
// matvec_experts: products with routed experts' rows, for slots s < n_slots and r < rows:
//   Y[s][r] = sum_k W[ids[s] * rows_per_expert + row_begin + r][k] * X[s / x_div][k]
// where W is a stack of E expert matrices of rows_per_expert rows each (host/ops/experts.h).
// One dispatch per weight chunk computes only the outputs whose weight row lies in that chunk
// (global rows [chunk_row_begin, + chunk_rows)); together the dispatches cover every output.
// f32 accumulation whatever the weight type. Ids outside [0, E) give zero rows, written by the
// dispatch of the chunk that starts at row 0 (so each output is written exactly once).
// Variants (-D): WEIGHT_<FMT> for every weight format (shaders/weight_formats.cmake; the format
// table host/formats/format_traits.h), each decoded by common/weight_texel.glsl: the float and
// q8_0 / q4_0 texels directly, the ggml block formats on the affine-texel path (value = scale * code
// + bias per 32-value texel, the bias from the sub-block min) with q4_0's geometry.
// Bindings: 0: X [n_slots / x_div][K] f32 storage, read (never past column K of a row)
//           1: Y [n_slots][rows] f32 storage, write
//           2: ids [n_slots] int32 storage, read (the router's choices; stay on the device)
//           3: the same X as RGBA32UI texels (read instead of binding 0 when K % 4 == 0)
//           4: W data [chunk_rows][row_texels] RGBA32UI uniform texel buffer (host/device/weight_matrix.h)
//           5: W scales [chunk_rows][row_scales] f16 packed in RGBA32UI texels (q8_0 / q4_0 only)
// Push: ExpertsParams (params/experts_params.h).
// Spec: 0 workgroup size; 1 ROWS_PER_SUBGROUP; 2 ROWS_PER_WORKGROUP (a multiple of it).
// Grid: linear workgroup index g = x + y * gridX < groups; slot g / row_groups, rows block
// g % row_groups (ids[slot] is uniform over the workgroup, so every early exit is too).
// Design: matvec.comp's, per slot (docs/lavapipe.md): weights through texel views, each
// subgroup takes ROWS_PER_SUBGROUP rows of the slot's expert with its lanes striding along K one
// texel at a time, x loaded once per texel and reused across the rows, one subgroupAdd per row at
// the end, no shared memory. Correct for any subgroup size and any number of subgroups.
// Dispatched by host/ops/experts.cpp (MatMulExperts), once per weight chunk.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
#include "params/experts_params.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS_PER_SUBGROUP = 8;
layout(constant_id = 2) const uint ROWS_PER_WORKGROUP = 64;
#include "indexing.glsl"

layout(std430, binding = 0) readonly buffer X { float x_[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4_[]; };  // the same X, by quads
layout(std430, binding = 1) writeonly buffer Y { float y_[]; };
layout(std430, binding = 2) readonly buffer Ids { int ids[]; };
layout(push_constant) uniform Push { ExpertsParams p; };

#define X_TEXEL_BINDING 3
#define WEIGHT_DATA_BINDING 4
#define WEIGHT_SCALES_BINDING 5
#include "weight_texel.glsl"

// acc[r] += W[crow[r]] texel t . x (xq: that texel's x values), for the subgroup's rows.
void accumulateTexel(const uint crow[ROWS_PER_SUBGROUP], uint t, const vec4 xq[QPT],
                     inout float acc[ROWS_PER_SUBGROUP]) {
  [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) {
    const WTexel w = weightTexel(int(crow[r] * p.row_texels), t);
    float d = 0.0;
    [[unroll]] for (uint q = 0; q < QPT; ++q) d += dot(weightQuad(w, q), xq[q]);
#if defined(WEIGHT_KQUANT)
    // sum((a q + b) x) = a sum(q x) + b sum(x)
    vec4 xs = vec4(0.0);
    [[unroll]] for (uint q = 0; q < QPT; ++q) xs += xq[q];
    const vec2 a = weightAffine(crow[r], t, p.row_scales);
    d = d * a.x + a.y * (xs.x + xs.y + xs.z + xs.w);
#elif defined(WEIGHT_QUANTIZED)
    d *= weightScale(crow[r], t, p.row_scales);
#endif
    acc[r] += d;
  }
}

void main() {
  const uint wg = linearGroup();
  if (wg >= p.groups) return;  // whole workgroups only: the grid rounds up
  const uint slot = wg / p.row_groups;
  const uint first = (wg % p.row_groups) * ROWS_PER_WORKGROUP;  // first output row of this workgroup
  const uint ybase = slot * p.rows;
  const uint id = uint(ids[slot]);  // negative ids wrap to huge values: invalid too

  if (id >= p.n_experts) {  // no weight rows: zeros, from one dispatch only
    if (p.chunk_row_begin == 0u) {
      const uint end = min(first + ROWS_PER_WORKGROUP, p.rows);
      for (uint r = first + gl_LocalInvocationID.x; r < end; r += gl_WorkGroupSize.x) y_[ybase + r] = 0.0;
    }
    return;
  }

  // The slot's output rows r whose weight row base + r lies in this chunk: [lo, hi).
  const uint base = id * p.rows_per_expert + p.row_begin;  // global weight row of output row 0
  const uint chunk_end = p.chunk_row_begin + p.chunk_rows;
  if (base >= chunk_end || base + p.rows <= p.chunk_row_begin) return;
  const uint lo = max(p.chunk_row_begin, base) - base;
  const uint hi = min(chunk_end, base + p.rows) - base;
  const uint to_chunk = base - p.chunk_row_begin;  // output row -> chunk row (mod 2^32; in range for [lo, hi))

  const uint lane = subgroupExclusiveAdd(1u);
  const uint lanes = subgroupAdd(1u);
  const uint texels = (p.k + VPT - 1u) / VPT;  // texels holding real columns; the rest is padding
  const uint blocks = ROWS_PER_WORKGROUP / ROWS_PER_SUBGROUP;
  const uint xbase = (slot / p.x_div) * p.k;
  const uint whole = (p.k & 3u) == 0u ? p.k / VPT : 0u;  // texels whose x quads are whole texels of x

  for (uint b = gl_SubgroupID; b < blocks; b += gl_NumSubgroups) {
    const uint row0 = first + b * ROWS_PER_SUBGROUP;
    if (row0 >= hi) break;
    if (row0 + ROWS_PER_SUBGROUP <= lo) continue;
    uint crow[ROWS_PER_SUBGROUP];  // chunk rows; output rows outside [lo, hi) repeat an edge row
    float acc[ROWS_PER_SUBGROUP];
    [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) {
      crow[r] = clamp(row0 + r, lo, hi - 1u) + to_chunk;
      acc[r] = 0.0;
    }
    // Whole texels read x straight from its texel view (rows start on a texel when K % 4 == 0);
    // the rest, if any, through loadX4's per-column checks (a per-texel branch in one loop costs
    // lavapipe 1.5x, so two loops).
    for (uint t = lane; t < whole; t += lanes) {
      vec4 xq[QPT];
      [[unroll]] for (uint q = 0; q < QPT; ++q)
        xq[q] = uintBitsToFloat(texelFetch(x_tex, int((xbase + t * VPT) / 4u + q)));
      accumulateTexel(crow, t, xq, acc);
    }
    for (uint t = whole + lane; t < texels; t += lanes) {
      vec4 xq[QPT];
#ifdef WEIGHT_KQUANT  // K-quant padding values need not be zero: they meet zeros of x
      [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = loadX4Zero(xbase, t * VPT + 4u * q, p.k);
#else
      [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = loadX4(xbase, t * VPT + 4u * q, p.k);
#endif
      accumulateTexel(crow, t, xq, acc);
    }
    [[unroll]] for (uint r = 0; r < ROWS_PER_SUBGROUP; ++r) {
      const float s = subgroupAdd(acc[r]);
      if (lane == 0u && row0 + r >= lo && row0 + r < hi) y_[ybase + row0 + r] = s;
    }
  }
}
