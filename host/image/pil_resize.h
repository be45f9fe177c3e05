// PIL's Image.resize with BICUBIC on an 8-bit RGB image, reproduced bit for bit (layer: host/image).
#pragma once
#include "host/image/image_input.h"

namespace vkg::image {

// Pillow's ImagingResample (libImaging/Resample.c) for 8-bit images: separable, horizontal pass
// first (over the source rows the vertical pass needs), then vertical; each output pixel a
// weighted sum over a window of support 2 x max(1, scale) source pixels with the bicubic kernel
// (a = -0.5) stretched by the scale when shrinking (antialias), the weights normalised to sum 1,
// turned into 22-bit fixed point, and the sum rounded and clamped to 0..255 after each pass.
RgbImage ResizeBicubicLikePil(const RgbImage& image, uint32_t width, uint32_t height);

}  // namespace vkg::image
