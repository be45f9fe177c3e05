// Activation scratch allocation (layer: host/runtime).
#include "host/runtime/activations.h"

#include <algorithm>

#include "host/ops/attention.h"
#include "host/ops/quantize_activations.h"

namespace vkg {

Activations::Activations(const ModelConfig& c, vk::BlockAllocator& alloc, uint32_t batch_, uint32_t logit_rows_,
                         uint32_t context)
    : Activations(
          c, [&alloc](uint64_t n) { return alloc.Allocate(n); }, batch_, logit_rows_, context) {}

uint64_t Activations::Bytes(const ModelConfig& c, uint32_t batch, uint32_t logit_rows, uint32_t context) {
  uint64_t total = 0;
  Activations counting(
      c,
      [&total](uint64_t n) {
        total += (n + 255) / 256 * 256;  // the allocator's alignment
        return vk::BufferSlice{nullptr, 0, n};
      },
      batch, logit_rows, context);
  return total;
}

Activations::Activations(const ModelConfig& c, const AllocateFn& allocate, uint32_t batch_, uint32_t logit_rows_,
                         uint32_t context)
    : batch(batch_), logit_rows(logit_rows_) {
  auto f32 = [&](uint64_t rows, uint64_t cols) {
    const uint64_t n = std::max<uint64_t>(1, rows * cols);
    const vk::BufferSlice s = allocate(n * 4);
    bytes += (n * 4 + 255) / 256 * 256;
    return Tensor{s, DType::F32, uint32_t(rows), uint32_t(cols)};
  };
  uint32_t qdim = 0, kvdim = 0, ffn = 0, max_d = 0;
  for (const LayerInfo& li : c.layers) {
    qdim = std::max<uint32_t>(qdim, uint32_t(c.num_attention_heads * li.head_dim));
    kvdim = std::max<uint32_t>(kvdim, uint32_t(li.n_kv_heads * li.head_dim));
    ffn = std::max<uint32_t>(ffn, uint32_t(li.ffn_dim));
    max_d = std::max<uint32_t>(max_d, uint32_t(li.head_dim));
  }
  const uint32_t H = uint32_t(c.hidden_size), V = uint32_t(c.vocab_size);
  const uint32_t top_k = c.has_moe() ? uint32_t(c.top_k_experts) : 1;
  if (c.has_moe()) ffn = std::max<uint32_t>(ffn, uint32_t(c.moe_intermediate_size));

  ids = allocate(uint64_t(batch) * 4);
  bytes += 256;
  if (c.mm.has_vision || c.mm.has_audio) {  // soft-token rows of images and audio clips
    soft = f32(batch, H);
    last_key = allocate(uint64_t(batch) * 4);
    bytes += uint64_t(batch) * 4 + 256;
  }
  position = allocate(4);
  bytes += 256;
  x = f32(batch, H);
  a = f32(batch, H);
  y = f32(batch, H);
  q = f32(batch, qdim);
  attn = f32(batch, qdim);
  qkv = f32(batch, uint64_t(qdim) + 2ull * kvdim);
  gate_up = f32(uint64_t(batch) * top_k, 2ull * ffn);
  act = f32(uint64_t(batch) * top_k, ffn);
  ple_rows = (batch + 63) / 64 * 64;  // 64 rows of 4-byte values: any layer slice stays 256-byte aligned
  if (c.has_ple()) {
    const uint32_t P = uint32_t(c.hidden_size_per_layer_input), L = uint32_t(c.num_hidden_layers);
    ple = f32(uint64_t(L) * ple_rows, P);
    ple_tok = f32(batch, uint64_t(L) * P);
    ple_ctx = f32(batch, uint64_t(L) * P);
    ple_g = f32(batch, P);
  }
  if (c.has_moe()) {
    z = f32(batch, H);
    h2 = f32(batch, H);
    router_logits = f32(batch, uint32_t(c.num_experts));
    expert_ids = allocate(uint64_t(batch) * top_k * 4);
    bytes += (uint64_t(batch) * top_k * 4 + 255) / 256 * 256;
    expert_weights = f32(batch, top_k);
    expert_out = f32(uint64_t(batch) * top_k, H);
  }
  head_in = f32(logit_rows, H);
  logits = f32(logit_rows, V);

  const uint64_t scratch = AttentionScratchFloatsFor(c, context, batch);
  if (scratch) attn_scratch = f32(1, scratch);
#if VKG_SHADERS_INTEGER_DOT
  {
    // The widest product input: x (H), attention output (NH * D), the FFN activation, the
    // per-layer-input gate output (P).
    const uint32_t P = c.has_ple() ? uint32_t(c.hidden_size_per_layer_input) : 0;
    const uint32_t cols = std::max({H, qdim, ffn, P});
    const uint64_t n = Int8ActivationsBytes(std::max(batch, logit_rows), cols);
    int8_x = allocate(n);
    bytes += (n + 255) / 256 * 256;
  }
#endif
  inv_freq_sliding = f32(1, max_d / 2);
  inv_freq_full = f32(1, max_d / 2);
  block_end_counter = allocate(4);
  attn_counters = allocate(uint64_t(c.num_attention_heads) * 4);
  bytes += 256 + (uint64_t(c.num_attention_heads) * 4 + 255) / 256 * 256;
}

uint64_t AttentionScratchFloatsFor(const ModelConfig& c, uint32_t context, uint32_t chunk) {
  // Decode and GPU prefill attention split long key ranges; size the partials for the largest
  // head shape.
  uint64_t scratch = 0;
  for (const LayerInfo& li : c.layers) {
    AttentionShape s;
    s.start_pos = context - 1;
    s.n_heads = uint32_t(c.num_attention_heads);
    s.n_kv_heads = uint32_t(li.n_kv_heads);
    s.head_dim = uint32_t(li.head_dim);
    s.cache_len = context;
    s.window = uint32_t(li.window);
    scratch = std::max(scratch, AttentionScratchFloats(s, 1));
    // A prompt chunk of `chunk` tokens ending at the context's end: the GPU prefill kernel's
    // split-key partials (the widest key ranges; fewer splits fit otherwise).
    if (chunk > 1 && context >= chunk) {
      s.start_pos = context - chunk;
      s.cache_len = li.window > 0 ? std::min<uint32_t>(context, uint32_t(li.window) + chunk - 1) : context;
      scratch = std::max(scratch, AttentionScratchFloats(s, chunk));
    }
  }
  return scratch;
}

Tensor Activations::PleLayer(int l, uint32_t T) const {
  const uint64_t P = ple.cols;
  return Tensor{ple.slice.Sub(uint64_t(l) * ple_rows * P * 4, uint64_t(T) * P * 4), DType::F32, T, uint32_t(P)};
}

}  // namespace vkg
