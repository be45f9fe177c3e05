// Single-element reads from a weight chunk in the device layout of host/weight_matrix.h
// (GLSL include). The including shader declares `weights` (and `scales` for q8_0/q4_0) as
// usamplerBuffer and defines exactly one WEIGHT_* macro. For gathers; matrix products read whole
// texels instead.
#ifndef VKG_WEIGHT_ELEMENT_GLSL
#define VKG_WEIGHT_ELEMENT_GLSL
#include "types.glsl"

#if defined(WEIGHT_Q8_0) || defined(WEIGHT_Q4_0)
// f16 scale number s: 8 per texel, two per uint, low half first.
float weightScale(uint s) {
  const uvec4 t = texelFetch(scales, int(s >> 3));
  return unpackHalf2x16(t[(s >> 1) & 3u])[s & 1u];
}
#endif

// Element e of the chunk (e = row * cols_padded + col); cols_padded is a multiple of 32.
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
#else
#error "define one of WEIGHT_F32, WEIGHT_F16, WEIGHT_BF16, WEIGHT_Q8_0, WEIGHT_Q4_0"
#endif
}
#endif
