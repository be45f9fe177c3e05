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

  // One image of a slot's prompt: its soft tokens take the prompt positions [start, start +
  // patches.soft_tokens) (absolute: position 0 is the prompt's first token).
  struct SlotImage {
    uint32_t start = 0;
    ImagePatches patches;
  };
  // The images of the slot's prompt from n_past(slot) on, replacing any kept from an earlier
  // prompt (an empty list just forgets those). Runs the vision tower on each image now
  // (docs/model.md §5) and keeps its soft tokens for the slot: later Steps place them over those positions' embeddings as they evaluate them (a prompt
  // chunk may hold part of a causal image's run; a bidirectional image ("vision" attention) must
  // lie whole inside one input, as Engine's chunks keep it). Reset and Truncate forget the images
  // past the kept positions. Throws vkg::Error (one line, nothing kept) when the model has no
  // vision tower or an image does not fit it.
  void AttachImages(uint32_t slot, std::vector<SlotImage> images) { AttachMedia(slot, std::move(images), {}); }
  // One audio clip of a slot's prompt: its soft tokens take the prompt positions [start, start +
  // clip.soft_tokens) (absolute), always causal (a chunk edge may cut the run).
  struct SlotAudio {
    uint32_t start = 0;
    AudioFeatures clip;
  };
  // AttachImages with audio clips too: the audio tower (Engine::EncodeAudio, or the GPU batch
  // engine's own) runs on each clip now and its soft tokens join the images' in the slot's store.
  // Throws vkg::Error (one line, nothing kept) when the model has no audio tower (or no vision
  // tower, for images) or a medium does not fit it.
  virtual void AttachMedia(uint32_t slot, std::vector<SlotImage> images, std::vector<SlotAudio> audio) = 0;
  // Images the vision tower encoded so far, all slots (tests: a repeated image is not re-encoded).
  virtual uint64_t images_encoded() const = 0;
  // Audio clips the audio tower encoded so far, all slots.
  virtual uint64_t audio_encoded() const = 0;

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
