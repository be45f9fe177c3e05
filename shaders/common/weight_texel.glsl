// Whole-texel reads of a weight chunk for the matrix-product kernels (GLSL include; used by
// matvec.comp, matmul.comp and matvec_experts.comp). Gathers of single elements use
// weight_element.glsl instead.
//
// The including shader defines exactly one WEIGHT_<FMT>, FMT one of the weight formats of
// shaders/weight_formats.cmake (the format table: host/formats/format_traits.h; a new format adds
// its branch below), and declares its X input twice on one binding before including this file:
//   layout(std430, binding = B) readonly buffer X { float x_[]; };
//   layout(std430, binding = B) readonly buffer X4 { vec4 x4_[]; };  // the same X, by quads
// This file declares the weight views: w_data at binding WEIGHT_DATA_BINDING (default 2) and, for
// the quantized formats, w_scales at WEIGHT_SCALES_BINDING (default 3); define those macros first to
// move them. It defines VPT (the table's texel_values), QPT, WEIGHT_QUANTIZED (the table's
// quantized rows), WTexel, weightTexel, weightQuad, weightScale and loadX4 (the ggml block formats,
// the table's ggml_block rows, also WEIGHT_KQUANT and weightAffine); none of them reads push
// constants: the shapes come in as arguments.
// The ggml block formats (WEIGHT_KQUANT: the K-quants and ggml's Q4_1 / Q5_0 / Q5_1 / Q2_K / Q3_K):
// a logical texel t is 32 values (one sub-block or block; Q6_K two of 16): WTexel bundles its low
// nibbles with its high bits (Q5_K, Q6_K, Q5_0 / Q5_1, Q3_K) and sub-block scales (Q6_K), gathered
// from the block's data texels by weightTexel; value = scale * weightQuad + bias with (scale, bias) from
// weightAffine (Q6_K: bias 0, its int8 sub-block scale already inside weightQuad). Kernels take the
// bias as bias * sum(x) per texel, the q4_0 offset trick. Not for the integer-dot kernels.
//
// Device layout from host/device/weight_matrix.h: row r of a chunk starts at texel r * row_texels; each
// RGBA32UI texel holds VPT values (f32 4, f16/bf16 8, q8_0 16 = half a block, q4_0 32 = one block).
// Padding columns (k >= K) hold zeros. q8_0 / q4_0 rows have one f16 scale per 32 values: scale s of
// the chunk sits in scales texel s / 8, uint (s % 8) / 2, half s % 2; the ggml block formats keep
// their per-block scale bytes (the table's scale_block_bytes) as kquant.glsl reads them.
#ifndef VKG_WEIGHT_TEXEL_GLSL
#define VKG_WEIGHT_TEXEL_GLSL
#include "weight_formats.glsl"
#include "types.glsl"

#ifndef WEIGHT_DATA_BINDING
#define WEIGHT_DATA_BINDING 2
#endif
#ifndef WEIGHT_SCALES_BINDING
#define WEIGHT_SCALES_BINDING 3
#endif

#if defined(WEIGHT_F32)
const uint VPT = 4;
#elif defined(WEIGHT_F16) || defined(WEIGHT_BF16)
const uint VPT = 8;
#elif defined(WEIGHT_Q8_0)
const uint VPT = 16;
#define WEIGHT_QUANTIZED 1
#elif defined(WEIGHT_Q4_0)
const uint VPT = 32;
#define WEIGHT_QUANTIZED 1
#elif defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K) || defined(WEIGHT_Q6_K) || defined(WEIGHT_Q2_K) || \
    defined(WEIGHT_Q3_K) || defined(WEIGHT_Q4_1) || defined(WEIGHT_Q5_0) || defined(WEIGHT_Q5_1)
// The K-quants and ggml's other block formats: one code path (WEIGHT_KQUANT), 32 values a texel.
const uint VPT = 32;
#define WEIGHT_QUANTIZED 1
#define WEIGHT_KQUANT 1
#include "kquant.glsl"
#else
#error "define one WEIGHT_<FMT> of shaders/weight_formats.cmake's VKG_WEIGHT_FORMATS"
#endif
const uint QPT = VPT / 4;  // quads (vec4 of weights) per texel

layout(binding = WEIGHT_DATA_BINDING) uniform usamplerBuffer w_data;
#ifdef WEIGHT_QUANTIZED
layout(binding = WEIGHT_SCALES_BINDING) uniform usamplerBuffer w_scales;
#endif

