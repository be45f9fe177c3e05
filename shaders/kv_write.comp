#version 460
// kv_write: appends T new key and value rows to a layer's KV cache, converting f32 -> cache dtype.
// Token t (position start_pos + t) goes to slot (start_pos + t) % cache_len (a ring when the cache
// is shorter than the context). One invocation per value pair of K and the same pair of V.
// binding 0: k_new   [T][n_kv_heads * head_dim] f32, read
// binding 1: v_new   [T][n_kv_heads * head_dim] f32, read
// binding 2: k_cache [cache_len][n_kv_heads * head_dim] f16 (two per uint; f32 with -D KV_F32), write
// binding 3: v_cache same layout as k_cache, write
// push: KvWriteParams.  spec: 0 workgroup size.  dispatched by host/ops/kv_write.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/kv_write_params.h"

layout(local_size_x_id = 0) in;
#ifdef KV_F32
#define KV_T vec2
#define TO_KV(x) (x)
#else
#define KV_T uint
#define TO_KV(x) packHalf2x16(x)
#endif
layout(std430, binding = 0) readonly buffer KNew { vec2 k_new[]; };
layout(std430, binding = 1) readonly buffer VNew { vec2 v_new[]; };
layout(std430, binding = 2) writeonly buffer KCache { KV_T k_cache[]; };
layout(std430, binding = 3) writeonly buffer VCache { KV_T v_cache[]; };
layout(push_constant) uniform Push { KvWriteParams p; };

void main() {
  const uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  if (i >= p.n_tokens * p.row_pairs) return;
  const uint t = i / p.row_pairs, c = i % p.row_pairs;
  const uint dst = ((p.start_pos + t) % p.cache_len) * p.row_pairs + c;
  k_cache[dst] = TO_KV(k_new[i]);
  v_cache[dst] = TO_KV(v_new[i]);
}
