// Load helpers for the storage formats (GLSL include). Weights live in uniform texel buffers of
// RGBA32UI texels (16 bytes); these unpack one texel into floats.
#ifndef VKG_TYPES_GLSL
#define VKG_TYPES_GLSL

// bf16 -> f32 is a 16-bit shift; two bf16 per uint, low half first.
vec2 unpackBf16x2(uint u) { return vec2(uintBitsToFloat(u << 16), uintBitsToFloat(u & 0xffff0000u)); }

// q4_0 nibbles: value i of a block is nibble i, low nibble first; 8 values per uint, offset by 8.
vec4 unpackQ4Lo(uint u) {  // values 0..3 of this uint
  return vec4(float(u & 15u), float((u >> 4) & 15u), float((u >> 8) & 15u), float((u >> 12) & 15u)) - 8.0;
}
vec4 unpackQ4Hi(uint u) {  // values 4..7
  return vec4(float((u >> 16) & 15u), float((u >> 20) & 15u), float((u >> 24) & 15u), float(u >> 28)) - 8.0;
}
// q8_0 quants: four signed bytes per uint, low byte first.
vec4 unpackQ8(uint u) {
  const int i = int(u);
  return vec4(bitfieldExtract(i, 0, 8), bitfieldExtract(i, 8, 8), bitfieldExtract(i, 16, 8), bitfieldExtract(i, 24, 8));
}

#endif
