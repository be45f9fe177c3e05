#version 460
// attention_prefill_coopmat: flash-attention prefill with S = Q K^T and O += P V on matrix units
// (VK_KHR_cooperative_matrix, f16 inputs, f32 accumulation), the GPU family's prefill attention
// where the device lists an f16 x f16 -> f32 subgroup shape. With -D COOPMAT_EMULATED the same
// kernel on emulated fragments (common/coopmat_fragment.glsl), so lavapipe tests all of it but the
// unit intrinsics. Semantics, row order, splits and scratch layout are attention_prefill_gpu.comp's:
//
// Rows: the queries that share one KV head, row = t * group + g (query head kvh * group + g): a
// block of BR rows is BR / group tokens x the whole GQA group (E2B: 8 heads, so a 32-row block is 4
// tokens x 8 heads and every K/V tile feeds 32 rows of the units), or part of one token's group.
// Workgroup (x, y, z) = (row block, KV head, key split); the block's visible keys [lo, hi) and the
// per-query last keys (p.last_key_from_buffer: image tokens / vision patches seeing their whole
// image, clamped to the chunk) as in attention_prefill_gpu.comp (whole key blocks outside the
// causal/sliding range never visited),
// split z walks [lo + z * keys_per_split, + keys_per_split) in tiles of BC keys:
//   1. K tile BC x HEAD_DIM -> f16 shared (b_sh, [key][d], rows padded by 8 halves), one 16-byte
//      shared store per 8 values (b_sh is packed: uvec4 of 8 halves), rows past the split's end
//      zeroed (so 0 x V and the padded scores stay finite). Its global loads were issued into
//      registers (kv_regs, f16) during the previous tile's O += P V (the first tile's before the
//      loop), so the store waits on no load;
//   2. S = Q K^T: (BR / FM) x (BC / FN) unit fragments, A = Q rows from a_sh (staged once, f16),
//      B = K^T (column-major view of the K tile). With fewer fragments than subgroups the head
//      dimension is split KSPLIT ways (each subgroup HEAD_DIM / KSPLIT of the dot product) and the
//      KSPLIT partial S tiles are summed by the softmax; S goes to c_sh (f32, [row][key]);
//   3. online softmax, one (hardware) subgroup per row: the tile's max over the keys the row sees
//      (per-element masks only where the tile crosses a causal or window edge), P = exp(S - m)
//      rounded to f16 into a_sh (the A operand of P V), l += sum of the rounded P. The reference
//      max m of a row moves only when the tile's max exceeds it by more than 8 (P <= e^8 ~ 3000,
//      well inside f16), so the O accumulators, which live in unit fragments that have no
//      per-row scaling, are rescaled (through shared memory) only on the rare tiles where some
//      row's m moved after it had seen keys. Meanwhile the V tile replaces K (K=V layers: KV_SAME,
//      the K tile already is the V tile): its loads were issued into the registers right after
//      the K tile's barrier and were in flight during step 2;
//   4. O += P V: (BR / FM) x (HEAD_DIM / FN) accumulator fragments, O_FRAGS per subgroup, each
//      BC / FK unit steps with A = P, B = V (row-major view of the tile); the next K tile's loads
//      are issued first and land in the registers meanwhile.
// Barriers per key tile: 4 (K stored | S done | P and V stored | O done), as before the prefetch
// (one K/V buffer: a second would not fit 48 KiB at head 256/512), plus 3 per O fragment on the
// rare rescaling tiles; what changed is that no global load is waited for at a barrier: before,
// each tile's K and V loads were issued and stored between two barriers, their latency exposed
// twice per tile, with 16-bit shared stores (8 per 16 bytes) where now one 16-byte store moves 8
// values. Registers for the prefetch: BC x HEAD_DIM / 8 / WG uvec4 per invocation (head 256 BC 32
// and head 512 BC 16 at 128 invocations: 8 uvec4, 32 registers), beside O's 8 fragments (64).
// End: the accumulators leave through a per-subgroup FM x FN staging fragment: out = O / l with one
// split, else (m, l, O) per (split, token, head) into scratch for attention_decode_gpu.comp -D
// COMBINE (as attention_prefill_gpu.comp).
//
// Launch geometry (host/ops/plans/attention_plan.cpp, PlanAttentionPrefillCoopMat; pinned by
// tests/ops/launch_geometry_test.cpp, CoopMatPrefillAttentionFillsTheGpu). 4 subgroups per
// workgroup (128 invocations at subgroup 32): one SM partition each. The plan takes the largest
// BR x BC tile (multiples of the unit) that fits shared memory; splits as the GPU kernel (when row
// blocks x KV heads < 4 x compute units, >= 64 keys per split). 16x16x16 units, 48 KiB of shared
// memory (NVIDIA's Vulkan limit), f16 cache, 132-SM H200:
//   head 256: BR 32 x BC 32 (40.4 KiB: Q 16.5 + K/V 16.5 + P 2.5 + S/staging 4 KiB); S = 4 fragments
//     (one per subgroup, 16 unit steps), O = 2 x 16 fragments (8 per subgroup, 2 steps per tile).
//   head 512: BR 16 x BC 16 (38.1 KiB); S = 1 fragment split 4 ways over the head (8 steps each),
//     O = 1 x 32 fragments (8 per subgroup, 1 step).
//   E2B (8 heads, 1 KV head), 512-token chunk (4096 rows): sliding (256, W 512) 128 row blocks x
//     6 splits of 96 keys = 768 workgroups at every context (the window bounds the keys); full
//     (512) 256 row blocks x 4 splits = 1024 workgroups, splits of 160 keys at the prompt start,
//     10912 keys (682 tiles) for the chunk ending at 32k.
//   31B (32 heads), 512 tokens: sliding (16 KV heads, head 256, W 1024; a block is 16 tokens x 2
//     heads) 32 row blocks x 16 KV heads x 2 splits = 1024 (x 3 splits = 1536 past 1k keys); full
//     (4 KV heads, head 512; 2 tokens x 8 heads) 256 x 4 x 1 split = 1024 workgroups at any context.
//   The weak spot is head 512 under 48 KiB: 16-row blocks re-read K/V per 16 rows, so the 31B full
//   layer's chunk ending at 32k streams ~68 GB of K/V through L2 (~7 ms at ~10 TB/s) for ~1.1
//   TFLOP of products; devices with more shared memory get 32-row blocks from the same plan.
//   So every shape launches >= 5.8 workgroups (>= 23 subgroups) per SM: enough to keep each of
//   the SM's 4 matrix-unit partitions fed while other workgroups load tiles. Per tile a subgroup
//   issues BR*BC*HEAD_DIM / (FM*FN*FK) / 4 unit multiply-adds for S and as many for O (head 256:
//   16 + 16; head 512: 8 + 8); an invocation loads (BC x HEAD_DIM x 2 bytes) / 128 / 16 = 8 (head 256) or 8 (512)
//   16-byte K loads and as many V loads. Every K/V byte loaded serves BR query rows (32 / 16),
//   against 16 / 8 in attention_prefill_gpu.comp at the same shared memory.
//   The serial work of a workgroup is keys_per_split / BC tiles (the split caps it).
//   With last keys (image tokens, vision patches) a row block's keys reach its largest last key;
//   the vision tower (12 heads of 64, f32 K/V, no scratch: one split) at 280 soft tokens = 2520
//   patches: BR 64 x BC 64, 40 row blocks x 12 heads = 480 workgroups (1896 at 1120 soft tokens);
//   a 31B sliding image chunk of 512 tokens: 32 x 16 KV heads x 3 splits = 1536.
// Numerics: q, K, V (f32 caches) and P rounded to f16 (P in [0, e^8], relative 2^-11); the products
// and every sum in f32; the softmax state (m, l) in f32.
//
// binding 0: q       [T][n_heads][head_dim] f32, read as vec4
// binding 1: k_cache [cache_len][n_kv_heads][head_dim] f16 (f32 with -D KV_F32), 16-byte loads;
//            position j in slot j % cache_len (ring caches of sliding layers)
// binding 2: v_cache same layout (may be k_cache itself: K=V layers)
//            -D KV_Q8 / KV_Q4: q8_0 / q4_0 caches (common/kv_quant.glsl): an invocation loads an
//            8-value chunk (8 bytes or one word and its block's scale; neighbouring invocations on
//            neighbouring chunks) and stores it dequantized to the f16 tile.
// binding 3: out     [T][n_heads][head_dim] f32 (when n_splits == 1)
// binding 4: scratch [n_splits][T * n_heads][head_dim + 2] f32 (m, l, o[head_dim]) when n_splits > 1
// binding 5: last_key [T] int, read when p.last_key_from_buffer (any buffer otherwise)
// push: AttentionParams (n_rows = T * group, keys_per_split, n_splits, last_key_from_buffer).
// spec: 0 WG = SUBGROUPS x lanes (lanes: the device's subgroup size; 8 emulated), 1 HEAD_DIM,
//       2 BR, 3 BC, 4 KV_SAME, 5-7 FM, FN, FK (the unit), 8 SUBGROUPS, 9 KSPLIT, 10 C_FLOATS
//       (f32 of c_sh: max(KSPLIT x BR x BC, SUBGROUPS x FM x FN)). The host guarantees BR % FM,
//       BC % FN, BC % FK, HEAD_DIM % FN, (HEAD_DIM / KSPLIT) % FK = 0, fragments x KSPLIT a
//       multiple of SUBGROUPS, and O fragments a multiple of SUBGROUPS (uniform barriers).
// Dispatched by host/ops/attention.cpp.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#include "params/attention_params.h"
#include "kv_quant.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HEAD_DIM = 256;
layout(constant_id = 2) const uint BR = 32;
layout(constant_id = 3) const uint BC = 32;
layout(constant_id = 4) const bool KV_SAME = false;
layout(constant_id = 5) const uint FM = 16;
layout(constant_id = 6) const uint FN = 16;
layout(constant_id = 7) const uint FK = 16;
layout(constant_id = 8) const uint SUBGROUPS = 4;
layout(constant_id = 9) const uint KSPLIT = 1;
layout(constant_id = 10) const uint C_FLOATS = 1024;

