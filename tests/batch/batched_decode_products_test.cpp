// Batched decode products (tests/batch): M rows through the decode kernels at once
// (MatMulOptions::rows_as_decode, matvec.comp / matvec_rows.comp with COLS columns, and the fused
// GELU_PAIRS / X_GELU_MUL variants) must give every row bit for bit what that row gives alone
// (M = 1), for every weight type and both kernel families: continuous batching relies on it.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "host/device/weight_matrix.h"
#include "host/formats/dtype.h"
#include "host/ops/matmul.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

constexpr DType kAllTypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0};

struct Shape {
  uint32_t n, k;
};
// K = 64 (the tiny checkpoints' hidden size; two texels per lane step on f32), 96 (a partial
// q4_0 / q8_0 block: the last-texel path). Small: every COLS value is a pipeline lavapipe compiles.
constexpr Shape kShapes[] = {{27, 64}, {131, 96}};
// 2: one whole group of 2 columns; 3: a group of 4 with a repeated last column; 11: a whole group
// of 8 and a partial one (grid z = 2).
constexpr uint32_t kRows[] = {2, 3, 11};

class BatchedDecodeTest : public GpuTest, public ::testing::WithParamInterface<std::tuple<DType, KernelFamily>> {
 protected:
  WeightMatrix MakeWeight(DType t, uint32_t n, uint32_t k, uint32_t seed) {
    const std::vector<float> w = RandomVector(size_t(n) * k, seed);
    return UploadWeightMatrix(
        gpu().device(), alloc(), gpu().transfer(), t, n, k,
        [&](uint32_t r, float* out) { std::copy_n(&w[size_t(r) * k], k, out); }, "w", 0);
  }
  // Each row of `x` ([m][k] values) alone through `op` (one row in, one row out), concatenated.
  template <typename Op>
  std::vector<float> RowsAlone(const std::vector<float>& x, uint32_t m, uint32_t k, uint32_t out_cols, Op op) {
    std::vector<float> all;
    for (uint32_t r = 0; r < m; ++r) {
      const Tensor xr = NewTensor(1, k), yr = NewTensor(1, out_cols);
      Upload(xr, std::span<const float>(x).subspan(size_t(r) * k, k));
      Run([&](OpContext& ctx) { op(ctx, xr, yr); }, std::get<1>(GetParam()));
      const std::vector<float> y = Download(yr);
      all.insert(all.end(), y.begin(), y.end());
    }
    return all;
  }
  static void ExpectSameBits(const std::vector<float>& alone, const std::vector<float>& batched,
                             const std::string& what) {
    ASSERT_EQ(alone.size(), batched.size()) << what;
    size_t differ = 0, first = 0;
    for (size_t i = alone.size(); i-- > 0;) {
      if (std::memcmp(&alone[i], &batched[i], 4) != 0) ++differ, first = i;
    }
    EXPECT_EQ(differ, 0u) << what << ": " << differ << " of " << alone.size() << " values differ, the first at "
                          << first << ": " << alone[first] << " alone, " << batched[first] << " batched";
  }
};

TEST_P(BatchedDecodeTest, ProductRowsEqualRowsAlone) {
  const auto [t, family] = GetParam();
  for (const Shape s : kShapes) {
    const WeightMatrix w = MakeWeight(t, s.n, s.k, 300 + s.n);
    for (uint32_t m : kRows) {
      const std::vector<float> xv = RandomVector(size_t(m) * s.k, 40 + m);
      const Tensor x = NewTensor(m, s.k), y = NewTensor(m, s.n);
      Upload(x, xv);
      Run([&](OpContext& ctx) { MatMul(ctx, w, x, y, {.softcap = 30.f, .rows_as_decode = true}); }, family);
      const auto alone = RowsAlone(xv, m, s.k, s.n, [&](OpContext& ctx, const Tensor& xr, const Tensor& yr) {
        MatMul(ctx, w, xr, yr, {.softcap = 30.f});
      });
      ExpectSameBits(alone, Download(y),
                     std::string(DTypeName(t)) + " M=" + std::to_string(m) + " N=" + std::to_string(s.n) +
                         " K=" + std::to_string(s.k));
    }
  }
}

// The fused decode variants are GPU-family kernels (the CPU family declines them, batched as alone):
// instantiated for that family only.
class BatchedFusedGeluTest : public BatchedDecodeTest {};

TEST_P(BatchedFusedGeluTest, FusedGeluVariantsEqualRowsAlone) {
  const auto [t, family] = GetParam();
  for (const Shape s : kShapes) {
    const WeightMatrix gate_up = MakeWeight(t, 2 * s.n, s.k, 500 + s.n), w = MakeWeight(t, s.n, s.k, 700 + s.n);
    for (uint32_t m : kRows) {
      const std::string what = std::string(DTypeName(t)) + " M=" + std::to_string(m) + " K=" + std::to_string(s.k);
      const std::vector<float> xv = RandomVector(size_t(m) * s.k, 60 + m, -3.f, 3.f);
      const std::vector<float> uv = RandomVector(size_t(m) * s.k, 80 + m);
      const Tensor x = NewTensor(m, s.k), up = NewTensor(m, s.k), act = NewTensor(m, s.n), y = NewTensor(m, s.n);
      Upload(x, xv);
      Upload(up, uv);
      bool fused = false;
      Run([&](OpContext& ctx) { fused = MatVecGeluPairs(ctx, gate_up, x, act) && MatVecGeluMul(ctx, w, x, up, y); },
          family);
      ASSERT_TRUE(fused) << what;
      const auto act_alone = RowsAlone(xv, m, s.k, s.n, [&](OpContext& ctx, const Tensor& xr, const Tensor& yr) {
        ASSERT_TRUE(MatVecGeluPairs(ctx, gate_up, xr, yr));
      });
      ExpectSameBits(act_alone, Download(act), "gate/up " + what);
      std::vector<float> y_alone;
      for (uint32_t r = 0; r < m; ++r) {
        const Tensor xr = NewTensor(1, s.k), ur = NewTensor(1, s.k), yr = NewTensor(1, s.n);
        Upload(xr, std::span<const float>(xv).subspan(size_t(r) * s.k, s.k));
        Upload(ur, std::span<const float>(uv).subspan(size_t(r) * s.k, s.k));
        Run([&](OpContext& ctx) { ASSERT_TRUE(MatVecGeluMul(ctx, w, xr, ur, yr)); }, family);
        const std::vector<float> yv = Download(yr);
        y_alone.insert(y_alone.end(), yv.begin(), yv.end());
      }
      ExpectSameBits(y_alone, Download(y), "gelu-mul " + what);
    }
  }
}

// "<type>_<family>", the type without its underscore (q4_0 -> q40) so that one underscore
// separates the two.
std::string ParamName(const ::testing::TestParamInfo<std::tuple<DType, KernelFamily>>& info) {
  std::string name(DTypeName(std::get<0>(info.param)));
  name.erase(std::remove(name.begin(), name.end(), '_'), name.end());
  return name + (std::get<1>(info.param) == KernelFamily::kGpu ? "_gpu" : "_cpu");
}

INSTANTIATE_TEST_SUITE_P(All, BatchedDecodeTest,
                         ::testing::Combine(::testing::ValuesIn(kAllTypes),
                                            ::testing::Values(KernelFamily::kGpu, KernelFamily::kCpu)),
                         ParamName);
INSTANTIATE_TEST_SUITE_P(All, BatchedFusedGeluTest,
                         ::testing::Combine(::testing::ValuesIn(kAllTypes), ::testing::Values(KernelFamily::kGpu)),
                         ParamName);

}  // namespace
}  // namespace vkg::test
