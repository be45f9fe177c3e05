// Single-element reads from a weight chunk in the device layout of host/weight_matrix.h
// (GLSL include). The including shader declares `weights` (and `scales` for q8_0/q4_0) as
// usamplerBuffer and defines exactly one WEIGHT_* macro. For gathers; matrix products read whole
// texels instead.
#ifndef VKG_WEIGHT_ELEMENT_GLSL
#define VKG_WEIGHT_ELEMENT_GLSL
#include "types.glsl"

#if defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K) || defined(WEIGHT_Q6_K)
#include "kquant.glsl"
#endif

#if defined(WEIGHT_Q8_0) || defined(WEIGHT_Q4_0) || defined(WEIGHT_Q6_K)
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
#else  // K-quants: host/weight_matrix.h's layout
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
