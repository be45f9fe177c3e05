// K-quant super-block codecs (host/formats/kquant_blocks.h): ggml's byte layouts read back what was
// packed, element decoding equals whole-block decoding, hand-built blocks decode to the values the
// format definition gives, and our quantizer beats the naive max-based scale choice.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "host/formats/dtype.h"
#include "host/formats/format_traits.h"
#include "host/formats/ggml_blocks.h"
#include "host/formats/kquant_blocks.h"

namespace vkg {
namespace {

constexpr DType kTypes[] = {DType::Q4_K, DType::Q5_K, DType::Q6_K};

std::vector<float> Random(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

double SquaredError(DType t, const KQuantBlock& b, const float* x) {
  float d[256];
  DequantizeK(t, b, d);
  double e = 0;
  for (int i = 0; i < 256; ++i) e += double(d[i] - x[i]) * (d[i] - x[i]);
  return e;
}

TEST(KQuantBlocks, PackUnpackAndElementDecodeAgree) {
  for (DType t : kTypes) {
    for (uint32_t seed = 1; seed <= 20; ++seed) {
      const std::vector<float> x = Random(256, seed, seed % 2 ? -1.f : -0.1f, 1.f);
      const KQuantBlock q = QuantizeK(t, x.data());
      std::vector<uint8_t> bytes(Format(t).file_block_bytes);
      PackGgmlK(t, q, bytes.data());
      const KQuantBlock back = UnpackGgmlK(t, bytes.data());
      EXPECT_EQ(std::memcmp(&q, &back, sizeof q), 0) << DTypeName(t) << " seed " << seed;
      std::vector<uint8_t> again(bytes.size());
      PackGgmlK(t, back, again.data());
      EXPECT_EQ(bytes, again);
      float d[256];
      DequantizeK(t, q, d);
      for (int i = 0; i < 256; ++i) ASSERT_EQ(GgmlKElement(t, bytes.data(), i), d[i]) << DTypeName(t) << " i " << i;
    }
  }
}

// Blocks written byte by byte from the format definitions (ggml's block_q4_K / block_q5_K /
// block_q6_K), decoded: the value positions of the nibbles, high bits and packed scales.
TEST(KQuantBlocks, HandBuiltBlocksDecodeByTheDefinition) {
  const uint16_t one = FloatToHalf(1.f), half = FloatToHalf(0.5f);
  {  // Q4_K: d = 1, dmin = 0.5; sub-block 5 (s >= 4 packing): sc = 0x2A (42), m = 0x13 (19).
    std::vector<uint8_t> b(144, 0);
    std::memcpy(&b[0], &one, 2);
    std::memcpy(&b[2], &half, 2);
    uint8_t* sc = &b[4];
    sc[9] = uint8_t((0x2A & 15) | ((0x13 & 15) << 4));  // b[s+4]: low 4 bits of sc and m
    sc[1] = uint8_t((0x2A >> 4) << 6);                  // b[s-4]: top 2 bits of sc
    sc[5] = uint8_t((0x13 >> 4) << 6);                  // b[s]: top 2 bits of m
    // Value 160 + 7 (sub-block 5 = high nibbles of qs[64..95], l = 7) = code 11.
    b[16 + 64 + 7] = uint8_t(11 << 4);
    EXPECT_EQ(GgmlKElement(DType::Q4_K, b.data(), 167), 42.f * 11.f - 0.5f * 19.f);
    EXPECT_EQ(GgmlKElement(DType::Q4_K, b.data(), 160), -0.5f * 19.f);  // code 0
    const KQuantBlock u = UnpackGgmlK(DType::Q4_K, b.data());
    EXPECT_EQ(u.sc[5], 42);
    EXPECT_EQ(u.m[5], 19);
    EXPECT_EQ(u.q[167], 11);
  }
  {  // Q5_K: value 3*32 + 9 = 105: low nibble in qs[32 + 9] high half (sub-block 3 odd), bit 3 of qh[9].
    std::vector<uint8_t> b(176, 0);
    std::memcpy(&b[0], &one, 2);
    b[4 + 3] = 2;  // sc[3] = 2 (s < 4), m[3] = 0
    b[48 + 32 + 9] = uint8_t(5 << 4);
    b[16 + 9] = uint8_t(1 << 3);
    EXPECT_EQ(GgmlKElement(DType::Q5_K, b.data(), 105), 2.f * float(5 + 16));
  }
  {  // Q6_K: value 128 + 96 + 4 = 228: high nibble of ql[64 + 32 + 4], bits 6-7 of qh[32 + 4],
     // scale sc[228 / 16 = 14] = -3, d = 0.5.
    std::vector<uint8_t> b(210, 0);
    b[64 + 32 + 4] = uint8_t(9 << 4);
    b[128 + 32 + 4] = uint8_t(2 << 6);
    b[192 + 14] = uint8_t(int8_t(-3));
    std::memcpy(&b[208], &half, 2);
    EXPECT_EQ(GgmlKElement(DType::Q6_K, b.data(), 228), 0.5f * -3.f * float((9 | (2 << 4)) - 32));
    EXPECT_EQ(GgmlKElement(DType::Q6_K, b.data(), 0), 0.f);  // scale 0
  }
}

// The error-minimising choice (candidate search + least-squares refit) against the naive
// max-based one, on uniform and on heavy-tailed (Gaussian) weights: never worse in total, and
// better by a margin.
TEST(KQuantBlocks, QuantizerBeatsTheNaiveChoice) {
  for (DType t : kTypes) {
    double ours = 0, naive = 0;
    for (uint32_t seed = 0; seed < 200; ++seed) {
      std::vector<float> x = Random(256, 100 + seed);
      if (seed % 2) {  // Gaussian
        std::mt19937 rng(seed);
        std::normal_distribution<float> n(0.f, 0.3f);
        for (float& v : x) v = n(rng);
      }
      ours += SquaredError(t, QuantizeK(t, x.data()), x.data());
      naive += SquaredError(t, QuantizeKNaive(t, x.data()), x.data());
    }
    std::printf("  %s: squared error %.4g (ours) vs %.4g (naive), %.1f%% less\n", std::string(DTypeName(t)).c_str(),
                ours, naive, 100.0 * (1.0 - ours / naive));
    EXPECT_LT(ours, 0.95 * naive) << DTypeName(t);
  }
}

TEST(KQuantBlocks, RoundTripThroughAndGgmlBlocksMatch) {
  const std::vector<float> x = Random(512 + 100, 7);
  for (DType t : kTypes) {
    const std::vector<float> rt = RoundTripThrough(t, x);
    ASSERT_EQ(rt.size(), x.size());
    // RMS error of a 4/5/6-bit format on values in [-1, 1]: well under the naive step.
    double e = 0;
    for (size_t i = 0; i < x.size(); ++i) e += double(rt[i] - x[i]) * (rt[i] - x[i]);
    EXPECT_LT(std::sqrt(e / double(x.size())), t == DType::Q4_K ? 0.05 : 0.025) << DTypeName(t);
    const std::vector<uint8_t> g = EncodeGgmlBlocks(t, x.data(), 512);
    ASSERT_EQ(g.size(), 2 * Format(t).file_block_bytes);
    for (size_t i = 0; i < 512; ++i) ASSERT_EQ(GgmlBlockElement(t, g.data(), i), rt[i]) << DTypeName(t) << " " << i;
  }
  EXPECT_EQ(DTypeBytes(DType::Q4_K, 512), 288u);
  EXPECT_EQ(DTypeBytes(DType::Q5_K, 256), 176u);
  EXPECT_EQ(DTypeBytes(DType::Q6_K, 256), 210u);
  EXPECT_EQ(PaddedCols(DType::Q4_K, 45), 256u);
  EXPECT_EQ(PaddedCols(DType::Q4_0, 45), 64u);
  EXPECT_EQ(PaddedCols(DType::F16, 100), 128u);  // whole texels: the kernels stride rows by row_texels
}

}  // namespace
}  // namespace vkg
