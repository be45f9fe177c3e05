// Weights as a GGUF file stores them, on the device: every block-quantized type's blocks uploaded
// bit for bit (UploadWeightMatrix's raw rows), and stacks whose parts keep different types
// (StackMatrices: a Q4_K_M layer's q|k|v with attn_v in Q6_K), each against ref::MatMul over the
// exact values, both kernel families.
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "host/device/weight_matrix.h"
#include "host/formats/dtype.h"
#include "host/formats/ggml_blocks.h"
#include "host/ops/matmul.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

// Both sides multiply the same exact f32 values (each decoded weight is exact in f32), so only the
// device's f32 accumulation order differs: matmul_test's gate, NMSE 1e-10 (a wrong nibble, scale or
// block gives 1e-4 and more).
constexpr double kNmse = 1e-10;

constexpr DType kBlockTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                                 DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};

// Byte offsets of a ggml block's f16 fields (d, and m or dmin where the format has one), from ggml's
// block definitions; every other byte is codes, high bits or sub-block scales, valid at any value.
std::vector<size_t> F16Fields(DType t) {
  switch (t) {
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q5_0: return {0};  // d, then quants (Q5_0: qh, then nibbles)
    case DType::Q4_1:
    case DType::Q5_1:
    case DType::Q4_K:
    case DType::Q5_K: return {0, 2};    // d, m / dmin first
    case DType::Q2_K: return {80, 82};  // scales[16], qs[64], d, dmin
    case DType::Q3_K: return {108};     // hmask[32], qs[64], scales[12], d
    case DType::Q6_K: return {208};     // ql[128], qh[64], scales[16], d
    default: return {};
  }
}

// Random blocks: random codes, high bits and sub-block scales, f16 scales in [2^-10, 2^-6). No
// quantizer of ours writes such blocks (the codes do not span the range the scale implies): this is
// how an importance-matrix quantizer's choices look to the upload, and re-quantizing their values
// would change them.
std::vector<uint8_t> RandomBlocks(DType t, uint32_t rows, uint32_t cols, uint32_t seed) {
  const size_t block = DTypeBytes(t, BlockValues(t));
  std::vector<uint8_t> bytes(DTypeBytes(t, size_t(rows) * cols));
  std::mt19937 rng(seed);
  for (uint8_t& b : bytes) b = uint8_t(rng());
  std::uniform_real_distribution<float> scale(1.f / 1024, 1.f / 64);
  for (size_t o = 0; o < bytes.size(); o += block) {
    for (size_t f : F16Fields(t)) {
      const uint16_t h = FloatToHalf(scale(rng));
      std::memcpy(&bytes[o + f], &h, 2);
    }
  }
  return bytes;
}

class StoredWeightsTest : public GpuTest {
 protected:
  // y = W x on the device, family `family`, for M = 1 (decode) and 9 (prefill), against the
  // reference over `values` ([w.rows][w.cols], row-major).
  void ExpectProducts(const WeightMatrix& w, const std::vector<float>& values, KernelFamily family,
                      const std::string& what) {
    for (const uint32_t m : {1u, 9u}) {
      const std::vector<float> xv = RandomVector(size_t(m) * w.cols, 31 + m);
      const Tensor x = NewTensor(m, w.cols), y = NewTensor(m, w.rows);
      Upload(x, xv);
      Run([&](OpContext& ctx) { MatMul(ctx, w, x, y); }, family);
      std::vector<float> ref(size_t(m) * w.rows);
      ref::MatMul(values.data(), xv.data(), ref.data(), int(m), int(w.rows), int(w.cols));
      const std::string at =
          what + (family == KernelFamily::kGpu ? " gpu family" : " cpu family") + " M=" + std::to_string(m);
      ExpectClose(ref, Download(y), kNmse, at.c_str());
    }
  }
};

class StoredBlocks : public StoredWeightsTest, public ::testing::WithParamInterface<DType> {};

