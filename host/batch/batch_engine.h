// BatchEngine: one loaded model serving several independent sequences ("slots"), each with its own
// KV cache and position, evaluated together (layer: host/batch). What `vkgemma serve` drives for
// continuous batching: every step carries, for each slot that has work, either its next decode
// token or a chunk of its prompt, and all of them go through ONE forward pass on the GPU path (the
// weights are read once per step for all slots). Batching changes no result: a slot's logits are
// bit-identical to the same tokens evaluated alone by Engine on the same device and kernel family.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "host/runtime/engine.h"

namespace vkg {

class BatchEngine {
 public:
  // Opens the checkpoint (as Engine::Open) with `slots` sequences of options.context positions each
  // (0 = the largest context that fits `slots` caches). `--device cpu` gives the CPU reference,
  // one reference sequence per slot.
  static std::unique_ptr<BatchEngine> Open(const std::string& model_dir, const EngineOptions& options, uint32_t slots);
  virtual ~BatchEngine() = default;

  virtual const ModelConfig& config() const = 0;
  virtual uint32_t slots() const = 0;
  virtual uint32_t context() const = 0;  // positions per slot

  // One slot's work in a step: tokens at positions n_past(slot) .. n_past(slot) + size - 1.
  struct SlotInput {
    uint32_t slot = 0;
    std::span<const int32_t> tokens;  // 1 for a decode step; a prompt chunk otherwise
  };
  // Evaluates every input in one forward pass (slots distinct). Returns, per input in order, the
  // logits of its last token [vocab]. Throws vkg::Error (nothing evaluated) when a slot repeats or
  // an input does not fit its slot's context.
  virtual std::vector<std::vector<float>> Step(std::span<const SlotInput> inputs) = 0;

  virtual uint32_t n_past(uint32_t slot) const = 0;
  virtual void Reset(uint32_t slot) = 0;
  // Forgets positions n .. n_past(slot) - 1 of one slot (prefix reuse); false, changing nothing,
  // when a sliding ring no longer holds what position n needs (then Reset and evaluate again).
  virtual bool Truncate(uint32_t slot, uint32_t n) = 0;

  virtual MemoryReport memory() const = 0;
  virtual std::string device_name() const = 0;
  virtual int validation_messages() const = 0;
};

}  // namespace vkg
