// Per-layer-embedding combine op (layer: host/ops).
#pragma once
#include <cstdint>

#include "host/ops/op_context.h"

namespace vkg {

// ple[l * ple_rows + t] = (ctx[t][l] + tok[t][l]) * scale, for t < n_tokens: token-major inputs
// into the layer-major rows each layer's block reads as one [T][P] tensor.
// ctx, tok: [>= n_tokens][L * P] f32; ple: [L * ple_rows][P] f32, written.
void PleCombine(OpContext& ctx, const Tensor& ctx_rows, const Tensor& tok, const Tensor& ple, uint32_t n_tokens,
                uint32_t n_layers, uint32_t ple_rows, float scale);

// The same with the per-slice norm of ctx fused in (shaders/ple_norm_combine.comp):
// ple[l * ple_rows + t] = (rmsnorm(ctx[t][l], norm) + tok[t][l]) * scale; ctx is not written.
// Equal to RmsNorm over ctx viewed as [T * L][P], then PleCombine; one dispatch instead of two.
void PleNormCombine(OpContext& ctx, const Tensor& ctx_rows, const Tensor& norm, const Tensor& tok, const Tensor& ple,
                    uint32_t n_tokens, uint32_t n_layers, uint32_t ple_rows, float scale, float eps);

}  // namespace vkg
