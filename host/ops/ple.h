// Per-layer-embedding combine op (layer: host/ops).
#pragma once
#include <cstdint>

#include "host/ops/op_context.h"

namespace vkg {

// The combine's extent: n_tokens tokens of n_layers slices of P values (P = ple.cols); layer l's
// rows of ple start at l * ple_rows (>= n_tokens); every value is multiplied by scale.
struct PleCombineShape {
  uint32_t n_tokens = 0;
  uint32_t n_layers = 0;
  uint32_t ple_rows = 0;
  float scale = 1.f;
};

// ple[l * ple_rows + t] = (ctx[t][l] + tok[t][l]) * scale, for t < n_tokens: token-major inputs
// into the layer-major rows each layer's block reads as one [T][P] tensor.
// ctx, tok: [>= n_tokens][L * P] f32; ple: [L * ple_rows][P] f32, written.
void PleCombine(OpContext& ctx, const Tensor& ctx_rows, const Tensor& tok, const Tensor& ple,
                const PleCombineShape& shape);

// The same with the per-slice norm of ctx fused in (shaders/ple_norm_combine.comp):
// ple[l * ple_rows + t] = (rmsnorm(ctx[t][l], norm) + tok[t][l]) * scale; ctx is not written.
// Equal to RmsNorm over ctx viewed as [T * L][P], then PleCombine; one dispatch instead of two.
void PleNormCombine(OpContext& ctx, const Tensor& ctx_rows, const Tensor& norm, const Tensor& tok, const Tensor& ple,
                    const PleCombineShape& shape, float eps);

}  // namespace vkg
