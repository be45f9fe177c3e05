// K-quant helpers shared by weight_texel.glsl and weight_element.glsl (GLSL include).
// Device layout: host/device/weight_matrix.h; the formats: host/formats/kquant_blocks.h.
#ifndef VKG_KQUANT_GLSL
#define VKG_KQUANT_GLSL

// KQ_TEXELS: data texels per (super-)block; KQ_SHIFT: log2 of its 32-value logical texels (8 for
// the 256-value K-quants, 1 for ggml's 32-value Q4_1 / Q5_0 / Q5_1, which ride the same kernels).
#if defined(WEIGHT_Q4_K)
const uint KQ_TEXELS = 8u;   // data texels per super-block: low nibbles
#elif defined(WEIGHT_Q5_K)
const uint KQ_TEXELS = 10u;  // 8 of low nibbles, 2 of bit 4
#elif defined(WEIGHT_Q6_K)
const uint KQ_TEXELS = 13u;  // 8 of low nibbles, 4 of bits 4-5, 1 of int8 sub-block scales
#elif defined(WEIGHT_Q2_K)
const uint KQ_TEXELS = 5u;   // 4 of 2-bit codes (one u64 per 32 values), 1 of ggml's 16 scale|min bytes
#elif defined(WEIGHT_Q3_K)
const uint KQ_TEXELS = 7u;   // 4 of 2-bit low codes, 2 of high bits (one u32 per 32 values), 1 of ggml's 12 scale bytes
#else                        // Q4_1, Q5_0, Q5_1: one texel of nibbles per 32-value block
const uint KQ_TEXELS = 1u;
#endif
#if defined(WEIGHT_Q4_1) || defined(WEIGHT_Q5_0) || defined(WEIGHT_Q5_1)
const uint KQ_SHIFT = 0u;  // one logical texel per block
#else
const uint KQ_SHIFT = 3u;  // eight per super-block of 256
#endif
const uint KQ_TPS = 1u << KQ_SHIFT;  // logical texels per (super-)block

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

// Q3_K: the 6-bit scale of sub-block s (0..15), minus 32, from ggml's 12 packed bytes (texel b):
// low 4 bits in byte s (s < 8, low nibble) or s - 8 (high nibble), high 2 bits at bits
// 2 (s / 4) .. 2 (s / 4) + 1 of byte 8 + s % 4.
int q3kScale(uvec4 b, uint s) {
  const uint lo = s < 8u ? (kqByte(b, s) & 15u) : (kqByte(b, s - 8u) >> 4u);
  const uint hi = (kqByte(b, 8u + (s & 3u)) >> (2u * (s >> 2u))) & 3u;
  return int(lo | (hi << 4u)) - 32;
}

#endif
