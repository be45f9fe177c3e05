/* Push constants of attention_inputs.comp: one layer's per-head Q/K/V norms, RoPE and KV append. */
#ifndef VKG_ATTENTION_INPUTS_PARAMS_H
#define VKG_ATTENTION_INPUTS_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct AttentionInputsParams {
  uint n_tokens;   /* T: tokens of the chunk */
  uint n_heads;    /* query heads per token */
  uint n_kv_heads; /* key/value heads per token written to the cache; 0: a KV-shared layer (q only) */
  uint head_dim;   /* D, a multiple of 4 */
  uint start_pos;  /* token t is at position start_pos + t and goes to cache slot (start_pos + t) % cache_len */
  uint cache_len;
  float eps;            /* RMSNorm epsilon */
  uint groups;          /* workgroups doing work: n_tokens * (n_heads + 2 * n_kv_heads); the grid may hold more */
  uint pos_from_buffer; /* 1: start_pos is the uint at binding 7 (a replayed decode recording) */
  uint qkv_cols;        /* floats per token row of the stacked projection (q at column 0) */
  uint k_col;           /* first column of K in a row */
  uint v_col;           /* first column of V (k_col on K=V layers: V is the raw K) */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(AttentionInputsParams, 48)
#endif
