// SlotSoftTokens: the encoded images and audio clips of one slot's prompt, kept between the steps
// that evaluate it (layer: host/batch). A prompt is fed in chunks, and a run of image or audio
// tokens may be cut by a chunk edge (causal images, every audio clip), so the soft tokens live
// here, by absolute prompt position, until the slot has evaluated them; both batch engines place
// them from here. The store is kind-agnostic: rows by position, and whether the run is causal.
#pragma once
#include <cstdint>
#include <vector>

#include "host/model/image_patches.h"

namespace vkg {

class SlotSoftTokens {
 public:
  // One image's (or audio clip's) soft tokens for positions [start, start + rows): soft [rows][H].
  // causal: the run never attends to itself bidirectionally (audio clips; images of models without
  // bidirectional vision attention), so a chunk edge may cut it.
  struct Image {
    uint32_t start = 0, rows = 0;
    std::vector<float> soft;
    bool causal = false;
  };
  // The image rows of positions [first, first + n): runs of rows (relative to `first`) and the soft
  // rows that go there, in run order. `soft` points into this store (valid until it changes).
  struct Run {
    uint32_t row = 0, n = 0;
    const float* soft = nullptr;  // [n][H]
    bool causal = false;          // the Image's
  };

  explicit SlotSoftTokens(uint32_t hidden = 0) : hidden_(hidden) {}
  // Adds images (throws vkg::Error when one overlaps a kept image: nothing added then).
  void Add(std::vector<Image> images);
  std::vector<Run> Runs(uint32_t first, uint32_t n) const;
  // Whether a non-causal image's run starts inside [first, first + n) and ends past it (a
  // bidirectional image must not: it is evaluated in one pass). Causal runs may be cut.
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
