// Image decoding against PIL (tests/data/gemma4-image: each file and PIL's convert("RGB") of it after
// exif_transpose, as Hugging Face's load_image gives it), and broken files: one error line each.
#include <gtest/gtest.h>

#include <cstring>

#include "host/error.h"
#include "host/image/decoders.h"
#include "host/image/image_input.h"
#include "tests/image/image_fixture.h"

namespace vkg::image {
namespace {

using test::DataDir;
using test::Manifest;
using test::ReadBytes;

// Every decoder case: the RGB equals PIL's exactly (the lossy formats too: PIL uses the same
// libjpeg-turbo and libwebp, with the same settings).
TEST(ImageDecode, EqualsPilConvertRgb) {
  ASSERT_GE(Manifest()["decode"].size(), 15u);
  for (const auto& c : Manifest()["decode"]) {
    SCOPED_TRACE(c["file"].get<std::string>());
    const RgbImage got = LoadImageFile(DataDir() / c["file"].get<std::string>());
    const RgbImage want = LoadImageFile(DataDir() / c["expected"].get<std::string>());
    ASSERT_EQ(got.width, c["width"].get<uint32_t>());
    ASSERT_EQ(got.height, c["height"].get<uint32_t>());
    ASSERT_EQ(want.width, got.width);
    ASSERT_EQ(want.height, got.height);
    size_t differing = 0;
    for (size_t i = 0; i < got.rgb.size(); ++i) differing += got.rgb[i] != want.rgb[i];
    EXPECT_EQ(differing, 0u);
  }
}

// Decoding looks at the bytes, not the name: a PNG named .jpg decodes as PNG.
TEST(ImageDecode, RecognisesTheFormatByItsBytes) {
  const std::vector<uint8_t> png = ReadBytes(DataDir() / "decode_pal4.png");
  const RgbImage a = DecodeImage(png, "photo.jpg");
  EXPECT_EQ(a.width, 61u);
  EXPECT_EQ(a.height, 37u);
}

std::string ErrorOf(const std::vector<uint8_t>& bytes, uint64_t max_pixels = kDefaultMaxPixels) {
  try {
    DecodeImage(bytes, "x.img", max_pixels);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ImageDecode, EmptyAndUnknownFilesAreRefused) {
  EXPECT_EQ(ErrorOf({}), "x.img: the image file is empty");
  EXPECT_EQ(ErrorOf({'h', 'e', 'l', 'l', 'o'}), "x.img: not an image vkgemma reads (PNG, JPEG, WebP, GIF or BMP)");
  const std::vector<uint8_t> tiff = {'I', 'I', 42, 0, 8, 0, 0, 0};
  EXPECT_EQ(ErrorOf(tiff), "x.img: not an image vkgemma reads (PNG, JPEG, WebP, GIF or BMP)");
}

// Every prefix of every test file either decodes (some formats end with optional data) or throws
// vkg::Error with one line naming the file; none crashes (the fuzzers go further: tests/fuzz).
TEST(ImageDecode, TruncatedFilesGiveOneErrorLine) {
  for (const char* file : {"decode_q75.jpg", "decode_pal4.png", "decode_lossless.webp", "decode_lossy_alpha.webp",
                           "decode_gif.gif", "decode_rgb24.bmp", "decode_pal8.bmp", "decode_exif6.jpg"}) {
    SCOPED_TRACE(file);
    const std::vector<uint8_t> whole = ReadBytes(DataDir() / file);
    size_t refused = 0;
    for (size_t n = 1; n < whole.size(); n += 1 + n / 16) {
      const std::vector<uint8_t> part(whole.begin(), whole.begin() + std::ptrdiff_t(n));
      const std::string e = ErrorOf(part);
      if (e == "(no error)") continue;
      ++refused;
      EXPECT_EQ(e.rfind("x.img: ", 0), 0u) << e;
      EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    }
    EXPECT_GT(refused, 0u);
  }
  // Cut in the middle of the pixel data: refused, not padded with gray as libjpeg alone would.
  const std::vector<uint8_t> jpeg = ReadBytes(DataDir() / "decode_q75.jpg");
  EXPECT_EQ(ErrorOf(std::vector<uint8_t>(jpeg.begin(), jpeg.begin() + std::ptrdiff_t(jpeg.size() * 3 / 4))),
            "x.img: broken JPEG file (the file is truncated)");
}

TEST(ImageDecode, CorruptBytesGiveOneErrorLine) {
  // Flipping bytes all over the files: decodes or one error line, never a crash (run under the
  // sanitizers in CI).
  for (const char* file :
       {"decode_q75.jpg", "decode_pal4.png", "decode_lossless.webp", "decode_gif.gif", "decode_rgba32.bmp"}) {
    const std::vector<uint8_t> whole = ReadBytes(DataDir() / file);
    for (size_t at = 0; at < whole.size(); at += 1 + whole.size() / 97) {
      std::vector<uint8_t> bad = whole;
      bad[at] ^= 0x5a;
      const std::string e = ErrorOf(bad);
      if (e != "(no error)") {
        EXPECT_EQ(e.find('\n'), std::string::npos) << file << " byte " << at << ": " << e;
      }
    }
  }
}

// A header claiming a huge image is refused before its pixels are allocated.
TEST(ImageDecode, PixelLimitIsCheckedFromTheHeader) {
  const std::vector<uint8_t> png = ReadBytes(DataDir() / "decode_pal4.png");
  // A 60000 x 60000 BMP header (its pixel data is not there): refused for its size, not its length.
  std::vector<uint8_t> bmp = ReadBytes(DataDir() / "decode_rgb24.bmp");
  const uint32_t side = 60000;
  std::memcpy(&bmp[18], &side, 4);
  std::memcpy(&bmp[22], &side, 4);
  EXPECT_EQ(ErrorOf(bmp), "x.img: the image is 60000 x 60000 pixels, over the limit of 100000000");
  EXPECT_EQ(ErrorOf(png, 1000), "x.img: the image is 61 x 37 pixels, over the limit of 1000");
  EXPECT_EQ(ErrorOf(ReadBytes(DataDir() / "decode_q75.jpg"), 1000),
            "x.img: the image is 61 x 37 pixels, over the limit of 1000");
  EXPECT_EQ(ErrorOf(ReadBytes(DataDir() / "decode_lossless.webp"), 1000),
            "x.img: the image is 61 x 37 pixels, over the limit of 1000");
  EXPECT_EQ(ErrorOf(ReadBytes(DataDir() / "decode_gif.gif"), 1000),
            "x.img: the image is 61 x 37 pixels, over the limit of 1000");
}

TEST(ImageDecode, FileErrorsNameTheFile) {
  try {
    LoadImageFile("/nonexistent/cat.png");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read image '/nonexistent/cat.png': No such file or directory");
  }
  try {
    LoadImageFile(DataDir());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), DataDir().string() + ": is a directory, not an image file");
  }
}

TEST(ImageDecode, ExifOrientationParsing) {
  // Big- and little-endian TIFF headers with one IFD0 entry: Orientation = 6.
  const std::vector<uint8_t> le = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0};
  const std::vector<uint8_t> be = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0};
  EXPECT_EQ(detail::ExifOrientation(le), 6);
  EXPECT_EQ(detail::ExifOrientation(be), 6);
  EXPECT_EQ(detail::ExifOrientation(std::span(le).first(20)), 1);  // entry cut short: ignored
  std::vector<uint8_t> bad = le;
  bad[4] = 200;  // IFD offset past the end
  EXPECT_EQ(detail::ExifOrientation(bad), 1);
  bad = le;
  bad[18] = 9;  // not an orientation
  EXPECT_EQ(detail::ExifOrientation(bad), 1);
}

}  // namespace
}  // namespace vkg::image
