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

}  // namespace vkg