#define NEG_BIG (-1.0e30)     // "no key seen yet"; finite so that no inf - inf can appear
#define RESCALE_SLACK 8.0     // the reference max moves only past this: P <= e^8 in f16

const uint WG = gl_WorkGroupSize.x;
const uint Q_STRIDE = HEAD_DIM + 8;   // f16 per Q row in a_sh (16 bytes of padding against bank conflicts)
const uint P_STRIDE = BC + 8;         // f16 per P row
const uint KV_STRIDE = HEAD_DIM + 8;  // f16 per K/V row in b_sh
const uint P_OFF = BR * Q_STRIDE;     // P after Q in a_sh
const uint S_FRAGS = (BR / FM) * (BC / FN);
const uint S_PER_SG = S_FRAGS * KSPLIT / SUBGROUPS;  // (fragment, head slice) items per subgroup
const uint D_SLICE = HEAD_DIM / KSPLIT;
const uint O_COLS = HEAD_DIM / FN;
const uint O_FRAGS = (BR / FM) * O_COLS / SUBGROUPS;
// The fragment API's default strides (unused here: every load names its stride).
const uint A_STRIDE = Q_STRIDE;
const uint B_STRIDE = KV_STRIDE;

layout(std430, binding = 0) readonly buffer Q { vec4 q_in[]; };
#if defined(KV_QUANT)
layout(std430, binding = 1) readonly buffer K { uint k_cache[]; };
layout(std430, binding = 2) readonly buffer V { uint v_cache[]; };
const uint VPL = 8;                   // values per chunk
#elif defined(KV_F32)
layout(std430, binding = 1) readonly buffer K { vec4 k_cache[]; };
layout(std430, binding = 2) readonly buffer V { vec4 v_cache[]; };
const uint VPL = 8;                   // values per chunk: two 16-byte loads
#else
layout(std430, binding = 1) readonly buffer K { uvec4 k_cache[]; };
layout(std430, binding = 2) readonly buffer V { uvec4 v_cache[]; };
const uint VPL = 8;
#endif
const uint LPR = HEAD_DIM / VPL;      // 8-value chunks per K/V row (one 16-byte shared store each)
layout(std430, binding = 3) writeonly buffer Out { float out_[]; };
layout(std430, binding = 4) writeonly buffer Scratch { float scratch[]; };
layout(std430, binding = 5) readonly buffer LastKey { int last_key[]; };
layout(push_constant) uniform Push { AttentionParams p; };

