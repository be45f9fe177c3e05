// The Gemma 4 layer loop recorded from ops (layer: host/runtime). No Vulkan calls except through ops and
// named barriers; the Scheduler decides what to record and when to submit.
#pragma once
#include <cstdint>
#include <vector>

#include "host/device/gpu_model.h"
#include "host/device/kv_cache.h"
#include "host/ops/op_context.h"
#include "host/runtime/activations.h"

namespace vkg {

// Records the forward pass of T tokens at positions start_pos .. start_pos + T - 1 whose ids are
// already in acts.ids (and, with per-layer embeddings, whose table rows are in acts.ple_tok).
// Appends their K/V to the cache and leaves final_norm(x) in acts.x: [T][H].
// With `position` (T = 1, a decode step recorded once and replayed), the step's position is the
// uint32 in that buffer when the command buffer runs, and start_pos the largest it may be.
// The image rows of a prompt chunk (docs/model.md §5.3): runs of rows whose embeddings are replaced
// by the soft tokens in acts.soft (uploaded, in run order), and, for models whose image tokens see
// their whole image on sliding layers, acts.last_key holding each row's last visible key.
struct ChunkImages {
  struct Run {
    uint32_t row = 0, n = 0;  // rows [row, row + n) of the chunk
  };
  std::vector<Run> runs;
  bool bidirectional = false;  // sliding layers read acts.last_key
};

void RecordForward(OpContext& ctx, const GpuModel& model, const KvCache& kv, Activations& acts, uint32_t T,
                   uint32_t start_pos, const vk::BufferSlice* position = nullptr, const ChunkImages* images = nullptr);

// Several sequences in one forward pass (continuous batching, host/batch). The step's rows are
// grouped per sequence: rows [0, decode_rows) are single decode tokens, one sequence each, and
// their products run as batched decode (MatMulOptions::rows_as_decode: each row bit-identical to
// that token alone); then each prompt chunk's rows, whose products run as that chunk alone. Row-wise
// ops (embedding, norms, residuals, per-layer inputs) run once over all `rows`; attention inputs
// and attention run per segment on its own cache and position. Rows no segment covers (alignment
// padding) are computed and ignored (their ids must be valid).
struct ForwardSegment {
  uint32_t row0 = 0, T = 1;  // its rows of the step
  uint32_t start_pos = 0;    // position of its first row (with `position`: the largest it may be)
  const KvCache* kv = nullptr;
  const vk::BufferSlice* position = nullptr;  // decode row planned as a replayed decode step
  const Tensor* attn_scratch = nullptr;       // its decode attention partials (may be null)
  // A prompt chunk holding a bidirectional image (docs/model.md §5.3): [T] int32, each row's last
  // visible key position on sliding layers; null: causal.
  const vk::BufferSlice* last_key = nullptr;
  // Its split-decode attention counters (AttentionShape::split_counters; null: two passes).
  const vk::BufferSlice* attn_counters = nullptr;
};
struct ForwardBatch {
  uint32_t rows = 0;                     // rows of the step, padding included
  uint32_t decode_rows = 0;              // leading single-token segments
  std::vector<ForwardSegment> segments;  // in row order; the first decode_rows have T = 1
  // Image rows of the step (runs in step rows, their soft tokens in acts.soft in run order); a
  // segment's bidirectional attention comes from its own last_key.
  const ChunkImages* images = nullptr;
};
void RecordForwardBatch(OpContext& ctx, const GpuModel& model, Activations& acts, const ForwardBatch& batch);

// Records logits for rows [row0, row0 + rows) of acts.x into acts.logits: [rows][V], soft-capped.
// rows <= acts.logit_rows.
void RecordHead(OpContext& ctx, const GpuModel& model, Activations& acts, uint32_t row0, uint32_t rows);

}  // namespace vkg
