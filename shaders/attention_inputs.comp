#version 460
// attention_inputs: everything between a layer's stacked Q/K/V projection and its attention, in
// one dispatch (docs/model.md §2.4): per head of every token at position pos = start_pos + t,
//   q[t][h]                      = rope(rmsnorm(qkv[t] q part [h], q_norm), pos)     h < n_heads
//   k_cache[pos % cache_len][h]  = rope(rmsnorm(qkv[t] k part [h], k_norm), pos)     h < n_kv_heads
//   v_cache[pos % cache_len][h]  = rmsnorm_noweight(qkv[t] v part [h])   (the raw K on K=V layers)
// replacing three per-head norms, two RoPEs and the KV write (six dispatches, four barriers).
// One workgroup per (token, head): heads [0, NH) are queries, [NH, NH + KVH) keys, then values.
// Each invocation owns value pairs (2j, 2j + 1) and their RoPE partners (2j + D/2, 2j + 1 + D/2), so
// an f16 cache is written as whole packed pairs without 16-bit storage.
// binding 0: q [T][NH * D] f32, write               binding 1: q_norm [D] f32, read
// binding 2: qkv [T][qkv_cols] f32, read: q at column 0, K at k_col, V at v_col
// binding 3: k_norm [D] f32, read                   binding 4: inv_freq [D / 2] f32 (0: pair not rotated)
// binding 5: k_cache [cache_len][KVH * D] f16 pairs in uints (f32 with -D KV_F32), write
// binding 6: v_cache, same layout, write
// binding 7: position: one uint replacing start_pos when pos_from_buffer (replayed decode)
// Quantized caches (-D KV_Q8 / -D KV_Q4, layout in common/kv_quant.glsl): a K or V workgroup puts
// its normed (roped) head in shared memory, then invocation i quantizes blocks i, i + 64, ... of
// the head (head 256: 8 blocks of 32; 512: 16) and writes their quant words and scale halves: the
// write stays in this dispatch, no extra pass. One barrier, in a workgroup-uniform branch.
// push: AttentionInputsParams.  spec 0: workgroup size.  dispatched by host/ops/attention_inputs.cpp
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
#include "params/attention_inputs_params.h"
#include "math.glsl"
#include "reduce.glsl"
#include "kv_quant.glsl"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"

#if defined(KV_QUANT)
#define KV_T uint
#define TO_KV(x) 0u
#elif defined(KV_F32)
#define KV_T vec2
#define TO_KV(x) (x)
#else
#define KV_T uint
#define TO_KV(x) packHalf2x16(x)
#endif

layout(std430, binding = 0) writeonly buffer Q { vec2 q[]; };
layout(std430, binding = 1) readonly buffer QNorm { vec2 q_norm[]; };
layout(std430, binding = 2) readonly buffer Qkv { vec2 qkv[]; };
layout(std430, binding = 3) readonly buffer KNorm { vec2 k_norm[]; };
layout(std430, binding = 4) readonly buffer F { vec2 inv_freq[]; };
#ifdef KV_QUANT
layout(std430, binding = 5) buffer KCache { uint k_cache[]; };  // not writeonly: scale atomics
layout(std430, binding = 6) buffer VCache { uint v_cache[]; };
shared float sh_head[512];  // the K or V head before it is quantized
#else
layout(std430, binding = 5) writeonly buffer KCache { KV_T k_cache[]; };
layout(std430, binding = 6) writeonly buffer VCache { KV_T v_cache[]; };
#endif
layout(std430, binding = 7) readonly buffer Position { uint position; };
layout(push_constant) uniform Push { AttentionInputsParams p; };

const uint QUERY = 0u, KEY = 1u, VALUE = 2u;


