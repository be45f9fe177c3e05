// `vkgemma bench --audio-seconds S`: the audio tower's encode time at the released E2B / E4B
// tower's shapes on synthetic weights (layer: tools).
#pragma once

#include "host/runtime/engine.h"

namespace vkg::cli {

// Encodes one synthetic clip of `seconds` (100 mel frames per second, 25 soft tokens) `reps` times
// after a warm-up, with the released tower (HF Gemma4AudioConfig's defaults: hidden 1024, 12
// conformer layers, 8 heads of 128, subsampling [128, 32], output 1536, clipped linears) and E2B's
// text width (1536); prints the median encode ms and ms per second of audio (one JSON line with `json`).
int RunAudioBench(double seconds, uint32_t reps, const EngineOptions& options, bool json);

}  // namespace vkg::cli