// One texel's weights as the kernels hold them: the data texel, or for Q5_K / Q6_K the texel with
// its high bits (and Q6_K its two sub-block scales, int8 in the low 16 bits of sc).
// Q5_0 / Q5_1: the nibble texel and the block's qh (from the scales view); Q2_K: the 64 bits of
// 2-bit codes, its two scale|min bytes (low 16 bits of sc) and the super-block's (d, dmin); Q3_K:
// the 2-bit low codes, the high bits and its two sub-block scales (int8 in the low 16 bits of sc).
#if defined(WEIGHT_Q5_K) || defined(WEIGHT_Q5_0) || defined(WEIGHT_Q5_1)
struct WTexel { uvec4 lo; uint hi; };
#elif defined(WEIGHT_Q6_K)
struct WTexel { uvec4 lo; uvec2 hi; uint sc; };
#elif defined(WEIGHT_Q2_K)
struct WTexel { uvec2 lo; uint sc; vec2 dm; };
#elif defined(WEIGHT_Q3_K)
struct WTexel { uvec2 lo; uint hi; uint sc; };
#else
#define WTexel uvec4
#endif

// Texel t (VPT values from column t * VPT) of the row whose first data texel is `base`.
WTexel weightTexel(int base, uint t) {
#ifdef WEIGHT_KQUANT
  const int sb = base + int((t >> KQ_SHIFT) * KQ_TEXELS);
  const uint j = t & (KQ_TPS - 1u);
#if defined(WEIGHT_Q4_K)
  return texelFetch(w_data, sb + int(j));
#elif defined(WEIGHT_Q4_1)
  return texelFetch(w_data, sb);
#elif defined(WEIGHT_Q5_0) || defined(WEIGHT_Q5_1)
  // sb is also the block's number in the chunk (one data texel per block): its scales entry
  // (8 bytes: f16 d, f16 m (Q5_0: 0), u32 qh) holds the high bits.
  return WTexel(texelFetch(w_data, sb), texelFetch(w_scales, sb >> 1)[(uint(sb) & 1u) * 2u + 1u]);
#elif defined(WEIGHT_Q2_K)
  // Super-block number sb / 5 (rows are whole super-blocks of 5 texels): its (d, dmin) entry.
  const uvec4 c = texelFetch(w_data, sb + int(j >> 1u));
  const uint s = texelFetch(w_data, sb + 4)[j >> 1u];
  const uint g = uint(sb) / KQ_TEXELS;
  const vec2 dm = unpackHalf2x16(texelFetch(w_scales, int(g >> 2u))[g & 3u]);
  return WTexel((j & 1u) == 0u ? c.xy : c.zw, (j & 1u) == 0u ? (s & 0xFFFFu) : (s >> 16u), dm);
#elif defined(WEIGHT_Q3_K)
  const uvec4 c = texelFetch(w_data, sb + int(j >> 1u));
  const uint h = texelFetch(w_data, sb + 4 + int(j >> 2u))[j & 3u];
  const uvec4 b = texelFetch(w_data, sb + 6);
  const uint sc = (uint(q3kScale(b, 2u * j)) & 255u) | ((uint(q3kScale(b, 2u * j + 1u)) & 255u) << 8u);
  return WTexel((j & 1u) == 0u ? c.xy : c.zw, h, sc);
#elif defined(WEIGHT_Q5_K)
  return WTexel(texelFetch(w_data, sb + int(j)), texelFetch(w_data, sb + 8 + int(j >> 2u))[j & 3u]);
#else
  const uvec4 h = texelFetch(w_data, sb + 8 + int(j >> 1u));
  const uint s = texelFetch(w_data, sb + 12)[j >> 1u];
  return WTexel(texelFetch(w_data, sb + int(j)), (j & 1u) == 0u ? h.xy : h.zw, (j & 1u) == 0u ? (s & 0xFFFFu) : (s >> 16u));
#endif
#else
  return texelFetch(w_data, base + int(t));
#endif
}

// Data texels of one row of cols_padded values (the row stride of the data view).
uint weightRowTexels(uint cols_padded) {
#ifdef WEIGHT_KQUANT
  return (cols_padded >> (5u + KQ_SHIFT)) * KQ_TEXELS;
#else
  return cols_padded / VPT;
#endif
}

#ifdef WEIGHT_KQUANT
// Scales-view entries of one row (the kernels' row_scales): one per (super-)block.
uint weightRowScales(uint cols_padded) { return cols_padded >> (5u + KQ_SHIFT); }
#endif

