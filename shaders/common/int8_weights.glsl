// q8_0 / q4_0 weights and int8 activations for the integer-dot products (GLSL include; used by
// matvec_int8.comp and matmul_int8_tiled.comp). The including shader defines WEIGHT_Q8_0 or
// WEIGHT_Q4_0 and enables GL_EXT_integer_dot_product.
//
// Weights: host/device/weight_matrix.h's layout through RGBA32UI texel views, w_data at binding 3 and
// w_scales at 4: a q8_0 block is two texels (value i in byte i % 4 of uint i / 4, signed), a q4_0
// block one texel (value i in nibble i % 8 of uint i / 8, stored as q + 8); one f16 scale per block.
// Activations (quantize_activations.comp): xq_ [M][blocks][2] uvec4 at binding 0 (32 int8 per
// block, the q8_0 order), xs_ [M][blocks] vec2 at binding 2: (d, d * sum of the block's int8).
#ifndef VKG_INT8_WEIGHTS_GLSL
#define VKG_INT8_WEIGHTS_GLSL

#if defined(WEIGHT_Q8_0)
const uint TEXELS_PER_BLOCK = 2;
#elif defined(WEIGHT_Q4_0)
const uint TEXELS_PER_BLOCK = 1;
#else
#error "define WEIGHT_Q8_0 or WEIGHT_Q4_0"
#endif

layout(std430, binding = 0) readonly buffer XQ { uvec4 xq_[]; };
layout(std430, binding = 2) readonly buffer XS { vec2 xs_[]; };
layout(binding = 3) uniform usamplerBuffer w_data;
layout(binding = 4) uniform usamplerBuffer w_scales;

// The f16 scale of block b of chunk row r (row_scales: blocks per row): 8 scales per texel.
float blockScale(uint r, uint b, uint row_scales) {
  const uint s = r * row_scales + b;
  const uvec4 v = texelFetch(w_scales, int(s >> 3));
  return unpackHalf2x16(v[(s >> 1) & 3u])[s & 1u];
}

// Signed 4 x int8 dot product of packed words. Sums of a block stay below 32 x 127 x 127 < 2^19,
// so the plain (non-saturating) form accumulated with integer adds is exact; drivers fuse the add
// into the dot instruction (NVIDIA IDP4A, AMD V_DOT4_I32_I8).
int dot4(uint a, uint b) { return dotPacked4x8EXT(int(a), int(b)); }

// q4_0: the even and odd values of 8 consecutive int8 activations (uints lo = values 0..3, hi =
// 4..7) as the packed words the masked nibbles of one weight uint meet: (u & 0x0F0F0F0F) holds
// nibbles 0, 2, 4, 6 and ((u >> 4) & 0x0F0F0F0F) nibbles 1, 3, 5, 7, one per byte.
uint evenBytes(uint lo, uint hi) {
  return (lo & 0xFFu) | ((lo >> 8) & 0xFF00u) | ((hi & 0xFFu) << 16) | ((hi << 8) & 0xFF000000u);
}
uint oddBytes(uint lo, uint hi) {
  return ((lo >> 8) & 0xFFu) | ((lo >> 16) & 0xFF00u) | ((hi << 8) & 0xFF0000u) | (hi & 0xFF000000u);
}

// q4_0: nibbles 0..3 of a 16-bit value spread to bytes 0..3 (two shift-or-mask steps), then
// minus 8 per byte without borrows between bytes: the signed int8 weights in the q8_0 order.
uint spreadNibbles(uint x) {
  const uint y = (x | (x << 8)) & 0x00FF00FFu;
  return (y | (y << 4)) & 0x0F0F0F0Fu;
}
uint minus8(uint bytes) { return ((bytes | 0x80808080u) - 0x08080808u) ^ 0x80808080u; }
#endif
