// The text-decoder configs of the released Gemma 4 checkpoints, built in (layer: host/model, CPU
// only). Benchmarks use them to build synthetic models at the exact real shapes without a download;
// values: docs/model.md §1.2 (the converter's _VARIANTS table plus the config defaults).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "host/model/config.h"

namespace vkg {

// The names ShapeConfig accepts, smallest model first: e2b, e4b, 12b, 26b-a4b, 31b.
const std::vector<std::string>& ShapeNames();

// The Finish()ed ModelConfig of a released checkpoint (all layers, the real 262144-token
// vocabulary, layer types, KV sharing, double-wide MLP, MoE sizes, global heads, windows, rope,
// softcap). Case-insensitive. Throws vkg::Error listing the valid names for an unknown one.
ModelConfig ShapeConfig(std::string_view name);

}  // namespace vkg
