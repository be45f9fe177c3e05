#version 460
// attention_decode: attention of ONE query token (decode) over a KV cache, split along the keys
// (flash-decoding). Two passes, two variants of this file:
// Pass 1 (default): workgroup (x, y, z) = (row block, KV head, split). ROWS query heads that share
//   KV head y (GQA: the whole group when ROWS >= group) walk keys lo + z*keys_per_split .. (a
//   slice of the visible range lo .. pos) with an online softmax (common/attention_core.glsl).
//   n_splits == 1: writes out = o / l directly. n_splits > 1: writes the partial state
//   (m, l, o unnormalised) of (split, head) to scratch for pass 2.
// Pass 2 (-D COMBINE=1): workgroup x = query head; merges the n_splits partial states:
//   M = max m_s, out = sum_s o_s e^(m_s - M) / sum_s l_s e^(m_s - M).
// Pass 1 bindings:
//   binding 0: q       [1][n_heads][head_dim] f32, read
//   binding 1: k_cache [cache_len][n_kv_heads][head_dim] f16 (f32 with -D KV_F32), read;
//              position j in slot j % cache_len
//   binding 2: v_cache same layout as k_cache, read
//   binding 3: out     [1][n_heads][head_dim] f32, write (when n_splits == 1)
//   binding 4: scratch [n_splits][n_heads][head_dim + 2] f32 (m, l, o[head_dim]), write (n_splits > 1)
//   binding 5: position: one uint, the query's position when pos_from_buffer (a decode recording
//              replayed at every step); splits past it are empty and pass 2 skips them
// Pass 2 bindings:
//   binding 0: scratch as above, read
//   binding 1: out     [1][n_heads][head_dim] f32, write
// push: AttentionParams (pass 1), AttentionCombineParams (pass 2).
// spec: 0 workgroup size, 1 HEAD_DIM (even, <= 512), 2 SG_MIN (smallest subgroup size; pass 1),
//       3 ROWS (query heads per workgroup; pass 1).
// Dispatched by host/ops/attention.cpp.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_EXT_control_flow_attributes : require
#include "params/attention_params.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HEAD_DIM = 256;

#ifdef COMBINE

layout(std430, binding = 0) readonly buffer Scratch { float scratch[]; };
layout(std430, binding = 1) writeonly buffer Out { float out_[]; };
layout(push_constant) uniform Push { AttentionCombineParams p; };

void main() {
  const uint h = gl_WorkGroupID.x;
  const uint stride = HEAD_DIM + 2;
  float mx = -1.0e30;
  for (uint s = 0; s < p.n_splits; ++s) mx = max(mx, scratch[(s * p.n_heads + h) * stride]);
  float l = 0.0;
  for (uint s = 0; s < p.n_splits; ++s) {
    const uint b = (s * p.n_heads + h) * stride;
    if (scratch[b + 1] > 0.0) l += scratch[b + 1] * exp(scratch[b] - mx);
  }
  const float inv = 1.0 / l;
  for (uint d = gl_LocalInvocationID.x; d < HEAD_DIM; d += gl_WorkGroupSize.x) {
    float o = 0.0;
    for (uint s = 0; s < p.n_splits; ++s) {
      const uint b = (s * p.n_heads + h) * stride;
      if (scratch[b + 1] > 0.0) o += scratch[b + 2 + d] * exp(scratch[b] - mx);  // empty split: skip
    }
    out_[h * HEAD_DIM + d] = o * inv;
  }
}

#else

layout(constant_id = 2) const uint SG_MIN = 8;
layout(constant_id = 3) const uint ROWS = 8;

#ifdef KV_F32
#define KV_T vec2
#else
#define KV_T uint
#endif
layout(std430, binding = 0) readonly buffer Q { vec2 q_in[]; };
layout(std430, binding = 1) readonly buffer K { KV_T k_cache[]; };
layout(std430, binding = 2) readonly buffer V { KV_T v_cache[]; };
layout(std430, binding = 3) writeonly buffer Out { vec2 out_[]; };
layout(std430, binding = 4) writeonly buffer Scratch { float scratch[]; };
layout(std430, binding = 5) readonly buffer Position { uint position; };
layout(push_constant) uniform Push { AttentionParams p; };

uint attnStartPos() { return p.pos_from_buffer != 0u ? position : p.start_pos; }
int attnLastKey(uint t, int pos) { return pos; }  // decode: causal
#include "attention_core.glsl"

void main() {
  const uint kvh = gl_WorkGroupID.y, split = gl_WorkGroupID.z;
  attnInit(kvh, gl_WorkGroupID.x);
  const ivec2 range = attnKeyRange();
  const int lo = range.x + int(split * p.keys_per_split);
  const int hi = min(range.y, lo + int(p.keys_per_split));
  attnRun(kvh, lo, hi);
  if (gl_SubgroupID != 0) return;
  const uint lane = gl_SubgroupInvocationID;
  for (uint r = 0; r < ROWS; ++r) {
    if (row_pos[r] < 0) continue;
    if (p.n_splits == 1) {
      const float inv = 1.0 / l_run[r];  // l >= 1: the query sees its own key
      for (uint i = 0; i < DP; ++i) {
        const uint dp = lane + i * gl_SubgroupSize;
        if (dp < HALF_D) out_[row_head[r] * HALF_D + dp] = acc[r * DP + i] * inv;
      }
    } else {
      const uint b = (split * p.n_heads + row_head[r]) * (HEAD_DIM + 2);
      if (lane == 0) {
        scratch[b] = m_run[r];
        scratch[b + 1] = l_run[r];
      }
      for (uint i = 0; i < DP; ++i) {
        const uint dp = lane + i * gl_SubgroupSize;
        if (dp < HALF_D) {
          scratch[b + 2 + 2 * dp] = acc[r * DP + i].x;
          scratch[b + 3 + 2 * dp] = acc[r * DP + i].y;
        }
      }
    }
  }
}

#endif
