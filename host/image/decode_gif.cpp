// GIF through giflib (Debian's libgif-dev), first frame only, as Pillow's GifImagePlugin gives it:
// the frame drawn on a canvas of the logical screen (grown to hold the frame if it sticks out)
// filled with the transparency index when there is one, else index 0; the frame's palette (local,
// else global; none: the index is a gray level) mapped to RGB, transparency ignored as convert("RGB")
// ignores it. Only the first image is read, so a many-frame file costs no more than its first frame
// (layer: host/image).
#include <gif_lib.h>

#include <algorithm>
#include <cstring>

#include "host/error.h"
#include "host/image/decoders.h"

namespace vkg::image::detail {
namespace {

struct GifInput {
  std::span<const uint8_t> bytes;
  size_t offset = 0;
};

int OnRead(GifFileType* gif, GifByteType* out, int n) {
  auto* in = static_cast<GifInput*>(gif->UserData);
  const size_t take = std::min(size_t(n < 0 ? 0 : n), in->bytes.size() - in->offset);
  std::memcpy(out, in->bytes.data() + in->offset, take);
  in->offset += take;
  return int(take);
}

}  // namespace

Decoded DecodeGif(std::span<const uint8_t> bytes, const std::string& name, uint64_t max_pixels) {
  GifInput input{bytes, 0};
  int error = 0;
  GifFileType* gif = DGifOpen(&input, OnRead, &error);
  if (!gif) throw Error(name + ": broken GIF file (" + (GifErrorString(error) ? GifErrorString(error) : "?") + ")");
  struct Guard {
    GifFileType* g;
    ~Guard() {
      int e = 0;
      DGifCloseFile(g, &e);
    }
  } guard{gif};
  const auto fail = [&](const char* what) {
    const char* why = GifErrorString(gif->Error);
    throw Error(name + ": broken GIF file (" + (what ? what : why ? why : "?") + ")");
  };

  int transparent = -1;  // from the graphic control extension before the first image
  for (;;) {
    GifRecordType type;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) fail(nullptr);
    if (type == TERMINATE_RECORD_TYPE) fail("it holds no image");
    if (type == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* ext = nullptr;
      if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR) fail(nullptr);
      if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4 && (ext[1] & 1)) transparent = ext[4];
      while (ext) {
        if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR) fail(nullptr);
      }
      continue;
    }
    if (type != IMAGE_DESC_RECORD_TYPE) continue;
    if (DGifGetImageDesc(gif) == GIF_ERROR) fail(nullptr);
    const GifImageDesc& desc = gif->Image;
    const uint64_t fw = uint64_t(std::max(desc.Width, 0)), fh = uint64_t(std::max(desc.Height, 0));
    const uint64_t fx = uint64_t(std::max(desc.Left, 0)), fy = uint64_t(std::max(desc.Top, 0));
    const uint64_t width = std::max<uint64_t>(uint64_t(std::max(gif->SWidth, 0)), fx + fw);
    const uint64_t height = std::max<uint64_t>(uint64_t(std::max(gif->SHeight, 0)), fy + fh);
    CheckPixelLimit(width, height, max_pixels, name);
    CheckPixelLimit(std::max<uint64_t>(fw, 1), std::max<uint64_t>(fh, 1), max_pixels, name);

    // Indices first: the canvas, then the frame's rows (interlaced files store rows in 4 passes).
    std::vector<uint8_t> index(size_t(width * height), uint8_t(transparent >= 0 ? transparent : 0));
    std::vector<GifByteType> line(static_cast<size_t>(fw));
    const auto read_row = [&](uint64_t y) {
      if (fw == 0) return;
      if (DGifGetLine(gif, line.data(), int(fw)) == GIF_ERROR) fail(nullptr);
      std::memcpy(&index[size_t((fy + y) * width + fx)], line.data(), size_t(fw));
    };
    if (desc.Interlace) {
      constexpr uint64_t kStart[] = {0, 4, 2, 1}, kStep[] = {8, 8, 4, 2};
      for (int pass = 0; pass < 4; ++pass) {
        for (uint64_t y = kStart[pass]; y < fh; y += kStep[pass]) read_row(y);
      }
    } else {
      for (uint64_t y = 0; y < fh; ++y) read_row(y);
    }

    // Pillow's palette starts as a gray ramp and the file's colours overwrite its first entries.
    const ColorMapObject* map = desc.ColorMap ? desc.ColorMap : gif->SColorMap;
    uint8_t palette[256][3];
    for (int i = 0; i < 256; ++i) palette[i][0] = palette[i][1] = palette[i][2] = uint8_t(i);
    if (map && map->Colors) {
      for (int i = 0; i < std::min(map->ColorCount, 256); ++i) {
        palette[i][0] = map->Colors[i].Red;
        palette[i][1] = map->Colors[i].Green;
        palette[i][2] = map->Colors[i].Blue;
      }
    }
    Decoded d;
    d.image.width = uint32_t(width);
    d.image.height = uint32_t(height);
    d.image.rgb.resize(index.size() * 3);
    for (size_t i = 0; i < index.size(); ++i) std::memcpy(&d.image.rgb[i * 3], palette[index[i]], 3);
    return d;
  }
}

}  // namespace vkg::image::detail
