// Elementwise ops: gated GELU, soft-cap, residual add and scale (layer: host/ops).
#pragma once
#include "host/ops/op_context.h"

namespace vkg {

// out = gelu_tanh(gate) * up. All tensors hold the same number of f32 values; out may alias either.
void GeluMul(OpContext& ctx, const Tensor& gate, const Tensor& up, const Tensor& out);

// The same over a fused product: gate_up: [rows][2 * cols] with each row [gate | up];
// out: [rows][cols] (a separate tensor).
void GeluMulPairs(OpContext& ctx, const Tensor& gate_up, const Tensor& out);

// x = cap * tanh(x / cap), in place (final logit soft-cap).
void Softcap(OpContext& ctx, const Tensor& x, float cap);

// out = (a + b) * scale; b may be a default Tensor{} (out = a * scale). out may alias a or b.
void AddScaled(OpContext& ctx, const Tensor& a, const Tensor& b, const Tensor& out, float scale);

}  // namespace vkg
