// K-quant helpers shared by weight_texel.glsl and weight_element.glsl (GLSL include).
// Device layout: host/weight_matrix.h; the formats: host/model/kquant_blocks.h.
#ifndef VKG_KQUANT_GLSL
#define VKG_KQUANT_GLSL

#if defined(WEIGHT_Q4_K)
const uint KQ_TEXELS = 8u;   // data texels per super-block: low nibbles
#elif defined(WEIGHT_Q5_K)
const uint KQ_TEXELS = 10u;  // 8 of low nibbles, 2 of bit 4
#else
const uint KQ_TEXELS = 13u;  // 8 of low nibbles, 4 of bits 4-5, 1 of int8 sub-block scales
#endif

uint kqByte(uvec4 t, uint n) { return (t[n >> 2u] >> (8u * (n & 3u))) & 255u; }

// Q4_K / Q5_K: scale and bias of sub-block j (0..7) from the super-block's head texel (ggml's first
// 16 bytes: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins): value = scale * q + bias, with
// scale = d * sc and bias = -(dmin * m), both exact in f32 (11 x 6 bits), so value rounds once,
// as ggml's (d * sc) * q - dmin * m does.
vec2 kquantAffine(uvec4 head, uint j) {
  const vec2 dm = unpackHalf2x16(head.x);
  uint sc, m;
  if (j < 4u) {
    sc = kqByte(head, 4u + j) & 63u;
    m = kqByte(head, 8u + j) & 63u;
  } else {
    sc = (kqByte(head, 8u + j) & 15u) | ((kqByte(head, j) >> 6u) << 4u);
    m = (kqByte(head, 8u + j) >> 4u) | ((kqByte(head, 4u + j) >> 6u) << 4u);
  }
  return vec2(dm.x * float(sc), -(dm.y * float(m)));
}

#endif
