// Block ends folded into their neighbours (the decode step's dispatch count, issue 23):
// - ResidualRmsNorm writing the int8 activations of what it ends with (residual_norm_rows.comp
//   QUANT): the same bytes QuantizeActivations writes from the same row, and the same x and a as
//   without them;
// - a decode product ending the block itself (MatVecEndBlock / MatVecGeluMul with a BlockEnd:
//   matvec.comp and matvec_int8.comp END_BLOCK, the last workgroup doing the block end): y, x and a
//   bit for bit MatMul + ResidualRmsNorm's on the device (the batched decode rows of host/batch run
//   those two and must equal the engine alone, which folds them), the counter left
//   at zero (a second run, as a replayed step does, gives the same), the int8 output as
//   QuantizeActivations of the a it wrote.
// GPU kernel family (the folds exist only there); E2B's decode shapes, H = 1536.
#include <cstring>
#include <vector>

#include "host/device/weight_matrix.h"
#include "host/ops/elementwise.h"
#include "host/ops/matmul.h"
#include "host/ops/matmul_int8.h"
#include "host/ops/quantize_activations.h"
#include "host/ops/rms_norm.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

constexpr uint32_t kH = 1536;

class BlockEndTest : public GpuTest {
 protected:
  bool HasIntegerDot() { return VKG_SHADERS_INTEGER_DOT && gpu().device().caps().integer_dot_feature; }

  WeightMatrix MakeWeight(DType t, uint32_t n, uint32_t k, uint32_t seed) {
    const std::vector<float> w = RandomVector(size_t(n) * k, seed);
    return UploadWeightMatrix(
        gpu().device(), alloc(), gpu().transfer(), t, n, k,
        [&](uint32_t r, float* o) { std::copy_n(&w[size_t(r) * k], k, o); }, "w_block_end");
  }

  // The raw bytes of a device tensor (int8 scratch, counter).
  std::vector<uint8_t> Bytes(const Tensor& t) {
    const std::vector<float> f = Download(t);
    std::vector<uint8_t> b(f.size() * 4);
    std::memcpy(b.data(), f.data(), b.size());
    return b;
  }
  Tensor NewScratch(uint32_t cols) { return NewTensor(1, uint32_t(DivUp(Int8ActivationsBytes(1, cols), 4))); }

  void RunGpu(const std::function<void(OpContext&)>& body, bool force_int8) {
    Run(
        [&](OpContext& ctx) {
          if (force_int8) ctx.features.integer_dot = FeatureUse::kForce;
          body(ctx);
        },
        KernelFamily::kGpu);
  }

  struct Block {
    Tensor x, y, a, w_out, w_next, counter;
    std::vector<float> x0, w_out_v, w_next_v;
  };
  Block NewBlock(uint32_t seed) {
    Block b;
    b.x = NewTensor(1, kH), b.y = NewTensor(1, kH), b.a = NewTensor(1, kH);
    b.w_out = NewTensor(1, kH), b.w_next = NewTensor(1, kH), b.counter = NewTensor(1, 4);
    b.x0 = RandomVector(kH, seed, -3.f, 3.f);
    b.w_out_v = RandomVector(kH, seed + 1, 0.f, 2.f);
    b.w_next_v = RandomVector(kH, seed + 2, 0.f, 2.f);
    Upload(b.w_out, b.w_out_v);
    Upload(b.w_next, b.w_next_v);
    Upload(b.counter, std::vector<float>(4, 0.f));
    return b;
  }
};

