// The per-format image decoders behind DecodeImage (layer: host/image; internal to vkg_image).
// Each returns 8-bit RGB as PIL's convert("RGB") gives it (alpha and transparency dropped, palette
// and grayscale expanded) plus the file's EXIF block, and throws vkg::Error naming `name` on any
// failure. Each checks width x height against max_pixels before allocating the pixels.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "host/image/image_input.h"

namespace vkg::image::detail {

struct Decoded {
  RgbImage image;
  std::vector<uint8_t> exif;  // the TIFF-structured EXIF block ("II*\0..." or "MM\0*..."), or empty
};

Decoded DecodePng(std::span<const uint8_t> bytes, const std::string& name, uint64_t max_pixels);
Decoded DecodeJpeg(std::span<const uint8_t> bytes, const std::string& name, uint64_t max_pixels);
Decoded DecodeWebp(std::span<const uint8_t> bytes, const std::string& name, uint64_t max_pixels);
Decoded DecodeGif(std::span<const uint8_t> bytes, const std::string& name, uint64_t max_pixels);
Decoded DecodeBmp(std::span<const uint8_t> bytes, const std::string& name, uint64_t max_pixels);

// Throws "<name>: the image is W x H pixels, over the limit of N" (or for a zero side).
void CheckPixelLimit(uint64_t width, uint64_t height, uint64_t max_pixels, const std::string& name);

// The EXIF Orientation tag (0x0112) of a TIFF-structured block: 1..8; 1 when absent or unreadable
// (a broken EXIF block never fails a decode, as PIL ignores it too).
uint16_t ExifOrientation(std::span<const uint8_t> tiff);
// PIL's ImageOps.exif_transpose for orientations 2..8 (1 and unknown values: unchanged).
RgbImage ApplyOrientation(RgbImage image, uint16_t orientation);

}  // namespace vkg::image::detail
