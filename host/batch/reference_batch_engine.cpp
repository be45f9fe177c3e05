// BatchEngine::Open: the CPU reference (`--device cpu`: one reference Engine per slot, evaluated one
// after another, nothing batched) or the GPU batch engine (gpu_batch_engine.h) (layer: host/batch).
#include "host/batch/batch_engine.h"
#include "host/batch/engine_per_slot.h"
#include "host/batch/gpu_batch_engine.h"

namespace vkg {

std::unique_ptr<BatchEngine> BatchEngine::Open(const std::string& model_dir, const EngineOptions& options,
                                               uint32_t slots) {
  if (options.device == "cpu") return EnginePerSlot::Open(model_dir, options, slots);
  return OpenGpuBatchEngine(model_dir, options, slots);
}

}  // namespace vkg
