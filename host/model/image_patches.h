// ImagePatches: one preprocessed image as the vision tower takes it, HF's pixel_values and
// image_position_ids without padding (layer: host/model, CPU only). docs/model.md §5.1.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/model/vision_config.h"

namespace vkg {

struct ImagePatches {
  int count = 0;                   // N patches
  std::vector<float> pixels;       // [N][3 * ps * ps] in [0, 1], each patch (row, column, channel)
  std::vector<int32_t> positions;  // [N][2] (x, y): the patch's column and row in the resized image

  // A width x height grid of patches in row-major order (how HF's processor lays them out);
  // pixels: [width * height][3 * ps * ps].
  static ImagePatches Grid(int width, int height, std::vector<float> pixels);
  // Soft tokens the tower makes of it: N / k^2 (one per k x k block of patches).
  int soft_tokens(const VisionConfig& v) const { return count / (v.pooling_kernel_size * v.pooling_kernel_size); }
  // Throws vkg::Error (naming `what`, e.g. "image 1") unless the patches fit the tower: values per
  // patch, positions inside the position tables, and a grid of whole k x k blocks.
  void Check(const VisionConfig& v, const std::string& what) const;
};

}  // namespace vkg
