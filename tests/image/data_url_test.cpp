// data: URL decoding (OpenAI image_url parts): round trips, and every malformed or hostile URL
// refused with its reason, before any large allocation.
#include "host/image/data_url.h"

#include <gtest/gtest.h>

#include "tests/image/base64.h"

namespace vkg::image {
namespace {

TEST(DataUrl, RoundTripsEveryLength) {
  for (size_t n = 0; n < 40; ++n) {
    std::vector<uint8_t> bytes(n);
    for (size_t i = 0; i < n; ++i) bytes[i] = uint8_t(i * 37 + 11);
    const DataUrlResult r = DecodeDataUrl("data:image/png;base64," + test::Base64(bytes), 1000);
    ASSERT_EQ(r.error, DataUrlError::kNone) << r.message;
    EXPECT_EQ(r.bytes, bytes);
    EXPECT_EQ(r.media_type, "image/png");
  }
  // Line breaks, no padding, the URL-safe alphabet, parameters and upper-case scheme are accepted.
  EXPECT_EQ(DecodeDataUrl("DATA:image/jpeg;charset=x;base64,/w\r\n-_", 10).bytes,
            (std::vector<uint8_t>{0xff, 0x0f, 0xbf}));  // 6-bit values 63 48 62 63
}

TEST(DataUrl, RefusesWithTheReason) {
  const auto error = [](std::string_view url, size_t max = 100) { return DecodeDataUrl(url, max).error; };
  EXPECT_EQ(error("https://example.com/cat.png"), DataUrlError::kRemote);
  EXPECT_EQ(error("HTTP://example.com/cat.png"), DataUrlError::kRemote);
  EXPECT_EQ(DecodeDataUrl("http://x", 1).message,
            "remote image URLs are not fetched by this server; send the image inline as a data: URL "
            "(data:image/png;base64,...)");
  EXPECT_EQ(error("file:///etc/passwd"), DataUrlError::kNotDataUrl);
  EXPECT_EQ(error(""), DataUrlError::kNotDataUrl);
  EXPECT_EQ(error("data:image/png;base64"), DataUrlError::kNotDataUrl);  // no comma
  EXPECT_EQ(error("data:image/png,rawbytes"), DataUrlError::kNotBase64);
  EXPECT_EQ(error("data:image/png;base64x,AAAA"), DataUrlError::kNotBase64);
  EXPECT_EQ(error("data:;base64,AA*A"), DataUrlError::kBadBase64);
  EXPECT_EQ(error("data:;base64,AA=A"), DataUrlError::kBadBase64);   // data after padding
  EXPECT_EQ(error("data:;base64,A"), DataUrlError::kBadBase64);      // 6 bits: not a byte
  EXPECT_EQ(error("data:;base64,AA==="), DataUrlError::kBadBase64);  // too much padding
  EXPECT_EQ(error("data:;base64,AAAAAAAA", 5), DataUrlError::kTooLarge);
  // A huge URL is refused from its length, before decoding.
  const std::string huge = "data:;base64," + std::string(40'000'000, 'A');
  EXPECT_EQ(error(huge, 1 << 20), DataUrlError::kTooLarge);
}

}  // namespace
}  // namespace vkg::image
