#version 450
// Compile-only probe (never dispatched): a signed 4 x int8 dot product of packed words with
// accumulation, the inner step of the planned integer-dot q8_0/q4_0 products. CMake compiles it
// to decide whether the chosen glslangValidator can build that kernel family (cmake/glslang.cmake).
// Bindings: 0 a [n] packed int8x4, 1 b [n] packed int8x4, 2 c [n] int32 (accumulated in place).
#extension GL_EXT_integer_dot_product : require

layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer A { int a[]; };
layout(std430, binding = 1) readonly buffer B { int b[]; };
layout(std430, binding = 2) buffer C { int c[]; };

void main() {
  uint i = gl_GlobalInvocationID.x;
  c[i] = dotPacked4x8AccSatEXT(a[i], b[i], c[i]);
}
