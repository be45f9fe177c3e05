#version 460
// attention_prefill_gpu: flash-attention prefill for GPUs. T query tokens (positions start_pos ..
// start_pos + T - 1) over a KV cache, causal or sliding window, grouped-query heads.
// (attention_prefill.comp, one subgroup walking keys one by one, stays the CPU-device kernel.)
//
// Rows: the queries that share one KV head, row = t * group + g (query head kvh * group + g), so a
// block of BR consecutive rows is BR / group tokens x the whole GQA group (or, for group > BR, a
// part of one token's group): every K/V tile loaded into shared memory serves all BR rows.
// Workgroup (x, y, z) = (row block, KV head, key split). The block's visible keys are
// [lo, hi) = [first key its first token sees, last key any of its tokens sees + 1]; keys outside
// it are never visited (whole key blocks skipped: causal future, and keys left of the sliding window).
// Visibility: key j is seen by the query at position i iff j <= last(i) and (W == 0 or j > i - W),
// where last(i) = i (causal) or, with p.last_key_from_buffer, last_key[t] clamped to [i, last
// position of the chunk]: an image token seeing its whole image (Gemma 4 "vision" bidirectional
// attention on sliding layers), every patch of the vision tower seeing every other. The block's
// last keys are read once per invocation (<= BR tokens) and again per row in the softmax step.
// Split z takes [lo + z * keys_per_split, + keys_per_split) of that range in tiles of BC keys:
//   1. K tile: BC rows x HEAD_DIM loaded into shared memory with 16-byte loads (consecutive
//      invocations read consecutive 16 bytes of a row: coalesced), rows padded by 16 bytes so the
//      score step's lanes (consecutive keys, same offset) hit different banks;
//   2. S = Q K^T: BR x BC scores over all WG invocations (consecutive invocations take
//      consecutive keys of one row: q is a shared-memory broadcast), each a HEAD_DIM dot product
//      in 8-value steps, q read from shared memory (staged once per workgroup, f32);
//   3. online softmax, one subgroup per row: the tile's max over the keys the row sees, P = exp(S -
//      m_new), the running (m, l) and the factor that rescales the row's output; at the same time
//      the V tile overwrites the K tile (K=V layers: KV_SAME, the K tile already is the V tile);
//      only tiles that cross a row's causal or window edge test keys one by one;
//   4. O += P V: invocation i owns the 8-value chunk i % C8 of the head for rows i / C8 + j * RG
//      (RG = WG / C8 row groups), accumulating in registers, 16-byte shared-memory reads of V.
// One split: out = O / l. Several: (m, l, O unnormalised) per (split, token, head) go to scratch
// and attention_decode_gpu.comp's combine pass (-D COMBINE) merges them, with its "heads" being
// the T * n_heads (token, head) rows.
//
// Launch geometry (host/ops/plans/attention_plan.cpp, PlanAttentionPrefill, chooses BR x BC from
// maxComputeSharedMemorySize and the splits from the compute units; tests/ops/launch_geometry_test.cpp
// pins it). WG = 256 invocations. With 48 KiB of shared memory and an f16 cache: head 256 ->
// BR 16 x BC 32 (35 KiB), head 512 -> BR 8 x BC 16 (33 KiB); f32 caches halve BC. On a 132-SM GPU
// (splits when row blocks x KV heads < 4 x 132, keys per split >= 64):
//   E2B (8 heads, 1 KV head): sliding layer (head 256, W 512): 512-token chunk = 256 row blocks
//     x 4 splits of 160 keys = 1024 workgroups; 2048-token chunk = 1024 row blocks, no split.
//     Full layer (head 512): 512-token chunk = 512 row blocks x 2 splits of 256 keys = 1024;
//     2048 tokens = 2048 row blocks, no split.
//   31B (32 heads): sliding (16 KV heads, head 256): 512 tokens = 64 row blocks x 16 = 1024
//     workgroups; full (4 KV heads, head 512): 512 tokens = 512 row blocks x 4 = 2048 workgroups.
//   Per invocation and tile (f16, 48 KiB): 4 independent 16-byte K loads and 4 V loads (32 keys x
//   32 chunks at head 256, 16 x 64 at head 512, over 256 invocations), 2 (BR 16 x BC 32 = 512
//   scores / 256) or 0.5 (8 x 16 / 256) scores of HEAD_DIM multiply-adds, and BC x 16 (2 rows x 8
//   values) multiply-adds of O += P V: the serial work is bounded by the tile, the number of tiles
//   by the split (at most keys_per_split / BC) or, without splits, by the block's visible keys.
//   Every K/V byte loaded serves BR rows (16 at head 256, 8 at head 512), so a chunk's K/V traffic
//   is (row blocks x keys each sees x head x 4 bytes): E2B full layer, 2048 tokens: 4.3 GB, mostly
//   from L2 (one KV head's cache is 2 MB); the cooperative-matrix variant would take larger blocks.
//   Shared memory: q BR x (HEAD_DIM + 4) f32, one K/V tile BC x (HEAD_DIM + pad), S/P BR x BC f32.
//
// binding 0: q       [T][n_heads][head_dim] f32, read as vec4
// binding 1: k_cache [cache_len][n_kv_heads][head_dim] f16 (f32 with -D KV_F32), read as 16-byte
//            vectors; position j in slot j % cache_len (ring caches of sliding layers)
// binding 2: v_cache same layout as k_cache (may be k_cache itself: K=V layers)
// binding 3: out     [T][n_heads][head_dim] f32, written as vec4 (when n_splits == 1)
// binding 4: scratch [n_splits][T * n_heads][head_dim + 2] f32 (m, l, o[head_dim]), written when
//            n_splits > 1 (bound to out otherwise, never touched)
// binding 5: last_key [T] int, read when p.last_key_from_buffer (any buffer otherwise)
// push: AttentionParams (n_rows = T * group, keys_per_split, n_splits, last_key_from_buffer;
//       pos_from_buffer unused). With last keys the host plans the splits over [lo, start_pos + T).
// spec: 0 WG (invocations; multiple of the subgroup size), 1 HEAD_DIM (multiple of 8, <= 512,
//       HEAD_DIM / 8 <= WG), 2 BR (query rows per workgroup), 3 BC (keys per tile),
//       4 KV_SAME (k_cache and v_cache are one buffer: the V tile is not loaded again).
// Dispatched by host/ops/attention.cpp.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
#include "params/attention_params.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HEAD_DIM = 256;
layout(constant_id = 2) const uint BR = 16;
layout(constant_id = 3) const uint BC = 32;
layout(constant_id = 4) const bool KV_SAME = false;