shared float16_t a_sh[BR * Q_STRIDE + BR * P_STRIDE];  // Q [BR][Q_STRIDE], then P [BR][P_STRIDE]
#define COOPMAT_B_PACKED 1
shared uvec4 b_sh[BC * KV_STRIDE / 8];                 // the K tile, then the V tile (f16, 8 per uvec4)
shared float c_sh[C_FLOATS];  // S partials [KSPLIT][BR][BC]; later one FM x FN staging per subgroup
shared float sh_m[BR], sh_l[BR], sh_corr[BR];
shared uint sh_rescale;       // some row's reference max moved after it had seen keys

#define COOPMAT_EMU_K_LOOP [[unroll]]  // emulated: see coopmat_fragment.glsl (lavapipe's loop limit)
#include "coopmat_fragment.glsl"

// Fragment loops unroll on the units (accumulators stay in registers); the emulation keeps them
// rolled (unrolled emulated multiply-adds take lavapipe minutes to compile).
#ifdef COOPMAT_EMULATED
#define FRAG_LOOP [[dont_unroll]]
#else
#define FRAG_LOOP [[unroll]]
#endif

// The K/V tile in two phases, so that its global loads are in flight during the products before
// it is stored: KV_FETCH(buf, t0, n_keys, kvh) loads keys t0 .. t0 + n_keys - 1 of KV head kvh
// into kv_regs as f16 (8 values of a row per uvec4; rows n_keys .. BC - 1 zero), KV_STORE() writes
// them to b_sh, one 16-byte store per 8 values. Item i of the tile: row i / LPR, chunk i % LPR:
// neighbouring invocations on neighbouring 16-byte chunks of a row (coalesced loads), and a
// store phase's 8 invocations on 8 consecutive chunks (8 different 16-byte bank groups).
const uint KV_ITEMS = (BC * LPR + WG - 1u) / WG;  // 8-value chunks per invocation and tile
uvec4 kv_regs[KV_ITEMS];
uvec2 packF16x4(vec4 v) { return uvec2(packFloat2x16(f16vec2(v.xy)), packFloat2x16(f16vec2(v.zw))); }
#if defined(KV_QUANT)
const uint KVQ_B = HEAD_DIM % 32u == 0u ? 32u : 16u;  // kvqBlock(HEAD_DIM)
#define KV_FETCH(buf, t0, n_keys, kvh)                                                       \
  [[unroll]] for (uint j_ = 0; j_ < KV_ITEMS; ++j_) {                                        \
    const uint i_ = gl_LocalInvocationIndex + j_ * WG, k_ = i_ / LPR, e_ = i_ % LPR;         \
    vec4 lo_ = vec4(0.0), hi_ = vec4(0.0);                                                   \
    if (i_ < BC * LPR && k_ < (n_keys)) {                                                    \
      const uint slot_ = uint((t0) + int(k_)) % p.cache_len;                                 \
      KVQ_LOAD8(buf, ((slot_ * p.n_kv_heads + (kvh)) * LPR + e_) * 8u,                       \
                kvqQuantWords(p.cache_len * p.n_kv_heads * HEAD_DIM), KVQ_B, lo_, hi_)       \
    }                                                                                        \
    kv_regs[j_] = uvec4(packF16x4(lo_), packF16x4(hi_));                                     \
  }
