#version 460
// attention_prefill: causal / sliding-window grouped-query attention of T query tokens over a KV
// cache (also correct for T = 1). Workgroup (x, y) = (row block, KV head): ROWS query rows that
// share KV head y, rows numbered t * group + g (query head kv_head * group + g), so one K/V row
// load serves ROWS queries: with GQA a block holds several heads of one token, otherwise ROWS
// consecutive tokens. Softmax in f32 with a running max (see common/attention_core.glsl).
// Visibility: key j is seen by the query at position i iff j <= last(i) and (W == 0 or j > i - W),
// where last(i) = i (causal) or, with p.last_key_from_buffer, last_key[t] clamped to [i, the chunk's
// last position]: an image token seeing its whole image (Gemma 4 "vision" bidirectional attention
// on sliding layers; every patch of the vision tower seeing every other).
// binding 0: q       [T][n_heads][head_dim] f32, read
// binding 1: k_cache [cache_len][n_kv_heads][head_dim] f16 (f32 with -D KV_F32), read;
//            position j in slot j % cache_len
// binding 2: v_cache same layout as k_cache, read
// binding 3: out     [T][n_heads][head_dim] f32, write
// binding 4: last_key [T] int, read when p.last_key_from_buffer (any buffer otherwise)
// push: AttentionParams (keys_per_split, n_splits unused).
// spec: 0 workgroup size (a multiple of every subgroup size the device may use), 1 HEAD_DIM (even,
//       <= 512), 2 SG_MIN (smallest subgroup size), 3 ROWS (query rows per workgroup).
// Dispatched by host/ops/attention.cpp.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_EXT_control_flow_attributes : require
#include "params/attention_params.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HEAD_DIM = 256;
layout(constant_id = 2) const uint SG_MIN = 8;
layout(constant_id = 3) const uint ROWS = 4;

#ifdef KV_F32
#define KV_T vec2
#else
#define KV_T uint
#endif
layout(std430, binding = 0) readonly buffer Q { vec2 q_in[]; };
layout(std430, binding = 1) readonly buffer K { KV_T k_cache[]; };
layout(std430, binding = 2) readonly buffer V { KV_T v_cache[]; };
layout(std430, binding = 3) writeonly buffer Out { vec2 out_[]; };
layout(std430, binding = 4) readonly buffer LastKey { int last_key[]; };
layout(push_constant) uniform Push { AttentionParams p; };

uint attnStartPos() { return p.start_pos; }
// Clamped to the chunk's last position (attnInit raises it to pos): keys past it are not written yet.
int attnLastKey(uint t, int pos) {
  return p.last_key_from_buffer != 0u ? min(last_key[t], int(p.start_pos + p.n_rows / p.group) - 1) : pos;
}
#include "attention_core.glsl"

void main() {
  const uint kvh = gl_WorkGroupID.y;
  attnInit(kvh, gl_WorkGroupID.x);
  const ivec2 range = attnKeyRange();
  attnRun(kvh, range.x, range.y);
  if (gl_SubgroupID != 0) return;
  for (uint r = 0; r < ROWS; ++r) {
    if (row_pos[r] < 0) continue;
    const float inv = 1.0 / l_run[r];  // l >= 1: every query sees its own key
    const uint base = (row_tok[r] * p.n_heads + row_head[r]) * HALF_D;
    for (uint i = 0; i < DP; ++i) {
      const uint dp = gl_SubgroupInvocationID + i * gl_SubgroupSize;
      if (dp < HALF_D) out_[base + dp] = acc[r * DP + i] * inv;
    }
  }
}