#define NEG_BIG (-1.0e30)  // "no key seen yet"; finite so that no inf - inf can appear

const uint WG = gl_WorkGroupSize.x;
const uint C8 = HEAD_DIM / 8;          // 8-value chunks per row
const uint QS = HEAD_DIM / 4 + 1;      // q row stride in vec4 (one vec4 of padding)
const uint RG = WG / C8;               // row groups of the O += P V step
const uint OR = (BR + RG - 1) / RG;    // rows per invocation in that step

layout(std430, binding = 0) readonly buffer Q { vec4 q_in[]; };
#ifdef KV_F32
// A chunk is two vec4; the tile row holds 2 * C8 vec4 + one of padding.
layout(std430, binding = 1) readonly buffer K { vec4 k_cache[]; };
layout(std430, binding = 2) readonly buffer V { vec4 v_cache[]; };
const uint LPR = 2 * C8;               // 16-byte loads per K/V row
const uint KS = 2 * C8 + 1;            // tile row stride in entries
shared vec4 sh_kv[BC * KS];
void chunk(uint k, uint c, out vec4 lo, out vec4 hi) {
  lo = sh_kv[k * KS + 2 * c];
  hi = sh_kv[k * KS + 2 * c + 1];
}
#else
// A chunk is one uvec4 of 8 halves; the tile row holds C8 uvec4 + one of padding.
layout(std430, binding = 1) readonly buffer K { uvec4 k_cache[]; };
layout(std430, binding = 2) readonly buffer V { uvec4 v_cache[]; };
const uint LPR = C8;
const uint KS = C8 + 1;
shared uvec4 sh_kv[BC * KS];
void chunk(uint k, uint c, out vec4 lo, out vec4 hi) {
  const uvec4 w = sh_kv[k * KS + c];
  lo = vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y));
  hi = vec4(unpackHalf2x16(w.z), unpackHalf2x16(w.w));
}
#endif
layout(std430, binding = 3) writeonly buffer Out { vec4 out_[]; };
layout(std430, binding = 4) writeonly buffer Scratch { float scratch[]; };
layout(std430, binding = 5) readonly buffer LastKey { int last_key[]; };
layout(push_constant) uniform Push { AttentionParams p; };

