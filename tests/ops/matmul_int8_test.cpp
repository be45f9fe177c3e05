// Integer-dot products (q8_0 / q4_0 weights x int8 activations) on the device: the activation
// quantization against its CPU reference, the decode (matvec_int8.comp) and prefill
// (matmul_int8_tiled.comp) kernels against ref::MatMulInt8 fed the SAME int8 activations the device
// made, and against the float product (the quantization error, a looser stated tolerance).
// Forced with KernelFeatures{integer_dot = kForce} in the GPU kernel family: lavapipe has the
// feature without acceleration. Skipped, saying why, where the compiler or the device lacks it.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "host/device/weight_matrix.h"
#include "host/formats/dtype.h"
#include "host/ops/matmul.h"
#include "host/ops/matmul_int8.h"
#include "host/ops/quantize_activations.h"
#include "host/reference/ref_int8.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

// Against ref::MatMulInt8 on the device's own int8 activations: both sides compute the same
// integer block sums exactly; what remains is the f32 arithmetic of the device (dw * dx rounded,
// q4_0 decode's n*dx - 8*s form, sums of K/32 block terms in another order), relative error about
// 1e-7 per output: NMSE ~ 1e-14. 1e-10, as the float products' f32 threshold, still flags any
// wrong byte, scale or block (those give NMSE >= 1e-5).
constexpr double kSameInputsNmse = 1e-10;
// Against the float product of the same (dequantized) weights and the unquantized x: int8 x has
// error up to d/2 = amax/254 per value, uniform, i.e. an RMS of amax/(254 sqrt 3) = 0.0023 amax.
// For uniform [-1, 1) inputs (RMS 0.577, block amax ~ 1) that is 0.4% of x's RMS, independent from
// value to value, so each output's error is 0.4% of its RMS: NMSE ~ 1.6e-5 (measured 1.3-3e-5).
// 1e-4 gives 6x margin. NMSE is an average: it is checked on products of at least kFloatOutputs
// outputs (a single output measured 1.4e-4, one draw of a noisy statistic 9x its mean), and not
// after a soft-cap (it compresses the outputs, not the error near zero); those cases check the
// same-inputs reference only.
constexpr double kFloatNmse = 1e-4;
constexpr size_t kFloatOutputs = 100;

struct Case {
  uint32_t m, n, k;
};

std::string Name(DType t, Case c) {
  return std::string(DTypeName(t)) + " M=" + std::to_string(c.m) + " N=" + std::to_string(c.n) +
         " K=" + std::to_string(c.k);
}

