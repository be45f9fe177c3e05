// The Gemma 4 layer loop recorded from ops (layer: host). No Vulkan calls except through ops and
// named barriers; the Scheduler decides what to record and when to submit.
#pragma once
#include <cstdint>

#include "host/activations.h"
#include "host/gpu_model.h"
#include "host/kv_cache.h"
#include "host/ops/op_context.h"

namespace vkg {

// Records the forward pass of T tokens at positions start_pos .. start_pos + T - 1 whose ids are
// already in acts.ids (and, with per-layer embeddings, whose table rows are in acts.ple_tok).
// Appends their K/V to the cache and leaves final_norm(x) in acts.x: [T][H].
// With `position` (T = 1, a decode step recorded once and replayed), the step's position is the
// uint32 in that buffer when the command buffer runs, and start_pos the largest it may be.
void RecordForward(OpContext& ctx, const GpuModel& model, const KvCache& kv, Activations& acts, uint32_t T,
                   uint32_t start_pos, const vk::BufferSlice* position = nullptr);

// Records logits for rows [row0, row0 + rows) of acts.x into acts.logits: [rows][V], soft-capped.
// rows <= acts.logit_rows.
void RecordHead(OpContext& ctx, const GpuModel& model, Activations& acts, uint32_t row0, uint32_t rows);

}  // namespace vkg
