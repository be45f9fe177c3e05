// MatMul op on the device against ref::MatMul: every weight dtype, decode (matvec) and prefill
// (matmul) shapes, awkward N/K/M, the chunk-split path, and a matrix over the 128 MiB SSBO range.
#include <cmath>
#include <cstdio>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include "host/device/weight_matrix.h"
#include "host/formats/dtype.h"
#include "host/ops/matmul.h"
#include "host/reference/ref_ops.h"
#include "tests/sweep.h"
#include "tests/test_util.h"
#include "vk/check.h"

namespace vkg::test {
namespace {

// NMSE thresholds. Both sides multiply the same numbers: the reference is fed the rounded or
// dequantized weights the device holds (DeviceRowValues; q*d is exact in f32) and the same f32 x,
// and accumulates in double. What remains is the device's f32 accumulation-order error: relative
// error per output about eps32 * sqrt(K) * (sum|w x| / |sum w x|), i.e. NMSE ~ 1e-14..1e-12 for
// K <= 2048 and random inputs, the same for every dtype (the decoded weights are exact f32 values
// in all of them). 1e-10 leaves about two orders of magnitude of margin while still catching any
// real bug (a wrong scale, a lost block or a skipped column gives NMSE >= 1e-4).
// Every format: f32 / f16 / bf16 -> f32 are exact; q8_0 / q4_0: q (int) * d (f16) is exact in f32,
// sum(q x) * d adds one rounding. The ggml block formats: each decoded value (scale * code + bias)
// is the reference's exact f32 value; the kernels sum scale * sum(q x) + bias * sum(x) per 32-value
// texel, q4_0's offset fold, whose cancellation costs about one order of magnitude at most
// (measured 1e-14..1e-12 here); Q6_K / Q3_K have no bias (code * int8 scale exact, times d: one
// rounding); Q2_K's texels carry two mins, so its kernels take the decoded values themselves (bias
// 0): the reference's values exactly, only the summation order differs.
double NmseThreshold(DType) { return 1e-10; }

const std::vector<DType> kAllTypes = AllWeightFormats();

struct Case {
  uint32_t m, n, k;
};

// The geometry sweeps below (label "long") compile a pipeline per type x geometry. CI runs a
// sample that still covers every type and every geometry (type i with geometry g where
// (i + g) % 3 == 0: each type on one or two geometries, each geometry on four or five types);
// VKG_SWEEP=full runs all of them.
size_t TypeIndex(DType t) {
  size_t i = 0;
  while (kAllTypes[i] != t) ++i;
  return i;
}

bool GeometryInSample(DType t, size_t geometry) { return FullSweep() || (TypeIndex(t) + geometry) % 3 == 0; }

class MatMulTest : public GpuTest {
 protected:
  // Uploads a random [n][k] matrix and returns it with the values the device holds, row-major.
  WeightMatrix MakeWeight(DType t, uint32_t n, uint32_t k, uint32_t seed, std::vector<float>& rounded,
                          uint64_t max_chunk_bytes = 0) {
    const std::vector<float> w = RandomVector(size_t(n) * k, seed);
    rounded.resize(w.size());
    for (uint32_t r = 0; r < n; ++r) {
      const std::vector<float> d = DeviceRowValues(t, &w[size_t(r) * k], k);
      std::copy(d.begin(), d.begin() + k, rounded.begin() + size_t(r) * k);
    }
    return UploadWeightMatrix(
        gpu().device(), alloc(), gpu().transfer(), t, n, k,
        [&](uint32_t r, float* out) { std::copy_n(&w[size_t(r) * k], k, out); },
        std::string("w_") + std::string(DTypeName(t)), max_chunk_bytes);
  }