class MatMulInt8Test : public GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (!VKG_SHADERS_INTEGER_DOT) GTEST_SKIP() << "the shader compiler lacks GL_EXT_integer_dot_product";
    if (!gpu().device().caps().integer_dot_feature)
      GTEST_SKIP() << "the device lacks shaderIntegerDotProduct (VK_KHR_shader_integer_dot_product)";
  }

  // Runs body in the GPU kernel family with the integer-dot path forced.
  void RunForced(const std::function<void(OpContext&)>& body) {
    Run(
        [&](OpContext& ctx) {
          ctx.features.integer_dot = FeatureUse::kForce;
          ASSERT_TRUE(UsesIntegerDot(ctx, DType::Q8_0));
          body(ctx);
        },
        KernelFamily::kGpu);
  }

  // A random [n][k] matrix on the device, with its integers and scales for ref::MatMulInt8 and
  // its dequantized values for ref::MatMul.
  WeightMatrix MakeWeight(DType t, uint32_t n, uint32_t k, uint32_t seed, ref::Int8Weights& wi, std::vector<float>& wf,
                          uint64_t max_chunk_bytes = 0) {
    const std::vector<float> w = RandomVector(size_t(n) * k, seed);
    const uint32_t blocks = (k + 31) / 32;
    wi.rows = int(n);
    wi.blocks = int(blocks);
    wi.q.assign(size_t(n) * blocks * 32, 0);
    wi.d.assign(size_t(n) * blocks, 0.f);
    wf.assign(size_t(n) * k, 0.f);
    for (uint32_t r = 0; r < n; ++r) {
      for (uint32_t b = 0; b < blocks; ++b) {
        float in[32] = {};
        for (uint32_t i = 0; i < 32 && 32 * b + i < k; ++i) in[i] = w[size_t(r) * k + 32 * b + i];
        float out[32];
        int8_t* q = &wi.q[(size_t(r) * blocks + b) * 32];
        if (t == DType::Q8_0) {
          const Q8Block qb = QuantizeQ8Block(in);
          for (int i = 0; i < 32; ++i) q[i] = qb.q[i];
          wi.d[size_t(r) * blocks + b] = HalfToFloat(qb.d);
          DequantizeQ8Block(qb, out);
        } else {
          const Q4Block qb = QuantizeQ4Block(in);
          for (int i = 0; i < 32; ++i) q[i] = int8_t(int(qb.q[i]) - 8);
          wi.d[size_t(r) * blocks + b] = HalfToFloat(qb.d);
          DequantizeQ4Block(qb, out);
        }
        for (uint32_t i = 0; i < 32 && 32 * b + i < k; ++i) wf[size_t(r) * k + 32 * b + i] = out[i];
      }
    }
    return UploadWeightMatrix(
        gpu().device(), alloc(), gpu().transfer(), t, n, k,
        [&](uint32_t r, float* o) { std::copy_n(&w[size_t(r) * k], k, o); },
        std::string("w_int8_") + std::string(DTypeName(t)), max_chunk_bytes);
  }

  // A guarded scratch for [rows][cols] int8 activations (a float tensor of the right bytes).
  Tensor NewScratch(uint32_t rows, uint32_t cols) {
    return NewTensor(1, uint32_t(DivUp(Int8ActivationsBytes(rows, cols), 4)));
  }

  // The device's int8 activations, read back from a scratch tensor.
  ref::Int8Activations ReadBack(const Tensor& scratch, uint32_t rows, uint32_t cols) {
    const std::vector<float> raw = Download(scratch);
    const Int8Activations layout = Int8ActivationsIn(scratch.slice, rows, cols);
    ref::Int8Activations a;
    a.rows = int(rows);
    a.cols = int(cols);
    a.blocks = int(layout.blocks());
    a.q.resize(layout.quants.size);
    a.d.resize(size_t(rows) * a.blocks);
    a.s.resize(a.d.size());
    const char* base = reinterpret_cast<const char*>(raw.data());
    std::memcpy(a.q.data(), base + (layout.quants.offset - scratch.slice.offset), a.q.size());
    std::vector<float> ds(2 * a.d.size());
    std::memcpy(ds.data(), base + (layout.scales.offset - scratch.slice.offset), ds.size() * 4);
    for (size_t i = 0; i < a.d.size(); ++i) a.d[i] = ds[2 * i], a.s[i] = ds[2 * i + 1];
    return a;
  }

  struct Result {
    double nmse_same = 0, nmse_float = 0;
    size_t chunks = 0;
  };

  // Quantizes x and runs MatMulInt8 (decode or prefill by M); compares with ref::MatMulInt8 on
  // the device's int8 x and with the float product.
  Result Check(DType t, Case c, MatMulOptions options = {}, uint64_t max_chunk_bytes = 0) {
    ref::Int8Weights wi;
    std::vector<float> wf;
    const WeightMatrix w = MakeWeight(t, c.n, c.k, 2000 + c.n * 3 + c.k, wi, wf, max_chunk_bytes);
    const std::vector<float> xv = RandomVector(size_t(c.m) * c.k, 300 + c.m + c.k);
    const Tensor x = NewTensor(c.m, c.k), y = NewTensor(c.m, c.n), scratch = NewScratch(c.m, c.k);
    Upload(x, xv);
    RunForced([&](OpContext& ctx) {
      const Int8Activations xq = Int8ActivationsIn(scratch.slice, c.m, c.k);
      QuantizeActivations(ctx, x, xq);
      ctx.rec.ComputeToCompute();
      MatMulInt8(ctx, w, xq, y, options);
    });
    const std::vector<float> got = Download(y);
    const ref::Int8Activations xq = ReadBack(scratch, c.m, c.k);
    std::vector<float> same(size_t(c.m) * c.n), flt(size_t(c.m) * c.n);
    ref::MatMulInt8(wi, xq, same.data());
    ref::MatMul(wf.data(), xv.data(), flt.data(), int(c.m), int(c.n), int(c.k));
    if (options.softcap > 0.f) {
      ref::Softcap(same.data(), same.size(), options.softcap);
      ref::Softcap(flt.data(), flt.size(), options.softcap);
    }
    const std::string what = Name(t, c);
    ExpectClose(same, got, kSameInputsNmse, (what + " vs the same int8 inputs").c_str());
    if (size_t(c.m) * c.n >= kFloatOutputs && options.softcap == 0.f)
      ExpectClose(flt, got, kFloatNmse, (what + " vs the float product").c_str());
    return {Compare(same, got).nmse, Compare(flt, got).nmse, w.chunks.size()};
  }
};

