// Per-layer-embedding combine op (layer: host/ops).
#pragma once
#include <cstdint>

#include "host/ops/op_context.h"

namespace vkg {

// ple[l * ple_rows + t] = (ple[l * ple_rows + t] + tok[t][l]) * scale, for t < n_tokens.
// ple: [L * ple_rows][P] f32; tok: [>= n_tokens][L * P] f32.
void PleCombine(OpContext& ctx, const Tensor& ple, const Tensor& tok, uint32_t n_tokens, uint32_t n_layers,
                uint32_t ple_rows, float scale);

}  // namespace vkg