// Quad q (values 4q..4q+3) of a texel, before the block scale (K-quants: the codes; Q6_K: times
// the int8 sub-block scale, exact integers).
vec4 weightQuad(WTexel t, uint q) {
#if defined(WEIGHT_F32)
  return uintBitsToFloat(t);
#elif defined(WEIGHT_F16)
  return vec4(unpackHalf2x16(t[2 * q]), unpackHalf2x16(t[2 * q + 1]));
#elif defined(WEIGHT_BF16)
  return vec4(unpackBf16x2(t[2 * q]), unpackBf16x2(t[2 * q + 1]));
#elif defined(WEIGHT_Q8_0)
  return unpackQ8(t[q]);  // four signed bytes, low byte first
#elif defined(WEIGHT_Q4_0)
  return (q & 1u) == 0u ? unpackQ4Lo(t[q >> 1]) : unpackQ4Hi(t[q >> 1]);
#elif defined(WEIGHT_Q4_K) || defined(WEIGHT_Q4_1)
  const uint u = t[q >> 1u] >> ((q & 1u) * 16u);
  return vec4(float(u & 15u), float((u >> 4u) & 15u), float((u >> 8u) & 15u), float((u >> 12u) & 15u));
#elif defined(WEIGHT_Q5_K) || defined(WEIGHT_Q5_0) || defined(WEIGHT_Q5_1)
  const uint u = t.lo[q >> 1u] >> ((q & 1u) * 16u);
  const uint h = t.hi >> (4u * q);
  return vec4(float((u & 15u) | ((h & 1u) << 4u)), float(((u >> 4u) & 15u) | ((h & 2u) << 3u)),
              float(((u >> 8u) & 15u) | ((h & 4u) << 2u)), float(((u >> 12u) & 15u) | ((h & 8u) << 1u)));
#elif defined(WEIGHT_Q2_K)
  // The values themselves, as ggml computes them: (d * sc) * code - dmin * m, both products exact,
  // one rounding (the two sub-blocks of 16 in a texel have their own mins, so no shared bias).
  const uint c = t.lo[q >> 2u] >> (8u * (q & 3u));  // quad q: values 4q..4q+3, 2 bits each
  const uint s = (t.sc >> (8u * (q >> 2u))) & 255u;  // quads 0-3: sub-block 2j, 4-7: 2j+1
  const vec4 code = vec4(float(c & 3u), float((c >> 2u) & 3u), float((c >> 4u) & 3u), float((c >> 6u) & 3u));
  return (code * float(s & 15u)) * t.dm.x - t.dm.y * float(s >> 4u);
#elif defined(WEIGHT_Q3_K)
  // code (low 2 bits | high bit << 2) - 4 times the int8 sub-block scale: exact integers.
  const uint c = t.lo[q >> 2u] >> (8u * (q & 3u));
  const uint h = t.hi >> (4u * q);
  const int s = bitfieldExtract(int(t.sc), int((q >> 2u) * 8u), 8);
  const ivec4 v = ivec4(int((c & 3u) | ((h & 1u) << 2u)), int(((c >> 2u) & 3u) | ((h & 2u) << 1u)),
                        int(((c >> 4u) & 3u) | (h & 4u)), int(((c >> 6u) & 3u) | ((h & 8u) >> 1u)));
  return vec4((v - 4) * s);
#else  // Q6_K
  const uint u = t.lo[q >> 1u] >> ((q & 1u) * 16u);
  const uint h = t.hi[q >> 2u] >> (8u * (q & 3u));
  const int s = bitfieldExtract(int(t.sc), int((q >> 2u) * 8u), 8);  // quads 0-3: sub-block 2j, 4-7: 2j+1
  const ivec4 c = ivec4(int((u & 15u) | ((h & 3u) << 4u)), int(((u >> 4u) & 15u) | (((h >> 2u) & 3u) << 4u)),
                        int(((u >> 8u) & 15u) | (((h >> 4u) & 3u) << 4u)), int(((u >> 12u) & 15u) | (((h >> 6u) & 3u) << 4u)));
  return vec4((c - 32) * s);
#endif
}

// Quad q as stored, before the q4_0 offset: weightQuad(t, q) == weightQuadRaw(t, q) - WEIGHT_OFFSET.
// Kernels that reuse one x across many rows subtract WEIGHT_OFFSET * sum(x) once instead.
#if defined(WEIGHT_Q4_0)
const float WEIGHT_OFFSET = 8.0;
vec4 weightQuadRaw(uvec4 t, uint q) {
  const uint u = t[q >> 1] >> ((q & 1u) * 16u);
  return vec4(float(u & 15u), float((u >> 4) & 15u), float((u >> 8) & 15u), float((u >> 12) & 15u));
}
// Quad q with its nibbles left in place: nibble k of the uint (k = 0..6) comes as n * 16^k, the top
// one (k = 7) shifted down to n, which saves the shift of 6 nibbles in 8. Dotted with x scaled by
// Q4_MASK_SCALE[q & 1] (16^-k, 1 for k = 7) every product is exactly n x as long as x * 16^-6 stays
// a normal float (|x| > 1e-31): both scalings are powers of two and n * 16^k has 4 significant bits.
const vec4 Q4_MASK_SCALE[2] = {vec4(1.0, 0.0625, 0.00390625, 0.000244140625),
                               vec4(1.52587890625e-05, 9.5367431640625e-07, 5.9604644775390625e-08, 1.0)};
