#version 460
// audio_attention: the Gemma 4 audio tower's chunked local self-attention (HF's
// Gemma4AudioAttention), as the sliding window it equals once masked: query t of head h sees keys
// t - W + 1 .. t (W = attention_context_left - 1), with a relative-position key per distance.
//   logit_d = cap * tanh(((q * qs) . (k_{t-d} * k_scale + rel_d)) / cap),  d = 0 .. min(t, W - 1)
//   out = sum_d softmax(logit)_d * v_{t-d}
// qs = q_scale * softplus(per_dim_scale) per head dimension (host-computed); rel: the layer's
// relative_k_proj of the sinusoids [W][NHa * Da] (host-computed once per layer). Keys before the
// clip (t - d < 0) are HF's masked positions: their exp(-1e9 - max) is exactly 0 in float.
// binding 0: q [T][stride].  binding 1: k.  binding 2: v.  binding 3: rel [W][stride].
// binding 4: qs [Da].  binding 5: out [T][stride].  all f32.  push: AudioAttentionParams.
// Workgroup: 64 invocations (fixed).
// Launch geometry: one workgroup per (query, head), Grid1D(T * NHa): 30 s (750 tokens x 8 heads) is
// 6000 workgroups, each streaming 12 key and 12 value rows of Da floats with coalesced loads (the
// 64 invocations split the head dimension). Partial dots go to shared memory, W invocations reduce
// them, one takes the softmax of at most 32 logits. Three barriers and a reduction per workgroup;
// one dispatch per layer.
#extension GL_GOOGLE_include_directive : require
#include "params/audio_params.h"
#include "math.glsl"

layout(local_size_x = 64) in;
#include "indexing.glsl"

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
layout(std430, binding = 3) readonly buffer Rel { float rel[]; };
layout(std430, binding = 4) readonly buffer Qs { float qs[]; };
layout(std430, binding = 5) writeonly buffer Out { float dst[]; };
layout(push_constant) uniform Push { AudioAttentionParams p; };

const uint kMaxWindow = 32;
shared float part[kMaxWindow][64];
shared float prob[kMaxWindow];

void main() {
  const uint g = linearGroup();
  if (g >= p.tokens * p.heads) return;  // uniform per workgroup
  const uint t = g / p.heads, h = g % p.heads, tid = gl_LocalInvocationID.x;
  const uint seen = min(t + 1, p.window);  // keys t - seen + 1 .. t
  const uint head = h * p.head_dim;
  for (uint d = 0; d < seen; ++d) {
    const uint kr = (t - d) * p.stride + head, rr = d * p.stride + head, qr = t * p.stride + head;
    float acc = 0.0;
    for (uint i = tid; i < p.head_dim; i += 64) acc += q[qr + i] * qs[i] * (k[kr + i] * p.k_scale + rel[rr + i]);
    part[d][tid] = acc;
  }
  barrier();
  if (tid < seen) {
    float s = 0.0;
    for (uint j = 0; j < 64; ++j) s += part[tid][j];
    prob[tid] = p.cap * safeTanh(s / p.cap);
  }
  barrier();
  if (tid == 0) {
    float m = prob[0];
    for (uint d = 1; d < seen; ++d) m = max(m, prob[d]);
    float total = 0.0;
    for (uint d = 0; d < seen; ++d) {
      prob[d] = exp(prob[d] - m);
      total += prob[d];
    }
    for (uint d = 0; d < seen; ++d) prob[d] /= total;
  }
  barrier();
  for (uint i = tid; i < p.head_dim; i += 64) {
    float o = 0.0;
    for (uint d = 0; d < seen; ++d) o += prob[d] * v[(t - d) * p.stride + head + i];
    dst[t * p.stride + head + i] = o;
  }
}