// ---- the activation quantization against its reference ----

TEST_F(MatMulInt8Test, QuantizeActivationsMatchesReference) {
  // K = 45, 100: partial last blocks (zeros past K, scalar loads); K = 1536: E2B's hidden size.
  for (const Case c : {Case{1, 0, 45}, Case{7, 0, 100}, Case{65, 0, 1536}, Case{2, 0, 64}}) {
    std::vector<float> xv = RandomVector(size_t(c.m) * c.k, 11 + c.k);
    if (c.k == 64) std::fill(xv.begin(), xv.begin() + 32, 0.f);  // an all-zero block: d = 0, q = 0
    const Tensor x = NewTensor(c.m, c.k), scratch = NewScratch(c.m, c.k);
    Upload(x, xv);
    RunForced([&](OpContext& ctx) { QuantizeActivations(ctx, x, Int8ActivationsIn(scratch.slice, c.m, c.k)); });
    const ref::Int8Activations got = ReadBack(scratch, c.m, c.k);
    const ref::Int8Activations want = ref::QuantizeActivations(xv.data(), int(c.m), int(c.k));
    // d: the same float multiply on both sides, bit for bit. q: equal except where x * (127 / amax)
    // is within rounding of a half (the division may round differently): off by one at most, and
    // rarely. s must be d * sum(q) of the device's own q.
    size_t off_by_one = 0;
    for (size_t i = 0; i < want.q.size(); ++i) {
      const int dq = std::abs(int(got.q[i]) - int(want.q[i]));
      ASSERT_LE(dq, 1) << "K=" << c.k << " value " << i;
      off_by_one += dq;
    }
    EXPECT_LE(off_by_one, want.q.size() / 1000) << "K=" << c.k;
    for (size_t b = 0; b < want.d.size(); ++b) {
      ASSERT_EQ(got.d[b], want.d[b]) << "K=" << c.k << " block " << b;
      int sum = 0;
      for (int i = 0; i < 32; ++i) sum += got.q[b * 32 + size_t(i)];
      ASSERT_EQ(got.s[b], got.d[b] * float(sum)) << "K=" << c.k << " block " << b;
    }
    if (c.k == 64) {
      EXPECT_EQ(got.d[0], 0.f);
      for (int i = 0; i < 32; ++i) EXPECT_EQ(got.q[size_t(i)], 0);
    }
  }
}

// ---- both kernels at every dtype and awkward shape ----

class MatMulInt8Shapes : public MatMulInt8Test, public ::testing::WithParamInterface<DType> {};

