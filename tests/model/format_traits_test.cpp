// The format table (host/formats/format_traits.h), row by row: every format's names, sizes and
// codecs agree with each other and with the functions built on them. A new format's row is
// tested here by being in the table.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "host/formats/dtype.h"
#include "host/formats/format_traits.h"
#include "host/formats/ggml_blocks.h"

namespace vkg {
namespace {

std::vector<float> Values(size_t n, uint32_t seed) {
  std::vector<float> x(n);
  uint32_t s = seed;
  for (float& v : x) {
    s = s * 1664525u + 1013904223u;
    v = float(int32_t(s >> 8) % 2001 - 1000) / 1000.f;
  }
  return x;
}

TEST(FormatTraits, NamesParseBack) {
  for (const FormatTraits& f : kFormats) {
    DType t{};
    ASSERT_TRUE(ParseDType(f.name, &t)) << f.name;
    EXPECT_EQ(t, f.dtype) << f.name;
    EXPECT_EQ(DTypeName(f.dtype), f.name);
    EXPECT_FALSE(f.shader_suffix.empty()) << f.name;
  }
  DType t{};
  EXPECT_FALSE(ParseDType("q8_1", &t));
}

TEST(FormatTraits, SizesAgree) {
  for (const FormatTraits& f : kFormats) {
    SCOPED_TRACE(std::string(f.name));
    EXPECT_EQ(BlockValues(f.dtype), f.block_values);
    EXPECT_EQ(DTypeBytes(f.dtype, f.block_values * 4), 4u * f.file_block_bytes);
    EXPECT_EQ(IsQuantized(f.dtype), f.quantized);
    EXPECT_EQ(f.quantized, f.scale_block_bytes > 0);  // the scales view exists exactly for these
    EXPECT_TRUE(!f.ggml_block || f.quantized);
    EXPECT_TRUE(!f.kquant || f.ggml_block);
    // The device's texels: whole 16-byte texels per padded row, texel_values values each.
    const uint32_t cols = PaddedCols(f.dtype, 1);
    EXPECT_EQ(cols % f.block_values, 0u);
    EXPECT_EQ(uint64_t(cols / f.block_values) * f.device_block_bytes % 16, 0u);
    EXPECT_EQ(f.texel_values % 4, 0u);
  }
}

TEST(FormatTraits, CodecsRoundTrip) {
  for (const FormatTraits& f : kFormats) {
    SCOPED_TRACE(std::string(f.name));
    const size_t n = 2 * f.block_values + 5;  // a partial last block: zero-padded
    const std::vector<float> x = Values(n, 7);
    const std::vector<float> rt = RoundTripThrough(f.dtype, x);
    ASSERT_EQ(rt.size(), n);
    // The table's quantizer, then its value decoder, give RoundTripThrough's numbers.
    std::vector<float> padded(x);
    padded.resize((n + f.block_values - 1) / f.block_values * f.block_values, 0.f);
    std::vector<uint8_t> bytes(padded.size() / f.block_values * f.file_block_bytes);
    for (size_t b = 0; b < padded.size() / f.block_values; ++b) {
      f.Quantize(&padded[b * f.block_values], &bytes[b * f.file_block_bytes]);
    }
    double err = 0, ref = 0;
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(GgmlBlockElement(f.dtype, bytes.data(), i), rt[i]) << i;
      err += (rt[i] - x[i]) * (rt[i] - x[i]);
      ref += x[i] * x[i];
    }
    EXPECT_LT(err / ref, 0.25);  // every format, 2-bit codes included, keeps the values' shape
    // The device encoding writes within its sizes.
    std::vector<uint8_t> data(f.device_block_bytes + 16, 0xAB), scales(f.scale_block_bytes + 16, 0xAB);
    f.EncodeDevice(bytes.data(), data.data(), scales.data());
    for (size_t i = f.device_block_bytes; i < data.size(); ++i) ASSERT_EQ(data[i], 0xAB) << "data byte " << i;
    for (size_t i = f.scale_block_bytes; i < scales.size(); ++i) ASSERT_EQ(scales[i], 0xAB) << "scale byte " << i;
  }
}

}  // namespace
}  // namespace vkg
