// Expert routing: top-k selection with softmax over the chosen logits (layer: host/ops).
#pragma once
#include <cstdint>

#include "host/ops/op_context.h"

namespace vkg {

// For each row of logits [rows][n_experts] f32: the k largest (ties: lower id), their softmax,
// times per_expert_scale[id] ([1][n_experts] f32, or Tensor{} for none).
// ids: [rows][k] int32 storage slice; weights: [rows][k] f32. n_experts <= 512, k <= 32.
void TopKSoftmax(OpContext& ctx, const Tensor& logits, uint32_t k, const Tensor& per_expert_scale,
                 const vk::BufferSlice& ids, const Tensor& weights);

}  // namespace vkg
