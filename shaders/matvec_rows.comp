#version 460
// matvec_rows: decode matrix-vector product for CPU devices, y[row_offset + r] = sum_k W[r][k] x[k]
// for the rows r < rows of one weight chunk; f32 accumulation whatever the weight type.
// Variants (-D): WEIGHT_<FMT> for every weight format (shaders/weight_formats.cmake; the format
// table host/formats/format_traits.h), each decoded by common/weight_texel.glsl: the float and
// q8_0 / q4_0 texels directly, the ggml block formats on the affine-texel path (value = scale * code
// + bias per 32-value texel, the bias from the sub-block min) with q4_0's geometry.
// Bindings (as matvec.comp): 0: x [K] f32 storage, read (the tail past the last whole texel only)
//           1: y [N] f32 storage, write (only [row_offset, row_offset + rows))
//           2: the same x as RGBA32UI texels (every whole weight texel's x values come from here)
//           3: W data [rows][row_texels] RGBA32UI uniform texel buffer (host/device/weight_matrix.h layout)
//           4: W scales [rows][row_scales] f16 packed in RGBA32UI texels (q8_0 / q4_0 only)
// Push: MatMulParams (params/matmul_params.h; m_tokens: columns of X/Y, 1 for one token).
// Spec: 0 workgroup size; 1 ROWS_PER_INVOCATION; 2 ROWS_PER_WORKGROUP (workgroup size x rows per
//       invocation); 3 COLS (default 1).
// Columns (batched decode, host/batch): X is [m_tokens][K] and Y [m_tokens][n] (K % 4 == 0 when
// m_tokens > 1); workgroup z takes columns z * COLS .. + COLS - 1, each weight texel fetched once
// for all of them. A row's sum for a column runs in exactly the order of COLS = 1 (the column loop
// only picks the x values and the accumulator), so batched decode equals decode alone bit for bit.
// A partial last group repeats its last column and writes only the real ones.
// Design: every invocation owns ROWS_PER_INVOCATION whole rows and walks all of K alone, so there is
// no reduction across lanes, each x texel is fetched once for all its rows, and a quantized row's
// scales come eight blocks to one fetch (a scale texel) instead of one fetch per block. On lavapipe,
// where every texel fetch costs a gather, it beat matvec.comp at the real shapes by 1.2-1.5x for
// q4_0, 1.25-1.4x for q8_0 and up to 1.5x for f16 (equal at 5376x21504), comparing minimum times of
// alternated runs (bench/results/lavapipe-ops.md). Neighbouring lanes read different rows, which a
// GPU would not coalesce: GPUs keep matvec.comp (host/ops/matmul.cpp).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "params/matmul_params.h"
#include "math.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS_PER_INVOCATION = 4;
layout(constant_id = 2) const uint ROWS_PER_WORKGROUP = 256;
layout(constant_id = 3) const uint COLS = 1;

