// A small matrix-fragment API for the matrix-unit kernels (GLSL include), in two implementations
// with the same fragment shapes and shared-memory layouts:
//   COOPMAT_EMULATED undefined: GL_KHR_cooperative_matrix (the device's matrix units);
//   COOPMAT_EMULATED defined:   plain shared-memory loops, so that every other part of a kernel
//                               (tile loads, dequantization, edges, output) runs and is tested on
//                               devices without matrix units (lavapipe); never picked for speed.
//
// Fragments: A = FM x FK (tokens x K), B = FK x FN (K x weight rows), C = FM x FN f32 accumulators,
// FM/FN/FK the unit's shape as specialization constants chosen by the host from the device's
// reported shapes. A and B come from f16 shared arrays the including shader declares before this
// file:
//   shared float16_t a_sh[...];  // A tiles, row-major (token m, k) at m * A_STRIDE + k
//   shared float16_t b_sh[...];  // B tiles, column-major (k, row n) at n * B_STRIDE + k
//   shared float c_sh[...];      // one FM x FN staging fragment per subgroup, row-major
// with constants A_STRIDE and B_STRIDE (elements; multiples of 8 so every row starts on 16 bytes).
// A kernel with packed B that defines COOPMAT_STAGE_IN_B keeps fragStore's staging fragments in
// b_sh itself (floats i at b_sh[i / 4][i % 4]; offsets multiples of 4), read back by fragStaged,
// once its last B fragments are read (after a barrier): no c_sh of its own.
// Packed operands: a kernel that defines COOPMAT_A_PACKED (COOPMAT_B_PACKED) before this file
// declares a_sh (b_sh) as `shared uvec4 a_sh[...]` instead, 8 halves per element (low half first,
// packFloat2x16 pairs), so that its tile stores are whole 16-byte stores; the API's offsets and
// strides stay in halves (multiples of 8) and the loads reinterpret the array (the cooperative-matrix
// load takes any element type, its offset and stride in units of it).
// Kernels with several operands per array (attention_prefill_coopmat.comp: Q and P in a_sh, K and
// V in b_sh, scores and staging in c_sh) use the *Stride forms, which take the row stride (and, for
// B, the layout) per load: fragLoadAStride, fragLoadBColStride (B[k][n] at n * stride + k),
// fragLoadBRowStride (B[k][n] at k * stride + n), fragLoadC / fragStoreStride (row-major C).
//
// A "subgroup" is the set of invocations that owns a fragment: the hardware subgroup for the real
// units; in the emulation, EMU_LANES consecutive invocations (no subgroup operations at all, so it
// is correct on any device and subgroup size). fragSubgroup(), fragLane() and fragLanes() say which.
#ifndef VKG_COOPMAT_FRAGMENT_GLSL
#define VKG_COOPMAT_FRAGMENT_GLSL

#ifdef COOPMAT_A_PACKED
const uint FRAG_A_UNIT = 8;  // halves per a_sh element
#else
const uint FRAG_A_UNIT = 1;
#endif
#ifdef COOPMAT_B_PACKED
const uint FRAG_B_UNIT = 8;
#else
const uint FRAG_B_UNIT = 1;
#endif

#ifndef COOPMAT_EMULATED
// ---- real: the device's matrix units ----
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require

#define FragA coopmat<float16_t, gl_ScopeSubgroup, FM, FK, gl_MatrixUseA>
#define FragB coopmat<float16_t, gl_ScopeSubgroup, FK, FN, gl_MatrixUseB>
#define FragC coopmat<float, gl_ScopeSubgroup, FM, FN, gl_MatrixUseAccumulator>

uint fragSubgroup() { return gl_SubgroupID; }
uint fragLane() { return gl_SubgroupInvocationID; }
uint fragLanes() { return gl_SubgroupSize; }

FragC fragZero() { return FragC(0.0); }
FragA fragLoadA(uint off) {  // A tile at a_sh[off], row-major
  FragA a;
  coopMatLoad(a, a_sh, off / FRAG_A_UNIT, A_STRIDE / FRAG_A_UNIT, gl_CooperativeMatrixLayoutRowMajor);
  return a;
}
FragB fragLoadB(uint off) {  // B tile at b_sh[off], column-major (weight rows are k-contiguous)
  FragB b;
  coopMatLoad(b, b_sh, off / FRAG_B_UNIT, B_STRIDE / FRAG_B_UNIT, gl_CooperativeMatrixLayoutColumnMajor);
  return b;
}
FragC fragMulAdd(FragA a, FragB b, FragC c) { return coopMatMulAdd(a, b, c); }
void fragStore(FragC c, uint off) {  // to c_sh[off] (or fragStaged(off)), row-major, FN floats per row
#ifdef COOPMAT_STAGE_IN_B
  coopMatStore(c, b_sh, off / 4u, FN / 4u, gl_CooperativeMatrixLayoutRowMajor);
#else
  coopMatStore(c, c_sh, off, FN, gl_CooperativeMatrixLayoutRowMajor);
#endif
}
FragA fragLoadAStride(uint off, uint stride) {  // A[m][k] at a_sh[off + m * stride + k]
  FragA a;
  coopMatLoad(a, a_sh, off / FRAG_A_UNIT, stride / FRAG_A_UNIT, gl_CooperativeMatrixLayoutRowMajor);
  return a;
}
FragB fragLoadBColStride(uint off, uint stride) {  // B[k][n] at b_sh[off + n * stride + k]
  FragB b;
  coopMatLoad(b, b_sh, off / FRAG_B_UNIT, stride / FRAG_B_UNIT, gl_CooperativeMatrixLayoutColumnMajor);
  return b;
}
FragB fragLoadBRowStride(uint off, uint stride) {  // B[k][n] at b_sh[off + k * stride + n]
  FragB b;
  coopMatLoad(b, b_sh, off / FRAG_B_UNIT, stride / FRAG_B_UNIT, gl_CooperativeMatrixLayoutRowMajor);
  return b;
}
#ifndef COOPMAT_STAGE_IN_B  // the strided C forms work on c_sh
FragC fragLoadC(uint off, uint stride) {  // C[m][n] at c_sh[off + m * stride + n]
  FragC c;
  coopMatLoad(c, c_sh, off, stride, gl_CooperativeMatrixLayoutRowMajor);
  return c;
}
void fragStoreStride(FragC c, uint off, uint stride) {  // to c_sh[off + m * stride + n]
  coopMatStore(c, c_sh, off, stride, gl_CooperativeMatrixLayoutRowMajor);
}
#endif

