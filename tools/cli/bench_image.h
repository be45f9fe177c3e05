// `vkgemma bench --image-tokens N`: the vision tower's encode time at the released tower's shapes on
// synthetic weights (layer: tools).
#pragma once
#include <cstdint>

#include "host/runtime/engine.h"

namespace vkg::cli {

// Encodes one synthetic image of `soft_tokens` soft tokens (9x as many patches) `reps` times after a
// warm-up, with the real tower (hidden 768, 16 layers, 12 heads of 64, MLP 3072, patch 16, pooling 3,
// clipped linears) and a text width of 1536 (E2B's), weights in options.weights; prints the median
// encode ms and soft tokens per second (one line of JSON with `json`).
int RunImageBench(uint32_t soft_tokens, uint32_t reps, const EngineOptions& options, bool json);

}  // namespace vkg::cli