vec4 weightQuadMasked(uvec4 t, uint q) {
  const uint u = t[q >> 1];
  if ((q & 1u) == 0u) return vec4(float(int(u & 0xFu)), float(int(u & 0xF0u)), float(int(u & 0xF00u)), float(int(u & 0xF000u)));
  return vec4(float(int(u & 0xF0000u)), float(int(u & 0xF00000u)), float(int(u & 0xF000000u)), float(int(u >> 28)));
}
#else
const float WEIGHT_OFFSET = 0.0;
vec4 weightQuadRaw(WTexel t, uint q) { return weightQuad(t, q); }
#endif

// Scale of texel t of chunk row r (1 for unquantized weights); row_scales: f16 scales per row
// (cols_padded / 32).
#ifdef WEIGHT_KQUANT
// Scale and bias of texel t of chunk row r: value = scale * weightQuad + bias. row_scales:
// super-blocks per row (cols_padded / 256).
vec2 weightAffine(uint r, uint t, uint row_scales) {
  const uint s = r * row_scales + (t >> KQ_SHIFT);
#if defined(WEIGHT_Q6_K) || defined(WEIGHT_Q3_K)
  const uvec4 v = texelFetch(w_scales, int(s >> 3u));
  return vec2(unpackHalf2x16(v[(s >> 1u) & 3u])[s & 1u], 0.0);
#elif defined(WEIGHT_Q2_K)
  return vec2(1.0, 0.0);  // weightQuad gives the values (d, dmin and the mins inside WTexel)
#elif defined(WEIGHT_Q4_1)
  return unpackHalf2x16(texelFetch(w_scales, int(s >> 2u))[s & 3u]);  // (d, m): d * q + m
#elif defined(WEIGHT_Q5_1)
  return unpackHalf2x16(texelFetch(w_scales, int(s >> 1u))[(s & 1u) * 2u]);  // (d, m)
#elif defined(WEIGHT_Q5_0)
  // d * q - 16 d = d * (q - 16): both terms and the sum exact (|q - 16| <= 16), as ggml's
  const float d = unpackHalf2x16(texelFetch(w_scales, int(s >> 1u))[(s & 1u) * 2u]).x;
  return vec2(d, -16.0 * d);
#else
  return kquantAffine(texelFetch(w_scales, int(s)), t & 7u);
#endif
}
#endif

float weightScale(uint r, uint t, uint row_scales) {
#if defined(WEIGHT_KQUANT)
  return weightAffine(r, t, row_scales).x;  // callers add the bias themselves
#elif defined(WEIGHT_QUANTIZED)
  const uint s = r * row_scales + t * VPT / 32u;
  const uvec4 v = texelFetch(w_scales, int(s >> 3));
  return unpackHalf2x16(v[(s >> 1) & 3u])[s & 1u];
#else
  return 1.0;
#endif
}

// Shaders without an X input (embed_rows.comp) define WEIGHT_TEXEL_NO_X before including this file.
#ifndef WEIGHT_TEXEL_NO_X
// x[base + k .. base + k + 3] of an X row of `cols` floats starting at element base. Whole quads
// inside the row come in one vec4 load when rows are 16-byte aligned (cols % 4 == 0: every real
// model shape); otherwise k is clamped to cols - 1: X has only cols columns, and the weights past
// them are zero, so any finite value of the row works there.
#ifdef X_TEXEL_BINDING
// X again, as RGBA32UI texels: on lavapipe texel fetches are 3-5x faster than storage loads
// (docs/lavapipe.md), and the products read X far more often than they read weights.
layout(binding = X_TEXEL_BINDING) uniform usamplerBuffer x_tex;
#endif

vec4 loadX4(uint base, uint k, uint cols) {
#ifdef X_TEXEL_BINDING
  if ((cols & 3u) == 0u && k < cols) return uintBitsToFloat(texelFetch(x_tex, int((base + k) >> 2)));
#else
  if ((cols & 3u) == 0u && k < cols) return x4_[(base + k) >> 2];
#endif
  const uint last = cols - 1u;
  return vec4(x_[base + min(k, last)], x_[base + min(k + 1u, last)], x_[base + min(k + 2u, last)],
              x_[base + min(k + 3u, last)]);
}

// loadX4 with zeros past column `cols`: K-quant padding values need not dequantize to zero (a
// sub-block's min is subtracted from them), so they must meet zeros.
vec4 loadX4Zero(uint base, uint k, uint cols) {
  const vec4 v = loadX4(base, k, cols);
  return vec4(k < cols ? v.x : 0.0, k + 1u < cols ? v.y : 0.0, k + 2u < cols ? v.z : 0.0, k + 3u < cols ? v.w : 0.0);
}
#endif  // WEIGHT_TEXEL_NO_X

#endif
