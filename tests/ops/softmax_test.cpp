// Row softmax on the device against ref::Softmax.
#include "host/ops/softmax.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

// exp and a reordered f32 sum: ~1e-7 relative per value; NMSE bound 1e-10 (see rms_norm_test).
constexpr double kNmse = 1e-10;

class SoftmaxTest : public GpuTest, public ::testing::WithParamInterface<std::pair<uint32_t, uint32_t>> {};

TEST_P(SoftmaxTest, MatchesReference) {
  const auto [rows, cols] = GetParam();
  auto x = RandomVector(size_t(rows) * cols, rows * 31 + cols, -20.f, 20.f);  // wide range: max subtraction matters
  const Tensor t = NewTensor(rows, cols);
  Upload(t, x);
  ref::Softmax(x.data(), int(rows), int(cols));
  Run([&](OpContext& ctx) { Softmax(ctx, t); });
  ExpectClose(x, Download(t), kNmse, "Softmax");
}

INSTANTIATE_TEST_SUITE_P(Shapes, SoftmaxTest,
                         ::testing::Values(std::pair{1u, 128u}, std::pair{32u, 1000u}, std::pair{23u, 27u},
                                           std::pair{1u, 1u}, std::pair{2u, 262144u}));

}  // namespace
}  // namespace vkg::test