void main() {
  const uint g = linearGroup();
  if (g >= p.groups) return;  // uniform per workgroup: safe before the reduction
  const uint heads = p.n_heads + 2u * p.n_kv_heads;
  const uint t = g / heads, slot = g % heads;
  const uint kind = slot < p.n_heads ? QUERY : slot < p.n_heads + p.n_kv_heads ? KEY : VALUE;
  const uint h = kind == QUERY ? slot : kind == KEY ? slot - p.n_heads : slot - p.n_heads - p.n_kv_heads;
  const uint half_pairs = p.head_dim / 4u;  // pairs in each half of the head
  const uint col = kind == QUERY ? 0u : kind == KEY ? p.k_col : p.v_col;
  const uint base = (t * p.qkv_cols + col + h * p.head_dim) / 2u;  // first pair of this head in qkv

  float ss = 0.0;
  for (uint j = gl_LocalInvocationID.x; j < half_pairs; j += gl_WorkGroupSize.x) {
    const vec2 a = qkv[base + j], b = qkv[base + j + half_pairs];
    ss += dot(a, a) + dot(b, b);
  }
  const float inv = inversesqrt(workgroupSum(ss) / float(p.head_dim) + p.eps);

  const uint pos = (p.pos_from_buffer != 0u ? position : p.start_pos) + t;
  const uint dst = ((pos % p.cache_len) * p.n_kv_heads + h) * (p.head_dim / 2u);
  for (uint j = gl_LocalInvocationID.x; j < half_pairs; j += gl_WorkGroupSize.x) {
    vec2 a = qkv[base + j] * inv, b = qkv[base + j + half_pairs] * inv;
    if (kind == QUERY) {
      a *= q_norm[j];
      b *= q_norm[j + half_pairs];
    } else if (kind == KEY) {
      a *= k_norm[j];
      b *= k_norm[j + half_pairs];
    }
    if (kind != VALUE) {  // rotate_half: value i pairs with i + D/2 (a.x with b.x, a.y with b.y)
      const vec2 f = inv_freq[j];
      [[unroll]] for (uint c = 0; c < 2; ++c) {
        if (f[c] == 0.0) continue;  // proportional RoPE: this pair passes through
        const vec2 sc = sinCos(float(pos) * f[c]);
        const float x0 = a[c], x1 = b[c];
        a[c] = x0 * sc.y - x1 * sc.x;
        b[c] = x1 * sc.y + x0 * sc.x;
      }
    }
    if (kind == QUERY) {
      const uint out_base = (t * p.n_heads + h) * (p.head_dim / 2u);
      q[out_base + j] = a;
      q[out_base + j + half_pairs] = b;
    }
#ifdef KV_QUANT
    else {
      sh_head[2u * j] = a.x;
      sh_head[2u * j + 1u] = a.y;
      sh_head[2u * (j + half_pairs)] = b.x;
      sh_head[2u * (j + half_pairs) + 1u] = b.y;
    }
#else
    else if (kind == KEY) {
      k_cache[dst + j] = TO_KV(a);
      k_cache[dst + j + half_pairs] = TO_KV(b);
    } else {
      v_cache[dst + j] = TO_KV(a);
      v_cache[dst + j + half_pairs] = TO_KV(b);
    }
#endif
  }
#ifdef KV_QUANT
  if (kind == QUERY) return;  // uniform per workgroup
  barrier();
  const uint qb = kvqBlock(p.head_dim), nb = p.head_dim / qb;
  const uint qw = kvqQuantWords(p.cache_len * p.n_kv_heads * p.head_dim);
  const uint b0 = ((pos % p.cache_len) * p.n_kv_heads + h) * nb;  // first block of this head
  for (uint c = gl_LocalInvocationID.x; c < nb; c += gl_WorkGroupSize.x) {
    float x[32];
    for (uint i = 0u; i < qb; ++i) x[i] = sh_head[c * qb + i];
    if (kind == KEY) {
      KVQ_STORE_BLOCK(k_cache, x, b0 + c, qw, qb)
    } else {
      KVQ_STORE_BLOCK(v_cache, x, b0 + c, qw, qb)
    }
  }
#endif
}
