// ImagePatches: one preprocessed image as the vision tower takes it, HF's pixel_values and
// image_position_ids without padding (layer: host/model, CPU only). docs/model.md §5.1.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "host/model/config.h"

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

// gemma4_unified's model patches (HF's patches_merge): each k x k block of ps-pixel patches becomes
// one (k ps) x (k ps) x 3 patch in (row, column, channel) order. Rows in pooled-grid row-major order
// (row s = bx + by * W / k, the order of the soft tokens), positions (bx, by). docs/model.md §5.7.
struct MergedPatches {
  int count = 0;                   // S = N / k^2
  std::vector<float> pixels;       // [S][3 (k ps)^2]
  std::vector<int32_t> positions;  // [S][2]
};
// The image must pass ImagePatches::Check(v) first (whole k x k blocks, ps x ps patches).
MergedPatches MergePatches(const ImagePatches& image, const VisionConfig& v);

// One image's place in a prompt: a run of image_token_id positions [start, start + length).
struct ImageSpan {
  int start = 0;
  int length = 0;
  bool causal = false;  // an audio clip's run (docs/model.md §5.6): never bidirectional
};

// The runs of `image_token_id` in tokens, in order (HF: each run is one image, bidirectional within
// itself under use_bidirectional_attention "vision"; BOI / EOI separate consecutive images).
std::vector<ImageSpan> FindImageSpans(const std::vector<int32_t>& tokens, int image_token_id);

// Throws vkg::Error unless the prompt has one run per image, each exactly as long as that image's
// soft tokens: "image 2 makes 63 soft tokens but its run in the prompt has 60 image tokens".
void CheckImageSpans(const std::vector<ImageSpan>& spans, const std::vector<ImagePatches>& images,
                     const VisionConfig& vision);

// Checks a prompt with images against the model before anything runs: a vision tower, every image
// fits it (ImagePatches::Check), one run of image tokens per image of its soft-token count.
void CheckImagePrompt(const ModelConfig& config, std::span<const int32_t> tokens,
                      const std::vector<ImagePatches>& images);

}  // namespace vkg
