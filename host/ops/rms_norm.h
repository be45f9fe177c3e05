// RMSNorm op, Gemma 4 form (layer: host/ops).
#pragma once
#include "host/ops/op_context.h"

namespace vkg {

// y = x * (mean(x^2) + eps)^-0.5 * w over each row. x, y: [rows][dim] f32 (y may be x).
// w: [1][dim] f32, or a default Tensor{} for the weightless form (v_norm, router norm).
// Per-head norms (q_norm, k_norm) pass x viewed as [tokens * heads][head_dim].
void RmsNorm(OpContext& ctx, const Tensor& x, const Tensor& w, const Tensor& y, float eps);

}  // namespace vkg
