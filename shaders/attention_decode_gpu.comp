#version 460
// attention_decode_gpu: decode attention (ONE query token) over a KV cache for GPUs: flash-decoding
// with the keys split over many workgroups and, inside a workgroup, over subgroups and lanes.
// (attention_decode.comp, one subgroup walking keys one by one, stays the CPU-device kernel.)
//
// Pass 1 (default): workgroup (x, y, z) = (row block, KV head, split). The ROWS query heads
//   kvh * group + x * ROWS .. (+ROWS) share KV head y and walk the split's keys
//   [first + z * keys_per_split, +keys_per_split) clipped to the visible range first .. pos, in
//   tiles of TILE keys. Per tile:
//   1. scores: subgroup s takes keys s, s + NSG, ... of the tile, up to 4 at once (4 independent
//      16-byte K loads per lane in flight); its lanes split the head into 8-value chunks (one
//      16-byte f16 load each; head 256 = 32 chunks = one per lane of a 32-wide subgroup), dot them
//      with q (staged once in shared memory), and one subgroupAdd per (key, row) gives the score;
//   2. online softmax: one subgroup per row takes the tile's max and sum across its lanes and
//      rescales the row's running state (m, l) and output;
//   3. P.V: invocation i owns chunk i % C8 of the head for keys i / C8, + KGROUPS, ...: 16-byte V
//      loads (4 in flight), coalesced (consecutive invocations read consecutive 16 bytes of a row),
//      accumulating all ROWS rows: every K and V row loaded serves the whole GQA group.
//   The KGROUPS partial outputs are summed through shared memory at the end. One split: writes
//   out = o / l. Several: writes (m, l, o unnormalised) of (split, head) to scratch for pass 2.
//   Empty splits (past the position of a replayed step) write l = 0 and o = 0.
// Pass 2 (-D COMBINE=1): workgroup (x, y) = (query head, 64-value slice of the head); 256
//   invocations = 4 groups of splits x 64 values. M = max m_s and L = sum l_s e^(m_s - M) by
//   workgroup reductions over the splits, weights e^(m_s - M) in shared memory, then each
//   invocation sums a quarter of the splits for its value: out = sum_s o_s e^(m_s - M) / L.
//
// Pass 1 with -D COMBINE_LAST=1 (the GPU family's decode whenever a counters buffer is given:
//   host/ops/attention.h AttentionShape::split_counters): each workgroup counts itself done on
//   counters[row block + KV head * row blocks] after writing its partials, and the last of the
//   n_splits combines the ROWS heads of its block itself (pass 2's code and workgroup size,
//   common/attention_decode_combine.glsl: the same bits), then zeroes the counter. One dispatch
//   and one barrier per layer fewer than two passes; the combine's work (ROWS x HEAD_DIM values
//   over the splits' partials, read back from L2) moves to the tail of the last split.
// Launch geometry (host/ops/plans/attention_plan.cpp plans it; tests/ops/launch_geometry_test.cpp pins
// it): WG = 256 invocations, TILE = 32 keys; splits chosen so that row blocks x KV heads x splits
// >= 4 per compute unit where the context allows (never under TILE keys, never over 256 keys per
// split), so one invocation touches at most 256 / NSG score keys and 256 / KGROUPS value rows.
//   E2B full layer (8 heads, 1 KV head, head 512) on a 132-CU GPU: 520 keys -> 17 workgroups of
//   32 keys; 32k keys -> 1024 workgroups of 32 keys. Sliding layer (head 256, 512-key window):
//   16 workgroups. 31B full layer (32 heads, 4 KV heads, head 512): 32k keys -> 4 x 147
//   workgroups of 224 keys = 588 (4.5 per CU); 128k keys -> 4 x 512 of 256 keys.
//   Per invocation and tile (subgroup 32): 4 score keys x (head / 256) 16-byte K loads, and
//   32 / KGROUPS (4 at head 256, 8 at head 512) 16-byte V loads.
//   Shared memory: q ROWS x head f32 (reused for the final sum), scores ROWS x TILE: 17 KiB at
//   head 512, ROWS 8.
// Pass 1 bindings:
//   binding 0: q       [n_heads][head_dim] f32, read
//   binding 1: k_cache [cache_len][n_kv_heads][head_dim] f16 (f32 with -D KV_F32), read as 16-byte
//              vectors; position j in slot j % cache_len
//   binding 2: v_cache same layout as k_cache, read (may be k_cache itself: K=V layers)
//   (-D KV_Q8 / KV_Q4: q8_0 / q4_0 caches, common/kv_quant.glsl; an 8-value chunk is 8 bytes or
//   one word plus its block's f16 scale, dequantized in registers: same geometry, 1/2 or 1/4 of
//   the f16 bytes per chunk)
//   binding 3: out     [n_heads][head_dim] f32, write (when n_splits == 1)
//   binding 4: scratch [n_splits][n_heads][head_dim + 2] f32 (m, l, o[head_dim]), write
//   binding 5: position: one uint, the query's position when pos_from_buffer
//   binding 6 (COMBINE_LAST): counters [row blocks x n_kv_heads] uint, zero before, left zero
// Pass 2 bindings: 0 scratch (read), 1 out (write).
// push: AttentionParams (pass 1), AttentionCombineParams (pass 2).
// spec: 0 workgroup size; pass 1: 1 HEAD_DIM (multiple of 8, <= 512), 2 ROWS, 3 KGROUPS
//       (= workgroup / (HEAD_DIM / 8), between 1 and 8: 8 at head 256, 4 at 512; a smaller test head
//       keeps 8, each group costing a barrier in the final sum); pass 2: 1 HEAD_DIM.
// Dispatched by host/ops/attention.cpp.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
#include "params/attention_params.h"
#include "reduce.glsl"
#include "kv_quant.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HEAD_DIM = 256;

