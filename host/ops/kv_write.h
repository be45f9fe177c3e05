// KV-cache append (layer: host/ops).
// KV cache layout, per layer: K and V each [cache_len][n_kv_heads][head_dim], dtype f16 (default:
// half the memory) or f32. The key/value of position j lives in slot j % cache_len:
//  * full-attention layers: cache_len = context length, so nothing wraps;
//  * sliding layers: a ring. A prefill chunk of T tokens needs cache_len >= window + T - 1, so that
//    no key a query of the chunk still needs is overwritten by a later token of the same chunk
//    (decode, T = 1: cache_len >= window). Attention() checks this.
#pragma once
#include <cstdint>

#include "host/device/tensor.h"
#include "host/ops/op_context.h"

namespace vkg {

// k_new, v_new: [T][n_kv_heads * head_dim] f32 (rows = T), for positions start_pos .. start_pos+T-1.
// k_cache, v_cache: [cache_len][n_kv_heads * head_dim] f16, f32, q8_0 or q4_0 (both the same
// dtype; quantized: host/device/kv_cache.h's layout, blocks along heads of head_dim).
// Writes token t to slot (start_pos + t) % cache_len, converting to the cache dtype (f16: round to
// nearest even; q8_0 / q4_0: ggml's block rounding). T <= cache_len, so a chunk never overwrites
// itself. head_dim: only quantized caches read it (their blocks do not cross heads).
void KvWrite(OpContext& ctx, const Tensor& k_new, const Tensor& v_new, const Tensor& k_cache, const Tensor& v_cache,
             uint32_t start_pos, uint32_t head_dim = 0);

}  // namespace vkg
