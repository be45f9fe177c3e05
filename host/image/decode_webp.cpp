// WebP through libwebp (Debian's libwebp-dev) the way Pillow reads it: WebPAnimDecoder for every
// file (still or animated), the first frame in RGBA drawn on a transparent black canvas, then the
// alpha dropped; the EXIF chunk kept for the orientation (layer: host/image).
#include <webp/decode.h>
#include <webp/demux.h>

#include <cstring>

#include "host/error.h"
#include "host/image/decoders.h"

namespace vkg::image::detail {

Decoded DecodeWebp(std::span<const uint8_t> bytes, const std::string& name, uint64_t max_pixels) {
  WebPData data{bytes.data(), bytes.size()};
  WebPDemuxState state;
  WebPDemuxer* demux = WebPDemuxPartial(&data, &state);
  struct DemuxGuard {
    WebPDemuxer* d;
    ~DemuxGuard() { WebPDemuxDelete(d); }
  } demux_guard{demux};
  if (!demux || state == WEBP_DEMUX_PARSE_ERROR) throw Error(name + ": broken WebP file (bad container)");
  if (state != WEBP_DEMUX_DONE) throw Error(name + ": broken WebP file (the file is truncated)");
  const uint32_t width = WebPDemuxGetI(demux, WEBP_FF_CANVAS_WIDTH);
  const uint32_t height = WebPDemuxGetI(demux, WEBP_FF_CANVAS_HEIGHT);
  CheckPixelLimit(width, height, max_pixels, name);

  Decoded d;
  WebPChunkIterator chunk;
  if (WebPDemuxGetChunk(demux, "EXIF", 1, &chunk)) {
    const uint8_t* p = chunk.chunk.bytes;
    size_t n = chunk.chunk.size;
    if (n > 6 && std::memcmp(p, "Exif\0\0", 6) == 0) p += 6, n -= 6;  // some writers keep JPEG's prefix
    d.exif.assign(p, p + n);
    WebPDemuxReleaseChunkIterator(&chunk);
  }

  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) throw Error(name + ": the WebP decoder failed to start");
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  WebPAnimDecoder* decoder = WebPAnimDecoderNew(&data, &options);
  struct DecoderGuard {
    WebPAnimDecoder* d;
    ~DecoderGuard() { WebPAnimDecoderDelete(d); }
  } decoder_guard{decoder};
  if (!decoder) throw Error(name + ": broken WebP file (cannot start decoding)");
  uint8_t* rgba = nullptr;
  int timestamp = 0;
  if (!WebPAnimDecoderGetNext(decoder, &rgba, &timestamp) || !rgba) {
    throw Error(name + ": broken WebP file (the first frame does not decode)");
  }
  d.image.width = width;
  d.image.height = height;
  d.image.rgb.resize(size_t(width) * height * 3);
  for (size_t i = 0, n = size_t(width) * height; i < n; ++i) std::memcpy(&d.image.rgb[i * 3], rgba + i * 4, 3);
  return d;
}

}  // namespace vkg::image::detail