TEST_P(MatMulInt8Shapes, MatchesReference) {
  const DType t = GetParam();
  // M = 1: decode; 2, 7: a partial token tile; 64: two whole tiles; 65: one token past them.
  // N odd and not a multiple of any row block or tile (27, 131); N = 1. K = 32: one block; 96: 3
  // blocks (a half-filled last 2-block step of the prefill tile); 100: padded to 4 blocks; 1536: E2B.
  for (const Case c : {Case{1, 27, 96}, Case{1, 131, 100}, Case{1, 1, 32}, Case{1, 257, 1536}, Case{2, 27, 96},
                       Case{7, 131, 100}, Case{64, 65, 256}, Case{65, 27, 96}, Case{65, 131, 1536}}) {
    const Result r = Check(t, c);
    std::printf("  %s: NMSE %.3g vs the same int8 inputs, %.3g vs the float product\n", Name(t, c).c_str(), r.nmse_same,
                r.nmse_float);
  }
}

// The fused soft-cap (the final logits) in both kernels; cap 2 puts the outputs (RMS ~3 here) well
// into tanh's curve.
TEST_P(MatMulInt8Shapes, SoftCap) {
  const DType t = GetParam();
  for (const Case c : {Case{1, 131, 256}, Case{7, 131, 256}}) Check(t, c, {.softcap = 2.f});
}

// Several weight chunks (7 rows each, boundaries inside row blocks and tiles): each dispatch writes
// its own columns, decode and prefill.
TEST_P(MatMulInt8Shapes, Chunks) {
  const DType t = GetParam();
  const uint64_t max_chunk = WeightRowBytes(t, 128) * 7 + 9;
  for (const Case c : {Case{1, 100, 128}, Case{37, 100, 128}}) {
    const Result r = Check(t, c, {}, max_chunk);
    EXPECT_EQ(r.chunks, 15u);
  }
}

// Every decode geometry PlanMatVecInt8 may pick (rows per subgroup x subgroups per workgroup).
TEST_P(MatMulInt8Shapes, DecodeGeometries) {
  const DType t = GetParam();
  for (const auto& [rows, subgroups] : {std::pair{4u, 4u}, {2u, 4u}, {1u, 4u}, {1u, 2u}, {1u, 1u}})
    for (const Case c : {Case{1, 131, 100}, Case{1, 5, 800}})
      Check(t, c, {.force = {.decode_rows_per_subgroup = rows, .decode_subgroups = subgroups}});
}

