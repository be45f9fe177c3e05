#version 450
// Compile-only probe (never dispatched): one 16x16x16 f16 x f16 -> f32 cooperative-matrix
// multiply-accumulate, the core step of the planned matrix-unit prefill products and flash
// attention. CMake compiles it to decide whether the chosen glslangValidator can build that kernel
// family (cmake/glslang.cmake), and again at build time as a check when it can.
// Bindings: 0 a [16][16] f16 row-major, 1 b [16][16] f16 column-major, 2 c [16][16] f32 row-major.
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require

layout(local_size_x = 32) in;

layout(std430, binding = 0) readonly buffer A { float16_t a[]; };
layout(std430, binding = 1) readonly buffer B { float16_t b[]; };
layout(std430, binding = 2) writeonly buffer C { float c[]; };

void main() {
  coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> ma;
  coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseB> mb;
  coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator> acc =
      coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator>(0.0);
  coopMatLoad(ma, a, 0, 16, gl_CooperativeMatrixLayoutRowMajor);
  coopMatLoad(mb, b, 0, 16, gl_CooperativeMatrixLayoutColumnMajor);
  acc = coopMatMulAdd(ma, mb, acc);
  coopMatStore(acc, c, 0, 16, gl_CooperativeMatrixLayoutRowMajor);
}
