// LayerNorm op with weight and bias, torch's nn.LayerNorm (layer: host/ops): gemma4_unified's image
// embedder (docs/model.md §5.7). Semantics: ref::LayerNorm (host/reference/unified_media.h).
#pragma once
#include "host/ops/op_context.h"

namespace vkg {

// y = LayerNorm(x + add) * w + b over each row; add may be Tensor{} (none). x, add, y: [rows][dim]
// f32 (y may be x); w, b: [1][dim] f32. shaders/layer_norm.comp.
void LayerNorm(OpContext& ctx, const Tensor& x, const Tensor& add, const Tensor& w, const Tensor& b, const Tensor& y,
               float eps);

}  // namespace vkg
