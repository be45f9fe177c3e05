// A BatchEngine made of one Engine per slot: Step evaluates each input on its own slot's engine, one
// after another (layer: host/batch). Nothing is batched, so each slot's logits are exactly those of
// an Engine evaluating the same tokens alone. The CPU reference BatchEngine is this, with CPU
// engines; the temporary GPU stand-in (gpu_batch_engine.cpp) too, with GPU engines.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "host/batch/batch_engine.h"
#include "host/batch/slot_soft_tokens.h"

namespace vkg {

class EnginePerSlot : public BatchEngine {
 public:
  // Opens `slots` engines with `options` (EngineOptions::device picks the CPU reference or a GPU).
  // options.context 0: the engines' own default context.
  static std::unique_ptr<BatchEngine> Open(const std::string& model_dir, const EngineOptions& options, uint32_t slots);
  explicit EnginePerSlot(std::vector<std::unique_ptr<Engine>> engines);

  const ModelConfig& config() const override { return engines_[0]->config(); }
  uint32_t slots() const override { return uint32_t(engines_.size()); }
  uint32_t context() const override { return engines_[0]->memory().context; }
  std::vector<std::vector<float>> Step(std::span<const SlotInput> inputs) override;
  void AttachMedia(uint32_t slot, std::vector<SlotImage> images, std::vector<SlotAudio> audio) override;
  uint64_t images_encoded() const override;
  uint64_t audio_encoded() const override;
  uint32_t n_past(uint32_t slot) const override;
  void Reset(uint32_t slot) override;
  bool Truncate(uint32_t slot, uint32_t n) override;
  MemoryReport memory() const override;
  std::string device_name() const override { return engines_[0]->device_name(); }
  int validation_messages() const override;

 private:
  Engine& engine(uint32_t slot) const;

  std::vector<std::unique_ptr<Engine>> engines_;
  std::vector<SlotSoftTokens> images_;  // per slot: its prompt's encoded images and audio clips
};

}  // namespace vkg
