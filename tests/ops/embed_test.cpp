// Embedding gather on the device against ref::Embed, for every table format, including a table
// split into several chunks (the path tables past the device's view limit take).
#include "host/ops/embed.h"
#include "host/device/weight_matrix.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

struct Case {
  DType dtype;
  uint32_t vocab, dim;
  uint64_t max_chunk_bytes;                     // 0 = one chunk
  KernelFamily family = KernelFamily::kDevice;  // kGpu: embed_rows.comp where dim % 4 == 0
};

class EmbedTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(EmbedTest, GathersScaledRows) {
  const Case c = GetParam();
  const auto table = RandomVector(size_t(c.vocab) * c.dim, 11, -1.f, 1.f);
  const WeightMatrix w = UploadWeightMatrix(
      gpu().device(), alloc(), gpu().transfer(), c.dtype, c.vocab, c.dim,
      [&](uint32_t r, float* out) { std::copy_n(&table[size_t(r) * c.dim], c.dim, out); }, "embed", c.max_chunk_bytes);
  if (c.max_chunk_bytes) {
    ASSERT_GT(w.chunks.size(), 2u);
  }
  // The reference sees the values the device holds.
  std::vector<float> held(table.size());
  for (uint32_t r = 0; r < c.vocab; ++r) {
    const auto row = DeviceRowValues(c.dtype, &table[size_t(r) * c.dim], c.dim);
    std::copy(row.begin(), row.end(), &held[size_t(r) * c.dim]);
  }
  const std::vector<int32_t> ids = {2, 0, int32_t(c.vocab - 1), 17, 2, int32_t(c.vocab / 2), 5};
  std::vector<float> ref(ids.size() * c.dim);
  ref::Embed(held.data(), int(c.vocab), int(c.dim), ids.data(), int(ids.size()), 39.25f, ref.data());

  const vk::BufferSlice tids = alloc().Allocate(ids.size() * 4);
  UploadRaw(tids, ids.data(), ids.size() * 4);
  const Tensor out = NewTensor(uint32_t(ids.size()), c.dim);
  Run([&](OpContext& ctx) {
    ctx.kernels = c.family;
    Embed(ctx, w, tids, out, 39.25f);
  });
  // The device returns held[id] * scale with the same single f32 multiply: bit-exact.
  ExpectClose(ref, Download(out), 0.0, "Embed");
}

INSTANTIATE_TEST_SUITE_P(
    Formats, EmbedTest,
    ::testing::Values(Case{DType::F32, 300, 64, 0}, Case{DType::F16, 300, 64, 0}, Case{DType::BF16, 300, 1536, 0},
                      Case{DType::Q8_0, 300, 96, 0}, Case{DType::Q4_0, 300, 45, 0},  // awkward dim: padded rows
                      Case{DType::BF16, 300, 64, 4096},                              // 32 rows per chunk
                      Case{DType::Q4_0, 1000, 256, 8192},
                      // K-quants: (scale * code + bias) rounds once, as the
                      // reference's (d * sc) * q - dmin * m: bit-exact too.
                      Case{DType::Q4_K, 300, 45, 0}, Case{DType::Q5_K, 300, 512, 0}, Case{DType::Q6_K, 300, 300, 0},
                      Case{DType::Q4_K, 1000, 256, 8192}, Case{DType::Q6_K, 1000, 256, 8192},
                      // ggml's other block formats: every product in their
                      // values is exact, the + m / - dmin m rounds once.
                      Case{DType::Q4_1, 300, 45, 0}, Case{DType::Q5_0, 300, 96, 0}, Case{DType::Q5_1, 300, 64, 0},
                      Case{DType::Q2_K, 300, 300, 0}, Case{DType::Q3_K, 300, 512, 0},
                      Case{DType::Q5_0, 1000, 256, 8192}, Case{DType::Q3_K, 1000, 256, 8192}));

// The GPU family's workgroup-per-row kernel (embed_rows.comp), forced on lavapipe: every format, a
// row of several workgroups (bf16 1536: 192 texels), a row ending inside a texel (q4_0 96 of 128
// padded columns), the element kernel for a dim that is not a multiple of 4, and chunked tables.
INSTANTIATE_TEST_SUITE_P(
    GpuRows, EmbedTest,
    ::testing::Values(
        Case{DType::F32, 300, 64, 0, KernelFamily::kGpu}, Case{DType::F16, 300, 520, 0, KernelFamily::kGpu},
        Case{DType::BF16, 300, 1536, 0, KernelFamily::kGpu}, Case{DType::Q8_0, 300, 96, 0, KernelFamily::kGpu},
        Case{DType::Q4_0, 300, 96, 0, KernelFamily::kGpu}, Case{DType::Q4_0, 300, 45, 0, KernelFamily::kGpu},
        Case{DType::BF16, 300, 64, 4096, KernelFamily::kGpu}, Case{DType::Q4_0, 1000, 256, 8192, KernelFamily::kGpu},
        Case{DType::Q4_K, 300, 96, 0, KernelFamily::kGpu}, Case{DType::Q4_K, 300, 45, 0, KernelFamily::kGpu},
        Case{DType::Q5_K, 300, 520, 0, KernelFamily::kGpu}, Case{DType::Q6_K, 300, 512, 0, KernelFamily::kGpu},
        Case{DType::Q5_K, 1000, 256, 8192, KernelFamily::kGpu}, Case{DType::Q6_K, 1000, 256, 8192, KernelFamily::kGpu},
        Case{DType::Q4_1, 300, 45, 0, KernelFamily::kGpu}, Case{DType::Q5_0, 300, 96, 0, KernelFamily::kGpu},
        Case{DType::Q5_1, 300, 520, 0, KernelFamily::kGpu}, Case{DType::Q2_K, 300, 96, 0, KernelFamily::kGpu},
        Case{DType::Q3_K, 300, 512, 0, KernelFamily::kGpu}, Case{DType::Q2_K, 1000, 256, 8192, KernelFamily::kGpu}));

}  // namespace
}  // namespace vkg::test