#define NEG_BIG (-1.0e30)  // "no key seen yet"; finite so that no inf - inf can appear

#ifdef COMBINE

layout(std430, binding = 0) readonly buffer Scratch { float scratch[]; };
layout(std430, binding = 1) writeonly buffer Out { float out_[]; };
layout(push_constant) uniform Push { AttentionCombineParams p; };
#include "attention_decode_combine.glsl"

void main() { combineSlice(gl_WorkGroupID.x, gl_WorkGroupID.y, p.n_heads, p.n_splits); }

#else

layout(constant_id = 2) const uint ROWS = 8;
layout(constant_id = 3) const uint KGROUPS = 8;

const uint TILE = 32;             // keys per tile
const uint C8 = HEAD_DIM / 8;     // 8-value chunks per K/V row
const uint KU = 4;                // score keys per subgroup step (loads in flight)
const uint VU = 4;                // value rows per P.V step (loads in flight)

#if defined(KV_QUANT)
layout(std430, binding = 1) readonly buffer K { uint k_cache[]; };
layout(std430, binding = 2) readonly buffer V { uint v_cache[]; };
#elif defined(KV_F32)
layout(std430, binding = 1) readonly buffer K { vec4 k_cache[]; };
layout(std430, binding = 2) readonly buffer V { vec4 v_cache[]; };
#else
layout(std430, binding = 1) readonly buffer K { uvec4 k_cache[]; };
layout(std430, binding = 2) readonly buffer V { uvec4 v_cache[]; };
#endif
layout(std430, binding = 0) readonly buffer Q { vec4 q_in[]; };
layout(std430, binding = 3) writeonly buffer Out { float out_[]; };
layout(std430, binding = 5) readonly buffer Position { uint position; };
layout(push_constant) uniform Push { AttentionParams p; };
#if COMBINE_LAST
// The last split of each (row block, KV head) to finish reads every split's partials back.
layout(std430, binding = 4) coherent buffer Scratch { float scratch[]; };
layout(std430, binding = 6) coherent buffer Counters { uint counters[]; };
shared uint sh_last;
#include "attention_decode_combine.glsl"
#else
layout(std430, binding = 4) writeonly buffer Scratch { float scratch[]; };
#endif

// Chunk c (values 8c .. 8c+7) of the K or V row of slot `row` (= slot * n_kv_heads + kvh).
#if defined(KV_QUANT)
// Quantized: the chunk's 8 bytes (q8_0) or one word (q4_0) and its block's scale; 4 (q8_0) or 2
// (q4_0) neighbouring lanes cover one 32-value block.
const uint KVQ_B = HEAD_DIM % 32u == 0u ? 32u : 16u;  // kvqBlock(HEAD_DIM)
#define LOAD8(buf, row, c, lo, hi) \
  KVQ_LOAD8(buf, ((row) * C8 + (c)) * 8u, kvqQuantWords(p.cache_len * p.n_kv_heads * HEAD_DIM), KVQ_B, lo, hi)
