// A slot's encoded images and audio clips by prompt position (layer: host/batch).
#include "host/batch/slot_soft_tokens.h"

#include <algorithm>
#include <string>

#include "host/error.h"

namespace vkg {

void SlotSoftTokens::Add(std::vector<Image> images) {
  std::vector<Image> all = images_;
  for (Image& im : images) {
    if (im.soft.size() != size_t(im.rows) * hidden_) {
      throw Error("an image of " + std::to_string(im.rows) + " soft tokens came with " +
                  std::to_string(im.soft.size() / std::max<size_t>(hidden_, 1)) + " rows");
    }
    all.push_back(std::move(im));
  }
  std::sort(all.begin(), all.end(), [](const Image& a, const Image& b) { return a.start < b.start; });
  for (size_t i = 1; i < all.size(); ++i) {
    if (all[i - 1].start + all[i - 1].rows > all[i].start) {
      throw Error("two images of one prompt overlap at position " + std::to_string(all[i].start));
    }
  }
  images_ = std::move(all);
}

std::vector<SlotSoftTokens::Run> SlotSoftTokens::Runs(uint32_t first, uint32_t n) const {
  std::vector<Run> runs;
  for (const Image& im : images_) {
    const uint32_t a = std::max(im.start, first), b = std::min(im.start + im.rows, first + n);
    if (a >= b) continue;
    runs.push_back({a - first, b - a, im.soft.data() + size_t(a - im.start) * hidden_, im.causal});
  }
  return runs;
}

bool SlotSoftTokens::Splits(uint32_t first, uint32_t n) const {
  for (const Image& im : images_) {
    if (im.causal) continue;
    if (im.start < first + n && im.start + im.rows > first + n) return true;
    if (im.start < first && im.start + im.rows > first) return true;
  }
  return false;
}

void SlotSoftTokens::ForgetFrom(uint32_t n) {
  std::erase_if(images_, [n](const Image& im) { return im.start + im.rows > n; });
}

void SlotSoftTokens::ForgetBefore(uint32_t n) {
  std::erase_if(images_, [n](const Image& im) { return im.start + im.rows <= n; });
}

void SlotSoftTokens::SpansFor(uint32_t first, uint32_t n, std::vector<ImageSpan>* spans,
                              std::vector<float>* soft) const {
  spans->clear();
  soft->clear();
  for (const Run& r : Runs(first, n)) {
    spans->push_back({int(r.row), int(r.n), r.causal});
    soft->insert(soft->end(), r.soft, r.soft + size_t(r.n) * hidden_);
  }
}

}  // namespace vkg
