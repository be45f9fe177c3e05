/* Push constants of attention_prefill.comp and attention_decode.comp (both passes).
   Rows: the queries that share one KV head, row = t * group + g for token t and group member g
   (query head h = kv_head * group + g). */
#ifndef VKG_ATTENTION_PARAMS_H
#define VKG_ATTENTION_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct AttentionParams {
  uint n_rows;  // T * group: query rows per KV head
  uint group;   // n_heads / n_kv_heads
  uint n_heads;
  uint n_kv_heads;
  uint start_pos;             // position of token 0
  uint cache_len;             // slots in the KV cache; position j lives in slot j % cache_len
  uint window;                // sliding window W (0 = full causal): query i sees keys i-W+1 .. i
  float scale;                // score = scale * q.k (Gemma 4: 1.0)
  uint keys_per_split;        // decode: keys per split; prefill: unused
  uint n_splits;              // decode: 1 = write out directly, >1 = write partials to scratch
  uint pos_from_buffer;       // decode: 1 = the query position is the uint at binding 5, not start_pos
                              // (a recording replayed at every position; start_pos is the largest)
  uint last_key_from_buffer;  // prefill: 1 = query t sees keys up to last_key[t] (binding 4 or 5)
};
/* Pass 2 of split decode: merges n_splits partial softmax states per head. */
struct AttentionCombineParams {
  uint n_heads;
  uint n_splits;
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(AttentionParams, 48)
VKG_PARAMS_CHECK(AttentionCombineParams, 8)
#endif