#elif defined(KV_F32)
#define LOAD8(buf, row, c, lo, hi) { const uint i_ = ((row) * C8 + (c)) * 2u; lo = buf[i_]; hi = buf[i_ + 1u]; }
#else
#define LOAD8(buf, row, c, lo, hi) { const uvec4 t_ = buf[(row) * C8 + (c)]; \
  lo = vec4(unpackHalf2x16(t_.x), unpackHalf2x16(t_.y)); hi = vec4(unpackHalf2x16(t_.z), unpackHalf2x16(t_.w)); }
#endif

shared vec4 sh_q[ROWS * C8 * 2];   // q rows (8 values = 2 vec4 per chunk); at the end: the output sum
shared float sh_s[ROWS * TILE];    // scores of the tile, then their probabilities
shared float sh_m[ROWS], sh_l[ROWS], sh_corr[ROWS];

void main() {
  const uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  const uint lane = gl_SubgroupInvocationID, sg = gl_SubgroupID, nsg = gl_NumSubgroups, sgs = gl_SubgroupSize;
  const uint kvh = gl_WorkGroupID.y, split = gl_WorkGroupID.z;
  const uint row0 = gl_WorkGroupID.x * ROWS;  // first group member of this block
  const uint head0 = kvh * p.group + row0;
  const uint n_valid = min(ROWS, p.group - row0);

  const int pos = int(p.pos_from_buffer != 0u ? position : p.start_pos);
  const int first = p.window > 0u ? max(0, pos - int(p.window) + 1) : 0;
  const int lo = first + int(split * p.keys_per_split);
  const int hi = min(pos + 1, lo + int(p.keys_per_split));

  for (uint i = tid; i < ROWS * C8 * 2; i += wg) {
    const uint r = i / (C8 * 2);
    sh_q[i] = r < n_valid ? q_in[(head0 + r) * (HEAD_DIM / 4) + i % (C8 * 2)] : vec4(0.0);
  }
  if (tid < ROWS) {
    sh_m[tid] = NEG_BIG;
    sh_l[tid] = 0.0;
  }
  barrier();

  // P.V ownership: chunk c of keys kg, kg + KGROUPS, ... of each tile.
  const uint c = tid % C8, kg = tid / C8;
  const bool pv_lane = kg < KGROUPS;
  vec4 acc[ROWS * 2];
  [[unroll]] for (uint r = 0; r < ROWS * 2; ++r) acc[r] = vec4(0.0);

  for (int t0 = lo; t0 < hi; t0 += int(TILE)) {
    const uint n_keys = uint(min(int(TILE), hi - t0));
    // 1. Scores: subgroup sg takes keys sg, sg + nsg, ... KU at a time.
    for (uint k0 = sg; k0 < n_keys; k0 += KU * nsg) {
      float part[KU * ROWS];
      [[unroll]] for (uint i = 0; i < KU * ROWS; ++i) part[i] = 0.0;
      for (uint cc = lane; cc < C8; cc += sgs) {
        vec4 klo[KU], khi[KU];
        [[unroll]] for (uint u = 0; u < KU; ++u) {
          const uint k = min(k0 + u * nsg, n_keys - 1u);  // past the tile: a repeat, never stored
          const uint slot = uint(t0 + int(k)) % p.cache_len;
          LOAD8(k_cache, slot * p.n_kv_heads + kvh, cc, klo[u], khi[u]);
        }
        [[unroll]] for (uint r = 0; r < ROWS; ++r) {
          const vec4 qlo = sh_q[(r * C8 + cc) * 2], qhi = sh_q[(r * C8 + cc) * 2 + 1];
          [[unroll]] for (uint u = 0; u < KU; ++u) part[u * ROWS + r] += dot(qlo, klo[u]) + dot(qhi, khi[u]);
        }
      }
      [[unroll]] for (uint u = 0; u < KU; ++u) {
        const uint k = k0 + u * nsg;
        [[unroll]] for (uint r = 0; r < ROWS; ++r) {
          const float sc = subgroupAdd(part[u * ROWS + r]);
          if (lane == 0u && k < n_keys) sh_s[r * TILE + k] = sc * p.scale;
        }
      }
    }
    barrier();
    // 2. Online softmax, one subgroup per row: tile max, probabilities, rescale of the state.
    for (uint r = sg; r < ROWS; r += nsg) {
      float mx = NEG_BIG;
      for (uint k = lane; k < n_keys; k += sgs) mx = max(mx, sh_s[r * TILE + k]);
      const float m_old = sh_m[r];
      const float m_new = max(m_old, subgroupMax(mx));
      float sum = 0.0;
      for (uint k = lane; k < TILE; k += sgs) {
        const float pr = k < n_keys ? exp(sh_s[r * TILE + k] - m_new) : 0.0;
        sh_s[r * TILE + k] = pr;
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
    barrier();
    // 3. P.V: VU value rows in flight per step.
    if (pv_lane) {
      [[unroll]] for (uint r = 0; r < ROWS; ++r) {
        const float corr = sh_corr[r];
        acc[2 * r] *= corr;
        acc[2 * r + 1] *= corr;
      }
      for (uint k0 = kg; k0 < n_keys; k0 += VU * KGROUPS) {
        vec4 vlo[VU], vhi[VU];
        [[unroll]] for (uint u = 0; u < VU; ++u) {
          const uint k = min(k0 + u * KGROUPS, n_keys - 1u);
          const uint slot = uint(t0 + int(k)) % p.cache_len;
          LOAD8(v_cache, slot * p.n_kv_heads + kvh, c, vlo[u], vhi[u]);
        }
        [[unroll]] for (uint u = 0; u < VU; ++u) {
          const uint k = k0 + u * KGROUPS;
          if (k < n_keys) {
            [[unroll]] for (uint r = 0; r < ROWS; ++r) {
              const float pr = sh_s[r * TILE + k];
              acc[2 * r] += pr * vlo[u];
              acc[2 * r + 1] += pr * vhi[u];
            }
          }
        }
      }
    }
    barrier();  // sh_s is rewritten by the next tile
  }

  // Sum the KGROUPS partial outputs in sh_q (q is no longer needed), one key group at a time.
  for (uint g = 0; g < KGROUPS; ++g) {
    if (pv_lane && kg == g) {
      [[unroll]] for (uint r = 0; r < ROWS; ++r) {
        const uint i = (r * C8 + c) * 2;
        sh_q[i] = g == 0u ? acc[2 * r] : sh_q[i] + acc[2 * r];
        sh_q[i + 1] = g == 0u ? acc[2 * r + 1] : sh_q[i + 1] + acc[2 * r + 1];
      }
    }
    barrier();
  }
  const bool empty = lo >= hi;
  if (p.n_splits == 1u) {
    for (uint i = tid; i < n_valid * C8 * 2; i += wg) {
      const uint r = i / (C8 * 2), w4 = i % (C8 * 2);
      const vec4 o = sh_q[i] / sh_l[r];  // l >= 1: the query sees its own key
      const uint b = (head0 + r) * HEAD_DIM + 4 * w4;
      out_[b] = o.x; out_[b + 1] = o.y; out_[b + 2] = o.z; out_[b + 3] = o.w;
    }
  } else {
    const uint stride = HEAD_DIM + 2;
    for (uint i = tid; i < n_valid * C8 * 2; i += wg) {
      const uint r = i / (C8 * 2), w4 = i % (C8 * 2);
      const vec4 o = empty ? vec4(0.0) : sh_q[i];
      const uint b = (split * p.n_heads + head0 + r) * stride + 2 + 4 * w4;
      scratch[b] = o.x; scratch[b + 1] = o.y; scratch[b + 2] = o.z; scratch[b + 3] = o.w;
    }
    if (tid < n_valid) {
      const uint b = (split * p.n_heads + head0 + tid) * stride;
      scratch[b] = empty ? NEG_BIG : sh_m[tid];
      scratch[b + 1] = empty ? 0.0 : sh_l[tid];
    }
#if COMBINE_LAST
    // Count this split done; the last of the (row block, KV head)'s n_splits combines its rows'
    // heads, as pass 2's workgroups (h, slice) would, slice after slice, and zeroes the counter
    // for the next step (a replayed command buffer runs this again).
    memoryBarrierBuffer();
    barrier();
    const uint ci = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (tid == 0u) sh_last = atomicAdd(counters[ci], 1u) == p.n_splits - 1u ? 1u : 0u;
    barrier();
    if (sh_last == 0u) return;  // uniform per workgroup
    memoryBarrierBuffer();
    if (tid == 0u) counters[ci] = 0u;
    for (uint r = 0; r < n_valid; ++r) {
      for (uint slice = 0; slice * SLICE < HEAD_DIM; ++slice) combineSlice(head0 + r, slice, p.n_heads, p.n_splits);
    }
#endif
  }
}

#endif
