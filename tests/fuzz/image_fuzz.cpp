// libFuzzer target: image decoding (PNG, JPEG, WebP, GIF, BMP by their first bytes; EXIF orientation)
// and, for what decodes, the Gemma 4 preprocessing at the smallest budget; an input starting with
// "data:" goes through the data: URL decoder first (serve's image_url parts). A decode either returns
// or throws vkg::Error (one `error:` line in the CLI). The pixel limit is lowered to 1 megapixel so
// that each execution stays fast; the limit itself is the same check at any value.
#include <cstddef>
#include <cstdint>

#include <string_view>

#include "host/error.h"
#include "host/image/data_url.h"
#include "host/image/image_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  vkg::image::DataUrlResult url;
  if (size >= 5 && std::string_view(reinterpret_cast<const char*>(data), 5) == "data:") {
    url = vkg::image::DecodeDataUrl(std::string_view(reinterpret_cast<const char*>(data), size), 1 << 20);
    if (url.error != vkg::image::DataUrlError::kNone) return 0;
    bytes = url.bytes;
  }
  try {
    const vkg::image::RgbImage image = vkg::image::DecodeImage(bytes, "fuzz", 1'000'000);
    if (image.rgb.size() != size_t(image.width) * image.height * 3) __builtin_trap();
    // The resize always writes a budget-sized image (~160k pixels at 70), whatever the input: done
    // for one input in 16 so the decoders get most of the executions.
    if (uint64_t(image.width) * image.height <= 65536 && size % 16 == 0) vkg::image::Preprocess(image, 70);
  } catch (const vkg::Error&) {
  }
  return 0;
}
