// The GPU BatchEngine: every slot's tokens of a step go through one batched forward pass (layer:
// host/batch). BatchEngine::Open (reference_batch_engine.cpp) calls this for every device but "cpu".
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "host/batch/batch_engine.h"

namespace vkg {

std::unique_ptr<BatchEngine> OpenGpuBatchEngine(const std::string& model_dir, const EngineOptions& options,
                                                uint32_t slots);

}  // namespace vkg