// The device computes the file's values (GgmlBlockElement over its bytes), for blocks no quantizer
// of ours would choose. The float row source offered beside the raw rows holds the same values: an
// upload that re-quantized them instead of moving the bits would miss by NMSE ~1e-3.
TEST_P(StoredBlocks, ComputeExactlyTheFilesValues) {
  const DType t = GetParam();
  const uint32_t n = 40, k = 512;
  const std::vector<uint8_t> bytes = RandomBlocks(t, n, k, 5 + uint32_t(t));
  const size_t row_bytes = DTypeBytes(t, k);
  std::vector<float> values(size_t(n) * k);
  for (size_t i = 0; i < values.size(); ++i) values[i] = GgmlBlockElement(t, bytes.data(), i);
  const WeightMatrix w = UploadWeightMatrix(
      gpu().device(), alloc(), gpu().transfer(), t, n, k,
      [&](uint32_t r, float* out) { std::copy_n(&values[size_t(r) * k], k, out); }, "stored", 0,
      [&](uint32_t r, uint8_t* out) { std::memcpy(out, &bytes[size_t(r) * row_bytes], row_bytes); });
  for (const KernelFamily family : {KernelFamily::kCpu, KernelFamily::kGpu}) {
    ExpectProducts(w, values, family, std::string(DTypeName(t)));
  }
}

INSTANTIATE_TEST_SUITE_P(All, StoredBlocks, ::testing::ValuesIn(kBlockTypes),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

// A stack of parts in different types writes each part's rows of one output, part after part:
// Q4_K_M's q (Q4_K) | k (Q4_K) | v (Q6_K) layout, with a Q8_0 and an f32 part after it, rows that
// are no multiple of any blocking, and a split part (chunks) in the middle.
TEST_F(StoredWeightsTest, StackOfTypesWritesEachPartsRows) {
  const uint32_t k = 256;
  struct Part {
    DType t;
    uint32_t rows;
    uint64_t max_chunk_bytes = 0;
  };
  const std::vector<Part> parts = {
      {DType::Q4_K, 48}, {DType::Q6_K, 21, WeightRowBytes(DType::Q6_K, k) * 8}, {DType::Q8_0, 13}, {DType::F32, 8}};
  std::vector<WeightMatrix> matrices;
  std::vector<float> values;
  uint32_t seed = 70;
  for (const Part& p : parts) {
    const std::vector<float> w = RandomVector(size_t(p.rows) * k, ++seed);
    for (uint32_t r = 0; r < p.rows; ++r) {
      const std::vector<float> d = DeviceRowValues(p.t, &w[size_t(r) * k], k);
      values.insert(values.end(), d.begin(), d.begin() + k);
    }
    matrices.push_back(UploadWeightMatrix(
        gpu().device(), alloc(), gpu().transfer(), p.t, p.rows, k,
        [&](uint32_t r, float* out) { std::copy_n(&w[size_t(r) * k], k, out); },
        std::string("part_") + std::string(DTypeName(p.t)), p.max_chunk_bytes));
  }
  const WeightMatrix stack = StackMatrices(std::move(matrices));
  ASSERT_EQ(stack.parts.size(), parts.size());
  EXPECT_EQ(stack.rows, 48u + 21 + 13 + 8);
  EXPECT_GT(stack.parts[1].chunks.size(), 1u);
  EXPECT_EQ(stack.parts[2].chunks.front().row_begin, 48u + 21);
  for (const KernelFamily family : {KernelFamily::kCpu, KernelFamily::kGpu}) {
    ExpectProducts(stack, values, family, "stack q4_k|q6_k|q8_0|f32");
  }
  // The fused gate|up kernel needs one type and one binding: a stack declines it.
  const Tensor x = NewTensor(1, k), act = NewTensor(1, stack.rows / 2);
  Run([&](OpContext& ctx) { EXPECT_FALSE(MatVecGeluPairs(ctx, stack, x, act)); }, KernelFamily::kGpu);
}

}  // namespace
}  // namespace vkg::test
