// Scratch tensors of one forward chunk, allocated once for the largest chunk (layer: host/runtime).
// Every op of host/runtime/forward.cpp reads and writes these; nothing is allocated per token.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "host/device/tensor.h"
#include "host/model/config.h"
#include "vk/buffer.h"

namespace vkg {

struct Activations {
  // batch: most tokens per chunk; logit_rows: most rows the head computes in one pass.
  Activations(const ModelConfig& config, vk::BlockAllocator& alloc, uint32_t batch, uint32_t logit_rows,
              uint32_t context);
  // Device bytes the constructor would allocate (for `info` and context sizing), without a device.
  static uint64_t Bytes(const ModelConfig& config, uint32_t batch, uint32_t logit_rows, uint32_t context);

  uint32_t batch, logit_rows;
  uint32_t ple_rows;           // rows per layer in `ple` (>= batch; keeps each layer's slice aligned)
  vk::BufferSlice ids;         // [batch] int32, uploaded per chunk
  vk::BufferSlice position;    // [1] uint32: the position of a replayed decode step
  Tensor x, a, y;              // [batch][H] residual stream, normed input, block output
  Tensor q, attn;              // [batch][NH * Dmax]
  Tensor qkv;                  // [batch][NH * Dmax + 2 * KVHmax * Dmax]: the stacked q|k|v projection
  Tensor gate_up;              // [batch * max(1, top_k)][2 * max(I, I_moe)]: fused gate|up products
  Tensor act;                  // [batch * max(1, top_k)][max(I, I_moe)]: gelu(gate) * up
  Tensor ple, ple_tok, ple_g;  // [L * ple_rows][P], [batch][L * P], [batch][P]
  Tensor ple_ctx;              // [batch][L * P]: the model projection of x0, token-major
  Tensor z, h2;                // [batch][H] MoE: router input, expert sum
  Tensor router_logits;        // [batch][E]
  vk::BufferSlice expert_ids;  // [batch][top_k] int32
  Tensor expert_weights;       // [batch][top_k]
  Tensor expert_out;           // [batch * top_k][H]
  Tensor head_in, logits;      // [logit_rows][H], [logit_rows][V]
  Tensor attn_scratch;         // split decode / GPU prefill attention partials (may be empty)
  // Int8 activations of one product input (host/ops/quantize_activations.h), for the integer-dot
  // products: any [max(batch, logit_rows)][K] input of a MatMul; empty when the shader compiler
  // had no GL_EXT_integer_dot_product (the products then stay float).
  vk::BufferSlice int8_x;
  // One uint, zero between dispatches: the finished-workgroup counter of the decode products that
  // end their block (host/ops/matmul.h BlockEnd). Zeroed once by the engine that owns these
  // activations (Scheduler, GpuBatchEngine); each such dispatch leaves it zero again.
  vk::BufferSlice block_end_counter;
  // [num_attention_heads] uint, zero between dispatches: the split-decode attention's per (row
  // block, KV head) counters (host/ops/attention.h AttentionShape::split_counters), zeroed once
  // by the owning engine as block_end_counter is.
  vk::BufferSlice attn_counters;
  Tensor inv_freq_sliding, inv_freq_full;  // [1][D/2] of each layer type
  // Models with a vision tower: a chunk's image soft tokens, copied over their rows' embeddings,
  // and each row's last visible key on sliding layers (bidirectional images). Empty otherwise.
  Tensor soft;               // [batch][H]
  vk::BufferSlice last_key;  // [batch] int32
  uint64_t bytes = 0;

  // Layer l's [T][P] slice of `ple`.
  Tensor PleLayer(int l, uint32_t T) const;

 private:
  using AllocateFn = std::function<vk::BufferSlice(uint64_t bytes)>;
  Activations(const ModelConfig& config, const AllocateFn& allocate, uint32_t batch, uint32_t logit_rows,
              uint32_t context);
};

// Floats of the attention partials one sequence needs (Activations::attn_scratch): split decode at
// the context's end for the largest head shape, and with chunk > 1 the GPU prefill kernel's
// split-key partials for a `chunk`-token prompt chunk ending there. The batch engine sizes each
// slot's decode scratch with chunk 1.
uint64_t AttentionScratchFloatsFor(const ModelConfig& config, uint32_t context, uint32_t chunk);

}  // namespace vkg
