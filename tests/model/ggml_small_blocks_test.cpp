// Codecs of ggml's Q4_1, Q5_0, Q5_1, Q2_K and Q3_K (host/formats/ggml_small_blocks.h): hand-built blocks
// decode to the values the format definitions give, our quantizer's blocks read back close to
// their inputs, and the device encoding keeps every code and scale (decoded the device's way).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "host/formats/dtype.h"
#include "host/formats/format_traits.h"
#include "host/formats/ggml_blocks.h"
#include "host/formats/ggml_small_blocks.h"

namespace vkg {
namespace {

constexpr DType kTypes[] = {DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K};

void Put16(uint8_t* p, float v) {
  const uint16_t h = FloatToHalf(v);
  std::memcpy(p, &h, 2);
}

// Blocks written byte by byte from ggml's block_q4_1 / q5_0 / q5_1 / q2_K / q3_K definitions.
TEST(GgmlSmallBlocks, HandBuiltBlocksDecodeByTheDefinition) {
  {  // Q4_1: d = 0.5, m = -3; qs[5] = 0xA7: value 5 = 7, value 21 = 10 (high nibble).
    uint8_t b[20] = {};
    Put16(b, 0.5f);
    Put16(b + 2, -3.f);
    b[4 + 5] = 0xA7;
    EXPECT_EQ(SmallBlockValue(DType::Q4_1, b, 5), 0.5f * 7.f - 3.f);
    EXPECT_EQ(SmallBlockValue(DType::Q4_1, b, 21), 0.5f * 10.f - 3.f);
    EXPECT_EQ(SmallBlockValue(DType::Q4_1, b, 0), -3.f);
  }
  {  // Q5_0: d = 0.25; qh bit 3 (value 3's bit 4), bit 19 (value 19's); qs[3] = 0x52.
    uint8_t b[22] = {};
    Put16(b, 0.25f);
    const uint32_t qh = (1u << 3) | (1u << 19);
    std::memcpy(b + 2, &qh, 4);
    b[6 + 3] = 0x52;
    EXPECT_EQ(SmallBlockValue(DType::Q5_0, b, 3), 0.25f * float((2 | 16) - 16));
    EXPECT_EQ(SmallBlockValue(DType::Q5_0, b, 19), 0.25f * float((5 | 16) - 16));
    EXPECT_EQ(SmallBlockValue(DType::Q5_0, b, 4), 0.25f * -16.f);
  }
  {  // Q5_1: d = 2, m = 0.125; qh bit 31 (value 31), qs[15] = 0xF0: value 31 = 15 | 16.
    uint8_t b[24] = {};
    Put16(b, 2.f);
    Put16(b + 2, 0.125f);
    const uint32_t qh = 1u << 31;
    std::memcpy(b + 4, &qh, 4);
    b[8 + 15] = 0xF0;
    EXPECT_EQ(SmallBlockValue(DType::Q5_1, b, 31), 2.f * 31.f + 0.125f);
    EXPECT_EQ(SmallBlockValue(DType::Q5_1, b, 15), 0.125f);
  }
  {  // Q2_K: value 128 + 96 + 20 = 244: half 1, shift 6, qs[32 + 20]; sub-block 244 / 16 = 15.
    uint8_t b[84] = {};
    b[15] = 0x3B;  // scale 11, min 3
    b[16 + 32 + 20] = 2 << 6;
    Put16(b + 80, 0.5f);
    Put16(b + 82, 0.25f);
    EXPECT_EQ(SmallBlockValue(DType::Q2_K, b, 244), 0.5f * 11.f * 2.f - 0.25f * 3.f);
    EXPECT_EQ(SmallBlockValue(DType::Q2_K, b, 240), -0.25f * 3.f);  // code 0
    EXPECT_EQ(SmallBlockValue(DType::Q2_K, b, 0), 0.f);             // scale 0, min 0
  }
  {  // Q3_K: value 128 + 64 + 17 = 209: half 1, j 2 (shift 4), l 17, hmask bit 4 + 2 = 6 of
     // hmask[17]; sub-block 13: low 4 bits in the high nibble of scales[5], high 2 bits at bits
     // 6-7 (13 / 4 = 3) of scales[8 + 1].
    uint8_t b[110] = {};
    b[32 + 32 + 17] = 1 << 4;  // low code 1
    b[17] = 1 << 6;            // high bit set: q = 1 | 4 = 5, value (5 - 4) = 1
    b[96 + 5] = 0x90;          // low 4 bits 9
    b[96 + 9] = 2 << 6;        // high 2 bits 2: scale 9 | 32 = 41, minus 32 = 9
    Put16(b + 108, 0.125f);
    EXPECT_EQ(SmallBlockValue(DType::Q3_K, b, 209), 0.125f * 9.f * 1.f);
    b[17] = 0;  // high bit clear: q = 1 - 4 = -3
    EXPECT_EQ(SmallBlockValue(DType::Q3_K, b, 209), 0.125f * 9.f * -3.f);
    // Sub-block 2 (s < 8: low nibble of scales[2], high bits at bits 0-1 of scales[10]) stays 0: -32.
    EXPECT_EQ(SmallBlockValue(DType::Q3_K, b, 32), 0.125f * -32.f * -4.f);
  }
}

TEST(GgmlSmallBlocks, QuantizerReadsBackClose) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (DType t : kTypes) {
    const size_t n = 512;
    std::vector<float> x(n);
    for (float& v : x) v = u(rng);
    const std::vector<uint8_t> g = EncodeGgmlBlocks(t, x.data(), n);
    ASSERT_EQ(g.size(), DTypeBytes(t, n)) << DTypeName(t);
    double e = 0;
    for (size_t i = 0; i < n; ++i) {
      const double d = GgmlBlockElement(t, g.data(), i) - x[i];
      e += d * d;
    }
    // RMS error against uniform [-1, 1): about half a step; step 2/15 (4-bit), 2/31 (5-bit),
    // 2/3 per sub-block (Q2_K), 1/4 (Q3_K), with the scale quantization on top for the K-quants.
    const double bound = t == DType::Q2_K ? 0.25 : t == DType::Q3_K ? 0.15 : t == DType::Q4_1 ? 0.05 : 0.03;
    EXPECT_LT(std::sqrt(e / double(n)), bound) << DTypeName(t);
    // RoundTripThrough gives the same values.
    const std::vector<float> rt = RoundTripThrough(t, x);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(rt[i], GgmlBlockElement(t, g.data(), i)) << DTypeName(t) << " " << i;
  }
  EXPECT_EQ(DTypeBytes(DType::Q4_1, 64), 40u);
  EXPECT_EQ(DTypeBytes(DType::Q3_K, 256), 110u);
  EXPECT_EQ(PaddedCols(DType::Q5_0, 45), 64u);
  EXPECT_EQ(PaddedCols(DType::Q2_K, 45), 256u);
}

// The device encoding read back the way the shaders read it (host/device/weight_matrix.h's layout).
float DeviceValue(DType t, const uint8_t* data, const uint8_t* scales, int i) {
  auto half = [](const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return HalfToFloat(h);
  };
  if (t == DType::Q2_K || t == DType::Q3_K) {
    const int j = i / 32, l = i % 32, s = i / 16;
    const int code = (data[8 * j + l / 4] >> (2 * (l % 4))) & 3;
    if (t == DType::Q2_K) {
      const int sm = data[64 + s];
      return (half(scales) * float(sm & 15)) * float(code) - half(scales + 2) * float(sm >> 4);
    }
    const int hb = (data[64 + 4 * j + l / 8] >> (l % 8)) & 1;
    const uint8_t* sc = data + 96;
    const int lo = s < 8 ? (sc[s] & 15) : (sc[s - 8] >> 4), hi = (sc[8 + s % 4] >> (2 * (s / 4))) & 3;
    return (half(scales) * float((lo | hi << 4) - 32)) * float((code | hb << 2) - 4);
  }
  int q = (data[i / 2] >> (4 * (i % 2))) & 15;
  if (t != DType::Q4_1) {
    uint32_t qh;
    std::memcpy(&qh, scales + 4, 4);
    q |= int((qh >> i) & 1) << 4;
  }
  if (t == DType::Q5_0) return half(scales) * float(q - 16);
  return half(scales) * float(q) + half(scales + 2);
}

TEST(GgmlSmallBlocks, DeviceEncodingKeepsEveryValue) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-2.f, 1.f);
  for (DType t : kTypes) {
    const int bv = int(BlockValues(t));
    std::vector<float> x(size_t(bv) * 3);
    for (float& v : x) v = u(rng);
    const std::vector<uint8_t> g = EncodeGgmlBlocks(t, x.data(), x.size());
    for (int b = 0; b < 3; ++b) {
      std::vector<uint8_t> data(Format(t).device_block_bytes), scales(Format(t).scale_block_bytes);
      const uint8_t* block = g.data() + size_t(b) * Format(t).file_block_bytes;
      EncodeSmallBlockDevice(t, block, data.data(), scales.data());
      for (int i = 0; i < bv; ++i) {
        ASSERT_EQ(DeviceValue(t, data.data(), scales.data(), i), SmallBlockValue(t, block, i))
            << DTypeName(t) << " " << i;
      }
    }
  }
}

}  // namespace
}  // namespace vkg