TEST_F(BlockEndTest, ResidualNormWritesTheSameInt8AsQuantize) {
  if (!HasIntegerDot()) GTEST_SKIP() << "no integer-dot products here (compiler or device)";
  for (const uint32_t dim : {kH, 5376u, 100u}) {  // E2B, 31B, a partial last block (100 of 128)
    for (const bool next : {true, false}) {
      SCOPED_TRACE(std::to_string(dim) + (next ? " with next norm" : " x only"));
      const std::vector<float> x0 = RandomVector(dim, 31 + dim, -3.f, 3.f), yv = RandomVector(dim, 32, -5.f, 5.f);
      const Tensor x = NewTensor(1, dim), y = NewTensor(1, dim), a = NewTensor(1, dim), w1 = NewTensor(1, dim),
                   w2 = NewTensor(1, dim), folded = NewScratch(dim), separate = NewScratch(dim);
      Upload(y, yv);
      Upload(w1, RandomVector(dim, 33, 0.f, 2.f));
      Upload(w2, RandomVector(dim, 34, 0.f, 2.f));
      // Unfused: the block end, then QuantizeActivations of what it ends with.
      Upload(x, x0);
      RunGpu(
          [&](OpContext& ctx) {
            EXPECT_FALSE(ResidualRmsNorm(ctx, x, y, w1, 0.8f, next ? w2 : Tensor{}, a, 1e-6f));
            ctx.rec.ComputeToCompute();
            QuantizeActivations(ctx, next ? a : x, Int8ActivationsIn(separate.slice, 1, dim));
          },
          true);
      const std::vector<float> x_want = Download(x), a_want = Download(a);
      Upload(x, x0);
      Upload(a, std::vector<float>(dim, -9.f));
      const Int8Activations q = Int8ActivationsIn(folded.slice, 1, dim);
      RunGpu(
          [&](OpContext& ctx) {
            EXPECT_TRUE(ResidualRmsNorm(ctx, x, y, w1, 0.8f, next ? w2 : Tensor{}, a, 1e-6f, &q));
          },
          true);
      EXPECT_EQ(Download(x), x_want);
      if (next) EXPECT_EQ(Download(a), a_want);
      EXPECT_EQ(Bytes(folded), Bytes(separate)) << "int8 quants and scales";
    }
  }
}

// MatVecEndBlock against MatMul + ResidualRmsNorm: o_proj's shape (1536 x 2048), float and int8.
TEST_F(BlockEndTest, ProductEndsTheBlock) {
  const uint32_t K = 2048;
  struct Variant {
    DType t;
    bool int8;
  };
  std::vector<Variant> variants = {{DType::Q4_0, false}, {DType::F16, false}};
  if (HasIntegerDot()) variants.push_back({DType::Q8_0, true});
  for (const Variant v : variants) {
    SCOPED_TRACE(std::string(DTypeName(v.t)) + (v.int8 ? " integer dot" : " float"));
    const WeightMatrix w = MakeWeight(v.t, kH, K, 41);
    Block b = NewBlock(42);
    const Tensor in = NewTensor(1, K), scratch = NewScratch(std::max(K, kH)), q_sep = NewScratch(kH);
    Upload(in, RandomVector(K, 43));
    const MatMulOptions opt{.int8_scratch = v.int8 ? scratch.slice : vk::BufferSlice{}};
    Upload(b.x, b.x0);
    RunGpu(
        [&](OpContext& ctx) {
          MatMul(ctx, w, in, b.y, opt);
          ctx.rec.ComputeToCompute();
          ResidualRmsNorm(ctx, b.x, b.y, b.w_out, 0.9f, b.w_next, b.a, 1e-6f);
          ctx.rec.ComputeToCompute();
          if (v.int8) QuantizeActivations(ctx, b.a, Int8ActivationsIn(q_sep.slice, 1, kH));
        },
        v.int8);
    const std::vector<float> y_want = Download(b.y), x_want = Download(b.x), a_want = Download(b.a);
    // Folded, twice over (the counter must come back to zero for a replayed step).
    for (int run = 0; run < 2; ++run) {
      SCOPED_TRACE("run " + std::to_string(run));
      Upload(b.x, b.x0);
      Upload(b.y, std::vector<float>(kH, -7.f));
      Upload(b.a, std::vector<float>(kH, -7.f));
      const Int8Activations q = Int8ActivationsIn(scratch.slice, 1, kH);
      const BlockEnd e{.x = b.x,
                       .w_out = b.w_out,
                       .w_next = b.w_next,
                       .a = b.a,
                       .scale = 0.9f,
                       .eps = 1e-6f,
                       .int8_out = v.int8 ? &q : nullptr,
                       .counter = b.counter.slice};
      RunGpu([&](OpContext& ctx) { EXPECT_TRUE(MatVecEndBlock(ctx, w, in, b.y, opt, e)); }, v.int8);
      EXPECT_EQ(Download(b.y), y_want) << "the product itself is unchanged";
      EXPECT_EQ(Download(b.x), x_want) << "residual x";
      EXPECT_EQ(Download(b.a), a_want) << "next norm a";
      EXPECT_EQ(Download(b.counter), std::vector<float>(4, 0.f)) << "the counter is left at zero";
      if (v.int8) {
        // The int8 activations of the a it wrote: quantize that a separately and compare bytes.
        const Tensor q_of_a = NewScratch(kH);
        RunGpu([&](OpContext& ctx) { QuantizeActivations(ctx, b.a, Int8ActivationsIn(q_of_a.slice, 1, kH)); }, true);
        const std::vector<uint8_t> got = Bytes(scratch), want = Bytes(q_of_a);
        const Int8Activations layout = Int8ActivationsIn(q_of_a.slice, 1, kH);
        const uint64_t used = layout.scales.offset + layout.scales.size - q_of_a.slice.offset;
        EXPECT_TRUE(std::equal(want.begin(), want.begin() + used, got.begin())) << "int8 activations of a";
      }
    }
  }
}

