// ImagePatches: the grid layout and the checks before the tower runs (layer: host/model).
#include "host/model/image_patches.h"

#include <algorithm>

#include "host/error.h"

namespace vkg {

ImagePatches ImagePatches::Grid(int width, int height, std::vector<float> pixels) {
  ImagePatches p;
  p.count = width * height;
  p.pixels = std::move(pixels);
  p.positions.resize(size_t(p.count) * 2);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      p.positions[size_t(y * width + x) * 2] = x;
      p.positions[size_t(y * width + x) * 2 + 1] = y;
    }
  }
  return p;
}

void ImagePatches::Check(const VisionConfig& v, const std::string& what) const {
  const int k = v.pooling_kernel_size;
  if (count <= 0) throw Error(what + ": no patches");
  if (pixels.size() != size_t(count) * size_t(v.patch_values())) {
    throw Error(what + ": " + std::to_string(pixels.size()) + " pixel values for " + std::to_string(count) +
                " patches of " + std::to_string(v.patch_values()));
  }
  if (positions.size() != size_t(count) * 2) throw Error(what + ": expected one (x, y) position per patch");
  int max_x = 0, max_y = 0;
  for (int i = 0; i < count; ++i) {
    const int x = positions[size_t(i) * 2], y = positions[size_t(i) * 2 + 1];
    if (x < 0 || y < 0 || x >= v.position_embedding_size || y >= v.position_embedding_size) {
      throw Error(what + ": patch position (" + std::to_string(x) + ", " + std::to_string(y) +
                  ") is outside the position table of " + std::to_string(v.position_embedding_size));
    }
    max_x = std::max(max_x, x);
    max_y = std::max(max_y, y);
  }
  // HF pools patch (x, y) into soft token x/k + (W/k) * (y/k): the grid must be whole k x k blocks.
  const int w = max_x + 1, h = max_y + 1;
  if (w % k || h % k || w * h != count) {
    throw Error(what + ": a " + std::to_string(w) + " x " + std::to_string(h) + " patch grid with " +
                std::to_string(count) + " patches does not pool into whole " + std::to_string(k) + " x " +
                std::to_string(k) + " blocks");
  }
}

MergedPatches MergePatches(const ImagePatches& image, const VisionConfig& v) {
  const int k = v.pooling_kernel_size, ps = v.patch_size, side = k * ps;
  int width = 0;  // patches per row
  for (int i = 0; i < image.count; ++i) width = std::max(width, image.positions[size_t(i) * 2] + 1);
  const int blocks_x = width / k;
  MergedPatches m;
  m.count = image.count / (k * k);
  m.pixels.assign(size_t(m.count) * size_t(3 * side * side), 0.f);
  m.positions.assign(size_t(m.count) * 2, 0);
  for (int i = 0; i < image.count; ++i) {
    const int x = image.positions[size_t(i) * 2], y = image.positions[size_t(i) * 2 + 1];
    const int s = x / k + (y / k) * blocks_x;
    m.positions[size_t(s) * 2] = x / k;
    m.positions[size_t(s) * 2 + 1] = y / k;
    const float* src = image.pixels.data() + size_t(i) * size_t(3 * ps * ps);
    float* dst = m.pixels.data() + size_t(s) * size_t(3 * side * side);
    const int row0 = (y % k) * ps, col0 = (x % k) * ps;  // this patch's place inside the merged one
    for (int r = 0; r < ps; ++r) {
      std::copy(src + size_t(r) * ps * 3, src + size_t(r + 1) * ps * 3,
                dst + (size_t(row0 + r) * side + size_t(col0)) * 3);
    }
  }
  return m;
}

std::vector<ImageSpan> FindImageSpans(const std::vector<int32_t>& tokens, int image_token_id) {
  std::vector<ImageSpan> spans;
  for (int i = 0; i < int(tokens.size()); ++i) {
    if (tokens[size_t(i)] != image_token_id) continue;
    if (!spans.empty() && spans.back().start + spans.back().length == i) {
      ++spans.back().length;
    } else {
      spans.push_back({i, 1});
    }
  }
  return spans;
}

void CheckImageSpans(const std::vector<ImageSpan>& spans, const std::vector<ImagePatches>& images,
                     const VisionConfig& vision) {
  auto plural = [](size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); };
  if (spans.size() != images.size()) {
    throw Error("the prompt has " + plural(spans.size(), "image-token run") + " but " + plural(images.size(), "image") +
                (images.size() == 1 ? " was" : " were") + " given");
  }
  for (size_t i = 0; i < spans.size(); ++i) {
    const int soft = images[i].soft_tokens(vision);
    if (soft != spans[i].length) {
      throw Error("image " + std::to_string(i + 1) + " makes " + std::to_string(soft) +
                  " soft tokens but its run in the prompt has " + std::to_string(spans[i].length) + " image tokens");
    }
  }
}

void CheckImagePrompt(const ModelConfig& config, std::span<const int32_t> tokens,
                      const std::vector<ImagePatches>& images) {
  if (images.empty()) return;
  if (!config.mm.has_vision) {
    throw Error("this model has no vision tower (its config.json has no vision_config): it cannot take images");
  }
  for (size_t i = 0; i < images.size(); ++i) images[i].Check(config.mm.vision, "image " + std::to_string(i + 1));
  CheckImageSpans(FindImageSpans(std::vector<int32_t>(tokens.begin(), tokens.end()), config.mm.image_token_id), images,
                  config.mm.vision);
}

}  // namespace vkg