#else
// ---- emulated: the same fragments on shared memory, EMU_LANES invocations per "subgroup" ----
const uint EMU_LANES = 8;
// The K loop of an emulated multiply-add: rolled by default; a kernel whose workgroups run many
// multiply-adds defines it as [[unroll]] (FK is known once specialized), so that lavapipe's loop
// limiter (65535 iterations, counted over every loop a workgroup runs) sees 1/FK of them.
#ifndef COOPMAT_EMU_K_LOOP
#define COOPMAT_EMU_K_LOOP [[dont_unroll]]
#endif
const uint EMU_MAX_ELEMENTS = 16 * 16 / EMU_LANES;  // per lane; the host keeps FM, FN <= 16

// A[m][k] at a_sh[off + m * rs + k]; B[k][n] at b_sh[off + n * cs + k * ks] (column-major: cs =
// stride, ks = 1; row-major: cs = 1, ks = stride).
struct FragA { uint off; uint rs; };
struct FragB { uint off; uint cs; uint ks; };
struct FragC { float v[EMU_MAX_ELEMENTS]; };  // element e of lane l: index e * EMU_LANES + l, row-major

// Half i of a_sh / b_sh (an index in halves, packed or not).
float fragAHalf(uint i) {
#ifdef COOPMAT_A_PACKED
  return float(unpackFloat2x16(a_sh[i >> 3u][(i >> 1u) & 3u])[i & 1u]);
#else
  return float(a_sh[i]);
#endif
}
float fragBHalf(uint i) {
#ifdef COOPMAT_B_PACKED
  return float(unpackFloat2x16(b_sh[i >> 3u][(i >> 1u) & 3u])[i & 1u]);
#else
  return float(b_sh[i]);
#endif
}

uint fragSubgroup() { return gl_LocalInvocationIndex / EMU_LANES; }
uint fragLane() { return gl_LocalInvocationIndex % EMU_LANES; }
uint fragLanes() { return EMU_LANES; }

FragC fragZero() {
  FragC c;
  [[dont_unroll]] for (uint e = 0; e < EMU_MAX_ELEMENTS; ++e) c.v[e] = 0.0;
  return c;
}
FragA fragLoadA(uint off) { return FragA(off, A_STRIDE); }
FragB fragLoadB(uint off) { return FragB(off, B_STRIDE, 1u); }
FragA fragLoadAStride(uint off, uint stride) { return FragA(off, stride); }
FragB fragLoadBColStride(uint off, uint stride) { return FragB(off, stride, 1u); }
FragB fragLoadBRowStride(uint off, uint stride) { return FragB(off, 1u, stride); }
// f16 x f16 products are exact in f32; the sums are f32, as the matrix units' f32 accumulation.
FragC fragMulAdd(FragA a, FragB b, FragC c) {
  [[dont_unroll]] for (uint e = 0; e < FM * FN / EMU_LANES; ++e) {
    const uint i = e * EMU_LANES + fragLane(), r = i / FN, col = i % FN;
    float s = 0.0;
    COOPMAT_EMU_K_LOOP for (uint k = 0; k < FK; ++k) s += fragAHalf(a.off + r * a.rs + k) * fragBHalf(b.off + col * b.cs + k * b.ks);
    c.v[e] += s;
  }
  return c;
}
void fragStore(FragC c, uint off) {
  [[dont_unroll]] for (uint e = 0; e < FM * FN / EMU_LANES; ++e) {
    const uint i = off + e * EMU_LANES + fragLane();
#ifdef COOPMAT_STAGE_IN_B
    b_sh[i >> 2u][i & 3u] = floatBitsToUint(c.v[e]);
#else
    c_sh[i] = c.v[e];
#endif
  }
}
#ifndef COOPMAT_STAGE_IN_B
void fragStoreStride(FragC c, uint off, uint stride) {
  [[dont_unroll]] for (uint e = 0; e < FM * FN / EMU_LANES; ++e) {
    const uint i = e * EMU_LANES + fragLane();
    c_sh[off + (i / FN) * stride + i % FN] = c.v[e];
  }
}
FragC fragLoadC(uint off, uint stride) {
  FragC c = fragZero();
  [[dont_unroll]] for (uint e = 0; e < FM * FN / EMU_LANES; ++e) {
    const uint i = e * EMU_LANES + fragLane();
    c.v[e] = c_sh[off + (i / FN) * stride + i % FN];
  }
  return c;
}
#endif
#endif

// Float i of the staging area fragStore wrote (after a barrier).
float fragStaged(uint i) {
#ifdef COOPMAT_STAGE_IN_B
  return uintBitsToFloat(b_sh[i >> 2u][i & 3u]);
#else
  return c_sh[i];
#endif
}

#endif
