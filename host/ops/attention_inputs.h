// One layer's attention inputs in one dispatch (layer: host/ops): the per-head Q/K/V RMSNorms, RoPE
// of Q and K, and the KV-cache append, fused (shaders/attention_inputs.comp). Same results as
// RmsNorm (per head) -> Rope -> KvWrite in sequence, with one trip through memory instead of six.
#pragma once
#include "host/device/tensor.h"
#include "host/ops/op_context.h"

namespace vkg {

// Shapes: T tokens at positions start_pos .. start_pos + T - 1, D = head_dim (a multiple of 4).
struct AttentionInputs {
  Tensor qkv;                     // [T][cols] f32: the stacked projection, read only. Q heads at column 0,
  uint32_t k_col = 0, v_col = 0;  // K heads at k_col, V heads at v_col (= k_col on K=V layers)
  Tensor q;                       // [T][n_heads * D] f32: normalised with q_norm and rotated, written
  Tensor q_norm;                  // [D] f32
  uint32_t n_heads = 0;
  uint32_t head_dim = 0;
  Tensor inv_freq;  // [1][D / 2] f32 (ref::RopeInvFreq; zeros pass pairs through)
  // The KV append; n_kv_heads = 0 on KV-shared layers, which only prepare q.
  uint32_t n_kv_heads = 0;
  Tensor k_norm;            // [D] f32
  Tensor k_cache, v_cache;  // [cache_len][n_kv_heads * D] f16 or f32; token t -> slot pos % cache_len
  float eps = 1e-6f;
  // When set, start_pos is instead the uint32 this slice holds when the command buffer runs (one
  // decode recording replayed at every position).
  const vk::BufferSlice* position = nullptr;
};

// Records the dispatch. Writes q and rows (start_pos + t) % cache_len of the caches.
void PrepareAttentionInputs(OpContext& ctx, const AttentionInputs& in, uint32_t start_pos);

}  // namespace vkg
