// Embedding gather with scale (layer: host/ops).
#pragma once
#include <cstdint>

#include "host/device/weight_matrix.h"
#include "host/ops/op_context.h"

namespace vkg {

// out[t] = table[ids[t]] * scale (Gemma 4: scale = bf16(sqrt(hidden))). table: [vocab][dim] in any
// weight format; ids: [n_tokens] int32 in a storage slice; out: [n_tokens][dim] f32.
// One dispatch per chunk of the table, so tables past the device's view limit work.
void Embed(OpContext& ctx, const WeightMatrix& table, const vk::BufferSlice& ids, const Tensor& out, float scale);

}  // namespace vkg
