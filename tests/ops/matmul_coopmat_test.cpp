// The matrix-unit prefill product (shaders/matmul_coopmat.comp) against ref::MatMul: the kernel on
// emulated fragments on any device (lavapipe has no VK_KHR_cooperative_matrix), for every weight
// type it takes, the unit shapes devices report, every tile its plan may pick, awkward M/N/K,
// chunked weights and the fused soft-cap; the real matrix-unit variants where the device has them
// (reported as not run, with the reason, elsewhere); and the path selection.
#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "host/device/weight_matrix.h"
#include "host/formats/dtype.h"
#include "host/ops/matmul.h"
#include "host/ops/matmul_coopmat.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"
#include "vk/check.h"

namespace vkg::test {
namespace {

using PK = MatMulOverrides::PrefillKernel;

// NMSE against a reference fed what the kernel multiplies: x rounded to f16, and the weights as
// the device holds them (DeviceRowValues: q * d exact in f32), rounded to f16 as the kernel
// dequantizes them into shared memory (both round to nearest even). f16 x f16 products are exact in
// f32, so what remains is the f32 accumulation order, NMSE ~1e-14..1e-12 at K <= 1536, as for the
// other product kernels (matmul_test.cpp): 1e-10 catches any real defect (a lost block, a wrong
// scale or fragment: NMSE >= 1e-4).
constexpr double kEmulatedNmse = 1e-10;
// The matrix units: their f32 sums may truncate rather than round (NVIDIA tensor cores do, per
// Fasi et al., "Numerical behavior of NVIDIA tensor cores", 2021), a few ulps per sum: ten times
// the emulated bound.
constexpr double kUnitsNmse = 1e-9;
// Against the plain f32 reference (x and weights not rounded to f16): docs/verification.md's bound for f16
// arithmetic; f16 rounding of both inputs gives NMSE ~1e-7 here.
constexpr double kF16InputsNmse = 5e-4;

// K-quants too: their decoded values (exact f32, as the reference's) are rounded to f16 like the
// others', so the same bounds hold.
const std::vector<DType> kCoopMatTypes = AllWeightFormats(/*with_f32=*/false);

struct Case {
  uint32_t m, n, k;
};

struct Unit {
  uint32_t m, n, k;
};

class CoopMatTest : public GpuTest {
 protected:
  struct Result {
    std::vector<float> got, ref_f16, ref_plain;
  };
  // Uploads a random [n][k] weight, runs MatMul with `options` on an [m][k] x, and returns the
  // result with both references.
  Result Run(DType t, Case c, const MatMulOptions& options, uint64_t max_chunk_bytes = 0, size_t* chunks = nullptr,
             float x_range = 1.f) {
    const std::vector<float> w = RandomVector(size_t(c.n) * c.k, 3000 + c.n * 3 + c.k);
    std::vector<float> w_dev(w.size()), w_f16(w.size());
    for (uint32_t r = 0; r < c.n; ++r) {
      const std::vector<float> d = DeviceRowValues(t, &w[size_t(r) * c.k], c.k);
      for (uint32_t i = 0; i < c.k; ++i) {
        w_dev[size_t(r) * c.k + i] = d[i];
        w_f16[size_t(r) * c.k + i] = RoundTripHalf(d[i]);
      }
    }
    const WeightMatrix wm = UploadWeightMatrix(
        gpu().device(), alloc(), gpu().transfer(), t, c.n, c.k,
        [&](uint32_t r, float* out) { std::copy_n(&w[size_t(r) * c.k], c.k, out); },
        "w_coopmat_" + std::string(DTypeName(t)), max_chunk_bytes);
    if (chunks) *chunks = wm.chunks.size();
    const std::vector<float> xv = RandomVector(size_t(c.m) * c.k, 55 + c.m, -x_range, x_range);
    std::vector<float> x_f16(xv.size());
    for (size_t i = 0; i < xv.size(); ++i) x_f16[i] = RoundTripHalf(xv[i]);
    const Tensor x = NewTensor(c.m, c.k), y = NewTensor(c.m, c.n);
    Upload(x, xv);
    GpuTest::Run([&](OpContext& ctx) { MatMul(ctx, wm, x, y, options); });
    Result res;
    res.got = Download(y);
    res.ref_f16.resize(size_t(c.m) * c.n);
    res.ref_plain.resize(size_t(c.m) * c.n);
    ref::MatMul(w_f16.data(), x_f16.data(), res.ref_f16.data(), int(c.m), int(c.n), int(c.k));
    ref::MatMul(w_dev.data(), xv.data(), res.ref_plain.data(), int(c.m), int(c.n), int(c.k));
    if (options.softcap > 0) {
      ref::Softcap(res.ref_f16.data(), res.ref_f16.size(), options.softcap);
      ref::Softcap(res.ref_plain.data(), res.ref_plain.size(), options.softcap);
    }
    return res;
  }

