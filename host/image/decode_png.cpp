// PNG through libpng (Debian's libpng-dev), converted as PIL's convert("RGB") does: palette and
// grayscale expanded, alpha and tRNS transparency dropped (not composited), 16-bit samples reduced
// to their high byte (PIL's 16-bit RGB modes do the same), gAMA/iCCP ignored as PIL ignores them
// (layer: host/image).
// libpng reports errors by longjmp: the setjmp frame (ReadPixels) holds no C++ object with a
// destructor, and everything it fills lives in the caller's frame, so a jump skips no destructor.
#include <png.h>

#include <csetjmp>
#include <cstring>

#include "host/error.h"
#include "host/image/decoders.h"

namespace vkg::image::detail {
namespace {

struct PngState {
  std::span<const uint8_t> bytes;
  size_t offset = 0;
  char message[256] = {};  // libpng's error text
  bool too_large = false;
  uint64_t max_pixels = 0;
  png_uint_32 width = 0, height = 0;
  uint8_t* pixels = nullptr;  // [height][width][3], owned by the caller
  png_bytep* rows = nullptr;  // [height] pointers into pixels, owned by the caller
  std::vector<uint8_t>* exif = nullptr;
  // Called between reading the header and the pixels to allocate them (can throw: not from a
  // libpng callback, so the exception passes through our frames only).
  void (*allocate)(PngState*) = nullptr;
  void* owner = nullptr;
};

void OnError(png_structp png, png_const_charp message) {
  auto* s = static_cast<PngState*>(png_get_error_ptr(png));
  std::snprintf(s->message, sizeof s->message, "%s", message);
  png_longjmp(png, 1);
}

void OnWarning(png_structp, png_const_charp) {}  // benign (e.g. an unknown ancillary chunk)

void OnRead(png_structp png, png_bytep out, png_size_t n) {
  auto* s = static_cast<PngState*>(png_get_io_ptr(png));
  if (n > s->bytes.size() - s->offset) png_error(png, "the file is truncated");
  std::memcpy(out, s->bytes.data() + s->offset, n);
  s->offset += n;
}

// Returns false with s->message set on a libpng error. png/info are created and destroyed by the
// caller.
bool ReadPixels(png_structp png, png_infop info, PngState* s) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  s->width = png_get_image_width(png, info);
  s->height = png_get_image_height(png, info);
  if (uint64_t(s->width) * s->height > s->max_pixels || s->width == 0 || s->height == 0) {
    s->too_large = true;
    return false;
  }
  const int color = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_strip_16(png);
  // Expanding a palette also turns its tRNS entries into an alpha channel: strip that one too.
  if ((color & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
  if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != size_t(s->width) * 3) png_error(png, "unexpected row layout after conversion");
  png_bytep exif = nullptr;
  png_uint_32 exif_size = 0;
  if (png_get_eXIf_1(png, info, &exif_size, &exif) != 0 && exif && exif_size > 0) {
    s->exif->assign(exif, exif + exif_size);
  }
  s->allocate(s);
  png_read_image(png, s->rows);
  return true;
}

}  // namespace

Decoded DecodePng(std::span<const uint8_t> bytes, const std::string& name, uint64_t max_pixels) {
  Decoded d;
  std::vector<png_bytep> rows;
  PngState s;
  s.bytes = bytes;
  s.max_pixels = max_pixels;
  s.exif = &d.exif;
  struct Owner {
    Decoded* d;
    std::vector<png_bytep>* rows;
  } owner{&d, &rows};
  s.owner = &owner;
  s.allocate = [](PngState* st) {
    auto* o = static_cast<Owner*>(st->owner);
    o->d->image.width = st->width;
    o->d->image.height = st->height;
    o->d->image.rgb.assign(size_t(st->width) * st->height * 3, 0);
    o->rows->resize(st->height);
    for (size_t y = 0; y < st->height; ++y) (*o->rows)[y] = o->d->image.rgb.data() + y * size_t(st->width) * 3;
    st->rows = o->rows->data();
  };

  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, OnError, OnWarning);
  if (!png) throw Error(name + ": out of memory starting the PNG decoder");
  png_infop info = png_create_info_struct(png);
  struct Guard {
    png_structp* png;
    png_infop* info;
    ~Guard() { png_destroy_read_struct(png, info, nullptr); }
  } guard{&png, &info};
  if (!info) throw Error(name + ": out of memory starting the PNG decoder");
  png_set_read_fn(png, &s, OnRead);
  // Text and other ancillary chunks: at most 8 MiB each, 1000 of them (hostile files).
  png_set_chunk_malloc_max(png, 8u << 20);
  png_set_chunk_cache_max(png, 1000);
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);  // our own pixel limit applies (in ReadPixels)
  if (!ReadPixels(png, info, &s)) {
    if (s.too_large) CheckPixelLimit(s.width, s.height, max_pixels, name);
    throw Error(name + ": broken PNG file (" + s.message + ")");
  }
  return d;
}

}  // namespace vkg::image::detail
