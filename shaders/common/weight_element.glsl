// Single-element reads from a weight chunk in the device layout of host/device/weight_matrix.h
// (GLSL include). The including shader declares `weights` (and `scales` for q8_0/q4_0) as
// usamplerBuffer and defines exactly one WEIGHT_* macro. For gathers; matrix products read whole
// texels instead.
#ifndef VKG_WEIGHT_ELEMENT_GLSL
#define VKG_WEIGHT_ELEMENT_GLSL
#include "weight_formats.glsl"
#include "types.glsl"

#if defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K) || defined(WEIGHT_Q6_K) || defined(WEIGHT_Q2_K) || \
    defined(WEIGHT_Q3_K) || defined(WEIGHT_Q4_1) || defined(WEIGHT_Q5_0) || defined(WEIGHT_Q5_1)
#include "kquant.glsl"
#endif

#if defined(WEIGHT_Q8_0) || defined(WEIGHT_Q4_0) || defined(WEIGHT_Q6_K) || defined(WEIGHT_Q3_K)
// f16 scale number s: 8 per texel, two per uint, low half first.
float weightScale(uint s) {
  const uvec4 t = texelFetch(scales, int(s >> 3));
  return unpackHalf2x16(t[(s >> 1) & 3u])[s & 1u];
}
#endif

// Element e of the chunk (e = row * cols_padded + col); cols_padded is a multiple of 32 (K-quants:
// 256, so e / 256 is the chunk's super-block number g: data texels from g * KQ_TEXELS, scale g).
float weightElement(uint e, uint cols_padded) {
#if defined(WEIGHT_F32)
  return uintBitsToFloat(texelFetch(weights, int(e >> 2))[e & 3u]);
#elif defined(WEIGHT_F16)
  return unpackHalf2x16(texelFetch(weights, int(e >> 3))[(e >> 1) & 3u])[e & 1u];
#elif defined(WEIGHT_BF16)
  return unpackBf16x2(texelFetch(weights, int(e >> 3))[(e >> 1) & 3u])[e & 1u];
#elif defined(WEIGHT_Q8_0)
  const uint u = texelFetch(weights, int(e >> 4))[(e >> 2) & 3u];
  const float q = float(bitfieldExtract(int(u), int((e & 3u) * 8u), 8));
  return q * weightScale(e >> 5);
#elif defined(WEIGHT_Q4_0)
  const uint u = texelFetch(weights, int(e >> 5))[(e >> 3) & 3u];
  const float q = float((u >> ((e & 7u) * 4u)) & 15u) - 8.0;
  return q * weightScale(e >> 5);
#elif defined(WEIGHT_Q4_1) || defined(WEIGHT_Q5_0) || defined(WEIGHT_Q5_1)
  // One data texel per block b = e / 32 (value i in nibble i); scales entry b: (f16 d, f16 m),
  // Q5_0 / Q5_1 in 8 bytes with the u32 qh (bit i: bit 4 of value i) after them.
  const uint b = e >> 5u, i = e & 31u;
  uint q = (texelFetch(weights, int(b))[i >> 3u] >> (4u * (i & 7u))) & 15u;
#if defined(WEIGHT_Q4_1)
  const vec2 dm = unpackHalf2x16(texelFetch(scales, int(b >> 2u))[b & 3u]);
  return dm.x * float(q) + dm.y;  // d * q exact: one rounding, as ggml's
#else
  const uvec4 sv = texelFetch(scales, int(b >> 1u));
  const vec2 dm = unpackHalf2x16(sv[(b & 1u) * 2u]);
  q |= ((sv[(b & 1u) * 2u + 1u] >> i) & 1u) << 4u;
#if defined(WEIGHT_Q5_0)
  return dm.x * float(int(q) - 16);  // exact
#else
  return dm.x * float(q) + dm.y;
#endif
#endif
#elif defined(WEIGHT_Q2_K) || defined(WEIGHT_Q3_K)
  // Super-block g = e / 256, texel j of 32 values, value i: host/device/weight_matrix.h's layout.
  const uint g = e >> 8u, j = (e >> 5u) & 7u, i = e & 31u;
  const int sb = int(g * KQ_TEXELS);
  const uint code = (texelFetch(weights, sb + int(j >> 1u))[(j & 1u) * 2u + (i >> 4u)] >> (2u * (i & 15u))) & 3u;
  const uint n = 2u * j + (i >> 4u);  // sub-block of 16 values
#if defined(WEIGHT_Q2_K)
  const uint s = kqByte(texelFetch(weights, sb + 4), n);
  const vec2 dm = unpackHalf2x16(texelFetch(scales, int(g >> 2u))[g & 3u]);
  return (dm.x * float(s & 15u)) * float(code) - dm.y * float(s >> 4u);  // products exact: one rounding
#else
  const uint h = (texelFetch(weights, sb + 4 + int(j >> 2u))[j & 3u] >> i) & 1u;
  const int sc = q3kScale(texelFetch(weights, sb + 6), n);
  return weightScale(g) * float(sc * (int(code | (h << 2u)) - 4));  // exact
#endif
#else  // K-quants: host/device/weight_matrix.h's layout
  const uint g = e >> 8u, j = (e >> 5u) & 7u, i = e & 31u;
  const int sb = int(g * KQ_TEXELS);
  uint q = (texelFetch(weights, sb + int(j))[i >> 3u] >> (4u * (i & 7u))) & 15u;
#if defined(WEIGHT_Q6_K)
  const uint hi = texelFetch(weights, sb + 8 + int(j >> 1u))[(j & 1u) * 2u + (i >> 4u)];
  q |= ((hi >> (2u * (i & 15u))) & 3u) << 4u;
  const uint n = 2u * j + (i >> 4u);  // sub-block of 16 values
  const int sc = bitfieldExtract(int(texelFetch(weights, sb + 12)[n >> 2u]), int(8u * (n & 3u)), 8);
  return weightScale(g) * float(sc * (int(q) - 32));  // sc * (q - 32) exact: one rounding, as ggml's
#else
#if defined(WEIGHT_Q5_K)
  q |= ((texelFetch(weights, sb + 8 + int(j >> 2u))[j & 3u] >> i) & 1u) << 4u;
#endif
  const vec2 a = kquantAffine(texelFetch(scales, int(g)), j);
  return a.x * float(q) + a.y;
#endif
#endif
}
#endif
