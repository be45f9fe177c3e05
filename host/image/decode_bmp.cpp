// BMP by its own reader (no Debian image library besides the ones for PNG/JPEG/WebP/GIF reads it,
// and the format is a header and uncompressed rows): Windows headers (40, 52, 56, 108, 124 bytes)
// and OS/2 1.x (12 bytes); 1/4/8-bit palettes, 16-bit (555, or BITFIELDS) and 24/32-bit (BGR(X), or
// BITFIELDS) pixels; bottom-up and top-down rows. Channels of n bits scale as Pillow's unpackers
// do (v * 255 / (2^n - 1)); alpha is dropped. RLE and embedded JPEG/PNG are refused (layer: host/image).
#include <bit>
#include <cstring>

#include "host/error.h"
#include "host/image/decoders.h"

namespace vkg::image::detail {
namespace {

uint32_t U16(std::span<const uint8_t> b, size_t at) { return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8; }
uint32_t U32(std::span<const uint8_t> b, size_t at) { return U16(b, at) | U16(b, at + 2) << 16; }

// One channel of a BITFIELDS pixel scaled to 8 bits.
struct Field {
  uint32_t mask = 0;
  int shift = 0;
  uint32_t max = 0;  // mask >> shift
  uint8_t Get(uint32_t pixel) const {
    if (!mask) return 0;
    return uint8_t(uint64_t((pixel & mask) >> shift) * 255 / max);
  }
  static Field Of(uint32_t mask) {
    Field f;
    f.mask = mask;
    if (mask) {
      f.shift = std::countr_zero(mask);
      f.max = mask >> f.shift;
    }
    return f;
  }
};

}  // namespace

Decoded DecodeBmp(std::span<const uint8_t> b, const std::string& name, uint64_t max_pixels) {
  const auto fail = [&](const std::string& why) -> void { throw Error(name + ": broken BMP file (" + why + ")"); };
  if (b.size() < 26) fail("the file is truncated");
  const uint64_t data_offset = U32(b, 10);
  const uint32_t header = U32(b, 14);
  if (header != 12 && (header < 40 || header > 0xffff)) fail("unknown header size " + std::to_string(header));
  if (14 + uint64_t(header) > b.size()) fail("the file is truncated");
  int64_t width, height;
  uint32_t bpp, compression = 0, colors_used = 0;
  if (header == 12) {
    width = U16(b, 18);
    height = U16(b, 20);
    bpp = U16(b, 24);
  } else {
    width = int32_t(U32(b, 18));
    height = int32_t(U32(b, 22));
    bpp = U16(b, 28);
    compression = U32(b, 30);
    colors_used = U32(b, 46);
  }
  const bool top_down = height < 0;
  if (height < 0) height = -height;
  if (width < 0) fail("negative width");
  CheckPixelLimit(uint64_t(width), uint64_t(height), max_pixels, name);
  if (compression == 1 || compression == 2) throw Error(name + ": compressed BMP files (RLE) are not supported");
  if (compression == 4 || compression == 5)
    throw Error(name + ": BMP files holding JPEG or PNG data are not supported");
  if (compression != 0 && compression != 3 && compression != 6)
    fail("unknown compression " + std::to_string(compression));
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32) {
    fail("unsupported bit depth " + std::to_string(bpp));
  }
  if (compression != 0 && bpp != 16 && bpp != 32) fail("BITFIELDS needs 16 or 32 bits per pixel");

  // Channel masks: BITFIELDS masks follow a 40-byte header, or sit inside a longer one.
  uint64_t after_header = 14 + uint64_t(header);
  Field red, green, blue;
  if (compression == 3 || compression == 6) {
    uint64_t at = 14 + 40;
    if (header == 40) after_header += compression == 6 ? 16 : 12;
    if (at + 12 > b.size()) fail("the file is truncated");
    red = Field::Of(U32(b, at));
    green = Field::Of(U32(b, at + 4));
    blue = Field::Of(U32(b, at + 8));
  } else if (bpp == 16) {
    red = Field::Of(0x7c00), green = Field::Of(0x03e0), blue = Field::Of(0x001f);  // 5-5-5
  } else if (bpp == 32) {
    red = Field::Of(0x00ff0000), green = Field::Of(0x0000ff00), blue = Field::Of(0x000000ff);  // BGRX
  }

  // The palette (up to 256 entries, BGRX; OS/2 1.x: BGR). Indices past it read as black.
  uint8_t palette[256][3] = {};
  if (bpp <= 8) {
    const uint32_t entry = header == 12 ? 3 : 4;
    uint64_t count = colors_used ? colors_used : (1u << bpp);
    if (count > 256) count = 256;
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t at = after_header + i * entry;
      if (at + 3 > b.size()) fail("the palette is truncated");
      palette[i][0] = b[at + 2], palette[i][1] = b[at + 1], palette[i][2] = b[at];
    }
  }

  const uint64_t stride = (uint64_t(width) * bpp + 31) / 32 * 4;  // rows are padded to 4 bytes
  if (data_offset > b.size() || stride * uint64_t(height) > b.size() - data_offset) fail("the file is truncated");
  Decoded d;
  d.image.width = uint32_t(width);
  d.image.height = uint32_t(height);
  d.image.rgb.resize(size_t(width) * size_t(height) * 3);
  for (uint64_t y = 0; y < uint64_t(height); ++y) {
    const uint8_t* row = b.data() + data_offset + (top_down ? y : uint64_t(height) - 1 - y) * stride;
    uint8_t* out = d.image.rgb.data() + y * uint64_t(width) * 3;
    for (uint64_t x = 0; x < uint64_t(width); ++x, out += 3) {
      if (bpp <= 8) {
        const uint64_t bit = x * bpp;
        const uint32_t index = (row[bit / 8] >> (8 - bpp - bit % 8)) & ((1u << bpp) - 1);
        std::memcpy(out, palette[index], 3);
      } else if (bpp == 24) {
        out[0] = row[x * 3 + 2], out[1] = row[x * 3 + 1], out[2] = row[x * 3];
      } else {
        const uint32_t pixel =
            bpp == 16 ? U16(std::span(row, 2 * (x + 1)), 2 * x) : U32(std::span(row, 4 * (x + 1)), 4 * x);
        out[0] = red.Get(pixel), out[1] = green.Get(pixel), out[2] = blue.Get(pixel);
      }
    }
  }
  return d;
}

}  // namespace vkg::image::detail