layout(std430, binding = 0) readonly buffer X { float x_[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4_[]; };  // the same X, by quads
layout(std430, binding = 1) writeonly buffer Y { float y_[]; };
layout(push_constant) uniform Push { MatMulParams p; };

#define X_TEXEL_BINDING 2
#define WEIGHT_DATA_BINDING 3
#define WEIGHT_SCALES_BINDING 4
#include "weight_texel.glsl"  // x texels at 2, weight views at 3 (data) and 4 (scales)

const uint R = ROWS_PER_INVOCATION;

// Sum of a texel's x values where the weight format has an offset (q4_0); 0 otherwise, without
// spending the adds (0 * sum is not foldable under IEEE rules).
float sumX(const vec4 xq[QPT]) {
#if defined(WEIGHT_Q4_0) || defined(WEIGHT_KQUANT)
  vec4 s = vec4(0.0);
  [[unroll]] for (uint q = 0; q < QPT; ++q) s += xq[q];
  return s.x + s.y + s.z + s.w;
#else
  return 0.0;
#endif
}

// q4_0: x scaled for weightQuadMasked (weight_texel.glsl), once per texel for all the rows.
void prepareX(inout vec4 xq[QPT]) {
#if defined(WEIGHT_Q4_0)
  [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] *= Q4_MASK_SCALE[q & 1u];
#endif
}

// x values of whole texel t (columns t * VPT ..) of the X row starting at quad xq0, their sum (for
// the q4_0 offset), prepared.
void loadXTexel(uint xq0, uint t, out vec4 xq[QPT], out float xsum) {
  [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = uintBitsToFloat(texelFetch(x_tex, int(xq0 + t * QPT + q)));
  xsum = sumX(xq);
  prepareX(xq);
}

// Dot product of row r's texel t with x, before the block scale. q4_0 nibbles are dotted raw
// (0..15, left in place: weightQuadMasked) and the offset of 8 comes off once:
// sum((n - 8) x) = sum(n x) - 8 sum(x), which saves a subtraction per weight.
// K-quants: the raw sum(q x); callers scale it and add bias * xsum.
float texelDot(const WTexel w, const vec4 xq[QPT], float xsum) {
  float d = 0.0;
#if defined(WEIGHT_Q4_0)
  [[unroll]] for (uint q = 0; q < QPT; ++q) d += dot(weightQuadMasked(w, q), xq[q]);
#else
  [[unroll]] for (uint q = 0; q < QPT; ++q) d += dot(weightQuadRaw(w, q), xq[q]);
#endif
#if defined(WEIGHT_Q4_0)
  d -= WEIGHT_OFFSET * xsum;
#endif
  return d;
}

#ifdef WEIGHT_KQUANT
#define WScale vec2  // (scale, bias)
WScale texelScale(uint r, uint t) { return weightAffine(r, t, p.row_scales); }
float scaledDot(const WTexel w, const vec4 xq[QPT], float xsum, WScale sc) { return texelDot(w, xq, xsum) * sc.x + sc.y * xsum; }
#else
#define WScale float
WScale texelScale(uint r, uint t) { return weightScale(r, t, p.row_scales); }
float scaledDot(const WTexel w, const vec4 xq[QPT], float xsum, WScale sc) { return texelDot(w, xq, xsum) * sc; }
#endif

void main() {
  const uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (wg >= p.groups) return;  // whole workgroups only: the grid rounds up
  const uint row0 = wg * ROWS_PER_WORKGROUP + gl_LocalInvocationIndex * R;
  if (row0 >= p.rows) return;
  int data_base[R];  // first data texel of each owned row; rows past the chunk repeat the last one
  float acc[COLS * R];  // column c, row r at c * R + r
  [[unroll]] for (uint r = 0; r < R; ++r) data_base[r] = int(min(row0 + r, p.rows - 1u) * p.row_texels);
  [[unroll]] for (uint i = 0; i < COLS * R; ++i) acc[i] = 0.0;
  uint xcol[COLS], xq0[COLS];  // each column of the group (a partial group repeats its last) and its first x quad
  [[unroll]] for (uint c = 0; c < COLS; ++c) {
    xcol[c] = min(gl_WorkGroupID.z * COLS + c, p.m_tokens - 1u);
    xq0[c] = xcol[c] * (p.k >> 2);
  }
  const uint whole = p.k / VPT;  // texels whose x values are all real columns
  uint t = 0u;
  // Groups of GROUP texels: each row sums a group apart and then adds it to its total, a two-level
  // sum whose rounding error grows like sqrt(GROUP) + sqrt(K / VPT / GROUP) instead of sqrt(K / VPT)
  // of one serial sum (the subgroup kernel's lanes and tree give it the same protection).
  // Quantized rows take a group of eight blocks: one scale texel, fetched once per row and group;
  // used while every row's scales start on a texel boundary (row_scales % 8 == 0).
#if defined(WEIGHT_KQUANT)
  const uint GROUP = 8u;  // one super-block; (scale, bias) per texel from its head
  const bool grouped = true;
#elif defined(WEIGHT_QUANTIZED)
  const uint GROUP = 256u / VPT;
  const bool grouped = (p.row_scales & 7u) == 0u;
#else
  const uint GROUP = 32u;  // the most accurate of 2..32 at K = 4096 and 8192 (NMSE 2e-14 vs 5e-14 at 8)
  const bool grouped = true;
#endif
  if (grouped) {
    int scale_base[R];
    [[unroll]] for (uint r = 0; r < R; ++r) scale_base[r] = int(min(row0 + r, p.rows - 1u) * (p.row_scales >> 3));
    for (uint g = 0u; g < whole / GROUP; ++g) {
#if defined(WEIGHT_QUANTIZED) && !defined(WEIGHT_KQUANT)
      uvec4 scales[R];
      [[unroll]] for (uint r = 0; r < R; ++r) scales[r] = texelFetch(w_scales, scale_base[r] + int(g));
#endif
      float part[COLS * R];
      [[unroll]] for (uint i = 0; i < COLS * R; ++i) part[i] = 0.0;
      [[unroll]] for (uint j = 0; j < GROUP; ++j) {
        WTexel w[R];
        [[unroll]] for (uint r = 0; r < R; ++r) w[r] = weightTexel(data_base[r], t + j);
#ifdef WEIGHT_KQUANT
        vec2 aff[R];
        [[unroll]] for (uint r = 0; r < R; ++r) aff[r] = weightAffine(min(row0 + r, p.rows - 1u), t + j, p.row_scales);
#endif
        [[unroll]] for (uint c = 0; c < COLS; ++c) {
          vec4 xq[QPT];
          float xsum;
          loadXTexel(xq0[c], t + j, xq, xsum);
          [[unroll]] for (uint r = 0; r < R; ++r) {
            float d = texelDot(w[r], xq, xsum);
#if defined(WEIGHT_KQUANT)
            d = d * aff[r].x + aff[r].y * xsum;
#elif defined(WEIGHT_QUANTIZED)
            const uint block = j * VPT / 32u;  // block within the scale texel
            d *= unpackHalf2x16(scales[r][block >> 1])[block & 1u];
#endif
            part[c * R + r] += d;
          }
        }
      }
      [[unroll]] for (uint i = 0; i < COLS * R; ++i) acc[i] += part[i];
      t += GROUP;
    }
  }
  for (; t < whole; ++t) {  // remaining whole texels, one scale fetch per block
    WTexel w[R];
    WScale sc[R];
    [[unroll]] for (uint r = 0; r < R; ++r) {
      w[r] = weightTexel(data_base[r], t);
      sc[r] = texelScale(min(row0 + r, p.rows - 1u), t);
    }
    [[unroll]] for (uint c = 0; c < COLS; ++c) {
      vec4 xq[QPT];
      float xsum;
      loadXTexel(xq0[c], t, xq, xsum);
      [[unroll]] for (uint r = 0; r < R; ++r) acc[c * R + r] += scaledDot(w[r], xq, xsum, sc[r]);
    }
  }
  if (t * VPT < p.k) {  // the texel holding the last columns: x read per column (loadX4 clamps)
    WTexel w[R];
    WScale sc[R];
    [[unroll]] for (uint r = 0; r < R; ++r) {
      w[r] = weightTexel(data_base[r], t);
      sc[r] = texelScale(min(row0 + r, p.rows - 1u), t);
    }
    [[unroll]] for (uint c = 0; c < COLS; ++c) {
      vec4 xq[QPT];
#ifdef WEIGHT_KQUANT  // K-quant padding values need not be zero: zeros of x meet them
      [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = loadX4Zero(xcol[c] * p.k, t * VPT + 4u * q, p.k);
#else
      [[unroll]] for (uint q = 0; q < QPT; ++q) xq[q] = loadX4(xcol[c] * p.k, t * VPT + 4u * q, p.k);
#endif
      // Padding weights dequantize to 0 (a q4_0 padding nibble is 8), so (n - 8) x vanishes there
      // whatever x holds, and the offset identity needs the sum over every column of the texel.
      const float xsum = sumX(xq);
      prepareX(xq);
      [[unroll]] for (uint r = 0; r < R; ++r) acc[c * R + r] += scaledDot(w[r], xq, xsum, sc[r]);
    }
  }
  [[unroll]] for (uint c = 0; c < COLS; ++c) {
    if (gl_WorkGroupID.z * COLS + c >= p.m_tokens) continue;  // a repeated last column
    [[unroll]] for (uint r = 0; r < R; ++r) {
      const float a = acc[c * R + r];
      if (row0 + r < p.rows) y_[xcol[c] * p.n + p.row_offset + row0 + r] = p.softcap > 0.0 ? p.softcap * safeTanh(a / p.softcap) : a;
    }
  }
}
