#version 460
// kv_write: appends T new key and value rows to a layer's KV cache, converting f32 -> cache dtype.
// Token t (position start_pos + t) goes to slot (start_pos + t) % cache_len (a ring when the cache
// is shorter than the context). One invocation per value pair of K and the same pair of V.
// binding 0: k_new   [T][n_kv_heads * head_dim] f32, read
// binding 1: v_new   [T][n_kv_heads * head_dim] f32, read
// binding 2: k_cache [cache_len][n_kv_heads * head_dim] f16 (two per uint; f32 with -D KV_F32), write
// binding 3: v_cache same layout as k_cache, write
// Quantized caches (-D KV_Q8 / -D KV_Q4, layout in common/kv_quant.glsl): one invocation per
// (token, quant block) of K and the same block of V; it reads the block's 16 or 32 f32 values
// (64 or 128 contiguous bytes), writes its quant words and the scale half. Grid: T * cols / QB
// invocations in workgroups of 64 (a 16-token E2B prefill chunk: 128 invocations per head-row).
// push: KvWriteParams.  spec: 0 workgroup size.  dispatched by host/ops/kv_write.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/kv_write_params.h"
#include "kv_quant.glsl"

layout(local_size_x_id = 0) in;
#if defined(KV_QUANT)
#define KV_T uint
#elif defined(KV_F32)
#define KV_T vec2
#define TO_KV(x) (x)
#else
#define KV_T uint
#define TO_KV(x) packHalf2x16(x)
#endif
layout(std430, binding = 0) readonly buffer KNew { vec2 k_new[]; };
layout(std430, binding = 1) readonly buffer VNew { vec2 v_new[]; };
#ifdef KV_QUANT
layout(std430, binding = 2) buffer KCache { uint k_cache[]; };  // not writeonly: scale atomics
layout(std430, binding = 3) buffer VCache { uint v_cache[]; };
#else
layout(std430, binding = 2) writeonly buffer KCache { KV_T k_cache[]; };
layout(std430, binding = 3) writeonly buffer VCache { KV_T v_cache[]; };
#endif
layout(push_constant) uniform Push { KvWriteParams p; };

#ifdef KV_QUANT
void main() {
  const uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  const uint qb = kvqBlock(p.head_dim), cols = 2u * p.row_pairs, blocks = cols / qb;
  if (i >= p.n_tokens * blocks) return;
  const uint t = i / blocks, c = i % blocks;
  const uint b = ((p.start_pos + t) % p.cache_len) * blocks + c;  // block index in the cache
  const uint qw = kvqQuantWords(p.cache_len * cols);
  float x[32];
  for (uint j = 0u; j < qb / 2u; ++j) {
    const vec2 v = k_new[t * p.row_pairs + c * (qb / 2u) + j];
    x[2u * j] = v.x;
    x[2u * j + 1u] = v.y;
  }
  KVQ_STORE_BLOCK(k_cache, x, b, qw, qb)
  for (uint j = 0u; j < qb / 2u; ++j) {
    const vec2 v = v_new[t * p.row_pairs + c * (qb / 2u) + j];
    x[2u * j] = v.x;
    x[2u * j + 1u] = v.y;
  }
  KVQ_STORE_BLOCK(v_cache, x, b, qw, qb)
}
#else
void main() {
  const uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  if (i >= p.n_tokens * p.row_pairs) return;
  const uint t = i / p.row_pairs, c = i % p.row_pairs;
  const uint dst = ((p.start_pos + t) % p.cache_len) * p.row_pairs + c;
  k_cache[dst] = TO_KV(k_new[i]);
  v_cache[dst] = TO_KV(v_new[i]);
}
#endif
