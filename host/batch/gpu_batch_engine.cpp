// TEMPORARY STAND-IN, TO BE REPLACED: the real GPU batch engine (one forward pass for all slots of
// a step, weights read once per step) is written on another branch and replaces this file at merge.
// Until then OpenGpuBatchEngine gives one GPU Engine per slot (host/batch/engine_per_slot.h): the
// same Step semantics and results, evaluated slot after slot, and every slot holds its own copy of
// the weights, so it is only fit for small models and for testing `vkgemma serve` (layer: host/batch).
#include "host/batch/gpu_batch_engine.h"

#include "host/batch/engine_per_slot.h"

namespace vkg {

std::unique_ptr<BatchEngine> OpenGpuBatchEngine(const std::string& model_dir, const EngineOptions& options,
                                                uint32_t slots) {
  return EnginePerSlot::Open(model_dir, options, slots);
}

}  // namespace vkg