#elif defined(KV_F32)
#define KV_FETCH(buf, t0, n_keys, kvh)                                                       \
  [[unroll]] for (uint j_ = 0; j_ < KV_ITEMS; ++j_) {                                        \
    const uint i_ = gl_LocalInvocationIndex + j_ * WG, k_ = i_ / LPR, e_ = i_ % LPR;         \
    vec4 lo_ = vec4(0.0), hi_ = vec4(0.0);                                                   \
    if (i_ < BC * LPR && k_ < (n_keys)) {                                                    \
      const uint slot_ = uint((t0) + int(k_)) % p.cache_len;                                 \
      lo_ = buf[((slot_ * p.n_kv_heads + (kvh)) * LPR + e_) * 2u];                           \
      hi_ = buf[((slot_ * p.n_kv_heads + (kvh)) * LPR + e_) * 2u + 1u];                      \
    }                                                                                        \
    kv_regs[j_] = uvec4(packF16x4(lo_), packF16x4(hi_));                                     \
  }
#else
#define KV_FETCH(buf, t0, n_keys, kvh)                                                       \
  [[unroll]] for (uint j_ = 0; j_ < KV_ITEMS; ++j_) {                                        \
    const uint i_ = gl_LocalInvocationIndex + j_ * WG, k_ = i_ / LPR, e_ = i_ % LPR;         \
    uvec4 w_ = uvec4(0u);                                                                    \
    if (i_ < BC * LPR && k_ < (n_keys)) {                                                    \
      const uint slot_ = uint((t0) + int(k_)) % p.cache_len;                                 \
      w_ = buf[(slot_ * p.n_kv_heads + (kvh)) * LPR + e_];                                   \
    }                                                                                        \
    kv_regs[j_] = w_;  /* already 8 halves, low half first */                                \
  }