// The per-layer-input projection (1536 x 256, gelu(gate) * ple on its input) ending its block
// without a next norm, as the last layer's PLE block does, and with one.
TEST_F(BlockEndTest, GeluMulProjectionEndsTheBlock) {
  const uint32_t P = 256;
  const WeightMatrix w = MakeWeight(DType::Q4_0, kH, P, 51);
  const Tensor gate = NewTensor(1, P), up = NewTensor(1, P);
  Upload(gate, RandomVector(P, 52, -2.f, 2.f));
  Upload(up, RandomVector(P, 53));
  for (const bool next : {true, false}) {
    SCOPED_TRACE(next ? "with next norm" : "x only");
    Block b = NewBlock(54);
    Upload(b.x, b.x0);
    RunGpu(
        [&](OpContext& ctx) {
          ASSERT_TRUE(MatVecGeluMul(ctx, w, gate, up, b.y));
          ctx.rec.ComputeToCompute();
          ResidualRmsNorm(ctx, b.x, b.y, b.w_out, 0.6f, next ? b.w_next : Tensor{}, b.a, 1e-6f);
        },
        false);
    const std::vector<float> y_want = Download(b.y), x_want = Download(b.x), a_want = Download(b.a);
    Upload(b.x, b.x0);
    const BlockEnd e{.x = b.x,
                     .w_out = b.w_out,
                     .w_next = next ? b.w_next : Tensor{},
                     .a = b.a,
                     .scale = 0.6f,
                     .eps = 1e-6f,
                     .counter = b.counter.slice};
    RunGpu([&](OpContext& ctx) { ASSERT_TRUE(MatVecGeluMul(ctx, w, gate, up, b.y, &e)); }, false);
    EXPECT_EQ(Download(b.y), y_want);
    EXPECT_EQ(Download(b.x), x_want) << "residual x";
    if (next) EXPECT_EQ(Download(b.a), a_want) << "next norm a";
    EXPECT_EQ(Download(b.counter), std::vector<float>(4, 0.f));
  }
}

// Where a fold does not apply, nothing is recorded and the caller runs the two ops.
TEST_F(BlockEndTest, RefusedWhereItDoesNotApply) {
  const WeightMatrix w = MakeWeight(DType::Q4_0, kH, 512, 61);
  Block b = NewBlock(62);
  const Tensor in = NewTensor(1, 512);
  const BlockEnd e{.x = b.x, .w_out = b.w_out, .w_next = b.w_next, .a = b.a, .eps = 1e-6f, .counter = b.counter.slice};
  Run(
      [&](OpContext& ctx) {
        EXPECT_FALSE(MatVecEndBlock(ctx, w, in, b.y, {}, e)) << "CPU kernel family";
        const Tensor a = NewTensor(1, kH);
        EXPECT_FALSE(ResidualRmsNorm(ctx, b.x, b.y, b.w_out, 1.f, b.w_next, a, 1e-6f)) << "no int8 output asked";
      },
      KernelFamily::kCpu);
  BlockEnd no_counter = e;
  no_counter.counter = {};
  RunGpu([&](OpContext& ctx) { EXPECT_FALSE(MatVecEndBlock(ctx, w, in, b.y, {}, no_counter)); }, false);
}

}  // namespace
}  // namespace vkg::test
