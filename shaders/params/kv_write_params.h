/* Push constants of kv_write.comp: T new K/V rows into a (ring) KV cache. */
#ifndef VKG_KV_WRITE_PARAMS_H
#define VKG_KV_WRITE_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct KvWriteParams {
  uint n_tokens;   // T
  uint row_pairs;  // n_kv_heads * head_dim / 2: value pairs per token row
  uint start_pos;  // position of token 0; token t goes to slot (start_pos + t) % cache_len
  uint cache_len;
  uint head_dim;  // quantized caches (-D KV_Q8 / KV_Q4): blocks lie along the head; else unused
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(KvWriteParams, 20)
#endif
