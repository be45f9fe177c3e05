// Gated GELU, soft-cap and residual add/scale on the device against the reference.
#include <cmath>

#include "host/ops/elementwise.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

// Elementwise f32 with exp/tanh: a few ulp per value; NMSE 1e-12 (docs/verification.md suggests 1e-10 for f32
// elementwise; these ops reach ~1e-14, so the tighter bound still leaves margin).
constexpr double kNmse = 1e-12;

class ElementwiseTest : public GpuTest, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(ElementwiseTest, GeluMul) {
  const uint32_t n = GetParam();
  const auto gate = RandomVector(n, 1, -8.f, 8.f), up = RandomVector(n, 2, -2.f, 2.f);
  std::vector<float> ref(n);
  ref::GeluMul(gate.data(), up.data(), ref.data(), n);
  const Tensor tg = NewTensor(1, n), tu = NewTensor(1, n), to = NewTensor(1, n);
  Upload(tg, gate);
  Upload(tu, up);
  // Both kernel families: one output per invocation (CPU), 4 per invocation with vec4 loads
  // where n is a multiple of 4 (GPU; floats otherwise).
  for (KernelFamily f : {KernelFamily::kCpu, KernelFamily::kGpu}) {
    Upload(to, std::vector<float>(n, -7.f));
    Run([&](OpContext& ctx) { GeluMul(ctx, tg, tu, to); }, f);
    ExpectClose(ref, Download(to), kNmse, f == KernelFamily::kGpu ? "GeluMul, gpu kernels" : "GeluMul, cpu kernels");
  }
}

TEST_P(ElementwiseTest, GeluMulPairsOfAFusedProduct) {
  // Rows [gate | up] of one stacked gate/up product: 3 rows of n outputs each.
  const uint32_t n = GetParam(), rows = 3;
  const auto gu = RandomVector(size_t(rows) * 2 * n, 6, -8.f, 8.f);
  std::vector<float> ref(size_t(rows) * n);
  for (uint32_t t = 0; t < rows; ++t)
    ref::GeluMul(&gu[size_t(t) * 2 * n], &gu[size_t(t) * 2 * n + n], &ref[size_t(t) * n], n);
  const Tensor tgu = NewTensor(rows, 2 * n), to = NewTensor(rows, n);
  Upload(tgu, gu);
  for (KernelFamily f : {KernelFamily::kCpu, KernelFamily::kGpu}) {
    Upload(to, std::vector<float>(ref.size(), -7.f));
    Run([&](OpContext& ctx) { GeluMulPairs(ctx, tgu, to); }, f);
    ExpectClose(ref, Download(to), kNmse,
                f == KernelFamily::kGpu ? "GeluMulPairs, gpu kernels" : "GeluMulPairs, cpu kernels");
  }
}

TEST_P(ElementwiseTest, Softcap) {
  const uint32_t n = GetParam();
  auto x = RandomVector(n, 3, -200.f, 200.f);  // well past the cap, and near zero
  x[0] = 1e-5f;
  const Tensor t = NewTensor(1, n);
  Upload(t, x);
  ref::Softcap(x.data(), n, 30.f);
  Run([&](OpContext& ctx) { Softcap(ctx, t, 30.f); });
  const auto got = Download(t);
  ExpectClose(x, got, kNmse, "Softcap");
  for (float v : got) ASSERT_LE(std::fabs(v), 30.f);
}

TEST_P(ElementwiseTest, AddScaledAndScaleOnly) {
  const uint32_t n = GetParam();
  const auto a = RandomVector(n, 4), b = RandomVector(n, 5);
  std::vector<float> sum(n), scaled(n);
  ref::AddScaled(a.data(), b.data(), sum.data(), n, 0.75f);
  ref::AddScaled(a.data(), nullptr, scaled.data(), n, -1.5f);
  const Tensor ta = NewTensor(1, n), tb = NewTensor(1, n), tc = NewTensor(1, n);
  Upload(ta, a);
  Upload(tb, b);
  Run([&](OpContext& ctx) {
    AddScaled(ctx, ta, tb, tc, 0.75f);
    ctx.rec.ComputeToCompute();               // the second dispatch overwrites what the first reads
    AddScaled(ctx, ta, Tensor{}, ta, -1.5f);  // in place, as layer_scalar is applied
  });
  ExpectClose(sum, Download(tc), 1e-14, "AddScaled");  // one add and one multiply: exact-ish
  ExpectClose(scaled, Download(ta), 0.0, "Scale");     // a single multiply is exact in both
}

INSTANTIATE_TEST_SUITE_P(Sizes, ElementwiseTest, ::testing::Values(1u, 27u, 6144u, 12288u * 8));

}  // namespace
}  // namespace vkg::test
