// The GPU continuous-batching engine (layer: host/batch): BatchEngine on one device, every slot's
// KV cache and position its own, one activation scratch for the step's rows, and each step's
// inputs evaluated in one forward pass (host/batch/step_plan.h; more than one only when the prompt
// chunks exceed a pass). Decode rows of all slots share each weight load (matvec.comp /
// matvec_rows.comp with COLS columns) and every slot's logits are bit-identical to the same tokens
// evaluated alone by Engine with the same options (kernel family, batch, replay_decode).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "host/batch/batch_engine.h"

namespace vkg {

// Loads the checkpoint onto the device of options.device (not "cpu") with `slots` sequences.
std::unique_ptr<BatchEngine> OpenGpuBatchEngine(const std::string& model_dir, const EngineOptions& options,
                                                uint32_t slots);
// The same with seeded synthetic weights at config's shapes (benchmarks; as Engine::OpenSynthetic).
std::unique_ptr<BatchEngine> OpenSyntheticGpuBatchEngine(const ModelConfig& config, const EngineOptions& options,
                                                         uint32_t slots, uint64_t seed = 1);

// Device dispatches recorded by the last Step (all its passes): what `vkgemma bench --parallel`
// reports per step. 0 before the first step and for engines that are not GPU batch engines.
uint32_t LastStepDispatches(const BatchEngine& engine);
// Queue submissions of the last Step: one per pass (its inputs and logits move through mapped
// memory inside it, host/runtime/step_staging.h); a decode step is one pass.
uint32_t LastStepSubmits(const BatchEngine& engine);

}  // namespace vkg