  void Check(DType t, Case c, const MatMulOptions& options, double nmse, const std::string& what,
             uint64_t max_chunk_bytes = 0, size_t* chunks = nullptr) {
    const Result r = Run(t, c, options, max_chunk_bytes, chunks);
    const std::string name = std::string(DTypeName(t)) + " " + what + " M=" + std::to_string(c.m) +
                             " N=" + std::to_string(c.n) + " K=" + std::to_string(c.k);
    ExpectClose(r.ref_f16, r.got, nmse, name.c_str());
    ExpectClose(r.ref_plain, r.got, kF16InputsNmse, (name + " (unrounded reference)").c_str());
    std::printf("  %s: NMSE %.3g (f16-rounded reference), %.3g (unrounded)\n", name.c_str(),
                Compare(r.ref_f16, r.got).nmse, Compare(r.ref_plain, r.got).nmse);
  }
};

// M = 2, 17, 70: inside one token tile, across the 16-token fragment, across 64-token tiles;
// N = 27, 130, 300: rows not a multiple of any fragment or tile; K = 45, 100: partial blocks and
// quads; K = 64, 300, 512: one and several 64-K steps (300: a last step past the padded row).
const Case kCases[] = {Case{2, 27, 45}, Case{17, 130, 100}, Case{70, 300, 64}, Case{33, 64, 300}, Case{16, 16, 512}};

// ---- emulated fragments: every weight type x unit shape, with the planned tile ----

class CoopMatEmulatedUnits : public CoopMatTest, public ::testing::WithParamInterface<std::tuple<DType, Unit>> {};

TEST_P(CoopMatEmulatedUnits, MatchesReference) {
  const auto [t, u] = GetParam();
  for (const Case c : kCases)
    Check(t, c,
          {.force = {.prefill_kernel = PK::kCoopMatEmulated, .coopmat_m = u.m, .coopmat_n = u.n, .coopmat_k = u.k}},
          kEmulatedNmse, "emulated " + std::to_string(u.m) + "x" + std::to_string(u.n) + "x" + std::to_string(u.k));
}

// 16x16x16 (what every vendor with f16 units lists) for every weight type; the unit shape does not
// touch the weight decoding, so the other shapes run on q4_0: 16x8x16 and 8x16x16, rectangular
// units (the spec constants must not mix FM and FN up); 8x8x32 and 16x16x8, K per unit other than 16.
std::string UnitName(const ::testing::TestParamInfo<std::tuple<DType, Unit>>& info) {
  const Unit u = std::get<1>(info.param);
  return std::string(DTypeName(std::get<0>(info.param))) + "_" + std::to_string(u.m) + "x" + std::to_string(u.n) + "x" +
         std::to_string(u.k);
}
INSTANTIATE_TEST_SUITE_P(Types, CoopMatEmulatedUnits,
                         ::testing::Combine(::testing::ValuesIn(kCoopMatTypes), ::testing::Values(Unit{16, 16, 16})),
                         UnitName);
INSTANTIATE_TEST_SUITE_P(Shapes, CoopMatEmulatedUnits,
                         ::testing::Combine(::testing::Values(DType::Q4_0),
                                            ::testing::Values(Unit{16, 8, 16}, Unit{8, 16, 16}, Unit{8, 8, 32},
                                                              Unit{16, 16, 8})),
                         UnitName);

// ---- emulated fragments: every tile the plan may pick (fragments per subgroup) ----

class CoopMatEmulatedTiles : public CoopMatTest, public ::testing::WithParamInterface<DType> {};

// In lavapipe's 32 KiB of shared memory the 2x4 and 2x2 tiles take 32-K steps, 1x2 and 1x1 64-K
// ones (two buffers of each tile), so every format runs both steps at K = 64 and 100. The tile shape
// does not touch the weight decoding (as the unit shape, above): every tile runs on q4_0 and f16
// (the two store patterns below), the other formats run one tile of each step, 2x2 and 1x2.
TEST_P(CoopMatEmulatedTiles, MatchesReference) {
  const DType t = GetParam();
  const bool every_tile = t == DType::Q4_0 || t == DType::F16;
  for (const auto& [fm, fn] : {std::pair{2u, 4u}, {2u, 2u}, {1u, 2u}, {1u, 1u}}) {
    if (!every_tile && fn != 2) continue;  // 2x2 (32-K steps) and 1x2 (64-K) stay
    for (const Case c : {Case{70, 300, 100}, Case{9, 131, 64}})
      Check(t, c, {.force = {.prefill_kernel = PK::kCoopMatEmulated, .coopmat_frag_m = fm, .coopmat_frag_n = fn}},
            kEmulatedNmse, "emulated frags " + std::to_string(fm) + "x" + std::to_string(fn));
  }
  // The pipeline's edges (two shared buffers, step s + 1 fetched while step s multiplies) at both
  // steps, forced, on the 2x2 (32-K) and 1x2 (64-K) pipelines built above, with M and N tails (65
  // tokens: past the 64- and 32-token tiles; 131 rows: past 64): a single step (K = 32 at 32; 20 at
  // 64, partly past K), an odd count whose last step reads buffer 0 again (96 at 32; 200 at 64: 4
  // steps, the last with 8 real values), two (128 at 64), a last step partly past K (100 at 32).
  // Two store patterns: one texel a row and step (q4_0, as the block formats) and four (f16, as x).
  if (t != DType::Q4_0 && t != DType::F16) return;
  for (const auto& [step, k] : {std::pair{32u, 32u}, {32u, 96u}, {32u, 100u}, {64u, 20u}, {64u, 128u}, {64u, 200u}})
    Check(t, Case{65, 131, k},
          {.force = {.prefill_kernel = PK::kCoopMatEmulated,
                     .coopmat_frag_m = step == 32 ? 2u : 1u,
                     .coopmat_frag_n = 2,
                     .coopmat_step_k = step}},
          kEmulatedNmse, "emulated pipeline step " + std::to_string(step));
}

TEST_P(CoopMatEmulatedTiles, ChunkedWeightAndSoftcap) {
  const DType t = GetParam();
  size_t chunks = 0;
  // 300 rows in chunks of at most 4 KiB of weight data: several dispatches, each its own columns.
  Check(t, Case{37, 300, 96}, {.force = {.prefill_kernel = PK::kCoopMatEmulated}}, kEmulatedNmse, "emulated chunked",
        4096, &chunks);
  EXPECT_GT(chunks, 1u);
  // Logits well past the cap (x in [-8, 8)).
  const Result r =
      Run(t, Case{9, 300, 64}, {.softcap = 30.f, .force = {.prefill_kernel = PK::kCoopMatEmulated}}, 0, nullptr, 8.f);
  ExpectClose(r.ref_f16, r.got, kEmulatedNmse, "emulated + softcap");
}

INSTANTIATE_TEST_SUITE_P(All, CoopMatEmulatedTiles, ::testing::ValuesIn(kCoopMatTypes),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

// ---- the real matrix units, where the device has them ----

class CoopMatUnits : public CoopMatTest, public ::testing::WithParamInterface<DType> {};

TEST_P(CoopMatUnits, MatchesReference) {
  const vk::DeviceCaps& caps = gpu().device().caps();
  if (!CoopMatKernelsCompiled())
    GTEST_SKIP() << "not run: this build's glslangValidator cannot compile GL_KHR_cooperative_matrix "
                    "(tools/glslang.sh builds one that can)";
  if (!caps.HasCoopMatF16())
    GTEST_SKIP() << "not run: device '" << caps.name << "' has no VK_KHR_cooperative_matrix with an f16 x f16 -> "
                 << "f32 subgroup shape (and shaderFloat16 + vulkanMemoryModel)";
  const DType t = GetParam();
  const std::string unit = caps.coopmat_f16.ToString();
  for (const Case c : kCases) Check(t, c, {.force = {.prefill_kernel = PK::kCoopMat}}, kUnitsNmse, "units " + unit);
  for (const auto& [fm, fn] : {std::pair{2u, 4u}, {1u, 1u}})
    Check(t, Case{70, 300, 100},
          {.force = {.prefill_kernel = PK::kCoopMat, .coopmat_frag_m = fm, .coopmat_frag_n = fn}}, kUnitsNmse,
          "units frags " + std::to_string(fm) + "x" + std::to_string(fn));
  const Result r =
      Run(t, Case{9, 300, 64}, {.softcap = 30.f, .force = {.prefill_kernel = PK::kCoopMat}}, 0, nullptr, 8.f);
  ExpectClose(r.ref_f16, r.got, kUnitsNmse, "units + softcap");
}

INSTANTIATE_TEST_SUITE_P(All, CoopMatUnits, ::testing::ValuesIn(kCoopMatTypes),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

// ---- which path a context takes ----

TEST_F(CoopMatTest, PathFollowsFamilyFeaturesAndDevice) {
  const bool units = CoopMatKernelsCompiled() && gpu().device().caps().HasCoopMatF16();
  GpuTest::Run([&](OpContext& ctx) {
    ctx.kernels = KernelFamily::kGpu;
    EXPECT_EQ(CoopMatPrefillPath(ctx), units ? CoopMatPath::kMatrixUnits : CoopMatPath::kNone);
    ctx.features.emulate_cooperative_matrix = true;
    EXPECT_EQ(CoopMatPrefillPath(ctx), CoopMatPath::kEmulated);
    ctx.features.cooperative_matrix = FeatureUse::kOff;  // off wins over the tests' emulation
    EXPECT_EQ(CoopMatPrefillPath(ctx), CoopMatPath::kNone);
    ctx.features.cooperative_matrix = FeatureUse::kForce;
    ctx.kernels = KernelFamily::kCpu;  // the CPU family keeps matmul.comp
    EXPECT_EQ(CoopMatPrefillPath(ctx), CoopMatPath::kNone);
  });
}

// f32 weights keep the tiled kernel: kAuto with emulation on records that kernel (results match
// the exact reference), and forcing the coopmat kernel on them is an error.
TEST_F(CoopMatTest, F32WeightsStayOnTheTiledKernel) {
  const std::vector<float> w = RandomVector(64 * 64, 9);
  const WeightMatrix wm = UploadWeightMatrix(
      gpu().device(), alloc(), gpu().transfer(), DType::F32, 64, 64,
      [&](uint32_t r, float* out) { std::copy_n(&w[size_t(r) * 64], 64, out); }, "w_f32");
  const std::vector<float> xv = RandomVector(8 * 64, 10);
  const Tensor x = NewTensor(8, 64), y = NewTensor(8, 64);
  Upload(x, xv);
  GpuTest::Run([&](OpContext& ctx) {
    ctx.kernels = KernelFamily::kGpu;
    ctx.features.emulate_cooperative_matrix = true;
    MatMul(ctx, wm, x, y);
  });
  std::vector<float> ref(8 * 64);
  ref::MatMul(w.data(), xv.data(), ref.data(), 8, 64, 64);
  ExpectClose(ref, Download(y), 1e-10, "f32 weights, emulation on");
  try {
    GpuTest::Run([&](OpContext& ctx) { MatMul(ctx, wm, x, y, {.force = {.prefill_kernel = PK::kCoopMatEmulated}}); });
    FAIL() << "expected an error for f32 weights";
  } catch (const vk::Error& e) {
    EXPECT_NE(std::string(e.what()).find("f32"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vkg::test
