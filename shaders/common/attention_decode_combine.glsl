// Pass 2 of attention_decode_gpu.comp (GLSL include): merging the key splits' partial softmax
// states (m, l, o unnormalised) of one head into its output, one 64-value slice of the head at a
// time: M = max m_s and L = sum l_s e^(m_s - M) by workgroup reductions over the splits, weights
// e^(m_s - M) in shared memory, then each invocation sums a quarter of the splits for its value:
// out = sum_s o_s e^(m_s - M) / L. The includer declares scratch[] (read; [n_splits][n_heads]
// [HEAD_DIM + 2]) and out_[] (write; [n_heads][HEAD_DIM]), HEAD_DIM, NEG_BIG and reduce.glsl.
// Every invocation of the workgroup calls combineSlice (it has barriers); the workgroup size
// decides the order of the sums, so pass 2 and COMBINE_LAST (both 256 invocations) give the same
// bits.
#ifndef VKG_ATTENTION_DECODE_COMBINE_GLSL
#define VKG_ATTENTION_DECODE_COMBINE_GLSL

const uint SLICE = 64;                 // head values per workgroup
const uint MAX_SPLITS = 1024;          // host/ops/plans/attention_plan.cpp never plans more
shared float sh_w[MAX_SPLITS];         // e^(m_s - M), 0 for empty splits
shared float sh_o[SLICE * 4];

// Head h's values slice * SLICE .. + SLICE from the n_splits partials in scratch, into out_: the
// work of pass 2's workgroup (h, slice), also done by pass 1's last split (COMBINE_LAST).
void combineSlice(uint h, uint slice, uint n_heads, uint n_splits) {
  const uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  barrier();  // a previous call's reads of sh_w and sh_o are done
  const uint stride = HEAD_DIM + 2;
  float mx = NEG_BIG;
  for (uint s = tid; s < n_splits; s += wg) {
    const uint b = (s * n_heads + h) * stride;
    if (scratch[b + 1] > 0.0) mx = max(mx, scratch[b]);
  }
  const float M = workgroupMax(mx);
  float lsum = 0.0;
  for (uint s = tid; s < n_splits; s += wg) {
    const uint b = (s * n_heads + h) * stride;
    const float l = scratch[b + 1];
    const float w = l > 0.0 ? exp(scratch[b] - M) : 0.0;
    sh_w[s] = w;
    lsum += l * w;
  }
  // Divided, not multiplied by a reciprocal: with one non-empty split the result is exactly pass
  // 1's own o / l, so a replayed step (more, empty splits) equals a step recorded for its position.
  const float L = workgroupSum(lsum);
  barrier();  // sh_w is complete
  const uint groups = wg / SLICE;  // 4 with 256 invocations
  const uint g = tid / SLICE, d = slice * SLICE + tid % SLICE;
  float o = 0.0;
  if (g < groups && d < HEAD_DIM) {
    uint s = g;
    // Four splits per step: four independent loads in flight.
    for (; s + 3 * groups < n_splits; s += 4 * groups) {
      float v[4], w[4];
      [[unroll]] for (uint u = 0; u < 4; ++u) {
        const uint su = s + u * groups;
        w[u] = sh_w[su];
        v[u] = scratch[(su * n_heads + h) * stride + 2 + d];
      }
      [[unroll]] for (uint u = 0; u < 4; ++u) o += w[u] > 0.0 ? w[u] * v[u] : 0.0;
    }
    for (; s < n_splits; s += groups) {
      const float w = sh_w[s];
      if (w > 0.0) o += w * scratch[(s * n_heads + h) * stride + 2 + d];
    }
  }
  if (g < 4) sh_o[g * SLICE + tid % SLICE] = o;
  barrier();
  if (g == 0 && d < HEAD_DIM) {
    float sum = 0.0;
    for (uint k = 0; k < min(groups, 4u); ++k) sum += sh_o[k * SLICE + tid];
    out_[h * HEAD_DIM + d] = sum / L;
  }
}

#endif