  // Runs MatMul and compares with the reference; returns the NMSE.
  double Check(DType t, Case c, uint64_t max_chunk_bytes = 0, size_t* chunks = nullptr, uint32_t prefill_rows = 0,
               MatMulOverrides::DecodeKernel decode_kernel = MatMulOverrides::DecodeKernel::kAuto,
               MatMulOverrides::PrefillKernel prefill_kernel = MatMulOverrides::PrefillKernel::kAuto) {
    std::vector<float> wr;
    const WeightMatrix w = MakeWeight(t, c.n, c.k, 1000 + c.n * 7 + c.k, wr, max_chunk_bytes);
    if (chunks) *chunks = w.chunks.size();
    const std::vector<float> xv = RandomVector(size_t(c.m) * c.k, 77 + c.m);
    const Tensor x = NewTensor(c.m, c.k), y = NewTensor(c.m, c.n);
    Upload(x, xv);
    Run([&](OpContext& ctx) {
      MatMul(
          ctx, w, x, y,
          {.force = {.prefill_rows = prefill_rows, .decode_kernel = decode_kernel, .prefill_kernel = prefill_kernel}});
    });
    const std::vector<float> got = Download(y);
    std::vector<float> ref(size_t(c.m) * c.n);
    ref::MatMul(wr.data(), xv.data(), ref.data(), int(c.m), int(c.n), int(c.k));
    const std::string what = std::string(DTypeName(t)) + " M=" + std::to_string(c.m) + " N=" + std::to_string(c.n) +
                             " K=" + std::to_string(c.k);
    ExpectClose(ref, got, NmseThreshold(t), what.c_str());
    return Compare(ref, got).nmse;
  }
};

// ---- every dtype x decode / prefill x awkward shapes ----

class MatMulShapes : public MatMulTest, public ::testing::WithParamInterface<std::tuple<DType, Case>> {};

// The shapes, decode (M = 1) first. Each compiles its own pipelines on lavapipe (the blocking
// follows N and M), 5-50 s each, so CI runs a sample (label "long"): every type on one decode
// and one prefill shape, rotating with the type so that each decode shape runs on four or five
// types and each prefill shape on two or three; VKG_SWEEP=full runs all 104.
const Case kShapes[] = {{1, 27, 45},  {1, 100, 100}, {1, 64, 256},  {8, 27, 45},
                        {8, 64, 256}, {23, 27, 100}, {23, 100, 45}, {3, 33, 64}};
constexpr size_t kDecodeShapes = 3, kPrefillShapes = std::size(kShapes) - kDecodeShapes;

bool ShapeInSample(DType t, const Case& c) {
  const size_t i = TypeIndex(t);
  const Case& decode = kShapes[i % kDecodeShapes];
  const Case& prefill = kShapes[kDecodeShapes + i % kPrefillShapes];
  auto same = [&](const Case& a) { return a.m == c.m && a.n == c.n && a.k == c.k; };
  return same(decode) || same(prefill);
}

TEST_P(MatMulShapes, MatchesReference) {
  const auto [t, c] = GetParam();
  VKG_SWEEP_SAMPLE(ShapeInSample(t, c));
  const double nmse = Check(t, c);
  RecordProperty("nmse", std::to_string(nmse));
  std::printf("  %s M=%u N=%u K=%u: NMSE %.3g\n", std::string(DTypeName(t)).c_str(), c.m, c.n, c.k, nmse);
}

std::string ShapeName(const ::testing::TestParamInfo<std::tuple<DType, Case>>& info) {
  const Case c = std::get<1>(info.param);
  return std::string(DTypeName(std::get<0>(info.param))) + "_M" + std::to_string(c.m) + "_N" + std::to_string(c.n) +
         "_K" + std::to_string(c.k);
}

// K = 45 and 100 are not multiples of 32 (padded rows, X must not be read past K); N = 27 and
// 100 are not multiples of any block; M = 23 is not a multiple of the 8-token block.
INSTANTIATE_TEST_SUITE_P(All, MatMulShapes,
                         ::testing::Combine(::testing::ValuesIn(kAllTypes), ::testing::ValuesIn(kShapes)), ShapeName);

// ---- every prefill blocking a device may use (CPU devices 16/32 rows per subgroup, GPUs 4) ----

class MatMulBlockings : public MatMulTest, public ::testing::WithParamInterface<std::tuple<DType, uint32_t>> {};

// Sampled in CI (label "long"): each type on one blocking, rotating, so each blocking runs on
// four or five types; VKG_SWEEP=full runs every type on every blocking.
TEST_P(MatMulBlockings, MatchesReference) {
  const auto [t, rows] = GetParam();
  const uint32_t sampled_rows[] = {4u, 16u, 32u};
  VKG_SWEEP_SAMPLE(sampled_rows[TypeIndex(t) % 3] == rows);
  for (const Case c : {Case{23, 100, 45}, Case{8, 64, 256}, Case{9, 300, 96}}) Check(t, c, 0, nullptr, rows);
}

INSTANTIATE_TEST_SUITE_P(All, MatMulBlockings,
                         ::testing::Combine(::testing::ValuesIn(kAllTypes), ::testing::Values(4u, 16u, 32u)),
                         [](const auto& info) {
                           return std::string(DTypeName(std::get<0>(info.param))) + "_rows" +
                                  std::to_string(std::get<1>(info.param));
                         });

// ---- both decode kernels on any device (GPUs use the subgroup split, CPU devices rows per lane) ----

class MatVecKernels : public MatMulTest,
                      public ::testing::WithParamInterface<std::tuple<DType, MatMulOverrides::DecodeKernel>> {};

TEST_P(MatVecKernels, MatchesReference) {
  const auto [t, kernel] = GetParam();
  // K = 45, 100: a partial last texel; K = 300 (10 blocks): scales not in whole texels of 8 blocks;
  // K = 512, 1536: whole scale texels only; K = 800: both (24 + 1 blocks). N = 27, 131: rows not a
  // multiple of any blocking; N = 1: a single row.
  for (const Case c : {Case{1, 27, 45}, Case{1, 131, 100}, Case{1, 64, 300}, Case{1, 131, 512}, Case{1, 1, 800},
                       Case{1, 257, 1536}, Case{1, 64, 8192}})
    std::printf("  K=%u: NMSE %.3g\n", c.k, Check(t, c, 0, nullptr, 0, kernel));
}

INSTANTIATE_TEST_SUITE_P(All, MatVecKernels,
                         ::testing::Combine(::testing::ValuesIn(kAllTypes),
                                            ::testing::Values(MatMulOverrides::DecodeKernel::kSubgroupSplitK,
                                                              MatMulOverrides::DecodeKernel::kRowsPerInvocation)),
                         [](const auto& info) {
                           return std::string(DTypeName(std::get<0>(info.param))) +
                                  (std::get<1>(info.param) == MatMulOverrides::DecodeKernel::kSubgroupSplitK
                                       ? "_split_k"
                                       : "_rows");
                         });

// ---- every split-K geometry PlanMatVec may pick (rows per subgroup x subgroups per workgroup) ----

class MatVecGeometries : public MatMulTest, public ::testing::WithParamInterface<DType> {};

TEST_P(MatVecGeometries, MatchesReference) {
  const DType t = GetParam();
  size_t geometry = 0;
  for (const auto& [rows, subgroups] : {std::pair{4u, 4u}, {2u, 4u}, {1u, 4u}, {1u, 2u}, {1u, 1u}}) {
    if (!GeometryInSample(t, geometry++)) continue;
    for (const Case c : {Case{1, 131, 100}, Case{1, 257, 1536}, Case{1, 64, 800}, Case{1, 5, 64}}) {
      std::vector<float> wr;
      const WeightMatrix w = MakeWeight(t, c.n, c.k, 500 + c.n + c.k, wr);
      const std::vector<float> xv = RandomVector(c.k, 91);
      const Tensor x = NewTensor(1, c.k), y = NewTensor(1, c.n);
      Upload(x, xv);
      Run([&](OpContext& ctx) {
        MatMul(ctx, w, x, y,
               {.force = {.decode_kernel = MatMulOverrides::DecodeKernel::kSubgroupSplitK,
                          .decode_rows_per_subgroup = rows,
                          .decode_subgroups = subgroups}});
      });
      std::vector<float> ref(c.n);
      ref::MatMul(wr.data(), xv.data(), ref.data(), 1, int(c.n), int(c.k));
      const std::string what = std::string(DTypeName(t)) + " " + std::to_string(rows) + "x" +
                               std::to_string(subgroups) + " N=" + std::to_string(c.n) + " K=" + std::to_string(c.k);
      ExpectClose(ref, Download(y), NmseThreshold(t), what.c_str());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, MatVecGeometries, ::testing::ValuesIn(kAllTypes),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

// ---- the gate/up decode product writing gelu(gate) * up (GELU_PAIRS) ----

class MatVecGeluPairsTest : public MatMulTest, public ::testing::WithParamInterface<DType> {};

// act = gelu(W_gate x) * (W_up x) against the reference (MatMul of the stack, then GeluMul) on the
// GPU kernel family, for every geometry the plan may pick (outputs per subgroup x subgroups).
TEST_P(MatVecGeluPairsTest, MatchesProductThenGeluMul) {
  const DType t = GetParam();
  size_t geometry = 0;
  for (const auto& [per_sg, sgs] : {std::pair{0u, 0u}, {4u, 4u}, {2u, 4u}, {1u, 2u}, {1u, 1u}}) {
    if (!GeometryInSample(t, geometry++)) continue;
    for (const Case c : {Case{1, 27, 100}, Case{1, 131, 256}, Case{1, 300, 1536}}) {
      std::vector<float> wr;
      const WeightMatrix w = MakeWeight(t, 2 * c.n, c.k, 900 + c.n + c.k, wr);  // [gate | up]
      const std::vector<float> xv = RandomVector(c.k, 93 + c.k);
      const Tensor x = NewTensor(1, c.k), act = NewTensor(1, c.n);
      Upload(x, xv);
      bool fused = false;
      Run([&](OpContext& ctx) {
        ctx.kernels = KernelFamily::kGpu;
        fused =
            MatVecGeluPairs(ctx, w, x, act, {.force = {.decode_rows_per_subgroup = per_sg, .decode_subgroups = sgs}});
      });
      ASSERT_TRUE(fused);
      std::vector<float> gu(2 * size_t(c.n)), ref(c.n);
      ref::MatMul(wr.data(), xv.data(), gu.data(), 1, int(2 * c.n), int(c.k));
      ref::GeluMul(gu.data(), gu.data() + c.n, ref.data(), c.n);
      const std::string what = std::string(DTypeName(t)) + " " + std::to_string(per_sg) + "x" + std::to_string(sgs) +
                               " I=" + std::to_string(c.n) + " K=" + std::to_string(c.k);
      ExpectClose(ref, Download(act), NmseThreshold(t), what.c_str());
    }
  }
}

// CPU-family kernels and a stack split over chunks (gate and up rows of an output in different
// bindings) keep the separate pass: nothing is recorded, false returned.
TEST_P(MatVecGeluPairsTest, DeclinesWhereItDoesNotApply) {
  const DType t = GetParam();
  std::vector<float> wr;
  const WeightMatrix one = MakeWeight(t, 16, 64, 5, wr);
  const WeightMatrix chunked = MakeWeight(t, 16, 64, 6, wr, WeightRowBytes(t, PaddedCols(t, 64)) * 5);
  ASSERT_GT(chunked.chunks.size(), 1u);
  const Tensor x = NewTensor(1, 64), act = NewTensor(1, 8);
  Run([&](OpContext& ctx) {
    ctx.kernels = KernelFamily::kGpu;
    EXPECT_FALSE(MatVecGeluPairs(ctx, chunked, x, act));
    ctx.kernels = KernelFamily::kCpu;
    EXPECT_FALSE(MatVecGeluPairs(ctx, one, x, act));
  });
}

INSTANTIATE_TEST_SUITE_P(All, MatVecGeluPairsTest, ::testing::ValuesIn(kAllTypes),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

// ---- decode product with the gated feed-forward's gelu fused into the read of x ----

class MatVecGeluMulTest : public MatMulTest, public ::testing::WithParamInterface<DType> {};

// y = W (gelu(gate) * up) against the reference (GeluMul then MatMul) on the GPU kernel family, with
// gate and up as the halves of one [1][2K] product (the MLP) and as separate tensors (the PLE
// block); K = 100: a partial last texel for every type.
TEST_P(MatVecGeluMulTest, MatchesGeluMulThenProduct) {
  const DType t = GetParam();
  for (const Case c : {Case{1, 27, 100}, Case{1, 131, 256}, Case{1, 300, 1536}}) {
    for (bool halves : {true, false}) {
      std::vector<float> wr;
      const WeightMatrix w = MakeWeight(t, c.n, c.k, 700 + c.n + c.k, wr);
      const std::vector<float> gu = RandomVector(2 * size_t(c.k), 92 + c.k, -3.f, 3.f);
      const Tensor both = NewTensor(1, 2 * c.k), g1 = NewTensor(1, c.k), u1 = NewTensor(1, c.k);
      const Tensor y = NewTensor(1, c.n);
      Upload(both, gu);
      Upload(g1, std::span<const float>(gu).first(c.k));
      Upload(u1, std::span<const float>(gu).subspan(c.k));
      const Tensor gate = halves ? Tensor{both.slice.Sub(0, uint64_t(c.k) * 4), DType::F32, 1, c.k} : g1;
      const Tensor up = halves ? Tensor{both.slice.Sub(uint64_t(c.k) * 4, uint64_t(c.k) * 4), DType::F32, 1, c.k} : u1;
      const uint64_t align = gpu().device().caps().min_storage_offset_alignment;
      const bool bindable = !halves || (uint64_t(c.k) * 4) % align == 0;
      bool fused = false;
      Run([&](OpContext& ctx) {
        ctx.kernels = KernelFamily::kGpu;
        fused = MatVecGeluMul(ctx, w, gate, up, y);
      });
      EXPECT_EQ(fused, bindable) << "K=" << c.k;
      if (!fused) continue;
      std::vector<float> x(c.k), ref(c.n);
      ref::GeluMul(gu.data(), gu.data() + c.k, x.data(), c.k);
      ref::MatMul(wr.data(), x.data(), ref.data(), 1, int(c.n), int(c.k));
      const std::string what = std::string(DTypeName(t)) + (halves ? " halves" : " separate") +
                               " N=" + std::to_string(c.n) + " K=" + std::to_string(c.k);
      ExpectClose(ref, Download(y), NmseThreshold(t), what.c_str());
    }
  }
}

// CPU-family kernels and K % 4 != 0 keep the separate pass: nothing is recorded, false returned.
TEST_P(MatVecGeluMulTest, DeclinesWhereItDoesNotApply) {
  const DType t = GetParam();
  std::vector<float> wr;
  const WeightMatrix w45 = MakeWeight(t, 8, 45, 3, wr), w64 = MakeWeight(t, 8, 64, 4, wr);
  const Tensor g45 = NewTensor(1, 45), g64 = NewTensor(1, 64), y = NewTensor(1, 8);
  Run([&](OpContext& ctx) {
    ctx.kernels = KernelFamily::kGpu;
    EXPECT_FALSE(MatVecGeluMul(ctx, w45, g45, g45, y));
    ctx.kernels = KernelFamily::kCpu;
    EXPECT_FALSE(MatVecGeluMul(ctx, w64, g64, g64, y));
  });
}

INSTANTIATE_TEST_SUITE_P(All, MatVecGeluMulTest, ::testing::ValuesIn(kAllTypes),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

// ---- the shared-memory tiled prefill kernel (GPUs) on any device ----

class MatMulTiled : public MatMulTest, public ::testing::WithParamInterface<DType> {};

TEST_P(MatMulTiled, MatchesReference) {
  const DType t = GetParam();
  // Tiles are 32 tokens x 64 rows x 32 K: M = 2, 31, 33, 70 and N = 27, 64, 100, 130 cross the
  // tile edges; K = 45, 100 leave partial quantization blocks and quads; K = 300 is 10 blocks.
  for (const Case c : {Case{2, 27, 45}, Case{31, 64, 100}, Case{33, 130, 300}, Case{70, 100, 64}, Case{8, 64, 1536}})
    std::printf(
        "  M=%u N=%u K=%u: NMSE %.3g\n", c.m, c.n, c.k,
        Check(t, c, 0, nullptr, 0, MatMulOverrides::DecodeKernel::kAuto, MatMulOverrides::PrefillKernel::kTiled));
}

TEST_P(MatMulTiled, ChunkedWeightAndSoftcap) {
  const DType t = GetParam();
  size_t chunks = 0;
  // 300 rows in chunks of at most 4 KiB of weight data: several dispatches, each its own columns.
  Check(t, Case{37, 300, 96}, 4096, &chunks, 0, MatMulOverrides::DecodeKernel::kAuto,
        MatMulOverrides::PrefillKernel::kTiled);
  EXPECT_GT(chunks, 1u);
  std::vector<float> wr;
  const uint32_t m = 9, n = 300, k = 64;
  const WeightMatrix w = MakeWeight(t, n, k, 31, wr);
  const std::vector<float> xv = RandomVector(size_t(m) * k, 32, -8.f, 8.f);
  const Tensor x = NewTensor(m, k), y = NewTensor(m, n);
  Upload(x, xv);
  Run([&](OpContext& ctx) {
    MatMul(ctx, w, x, y, {.softcap = 30.f, .force = {.prefill_kernel = MatMulOverrides::PrefillKernel::kTiled}});
  });
  std::vector<float> ref(size_t(m) * n);
  ref::MatMul(wr.data(), xv.data(), ref.data(), int(m), int(n), int(k));
  ref::Softcap(ref.data(), ref.size(), 30.f);
  ExpectClose(ref, Download(y), NmseThreshold(t), "tiled MatMul + softcap");
}

INSTANTIATE_TEST_SUITE_P(All, MatMulTiled, ::testing::ValuesIn(kAllTypes),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

// ---- the final soft-cap fused into the product (decode and prefill) ----

TEST_F(MatMulTest, FusedSoftcapMatchesProductThenCap) {
  for (const DType t : {DType::F32, DType::Q4_0}) {
    for (const uint32_t m : {1u, 9u}) {
      std::vector<float> wr;
      const uint32_t n = 300, k = 64;
      const WeightMatrix w = MakeWeight(t, n, k, 31, wr);
      const std::vector<float> xv = RandomVector(size_t(m) * k, 32, -8.f, 8.f);  // logits well past the cap
      const Tensor x = NewTensor(m, k), y = NewTensor(m, n);
      Upload(x, xv);
      Run([&](OpContext& ctx) { MatMul(ctx, w, x, y, {.softcap = 30.f}); });
      std::vector<float> ref(size_t(m) * n);
      ref::MatMul(wr.data(), xv.data(), ref.data(), int(m), int(n), int(k));
      ref::Softcap(ref.data(), ref.size(), 30.f);
      ExpectClose(ref, Download(y), NmseThreshold(t), "MatMul + softcap");
    }
  }
}

// ---- chunk split: the same matrix in several row chunks, with boundaries inside row blocks ----

class MatMulChunks : public MatMulTest, public ::testing::WithParamInterface<DType> {};

TEST_P(MatMulChunks, SplitRowsMatchReference) {
  const DType t = GetParam();
  const uint32_t n = 100, k = 100;
  // 7 rows per chunk (+ a few spare bytes): 15 chunks, boundaries not aligned to 4 or 8 rows.
  const uint64_t max_chunk = WeightRowBytes(t, PaddedCols(t, k)) * 7 + 9;
  for (uint32_t m : {1u, 8u, 13u}) {
    // The row offset is the kernels' shared code, not the type's decode: CI (label "long") splits
    // the decode product of every type and the prefill product of every third type.
    if (m > 1 && TypeIndex(t) % 3 != 0 && !FullSweep()) continue;
    size_t chunks = 0;
    Check(t, Case{m, n, k}, max_chunk, &chunks);
    EXPECT_EQ(chunks, 15u);
  }
}

INSTANTIATE_TEST_SUITE_P(All, MatMulChunks, ::testing::ValuesIn(kAllTypes),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

// ---- shape validation names the weight ----

TEST_F(MatMulTest, RejectsShapeMismatch) {
  std::vector<float> wr;
  const WeightMatrix w = MakeWeight(DType::F16, 16, 32, 5, wr);
  const Tensor x = NewTensor(2, 31), y = NewTensor(2, 16);
  try {
    Run([&](OpContext& ctx) { MatMul(ctx, w, x, y); });
    FAIL() << "expected a shape error";
  } catch (const vk::Error& e) {
    EXPECT_NE(std::string(e.what()).find("w_f16"), std::string::npos) << e.what();
  }
}

// ---- big tensor: one matrix larger than lavapipe's 128 MiB storage-buffer range ----

// Cheap reproducible weights: a hash of the element index mapped to [-1, 1).
float HashValue(uint64_t i) {
  i += 0x9E3779B97F4A7C15ull;
  i = (i ^ (i >> 30)) * 0xBF58476D1CE4E5B9ull;
  i = (i ^ (i >> 27)) * 0x94D049BB133111EBull;
  i ^= i >> 31;
  return float(i >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

TEST_F(MatMulTest, BigMatrixOverStorageRange) {
  const DType t = DType::F16;
  const uint32_t n = 40960, k = 2048;  // 160 MiB of f16
  const auto source = [&](uint32_t r, float* out) {
    for (uint32_t i = 0; i < k; ++i) out[i] = HashValue(uint64_t(r) * k + i);
  };
  const WeightMatrix w = UploadWeightMatrix(gpu().device(), alloc(), gpu().transfer(), t, n, k, source, "w_big");
  EXPECT_GT(w.device_bytes, gpu().device().caps().max_storage_buffer_range);
  std::printf("  w_big: %.1f MiB in %zu chunk(s)\n", w.device_bytes / 1048576.0, w.chunks.size());

  for (uint32_t m : {1u, 8u}) {
    const std::vector<float> xv = RandomVector(size_t(m) * k, 4242 + m);
    const Tensor x = NewTensor(m, k), y = NewTensor(m, n);
    Upload(x, xv);
    Run([&](OpContext& ctx) { MatMul(ctx, w, x, y); });
    const std::vector<float> got = Download(y);
    // Reference, row by row (never the whole rounded matrix in memory).
    std::vector<float> ref(size_t(m) * n), row(k);
    for (uint32_t r = 0; r < n; ++r) {
      source(r, row.data());
      for (float& v : row) v = RoundTripHalf(v);
      for (uint32_t j = 0; j < m; ++j) {
        double acc = 0;
        const float* xr = &xv[size_t(j) * k];
        for (uint32_t i = 0; i < k; ++i) acc += double(row[i]) * xr[i];
        ref[size_t(j) * n + r] = float(acc);
      }
    }
    const std::string what = "big f16 M=" + std::to_string(m);
    ExpectClose(ref, got, NmseThreshold(t), what.c_str());
    std::printf("  big f16 M=%u: NMSE %.3g\n", m, Compare(ref, got).nmse);
  }
}

}  // namespace
}  // namespace vkg::test
