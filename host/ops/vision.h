// The vision tower's own ops (layer: host/ops): the clippable linears' clamps, 2D RoPE and the
// pooler. Semantics: host/reference/vision_tower.cpp and ref::Rope2D; docs/model.md §5.2.
#pragma once
#include <cstdint>

#include "host/device/tensor.h"
#include "host/ops/op_context.h"

namespace vkg {

// dst = clamp(src, lo, hi) over src.elements() values; dst may be src. shaders/clamp_copy.comp.
void ClampCopy(OpContext& ctx, const Tensor& src, const Tensor& dst, float lo, float hi);

// Gemma 4 vision 2D RoPE in place on n_heads heads of head_dim (a multiple of 4) per row of x
// [T][cols]: the first half of each head by positions[t].x, the second by .y.
// positions: a slice of [T][2] int32; inv_freq: [1][head_dim / 4] f32. shaders/rope_2d.comp.
void Rope2D(OpContext& ctx, const Tensor& x, uint32_t n_heads, uint32_t head_dim, const vk::BufferSlice& positions,
            const Tensor& inv_freq);

// out[s] = (sum of x's rows members[s][0 .. k*k) * scale - std_bias) * std_scale (the last two only
// with standardize). x: [N][Hv]; members: a slice of [S][k*k] int32; std_bias, std_scale: [1][Hv]
// (Tensor{} without standardize); out: [S][Hv]. shaders/vision_pool.comp.
void VisionPool(OpContext& ctx, const Tensor& x, const vk::BufferSlice& members, uint32_t members_per_row, float scale,
                const Tensor& std_bias, const Tensor& std_scale, const Tensor& out);

}  // namespace vkg
