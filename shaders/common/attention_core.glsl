// Attention core shared by attention_prefill.comp and attention_decode.comp (GLSL include).
// One workgroup owns one task: a block of ROWS query rows that share a KV head, over a range of
// keys. Each subgroup keeps an online-softmax state (running max m, sum l, unnormalised output o)
// for its ROWS rows; lanes stride along head_dim in pairs (so any even head_dim works, including
// ones smaller than or not a multiple of the subgroup size). Per key: ROWS partial dot products,
// one subgroupAdd each, then the V row is accumulated into all ROWS outputs, so every K/V row
// loaded serves ROWS queries. The key loop is a run-time loop and the per-key body is small, which
// keeps lavapipe's pipeline compile time low (an unrolled block of keys took tens of seconds).
// The per-key loops are [[unroll]]: lavapipe 22.3 silently ends an outermost loop after 65535
// iterations counted over all loops nested in it, so the key loop must be the only loop left
// (host/ops/attention.cpp checks keys per workgroup against that limit).
// When a workgroup holds several subgroups they take interleaved keys and are merged through
// shared memory at the end; with one subgroup (lavapipe) no barrier is executed.
//
// The including shader defines, before #include:
//   spec constants HEAD_DIM, SG_MIN (smallest subgroup size the device may use), ROWS;
//   buffers: q_in (vec2 pairs, [T][n_heads][head_dim] f32), k_cache / v_cache (KV_T pairs,
//   [cache_len][n_kv_heads][head_dim]), push constant block `p` (AttentionParams);
//   KV_F32 when the cache is f32 (KV_T = vec2), KV_Q8 / KV_Q4 when it is q8_0 / q4_0 (KV_T = uint
//   words, common/kv_quant.glsl: a pair is two bytes or nibbles and its block's scale), otherwise
//   it is f16 (KV_T = uint, 2 halves);
//   int attnLastKey(uint t, int pos): the last key position query token t (at pos) sees, >= pos
//   (pos for causal attention; the end of its image for image tokens that see their whole image).
#ifndef VKG_ATTENTION_CORE_GLSL
#define VKG_ATTENTION_CORE_GLSL

#define NEG_BIG (-1.0e30)     // "no key seen yet"; finite so that no inf - inf can appear

const uint HALF_D = HEAD_DIM / 2;
const uint DP = (HALF_D + SG_MIN - 1) / SG_MIN;  // head_dim pairs per lane (upper bound)

#include "kv_quant.glsl"

#if defined(KV_QUANT)
const uint KVQ_B = HEAD_DIM % 32u == 0u ? 32u : 16u;  // kvqBlock(HEAD_DIM)
vec2 loadK(uint i) { return KVQ_LOAD2(k_cache, 2u * i, kvqQuantWords(p.cache_len * p.n_kv_heads * HEAD_DIM), KVQ_B); }
vec2 loadV(uint i) { return KVQ_LOAD2(v_cache, 2u * i, kvqQuantWords(p.cache_len * p.n_kv_heads * HEAD_DIM), KVQ_B); }
#elif defined(KV_F32)
vec2 loadK(uint i) { return k_cache[i]; }
vec2 loadV(uint i) { return v_cache[i]; }
#else
vec2 loadK(uint i) { return unpackHalf2x16(k_cache[i]); }
vec2 loadV(uint i) { return unpackHalf2x16(v_cache[i]); }
#endif

// Per-subgroup state for the ROWS rows of the task.
vec2 qv[ROWS * DP];   // q pairs owned by this lane
vec2 acc[ROWS * DP];  // unnormalised output pairs
float m_run[ROWS];    // running max score (NEG_BIG: nothing seen)
float l_run[ROWS];    // running sum of exp(score - m_run)
int row_pos[ROWS];    // query position (-1: padding row, sees nothing)
int row_first[ROWS];  // first visible key position
int row_last[ROWS];   // last visible key position (row_pos, or later for a bidirectional image)
uint row_head[ROWS];  // query head
uint row_tok[ROWS];   // token index t

// Loads the q rows of row block `block` of KV head `kvh` and resets the state.
void attnInit(uint kvh, uint block) {
  const uint lane = gl_SubgroupInvocationID;
  for (uint r = 0; r < ROWS; ++r) {
    const uint row = block * ROWS + r;
    const bool valid = row < p.n_rows;
    const uint t = valid ? row / p.group : 0;
    const uint h = kvh * p.group + (valid ? row % p.group : 0);
    const int pos = valid ? int(attnStartPos() + t) : -1;
    row_pos[r] = pos;
    row_first[r] = p.window > 0 ? max(0, pos - int(p.window) + 1) : 0;
    row_last[r] = valid ? max(pos, attnLastKey(t, pos)) : -1;
    row_head[r] = h;
    row_tok[r] = t;
    m_run[r] = NEG_BIG;
    l_run[r] = 0.0;
    const uint base = (t * p.n_heads + h) * HALF_D;
    for (uint i = 0; i < DP; ++i) {
      const uint dp = lane + i * gl_SubgroupSize;
      qv[r * DP + i] = (valid && dp < HALF_D) ? q_in[base + dp] : vec2(0.0);
      acc[r * DP + i] = vec2(0.0);
    }
  }
}

