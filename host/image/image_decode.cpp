// DecodeImage: picks the decoder by the file's first bytes, applies EXIF orientation as Hugging
// Face's load_image does (PIL.ImageOps.exif_transpose), and reads image files with a size cap
// (layer: host/image).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "host/error.h"
#include "host/image/decoders.h"

namespace vkg::image {
namespace detail {

void CheckPixelLimit(uint64_t width, uint64_t height, uint64_t max_pixels, const std::string& name) {
  if (width == 0 || height == 0) {
    throw Error(name + ": the image has no pixels (" + std::to_string(width) + " x " + std::to_string(height) + ")");
  }
  // Sides are at most 2^32 - 1 each, so the product fits in 64 bits.
  if (width * height > max_pixels) {
    throw Error(name + ": the image is " + std::to_string(width) + " x " + std::to_string(height) +
                " pixels, over the limit of " + std::to_string(max_pixels));
  }
}

uint16_t ExifOrientation(std::span<const uint8_t> tiff) {
  if (tiff.size() < 8) return 1;
  bool little;
  if (tiff[0] == 'I' && tiff[1] == 'I' && tiff[2] == 42 && tiff[3] == 0) {
    little = true;
  } else if (tiff[0] == 'M' && tiff[1] == 'M' && tiff[2] == 0 && tiff[3] == 42) {
    little = false;
  } else {
    return 1;
  }
  const auto u16 = [&](size_t at) -> uint32_t {
    return little ? uint32_t(tiff[at]) | uint32_t(tiff[at + 1]) << 8 : uint32_t(tiff[at]) << 8 | uint32_t(tiff[at + 1]);
  };
  const auto u32 = [&](size_t at) -> uint64_t {
    return little ? u16(at) | uint64_t(u16(at + 2)) << 16 : uint64_t(u16(at)) << 16 | u16(at + 2);
  };
  const uint64_t ifd = u32(4);  // IFD0: the main image's tags
  if (ifd + 2 > tiff.size()) return 1;
  const uint32_t entries = u16(size_t(ifd));
  for (uint32_t i = 0; i < entries; ++i) {
    const uint64_t at = ifd + 2 + uint64_t(i) * 12;
    if (at + 12 > tiff.size()) return 1;
    if (u16(size_t(at)) != 0x0112) continue;
    // SHORT (type 3), count 1: the value sits in the first two bytes of the value field.
    if (u16(size_t(at + 2)) != 3 || u32(size_t(at + 4)) != 1) return 1;
    const uint32_t v = u16(size_t(at + 8));
    return v >= 1 && v <= 8 ? uint16_t(v) : 1;
  }
  return 1;
}

RgbImage ApplyOrientation(RgbImage in, uint16_t orientation) {
  if (orientation < 2 || orientation > 8) return in;
  const size_t W = in.width, H = in.height;
  const bool swap = orientation >= 5;  // transpose, rotations by 90 degrees and transverse swap the sides
  RgbImage out;
  out.width = uint32_t(swap ? H : W);
  out.height = uint32_t(swap ? W : H);
  out.rgb.resize(in.rgb.size());
  for (size_t y = 0; y < out.height; ++y) {
    for (size_t x = 0; x < out.width; ++x) {
      size_t sx = x, sy = y;  // source pixel of output (x, y)
      switch (orientation) {
        case 2: sx = W - 1 - x; break;                  // mirrored left-right
        case 3: sx = W - 1 - x, sy = H - 1 - y; break;  // rotated 180
        case 4: sy = H - 1 - y; break;                  // mirrored top-bottom
        case 5: sx = y, sy = x; break;                  // transpose
        case 6: sx = y, sy = H - 1 - x; break;          // PIL ROTATE_270: 90 degrees clockwise
        case 7: sx = W - 1 - y, sy = H - 1 - x; break;  // transverse
        case 8: sx = W - 1 - y, sy = x; break;          // PIL ROTATE_90: 90 degrees counter-clockwise
      }
      std::memcpy(&out.rgb[(y * out.width + x) * 3], &in.rgb[(sy * W + sx) * 3], 3);
    }
  }
  return out;
}

}  // namespace detail

namespace {

bool StartsWith(std::span<const uint8_t> b, const char* magic, size_t n, size_t at = 0) {
  return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
}

}  // namespace

RgbImage DecodeImage(std::span<const uint8_t> bytes, const std::string& name, uint64_t max_pixels) {
  if (bytes.empty()) throw Error(name + ": the image file is empty");
  detail::Decoded d;
  if (StartsWith(bytes, "\x89PNG\r\n\x1a\n", 8)) {
    d = detail::DecodePng(bytes, name, max_pixels);
  } else if (StartsWith(bytes, "\xff\xd8\xff", 3)) {
    d = detail::DecodeJpeg(bytes, name, max_pixels);
  } else if (StartsWith(bytes, "RIFF", 4) && StartsWith(bytes, "WEBP", 4, 8)) {
    d = detail::DecodeWebp(bytes, name, max_pixels);
  } else if (StartsWith(bytes, "GIF87a", 6) || StartsWith(bytes, "GIF89a", 6)) {
    d = detail::DecodeGif(bytes, name, max_pixels);
  } else if (StartsWith(bytes, "BM", 2)) {
    d = detail::DecodeBmp(bytes, name, max_pixels);
  } else {
    throw Error(name + ": not an image vkgemma reads (PNG, JPEG, WebP, GIF or BMP)");
  }
  return detail::ApplyOrientation(std::move(d.image), detail::ExifOrientation(d.exif));
}

RgbImage LoadImageFile(const std::filesystem::path& path, uint64_t max_pixels) {
  const std::string name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(name + ": is a directory, not an image file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read image '" + name + "': " + std::strerror(errno));
  // Compressed images are far smaller than their pixels; a file larger than 3 bytes per allowed
  // pixel plus 64 MiB of metadata is refused before it is read into memory.
  const uint64_t size = std::filesystem::file_size(path, ec);
  const uint64_t cap = max_pixels * 3 + (64ull << 20);
  if (!ec && size > cap) {
    throw Error(name + ": the file is " + std::to_string(size) + " bytes, over the limit of " + std::to_string(cap));
  }
  std::vector<uint8_t> bytes;
  char chunk[1 << 16];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    bytes.insert(bytes.end(), chunk, chunk + in.gcount());
    if (bytes.size() > cap) throw Error(name + ": the file is over the limit of " + std::to_string(cap) + " bytes");
  }
  return DecodeImage(bytes, name, max_pixels);
}

}  // namespace vkg::image
