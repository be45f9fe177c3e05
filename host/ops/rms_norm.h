// RMSNorm op, Gemma 4 form (layer: host/ops).
#pragma once
#include "host/ops/op_context.h"
#include "host/ops/quantize_activations.h"

namespace vkg {

// y = x * (mean(x^2) + eps)^-0.5 * w over each row. x, y: [rows][dim] f32 (y may be x).
// w: [1][dim] f32, or a default Tensor{} for the weightless form (v_norm, router norm).
// Per-head norms (q_norm, k_norm) pass x viewed as [tokens * heads][head_dim].
void RmsNorm(OpContext& ctx, const Tensor& x, const Tensor& w, const Tensor& y, float eps);

// A block's end and the next block's start in one dispatch (shaders/residual_norm.comp):
//   x = (x + rmsnorm(y, w_out)) * scale, in place;  then a = rmsnorm(x, w_next) if w_next is given.
// x, y, a: [rows][dim] f32, three different tensors; w_out, w_next: [1][dim] f32 (w_next may be
// Tensor{}, and then a is not written). Equal to RmsNorm(y) + AddScaled + RmsNorm(x).
// int8_out (optional): the row it ends with (a when w_next is given, else the new x) also written
// as int8 activations (host/ops/quantize_activations.h, the same bytes QuantizeActivations writes),
// so that the integer-dot product reading it needs no quantize dispatch of its own
// (MatMulOptions::int8_ready). Returns whether it wrote them: only the GPU row kernel with vec4
// rows does (residual_norm_rows.comp QUANT); false means the caller quantizes as before.
bool ResidualRmsNorm(OpContext& ctx, const Tensor& x, const Tensor& y, const Tensor& w_out, float scale,
                     const Tensor& w_next, const Tensor& a, float eps, const Int8Activations* int8_out = nullptr);

}  // namespace vkg
