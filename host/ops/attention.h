// Attention over a KV cache: causal or sliding window, grouped-query heads (layer: host/ops).
// Semantics are those of ref::Attention (host/reference/ref_ops.h); the cache layout and its ring
// rule are described in host/ops/kv_write.h.
#pragma once
#include <cstdint>

#include "host/device/tensor.h"
#include "host/ops/op_context.h"

namespace vkg {

struct AttentionShape {
  uint32_t start_pos = 0;  // position of query token 0
  uint32_t n_heads = 0;    // query heads; head h reads KV head h / (n_heads / n_kv_heads)
  uint32_t n_kv_heads = 0;
  uint32_t head_dim = 0;   // even, <= 512
  uint32_t cache_len = 0;  // slots of k_cache / v_cache
  uint32_t window = 0;     // 0 = full causal; W: query i sees keys i-W+1 .. i
  float scale = 1.f;       // score = scale * q.k (Gemma 4: 1.0)
  // Decode only: when set, the query position is the uint32 this slice holds when the command
  // buffer runs, and start_pos is the largest position it may run at (the checks and the split
  // plan use it; splits past the real position stay empty). One recording then serves every step.
  const vk::BufferSlice* position = nullptr;
  // Prefill (T > 1) only: when set, a slice of [T] int32: the last key position query token t
  // sees, from its own (causal) to the chunk's last, start_pos + T - 1 (values outside are clamped
  // into that range). Gemma 4's image tokens seeing their whole image on sliding layers
  // (docs/model.md §5.3), and the vision tower's patches seeing all patches. Every prefill kernel
  // reads it (row, flash and matrix-unit); the GPU kernels' splits then cover keys up to the chunk's end.
  const vk::BufferSlice* last_key = nullptr;
  // Decode on the GPU family's kernel with key splits: when set, at least n_heads uints of device
  // memory, zero before the dispatch (and left zero by it), one per (row block, KV head); the last
  // split of each to finish combines the partials itself (attention_decode_gpu.comp COMBINE_LAST):
  // one dispatch and barrier fewer, the same bits as the separate combine pass. Sequences whose
  // attention runs at once (continuous batching) each need their own.
  const vk::BufferSlice* split_counters = nullptr;
};

// Decode (T = 1) splits the visible keys into chunks of at least this many keys, one workgroup
// each, merged by a second dispatch (flash-decoding); at most kAttentionMaxSplits chunks.
inline constexpr uint32_t kAttentionKeysPerSplit = 256;
inline constexpr uint32_t kAttentionMaxSplits = 32;

// f32 elements of scratch that Attention may use for T query tokens (0: it needs none). A caller
// that allocates AttentionScratchFloats(shape with start_pos at the context end, 1) once can pass
// that tensor for every decode step. T > 1: the split-key partials of the GPU prefill kernel
// (planned for the largest GPU plans consider; a smaller scratch only means fewer splits).
uint64_t AttentionScratchFloats(const AttentionShape& shape, uint32_t n_tokens);

struct AttentionPrefillPlan;
// The prefill plan Attention records in `ctx` for T > 1 query tokens (kv_bytes_per_value 2: f16
// caches, 4: f32): the matrix-unit kernel where the context's path has a tile for the shape, else
// PlanAttentionPrefill's (host/ops/plans/attention_plan.h). Tests and tools report it.
AttentionPrefillPlan PlanAttentionPrefillFor(const OpContext& ctx, const AttentionShape& shape, uint32_t n_tokens,
                                             uint32_t kv_bytes_per_value, bool with_scratch);

// q, out: [T][n_heads * head_dim] f32 (rows = T) for positions start_pos .. start_pos+T-1.
// k_cache, v_cache: [cache_len][n_kv_heads * head_dim], both f16 or both f32.
// scratch: optional f32 tensor of >= AttentionScratchFloats elements; without it, decode runs one
// workgroup per (KV head, head block) over the whole key range instead of splitting, and so does
// GPU prefill per (row block, KV head).
// Requires cache_len >= (start_pos + T) - first key the first query sees, i.e. for a sliding layer
// cache_len >= min(start_pos + T, window + T - 1), and for a full layer cache_len >= start_pos + T.
// T = 1 uses attention_decode.comp (CPU kernel family) or attention_decode_gpu.comp (GPU family);
// T > 1 attention_prefill.comp (CPU family, and GPU-family shapes the flash kernel cannot take:
// head_dim not a multiple of 8, no tile that fits shared memory) or attention_prefill_gpu.comp
// (host/ops/plans/attention_plan.h: PlanAttentionPrefill).
// In the GPU family, where the context's matrix-unit path (CoopMatPrefillPath: the device's f16
// units, or the emulated fragments KernelFeatures asks for) has a tile for the shape, T > 1 takes
// attention_prefill_coopmat.comp instead (PlanAttentionPrefillCoopMat).
void Attention(OpContext& ctx, const Tensor& q, const Tensor& k_cache, const Tensor& v_cache, const Tensor& out,
               const AttentionShape& shape, const Tensor* scratch = nullptr);

}  // namespace vkg