// The decode gate|up product writing gelu(gate) * up (GELU_PAIRS) through MatVecGeluPairs with an
// int8 scratch, at every geometry the plan may pick (outputs per subgroup x subgroups; 0 = planned).
TEST_P(MatMulInt8Shapes, GateUpGelu) {
  const DType t = GetParam();
  for (const auto& [per_sg, sgs] : {std::pair{0u, 0u}, {4u, 4u}, {2u, 4u}, {1u, 2u}, {1u, 1u}}) {
    for (const Case c : {Case{1, 27, 100}, Case{1, 131, 256}}) {
      ref::Int8Weights wi;
      std::vector<float> wf;
      const WeightMatrix w = MakeWeight(t, 2 * c.n, c.k, 900 + c.n + c.k, wi, wf);  // [gate | up]
      const std::vector<float> xv = RandomVector(c.k, 93 + c.k);
      const Tensor x = NewTensor(1, c.k), act = NewTensor(1, c.n), scratch = NewScratch(1, c.k);
      Upload(x, xv);
      bool fused = false;
      RunForced([&](OpContext& ctx) {
        fused = MatVecGeluPairs(
            ctx, w, x, act,
            {.int8_scratch = scratch.slice, .force = {.decode_rows_per_subgroup = per_sg, .decode_subgroups = sgs}});
      });
      ASSERT_TRUE(fused);
      std::vector<float> same(2 * c.n), flt(2 * c.n), same_act(c.n), flt_act(c.n);
      ref::MatMulInt8(wi, ReadBack(scratch, 1, c.k), same.data());
      ref::MatMul(wf.data(), xv.data(), flt.data(), 1, int(2 * c.n), int(c.k));
      ref::GeluMul(same.data(), same.data() + c.n, same_act.data(), c.n);
      ref::GeluMul(flt.data(), flt.data() + c.n, flt_act.data(), c.n);
      const std::vector<float> got = Download(act);
      const std::string what = Name(t, c) + " gelu pairs " + std::to_string(per_sg) + "x" + std::to_string(sgs);
      ExpectClose(same_act, got, kSameInputsNmse, (what + " vs the same int8 inputs").c_str());
      if (c.n >= kFloatOutputs) ExpectClose(flt_act, got, kFloatNmse, (what + " vs the float product").c_str());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, MatMulInt8Shapes, ::testing::Values(DType::Q8_0, DType::Q4_0),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

// ---- selection: MatMul takes the path only where the rule says ----

TEST_F(MatMulInt8Test, Selection) {
  const vk::DeviceCaps& caps = gpu().device().caps();
  Run(
      [&](OpContext& ctx) {
        ctx.features.integer_dot = FeatureUse::kForce;
        EXPECT_TRUE(UsesIntegerDot(ctx, DType::Q8_0));
        EXPECT_TRUE(UsesIntegerDot(ctx, DType::Q4_0));
        EXPECT_FALSE(UsesIntegerDot(ctx, DType::F16));  // float weights: never
        EXPECT_FALSE(UsesIntegerDot(ctx, DType::BF16));
        ctx.features.integer_dot = FeatureUse::kOff;
        EXPECT_FALSE(UsesIntegerDot(ctx, DType::Q8_0));
        ctx.features.integer_dot = FeatureUse::kAuto;  // only where accelerated (not on lavapipe)
        EXPECT_EQ(UsesIntegerDot(ctx, DType::Q4_0), caps.integer_dot_product);
      },
      KernelFamily::kGpu);
  Run(
      [&](OpContext& ctx) {
        ctx.features.integer_dot = FeatureUse::kForce;  // the CPU kernel family keeps its kernels
        EXPECT_FALSE(UsesIntegerDot(ctx, DType::Q8_0));
      },
      KernelFamily::kCpu);
}

// MatMul with an int8 scratch: forced, it computes the int8 product (equal to MatMulInt8's within
// f32 rounding, and not the float product's bits); off, exactly the float product.
TEST_F(MatMulInt8Test, MatMulTakesThePathWhenForced) {
  for (const DType t : {DType::Q8_0, DType::Q4_0}) {
    for (const Case c : {Case{1, 131, 256}, Case{9, 131, 256}}) {
      ref::Int8Weights wi;
      std::vector<float> wf;
      const WeightMatrix w = MakeWeight(t, c.n, c.k, 77 + c.m, wi, wf);
      const std::vector<float> xv = RandomVector(size_t(c.m) * c.k, 5 + c.m);
      const Tensor x = NewTensor(c.m, c.k), forced = NewTensor(c.m, c.n), off = NewTensor(c.m, c.n),
                   plain = NewTensor(c.m, c.n), scratch = NewScratch(c.m, c.k);
      Upload(x, xv);
      Run(
          [&](OpContext& ctx) {
            ctx.features.integer_dot = FeatureUse::kForce;
            MatMul(ctx, w, x, forced, {.int8_scratch = scratch.slice});
            ctx.features.integer_dot = FeatureUse::kOff;
            MatMul(ctx, w, x, off, {.int8_scratch = scratch.slice});
            MatMul(ctx, w, x, plain);
          },
          KernelFamily::kGpu);
      const ref::Int8Activations xq = ReadBack(scratch, c.m, c.k);
      std::vector<float> same(size_t(c.m) * c.n);
      ref::MatMulInt8(wi, xq, same.data());
      ExpectClose(same, Download(forced), kSameInputsNmse, Name(t, c).c_str());
      const std::vector<float> a = Download(off), b = Download(plain);
      EXPECT_EQ(a, b) << Name(t, c) << ": kOff must run the float product";
      EXPECT_NE(Download(forced), b) << Name(t, c) << ": kForce must not run the float product";
    }
  }
}

}  // namespace
}  // namespace vkg::test
