// Value type of the GPU row kernels (GLSL include): VEC4 = 1 reads and writes 16-byte vec4
// elements (rows whose length and offsets are multiples of 4 floats), otherwise single floats.
// ROW_VW is the number of floats per element; rowSumSq the sum of squares of one element.
#ifndef VKG_ROW_VEC_GLSL
#define VKG_ROW_VEC_GLSL
#if VEC4
#define ROW_T vec4
#define ROW_VW 4u
float rowSumSq(vec4 v) { return (v.x * v.x + v.y * v.y) + (v.z * v.z + v.w * v.w); }
#else
#define ROW_T float
#define ROW_VW 1u
float rowSumSq(float v) { return v * v; }
#endif
#endif
