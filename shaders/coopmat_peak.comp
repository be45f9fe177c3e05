#version 460
// coopmat_peak: the device's f16 x f16 -> f32 matrix-unit peak, for vkg_bench_ops (bench/README.md).
// Nothing but unit multiply-adds on register-resident fragments: every subgroup fills one A and one
// B fragment from push constants, then runs ACCUMULATORS independent chains of `iterations`
// coopMatMulAdd (independent, so the units' pipeline latency is hidden), and writes one word only if
// an element equals a push constant it never equals (so no multiply-add can be dropped).
// FLOPs per dispatch = 2 x FM x FN x FK x ACCUMULATORS x iterations x subgroups.
// binding 0: sink [1] float storage, write (never, in practice).  push: CoopMatPeakParams.
// spec 0: workgroup size (4 subgroups); 1-3 FM, FN, FK: the unit's shape (the host's preferred f16
// shape, as the prefill products use).
// Launch (bench/ops/bench_ops.cpp): 16 workgroups per compute unit (H200: 132 x 16 = 2112 workgroups
// of 4 subgroups of 32 = 270k invocations, 64 subgroups per SM, 16 per matrix-unit partition) and
// 2048 iterations: 2 x 16^3 x 8 x 2048 x 8448 subgroups = 1.1 PFLOP per dispatch, about 1.1 ms at
// the H200's ~990 TFLOP/s dense f16 peak; the bench times the median of several dispatches. The
// serial work of an invocation is 16k multiply-adds on 8 accumulators (64 f32 registers at 16x16).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#include "params/coopmat_peak_params.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FM = 16;
layout(constant_id = 2) const uint FN = 16;
layout(constant_id = 3) const uint FK = 16;
const uint ACCUMULATORS = 8;

layout(std430, binding = 0) writeonly buffer Sink { float sink[]; };
layout(push_constant) uniform Push { CoopMatPeakParams p; };

void main() {
  const coopmat<float16_t, gl_ScopeSubgroup, FM, FK, gl_MatrixUseA> a =
      coopmat<float16_t, gl_ScopeSubgroup, FM, FK, gl_MatrixUseA>(float16_t(p.a));
  const coopmat<float16_t, gl_ScopeSubgroup, FK, FN, gl_MatrixUseB> b =
      coopmat<float16_t, gl_ScopeSubgroup, FK, FN, gl_MatrixUseB>(float16_t(p.b));
  coopmat<float, gl_ScopeSubgroup, FM, FN, gl_MatrixUseAccumulator> acc[ACCUMULATORS];
  for (uint i = 0; i < ACCUMULATORS; ++i)
    acc[i] = coopmat<float, gl_ScopeSubgroup, FM, FN, gl_MatrixUseAccumulator>(float(i));
  for (uint it = 0; it < p.iterations; ++it)
    for (uint i = 0; i < ACCUMULATORS; ++i) acc[i] = coopMatMulAdd(a, b, acc[i]);
  for (uint i = 1; i < ACCUMULATORS; ++i) acc[0] = acc[0] + acc[i];
  if (acc[0][0] == p.magic) sink[0] = acc[0][0];
}