// Key range [lo, hi) that any row of the task can see.
ivec2 attnKeyRange() {
  int lo = 0x7fffffff, hi = 0;
  for (uint r = 0; r < ROWS; ++r) {
    if (row_pos[r] < 0) continue;
    lo = min(lo, row_first[r]);
    hi = max(hi, row_last[r] + 1);
  }
  return ivec2(lo, hi);
}

// Folds key position j (visible to at least one row) of KV head kvh into the state. The running
// max only moves when a score exceeds it (rare after the first keys), so the rescale of o sits in a
// subgroup-uniform branch instead of running for every key.
void attnKey(uint kvh, int j) {
  const uint lane = gl_SubgroupInvocationID;
  const uint base = ((uint(j) % p.cache_len) * p.n_kv_heads + kvh) * HALF_D;
  float part[ROWS];
  [[unroll]] for (uint r = 0; r < ROWS; ++r) part[r] = 0.0;
  [[unroll]] for (uint i = 0; i < DP; ++i) {
    const uint dp = lane + i * gl_SubgroupSize;
    if (dp < HALF_D) {
      const vec2 kv = loadK(base + dp);
      [[unroll]] for (uint r = 0; r < ROWS; ++r) part[r] += dot(qv[r * DP + i], kv);
    }
  }
  float pr[ROWS];
  [[unroll]] for (uint r = 0; r < ROWS; ++r) {
    const float sc = subgroupBroadcastFirst(subgroupAdd(part[r])) * p.scale;
    pr[r] = 0.0;
    if (j < row_first[r] || j > row_last[r]) continue;  // masked for this row
    if (sc > m_run[r]) {
      const float corr = m_run[r] > NEG_BIG ? exp(m_run[r] - sc) : 0.0;
      l_run[r] *= corr;
      [[unroll]] for (uint i = 0; i < DP; ++i) acc[r * DP + i] *= corr;
      m_run[r] = sc;
    }
    pr[r] = exp(sc - m_run[r]);
    l_run[r] += pr[r];
  }
  [[unroll]] for (uint i = 0; i < DP; ++i) {
    const uint dp = lane + i * gl_SubgroupSize;
    if (dp < HALF_D) {
      const vec2 vv = loadV(base + dp);
      [[unroll]] for (uint r = 0; r < ROWS; ++r) acc[r * DP + i] += pr[r] * vv;
    }
  }
}

// Runs the subgroups of this workgroup over keys [lo, hi) (interleaved keys) and merges
// their states into subgroup 0. Must be called by the whole workgroup.
shared vec2 sh_acc[ROWS * HALF_D];
shared float sh_m[ROWS];
shared float sh_l[ROWS];

void attnRun(uint kvh, int lo, int hi) {
  const uint nsg = gl_NumSubgroups, sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  for (int j = max(lo, 0) + int(sg); j < hi; j += int(nsg)) attnKey(kvh, j);
  for (uint other = 1; other < nsg; ++other) {  // uniform trip count: barriers are legal
    barrier();
    if (sg == other) {
      for (uint r = 0; r < ROWS; ++r) {
        if (lane == 0) {
          sh_m[r] = m_run[r];
          sh_l[r] = l_run[r];
        }
        for (uint i = 0; i < DP; ++i) {
          const uint dp = lane + i * gl_SubgroupSize;
          if (dp < HALF_D) sh_acc[r * HALF_D + dp] = acc[r * DP + i];
        }
      }
    }
    barrier();
    if (sg == 0) {
      for (uint r = 0; r < ROWS; ++r) {
        const float om = sh_m[r];
        const float mn = max(m_run[r], om);
        if (mn <= NEG_BIG) continue;
        const float ca = m_run[r] > NEG_BIG ? exp(m_run[r] - mn) : 0.0;
        const float cb = om > NEG_BIG ? exp(om - mn) : 0.0;
        l_run[r] = l_run[r] * ca + sh_l[r] * cb;
        m_run[r] = mn;
        for (uint i = 0; i < DP; ++i) {
          const uint dp = lane + i * gl_SubgroupSize;
          if (dp < HALF_D) acc[r * DP + i] = acc[r * DP + i] * ca + sh_acc[r * HALF_D + dp] * cb;
        }
      }
    }
  }
}

#endif
