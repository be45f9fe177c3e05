// Per-layer-input combine on the device against the reference loops of ref::Model::PerLayerInputs:
// PleCombine (both kernel families) and the fused PleNormCombine (norm of each layer's slice, then
// the combine), token-major inputs into layer-major rows.
#include <cmath>

#include "host/ops/ple.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

// One add and one multiply per value after a norm whose f32 reduction of P squares runs in
// another order than the double reference: relative error ~1e-7, NMSE ~1e-14; 1e-10 (as the
// norms' tests) leaves margin and still catches any misplaced row.
constexpr double kNmse = 1e-10;

struct Case {
  uint32_t T, L, P, ple_rows;
};

class PleTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(PleTest, CombineAndNormCombine) {
  const Case c = GetParam();
  const size_t n = size_t(c.T) * c.L * c.P;
  const auto ctx = RandomVector(n, 21 + c.P, -4.f, 4.f), tok = RandomVector(n, 22 + c.L, -1.f, 1.f);
  const auto w = RandomVector(c.P, 23, 0.f, 2.f);
  const float scale = float(1.0 / std::sqrt(2.0)), eps = 1e-6f;
  // ple[l * ple_rows + t] = (ctx[t][l] (normed) + tok[t][l]) * scale; rows t >= T untouched.
  std::vector<float> normed(n);
  ref::RmsNorm(ctx.data(), w.data(), normed.data(), int(c.T * c.L), int(c.P), eps);
  auto combine = [&](const std::vector<float>& src, std::vector<float>& out) {
    for (uint32_t l = 0; l < c.L; ++l)
      for (uint32_t t = 0; t < c.T; ++t)
        for (uint32_t i = 0; i < c.P; ++i) {
          const size_t s = (size_t(t) * c.L + l) * c.P + i;
          out[(size_t(l) * c.ple_rows + t) * c.P + i] = (src[s] + tok[s]) * scale;
        }
  };
  const std::vector<float> before = RandomVector(size_t(c.L) * c.ple_rows * c.P, 24);
  std::vector<float> ref_plain = before, ref_normed = before;
  combine(ctx, ref_plain);
  combine(normed, ref_normed);

  const Tensor tctx = NewTensor(c.T, c.L * c.P), ttok = NewTensor(c.T, c.L * c.P), tw = NewTensor(1, c.P);
  const Tensor tple = NewTensor(c.L * c.ple_rows, c.P);
  Upload(tctx, ctx);
  Upload(ttok, tok);
  Upload(tw, w);
  for (KernelFamily f : {KernelFamily::kCpu, KernelFamily::kGpu}) {
    SCOPED_TRACE(f == KernelFamily::kGpu ? "gpu kernels" : "cpu kernels");
    Upload(tple, before);
    const PleCombineShape shape{.n_tokens = c.T, .n_layers = c.L, .ple_rows = c.ple_rows, .scale = scale};
    Run([&](OpContext& o) { PleCombine(o, tctx, ttok, tple, shape); }, f);
    ExpectClose(ref_plain, Download(tple), kNmse, "PleCombine");
    Upload(tple, before);
    Run([&](OpContext& o) { PleNormCombine(o, tctx, tw, ttok, tple, shape, eps); }, f);
    ExpectClose(ref_normed, Download(tple), kNmse, "PleNormCombine");
    EXPECT_EQ(Download(tctx), ctx) << "ctx is read only";
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, PleTest,
                         ::testing::Values(Case{1, 35, 256, 1},    // E2B decode: 35 workgroups of 64 x 1 vec4
                                           Case{1, 42, 256, 8},    // E4B, rows beyond T left alone
                                           Case{17, 35, 256, 64},  // E2B prefill chunk
                                           Case{5, 3, 36, 5},      // 9 vec4 per slice: 32 lanes, most idle
                                           Case{2, 4, 30, 3}));    // not a multiple of 4: floats

}  // namespace
}  // namespace vkg::test
