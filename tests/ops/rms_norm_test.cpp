// RMSNorm on the device against ref::RmsNorm: rows and per-head slices, with and without weight;
// every case in both kernel families (CPU: rms_norm.comp / residual_norm.comp; GPU: the row-in-
// registers kernels, vec4 where the row is a multiple of 4 floats, floats otherwise, and the
// CPU kernel again for rows too long for the registers).
#include "host/ops/rms_norm.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

// f32 reduction of up to 70000 squares in a different order than the double reference:
// relative error ~1e-7 per value, so NMSE ~1e-13; 1e-10 leaves margin and still catches any bug.
constexpr double kNmse = 1e-10;

struct Case {
  uint32_t rows, dim;
  bool weight;
};

constexpr KernelFamily kFamilies[] = {KernelFamily::kCpu, KernelFamily::kGpu};
const char* FamilyName(KernelFamily f) { return f == KernelFamily::kGpu ? "gpu kernels" : "cpu kernels"; }

class RmsNormTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(RmsNormTest, MatchesReference) {
  const Case c = GetParam();
  const auto x = RandomVector(size_t(c.rows) * c.dim, 1 + c.rows, -3.f, 3.f);
  const auto w = RandomVector(c.dim, 2 + c.dim, 0.f, 2.f);
  std::vector<float> ref(x.size());
  ref::RmsNorm(x.data(), c.weight ? w.data() : nullptr, ref.data(), int(c.rows), int(c.dim), 1e-6f);

  const Tensor tx = NewTensor(c.rows, c.dim), ty = NewTensor(c.rows, c.dim);
  Tensor tw;
  Upload(tx, x);
  if (c.weight) {
    tw = NewTensor(1, c.dim);
    Upload(tw, w);
  }
  for (KernelFamily f : kFamilies) {
    Upload(ty, std::vector<float>(ref.size(), -7.f));
    Run([&](OpContext& ctx) { RmsNorm(ctx, tx, tw, ty, 1e-6f); }, f);
    ExpectClose(ref, Download(ty), kNmse, FamilyName(f));
  }
}

TEST_F(RmsNormTest, InPlacePerHeadSlices) {
  // q_norm over [tokens * heads][head_dim], writing into x itself, as the forward pass does.
  const uint32_t tokens = 5, heads = 8, head_dim = 256;
  const auto x = RandomVector(size_t(tokens) * heads * head_dim, 7, -2.f, 2.f);
  const auto w = RandomVector(head_dim, 8, 0.f, 2.f);
  std::vector<float> ref(x.size());
  ref::RmsNorm(x.data(), w.data(), ref.data(), int(tokens * heads), int(head_dim), 1e-6f);
  const Tensor tx = NewTensor(tokens, heads * head_dim), tw = NewTensor(1, head_dim);
  Upload(tw, w);
  const Tensor per_head{tx.slice, DType::F32, tokens * heads, head_dim};
  for (KernelFamily f : kFamilies) {
    Upload(tx, x);
    Run([&](OpContext& ctx) { RmsNorm(ctx, per_head, tw, per_head, 1e-6f); }, f);
    ExpectClose(ref, Download(tx), kNmse, FamilyName(f));
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, RmsNormTest,
                         ::testing::Values(Case{1, 1536, true},     // decode, E2B hidden: 256 x 2 vec4
                                           Case{64, 2560, true},    // prefill, E4B hidden
                                           Case{23, 27, true},      // awkward: floats, 32 lanes
                                           Case{3, 512, false},     // weightless (v_norm)
                                           Case{1, 5376, false},    // router norm, 31B width: 256 x 6 vec4
                                           Case{1, 5376, true},     // 31B final norm
                                           Case{35, 256, true},     // E2B per-layer-input slices: 64 x 1 vec4
                                           Case{7, 1534, true},     // not a multiple of 4: 256 x 6 floats
                                           Case{2, 1100, true},     // vec4 with a partial last pass (275 of 512)
                                           Case{2, 20000, true}));  // beyond the registers: CPU kernel

// ---- ResidualRmsNorm: RmsNorm(y) + AddScaled + RmsNorm(x) fused ----

struct ResidualCase {
  uint32_t rows, dim;
  float scale;
  bool next;
};

class ResidualRmsNormTest : public GpuTest, public ::testing::WithParamInterface<ResidualCase> {};

TEST_P(ResidualRmsNormTest, MatchesNormAddNorm) {
  const ResidualCase c = GetParam();
  const size_t n = size_t(c.rows) * c.dim;
  std::vector<float> x = RandomVector(n, 11 + c.dim, -3.f, 3.f);
  std::vector<float> y = RandomVector(n, 12 + c.rows, -5.f, 5.f);
  const auto w_out = RandomVector(c.dim, 13, 0.f, 2.f), w_next = RandomVector(c.dim, 14, 0.f, 2.f);
  const Tensor tx = NewTensor(c.rows, c.dim), ty = NewTensor(c.rows, c.dim), ta = NewTensor(c.rows, c.dim);
  const Tensor two = NewTensor(1, c.dim), twn = NewTensor(1, c.dim);
  Upload(tx, x);
  Upload(ty, y);
  Upload(two, w_out);
  Upload(twn, w_next);
  const std::vector<float> a_before = RandomVector(n, 15);
  const std::vector<float> x_in = x, y_in = y;
  ref::RmsNorm(y.data(), w_out.data(), y.data(), int(c.rows), int(c.dim), 1e-6f);
  ref::AddScaled(x.data(), y.data(), x.data(), n, c.scale);
  std::vector<float> a(n);
  ref::RmsNorm(x.data(), w_next.data(), a.data(), int(c.rows), int(c.dim), 1e-6f);
  for (KernelFamily f : kFamilies) {
    SCOPED_TRACE(FamilyName(f));
    Upload(tx, x_in);
    Upload(ty, y_in);
    Upload(ta, a_before);
    Run([&](OpContext& ctx) { ResidualRmsNorm(ctx, tx, ty, two, c.scale, c.next ? twn : Tensor{}, ta, 1e-6f); }, f);
    ExpectClose(x, Download(tx), kNmse, "residual x");
    EXPECT_EQ(Download(ty), y_in) << "y is read only";
    if (c.next) {
      ExpectClose(a, Download(ta), kNmse, "next norm a");
    } else {
      EXPECT_EQ(Download(ta), a_before) << "a is not written without a next norm";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, ResidualRmsNormTest,
                         ::testing::Values(ResidualCase{1, 1536, 1.f, true},    // decode, E2B
                                           ResidualCase{1, 5376, 0.73f, true},  // 31B width, layer scalar
                                           ResidualCase{17, 2560, 1.f, true},   // prefill, E4B
                                           ResidualCase{5, 100, 0.5f, false},   // awkward, no next norm
                                           ResidualCase{2, 1536, 1.f, false},
                                           ResidualCase{3, 1538, 0.9f, true},    // not a multiple of 4: floats
                                           ResidualCase{1, 4100, 1.f, true},     // 256 x 5 vec4, last pass partial
                                           ResidualCase{1, 70000, 1.f, true}));  // beyond the registers: CPU kernel

}  // namespace
}  // namespace vkg::test
