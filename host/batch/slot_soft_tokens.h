// SlotSoftTokens: the encoded images of one slot's prompt, kept between the steps that evaluate it
// (layer: host/batch). A prompt is fed in chunks, and an image's run of image tokens may be cut by
// a chunk edge (causal images), so the soft tokens live here, by absolute prompt position, until
// the slot has evaluated them; both batch engines place them from here.
#pragma once
#include <cstdint>
#include <vector>

#include "host/model/image_patches.h"

namespace vkg {

class SlotSoftTokens {
 public:
  // One image's soft tokens for positions [start, start + rows): soft [rows][H].
  struct Image {
    uint32_t start = 0, rows = 0;
    std::vector<float> soft;
  };
  // The image rows of positions [first, first + n): runs of rows (relative to `first`) and the soft
  // rows that go there, in run order. `soft` points into this store (valid until it changes).
  struct Run {
    uint32_t row = 0, n = 0;
    const float* soft = nullptr;  // [n][H]
  };

  explicit SlotSoftTokens(uint32_t hidden = 0) : hidden_(hidden) {}
  // Adds images (throws vkg::Error when one overlaps a kept image: nothing added then).
  void Add(std::vector<Image> images);
  std::vector<Run> Runs(uint32_t first, uint32_t n) const;
  // Whether an image's run starts inside [first, first + n) and ends past it (a bidirectional
  // image must not: it is evaluated in one pass).
  bool Splits(uint32_t first, uint32_t n) const;
  // Forgets the images that reach position n or later (Reset: n = 0; Truncate(n)).
  void ForgetFrom(uint32_t n);
  // Forgets the images wholly before position n (evaluated: in the KV cache now).
  void ForgetBefore(uint32_t n);
  bool empty() const { return images_.empty(); }
  // Spans of Runs relative to `first`, as Engine::AttachSoftTokens takes them, and their rows.
  void SpansFor(uint32_t first, uint32_t n, std::vector<ImageSpan>* spans, std::vector<float>* soft) const;

 private:
  uint32_t hidden_;
  std::vector<Image> images_;  // in position order
};

}  // namespace vkg