shared vec4 sh_q[BR * QS];
shared float sh_s[BR * BC];            // scores, then probabilities
shared float sh_m[BR], sh_l[BR], sh_corr[BR];

// Loads the rows of keys t0 .. t0 + n_keys - 1 of KV head kvh from buf (k_cache or v_cache) into
// sh_kv: 16 bytes per invocation and step, consecutive invocations on consecutive bytes of a row.
#define LOAD_KEYS(buf, t0, n_keys, kvh)                                        \
  for (uint i_ = gl_LocalInvocationID.x; i_ < (n_keys) * LPR; i_ += WG) {     \
    const uint k_ = i_ / LPR, e_ = i_ % LPR;                                   \
    const uint slot_ = uint((t0) + int(k_)) % p.cache_len;                     \
    sh_kv[k_ * KS + e_] = buf[(slot_ * p.n_kv_heads + (kvh)) * LPR + e_];      \
  }

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint lane = gl_SubgroupInvocationID, sg = gl_SubgroupID, nsg = gl_NumSubgroups, sgs = gl_SubgroupSize;
  const uint kvh = gl_WorkGroupID.y, split = gl_WorkGroupID.z;
  const uint row0 = gl_WorkGroupID.x * BR;
  const uint n_valid = min(BR, p.n_rows - row0);
  const uint total_rows = p.n_rows / p.group * p.n_heads;  // T * n_heads: scratch rows per split

  // Positions of the block's first and last tokens and the keys any of its rows sees.
  const int pos_lo = int(p.start_pos + row0 / p.group);
  const int pos_hi = int(p.start_pos + (row0 + n_valid - 1u) / p.group);
  const int W = int(p.window);
  const int lo = W > 0 ? max(0, pos_lo - W + 1) : 0;
  // The smallest and largest last key of the block's tokens (causal: pos_lo, pos_hi).
  const int last_pos = int(p.start_pos + p.n_rows / p.group) - 1;
  int last_lo = pos_lo, last_hi = pos_hi;
  if (p.last_key_from_buffer != 0u) {
    for (uint t = row0 / p.group; t <= (row0 + n_valid - 1u) / p.group; ++t) {
      const int l = clamp(last_key[t], int(p.start_pos + t), last_pos);
      last_lo = min(last_lo, l);
      last_hi = max(last_hi, l);
    }
  }
  const int s_lo = lo + int(split * p.keys_per_split);
  const int s_hi = min(last_hi + 1, s_lo + int(p.keys_per_split));
  // Every key of [first_hi, last_lo] is seen by every row: tiles inside it need no mask.
  const int first_hi = W > 0 ? max(0, pos_hi - W + 1) : 0;

  for (uint i = tid; i < BR * QS; i += WG) {
    const uint r = i / QS, w4 = i % QS;
    const uint row = row0 + r;
    vec4 qv = vec4(0.0);
    if (r < n_valid && w4 < HEAD_DIM / 4) {
      const uint t = row / p.group, h = kvh * p.group + row % p.group;
      qv = q_in[(t * p.n_heads + h) * (HEAD_DIM / 4) + w4];
    }
    sh_q[i] = qv;
  }
  if (tid < BR) {
    sh_m[tid] = NEG_BIG;
    sh_l[tid] = 0.0;
  }

  // O += P V ownership: chunk c of rows rg, rg + RG, ...
  const uint c = tid % C8, rg = tid / C8;
  vec4 acc[OR * 2];
  [[unroll]] for (uint j = 0; j < OR * 2; ++j) acc[j] = vec4(0.0);

  for (int t0 = s_lo; t0 < s_hi; t0 += int(BC)) {
    const uint n_keys = uint(min(int(BC), s_hi - t0));
    LOAD_KEYS(k_cache, t0, n_keys, kvh)
    barrier();  // K tile (and, on the first tile, q and the state) complete
    // 2. Scores.
    for (uint i = tid; i < BR * BC; i += WG) {
      const uint r = i / BC, k = i % BC;
      if (k < n_keys) {
        float s0 = 0.0, s1 = 0.0;
        for (uint cc = 0; cc < C8; ++cc) {
          vec4 klo, khi;
          chunk(k, cc, klo, khi);
          s0 += dot(sh_q[r * QS + 2 * cc], klo);
          s1 += dot(sh_q[r * QS + 2 * cc + 1], khi);
        }
        sh_s[i] = (s0 + s1) * p.scale;
      }
    }
    barrier();  // scores complete; the K tile is free
    // 3. V tile into the K tile's place, and the online softmax (one subgroup per row).
    if (!KV_SAME) LOAD_KEYS(v_cache, t0, n_keys, kvh)
    const bool unmasked = t0 >= first_hi && t0 + int(n_keys) - 1 <= last_lo;
    for (uint r = sg; r < BR; r += nsg) {
      const uint tok = (row0 + r) / p.group;
      const int pos = r < n_valid ? int(p.start_pos + tok) : -1;
      const int first = W > 0 ? max(0, pos - W + 1) : 0;
      const int last = p.last_key_from_buffer != 0u && r < n_valid ? clamp(last_key[tok], pos, last_pos) : pos;
      float mx = NEG_BIG;
      for (uint k = lane; k < n_keys; k += sgs) {
        const int j = t0 + int(k);
        if (unmasked || (j >= first && j <= last)) mx = max(mx, sh_s[r * BC + k]);
      }
      const float m_old = sh_m[r];
      const float m_new = max(m_old, subgroupMax(mx));
      float sum = 0.0;
      for (uint k = lane; k < BC; k += sgs) {
        const int j = t0 + int(k);
        const bool seen = k < n_keys && (unmasked || (j >= first && j <= last));
        const float pr = seen ? exp(sh_s[r * BC + k] - m_new) : 0.0;
        sh_s[r * BC + k] = pr;
        sum += pr;
      }
      sum = subgroupAdd(sum);
      if (lane == 0u) {
        const float corr = m_old > NEG_BIG ? exp(m_old - m_new) : 0.0;
        sh_corr[r] = corr;
        sh_l[r] = sh_l[r] * corr + sum;
        sh_m[r] = m_new;
      }
    }
    barrier();  // P, the rescale factors and the V tile complete
    // 4. O += P V.
    if (rg < RG) {
      [[unroll]] for (uint j = 0; j < OR; ++j) {
        const uint r = rg + j * RG;
        if (r < BR) {
          const float corr = sh_corr[r];
          acc[2 * j] *= corr;
          acc[2 * j + 1] *= corr;
        }
      }
      for (uint k = 0; k < n_keys; ++k) {
        vec4 vlo, vhi;
        chunk(k, c, vlo, vhi);
        [[unroll]] for (uint j = 0; j < OR; ++j) {
          const uint r = rg + j * RG;
          if (r < BR) {
            const float pr = sh_s[r * BC + k];
            acc[2 * j] += pr * vlo;
            acc[2 * j + 1] += pr * vhi;
          }
        }
      }
    }
    barrier();  // sh_kv and sh_s are rewritten by the next tile
  }

  if (rg >= RG) return;
  const bool empty = s_lo >= s_hi;
  [[unroll]] for (uint j = 0; j < OR; ++j) {
    const uint r = rg + j * RG;
    if (r >= n_valid) continue;
    const uint row = row0 + r;
    const uint t = row / p.group, h = kvh * p.group + row % p.group;
    const uint th = t * p.n_heads + h;  // (token, head) row of out and of the scratch
    if (p.n_splits == 1u) {
      const float l = sh_l[r];  // >= 1: every query sees its own key
      out_[th * (HEAD_DIM / 4) + 2 * c] = acc[2 * j] / l;
      out_[th * (HEAD_DIM / 4) + 2 * c + 1] = acc[2 * j + 1] / l;
    } else {
      const uint stride = HEAD_DIM + 2;
      const uint b = (split * total_rows + th) * stride;
      const vec4 o0 = empty ? vec4(0.0) : acc[2 * j], o1 = empty ? vec4(0.0) : acc[2 * j + 1];
      const uint d = b + 2 + 8 * c;
      scratch[d] = o0.x; scratch[d + 1] = o0.y; scratch[d + 2] = o0.z; scratch[d + 3] = o0.w;
      scratch[d + 4] = o1.x; scratch[d + 5] = o1.y; scratch[d + 6] = o1.z; scratch[d + 7] = o1.w;
      if (c == 0u) {
        // A row that sees no key of this split has l = 0: the combine gives it no weight.
        scratch[b] = empty ? NEG_BIG : sh_m[r];
        scratch[b + 1] = empty ? 0.0 : sh_l[r];
      }
    }
  }
}
