// RoPE on the device against ref::Rope: full rotation (sliding layers) and Gemma 4's proportional
// partial rotation (full layers), at small and very large positions.
#include "host/ops/rope.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

struct Case {
  uint32_t tokens, heads, head_dim, start_pos;
  float theta;
  uint32_t pairs;  // rotated pairs: head_dim / 2, or 64 of 256 for full layers
};

class RopeTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(RopeTest, MatchesReference) {
  const Case c = GetParam();
  auto x = RandomVector(size_t(c.tokens) * c.heads * c.head_dim, c.head_dim + c.start_pos, -2.f, 2.f);
  const auto inv_freq = ref::RopeInvFreq(int(c.head_dim), c.theta, int(c.pairs));
  const Tensor tx = NewTensor(c.tokens, c.heads * c.head_dim), tf = NewTensor(1, c.head_dim / 2);
  Upload(tx, x);
  Upload(tf, inv_freq);
  std::vector<int32_t> pos(c.tokens);
  for (uint32_t t = 0; t < c.tokens; ++t) pos[t] = int32_t(c.start_pos + t);
  ref::Rope(x.data(), int(c.tokens), int(c.heads), int(c.head_dim), pos.data(), inv_freq.data());
  Run([&](OpContext& ctx) { Rope(ctx, tx, c.heads, c.head_dim, c.start_pos, tf); });
  // The angle float(pos) * inv_freq is the same float on both sides; the device's sin/cos
  // (shaders/common/math.glsl) are accurate to a few ulp after range reduction, so values differ by
  // ~1e-7 relative: NMSE < 1e-11 at any position.
  ExpectClose(x, Download(tx), 1e-11, "Rope");
}

TEST_F(RopeTest, ProportionalLeavesUnrotatedDimsUntouched) {
  // Full layer: head 512, 64 pairs -> dims [64, 256) and [320, 512) pass through bit-exactly.
  const uint32_t head_dim = 512;
  const auto x = RandomVector(head_dim * 2, 5);
  const Tensor tx = NewTensor(1, head_dim * 2), tf = NewTensor(1, head_dim / 2);
  Upload(tx, x);
  Upload(tf, ref::RopeInvFreq(int(head_dim), 1e6f, 64));
  Run([&](OpContext& ctx) { Rope(ctx, tx, 2, head_dim, 1234, tf); });
  const auto got = Download(tx);
  for (uint32_t h = 0; h < 2; ++h) {
    for (uint32_t i = 0; i < head_dim; ++i) {
      const bool rotated = i < 64 || (i >= 256 && i < 320);
      if (!rotated)
        ASSERT_EQ(got[h * head_dim + i], x[h * head_dim + i]) << "dim " << i;
      else
        ASSERT_NE(got[h * head_dim + i], x[h * head_dim + i]) << "dim " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, RopeTest,
                         ::testing::Values(Case{1, 8, 256, 0, 1e4f, 128},       // decode at 0, sliding E2B
                                           Case{7, 8, 256, 100000, 1e4f, 128},  // large positions
                                           Case{16, 4, 512, 3, 1e6f, 64},       // full layer, proportional
                                           Case{1, 32, 512, 131071, 1e6f, 64},  // full layer at 128K
                                           Case{23, 3, 16, 9, 1e4f, 8},         // tiny test model, awkward T
                                           Case{5, 2, 32, 30, 1e6f, 4}));       // tiny full layer (0.25 * 32 / 2)

}  // namespace
}  // namespace vkg::test
