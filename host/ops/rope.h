// Rotary position embedding op, both Gemma 4 forms (layer: host/ops).
#pragma once
#include <cstdint>

#include "host/ops/op_context.h"

namespace vkg {

// Rotates n_heads heads of head_dim in every row of x, in place; token t is at start_pos + t.
// x: [T][cols] f32 with the heads at columns [h * head_dim, (h + 1) * head_dim), cols >= n_heads
// * head_dim. inv_freq: [1][head_dim / 2] f32 from ref::RopeInvFreq (zeros leave pairs untouched:
// full layers rotate 64 pairs of 256, pairing dims i and i + 256).
void Rope(OpContext& ctx, const Tensor& x, uint32_t n_heads, uint32_t head_dim, uint32_t start_pos,
          const Tensor& inv_freq);

}  // namespace vkg
