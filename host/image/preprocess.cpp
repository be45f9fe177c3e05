// Hugging Face's Gemma4ImageProcessorPil, step by step (layer: host/image): aspect-preserving
// target size, PIL bicubic resize (pil_resize.cpp), rescale by 1/255, 16x16 patches in (row, col,
// channel) order and their (x, y) positions. Padding patches are left out (see image_input.h).
#include <cmath>

#include "host/error.h"
#include "host/image/pil_resize.h"

namespace vkg::image {
namespace {

void CheckBudget(uint32_t max_soft_tokens) {
  for (uint32_t b : kSoftTokenBudgets) {
    if (b == max_soft_tokens) return;
  }
  throw Error("the image token budget must be one of 70, 140, 280, 560, 1120; got " + std::to_string(max_soft_tokens));
}

}  // namespace

// HF's get_aspect_ratio_preserving_size, in the same double arithmetic as its Python.
TargetSize AspectPreservingSize(uint32_t height, uint32_t width, uint32_t max_soft_tokens) {
  CheckBudget(max_soft_tokens);
  if (height == 0 || width == 0) throw Error("an image with no pixels cannot be resized");
  const uint64_t max_patches = uint64_t(max_soft_tokens) * kPoolingKernel * kPoolingKernel;
  const double total_px = double(height) * double(width);
  const double target_px = double(max_patches * kPatchSize * kPatchSize);
  const double factor = std::sqrt(target_px / total_px);
  const double side = kSideMultiple;
  int64_t target_h = int64_t(std::floor(factor * height / side)) * kSideMultiple;
  int64_t target_w = int64_t(std::floor(factor * width / side)) * kSideMultiple;
  const int64_t max_side = int64_t(max_patches / (kPoolingKernel * kPoolingKernel)) * kSideMultiple;
  // One side rounds to zero for very long, thin images: that side gets one 48-pixel row of patches
  // and the other as many as the aspect ratio asks, within the budget.
  if (target_h == 0 && target_w == 0) throw Error("the image resizes to 0 x 0");
  if (target_h == 0) {
    target_h = kSideMultiple;
    target_w = std::min<int64_t>(int64_t(std::floor(double(width) / double(height))) * kSideMultiple, max_side);
  } else if (target_w == 0) {
    target_w = kSideMultiple;
    target_h = std::min<int64_t>(int64_t(std::floor(double(height) / double(width))) * kSideMultiple, max_side);
  }
  if (double(target_h * target_w) > target_px) {
    throw Error("resizing " + std::to_string(height) + "x" + std::to_string(width) + " to " + std::to_string(target_h) +
                "x" + std::to_string(target_w) + " exceeds " + std::to_string(max_patches) + " patches");
  }
  return {uint32_t(target_h), uint32_t(target_w)};
}

PreprocessedImage Preprocess(const RgbImage& image, uint32_t max_soft_tokens) {
  const TargetSize size = AspectPreservingSize(image.height, image.width, max_soft_tokens);
  // HF returns the image unchanged when it already has the target size.
  const RgbImage resized = size.width == image.width && size.height == image.height
                               ? image
                               : ResizeBicubicLikePil(image, size.width, size.height);
  PreprocessedImage out;
  out.width = size.width;
  out.height = size.height;
  out.patches_x = size.width / kPatchSize;
  out.patches_y = size.height / kPatchSize;
  const size_t patches = size_t(out.patches_x) * out.patches_y;
  out.soft_tokens = uint32_t(patches / (kPoolingKernel * kPoolingKernel));
  out.pixels.resize(patches * kPatchValues);
  out.pos_x.resize(patches);
  out.pos_y.resize(patches);
  // HF's rescale: uint8 -> float64 times 1/255, stored as float32.
  float scaled[256];
  for (int v = 0; v < 256; ++v) scaled[v] = float(double(v) * (1.0 / 255.0));
  for (uint32_t py = 0; py < out.patches_y; ++py) {
    for (uint32_t px = 0; px < out.patches_x; ++px) {
      const size_t p = size_t(py) * out.patches_x + px;
      out.pos_x[p] = int32_t(px);
      out.pos_y[p] = int32_t(py);
      float* dst = &out.pixels[p * kPatchValues];
      for (uint32_t r = 0; r < kPatchSize; ++r) {
        const uint8_t* src =
            &resized.rgb[((size_t(py) * kPatchSize + r) * resized.width + size_t(px) * kPatchSize) * 3];
        for (uint32_t i = 0; i < kPatchSize * 3; ++i) dst[r * kPatchSize * 3 + i] = scaled[src[i]];
      }
    }
  }
  return out;
}

PreprocessedImage LoadAndPreprocess(const std::filesystem::path& path, uint32_t max_soft_tokens) {
  CheckBudget(max_soft_tokens);
  return Preprocess(LoadImageFile(path), max_soft_tokens);
}

}  // namespace vkg::image
