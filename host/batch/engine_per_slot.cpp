// One Engine per slot behind the BatchEngine interface (layer: host/batch).
#include "host/batch/engine_per_slot.h"

#include <string>

#include "host/error.h"

namespace vkg {

std::unique_ptr<BatchEngine> EnginePerSlot::Open(const std::string& model_dir, const EngineOptions& options,
                                                 uint32_t slots) {
  if (slots == 0) throw Error("a batch engine needs at least one slot");
  std::vector<std::unique_ptr<Engine>> engines;
  engines.reserve(slots);
  for (uint32_t i = 0; i < slots; ++i) engines.push_back(Engine::Open(model_dir, options));
  return std::make_unique<EnginePerSlot>(std::move(engines));
}

EnginePerSlot::EnginePerSlot(std::vector<std::unique_ptr<Engine>> engines) : engines_(std::move(engines)) {
  if (engines_.empty()) throw Error("a batch engine needs at least one slot");
  images_.assign(engines_.size(), SlotSoftTokens(uint32_t(engines_[0]->config().hidden_size)));
}

void EnginePerSlot::AttachMedia(uint32_t slot, std::vector<SlotImage> images, std::vector<SlotAudio> audio) {
  Engine& e = engine(slot);
  const size_t H = size_t(config().hidden_size);
  std::vector<SlotSoftTokens::Image> encoded;
  for (SlotImage& im : images) {
    std::vector<float> soft = e.EncodeImage(im.patches);
    encoded.push_back({im.start, uint32_t(soft.size() / H), std::move(soft)});
  }
  for (SlotAudio& a : audio) {
    std::vector<float> soft = e.EncodeAudio(a.clip);
    encoded.push_back({a.start, uint32_t(soft.size() / H), std::move(soft), /*causal=*/true});
  }
  images_[slot].ForgetFrom(e.n_past());
  images_[slot].Add(std::move(encoded));
}

uint64_t EnginePerSlot::images_encoded() const {
  uint64_t n = 0;
  for (const auto& e : engines_) n += e->images_encoded();
  return n;
}

uint64_t EnginePerSlot::audio_encoded() const {
  uint64_t n = 0;
  for (const auto& e : engines_) n += e->audio_encoded();
  return n;
}

Engine& EnginePerSlot::engine(uint32_t slot) const {
  if (slot >= engines_.size()) {
    throw Error("slot " + std::to_string(slot) + " does not exist (" + std::to_string(engines_.size()) + " slots)");
  }
  return *engines_[slot];
}

std::vector<std::vector<float>> EnginePerSlot::Step(std::span<const SlotInput> inputs) {
  // Check everything first: a bad step evaluates nothing (BatchEngine's contract).
  std::vector<bool> used(engines_.size(), false);
  for (const SlotInput& in : inputs) {
    Engine& e = engine(in.slot);
    if (used[in.slot]) throw Error("slot " + std::to_string(in.slot) + " appears twice in one step");
    used[in.slot] = true;
    if (in.tokens.empty()) throw Error("slot " + std::to_string(in.slot) + " has no tokens in this step");
    if (uint64_t(e.n_past()) + in.tokens.size() > e.memory().context) {
      throw Error("slot " + std::to_string(in.slot) + " needs " + std::to_string(e.n_past() + in.tokens.size()) +
                  " positions but holds " + std::to_string(e.memory().context));
    }
    if (config().mm.bidirectional_vision && images_[in.slot].Splits(e.n_past(), uint32_t(in.tokens.size()))) {
      throw Error("slot " + std::to_string(in.slot) +
                  ": an input cuts an image whose tokens attend to each other (it is evaluated in one chunk)");
    }
  }
  const int64_t vocab = config().vocab_size;
  std::vector<std::vector<float>> out;
  out.reserve(inputs.size());
  for (const SlotInput& in : inputs) {
    Engine& e = engine(in.slot);
    SlotSoftTokens& images = images_[in.slot];
    if (!images.empty()) {
      std::vector<ImageSpan> spans;
      std::vector<float> soft;
      images.SpansFor(e.n_past(), uint32_t(in.tokens.size()), &spans, &soft);
      if (!spans.empty()) e.AttachSoftTokens(std::move(spans), std::move(soft));
    }
    std::vector<float> logits = e.Forward(in.tokens, /*all_logits=*/false);
    images.ForgetBefore(e.n_past());
    logits.resize(size_t(vocab));
    out.push_back(std::move(logits));
  }
  return out;
}

uint32_t EnginePerSlot::n_past(uint32_t slot) const { return engine(slot).n_past(); }
void EnginePerSlot::Reset(uint32_t slot) {
  engine(slot).Reset();
  images_[slot].ForgetFrom(0);
}

bool EnginePerSlot::Truncate(uint32_t slot, uint32_t n) {
  if (!engine(slot).Truncate(n)) return false;
  images_[slot].ForgetFrom(n);
  return true;
}

MemoryReport EnginePerSlot::memory() const {
  MemoryReport total;
  for (const auto& e : engines_) {
    const MemoryReport m = e->memory();
    total.weights += m.weights;  // every engine holds its own copy of the weights
    total.kv_cache += m.kv_cache;
    total.scratch += m.scratch;
    total.context = m.context;
  }
  return total;
}

int EnginePerSlot::validation_messages() const {
  int n = 0;
  for (const auto& e : engines_) n += e->validation_messages();
  return n;
}

}  // namespace vkg