#endif
#define KV_STORE()                                                                           \
  [[unroll]] for (uint j_ = 0; j_ < KV_ITEMS; ++j_) {                                        \
    const uint i_ = gl_LocalInvocationIndex + j_ * WG;                                       \
    if (i_ < BC * LPR) b_sh[(i_ / LPR) * (KV_STRIDE / 8u) + i_ % LPR] = kv_regs[j_];         \
  }

void main() {
  const uint tid = gl_LocalInvocationIndex;
  const uint lane = gl_SubgroupInvocationID, hsg = gl_SubgroupID, nhsg = gl_NumSubgroups, sgs = gl_SubgroupSize;
  const uint fsg = fragSubgroup();  // the fragment subgroup (hardware subgroup, or 8 invocations emulated)
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

  // Q tile, f16, once per workgroup; rows past the chunk are zero.
  for (uint i = tid; i < BR * (HEAD_DIM / 4); i += WG) {
    const uint r = i / (HEAD_DIM / 4), w4 = i % (HEAD_DIM / 4);
    vec4 qv = vec4(0.0);
    if (r < n_valid) {
      const uint row = row0 + r;
      const uint t = row / p.group, h = kvh * p.group + row % p.group;
      qv = q_in[(t * p.n_heads + h) * (HEAD_DIM / 4) + w4];
    }
    [[unroll]] for (uint c = 0; c < 4; ++c) a_sh[r * Q_STRIDE + 4 * w4 + c] = float16_t(qv[c]);
  }
  for (uint r = tid; r < BR; r += WG) {  // BR may exceed the workgroup (64 rows, 32 emulated invocations)
    sh_m[r] = NEG_BIG;
    sh_l[r] = 0.0;
    sh_corr[r] = 1.0;
  }

  FragC o[O_FRAGS];
  FRAG_LOOP for (uint j = 0; j < O_FRAGS; ++j) o[j] = fragZero();
  const uint stage = fsg * FM * FN;  // this subgroup's staging fragment in c_sh

  if (s_lo < s_hi) KV_FETCH(k_cache, s_lo, uint(min(int(BC), s_hi - s_lo)), kvh)
  for (int t0 = s_lo; t0 < s_hi; t0 += int(BC)) {
    const uint n_keys = uint(min(int(BC), s_hi - t0));
    KV_STORE()  // the K tile fetched during the previous tile's O += P V (or before the loop)
    if (tid == 0u) sh_rescale = 0u;  // last read before the previous tile's final barrier
    barrier();  // K tile (and, first time, Q and the state) complete
    if (!KV_SAME) KV_FETCH(v_cache, t0, n_keys, kvh)  // in flight during S = Q K^T

    // 2. S partials: item w = (fragment w % S_FRAGS, head slice w / S_FRAGS).
    FRAG_LOOP for (uint u = 0; u < S_PER_SG; ++u) {
      const uint w = fsg * S_PER_SG + u;
      const uint f = w % S_FRAGS, ks = w / S_FRAGS;
      const uint fr = f / (BC / FN), fc = f % (BC / FN);
      FragC s = fragZero();
      FRAG_LOOP for (uint d = ks * D_SLICE; d < (ks + 1u) * D_SLICE; d += FK) {
        const FragA a = fragLoadAStride(fr * FM * Q_STRIDE + d, Q_STRIDE);
        const FragB b = fragLoadBColStride(fc * FN * KV_STRIDE + d, KV_STRIDE);
        s = fragMulAdd(a, b, s);
      }
      fragStoreStride(s, ks * BR * BC + fr * FM * BC + fc * FN, BC);
    }
    barrier();  // S complete; the K tile is free

    // 3. V tile into the K tile's place, and the online softmax (one subgroup per row).
    if (!KV_SAME) KV_STORE()
    const bool unmasked = t0 >= first_hi && t0 + int(n_keys) - 1 <= last_lo;
    for (uint r = hsg; r < BR; r += nhsg) {
      const uint tok = (row0 + r) / p.group;
      const int pos = r < n_valid ? int(p.start_pos + tok) : -1;
      const int first = W > 0 ? max(0, pos - W + 1) : 0;
      const int last = p.last_key_from_buffer != 0u && r < n_valid ? clamp(last_key[tok], pos, last_pos) : pos;
      float mx = NEG_BIG;
      for (uint k = lane; k < n_keys; k += sgs) {
        const int j = t0 + int(k);
        if (unmasked || (j >= first && j <= last)) {
          float sv = 0.0;
          for (uint ks = 0; ks < KSPLIT; ++ks) sv += c_sh[ks * BR * BC + r * BC + k];
          mx = max(mx, sv * p.scale);
        }
      }
      const float tile_max = subgroupMax(mx);
      const float m_old = sh_m[r];
      const float m_new = tile_max > m_old + RESCALE_SLACK ? tile_max : m_old;
      float sum = 0.0;
      for (uint k = lane; k < BC; k += sgs) {
        const int j = t0 + int(k);
        const bool seen = k < n_keys && (unmasked || (j >= first && j <= last));
        float16_t ph = float16_t(0.0);
        if (seen) {
          float sv = 0.0;
          for (uint ks = 0; ks < KSPLIT; ++ks) sv += c_sh[ks * BR * BC + r * BC + k];
          ph = float16_t(exp(sv * p.scale - m_new));
        }
        a_sh[P_OFF + r * P_STRIDE + k] = ph;
        sum += float(ph);  // l sums the P that the units multiply
      }
      sum = subgroupAdd(sum);
      if (lane == 0u) {
        const float l_old = sh_l[r];
        const float corr = m_new == m_old ? 1.0 : (m_old > NEG_BIG ? exp(m_old - m_new) : 0.0);
        sh_corr[r] = corr;
        sh_l[r] = l_old * corr + sum;
        sh_m[r] = m_new;
        if (corr != 1.0 && l_old > 0.0) sh_rescale = 1u;  // rows without keys yet hold O = 0
      }
    }
    barrier();  // P, the state, the rescale flag and the V tile complete; S is free

    // Rescale the accumulators (rare: see RESCALE_SLACK) through the staging fragment.
    if (sh_rescale != 0u) {  // uniform: one shared value after the barrier
      FRAG_LOOP for (uint j = 0; j < O_FRAGS; ++j) {
        const uint f = fsg * O_FRAGS + j, fr = f / O_COLS;
        fragStoreStride(o[j], stage, FN);
        barrier();
        for (uint e = fragLane(); e < FM * FN; e += fragLanes()) c_sh[stage + e] *= sh_corr[fr * FM + e / FN];
        barrier();
        o[j] = fragLoadC(stage, FN);
        barrier();  // the staging fragment is rewritten next
      }
    }

    // 4. O += P V, with the next K tile's loads in flight.
    const int t1 = t0 + int(BC);
    if (t1 < s_hi) KV_FETCH(k_cache, t1, uint(min(int(BC), s_hi - t1)), kvh)
    FRAG_LOOP for (uint j = 0; j < O_FRAGS; ++j) {
      const uint f = fsg * O_FRAGS + j, fr = f / O_COLS, fc = f % O_COLS;
      FRAG_LOOP for (uint kk = 0; kk < BC; kk += FK) {
        const FragA a = fragLoadAStride(P_OFF + fr * FM * P_STRIDE + kk, P_STRIDE);
        const FragB b = fragLoadBRowStride(kk * KV_STRIDE + fc * FN, KV_STRIDE);
        o[j] = fragMulAdd(a, b, o[j]);
      }
    }
    barrier();  // b_sh, P and c_sh are rewritten by the next tile
  }

  // Out through the staging fragment: normalised rows (one split) or the partial state.
  const bool empty = s_lo >= s_hi;
  FRAG_LOOP for (uint j = 0; j < O_FRAGS; ++j) {
    const uint f = fsg * O_FRAGS + j, fr = f / O_COLS, fc = f % O_COLS;
    fragStoreStride(o[j], stage, FN);
    barrier();  // uniform: every subgroup stores O_FRAGS fragments
    for (uint e = fragLane(); e < FM * FN; e += fragLanes()) {
      const uint r = fr * FM + e / FN, d = fc * FN + e % FN;
      if (r >= n_valid) continue;
      const uint row = row0 + r;
      const uint t = row / p.group, h = kvh * p.group + row % p.group;
      const uint th = t * p.n_heads + h;  // (token, head) row of out and of the scratch
      const float v = c_sh[stage + e];
      if (p.n_splits == 1u) {
        out_[th * HEAD_DIM + d] = v / sh_l[r];  // l >= 1: every query sees its own key
      } else {
        const uint b = (split * total_rows + th) * (HEAD_DIM + 2);
        scratch[b + 2 + d] = empty ? 0.0 : v;
        if (d == 0u) {
          // A row that sees no key of this split has l = 0: the combine gives it no weight.
          scratch[b] = empty ? NEG_BIG : sh_m[r];
          scratch[b + 1] = empty ? 0.0 : sh_l[r];
        }
      }
    }
    barrier();  // the staging fragment is rewritten next
  }
}
