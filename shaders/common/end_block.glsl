// END_BLOCK: a decode product that also ends its block (GLSL include, matvec.comp and
// matvec_int8.comp with -DEND_BLOCK=1). The workgroup that finishes last (an atomic counter of
// finished workgroups) reads the whole product row y back and does residual_norm_rows.comp's block
// end on it, bit for bit (the same row sums in the same order: ebRowSumSq):
//   x = (x + rmsnorm(y, w_out)) * scale;   a = rmsnorm(x, w_next) when has_next;
//   and, with quant, the row it ends with (a, else x) as int8 activations (quant_block.glsl).
// This folds the block-end dispatch and its barrier into the product: at decode a dependent
// dispatch costs a launch and a barrier (2.5-5 us on a GPU), the block end itself one workgroup
// reading 2 x 6-21 KB from L2 (E2B 1536 / 31B 5376 wide), which the last workgroup does while no
// other work of the step can start anyway. Only one token (m_tokens = 1, COLS = 1), one weight
// chunk, and rows of a multiple of 4 (vec4) with 16-byte aligned bindings (host/ops/matmul.cpp).
// The counter is zero before the dispatch and is left zero by the last workgroup (a replayed step
// runs it again); the product's y writes are made visible with memoryBarrierBuffer before each
// workgroup counts itself (Y is coherent in this variant).
// Bindings (after the product's 0-4; 4 is bound even for unquantized weights):
//   5: x [H] f32 read-write (the residual)   6: w_out [H]   7: w_next [H] (ignored without has_next)
//   8: a [H] f32 write (ignored without has_next)   9: counter, one uint, read-write
//   10: Q, 11: S: the int8 activations (quant only; quant_block.glsl)
// Push: EndBlockParams e, after the product's MatMulParams p. The workgroup size must be a
// multiple of 8 (quant_block.glsl's block of 8 vec4 in neighbouring invocations).
#ifndef VKG_END_BLOCK_GLSL
#define VKG_END_BLOCK_GLSL
#include "reduce.glsl"
#define QUANT_Q_BINDING 10
#define QUANT_S_BINDING 11
#include "quant_block.glsl"

layout(std430, binding = 1) coherent readonly buffer EbY { vec4 eb_y[]; };  // the product's y, by quads
layout(std430, binding = 5) buffer EbX { vec4 eb_x[]; };
layout(std430, binding = 6) readonly buffer EbWOut { vec4 eb_w_out[]; };
layout(std430, binding = 7) readonly buffer EbWNext { vec4 eb_w_next[]; };
layout(std430, binding = 8) writeonly buffer EbA { vec4 eb_a[]; };
layout(std430, binding = 9) coherent buffer EbCounter { uint eb_counter; };
shared uint eb_last;

float ebSumSq(vec4 v) { return (v.x * v.x + v.y * v.y) + (v.z * v.z + v.w * v.w); }  // row_vec.glsl's rowSumSq

// The row's sum of squares (of y, or with inv_y given of the new x), added in exactly the order of
// residual_norm_rows.comp: that kernel's invocation v < e.row_workgroup sums elements v + k *
// row_workgroup (k < row_per) in k order, each subgroup adds its lanes' sums with subgroupAdd and
// the subgroup totals are added in subgroup order (reduce.glsl workgroupSum). Here each of this
// workgroup's subgroups plays that kernel's subgroups j, j + gl_NumSubgroups, ... (lane l as its
// invocation j * gl_SubgroupSize + l), so the sum, and every value after it, is bit-identical to
// the separate block end the batched decode rows run (host/batch: several rows, no fold).
shared float eb_partials[VKG_MAX_SUBGROUPS];
float ebRowSumSq(bool of_x, float inv_y) {
  const uint n = e.dim / 4u, RS = e.row_workgroup, SG = gl_SubgroupSize;
  const uint virtual_subgroups = (RS + SG - 1u) / SG;
  barrier();  // eb_partials of a previous call are read
  for (uint j = gl_SubgroupID; j < virtual_subgroups; j += gl_NumSubgroups) {  // uniform per subgroup
    const uint v = j * SG + gl_SubgroupInvocationID;
    float ss = 0.0;
    if (v < RS) {
      for (uint k = 0; k < e.row_per; ++k) {
        const uint i = v + k * RS;
        if (i >= n) break;
        if (of_x) {
          precise const vec4 xn = (eb_x[i] + eb_y[i] * inv_y * eb_w_out[i]) * e.scale;
          ss += ebSumSq(xn);
        } else {
          ss += ebSumSq(eb_y[i]);
        }
      }
    }
    const float sum = subgroupAdd(ss);
    if (subgroupElect()) eb_partials[j] = sum;
  }
  barrier();
  float total = 0.0;
  for (uint j = 0; j < virtual_subgroups; ++j) total += eb_partials[j];
  return total;
}

// Called once by every invocation of every workgroup that counts in `groups`, after its y writes.
void endBlock(uint groups) {
  memoryBarrierBuffer();
  barrier();
  if (gl_LocalInvocationIndex == 0u) eb_last = atomicAdd(eb_counter, 1u) == groups - 1u ? 1u : 0u;
  barrier();
  if (eb_last == 0u) return;  // uniform per workgroup
  memoryBarrierBuffer();
  if (gl_LocalInvocationIndex == 0u) eb_counter = 0u;
  const uint n = e.dim / 4u, S = gl_WorkGroupSize.x, lid = gl_LocalInvocationIndex;
  const float inv_y = inversesqrt(ebRowSumSq(false, 0.0) / float(e.dim) + e.eps);
  float inv_x = 0.0;
  if (e.has_next != 0u) inv_x = inversesqrt(ebRowSumSq(true, inv_y) / float(e.dim) + e.eps);  // uniform
  const uint steps = (n + S - 1u) / S;  // uniform: quantStore has barriers
  for (uint k = 0; k < steps; ++k) {
    const uint i = lid + k * S;
    vec4 out_v = vec4(0.0);
    if (i < n) {
      precise const vec4 xn = (eb_x[i] + eb_y[i] * inv_y * eb_w_out[i]) * e.scale;
      eb_x[i] = xn;
      out_v = xn;
      if (e.has_next != 0u) {
        out_v = xn * inv_x * eb_w_next[i];
        eb_a[i] = out_v;
      }
    }
    if (e.quant != 0u) quantStore(0u, i, out_v, (e.dim + 31u) / 32u);
  }
}

#endif
