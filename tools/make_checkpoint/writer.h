// Writes a generated checkpoint directory in the released layout (layer: tools/make_checkpoint):
// config.json, then model.safetensors (bf16, f16 or f32) or N shards plus model.safetensors.index.json.
#pragma once
#include "host/model/config.h"
#include "tools/make_checkpoint/options.h"

namespace vkg::mkckpt {

// Streams tensor by tensor, so large sizes need memory for one tensor only. Throws vkg::Error.
void WriteCheckpoint(const Options& o, const nlohmann::ordered_json& config_json, const ModelConfig& config);

}  // namespace vkg::mkckpt
