// Fill op on the device: exact values, awkward sizes, grids past 65535 workgroups, guards intact.
#include <vector>

#include "host/ops/fill.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

class FillTest : public GpuTest, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(FillTest, WritesEveryElementAndNothingElse) {
  const uint32_t n = GetParam();
  const Tensor t = NewTensor(1, n);
  Run([&](OpContext& ctx) { Fill(ctx, t, 1.5f); });
  const std::vector<float> got = Download(t);
  ASSERT_EQ(got.size(), n);
  for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(got[i], 1.5f) << "at " << i;
}

// 1 (decode-like), 27 (not a multiple of the workgroup), 4,194,305 (needs a 2-D grid).
INSTANTIATE_TEST_SUITE_P(Sizes, FillTest, ::testing::Values(1u, 27u, 64u, 4194305u));

}  // namespace
}  // namespace vkg::test
