// libFuzzer target: image decoding (PNG, JPEG, WebP, GIF, BMP by their first bytes; EXIF orientation)
// and, for what decodes, the Gemma 4 preprocessing at the smallest budget. A decode either returns
// or throws vkg::Error (one `error:` line in the CLI). The pixel limit is lowered to 4 megapixels so
// that a header claiming a large image is refused quickly, as 100 megapixels would be in the CLI.
#include <cstddef>
#include <cstdint>

#include "host/error.h"
#include "host/image/image_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const vkg::image::RgbImage image = vkg::image::DecodeImage({data, size}, "fuzz", 4'000'000);
    if (image.rgb.size() != size_t(image.width) * image.height * 3) __builtin_trap();
    if (uint64_t(image.width) * image.height <= 65536) vkg::image::Preprocess(image, 70);
  } catch (const vkg::Error&) {
  }
  return 0;
}
